"""Working-day arithmetic in constant time per pair (issue 19 item 5), with results identical to the
day-by-day counting it replaced for every date a return can mean (spec.constants PLAUSIBLE_YEARS),
bank-holiday one-offs included (FIELD-NOTES "UK working days")."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest

from kpd_returns.spec.constants import PLAUSIBLE_YEARS
from kpd_returns.spec.workdays import (  # noqa: PLC2701 (the old code's holiday table, as the reference)
    REGIONS,
    _bank_holidays,
    add_working_days,
    is_working_day,
    next_working_day_on_or_after,
    working_days_between,
)

D = dt.date.fromisoformat
ONE = dt.timedelta(days=1)
ONE_OFFS = ["2020-05-08", "2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08", "2026-06-15"]


# -- the day-by-day counting as it was before issue 19, kept here as the reference --------------
def old_is_working_day(d: dt.date, region: str) -> bool:
    return d.weekday() < 5 and d not in _bank_holidays(REGIONS[region], d.year // 10 * 10)


def old_between(start: dt.date, end: dt.date, region: str) -> int:
    count, d = 0, start + ONE
    while d <= end:
        count += old_is_working_day(d, region)
        d += ONE
    return count


def old_add(d: dt.date, n: int, region: str) -> dt.date:
    while n > 0:
        d += ONE
        if old_is_working_day(d, region):
            n -= 1
    return d


def _pairs() -> list[tuple[dt.date, dt.date]]:
    """Pairs around every one-off and Christmas and Easter, and random pairs over the plausible years."""
    rng = random.Random(19)
    anchors = [D(x) for x in ONE_OFFS] + [dt.date(y, 12, 24) for y in (2000, 2021, 2022, 2026, 2099)] + \
        [D("2026-04-02"), D("2000-01-01"), D(f"{PLAUSIBLE_YEARS[1]}-12-20")]
    pairs = []
    for a in anchors:
        for before in (0, 1, 3, 7):
            for span in (0, 1, 2, 5, 9, 16, 40):
                start = max(a - dt.timedelta(days=before), dt.date(PLAUSIBLE_YEARS[0], 1, 1))
                pairs.append((start, min(start + dt.timedelta(days=span), dt.date(PLAUSIBLE_YEARS[1], 12, 31))))
    first, last = dt.date(PLAUSIBLE_YEARS[0], 1, 1).toordinal(), dt.date(PLAUSIBLE_YEARS[1], 12, 31).toordinal()
    for _ in range(150):
        a = rng.randint(first, last - 1)
        pairs.append((dt.date.fromordinal(a), dt.date.fromordinal(min(last, a + rng.randint(0, 900)))))
    pairs.append((dt.date.fromordinal(first), dt.date.fromordinal(last)))
    return pairs


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_counts_match_the_day_by_day_count_for_every_pair(region):
    for start, end in _pairs():
        assert working_days_between(start, end, region) == old_between(start, end, region), (start, end)
        assert working_days_between(end, start, region) == 0


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_adding_working_days_matches_the_day_by_day_walk(region):
    rng = random.Random(5)
    starts = [D(x) - dt.timedelta(days=k) for x in ONE_OFFS for k in range(0, 6)]
    starts += [dt.date(y, 12, 20 + k) for y in (2021, 2022, 2026) for k in range(0, 8)]
    for start in starts:
        for n in (0, 1, 2, 3, 5, 10, 15, 23):
            assert add_working_days(start, n, region) == old_add(start, n, region), (start, n)
    for _ in range(40):
        start = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 36000))
        n = rng.randint(1, 366)
        assert add_working_days(start, n, region) == old_add(start, n, region), (start, n)
    for x in ONE_OFFS:
        d = D(x)
        assert next_working_day_on_or_after(d, region) == old_add(d - ONE, 1, region)


def test_a_pair_a_thousand_years_apart_takes_no_time():
    """The MMIR list of 200 rows dated 1900 to 9999 did not finish in 300 s: now a pair is a few lookups."""
    began = time.perf_counter()
    for k in range(200):
        working_days_between(dt.date(1900, 1, 1 + k % 28), dt.date(9999, 12, 31))
        working_days_between(dt.date(1, 1, 1), dt.date(9999, 12, 31 - k % 28), "scotland")
    add_working_days(dt.date(2000, 1, 1), 36000)
    assert time.perf_counter() - began < 2.0
    # Outside the years a return can mean only weekends are skipped: 1900 and 9999 are not looked up.
    assert working_days_between(dt.date(1900, 1, 1), dt.date(1900, 1, 8)) == 5
    with pytest.raises(ValueError):
        add_working_days(dt.date(9999, 12, 30), 5)
