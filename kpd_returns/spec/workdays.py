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
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .constants import DEFAULT_REGION

REGIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}

_ONE_DAY = dt.timedelta(days=1)


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


def is_working_day(d: dt.date, region: str = DEFAULT_REGION) -> bool:
    """True when ``d`` is a weekday and not a bank holiday in ``region``."""
    subdiv = _subdiv(region)
    if d.weekday() >= 5:
        return False
    return d not in _bank_holidays(subdiv, d.year // 10 * 10)


def next_working_day_on_or_after(d: dt.date, region: str = DEFAULT_REGION) -> dt.date:
    """``d`` itself if it is a working day, otherwise the next working day."""
    while not is_working_day(d, region):
        d += _ONE_DAY
    return d


def add_working_days(d: dt.date, n: int, region: str = DEFAULT_REGION) -> dt.date:
    """The ``n``th working day after ``d`` (``d`` is day 0).

    ``n = 0`` returns ``d`` unchanged, even when ``d`` is not a working day.
    """
    if n < 0:
        raise ValueError(f"The number of working days must be 0 or more, not {n}.")
    _subdiv(region)
    while n > 0:
        d += _ONE_DAY
        if is_working_day(d, region):
            n -= 1
    return d


def working_days_between(start: dt.date, end: dt.date, region: str = DEFAULT_REGION) -> int:
    """How many working days there are after ``start`` up to and including ``end``.

    ``start`` is day 0, so this counts the working days in (start, end]. It is 0
    when ``end`` is on or before ``start`` (never negative). "Late by N working
    days" is ``working_days_between(deadline date, submission date)``.
    """
    _subdiv(region)
    count = 0
    d = start + _ONE_DAY
    while d <= end:
        count += is_working_day(d, region)
        d += _ONE_DAY
    return count
