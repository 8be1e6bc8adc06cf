"""An input that is an extract (spec/extract_spec.py): read it, recognise its spec by the key column its
header names, and check it (checks.extract_checks). Used by checks.batch.prepare for every .csv, and
for an .xlsx that is not a kpd-returns template."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..read.sheet_xml import UnreadableFile
from ..read.table import MAX_EXTRACT_BYTES, header_of, read_table
from ..spec import findings as F
from ..spec.extract_spec import load_extracts, recognise_header
from ..spec.model import FileReport
from ..read.workbook import os_reason


def _bytes(source: Any, label: str) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    path = Path(source)
    try:
        if not path.exists():
            raise UnreadableFile("file-not-found")
        if path.stat().st_size > MAX_EXTRACT_BYTES:
            raise UnreadableFile("file-too-large", f"{path.stat().st_size // (1024 * 1024)} MB")
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFile("file-unreadable", os_reason(exc, path)) from None


def extract_report(source: Any, path: str, label: str, *, only_if_known: bool = False) -> FileReport | None:
    """The report of ``source`` read as an extract; None when ``only_if_known`` and its header names no
    extract (the caller's own findings stand). Never raises for a bad file."""
    sha = None
    try:
        data = _bytes(source, label)
        sha = hashlib.sha256(data).hexdigest()
        specs = load_extracts()
        spec = recognise_header(header_of(data, label), specs)
        if spec is None:
            if only_if_known:
                return None
            keys = " or ".join(sorted({s.key_column for s in specs.values()})) or "a known key column"
            return FileReport(path=path, name=label, sha256=sha,
                              findings=[F.make("extract-unknown", file=label, expected=keys)])
        # The extract checks need pandas and numpy, imported only once a header names an extract: the
        # browser's validator (no pandas) passes every other file through here.
        from .extract_checks import check_extract

        raw, sheet = read_table(data, label)
        return check_extract(raw, spec, path=path, name=label, sha256=sha, sheet=sheet)
    except UnreadableFile as exc:
        return FileReport(path=path, name=label, sha256=sha, findings=[F.make(exc.code, file=label, detail=exc.detail)])
