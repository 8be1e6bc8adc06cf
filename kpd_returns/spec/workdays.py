"""UK working days, for deadlines and lateness.

How days are counted:

* A **working day** is Monday to Friday and not a bank holiday of the region's
  division of the UK (England and Wales, Scotland or Northern Ireland), as the
  ``holidays`` package lists them, one-off holidays and substitute days included.
* Counting starts the day **after** the trigger: the trigger day (for example the
  last day of a reporting period, or a deadline) is day 0, whatever it is.
  So the 3rd working day after Sat 31 October 2026 is Wed 4 November 2026
  (Mon 2 = 1, Tue 3 = 2, Wed 4 = 3).

``holidays`` is always asked for a subdivision: without one it leaves out
Easter Monday and the late August holiday in England. It lists the nominal
weekend date of a holiday as well as its weekday substitute; weekends are never
working days, so both are simply skipped.

Bank holidays are looked up only within the years a return can mean
(``spec.constants.PLAUSIBLE_YEARS``, 2000 to 2100): outside them every weekday counts as a
working day. Dates outside those years are findings before they reach here, so this only keeps
a stray date from loading centuries of holidays. Every count is constant time per pair of dates
(issue 19: a list of 200 rows dated 1900 to 9999 was counted one day at a time).
"""

from __future__ import annotations

import datetime as dt
import os
from bisect import bisect_right
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .constants import DEFAULT_REGION, PLAUSIBLE_YEARS, plausible_year

REGIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}

_ONE_DAY = dt.timedelta(days=1)
_WALK = 40  # add_working_days walks up to this many working days, and halves the range beyond


def _subdiv(region: str) -> str:
    try:
        return REGIONS[region]
    except KeyError:
        raise ValueError(
            f"There is no region '{region}': use one of {', '.join(REGIONS)}."
        ) from None


@lru_cache(maxsize=None)
def _bank_holidays(subdiv: str, decade: int) -> frozenset[dt.date]:
    """The division's bank holidays for the ten years starting ``decade`` (built once).

    Loading ``holidays``' country table costs about 0.15 s, most of a one-file validate's
    own work, so the dates are also kept in a small cache file per holidays version
    (``$XDG_CACHE_HOME/kpd-returns``, else ``~/.cache/kpd-returns``). The package stays
    the only source: a new version of it gets a new cache file.
    """
    cache = _cache_file(subdiv, decade)
    if cache is not None:
        try:
            return frozenset(dt.date.fromisoformat(line) for line in cache.read_text().split())
        except (OSError, ValueError):
            pass
    import holidays  # only when the cache has not got this decade: the package takes a while to load

    days = frozenset(holidays.country_holidays("GB", subdiv=subdiv, years=range(decade, decade + 10), expand=False))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text("\n".join(sorted(d.isoformat() for d in days)) + "\n")
            tmp.replace(cache)
        except OSError:
            pass  # an unwritable cache only costs time
    return days


def _cache_file(subdiv: str, decade: int) -> Path | None:
    try:
        version = metadata.version("holidays")
    except metadata.PackageNotFoundError:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kpd-returns" / f"bank-holidays-{version}-{subdiv}-{decade}.txt"


@lru_cache(maxsize=None)
def _holiday_ordinals(subdiv: str, decade: int) -> tuple[int, ...]:
    """The weekday bank holidays of a decade within the years a return can mean, as sorted ordinals."""
    return tuple(sorted(d.toordinal() for d in _bank_holidays(subdiv, decade)
                        if d.weekday() < 5 and plausible_year(d.year)))


def _weekdays_upto(ordinal: int) -> int:
    """Mondays to Fridays from 1 January of year 1 (a Monday, ordinal 1) up to ``ordinal``, inclusive."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _holidays_in(subdiv: str, after: int, upto: int) -> int:
    """Weekday bank holidays with ordinals in (after, upto], in the years a return can mean only."""
    first = max(dt.date.fromordinal(max(after, 1)).year, PLAUSIBLE_YEARS[0])
    last = min(dt.date.fromordinal(upto).year, PLAUSIBLE_YEARS[1])
    count = 0
    for decade in range(first // 10 * 10, last // 10 * 10 + 1, 10):
        days = _holiday_ordinals(subdiv, decade)
        count += bisect_right(days, upto) - bisect_right(days, after)
    return count


def is_working_day(d: dt.date, region: str = DEFAULT_REGION) -> bool:
    """True when ``d`` is a weekday and not a bank holiday in ``region``."""
    subdiv = _subdiv(region)
    if d.weekday() >= 5:
        return False
    if not plausible_year(d.year):
        return True  # no bank holidays are looked up outside the years a return can mean (see the notes)
    return d not in _bank_holidays(subdiv, d.year // 10 * 10)


def next_working_day_on_or_after(d: dt.date, region: str = DEFAULT_REGION) -> dt.date:
    """``d`` itself if it is a working day, otherwise the next working day (a few steps at most)."""
    while not is_working_day(d, region):
        d += _ONE_DAY
    return d


def add_working_days(d: dt.date, n: int, region: str = DEFAULT_REGION) -> dt.date:
    """The ``n``th working day after ``d`` (``d`` is day 0).

    ``n = 0`` returns ``d`` unchanged, even when ``d`` is not a working day. Up to ``_WALK`` working
    days are walked a day at a time (a bounded few steps); beyond, found by halving the calendar days it
    can lie within (``working_days_between`` is constant time), so any ``n`` costs a few dozen steps.
    ValueError if it would fall after 31 December 9999.
    """
    if n < 0:
        raise ValueError(f"The number of working days must be 0 or more, not {n}.")
    _subdiv(region)
    if n <= _WALK:  # a deadline's few days: walked, at most about 1.4 n + a week of steps
        try:
            while n > 0:
                d += _ONE_DAY
                n -= is_working_day(d, region)
        except OverflowError:
            raise ValueError(f"The working day asked for after {d.isoformat()} is beyond the calendar.") from None
        return d
    start = d.toordinal()
    # n working days need at most 7n/5 calendar days plus the bank holidays among them.
    lo, hi = start + 1, min(start + 2 * n + 30, dt.date.max.toordinal())
    if working_days_between(d, dt.date.fromordinal(hi), region) < n:
        raise ValueError(f"The {n}th working day after {d.isoformat()} is beyond the calendar.")
    while lo < hi:  # the first day by which n working days have passed: itself a working day
        mid = (lo + hi) // 2
        if working_days_between(d, dt.date.fromordinal(mid), region) >= n:
            hi = mid
        else:
            lo = mid + 1
    return dt.date.fromordinal(lo)


def working_days_between(start: dt.date, end: dt.date, region: str = DEFAULT_REGION) -> int:
    """How many working days there are after ``start`` up to and including ``end``.

    ``start`` is day 0, so this counts the working days in (start, end]. It is 0
    when ``end`` is on or before ``start`` (never negative). "Late by N working
    days" is ``working_days_between(deadline date, submission date)``. Constant time
    for any two dates: weekdays by arithmetic, less the bank holidays found by bisection.
    """
    subdiv = _subdiv(region)
    if end <= start:
        return 0
    a, b = start.toordinal(), end.toordinal()
    return _weekdays_upto(b) - _weekdays_upto(a) - _holidays_in(subdiv, a, b)


def bank_holidays(region: str, first_year: int, last_year: int) -> tuple[dt.date, ...]:
    """The region's weekday bank holidays from ``first_year`` to ``last_year`` inclusive, sorted: the same
    list every count here uses, for vectorised counts (``numpy.busday_count(..., holidays=...)``) that
    must agree with ``working_days_between`` (the WHP standards, packs.whp_css)."""
    subdiv = _subdiv(region)
    first, last = max(first_year, PLAUSIBLE_YEARS[0]), min(last_year, PLAUSIBLE_YEARS[1])
    days: list[dt.date] = []
    for decade in range(first // 10 * 10, last // 10 * 10 + 1, 10):
        days += [d for o in _holiday_ordinals(subdiv, decade) if first <= (d := dt.date.fromordinal(o)).year <= last]
    return tuple(days)
