"""The findings written beside a run's outputs for each file not accepted: its report (JSON)
and, where the file can be copied, an annotated copy, in the rejected/ folder; and the annotated
copy of a return accepted with open queries, held in the run's scratch folder for the draft
e-mail back to its provider (kpd_returns.intake.drafts).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from . import scratch
from .inbox import InboxItem
from .ledger import Ledger, ReturnRow
from .outcomes import InputOutcome, _display_path
from ..spec.model import FileReport
from ..render._xlsx import CopyError
from ..render.annotate import annotate
from ..render.json_report import dumps


# -- findings beside the outputs ----------------------------------------------------------------
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_stem(name: str, sha: str, used: dict[str, str], default: str) -> str:
    """A file name's stem safe to write beside others (``used``: stem -> SHA-256, updated): another
    file's stem taken already gets the first eight characters of this one's SHA-256."""
    stem = _UNSAFE.sub("_", Path(name).stem).strip(" .") or default
    if used.get(stem, sha) != sha:
        stem = f"{stem}-{sha[:8]}"
    used[stem] = sha
    return stem


class _RejectedWriter:
    """Writes rejected/<name>.findings.json (and .annotated.xlsx) from the ledger's record of a file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: dict[str, str] = {}  # stem -> sha256
        self.written: dict[str, tuple[str | None, str | None]] = {}  # sha256 -> files
        self.replies: set[str] = set()  # sha256 of the returns whose copy for a draft e-mail is made

    def _stem(self, name: str, sha: str) -> str:
        return safe_stem(name, sha, self.used, "file")

    def write(self, ledger: Ledger, file_id: int, item: InboxItem, outcome: InputOutcome) -> None:
        row = ledger.file(file_id)
        if row is None:
            return
        if row.sha256 in self.written:
            outcome.findings_file, outcome.annotated_file = self.written[row.sha256]
            return

        self.folder.mkdir(parents=True, exist_ok=True)
        report = report_from_ledger(ledger, row, path=_display_path(item))
        stem = self._stem(item.name, row.sha256)
        json_path = self.folder / f"{stem}.findings.json"
        json_path.write_text(dumps([report]), encoding="utf-8")
        outcome.findings_file = f"{REJECTED_DIR}/{json_path.name}"
        if row.verdict == "invalid" and item.name.lower().endswith((".xlsx", ".xlsm")):
            if self._annotate(item, report, self.folder / f"{stem}.annotated.xlsx", self.folder):
                outcome.annotated_file = f"{REJECTED_DIR}/{stem}.annotated.xlsx"
        self.written[row.sha256] = (outcome.findings_file, outcome.annotated_file)

    def copy_for_reply(self, ledger: Ledger, file_id: int, item: InboxItem) -> None:
        """For a return accepted with an open query: its annotated copy, for the draft e-mail to its
        provider, in the scratch folder (``reply_copy``); made while the file's bytes are at hand."""
        row = ledger.file(file_id)
        if row is None or row.verdict not in ("valid", "valid-with-warnings") or row.sha256 in self.replies:
            return
        if not row.current:  # a superseded return gets no draft (drafts._wanted): no copy for one either
            return
        if not item.name.lower().endswith((".xlsx", ".xlsm")):
            return
        report = report_from_ledger(ledger, row, path=_display_path(item))
        if not any(f.status == "open" for f in report.findings):
            return
        self.replies.add(row.sha256)
        self._annotate(item, report, reply_copy(self.folder.parent, row.sha256), self.folder.parent)

    def write_report(self, report: FileReport, item: InboxItem, outcome: InputOutcome) -> None:
        """rejected/<name>.findings.json for an input that is not in the ledger (it could not be read)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        json_path = self.folder / f"{self._stem(item.name, item.sha256)}.findings.json"
        json_path.write_text(dumps([report]), encoding="utf-8")
        outcome.findings_file = f"{REJECTED_DIR}/{json_path.name}"

    def _annotate(self, item: InboxItem, report: FileReport, out: Path, work: Path) -> bool:
        """Write the annotated copy to ``out``; an attachment's bytes wait in ``work``'s scratch folder."""
        tmp = None
        try:
            source = item.source
            if isinstance(source, bytes):
                fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=scratch.folder(work))  # never stranded
                with os.fdopen(fd, "wb") as fh:
                    fh.write(source)
                source = Path(tmp)
            annotate(source, report, out)
        except (CopyError, OSError):
            return False
        except Exception:  # noqa: BLE001 - no copy is better than losing the file's outcome; its JSON is written
            return False
        finally:
            if tmp:
                os.unlink(tmp)
                scratch.tidy(work)
        return True


def reply_copy(out: Path, sha256: str) -> Path:
    """Where the annotated copy of a return accepted with open queries waits for its draft e-mail:
    the scratch folder of the output folder ``out`` (removed when the run ends)."""
    return scratch.folder(out) / f"reply-{sha256}.xlsx"


def report_from_ledger(ledger: Ledger, row: ReturnRow, path: str | None = None) -> FileReport:
    """A FileReport rebuilt from the ledger (what the JSON report and annotated copy need)."""
    submitted: Any = row.received_at
    return FileReport(path=path or row.source_path, name=row.name, sha256=row.sha256, return_id=row.return_id,
                      version=row.template_version, provider=row.provider, contract=row.contract, period=row.period,
                      period_end=row.period_end, findings=ledger.findings(row.file_id), submitted=submitted,
                      submitted_source=row.submitted_source, deadline=row.deadline,
                      late_working_days=row.late_working_days)


REJECTED_DIR = "rejected"
