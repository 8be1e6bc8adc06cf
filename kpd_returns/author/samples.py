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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import openpyxl

from ..spec import layout
from ..spec.return_spec import META_SHEET, ReturnSpec, load_all
from .sample_calendar import nth_working_day, working_days_after
from .sample_engine import profile_values
from .sample_files import Values, completed_workbook, fill_workbook, named_cells, save_reproducibly
from .sample_world import Provider, world
from .template import META_KEYS

__all__ = ["fill_workbook", "named_cells", "save_reproducibly", "sample_workbook", "write_samples"]


# -- the invented providers (validators/samples.toml) --------------------------------------
PROVIDERS = world().providers
CONTACT = world().contact


# -- writing the sample set ------------------------------------------------------------------
def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def sample_specs() -> list[ReturnSpec]:
    """The return types with a sample profile, by return id."""
    return [spec for _rid, spec in sorted(load_all().items()) if spec.samples]


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


@dataclass(frozen=True)
class Mistake:
    name: str  # file name under mistakes/
    base: str  # the clean return it is made from, under returns/
    what: str  # what is wrong, in words
    build: Callable[[], openpyxl.Workbook]
    expected: list[dict[str, Any]]  # the findings the validator should give


def _expect(spec: ReturnSpec, code: str, field: str | None, key: str = "", **extra: Any) -> dict[str, Any]:
    from ..spec.findings import CATALOGUE

    out: dict[str, Any] = {"code": code, "severity": CATALOGUE[code][0], "sheet": None, "cell": None, "ref": None}
    if field:
        slot = layout.slot_index(spec)[(field, key)]
        out |= {"sheet": slot.sheet, "cell": slot.cell, "ref": slot.ref, "field": field}
    return out | extra


def mistakes(specs: dict[str, ReturnSpec]) -> list[Mistake]:
    """One typical mistake per file; everything else is identical to the clean base return."""
    kpd, mmir = specs["kpd"], specs["mmir"]  # noqa: the mistakes are not data yet (see the report of issue 11)
    nbe, cvw, hbf, msh = PROVIDERS
    out = []

    # A number typed over the FTE Total formula for May (KPD 9).
    q2 = sample_values(kpd, nbe, "CPA 07", "2026-27 Q2")
    staff = ("staff_senior", "staff_front_line", "staff_central", "staff_employer")
    true_total = round(sum(q2[f]["may"] for f in staff), 2)
    typed = round(true_total + 10, 2)

    def typed_over():
        wb = sample_workbook(kpd, nbe, "CPA 07", "2026-27 Q2")
        slot = layout.slot_index(kpd)[("fte_total", "may")]
        wb[slot.sheet][slot.cell].value = typed
        return wb
    out.append(Mistake("mistake-typed-over-total.xlsx", sample_name(kpd, nbe, "CPA 07", "2026-27 Q2"),
                       f"KPD, {nbe.name}, CPA 07, 2026-27 Q2: the FTE Total for May (a formula) was overwritten "
                       f"with the typed number {typed}; its inputs add up to {true_total}.", typed_over,
                       [_expect(kpd, "total-mismatch", "fte_total", "may", found=typed, expected=true_total)]))

    # A minus sign typed into a count.
    neg = sample_values(mmir, cvw, cvw.contracts_for(mmir.id)[0], "2026-08")["sustainment_required"]["in_month"]
    out.append(Mistake("mistake-negative-count.xlsx", sample_name(mmir, cvw, cvw.contracts_for(mmir.id)[0], "2026-08"),
                       f"MMIR, {cvw.name}, August 2026: Customers who required the Sustainment Period in month "
                       f"entered as -{neg} instead of {neg}.",
                       lambda: sample_workbook(mmir, cvw, cvw.contracts_for(mmir.id)[0], "2026-08",
                                             lambda v: v["sustainment_required"].update(in_month=-neg)),
                       [_expect(mmir, "below-minimum", "sustainment_required", "in_month", found=-neg, expected=0)]))

    # Units typed into an FTE cell.
    def text_in_number():
        wb = sample_workbook(kpd, cvw, "CPA 12", "2026-27 Q1")
        named_cells(wb, kpd, "staff_central")["jun"].value = "12 FTE"
        return wb
    out.append(Mistake("mistake-text-in-number.xlsx", sample_name(kpd, cvw, "CPA 12", "2026-27 Q1"),
                       f"KPD, {cvw.name}, CPA 12, 2026-27 Q1: '12 FTE' typed in Centrally-managed functions (FTE) "
                       "for June. The FTE Total for June cannot be recomputed from an invalid input, so the total "
                       "checks skip June (no total-mismatch).", text_in_number,
                       [_expect(kpd, "not-a-number", "staff_central", "jun", found="12 FTE")]))

    # The provider name left empty (neither pre-filled nor typed).
    out.append(Mistake("mistake-missing-header.xlsx", sample_name(mmir, hbf, hbf.contracts_for(mmir.id)[0], "2026-09"),
                       f"MMIR, {hbf.name}, September 2026: the Provider cell is empty.",
                       lambda: sample_workbook(mmir, hbf, hbf.contracts_for(mmir.id)[0], "2026-09", provider=None),
                       [_expect(mmir, "required-missing", "provider")]))

    # A National Insurance number in free text (MI must be anonymised, AtW 7.25).
    leak = "Support Plan for QQ123456C did not record the agreed workplace adjustments."
    out.append(Mistake("mistake-personal-data.xlsx", sample_name(mmir, msh, msh.contracts_for(mmir.id)[0], "2026-07"),
                       f"MMIR, {msh.name}, July 2026: the first rework reason contains a National Insurance "
                       "number (QQ123456C).",
                       lambda: sample_workbook(mmir, msh, msh.contracts_for(mmir.id)[0], "2026-07", lambda v: v["rework_reason"].update(row1=leak)),
                       [_expect(mmir, "personal-data", "rework_reason", "row1", detail="a National Insurance number")]))

    # Figures copied into a superseded template.
    def wrong_version():
        wb = sample_workbook(kpd, hbf, "CPA 03", "2026-27 Q2")
        wb[META_SHEET].cell(row=META_KEYS.index("template_version") + 1, column=2).value = "0.9"
        return wb
    out.append(Mistake("mistake-wrong-version.xlsx", sample_name(kpd, hbf, "CPA 03", "2026-27 Q2"),
                       f"KPD, {hbf.name}, CPA 03, 2026-27 Q2, in template version 0.9 (superseded; current "
                       f"{kpd.version}).", wrong_version,
                       [_expect(kpd, "template-superseded", None, found="0.9", expected=kpd.version)]))

    # Sent well after the Reporting Date.
    deadline, sent = nth_working_day(2026, 11, 3), dt.date(2026, 11, 20)
    late_by = working_days_after(deadline, sent)
    out.append(Mistake("mistake-late.xlsx", sample_name(mmir, nbe, nbe.contracts_for(mmir.id)[0], "2026-10"),
                       f"MMIR, {nbe.name}, October 2026, date submitted {sent:%d/%m/%Y}: the deadline is the 3rd "
                       f"working day of November 2026 ({deadline:%d/%m/%Y}, England and Wales), so it is "
                       f"{late_by} working days late.",
                       lambda: sample_workbook(mmir, nbe, nbe.contracts_for(mmir.id)[0], "2026-10", lambda v: v["date_submitted"].update({"": sent})),
                       [_expect(mmir, "submitted-late", None, found=sent.isoformat(), expected=deadline.isoformat(),
                                late_working_days=late_by,
                                source=layout.slot_index(mmir)[("date_submitted", "")].ref)]))
    return out


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
        "- KPD: totals are left as formulas; out-of-work segment participants add up exactly to the actively engaged "
        "plus not currently engaged caseload; job entries never exceed participants; the in-work segment has no job "
        "entries; months after the quarter are empty; Q2 returns restate April to June exactly as Q1 gave them. "
        + "".join(f"{p.name} does not use RAG ratings (those optional sheets are empty). " for p in PROVIDERS
                  if not p.traits['uses_rag']).rstrip(),
        "- MMIR: year to date is the running sum of in-month figures from April; programme to date continues month to "
        "month; KPI cases within plus outside target equal cases due, with reasons wherever any are outside; each "
        "detail sheet lists exactly as many rows as its count; referral routes and how-heard breakdowns add up to "
        "referrals in month; Social Value is filled in June and September only"
        + "".join(f" ({p.name} has no supply-chain company over 500 employees, so measure 3 is empty)"
                  for p in PROVIDERS if not p.traits['large_companies']) + ".",
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
        "# year-to-date checks.",
        "provider,contract,returns,region,service_start,first_period,year_start_month",
    ]
    for p in PROVIDERS:
        for spec in sample_specs():
            first = spec.samples["periods"][0]
            start = first if spec.samples.get("register_service_start") else ""
            for contract in p.contracts_for(spec.id):
                lines.append(f"{p.name},{contract},{spec.id},england-and-wales,{start},{first},")
    return "\n".join(lines) + "\n"


def sample_count() -> int:
    """How many workbooks write_samples writes (for a progress bar)."""
    return len(clean_returns()) + len(mistakes(load_all()))


def write_samples(out_dir: str | Path, on_file: Callable[[Path], None] | None = None) -> list[Path]:
    """Write the clean returns, the mistake files, README.md, expected-findings.json and the
    providers register (providers.csv); return their paths. ``on_file`` is told of each workbook written."""
    out_dir = Path(out_dir)
    specs = load_all()
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
    wrong = mistakes(specs)
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
    from ..render.progress import Progress

    try:
        with Progress("Writing sample returns", sample_count(), enabled=progress, stream=progress_stream) as bar:
            paths = write_samples(out_dir, on_file=lambda _path: bar.advance())
    except OSError as exc:
        print(f"Cannot write the samples to {out_dir}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    n = sum(p.suffix == ".xlsx" for p in paths)
    print(f"Wrote {n} sample returns to {out_dir} (clean ones in returns/, one mistake each in mistakes/; "
          "see README.md) and their providers register, providers.csv.")
    return 0
