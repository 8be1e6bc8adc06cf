"""`kpd-returns demo`: the whole job end to end on the sample returns.

What a new user (or the README's first command) sees: blank templates, sample
returns written the way providers fill them, a validation report of the ones
with mistakes, a consolidation of the whole inbox into a ledger and one
workbook, and the performance packs. Everything lands under one folder and the
run is deterministic: the same command gives the same files.

The demo judges lateness and missing returns as at a fixed date (20 November
2026) so its outputs do not change with the day it is run; `--as-of` changes it.

Last, it writes the packs of the generated "real season" (kpd_returns/author/season.py:
seven contracts over twelve months, one just started with nothing received, one
ended, one late this month, one rejected then resubmitted, a KPD-only provider),
the season a performance manager really has, into ``season/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TextIO

from ..author import season
from ..author.sample_world import world
from ..author.samples import register_csv as samples_register, sample_count, write_samples
from ..author.template import write_template
from ..spec.periods import period_title
from ..spec.words import plural
from ..checks.validate import validate_paths
from ..intake.consolidate import consolidate
from ..intake.ledger import Ledger
from ..intake.registry import load_registry
from ..intake.report_month import latest_report_month
from ..intake.workspace import register_for, remember_ledger
from ..packs.build import write_packs
from ..render.annotate import annotate, annotated_name
from ..render.json_report import dumps
from ..render.progress import Progress
from ..spec.return_spec import load_all

DEMO_AS_OF = dt.date(2026, 11, 20)

def register_csv() -> str:
    """The demo's providers register: the samples' own register and the rows of providers that owe
    returns but sent nothing (validators/samples.toml, ``demo_register_rows``), so the register
    shows what "missing" looks like."""
    return samples_register() + "".join(f"{row}\n" for row in world().demo_register_rows)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def validation_tally(reports) -> str:
    """Files and findings counted apart: '7 files checked: 6 with errors (9 errors in all), 1 valid'."""
    verdicts = [r.verdict for r in reports]
    parts = []
    with_errors = sum(v in ("invalid", "unreadable") for v in verdicts)
    if with_errors:
        errors = sum(len(r.errors) for r in reports)
        parts.append(f"{with_errors} with errors ({_count(errors, 'error')} in all)")
    warned = verdicts.count("valid-with-warnings")
    if warned:
        parts.append(f"{warned} valid with warnings")
    if verdicts.count("valid"):
        parts.append(f"{verdicts.count('valid')} valid")
    return f"{_count(len(reports), 'file')} checked: " + ", ".join(parts)


def run_demo(out: Path, *, as_of: dt.date = DEMO_AS_OF, workers: int | None = None, echo: TextIO) -> int:
    out.mkdir(parents=True, exist_ok=True)
    say = lambda text: print(text, file=echo)  # noqa: E731

    templates = out / "templates"
    templates.mkdir(exist_ok=True)
    for rid, spec in sorted(load_all().items()):
        write_template(spec, templates / f"{rid}-template.xlsx")
    say(f"1. Blank templates:            {templates}/")

    samples = out / "samples"
    # A file's modification time is its submission time when nothing better is known
    # (a workbook too broken to read its own date): fix it so the demo is repeatable.
    stamp = dt.datetime.combine(as_of, dt.time(9, 0)).timestamp()
    with Progress("Writing sample returns", sample_count()) as bar:
        written = write_samples(samples, on_file=lambda _path: bar.advance())
    for path in written:
        os.utime(path, (stamp, stamp))
    say(f"2. Sample returns:             {samples}/returns/ (clean) and {samples}/mistakes/ "
        f"(one typical mistake each; {samples}/README.md lists them)")

    checked = out / "validation"
    checked.mkdir(exist_ok=True)
    mistakes = sorted((samples / "mistakes").glob("*.xlsx"))
    reports = validate_paths(mistakes, as_of=as_of, workers=1)
    (checked / "mistakes-report.json").write_text(dumps(reports), encoding="utf-8")
    for path, report in zip(mistakes, reports):
        if report.verdict != "unreadable":
            annotate(path, report, checked / annotated_name(path))
    say(f"3. Validation of the mistakes: {checked}/mistakes-report.json and *.annotated.xlsx "
        f"({validation_tally(reports)})")

    register_path = out / "providers.csv"
    register_path.write_text(register_csv(), encoding="utf-8")
    consolidated = out / "consolidated"
    ledger_path = consolidated / "ledger.sqlite"
    if ledger_path.exists():  # a fresh ledger each run keeps the demo repeatable
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger_path}{suffix}").unlink(missing_ok=True)
    result = consolidate([samples / "returns", samples / "mistakes"], consolidated,
                         register=load_registry(register_path), as_of=as_of, workers=workers, progress=None)
    counts = ", ".join(f"{n} {k}" for k, n in result.summary.to_dict()["counts"].items() if n)
    say(f"4. Consolidation:              {result.workbook} (ledger {result.ledger_path}; {counts}; "
        f"rejected files' findings in {result.rejected_dir}/"
        + (f"; {plural(len(result.drafts), 'draft e-mail')} to providers in {result.drafts_dir}/" if result.drafts else "") + ")")
    register_for(result.ledger_path, register_path)  # stored in the ledger, as consolidate --providers does
    remember_ledger(result.ledger_path)  # so a bare `kpd-returns status` or `pack` here reads this ledger

    with Ledger(ledger_path) as ledger:
        month = latest_report_month(ledger)
    months = [month] if month else []
    packs = out / "packs"
    written = write_packs(ledger_path, packs, months[-1], as_of=as_of, register=register_path) if months else []
    html = sorted((p for p in written if p.suffix == ".html"), key=lambda p: "national" not in p.name)
    say(f"5. Performance packs for {period_title(months[-1]) if months else '-'}: {packs}/ "
        f"({plural(len(written), 'file')}; open {html[0] if html else 'the .html files'} in a browser)")
    season_written = _season(out / "season")
    say(f"6. A real season's packs:      {out / 'season' / 'packs'}/ ({plural(len(season_written), 'file')}: seven contracts "
        f"over twelve months, one just started, one ended, one late; see kpd_returns/author/season.py)")
    (out / "demo-summary.json").write_text(json.dumps({
        "as_of": as_of.isoformat(), "templates": sorted(p.name for p in templates.iterdir()),
        "consolidation": result.summary.to_dict(), "packs": [p.name for p in written],
        "season_packs": [p.name for p in season_written],
    }, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


def _season(folder: Path) -> list[Path]:
    """The generated real season's ledger, register and packs under ``folder`` (as at its own date)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "providers.csv").write_text(season.register_csv(), encoding="utf-8")
    season.write_extracts(folder / "extracts")  # the WHP PRaP extracts in its ledger, as files to consolidate
    ledger = season.build_ledger(folder / "ledger.sqlite")
    return write_packs(ledger, folder / "packs", season.REPORT_MONTH, as_of=season.AS_OF,
                       register=season.register(), whp=season.whp_register())
