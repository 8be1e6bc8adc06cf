"""The invented world of the samples and the demo, read from validators/samples.toml.

Data, not code: a new sample provider, or a contract of a new return type for an existing
one, is an edit of that file; each return's own [samples] profile says how figures are drawn."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..spec.resources import validators_dir
from ..spec.small_files import SmallFileError, load_toml_file

WORLD_FILE = "samples.toml"


@dataclass(frozen=True)
class Provider:
    name: str
    code: str  # prefix of anonymised references
    contracts: dict[str, tuple[str, ...]]  # return id -> the contracts that submit it
    traits: dict[str, Any] = field(default_factory=dict)  # read by the profiles, by name

    def contracts_for(self, return_id: str) -> tuple[str, ...]:
        return self.contracts.get(return_id, ())

    def __hash__(self) -> int:
        return hash((self.name, self.code))


@dataclass(frozen=True)
class World:
    providers: tuple[Provider, ...]
    contact: str
    demo_register_rows: tuple[str, ...]


def _fail(path, key: str, problem: str) -> ValueError:
    return ValueError(f"{path.name}: key '{key}': {problem}")


@lru_cache(maxsize=1)
def world() -> World:
    path = validators_dir() / WORLD_FILE
    try:  # a small regular file only: a pipe or a device there must not hang or fill the memory
        data = load_toml_file(path)
    except (OSError, SmallFileError) as exc:
        raise ValueError(f"{path.name}: {getattr(exc, 'strerror', None) or exc}") from None
    rows = data.get("demo_register_rows", [])
    if not isinstance(rows, list) or not all(isinstance(r, str) for r in rows):
        raise _fail(path, "demo_register_rows", "must be a list of register rows (text)")
    providers = []
    for i, p in enumerate(data.get("providers", [])):
        try:
            contracts = {rid: tuple(cs) for rid, cs in p.get("contracts", {}).items()}
            providers.append(Provider(p["name"], p["code"], contracts, dict(p.get("traits", {}))))
        except (KeyError, TypeError, AttributeError) as exc:
            raise _fail(path, f"providers.{i}", f"needs name, code and contracts ({exc})") from None
    return World(tuple(providers), str(data.get("contact", "")), tuple(rows))
