"""Help texts that name the return types the specs define, read when the command line starts.

Read with tomllib only (no spec validation), so `kpd-returns --help` stays quick, and a spec
file that cannot be read is left out of the lists rather than breaking every command's help:
the commands that use it say what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..spec.resources import validators_dir
from ..spec.small_files import SmallFileError, load_toml_file


@dataclass(frozen=True)
class _Kind:
    id: str
    prefix: str  # the display name a person reads: the spec's short_title ("KPD return", "Customer Insight")
    contract_label: str  # what the header calls the contract
    example_period: str  # a period in the form the return uses (its sample profile's last)


def _or(parts: list[str]) -> str:
    return " or ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " or " + parts[-1]


@lru_cache(maxsize=1)
def kinds() -> tuple[_Kind, ...]:
    out = []
    try:
        paths = sorted(validators_dir().glob("*.toml"))
    except OSError:
        return ()
    for path in paths:
        try:
            data = load_toml_file(path)  # a small regular file only: a pipe must not hang --help
            if "return" not in data:
                continue  # deadlines, KPI targets, the samples' world: not return specs
            head = data["return"]
            contract = data["header"]["contract"]
            label = next(f.get("label", contract) for sheet in data.get("sheets", [])
                         for f in sheet.get("fields", []) if f.get("id") == contract)
            periods = data.get("samples", {}).get("periods") or [""]
            out.append(_Kind(head["id"], head.get("short_title", head["id"]), label, str(periods[-1])))
        except (OSError, SmallFileError, KeyError, TypeError, StopIteration, AttributeError):
            continue  # a broken spec: the commands that load it name the file and key
    return tuple(sorted(out, key=lambda k: k.id))


def kind_list() -> str:
    """'kpd (KPD return) or mmir (MMIR)': what to type, and the display name every output uses for it."""
    return _or([f"{k.id} ({k.prefix})" if k.prefix != k.id else k.id for k in kinds()]) or \
        "as the specs in validators/ define"


def period_examples() -> str:
    """'2026-27 Q2 (KPD) or 2026-10 (MMIR)'."""
    return _or([f"{k.example_period} ({k.prefix})" for k in kinds() if k.example_period]) or "as the template asks"


def contract_examples() -> str:
    """'KPD: Contract Package Area (CPA); MMIR: Contract reference'."""
    return "; ".join(f"{k.prefix}: {k.contract_label}" for k in kinds())


def prefixes() -> str:
    """'KPD and MMIR'."""
    names = [k.prefix for k in kinds()]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
