"""Reporting periods: the one module that knows the period kinds.

A return's ``[period]`` table names its kind and the month its contract year starts in
(``year_start_month``, April unless the spec says otherwise, KPD 16):

* ``month``: one date field on the header gives the calendar month ("2026-10").
* ``contract_quarter``: a contract year ("2026-27") and a quarter ("Q1".."Q4"); quarters
  count from the year-start month ("2026-27 Q2" is July to September with an April start).
* ``contract_year``: a contract year alone ("2026-27"): twelve months from the year-start
  month (a yearly return, e.g. the AtW yearly MI of AtW 7.26). Written as a ``year_field``
  ("2026-27"), or as a ``month_field``, the year's first month: then the file itself says where
  its year starts, and ``year_start = "service_start"`` says that each contract's year starts in
  the month of its Service Start Date in the providers register (``for_service_start``).

Everything else asks here: parsing a label typed on the command line or read from the
header, the first and last day, the months covered, the contract year a day falls in, and
which calendar month a grid column holds. A period is a ``Period`` (label, first day, last
day); it unpacks as a tuple, so ``label, start, end = period`` works.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field as PydField, model_validator

from .constants import plausible_year

PeriodKind = Literal["month", "contract_quarter", "contract_year"]
_CONTRACT_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


class Period(NamedTuple):
    label: str  # "2026-10", "2026-27 Q2" or "2026-27"
    start: dt.date
    end: dt.date

    @property
    def end_month(self) -> str:
        """'YYYY-MM' of the period's last month."""
        return f"{self.end:%Y-%m}"

    @property
    def months(self) -> list[str]:
        """The calendar months covered, 'YYYY-MM', in order."""
        first, last = month_index(f"{self.start:%Y-%m}"), month_index(self.end_month)
        return [month_at(i) for i in range(first, last + 1)]


# -- months and days as text ------------------------------------------------------------------
# The shapes of a month and a day written as text live here and nowhere else (issue 21 item 5: a
# contract year "2025-26" has the shape YYYY-NN too, so "is this a month" is this module's question).
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"  # for pydantic's Field(pattern=...)
ISO_DAY = r"\d{4}-\d{2}-\d{2}"  # a day written YYYY-MM-DD, to match whole or inside other text
_MONTH_FORM = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def is_month(text: Any) -> bool:
    """Whether ``text`` is a calendar month written YYYY-MM ('2026-10'); a contract year ('2025-26') is not."""
    return isinstance(text, str) and _MONTH_FORM.fullmatch(text) is not None


def month_title(ym: str) -> str:
    """'2026-09' -> 'September 2026'."""
    return f"{calendar.month_name[int(ym[5:7])]} {int(ym[:4])}"


def period_title(label: Any) -> str:
    """A period as a person reads it in a sentence: a month '2026-10' -> 'October 2026'; a quarter
    ('2026-27 Q2') or contract year ('2026-27') is already words and stays as it is (issue 19 item 20)."""
    text = "" if label is None else str(label)
    return month_title(text) if _MONTH_FORM.fullmatch(text) else text


def month_index(ym: str) -> int:
    """'2026-09' -> a month count (year * 12 + month - 1), for arithmetic on months; ValueError for anything
    that is not a month written YYYY-MM."""
    if not isinstance(ym, str) or not _MONTH_FORM.fullmatch(ym):
        raise ValueError(f"'{ym}' is not a month in the form YYYY-MM")
    return int(ym[:4]) * 12 + int(ym[5:7]) - 1


def months_title(first: str, last: str) -> str:
    """A run of months in words: 'October 2026', 'July to September 2026', 'December 2025 to February 2026'."""
    if first == last:
        return month_title(last)
    if month_index(first) // 12 == month_index(last) // 12:
        return f"{calendar.month_name[month_index(first) % 12 + 1]} to {month_title(last)}"
    return f"{month_title(first)} to {month_title(last)}"


def month_at(index: int) -> str:
    """The inverse of ``month_index``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_month(ym: str) -> str:
    return month_at(month_index(ym) - 1)


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def contract_year_label(first_year: int) -> str:
    """2026 -> '2026-27'."""
    return f"{first_year}-{(first_year + 1) % 100:02d}"


def parse_contract_year(text: Any) -> int | None:
    """'2026-27' -> 2026; None unless two consecutive years in that form that a calendar can hold
    ('0000-01' and '9999-00' cannot be; whether a return can mean them is ``plausible_period``'s question)."""
    first = written_contract_year(text)
    return first if first is not None and 1 <= first < dt.MAXYEAR else None


def written_contract_year(text: Any) -> int | None:
    """The first year of a contract year written as two consecutive years ('2026-27' -> 2026), any year."""
    m = _CONTRACT_YEAR.match(str(text).strip()) if text is not None else None
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        return None
    return int(m[1])


def plausible_period(period: Period) -> bool:
    """Whether the period lies within the years a return can mean (spec.constants PLAUSIBLE_YEARS)."""
    return plausible_year(period.start.year) and plausible_year(period.end.year)


# -- the period of one figure -----------------------------------------------------------------
_LENGTH = {"month": 1, "contract_quarter": 3, "contract_year": 12}


class ValuePeriod(NamedTuple):
    """The period one figure covers, as the ledger stores it: kind ('' when unknown), label, and its
    first and last months ('YYYY-MM')."""

    kind: str
    label: str
    first_month: str
    last_month: str

    @property
    def heading(self) -> str:
        return period_heading(self.kind, self.label)


NO_PERIOD = ValuePeriod("", "", "", "")


def value_period(month: str | None, kind: str | None, label: str | None, end: dt.date | None) -> ValuePeriod:
    """The period a figure covers: its month column's month (a KPD grid), else its return's period of
    ``kind`` ending on ``end`` (a quarterly or yearly return's figure covers the quarter or the year)."""
    if month:
        return ValuePeriod("month", month, month, month)
    if not label or end is None:
        return NO_PERIOD
    kind = kind if kind in _LENGTH else kind_of(label, end)
    if kind is None:
        return NO_PERIOD
    last = f"{end:%Y-%m}"
    return ValuePeriod(kind, str(label), month_at(month_index(last) - _LENGTH[kind] + 1), last)


def kind_of(label: Any, end: dt.date | None) -> str | None:
    """The kind of a period known only by its label and last day (a ledger written before the kind was
    stored): a month's label is its last day's month ('2011-12' ending 2011-12-31), so a contract year
    written the same way ('2011-12' ending 2012-03-31) is told apart by its end."""
    text = "" if label is None else str(label).strip()
    if end is not None and text == f"{end:%Y-%m}":
        return "month"
    if parse_label("contract_quarter", text) is not None:
        return "contract_quarter"
    return "contract_year" if parse_contract_year(text) is not None else None


def period_heading(kind: str, label: str) -> str:
    """A period heading a row or a column: 'October 2026', '2026-27 Q2', 'Contract year 2025-26'."""
    if kind == "month" and is_month(label):
        return month_title(label)
    return f"Contract year {label}" if kind == "contract_year" else str(label)


def axis_parts(heading: str) -> tuple[str, str]:
    """A quarter's or a year's heading (``period_heading``) as a chart's axis writes it, in two short lines:
    ('Q2', '2026-27') for '2026-27 Q2', ('2025-26', '') for 'Contract year 2025-26'."""
    year, _, quarter = heading.rpartition(" ")
    if year and re.fullmatch(r"Q[1-4]", quarter):
        return quarter, year
    return heading.removeprefix("Contract year "), ""


# -- periods of a kind, without a spec -------------------------------------------------------------
def period_of(kind: str, day: dt.date, year_start_month: int = 4) -> Period:
    """The period of ``kind`` holding ``day``, contract years starting in ``year_start_month``."""
    return _bare(kind, year_start_month).containing(day)


def parse_label(kind: str, label: str, year_start_month: int = 4) -> Period | None:
    """A label of ``kind`` ('2026-10', '2026-27 Q2', '2026-27'); None if not of that kind."""
    return _bare(kind, year_start_month).parse(label)


def parse_any(label: str, year_start_month: int = 4) -> Period | None:
    """A label of whichever kind it is written as (month, then quarter, then contract year)."""
    for kind in ("month", "contract_quarter", "contract_year"):
        found = parse_label(kind, label, year_start_month)
        if found:
            return found
    return None


def _bare(kind: str, year_start_month: int) -> "PeriodSpec":
    """A period spec with placeholder header fields: for arithmetic on labels and days only."""
    return PeriodSpec(kind=kind, month_field="month", year_field="year", quarter_field="quarter",
                      year_start_month=year_start_month)


# -- the [period] table -----------------------------------------------------------------------
_NEEDS = {"month": ("month_field",), "contract_quarter": ("year_field", "quarter_field"),
          "contract_year": ("year_field",)}
_EXAMPLE = {"month": "2026-10", "contract_quarter": "2026-27 Q2", "contract_year": "2026-27"}
_FORM = {"month": "a month: write it as year and month, for example 2026-10",
         "contract_quarter": "a contract year and quarter: write it like 2026-27 Q2",
         "contract_year": "a contract year: write it like 2026-27"}


class PeriodSpec(BaseModel):
    """How the reporting period is read from the header, and what a period of this return is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PeriodKind
    month_field: str | None = None
    year_field: str | None = None
    quarter_field: str | None = None
    year_start_month: int = PydField(default=4, ge=1, le=12)
    months_column_set: str | None = None  # grid columns that are calendar months
    # "service_start": each contract's year starts in its Service Start Date's month (the providers
    # register), not in year_start_month: a contract_year read from its first month (month_field).
    year_start: Literal["service_start"] | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> "PeriodSpec":
        needs = ("month_field",) if self.year_start or self._year_from_month else _NEEDS[self.kind]
        missing = [key for key in needs if not getattr(self, key)]
        if missing:
            raise ValueError(f"a {self.kind} period needs '{missing[0]}' (the header field that holds it)")
        if self.year_start and (self.kind != "contract_year" or self.year_field):
            raise ValueError(f"year_start = \"{self.year_start}\" is for a contract_year period read from its first "
                             f"month (month_field), not a {self.kind} with a year_field" if self.year_field else
                             f"year_start = \"{self.year_start}\" is for a contract_year period, not a {self.kind}")
        return self

    @property
    def _year_from_month(self) -> bool:
        """A contract year read from its first month (a date field), not from '2026-27'."""
        return self.kind == "contract_year" and bool(self.month_field) and not self.year_field

    def for_service_start(self, service_start: str | None) -> "PeriodSpec":
        """This period kind for a contract whose Service Start Date is in ``service_start`` ('YYYY-MM'):
        with ``year_start = "service_start"`` its contract years start in that month; otherwise unchanged."""
        if not self.year_start or not isinstance(service_start, str) or not _MONTH_FORM.fullmatch(service_start):
            return self
        return self.model_copy(update={"year_start_month": int(service_start[5:7])})

    # -- what kind of period ----------------------------------------------------------------
    @property
    def monthly(self) -> bool:
        return self.kind == "month"

    @property
    def spans_contract_year(self) -> bool:
        """True when month columns run over the contract year and the period ends part way
        (a quarter): months after the period's end must stay empty."""
        return self.kind == "contract_quarter"

    @property
    def example(self) -> str:
        """A label of this kind, for messages: '2026-10', '2026-27 Q2' or '2026-27'."""
        return _EXAMPLE[self.kind]

    @property
    def noun(self) -> str:
        return {"month": "month", "contract_quarter": "quarter", "contract_year": "contract year"}[self.kind]

    @property
    def cadence(self) -> str:
        """How often the return is made, for the template's cover sheet."""
        return {
            "month": "Make one return for each calendar month.",
            "contract_quarter": "Make one return each quarter, with figures for each month of the contract year "
                                "up to the end of the quarter.",
            "contract_year": "Make one return for each contract year.",
        }[self.kind]

    @property
    def header_fields(self) -> list[str]:
        """The header fields that hold the period, most specific first."""
        return [f for f in (self.quarter_field, self.month_field, self.year_field) if f]

    # -- contract years -----------------------------------------------------------------------
    def contract_year_first(self, day: dt.date) -> int:
        """The calendar year in which the contract year holding ``day`` starts."""
        return day.year - (1 if day.month < self.year_start_month else 0)

    def contract_year_start(self, day: dt.date) -> dt.date:
        return dt.date(self.contract_year_first(day), self.year_start_month, 1)

    def _months_from_year_start(self, first_year: int, offset: int, length: int) -> tuple[dt.date, dt.date]:
        start = month_index(f"{first_year:04d}-{self.year_start_month:02d}") + offset
        end = month_at(start + length - 1)
        first = month_at(start)
        return dt.date(int(first[:4]), int(first[5:]), 1), month_end(int(end[:4]), int(end[5:]))

    # -- building periods ---------------------------------------------------------------------
    def from_header(self, *, month: Any = None, year: Any = None, quarter: Any = None) -> Period | None:
        """The period the header gives (a date for a month; text for year and quarter); None
        when the header does not give one of this kind."""
        if self.kind == "month" or self._year_from_month:
            if not isinstance(month, dt.date):
                return None
            start = dt.date(month.year, month.month, 1)
            if self.kind == "contract_year":  # twelve months from the month the header gives
                last = month_at(month_index(f"{start:%Y-%m}") + 11)
                return Period(contract_year_label(start.year), start, month_end(int(last[:4]), int(last[5:])))
            return Period(f"{start:%Y-%m}", start, month_end(start.year, start.month))
        first = parse_contract_year(year)
        if first is None:
            return None
        label = contract_year_label(first)
        if self.kind == "contract_year":
            return Period(label, *self._months_from_year_start(first, 0, 12))
        q = str(quarter).strip().upper() if quarter is not None else ""
        if q not in QUARTERS:
            return None
        return Period(f"{label} {q}", *self._months_from_year_start(first, 3 * QUARTERS.index(q), 3))

    def parse(self, label: str) -> Period | None:
        """A period as users type it ('2026-10', '2026-27 Q2', '2026-27'); None if not this kind."""
        try:
            return self.from_header(**self.header_values(label))
        except ValueError:
            return None

    def header_values(self, label: str) -> dict[str, Any]:
        """Header field id -> value for a period label; ValueError with a plain sentence if it
        is not a period of this kind (used to pre-fill a template)."""
        text = " ".join(str(label).split())
        wrong = ValueError(f"The period '{label}' is not {_FORM[self.kind]}.")
        if self.kind == "month":
            m = _MONTH.fullmatch(text)
            if not m or not 1 <= int(m[2]) <= 12:
                raise wrong
            return {"month": dt.date(int(m[1]), int(m[2]), 1)}
        year, _, quarter = text.partition(" ")
        if parse_contract_year(year) is None or (self.kind == "contract_year") != (quarter == ""):
            raise wrong
        if self.kind == "contract_year":
            if self._year_from_month:  # the year's first month, from year_start_month (or the register's)
                return {"month": dt.date(parse_contract_year(year), self.year_start_month, 1)}
            return {"year": year}
        if quarter.upper() not in QUARTERS:
            raise wrong
        return {"year": year, "quarter": quarter.upper()}

    def header_cells(self, label: str) -> dict[str, Any]:
        """Like ``header_values`` but keyed by the spec's header field ids."""
        roles = {"month": self.month_field, "year": self.year_field, "quarter": self.quarter_field}
        return {roles[role]: value for role, value in self.header_values(label).items()}

    def containing(self, day: dt.date) -> Period:
        """The period of this kind that holds ``day``."""
        if self.kind == "month":
            return self.from_header(month=day)
        if self._year_from_month:
            return self.from_header(month=self.contract_year_start(day))
        first = self.contract_year_first(day)
        quarter = QUARTERS[((day.month - self.year_start_month) % 12) // 3]
        return self.from_header(year=contract_year_label(first), quarter=quarter)

    def ending_on(self, end: dt.date) -> Period:
        """The period of this kind whose last month holds ``end`` (a stored period end): a contract year
        read from its first month started the month after ``end``'s, twelve months before."""
        if self._year_from_month:
            return self.model_copy(update={"year_start_month": end.month % 12 + 1}).containing(end)
        return self.containing(end)

    def following(self, period: Period) -> Period:
        """The next period of this kind."""
        return self.containing(period.end + dt.timedelta(days=1))

    # -- month columns ------------------------------------------------------------------------
    def month_keys(self, period: Period, keys: list[str], months: list[int]) -> dict[str, str]:
        """Grid column key -> 'YYYY-MM', for month columns of the contract year holding ``period``."""
        first_year = self.contract_year_first(period.start)
        return {key: f"{first_year + (1 if m < self.year_start_month else 0):04d}-{m:02d}"
                for key, m in zip(keys, months)}

    def months_after(self, period: Period, keys: list[str], months: list[int]) -> list[str]:
        """The keys of a month grid (calendar month per key) that fall after the period ends."""
        return [k for k, ym in self.month_keys(period, keys, months).items() if ym > period.end_month]

    def in_contract_order(self, months: list[int]) -> bool:
        """Whether month columns run from the year-start month in order."""
        return [(m - self.year_start_month) % 12 for m in months] == list(range(len(months)))
