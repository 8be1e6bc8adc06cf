"""Working days in England and Wales, for the dates the samples invent (submitted, returned, late)."""

from __future__ import annotations

import datetime as dt

import holidays

_ENG = holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2029))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _ENG


def nth_working_day(year: int, month: int, n: int) -> dt.date:
    day, seen = dt.date(year, month, 1), 0
    while True:
        if is_working_day(day):
            seen += 1
            if seen == n:
                return day
        day += dt.timedelta(days=1)


def working_days_after(start: dt.date, end: dt.date) -> int:
    """Working days d with start < d <= end (England and Wales)."""
    return sum(is_working_day(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def working_days_in(year: int, month: int) -> list[dt.date]:
    day, out = dt.date(year, month, 1), []
    while day.month == month:
        if is_working_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out




def nth_working_day_after(period_end: dt.date, n: int) -> dt.date:
    """The ``n``th working day of the month after the one ``period_end`` falls in."""
    return nth_working_day(*next_month(period_end.year, period_end.month), n)


def minus_working_days(day: dt.date, n: int) -> dt.date:
    while n:
        day -= dt.timedelta(days=1)
        n -= is_working_day(day)
    return day
