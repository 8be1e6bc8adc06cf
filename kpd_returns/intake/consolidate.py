"""Consolidation: inbox -> validator -> ledger -> the consolidated workbook and the run summary.

``consolidate`` runs ``ingest`` (kpd_returns.intake.ingest: what each input comes to) and then
writes, from the ledger, the consolidated workbook (``consolidated.xlsx``), the draft e-mails back to
providers (``drafts/``, kpd_returns.intake.drafts) and the run summary (``summary.json``). Outputs never
contain the run time or absolute paths of the output folder, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import scratch
from .ingest import ingest
from .ledger import Ledger
from .ledger_reads import unusable_figures_note
from .outcomes import InputOutcome, RunSummary
from .rejected import REJECTED_DIR
from .scope import Scope
from .registry import Registry
from .submissions import submissions_register
from ..spec.return_spec import load_all
from ..read.terminal import json_write
from ..spec.words import plural
from ..render.status_report import late_and_missing
from ..spec.constants import DEFAULT_REGION, LEDGER_NAME
from .consolidated_workbook import ReturnData, WorkbookInput, write_consolidated
from .drafts import DRAFTS_DIR, DraftRecord, write_drafts

SUMMARY_SCHEMA = "kpd-returns/batch-summary"
SUMMARY_SCHEMA_VERSION = "1.3"  # 1.1: late_and_missing; 1.2: skipped, and open per file; 1.3: drafts
# (docs/batch-summary-schema.json)
WORKBOOK_NAME = "consolidated.xlsx"
SUMMARY_NAME = "summary.json"


# -- consolidate ---------------------------------------------------------------------------------------
@dataclass
class ConsolidationResult:
    summary: RunSummary
    workbook: Path
    summary_file: Path
    rejected_dir: Path
    ledger_path: Path
    register_rows: list = field(default_factory=list)
    drafts: list[DraftRecord] = field(default_factory=list)
    drafts_dir: Path | None = None


def consolidate(paths: Sequence[str | Path], out: str | Path, *, db: str | Path | None = None,
                register: Registry | None = None, periods: Sequence[str] | None = None,
                as_of: dt.date | None = None, workers: int | None = None, region: str = DEFAULT_REGION,
                progress: bool | None = None, calendar: Any = None, register_name: str | None = None,
                on_outcome: Callable[[InputOutcome], None] | None = None,
                validate: Callable | None = None) -> ConsolidationResult:
    """Ingest ``paths`` into the ledger, then write the consolidated workbook and the run summary into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scratch.folder(out)  # clears what a killed run left in the output folder, before anything is written
    db_path = Path(db) if db else out / LEDGER_NAME
    as_of = as_of or dt.date.today()
    specs = load_all()
    scope = Scope.from_periods(periods, specs)
    rejected = out / REJECTED_DIR
    exclude = [out, db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), Path(f"{db_path}-journal")]
    with Ledger(db_path) as ledger:
        summary = ingest(paths, ledger, workers=workers, region=region, register=register, exclude=exclude,
                         rejected_dir=rejected, progress=progress, calendar=calendar, on_outcome=on_outcome,
                         validate=validate)
        if register is not None and any(e.year_start_month for e in register.entries):
            ledger.refresh_cross_checks(register.year_start)
        unusable = ledger.unusable_figures()
        if unusable:  # a hand-edited or older ledger: its figures are skipped, and said so once
            summary.notes.append(unusable_figures_note(db_path, unusable))
        data = workbook_input(ledger, scope=scope, as_of=as_of, register=register, region=region,
                              calendar=calendar, register_name=register_name, db_name=db_path.name)

        workbook = out / WORKBOOK_NAME
        write_consolidated(workbook, data)
        drafts = write_drafts(out, summary, ledger, register=register, as_of=as_of)
    summary_file = out / SUMMARY_NAME
    doc = {"schema": SUMMARY_SCHEMA, "schema_version": SUMMARY_SCHEMA_VERSION, "as_of": as_of.isoformat(),
           "periods": sorted(p for ps in (scope.selected or {}).values() for p in ps) or None,
           **summary.to_dict(), "late_and_missing": late_and_missing(data.register), "workbook": WORKBOOK_NAME,
           "drafts": [d.to_dict() for d in drafts]}
    with summary_file.open("w", encoding="utf-8") as fh:  # written as encoded, not built as one string first
        json_write(doc, fh, indent=2)
        fh.write("\n")
    scratch.finish(out)
    return ConsolidationResult(summary, workbook, summary_file, rejected, db_path, data.register, drafts,
                               out / DRAFTS_DIR)


def workbook_input(ledger: Ledger, *, scope: Scope, as_of: dt.date, register: Registry | None,
                   region: str = DEFAULT_REGION, calendar: Any = None, register_name: str | None = None,
                   db_name: str = LEDGER_NAME):
    """Everything the consolidated workbook shows, read from the ledger for the scope."""
    specs = load_all()
    returns = []
    in_scope: dict[str, set[str]] = {}
    for rid in scope.return_ids(specs):
        spec = specs[rid]
        periods = scope.periods_in_scope(spec, [p for p, _ in ledger.periods_seen(rid)])
        in_scope[rid] = periods
        current = [r for r in ledger.current_returns(rid) if r.period in periods]
        if not current and scope.selected is None:
            continue
        ids = {r.file_id for r in current}
        count = sum(n for fid, n in ledger.conn.execute(
            "SELECT file_id, COUNT(*) FROM file_values WHERE file_id IN (SELECT id FROM current_files "
            "WHERE return_id = ?) GROUP BY file_id", (rid,)) if fid in ids)
        returns.append(ReturnData(spec, current, ledger.file_values, scope.label(spec), value_count=count))
    reg_periods = None
    if scope.selected is not None:
        reg_periods = set()
        for rid, chosen in scope.selected.items():
            reg_periods |= in_scope.get(rid, set()) | set(chosen)
    rows = submissions_register(ledger, as_of=as_of, register=register, periods=reg_periods or None,
                                region_default=region, calendar=calendar)
    if scope.selected is not None:
        rows = [r for r in rows if r.return_id in scope.selected]
    def files():  # streamed: the Files sheet and its counts each read them once, never all held in memory
        return (f for f in ledger.iter_all_files()
                if scope.selected is None or (f.return_id in in_scope and f.period in in_scope[f.return_id]))
    n_files = sum(1 for _ in files())
    summary = ledger.finding_summary([f.file_id for f in files()]) if scope.selected is not None else \
        ledger.finding_summary()
    sources = [f"{s.short_title}: specification validators/{Path(s.source_path).name}, template version {s.version}."
               for s in (specs[r] for r in sorted(specs))]
    sources.append(f"Ledger: {db_name}, {plural(n_files, 'file')} received in scope.")
    sources.append("Deadlines: validators/deadlines.toml; working days exclude weekends and the bank holidays of "
                   "each provider's UK division.")
    if register is not None:
        sources.append(f"Providers register: {register_name or register.source} ({plural(len(register.entries), 'entry', 'entries')}).")
    else:
        sources.append("Providers register: none given, so the providers and contracts expected are those seen "
                       "in the ledger, for the periods seen from each contract's first one.")
    current = [f for f in files() if f.current]
    by_file = ledger.queries(f.file_id for f in current)
    queries = [(f.return_id, f.provider, f.contract, f.period, q) for f in current for q in by_file.get(f.file_id, ())]
    return WorkbookInput(as_of=as_of, returns=returns, register=rows, files=files, finding_summary=summary,
                         sources=sources, queries=queries)
