"""Realistic completed returns, and one file for each typical mistake, for trying the tool.

Each return starts as the real template (``write_template``) and is filled the way a
provider's figures land in it: by defined name into the input cells, formulas left
alone. The figures are invented but internally consistent, and generated from
seeded random numbers with fixed timestamps, so the same call gives byte-identical
files (the committed files under samples/ are checked against this module).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Callable

import openpyxl

from ..render.progress import Progress
from ..spec.return_spec import ReturnSpec, SpecError, load_all
from .sample_engine import profile_values
from ..spec.expr import ProfileError, evaluate
from .sample_files import Values, completed_workbook, fill_workbook, named_cells, save_reproducibly
from .sample_mistakes import Mistake, profile_mistakes
from .sample_world import Provider, world

__all__ = ["fill_workbook", "named_cells", "save_reproducibly", "sample_workbook", "write_samples"]


# -- the invented providers (validators/samples.toml) --------------------------------------
PROVIDERS = world().providers
CONTACT = world().contact


# -- writing the sample set ------------------------------------------------------------------
def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def sample_specs() -> list[ReturnSpec]:
    """The return types with a sample profile, by return id; a contract year that starts at the Service
    Start Date starts at the profile's ``register_service_start`` month (the samples' contracts' own)."""
    return [_own_year(spec) for _rid, spec in sorted(load_all().items()) if spec.samples]


def _own_year(spec: ReturnSpec) -> ReturnSpec:
    start = spec.samples.get("register_service_start")
    period = spec.period.for_service_start(start if isinstance(start, str) else None)
    return spec if period is spec.period else spec.model_copy(update={"period": period})


def sample_values(spec: ReturnSpec, who: Provider, contract: str, period: str) -> Values:
    """The input values of one clean sample return, drawn from the spec's [samples] profile."""
    return profile_values(spec, who, contract, period)


def sample_workbook(spec: ReturnSpec, who: Provider, contract: str, period: str,
                    edit: Callable[[Values], None] | None = None, **override) -> openpyxl.Workbook:
    """A completed sample return; ``edit`` changes the values first, ``override`` the header pre-fill."""
    values = sample_values(spec, who, contract, period)
    if CONTACT and spec.header.contact:
        values.setdefault(spec.header.contact, {"": CONTACT})
    if edit:
        edit(values)
    prefill = {"provider": who.name, "contract": contract, "period": period} | override
    return completed_workbook(spec, values, **prefill)


def sample_name(spec: ReturnSpec, who: Provider, contract: str, period: str) -> str:
    """The file name the profile's ``file_name`` pattern gives (provider, contract, period as slugs)."""
    return str(spec.samples["file_name"]).format(provider=_slug(who.name), contract=_slug(contract),
                                                 period=_slug(period))


def clean_returns(specs: list[ReturnSpec] | None = None) -> dict[str, Callable[[], openpyxl.Workbook]]:
    """File name -> a function building that clean return (built lazily, one at a time)."""
    out: dict[str, Callable[[], openpyxl.Workbook]] = {}
    specs = sample_specs() if specs is None else specs
    for p in PROVIDERS:
        for spec in specs:
            for contract in p.contracts_for(spec.id):
                for period in spec.samples["periods"]:
                    out[sample_name(spec, p, contract, period)] = \
                        lambda s=spec, p=p, c=contract, t=period: sample_workbook(s, p, c, t)
    return out


def _provider(name: str) -> Provider:
    return next(p for p in PROVIDERS if p.name == name)


def committed_returns() -> tuple[str, ...]:
    """The clean returns committed under samples/returns/ (the profiles' ``committed`` lists)."""
    return tuple(sample_name(spec, _provider(c["provider"]), c["contract"], c["period"])
                 for spec in sample_specs() for c in spec.samples.get("committed", []))


COMMITTED_RETURNS = committed_returns()


def mistakes(specs: list[ReturnSpec] | None = None) -> list[Mistake]:
    """Every profile's mistake files (``[[samples.mistakes]]``), by file name."""
    specs = sample_specs() if specs is None else specs
    found = [m for spec in specs for m in profile_mistakes(spec, PROVIDERS, sample_values, sample_workbook, sample_name)]
    return sorted(found, key=lambda m: m.name)


def _readme_note(spec: ReturnSpec) -> str:
    """A profile's ``readme``: what holds in its clean returns, an expression over ``providers``
    (each a dict of name and traits), so it can name the providers a trait leaves out."""
    providers = [{"name": p.name} | p.traits for p in PROVIDERS if p.contracts_for(spec.id)]
    try:
        return str(evaluate(str(spec.samples["readme"]), {"providers": providers}))
    except Exception as exc:  # one sentence naming the key, not a traceback
        raise ProfileError(f"{Path(spec.source_path).name}: key 'samples.readme': {exc}") from None


def _readme(clean: list[str], wrong: list[Mistake]) -> str:
    lines = [
        "# Sample returns", "",
        "Generated by `kpd-returns samples DIR` (kpd_returns/author/samples.py); do not edit by hand. The same command",
        "gives byte-identical files, and tests/test_samples_files.py checks the files committed here still match.",
        "All providers, contracts and figures are invented.", "",
        "## Clean returns (`returns/`)", "",
        "Each clean return is internally consistent and should give **no findings** (verdict `valid`, exit code 0).",
        "Committed here: " + ", ".join(f"`returns/{n}`" for n in COMMITTED_RETURNS) + ".",
        "`kpd-returns samples DIR` also writes the rest of the set:", "",
    ]
    lines += [f"- `{n}`" for n in sorted(clean)]
    lines += [
        "", "What holds in every clean return:", "",
    ]
    lines += [f"- {_readme_note(spec)}" for spec in sample_specs() if spec.samples.get("readme")]
    lines += [
        "- Date submitted is the 2nd working day of the month after the period (England and Wales).", "",
        "## Mistakes (`mistakes/`)", "",
        "Each file has exactly one mistake; every other cell is the same as in its clean base return.", "",
        "| File | Made from | What is wrong | Expected finding | Severity | Where |", "|---|---|---|---|---|---|",
    ]
    for m in wrong:
        for e in m.expected:
            where = e["ref"] or "file level (no cell)"
            lines.append(f"| `{m.name}` | `returns/{m.base}` | {m.what} | `{e['code']}` | {e['severity']} | {where} |")
    lines += ["", "The same expectations, machine-readable, are in `expected-findings.json`.", ""]
    return "\n".join(lines)


def register_csv() -> str:
    """The providers register for the sample returns: every contract they come from, owing
    returns from the first period each profile holds."""
    lines = [
        "# Providers register for the sample returns (written by kpd-returns samples DIR): who owes which returns.",
        "# One row per provider and contract; returns: the return types it owes, separated by ';'.",
        "# region: england-and-wales (default), scotland or northern-ireland (its bank holidays count for",
        "# deadlines). service_start (YYYY-MM) and first_period (the return's period, or rid=...;rid=...) say",
        "# from when returns are owed; year_start_month moves the contract year (default April) for",
        "# year-to-date checks; profile: the number the contract is profiled to deliver (JOBS II 6.10), one",
        "# for every period or period=number;period=number.",
        "provider,contract,returns,region,service_start,first_period,year_start_month,profile",
    ]
    for p in PROVIDERS:
        for spec in sample_specs():
            first = spec.samples["periods"][0]
            given = spec.samples.get("register_service_start")  # true: the first period; or a month
            start = given if isinstance(given, str) else first if given else ""
            for contract in p.contracts_for(spec.id):
                lines.append(f"{p.name},{contract},{spec.id},england-and-wales,{start},{first},,"
                             f"{_register_profile(spec, p, contract)}")
    return "\n".join(lines) + "\n"


def _register_profile(spec: ReturnSpec, who: Provider, contract: str) -> str:
    """A profile's ``register_profile``: the register's profile column for one contract, an expression over
    the provider's traits, ``code`` and ``contract`` ("" when the profile gives none)."""
    text = spec.samples.get("register_profile")
    if not text:
        return ""
    try:
        found = evaluate(str(text), dict(who.traits) | {"code": who.code, "contract": contract})
    except Exception as exc:  # one sentence naming the key, not a traceback
        raise ProfileError(f"{Path(spec.source_path).name}: key 'samples.register_profile': {exc}") from None
    return "" if found is None else str(found)


def sample_count() -> int:
    """How many workbooks write_samples writes (for a progress bar)."""
    return len(clean_returns()) + len(mistakes())


def write_samples(out_dir: str | Path, on_file: Callable[[Path], None] | None = None) -> list[Path]:
    """Write the clean returns, the mistake files, README.md, expected-findings.json and the
    providers register (providers.csv); return their paths. ``on_file`` is told of each workbook written."""
    out_dir = Path(out_dir)
    written: list[Path] = []

    def save(path: Path, wb: openpyxl.Workbook) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(save_reproducibly(wb))
        written.append(path)
        if on_file is not None:
            on_file(path)

    clean = clean_returns()
    for name, build in clean.items():
        save(out_dir / "returns" / name, build())
    wrong = mistakes()
    for m in wrong:
        save(out_dir / "mistakes" / m.name, m.build())
    register = out_dir / "providers.csv"
    register.write_text(register_csv(), encoding="utf-8")
    written.append(register)
    readme = out_dir / "README.md"
    readme.write_text(_readme(list(clean), wrong), encoding="utf-8")
    expected_json = out_dir / "expected-findings.json"
    data = {"clean": {f"returns/{n}": [] for n in sorted(clean)},
            "mistakes": {f"mistakes/{m.name}": {"base": f"returns/{m.base}", "what": m.what, "findings": m.expected}
                         for m in wrong}}
    expected_json.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return written + [readme, expected_json]


def cli_samples(out_dir: Path, *, progress: bool | None = None, progress_stream=None) -> int:
    """The `kpd-returns samples` command: 0 on success, 2 with a one-line message otherwise."""
    try:
        with Progress("Writing sample returns", sample_count(), enabled=progress, stream=progress_stream) as bar:
            paths = write_samples(out_dir, on_file=lambda _path: bar.advance())
    except OSError as exc:
        print(f"Cannot write the samples to {out_dir}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    except (ProfileError, SpecError) as exc:  # a sample profile or spec that cannot be used: it says which
        print(f"Cannot make the samples: {exc}", file=sys.stderr)
        return 2
    n = sum(p.suffix == ".xlsx" for p in paths)
    print(f"Wrote {n} sample returns to {out_dir} (clean ones in returns/, one mistake each in mistakes/; "
          "see README.md) and their providers register, providers.csv.")
    return 0
