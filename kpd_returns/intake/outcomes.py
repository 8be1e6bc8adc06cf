"""What each input of a run came to (accepted, rejected, duplicate...) and the run's tally: the
outcome of a file stored now, or recorded by an earlier run, told from the ledger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..spec import findings as F
from ..spec.personal_data import mask_all
from ..spec.periods import period_title
from ..spec.return_spec import display_name
from ..spec.words import plural
from .inbox import InboxItem
from .ledger import Ledger, ReturnRow, format_received
from ..spec.model import FileReport


OUTCOMES = ("accepted", "accepted with warnings", "rejected", "unreadable", "duplicate")
OUTCOME_OF_VERDICT = {"valid": "accepted", "valid-with-warnings": "accepted with warnings", "invalid": "rejected",
                      "unreadable": "unreadable"}


@dataclass(slots=True)  # one per input, kept for the run's summary: no __dict__ each
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
        return f"{plural(self.inputs, 'input')}: {parts}.{skipped}"

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
    """'MMIR for September 2026, Acme, ATW-1: 2 errors, 1 warning', or an unreadable file's reason."""
    if unreadable is not None:
        return unreadable
    bits = []
    if errors:
        bits.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        bits.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    # the return type by its display name and the period in words ("MMIR for September 2026, Acme, ATW-1")
    name = " for ".join(x for x in (display_name(return_id), period_title(period)) if x)
    what = ", ".join(x for x in (name, provider, contract) if x)
    return f"{what}: {', '.join(bits)}" if bits else what


# -- ingest ----------------------------------------------------------------------------------
def _display_path(item: InboxItem) -> str:
    """How a report names an input: its path within the inbox ('mail/x.eml > return.xlsx' for an attachment)."""
    rel = item.rel or item.source_path
    return f"{rel} > {item.name}" if item.source_email else rel
