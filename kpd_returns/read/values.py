"""Turn a raw cell value into the field's type, or say exactly what was wrong with it.

Nothing is silently coerced: text in a number cell ("12 FTE", "n/a", "1,5")
comes back as a problem carrying the text found. Plain digits stored as text
("12") are accepted, because they mean one thing only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from ..spec.constants import plausible_year
from ..spec.return_spec import FieldSpec
from .workbook import excel_date

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class Problem(tuple):
    """(code, found) for a value that cannot be used."""

    __slots__ = ()

    def __new__(cls, code: str, found: Any):
        return super().__new__(cls, (code, found))

    @property
    def code(self) -> str:
        return self[0]

    @property
    def found(self) -> Any:
        return self[1]


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def parse(field: FieldSpec, raw: Any, date1904: bool = False) -> Any:
    """The typed value (float, date, str), None for blank, or a Problem."""
    if is_blank(raw):
        return None
    if field.numeric:
        return _number(raw)
    if field.type == "date":
        return _date(raw, date1904)
    text = _text(raw)
    if field.type == "choice":
        for choice in field.choices or []:
            if choice.casefold() == text.casefold():
                return choice
        return Problem("not-in-list", text)
    return text


def _number(raw: Any) -> Any:
    if isinstance(raw, bool):
        return Problem("not-a-number", "TRUE" if raw else "FALSE")
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):  # a hand-edited <v>NaN</v> or <v>INF</v>: not a figure
            return Problem("not-a-number", str(raw))
        return float(raw)
    if isinstance(raw, (dt.date, dt.datetime)):
        return Problem("not-a-number", raw.isoformat())
    text = str(raw).strip()
    if _PLAIN_NUMBER.match(text):
        value = float(text)  # 400 digits typed as text come to infinity: not a figure either
        return value if math.isfinite(value) else Problem("not-a-number", text)
    return Problem("not-a-number", text)


def _date(raw: Any, date1904: bool) -> Any:
    """A date within the years a return can mean (spec.constants ``PLAUSIBLE_YEARS``); a date outside
    them is a ``date-out-of-range`` problem (31/12/9999 is no submission date, 01/01/0001 no deadline)."""
    value = _any_date(raw, date1904)
    if isinstance(value, dt.date) and not plausible_year(value.year):
        return Problem("date-out-of-range", value)
    return value


def _any_date(raw: Any, date1904: bool) -> Any:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        return Problem("not-a-date", str(raw))
    if isinstance(raw, (int, float)):
        if 1 <= raw < 2958466:  # Excel's valid serial range
            try:
                return excel_date(raw, date1904)
            except OverflowError:  # past 9999 in the 1904 date system
                return Problem("not-a-date", _num_text(raw))
        return Problem("not-a-date", _num_text(raw))
    text = str(raw).strip()
    m = _UK_DATE.match(text)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return dt.date.fromisoformat(text)
    except ValueError:
        return Problem("not-a-date", text)


def _text(raw: Any) -> str:
    if isinstance(raw, float):
        return _num_text(raw)
    if isinstance(raw, (dt.datetime, dt.date)):
        return raw.isoformat()
    return str(raw).strip()


def _num_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


