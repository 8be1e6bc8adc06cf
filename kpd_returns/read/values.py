"""Turn a raw cell value into the field's type, or say exactly what was wrong with it.

Nothing is silently coerced: text in a number cell ("12 FTE", "n/a", "1,5")
comes back as a problem carrying the text found. Plain digits stored as text
("12") are accepted, because they mean one thing only.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from typing import Any

from ..spec.return_spec import FieldSpec, PeriodSpec
from .workbook import excel_date

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_QUARTER_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


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
        return float(text)
    return Problem("not-a-number", text)


def _date(raw: Any, date1904: bool) -> Any:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        return Problem("not-a-date", str(raw))
    if isinstance(raw, (int, float)):
        if 1 <= raw < 2958466:  # Excel's valid serial range
            return excel_date(raw, date1904)
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


# ---------------------------------------------------------------- periods


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_from_month(month_date: dt.date) -> tuple[str, dt.date, dt.date]:
    start = month_date.replace(day=1)
    return f"{start:%Y-%m}", start, month_end(start.year, start.month)


def period_from_quarter(period: PeriodSpec, contract_year: str, quarter: str) -> tuple[str, dt.date, dt.date] | None:
    """"2026-27", "Q2" (April start) -> ("2026-27 Q2", 2026-07-01, 2026-09-30)."""
    m = _QUARTER_YEAR.match(contract_year.strip())
    q = quarter.strip().upper()
    if not m or q not in ("Q1", "Q2", "Q3", "Q4"):
        return None
    first_year = int(m.group(1))
    if (first_year + 1) % 100 != int(m.group(2)):
        return None
    offset = (int(q[1]) - 1) * 3
    start_month_index = period.year_start_month - 1 + offset
    sy, sm = first_year + start_month_index // 12, start_month_index % 12 + 1
    end_index = start_month_index + 2
    ey, em = first_year + end_index // 12, end_index % 12 + 1
    return f"{contract_year.strip()} {q}", dt.date(sy, sm, 1), month_end(ey, em)


def parse_period_label(period: PeriodSpec, label: str) -> tuple[str, dt.date, dt.date] | None:
    """A period as users type it on the command line: '2026-10' or '2026-27 Q2'."""
    label = label.strip()
    if period.kind == "month":
        try:
            return period_from_month(dt.date.fromisoformat(label + "-01"))
        except ValueError:
            return None
    year, _, quarter = label.partition(" ")
    return period_from_quarter(period, year, quarter)


def month_keys(period: PeriodSpec, contract_year_first: int, keys: list[str], months: list[int]) -> dict[str, str]:
    """Grid column key -> 'YYYY-MM' for a contract year that starts in ``contract_year_first``."""
    out = {}
    for key, month in zip(keys, months):
        year = contract_year_first + (1 if month < period.year_start_month else 0)
        out[key] = f"{year:04d}-{month:02d}"
    return out
