"""The invented world of the samples and the demo, read from validators/samples.toml.

Data, not code: adding a provider the demo shows as missing is an edit of that file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from ..spec.resources import validators_dir

WORLD_FILE = "samples.toml"


@dataclass(frozen=True)
class World:
    demo_register_rows: tuple[str, ...]


@lru_cache(maxsize=1)
def world() -> World:
    path = validators_dir() / WORLD_FILE
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rows = data.get("demo_register_rows", [])
    if not isinstance(rows, list) or not all(isinstance(r, str) for r in rows):
        raise ValueError(f"{path.name}: key 'demo_register_rows' must be a list of register rows (text).")
    return World(demo_register_rows=tuple(rows))
