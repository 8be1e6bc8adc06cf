"""Opening a provider's workbook with openpyxl (full mode) safely, and saving a copy deterministically.

openpyxl is only ever given a file that passes ``preflight``: within the safe
reader's size caps (kpd_returns.read.workbook) and with no DOCTYPE in any XML part,
so neither a zip bomb nor an entity declaration reaches it (openpyxl also uses
defusedxml when it is installed, which it is as a dependency). The zip/XML copy
(``_zipedit``) is given only such files too.

A saved copy is byte-for-byte reproducible: the document properties keep the
original's created/modified times (or a fixed date when it has none), and every
zip entry gets the same fixed timestamp and attributes.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..spec.constants import FIXED_TIME, ZIP_TIME
from ..spec.personal_data import mask_all, mask_formula
from ..read.workbook import MAX_FILE_BYTES, MAX_PART_BYTES, MAX_TOTAL_BYTES, MAX_ZIP_ENTRIES
from ..intake import scratch
from ._links import drop_external_links

_DOCTYPE = re.compile(rb"<!\s*DOCTYPE|<!\s*ENTITY", re.I)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


class CopyError(Exception):
    """A copy of the workbook cannot be made; the message is one plain sentence."""


def preflight(path: Path, label: str) -> None:
    """Refuse a file openpyxl should not be given (see the module notes)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CopyError(f"{label} cannot be opened ({exc.strerror or exc}).") from None
    if size > MAX_FILE_BYTES:
        raise CopyError(f"{label} is too large to copy.")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
                raise CopyError(f"{label} expands to more than a return ever needs, so no copy was made.")
            for info in infos:
                if info.file_size > MAX_PART_BYTES:
                    raise CopyError(f"{label} has a part ({info.filename}) too large to copy.")
                if info.filename.lower().endswith("vbaproject.bin"):
                    raise CopyError(f"{label} contains macros, so no copy was made.")
                if info.filename.lower().endswith(_XML_SUFFIXES):
                    with zf.open(info) as fh:
                        if _DOCTYPE.search(fh.read(MAX_PART_BYTES + 1)):
                            raise CopyError(f"{label} contains XML that is not allowed (a DOCTYPE), so no copy was made.")
    except CopyError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise CopyError(f"{label} is damaged, so no copy was made ({exc}).") from None


def load_full(path: Path, label: str):
    """The workbook in openpyxl's full mode (formulas kept, not cached values)."""
    # openpyxl only on this fallback path: validate --annotate loads it only for files that need it.
    import openpyxl

    preflight(path, label)
    try:
        with warnings.catch_warnings():
            # e.g. "Data Validation extension is not supported and will be removed"
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, data_only=False, keep_vba=False, keep_links=False)
            drop_external_links(wb, path)  # no copy links to another workbook (render._links)
            return wb
    except Exception as exc:  # noqa: BLE001 - any openpyxl failure is one plain sentence
        raise CopyError(f"{label} could not be opened to make a copy ({type(exc).__name__}: {exc}).") from None


def original_times(path: Path, wb) -> tuple[dt.datetime, dt.datetime]:
    """The original's created/modified times if it records them, else FIXED_TIME."""
    try:
        with zipfile.ZipFile(path) as zf:
            has_core = any(n.lower() == "docprops/core.xml" for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        has_core = False
    if not has_core:
        return FIXED_TIME, FIXED_TIME
    created = wb.properties.created or FIXED_TIME
    modified = wb.properties.modified or created
    return created, modified


def check_target(source: Path, out: Path, label: str) -> None:
    """Never write over the provider's own file."""
    try:
        if out.exists() and out.resolve() == source.resolve():
            raise CopyError(f"{out} is the file being checked: give a different name for the copy.")
    except OSError:
        pass
    if out.exists() and out.is_dir():
        raise CopyError(f"{out} is a folder: give a file name for the copy of {label}.")


def save_deterministic(wb, out: Path, created: dt.datetime, modified: dt.datetime,
                       finish: Callable[[bytes], bytes] | None = None) -> None:
    """Save ``wb`` to ``out`` so that the same workbook always gives the same bytes; ``finish`` is
    given the bytes last (``_zipmask.masked_copy``: personal data in every part masked)."""
    from openpyxl.writer.excel import ExcelWriter  # lazily, as in load_full

    wb.properties.created = created
    wb.properties.modified = modified  # openpyxl's save_workbook would set it to now
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # closes the archive
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename), compresslevel=6)
    data = fixed.getvalue()
    write_atomically(out, finish(data) if finish is not None else data)


def write_atomically(out: Path, data: bytes) -> None:
    """Write ``out`` through a temporary file in its folder's scratch folder (kpd_returns.intake.scratch), so a
    reader never sees half a copy and a killed run leaves nothing beside the outputs."""
    out.parent.mkdir(parents=True, exist_ok=True)

    fd, tmp = tempfile.mkstemp(prefix="copy-", suffix=".xlsx", dir=str(scratch.folder(out.parent)))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        scratch.tidy(out.parent)


def mask_cells(wb) -> set[tuple[str, str]]:
    """Every text cell of every sheet holding personal data now holds its masked text, and so do comments,
    formulas' text literals and the document properties: (sheet, cell) of each cell changed."""
    masked = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type == "f":
                    cell.value = mask_formula(cell.value)  # its text literals only: references stay
                elif isinstance(cell.value, str) and (new := mask_all(cell.value)) != cell.value:
                    cell.value = new
                    cell.data_type = "s"  # text, never a formula
                    masked.add((ws.title, cell.coordinate))
                if cell.comment is not None and (note := mask_all(cell.comment.text)) != cell.comment.text:
                    cell.comment.text = note
    props = wb.properties  # the author or title may be a person's e-mail address
    for name in ("creator", "lastModifiedBy", "title", "subject", "description", "keywords", "category"):
        if isinstance(getattr(props, name, None), str):
            setattr(props, name, mask_all(getattr(props, name)))
    return masked
