"""Read an extract (one table: a header line, then one row per case) from .csv or .xlsx.

Every cell comes back as text (None when empty), column by column, so the checks can work on whole
columns (kpd_returns.checks.extract_checks). A .csv is read by pandas' C parser (UTF-8, with or without a
byte-order mark; comma-separated); an .xlsx by python-calamine, its first visible sheet, a date cell
written as ``YYYY-MM-DD``. Anything that is not such a table is ``UnreadableFile`` with a sentence.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from typing import TYPE_CHECKING

from .sheet_xml import UnreadableFile

if TYPE_CHECKING:
    import pandas as pd

# An extract is bigger than any return: a contract's million referrals is about 80 MB of CSV.
MAX_EXTRACT_BYTES = 512 * 1024 * 1024


def header_of(data: bytes, name: str) -> list[str]:
    """The header line's cells, cheaply (the first line of a .csv; the first row of an .xlsx); [] if none."""
    try:
        if name.lower().endswith(".csv"):
            line = data[:65536].decode("utf-8-sig", "replace").splitlines()[:1]
            return next(csv.reader(line), []) if line else []
        return [_text(c) for c in _xlsx_rows(data, limit=1)[1][0]]
    except Exception:  # noqa: BLE001 - not a table: the caller goes on as before
        return []


def csv_problem(exc: Exception) -> str:
    """The parser's complaint about a .csv as a provider reads it, with the file's own row numbers (the header
    line is row 1)."""
    text = " ".join(str(exc).split())
    if (m := re.search(r"EOF inside string starting at row (\d+)", text)):
        return f"a value in quotation marks from row {int(m[1]) + 1} on is never closed: check its quotation marks"
    if (m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)):
        return f"row {m[2]} has {m[3]} values but the header line names {m[1]} columns"
    if "does not match length of data" in text:
        return "its rows have more values than the header line names columns"
    return f"it is not a comma-separated table ({text[:120]})"


def read_table(data: bytes, name: str) -> tuple[pd.DataFrame, str | None]:
    """(every cell as text or None when empty, the sheet's name for an .xlsx, else None); UnreadableFile when
    it cannot be read."""
    # pandas only here, when a table is read: the browser's validator (cli web) has no pandas, and a
    # workbook that is no extract never gets this far.
    import pandas as pd

    if not data.strip():
        raise UnreadableFile("file-empty")
    if len(data) > MAX_EXTRACT_BYTES:
        raise UnreadableFile("file-too-large", f"{len(data) // (1024 * 1024)} MB")
    if name.lower().endswith(".csv"):
        try:
            with warnings.catch_warnings():
                # A row longer than the header line would lose its last values: an error, not a warning.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                # index_col=False: a row one value longer than the header in every row (a comma at the end of
                # each line) is read as it is written, never by taking the first column as the index, which
                # would move every value into the column to its left.
                frame = pd.read_csv(io.BytesIO(data), dtype=object, keep_default_na=False, na_values=[""],
                                    encoding="utf-8-sig", engine="c", index_col=False)
        except UnicodeDecodeError:
            raise UnreadableFile("file-corrupt", "it is not UTF-8 text: save it as CSV UTF-8") from None
        except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, ValueError) as exc:
            raise UnreadableFile("file-corrupt", csv_problem(exc)) from None
        frame.columns = [str(c) for c in frame.columns]
        return frame, None
    try:
        sheet_name, rows = _xlsx_rows(data)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine's own errors: one sentence
        raise UnreadableFile("file-corrupt", " ".join(str(exc).split())[:160]) from None
    header = [_text(c) for c in rows[0]] if rows else []
    body = rows[1:]
    columns = {}
    for j, col in enumerate(header):
        columns[col if col not in columns else f"{col}.{j}"] = [(_text(r[j]) or None) if j < len(r) else None
                                                                for r in body]
    return pd.DataFrame(columns, dtype=object), sheet_name


def _xlsx_rows(data: bytes, limit: int | None = None) -> tuple[str, list[list]]:
    from python_calamine import CalamineWorkbook  # imported here: only extracts in .xlsx need it
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    visible = [m.name for m in book.sheets_metadata if str(m.visible).lower().endswith("visible")
               and "hidden" not in str(m.visible).lower()] or book.sheet_names
    if not visible:
        raise UnreadableFile("file-corrupt", "it has no sheet")
    sheet = book.get_sheet_by_name(visible[0])
    rows = sheet.to_python(skip_empty_area=False, nrows=limit) if limit else sheet.to_python(skip_empty_area=False)
    return visible[0], rows or [[]]


def _text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
