"""Batch intake and consolidation: inbox -> validator -> ledger -> outputs.

``ingest`` reads every input of one or more inboxes (kpd_returns.intake.inbox), has the
validator check them in parallel (``validate_items``, streaming in input order),
and adds each report to the ledger in its own transaction as soon as it comes
back, then drops it: memory stays flat however many files there are.

Nothing is lost: every input ends as exactly one of

    accepted                valid
    accepted with warnings  valid with warnings (its own, or cross-return warnings)
    rejected                invalid, with its findings
    unreadable              not a usable file (with the reason)
    duplicate               a second copy of a file (same SHA-256) in this batch

and the run's counts add up to the number of inputs. A file an earlier run recorded
(a re-run, or a run resumed after a kill) keeps its recorded outcome and is marked
``already_recorded``, so a re-run tells the ledger's truth about the inbox and a
resumed run's summary is the same as an uninterrupted run's. A rejected or
unreadable input is *open* until a valid return for the same return type, contract
and period is received after it; open inputs make the command's exit code 1. A rejected or unreadable
file's findings are written beside the outputs (``rejected/<name>.findings.json``,
and ``rejected/<name>.annotated.xlsx`` for a rejected workbook). One bad file
never stops the batch.

``consolidate`` runs ``ingest`` and then writes, from the ledger, the
consolidated workbook (``consolidated.xlsx``) and the run summary
(``summary.json``). Outputs never contain the run time or absolute paths of the
output folder, so the same inputs give byte-identical files.

Lateness uses the provider's UK division: the register's, when the contract is in
it, else ``region`` (default england-and-wales). Each input is passed to the
validator with that default; when the register says otherwise for the return's
contract the deadline and lateness are worked out again before the report is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..spec import findings as F
from . import scratch
from ..spec.personal_data import mask_all
from .inbox import InboxItem, iter_items, scan_inputs
from .ledger import Ledger, LedgerBusy, LedgerError, ReturnRow, format_received, is_locked
from ..spec.model import FileReport
from .registry import Registry, period_bounds
from ..spec.return_spec import ReturnSpec, load_all
from ..render.status_report import late_and_missing
from ..spec.workdays import DEFAULT_REGION

OUTCOMES = ("accepted", "accepted with warnings", "rejected", "unreadable", "duplicate")
OUTCOME_OF_VERDICT = {"valid": "accepted", "valid-with-warnings": "accepted with warnings", "invalid": "rejected",
                      "unreadable": "unreadable"}
SUMMARY_SCHEMA = "kpd-returns/batch-summary"
SUMMARY_SCHEMA_VERSION = "1.2"  # 1.1: late_and_missing; 1.2: skipped, and open per file (docs/batch-summary-schema.json)
WORKBOOK_NAME = "consolidated.xlsx"
SUMMARY_NAME = "summary.json"
REJECTED_DIR = "rejected"
LEDGER_NAME = "ledger.sqlite"
MAX_WORKERS = 64
SPILL_BYTES = 1 << 20  # an attachment bigger than this waits for the validator on disk (kpd_returns.intake.scratch)


@dataclass
class InputOutcome:
    index: int
    name: str
    outcome: str
    detail: str = ""
    source_email: str | None = None
    sender: str | None = None
    verdict: str | None = None
    return_id: str | None = None
    provider: str | None = None
    contract: str | None = None
    period: str | None = None
    errors: int = 0
    warnings: int = 0
    file_id: int | None = None
    findings_file: str | None = None
    annotated_file: str | None = None
    source: str = ""  # the file found, relative to its inbox (the e-mail, for an attachment)
    already_recorded: bool = False  # an earlier run stored it: the outcome is the ledger's record
    open: bool = False  # rejected or unreadable, and no valid return for its period received since

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("file_id")
        d.pop("already_recorded")  # which run recorded a file is not part of its outcome
        d["email"] = d.pop("source_email")
        d["sender"] = mask_all(d["sender"])  # who sent it stays in the ledger's audit trail only
        return d


@dataclass
class RunSummary:
    inputs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in OUTCOMES})
    outcomes: list[InputOutcome] = field(default_factory=list)
    files_found: int = 0
    notes: list[str] = field(default_factory=list)  # problems with the run itself (not with one file)
    skipped: list[str] = field(default_factory=list)  # files in an inbox that are not returns (never inputs)

    def add(self, outcome: InputOutcome) -> None:
        self.inputs += 1
        self.counts[outcome.outcome] += 1
        self.outcomes.append(outcome)

    @property
    def balanced(self) -> bool:
        return sum(self.counts.values()) == self.inputs == len(self.outcomes)

    def line(self) -> str:
        parts = ", ".join(f"{self.counts[k]} {k}" for k in OUTCOMES)
        n = len(self.skipped)
        skipped = f" {n} other file{'s' if n != 1 else ''} skipped: not a return." if n else ""
        return f"{self.inputs} inputs: {parts}.{skipped}"

    @property
    def open_problems(self) -> list[InputOutcome]:
        return [o for o in self.outcomes if o.open]

    def recorded_line(self) -> str | None:
        """'41 already recorded by an earlier run (38 accepted, 1 accepted with warnings, 2 unreadable).'"""
        earlier = [o for o in self.outcomes if o.already_recorded]
        if not earlier:
            return None
        parts = ", ".join(f"{n} {k}" for k in OUTCOMES if (n := sum(1 for o in earlier if o.outcome == k)))
        return f"{len(earlier)} already recorded by an earlier run ({parts})."

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "counts": dict(self.counts),
                "files": [o.to_dict() for o in sorted(self.outcomes, key=lambda o: o.index)],
                "skipped": [{"source": name, "reason": "not a return"} for name in self.skipped]}


# -- ingest ----------------------------------------------------------------------------------
def _display_path(item: InboxItem) -> str:
    """How a report names an input: its path within the inbox ('mail/x.eml > return.xlsx' for an attachment)."""
    rel = item.rel or item.source_path
    return f"{rel} > {item.name}" if item.source_email else rel


def _masked_names(item: InboxItem) -> InboxItem:
    """The input with personal data masked in every name it is known by (file, attachment, e-mail, path),
    before any reaches the ledger, the summary, the workbook, the packs or the terminal. Its bytes are
    still read from ``item.source`` (the real path, or the attachment's bytes), and the ledger knows a
    file again by its SHA-256, never by its name. The sender's address is kept as it is for the
    ledger's audit trail; everything that shows it (summary.json, the workbook) masks it."""
    item.name, item.rel, item.source_path = mask_all(item.name), mask_all(item.rel), mask_all(item.source_path)
    item.source_email = mask_all(item.source_email)
    return item


def _direct_report(item: InboxItem) -> FileReport:
    """A report for an input the inbox already knows is unusable (an e-mail without a workbook...)."""
    code, detail = item.problem  # type: ignore[misc]
    return FileReport(path=_display_path(item), name=item.name, sha256=item.sha256,
                      findings=[F.make(code, file=item.name, detail=detail)], submitted=item.submitted,
                      submitted_source=item.submitted_source)


def _settle_submission(report: FileReport, item: InboxItem, register: Registry | None, default: str,
                       calendar: Any) -> str:
    """Fix the submission time's fallback and the UK division; return the division used.

    The validator uses a time passed in before the workbook's own Date submitted, so
    a bare workbook is passed without one: when the workbook has no usable date the
    validator falls back to the as-of date, and here the file's modification time
    takes its place ("file-modified"). When the register puts the contract in
    another UK division, the deadline and lateness are worked out again for it.
    """
    region = register.region_for(report.contract, default) if register is not None and report.contract else default
    when: Any = None
    source = report.submitted_source
    if item.source_email is None and source in (None, "as-of") and item.submitted is not None:
        when, source = item.submitted, "file-modified"
    elif region != default and report.submitted is not None:
        when = report.submitted.date() if source == "workbook" else report.submitted
    if when is None:
        return region
    from ..checks.validate import finish_report

    report.findings = [f for f in report.findings if f.code != "submitted-late"]
    report.deadline = report.late_working_days = None
    finish_report(report, submitted=when, submitted_source=source, region=region, calendar=calendar)
    return region


class _Progress:
    """A rich progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool | None):
        self.bar = None
        if enabled is None:
            enabled = sys.stderr.isatty()
        if enabled and total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("Reading returns"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("read", total=total)
            self.bar.start()

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def ingest(paths: Sequence[str | Path], ledger: Ledger, *, workers: int | None = None,
           region: str = DEFAULT_REGION, register: Registry | None = None, exclude: Iterable[str | Path] = (),
           rejected_dir: str | Path | None = None, progress: bool | None = None, calendar: Any = None,
           on_outcome: Callable[[InputOutcome], None] | None = None, validate: Callable | None = None) -> RunSummary:
    """Add every input under ``paths`` to ``ledger``; return the run's summary (counts add up to the inputs)."""
    if validate is None:
        from ..checks.validate import validate_items as validate
    scan = scan_inputs(paths, exclude)
    files = scan.inputs
    # Never more workers than inputs, nor than the 64 validate allows (a pool of 1,000 hangs a machine).
    workers = max(1, min(workers or os.cpu_count() or 1, MAX_WORKERS, len(files) or 1))
    summary = RunSummary(files_found=len(files), skipped=[mask_all(name) for name in scan.skipped])
    known = {r[0] for r in ledger.conn.execute("SELECT sha256 FROM files")}
    first_in_run: dict[str, str] = {}  # sha256 -> name (never the bytes: memory stays flat)
    order: deque[tuple[str, InboxItem]] = deque()
    year_start = register.year_start if register is not None else None
    writer = _RejectedWriter(Path(rejected_dir)) if rejected_dir is not None else None
    bar = _Progress(len(files), progress)

    items = (_masked_names(item) for item in iter_items(paths, files=files))

    def classify(item: InboxItem) -> str:
        if item.problem is not None and item.sha256 not in known:
            return "direct"
        if item.sha256 in first_in_run:
            return "duplicate"
        first_in_run[item.sha256] = item.name
        return "recorded" if item.sha256 in known else "direct" if item.problem is not None else "validate"

    def as_input(item: InboxItem) -> tuple:
        if item.source_email is None:  # a bare workbook: its own Date submitted comes first
            return (item.source, item.name, None, None, region)
        return (item.source, item.name, item.submitted, item.submitted_source, region)

    # Attachments wait for the validator (and for their annotated copy) as files in the scratch folder, not
    # as bytes: a batch of e-mails near the cap would otherwise hold hundreds of MB in flight.
    spill_dir = Path(rejected_dir).parent if rejected_dir is not None else Path(ledger.path).parent
    spilled: dict[int, Path] = {}

    def spill(item: InboxItem) -> None:
        if isinstance(item.source, (bytes, bytearray)) and len(item.source) > SPILL_BYTES:
            fd, name = tempfile.mkstemp(prefix="attachment-", suffix=".tmp", dir=scratch.folder(spill_dir))
            with os.fdopen(fd, "wb") as fh:
                fh.write(item.source)
            item.source = spilled[item.index] = Path(name)

    def feed() -> Iterator[tuple]:
        for item in items:
            spill(item)
            kind = classify(item)
            order.append((kind, item))
            if kind == "validate":
                yield as_input(item)

    def finish(outcome: InputOutcome, item: InboxItem) -> None:
        held = spilled.pop(item.index, None)
        if held is not None:
            held.unlink(missing_ok=True)
            scratch.tidy(spill_dir)
        outcome.source = item.rel or item.source_path
        summary.add(outcome)
        if getattr(item, "last_of_file", True):
            bar.advance()
        if on_outcome:
            on_outcome(outcome)

    def store(report: FileReport, item: InboxItem) -> None:
        report.sha256 = report.sha256 or item.sha256
        report.path = _display_path(item)
        report.name = item.name
        reg_region = _settle_submission(report, item, register, region, calendar)
        added = ledger.add_report(report, source_path=item.source_path, source_email=item.source_email,
                                  sender=item.sender, region=reg_region, size_bytes=item.size, year_start=year_start)
        if not added.added:  # another process added it meanwhile, or an input the inbox already judged
            dup = _duplicate_outcome(item, added.duplicate_of)
            if writer and added.duplicate_of is not None and added.duplicate_of.verdict in ("invalid", "unreadable"):
                writer.write(ledger, added.file_id, item, dup)
            finish(dup, item)
            return
        verdict = report.verdict
        outcome = {"valid": "accepted", "valid-with-warnings": "accepted with warnings", "invalid": "rejected",
                   "unreadable": "unreadable"}[verdict]
        if outcome == "accepted" and added.cross_findings:
            outcome = "accepted with warnings"
        errors = len(report.errors)
        warnings = len(report.warnings) + len(added.cross_findings)
        result = InputOutcome(item.index, item.name, outcome, _detail(report, added.cross_findings),
                              item.source_email, item.sender, verdict, report.return_id, report.provider,
                              report.contract, report.period, errors, warnings, added.file_id)
        if writer and verdict in ("invalid", "unreadable"):
            writer.write(ledger, added.file_id, item, result)
        finish(result, item)

    def handle_side(kind: str, item: InboxItem) -> None:
        if kind == "direct" and item.problem[0] == "file-unreadable":  # type: ignore[index]
            # kpd-returns could not read it at all (a link loop, no permission): there are no bytes to
            # judge, so nothing is recorded in the ledger, and every run reports it until it is fixed.
            report = _direct_report(item)
            outcome = InputOutcome(item.index, item.name, "unreadable", _detail(report, []), item.source_email,
                                   item.sender, "unreadable")
            if writer:
                writer.write_report(report, item, outcome)
            finish(outcome, item)
            return
        if kind == "direct":
            store(_direct_report(item), item)
            return
        if kind == "recorded":
            row = ledger.find_sha256(item.sha256)
            if row is not None:
                result = recorded_outcome(ledger, item, row)
                if writer and row.verdict in ("invalid", "unreadable"):
                    writer.write(ledger, row.file_id, item, result)
                finish(result, item)
                return
        row = ledger.find_sha256(item.sha256)
        if row is None:  # an in-run duplicate whose first copy was not stored (cannot happen; be safe)
            first = first_in_run.get(item.sha256)
            finish(InputOutcome(item.index, item.name, "duplicate",
                                f"the same file as {first or 'an earlier input'} in this batch",
                                item.source_email, item.sender), item)
            return
        result = _duplicate_outcome(item, row)
        if writer and row.verdict in ("invalid", "unreadable"):
            writer.write(ledger, row.file_id, item, result)
        finish(result, item)

    def drain_until_validate() -> InboxItem | None:
        while order:
            kind, item = order.popleft()
            if kind == "validate":
                return item
            handle_side(kind, item)
        return None

    def store_safely(report: FileReport, item: InboxItem) -> None:
        try:
            store(report, item)
        except LedgerError:
            raise  # the ledger, not the file (locked, read-only): the file stays unrecorded for the next run
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
            if ledger.conn.in_transaction:
                ledger.conn.execute("ROLLBACK")
            if is_locked(exc):
                raise LedgerBusy(f"The ledger {ledger.path} was locked by another run while {item.name} was being "
                                 "recorded, so this run stopped; that file and the rest will be taken by the next "
                                 "run.") from None
            row = ledger.find_sha256(item.sha256)
            if row is not None:
                finish(_duplicate_outcome(item, row), item)
                return
            store(_failed_report(item, f"it could not be stored ({type(exc).__name__}: {exc})"), item)

    def validate_one(item: InboxItem) -> FileReport:
        try:
            return next(iter(validate([as_input(item)], workers=1, calendar=calendar, chunk_size=1)))
        except Exception as exc:  # noqa: BLE001
            return _failed_report(item, f"it could not be checked ({type(exc).__name__}: {exc})")

    chunk = max(10, min(100, -(-len(files) // (workers * 4)))) if files else 10
    try:
        reports = iter(validate(feed(), workers=workers, calendar=calendar, chunk_size=chunk))
        while True:
            try:
                report = next(reports)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - the validator stopped: check the rest one by one
                summary.notes.append(mask_all(f"The validator stopped part-way ({type(exc).__name__}: {exc}); the "
                                              "remaining files were checked one at a time."))
                while order:
                    kind, item = order.popleft()
                    if kind == "validate":
                        store_safely(validate_one(item), item)
                    else:
                        handle_side(kind, item)
                for item in items:
                    kind = classify(item)
                    if kind == "validate":
                        store_safely(validate_one(item), item)
                    else:
                        handle_side(kind, item)
                break
            item = drain_until_validate()
            if item is None:
                raise RuntimeError("The validator returned more reports than inputs it was given.")
            store_safely(report, item)
            del report
        while order:
            kind, item = order.popleft()
            if kind == "validate":
                raise RuntimeError(f"The validator returned no report for {item.name}.")
            handle_side(kind, item)
    finally:
        bar.close()
        for held in spilled.values():
            held.unlink(missing_ok=True)
        if spilled:
            scratch.tidy(spill_dir)
    settle_outcomes(summary, ledger)
    return summary


def _row_outcome(ledger: Ledger, row: ReturnRow) -> tuple[str, str]:
    """(outcome, detail) of a stored file as the ledger records it now (its verdict, and warnings
    from later cross-checks)."""
    outcome = OUTCOME_OF_VERDICT.get(row.verdict, "unreadable")
    if outcome == "accepted" and row.warnings:
        outcome = "accepted with warnings"
    unreadable = None
    if row.verdict == "unreadable":
        first = next((f for f in ledger.findings(row.file_id) if f.code in F.UNREADABLE_CODES), None)
        unreadable = first.message if first else "unreadable"
    return outcome, _describe(row.return_id, row.provider, row.contract, row.period, row.errors, row.warnings,
                              unreadable)


def recorded_outcome(ledger: Ledger, item: InboxItem, row: ReturnRow) -> InputOutcome:
    """The outcome of an input an earlier run recorded: the ledger's record of it."""
    outcome, detail = _row_outcome(ledger, row)
    return InputOutcome(item.index, item.name, outcome, detail, item.source_email, item.sender, row.verdict,
                        row.return_id, row.provider, row.contract, row.period, row.errors, row.warnings,
                        row.file_id, already_recorded=True)


def settle_outcomes(summary: RunSummary, ledger: Ledger) -> None:
    """Every stored input's outcome as the ledger has it at the end of the run, whichever run stored it.

    A later arrival can add a cross-return warning to a file stored earlier in the run, and a run
    resumed after a kill reads some outcomes back from the ledger: settling them all here from the
    final ledger makes an interrupted-and-resumed run's summary the same as an uninterrupted one's.
    """
    counts = {k: 0 for k in OUTCOMES}
    for o in summary.outcomes:
        if o.file_id is not None and o.outcome != "duplicate":
            row = ledger.file(o.file_id)
            if row is not None:
                o.outcome, o.detail = _row_outcome(ledger, row)
                o.verdict, o.errors, o.warnings = row.verdict, row.errors, row.warnings
                o.open = o.outcome in ("rejected", "unreadable") and not ledger.replaced_by_valid(o.file_id)
        elif o.outcome in ("rejected", "unreadable"):
            o.open = True
        counts[o.outcome] += 1
    summary.counts = counts


def _failed_report(item: InboxItem, detail: str) -> FileReport:
    return FileReport(path=_display_path(item), name=item.name, sha256=item.sha256,
                      findings=[F.make("file-corrupt", file=item.name, detail=detail)],
                      submitted=item.submitted, submitted_source=item.submitted_source)


def _duplicate_outcome(item: InboxItem, row: ReturnRow | None) -> InputOutcome:
    if row is None:
        return InputOutcome(item.index, item.name, "duplicate", "already in the ledger", item.source_email, item.sender)
    detail = f"already in the ledger as {row.name}, received {format_received(row)}"
    return InputOutcome(item.index, item.name, "duplicate", detail, item.source_email, item.sender, row.verdict,
                        row.return_id, row.provider, row.contract, row.period, row.errors, row.warnings, row.file_id)


def _detail(report: FileReport, cross: list[F.Finding]) -> str:
    unreadable = None
    if report.verdict == "unreadable":
        first = next((f for f in report.findings if f.code in F.UNREADABLE_CODES), None)
        unreadable = first.message if first else "unreadable"
    return _describe(report.return_id, report.provider, report.contract, report.period, len(report.errors),
                     len(report.warnings) + len(cross), unreadable)


def _describe(return_id: str | None, provider: str | None, contract: str | None, period: str | None,
              errors: int, warnings: int, unreadable: str | None) -> str:
    """'MMIR Acme ATW-1 2026-09: 2 errors, 1 warning', or an unreadable file's reason."""
    if unreadable is not None:
        return unreadable
    bits = []
    if errors:
        bits.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        bits.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    what = " ".join(x for x in (return_id.upper() if return_id else None, provider, contract, period) if x)
    return f"{what}: {', '.join(bits)}" if bits else what


# -- findings beside the outputs ----------------------------------------------------------------
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class _RejectedWriter:
    """Writes rejected/<name>.findings.json (and .annotated.xlsx) from the ledger's record of a file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: dict[str, str] = {}  # stem -> sha256
        self.written: dict[str, tuple[str | None, str | None]] = {}  # sha256 -> files

    def _stem(self, name: str, sha: str) -> str:
        stem = _UNSAFE.sub("_", Path(name).stem).strip(" .") or "file"
        if self.used.get(stem, sha) != sha:
            stem = f"{stem}-{sha[:8]}"
        self.used[stem] = sha
        return stem

    def write(self, ledger: Ledger, file_id: int, item: InboxItem, outcome: InputOutcome) -> None:
        row = ledger.file(file_id)
        if row is None:
            return
        if row.sha256 in self.written:
            outcome.findings_file, outcome.annotated_file = self.written[row.sha256]
            return
        from ..render.json_report import dumps

        self.folder.mkdir(parents=True, exist_ok=True)
        report = report_from_ledger(ledger, row, path=_display_path(item))
        stem = self._stem(item.name, row.sha256)
        json_path = self.folder / f"{stem}.findings.json"
        json_path.write_text(dumps([report]), encoding="utf-8")
        outcome.findings_file = f"{REJECTED_DIR}/{json_path.name}"
        if row.verdict == "invalid" and item.name.lower().endswith((".xlsx", ".xlsm")):
            outcome.annotated_file = self._annotate(item, report, stem)
        self.written[row.sha256] = (outcome.findings_file, outcome.annotated_file)

    def write_report(self, report: FileReport, item: InboxItem, outcome: InputOutcome) -> None:
        """rejected/<name>.findings.json for an input that is not in the ledger (it could not be read)."""
        from ..render.json_report import dumps

        self.folder.mkdir(parents=True, exist_ok=True)
        json_path = self.folder / f"{self._stem(item.name, item.sha256)}.findings.json"
        json_path.write_text(dumps([report]), encoding="utf-8")
        outcome.findings_file = f"{REJECTED_DIR}/{json_path.name}"

    def _annotate(self, item: InboxItem, report: FileReport, stem: str) -> str | None:
        from ..render.annotate import annotate
        from ..render._xlsx import CopyError

        out = self.folder / f"{stem}.annotated.xlsx"
        tmp = None
        try:
            source = item.source
            if isinstance(source, bytes):
                fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=scratch.folder(self.folder))  # never stranded
                with os.fdopen(fd, "wb") as fh:
                    fh.write(source)
                source = Path(tmp)
            annotate(source, report, out)
        except (CopyError, OSError):
            return None
        except Exception:  # noqa: BLE001 - no copy is better than losing the file's outcome; its JSON is written
            return None
        finally:
            if tmp:
                os.unlink(tmp)
                scratch.tidy(self.folder)
        return f"{REJECTED_DIR}/{out.name}"


def report_from_ledger(ledger: Ledger, row: ReturnRow, path: str | None = None) -> FileReport:
    """A FileReport rebuilt from the ledger (what the JSON report and annotated copy need)."""
    submitted: Any = row.received_at
    return FileReport(path=path or row.source_path, name=row.name, sha256=row.sha256, return_id=row.return_id,
                      version=row.template_version, provider=row.provider, contract=row.contract, period=row.period,
                      period_end=row.period_end, findings=ledger.findings(row.file_id), submitted=submitted,
                      submitted_source=row.submitted_source, deadline=row.deadline,
                      late_working_days=row.late_working_days)


# -- scope: which periods the outputs cover ---------------------------------------------------------
@dataclass
class Scope:
    """``selected``: return id -> the periods asked for (None: every period)."""

    selected: dict[str, list[str]] | None = None

    @classmethod
    def from_periods(cls, periods: Sequence[str] | None, specs: dict[str, ReturnSpec] | None = None) -> "Scope":
        if not periods:
            return cls(None)
        specs = specs or load_all()
        selected: dict[str, list[str]] = {}
        for p in periods:
            matched = False
            for rid, spec in specs.items():
                b = period_bounds(spec, p)
                if b:
                    selected.setdefault(rid, []).append(b[0])
                    matched = True
            if not matched:
                raise ValueError(f"The period '{p}' is not a KPD quarter (2026-27 Q2) or an MMIR month (2026-10).")
        return cls(selected)

    def return_ids(self, specs: dict[str, ReturnSpec]) -> list[str]:
        return sorted(specs) if self.selected is None else sorted(self.selected)

    def periods_in_scope(self, spec: ReturnSpec, periods: Iterable[str]) -> set[str]:
        """Which of ``periods`` the outputs cover: a month selects its contract year to date."""
        periods = set(periods)
        if self.selected is None:
            return periods
        chosen = self.selected.get(spec.id, [])
        out: set[str] = set()
        for sel in chosen:
            b = period_bounds(spec, sel)
            if spec.period.kind != "month":
                out.add(b[0])
                continue
            ysm = spec.period.year_start_month
            start_year = b[1].year - (1 if b[1].month < ysm else 0)
            year_start = dt.date(start_year, ysm, 1)
            for p in periods:
                pb = period_bounds(spec, p)
                if pb and year_start <= pb[1] <= b[1]:
                    out.add(pb[0])
            out.add(b[0])
        return out

    def label(self, spec: ReturnSpec) -> str:
        if self.selected is None:
            return "all periods in the ledger"
        chosen = self.selected.get(spec.id, [])
        if spec.period.kind == "month":
            return "contract year to date up to " + ", ".join(chosen)
        return "period " + ", ".join(chosen)


# -- consolidate ---------------------------------------------------------------------------------------
@dataclass
class ConsolidationResult:
    summary: RunSummary
    workbook: Path
    summary_file: Path
    rejected_dir: Path
    ledger_path: Path
    register_rows: list = field(default_factory=list)


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
        data = workbook_input(ledger, scope=scope, as_of=as_of, register=register, region=region,
                              calendar=calendar, register_name=register_name, db_name=db_path.name)
        from .consolidated_workbook import write_consolidated

        workbook = out / WORKBOOK_NAME
        write_consolidated(workbook, data)
    summary_file = out / SUMMARY_NAME
    doc = {"schema": SUMMARY_SCHEMA, "schema_version": SUMMARY_SCHEMA_VERSION, "as_of": as_of.isoformat(),
           "periods": sorted(p for ps in (scope.selected or {}).values() for p in ps) or None,
           **summary.to_dict(), "late_and_missing": late_and_missing(data.register), "workbook": WORKBOOK_NAME}
    with summary_file.open("w", encoding="utf-8") as fh:  # written as encoded, not built as one string first
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    scratch.finish(out)
    return ConsolidationResult(summary, workbook, summary_file, rejected, db_path, data.register)


def workbook_input(ledger: Ledger, *, scope: Scope, as_of: dt.date, register: Registry | None,
                   region: str = DEFAULT_REGION, calendar: Any = None, register_name: str | None = None,
                   db_name: str = LEDGER_NAME):
    """Everything the consolidated workbook shows, read from the ledger for the scope."""
    from .consolidated_workbook import ReturnData, WorkbookInput

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
    rows = ledger.submissions_register(as_of=as_of, register=register, periods=reg_periods, region_default=region,
                                       calendar=calendar)
    if scope.selected is not None:
        rows = [r for r in rows if r.return_id in scope.selected]
    def files():  # streamed: the Files sheet and its counts each read them once, never all held in memory
        return (f for f in ledger.iter_all_files()
                if scope.selected is None or (f.return_id in in_scope and f.period in in_scope[f.return_id]))
    n_files = sum(1 for _ in files())
    summary = ledger.finding_summary([f.file_id for f in files()]) if scope.selected is not None else \
        ledger.finding_summary()
    sources = [f"{s.title}: specification validators/{Path(s.source_path).name}, template version {s.version}."
               for s in (specs[r] for r in sorted(specs))]
    sources.append(f"Ledger: {db_name}, {n_files} files received in scope.")
    sources.append("Deadlines: validators/deadlines.toml; working days exclude weekends and the bank holidays of "
                   "each provider's UK division.")
    if register is not None:
        sources.append(f"Providers register: {register_name or register.source} ({len(register.entries)} entries).")
    else:
        sources.append("Providers register: none given, so the providers and contracts expected are those seen "
                       "in the ledger, for the periods seen from each contract's first one.")
    current = [f for f in files() if f.current]
    by_file = ledger.queries(f.file_id for f in current)
    queries = [(f.return_id, f.provider, f.contract, f.period, q) for f in current for q in by_file.get(f.file_id, ())]
    return WorkbookInput(as_of=as_of, returns=returns, register=rows, files=files, finding_summary=summary,
                         sources=sources, queries=queries)
