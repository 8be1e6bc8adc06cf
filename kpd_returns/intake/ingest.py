"""Ingest: every input of the inboxes validated and stored in the ledger once, each with its outcome.

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
and ``rejected/<name>.annotated.xlsx`` for a rejected workbook), and a workbook with an open
query gets an annotated copy in the scratch folder for its draft e-mail (``intake.drafts``).
One bad file never stops the batch.

Lateness uses the provider's UK division: the register's, when the contract is in
it, else ``region`` (default england-and-wales). Each input is passed to the
validator with that default; when the register says otherwise for the return's
contract the deadline and lateness are worked out again before the report is stored.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..checks.validate import finish_report, validate_items
from ..spec import findings as F
from . import scratch
from ..spec.personal_data import mask_all
from .inbox import InboxItem, iter_items, scan_inputs
from .ledger import Ledger, LedgerBusy, LedgerError, is_locked
from .outcomes import (InputOutcome, RunSummary, _detail, _display_path, _duplicate_outcome, recorded_outcome,
                       settle_outcomes)
from .rejected import _RejectedWriter
from ..spec.model import FileReport
from .registry import Registry
from ..spec.constants import DEFAULT_REGION


MAX_WORKERS = 64
SPILL_BYTES = 1 << 20  # an attachment bigger than this waits for the validator on disk (kpd_returns.intake.scratch)


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
        validate = validate_items
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
            # an e-mail's attachments that are not returns (a covering PDF) are skipped, and said to be
            summary.skipped += [mask_all(f"{item.rel or item.source_path} > {other}") for other in item.others]
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
        elif writer and warnings:  # open queries: the annotated copy for the draft e-mail (intake.drafts)
            writer.copy_for_reply(ledger, added.file_id, item)
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
                elif writer and row.warnings:
                    writer.copy_for_reply(ledger, row.file_id, item)
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


def _failed_report(item: InboxItem, detail: str) -> FileReport:
    return FileReport(path=_display_path(item), name=item.name, sha256=item.sha256,
                      findings=[F.make("file-corrupt", file=item.name, detail=detail)],
                      submitted=item.submitted, submitted_source=item.submitted_source)
