"""Draft e-mails back to providers (issue 19 item 21): one ``<out>/drafts/<name>.eml`` for each
return of the run that is rejected and still open, or current with an open query.

Which returns: every input of the run (whichever run first recorded it, so a re-run writes the
same drafts), except duplicates, whose first copy has the draft, and unreadable files.
A rejected return gets a draft while it is open (no valid return for its period has come since);
a return accepted with an open query gets one while it is the current return for its period.

Who to: the address the return came from (the From of the e-mail it was attached to); for a
bare workbook, or a sender that is not one plain address, the contract's ``contact`` in the
providers register; else the draft has no To, and ``summary.json`` says so (``to_source``
"none"). ``summary.json`` shows the address masked, as it shows every sender.

What is attached: the annotated copy. A rejected workbook's is ``rejected/<name>.annotated.xlsx``;
a return accepted with open queries has its copy made while ingest has its bytes
(``rejected.reply_copy``). A file with no copy (not a workbook, or one that could not be
copied), or a copy over 10 MB, gets a draft without one, which says so.

The folder is this run's: any other ``.eml`` in ``drafts/`` (a draft for a return since put
right) is removed, so the folder holds exactly the drafts ``summary.json`` lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..render.draft_email import MAX_ATTACHMENT_BYTES, Attachment, draft_message, usable_address
from ..spec.model import FileReport
from ..spec.personal_data import mask_all
from .ledger import Ledger, ReturnRow
from .outcomes import InputOutcome, RunSummary
from .registry import Registry
from .rejected import reply_copy, report_from_ledger, safe_stem

DRAFTS_DIR = "drafts"
_SENT_SOURCES = ("email", "workbook", "option")  # a time the provider sent the return (not a file's mtime)


@dataclass
class DraftRecord:
    """One draft as summary.json lists it."""

    file: str
    to: str | None
    to_source: str  # "sender", "register" or "none"
    source: str
    name: str
    return_id: str | None
    provider: str | None
    contract: str | None
    period: str | None
    errors: int
    queries: int
    attachment: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "to": mask_all(self.to) if self.to else None, "to_source": self.to_source,
                "source": self.source, "name": self.name, "return_type": self.return_id, "provider": self.provider,
                "contract": self.contract, "period": self.period, "errors": self.errors,
                "open_queries": self.queries, "attachment": self.attachment}


def _wanted(ledger: Ledger, o: InputOutcome) -> tuple[ReturnRow, FileReport] | None:
    if o.outcome == "duplicate" or o.file_id is None:
        return None
    row = ledger.file(o.file_id)
    if row is None:
        return None
    if row.verdict == "invalid":
        if not o.open:
            return None
    elif row.verdict not in ("valid", "valid-with-warnings") or not row.current or not row.warnings:
        return None
    report = report_from_ledger(ledger, row, path=o.source)
    if row.verdict != "invalid" and not any(f.status == "open" for f in report.findings):
        return None
    return row, report


def _recipient(o: InputOutcome, row: ReturnRow, register: Registry | None) -> tuple[str | None, str]:
    sender = usable_address(o.sender or row.sender)
    if sender:
        return sender, "sender"
    entry = register.for_contract(row.contract) if register is not None else None
    contact = usable_address(getattr(entry, "contact", None))
    if contact:
        return contact, "register"
    return None, "none"


def _attachment(out: Path, o: InputOutcome, row: ReturnRow, stem: str) -> tuple[Attachment | None, bool]:
    """The annotated copy to attach, and whether one was left out for its size (never read then)."""
    if row.verdict == "invalid":
        path = out / o.annotated_file if o.annotated_file else None
    else:
        path = reply_copy(out, row.sha256)
    try:
        if path is None or not path.is_file():
            return None, False
        if path.stat().st_size > MAX_ATTACHMENT_BYTES:
            return None, True
        data = path.read_bytes()
    except OSError:
        return None, False
    return (Attachment(f"{stem}.annotated.xlsx", data) if data else None), False


def _received(row: ReturnRow) -> str | None:
    when = row.received_at
    if when is None or row.submitted_source not in _SENT_SOURCES:
        return None
    return f"{when.day} {when:%B %Y}"


def write_drafts(out: Path, summary: RunSummary, ledger: Ledger, *, register: Registry | None,
                 as_of: dt.date) -> list[DraftRecord]:
    """Write the run's drafts into ``out/drafts`` and return them, in input order."""
    folder = out / DRAFTS_DIR
    records: list[DraftRecord] = []
    used: dict[str, str] = {}
    for o in sorted(summary.outcomes, key=lambda x: x.index):
        wanted = _wanted(ledger, o)
        if wanted is None:
            continue
        row, report = wanted
        stem = safe_stem(o.name, row.sha256, used, "return")
        to, to_source = _recipient(o, row, register)
        attachment, too_large = _attachment(out, o, row, stem)
        try:
            data = draft_message(report, to=to, as_of=as_of, attachment=attachment, received=_received(row),
                                 too_large=too_large)
        except Exception as exc:  # noqa: BLE001 - one draft that cannot be built never stops the run
            summary.notes.append(mask_all(f"No draft e-mail was written for {o.name}: it could not be built "
                                          f"({type(exc).__name__}: {exc})."))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{stem}.eml"
        if target.is_symlink():  # written as a file of its own, never through a link to somewhere else
            target.unlink()
        target.write_bytes(data)
        del data
        records.append(DraftRecord(f"{DRAFTS_DIR}/{target.name}", to, to_source, o.source, o.name, row.return_id,
                                   row.provider, row.contract, row.period, len(report.errors),
                                   sum(1 for f in report.findings if f.status == "open"),
                                   attachment.name if attachment else None))
    if folder.is_dir():
        keep = {Path(r.file).name for r in records}
        for stale in folder.glob("*.eml"):
            if stale.name not in keep and stale.is_file() and not stale.is_symlink():
                stale.unlink()
    return records
