"""WHP Customer Service Standards 1-4 (16.28) by working-day clock: one contract's May and June 2026 worked out
by hand (tests/whp_frames.py gives each referral's 15th and 2nd working day), the bank holidays included, and
the vectorised clock checked against the project's one calendar (spec.workdays) referral by referral."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from whp_frames import referrals_frame

from kpd_returns.packs.whp_css import CssClock, css_breaches, css_figures
from kpd_returns.spec.workdays import add_working_days, working_days_between

REGION = "england-and-wales"


def _by_css(figures):
    return {f.css: f for f in figures}


def test_may_2026_by_hand():
    f = _by_css(css_figures(referrals_frame(), ["2026-05"], REGION))
    # CSS 1a: 15th working day in May: R1, R2, R3, R5, R7, R8 (R4 and R6 fall in June); met R1, R2, R7, R8.
    assert (f["1a"].count, f["1a"].base, f["1a"].percentage, f["1a"].meets) == (4, 6, 66.7, False)
    # CSS 1b: of those four, recorded by the 15th working day: R1, R7, R8 (R2 recorded on day 16).
    assert (f["1b"].count, f["1b"].base, f["1b"].percentage, f["1b"].meets) == (3, 4, 75.0, False)
    # CSS 2: 2nd working day in May: R3, R4, R6, R8; acknowledged in time R4, R6, R8 (R8 on Tue 5 May, day 2).
    assert (f["2"].count, f["2"].base, f["2"].percentage, f["2"].meets) == (3, 4, 75.0, False)
    # CSS 3: held in May: R1-R6 and R8 (R7 was done on 30 Apr); in backlog at Sun 31 May: R5 only
    # (R3's 16th working day is Mon 1 Jun, R4's Tue 2 Jun).
    assert (f["3"].count, f["3"].base, f["3"].percentage, f["3"].meets) == (1, 7, 14.3, False)
    # CSS 4: R5's 26th working day is Thu 21 May, so it has waited more than 25 working days.
    assert (f["4"].count, f["4"].base, f["4"].percentage, f["4"].meets) == (1, 1, None, False)


def test_breaches_listed_by_referral_id():
    frame = referrals_frame()
    clock = CssClock(frame, REGION)
    assert {c: clock.breaches("2026-05", c) for c in ("1a", "1b", "2", "3", "4")} == {
        "1a": ["R3", "R5"], "1b": ["R2"], "2": ["R3"], "3": ["R5"], "4": ["R5"]}
    assert css_breaches(frame, "2026-05", "1a", REGION) == ["R3", "R5"]
    with pytest.raises(ValueError, match="There is no CSS '7'"):
        css_breaches(frame, "2026-05", "7", REGION)


def test_bank_holiday_boundary_moves_a_referral_into_june():
    # R4 (Fri 8 May) has its 15th working day on Mon 1 Jun because of the spring bank holiday (25 May): it is in
    # June's base and its start on 1 Jun is in time. Without the holiday it would be due Fri 29 May, in May's
    # base, and late.
    assert add_working_days(dt.date(2026, 5, 8), 15) == dt.date(2026, 6, 1)
    f = _by_css(css_figures(referrals_frame(), ["2026-06"], REGION))
    assert (f["1a"].count, f["1a"].base, f["1a"].meets) == (2, 2, True)  # R4 and R6
    assert CssClock(referrals_frame(), REGION).breaches("2026-06", "1a") == []
    # R5 is still open at the end of June: in backlog (held: R3, R4, R5; R4 done 1 Jun, R3 and R5 open).
    assert (f["3"].count, f["3"].base) == (2, 3)


def test_base_of_zero_has_no_percentage_and_is_not_judged():
    f = _by_css(css_figures(referrals_frame(), ["2025-01"], REGION))
    assert (f["1a"].base, f["1a"].percentage, f["1a"].meets, f["1a"].figure_text) == (0, None, None, "no referrals due")


def test_vectorised_clock_agrees_with_the_calendar_referral_by_referral():
    rng = np.random.default_rng(7)
    n = 400
    ref = pd.Timestamp("2025-11-20") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    frame = pd.DataFrame({
        "referral_id": [f"X{i}" for i in range(n)], "referral_date": ref,
        "acknowledged_date": ref + pd.to_timedelta(rng.integers(0, 6, n), unit="D"),
        "start_or_fta_date": (ref + pd.to_timedelta(rng.integers(0, 40, n), unit="D")).where(rng.random(n) > .1),
        "recorded_date": ref + pd.to_timedelta(rng.integers(0, 40, n), unit="D")})
    clock = CssClock(frame, REGION)
    month, end = "2026-01", dt.date(2026, 1, 31)
    base = _by_css(clock.figures(month))
    day = lambda v: None if pd.isna(v) else v.date()  # noqa: E731
    rows = [(r.referral_id, r.referral_date.date(), day(r.acknowledged_date), day(r.start_or_fta_date),
             day(r.recorded_date)) for r in frame.itertuples()]
    due15 = [(i, add_working_days(d, 15), a, s, rec, d) for i, d, a, s, rec in rows]
    in_1a = [x for x in due15 if x[1].strftime("%Y-%m") == month]
    met = [x for x in in_1a if x[3] is not None and x[3] <= x[1]]
    assert (base["1a"].base, base["1a"].count) == (len(in_1a), len(met))
    assert base["1b"].count == sum(1 for x in met if x[4] is not None and x[4] <= x[1])
    in_2 = [(i, add_working_days(d, 2), a) for i, d, a, s, rec in rows if add_working_days(d, 2).strftime("%Y-%m") == month]
    assert (base["2"].base, base["2"].count) == (len(in_2), sum(1 for _, due, a in in_2 if a <= due))
    backlog = [i for i, d, a, s, rec in rows if d <= end and (s is None or s > end) and working_days_between(d, end) > 15]
    over25 = [i for i, d, a, s, rec in rows if i in backlog and working_days_between(d, end) > 25]
    assert clock.breaches(month, "3") == sorted(backlog)
    assert clock.breaches(month, "4") == sorted(over25)


def test_the_module_notes_worked_days():
    """The dates in packs/whp_css.py's notes, from the project's one calendar and from the clock."""
    d = dt.date
    assert add_working_days(d(2026, 4, 24), 15) == d(2026, 5, 18)  # May Day skipped
    assert add_working_days(d(2026, 4, 23), 15) == d(2026, 5, 15)
    assert add_working_days(d(2026, 9, 9), 15) == d(2026, 9, 30)  # the day before October's first
    assert add_working_days(d(2026, 9, 10), 15) == d(2026, 10, 1)
    assert add_working_days(d(2026, 10, 9), 15) == d(2026, 10, 30)
    assert add_working_days(d(2026, 10, 11), 15) == d(2026, 10, 30)  # a Sunday
    assert add_working_days(d(2026, 10, 12), 15) == d(2026, 11, 2)  # the day after October's last
    assert add_working_days(d(2026, 9, 21), 16) == d(2026, 10, 13)
    assert add_working_days(d(2026, 9, 15), 26) == d(2026, 10, 21)
    frame = pd.DataFrame({"referral_id": ["A-0001", "A-0002", "A-0003", "A-0004"],
                          "referral_date": pd.to_datetime(["2026-09-09", "2026-09-10", "2026-10-11", "2026-10-12"]),
                          "acknowledged_date": pd.NaT, "start_or_fta_date": pd.NaT, "recorded_date": pd.NaT})
    assert CssClock(frame, REGION).breaches("2026-10", "1a") == ["A-0002", "A-0003"]


def test_windows_sum_counts_over_months():
    """June 2026 from April: 1a is May's 4 of 6 and June's 2 of 2; 1b May's 3 of 4 and June's 2 of 2 (R4 recorded
    on its 15th working day, Mon 1 Jun); 2 is April's 4 of 4 (R1, R2, R5, R7) and May's 3 of 4, none in June."""
    got = {(w.css, w.window): (w.count, w.base, w.percentage, w.meets)
           for w in CssClock(referrals_frame(), REGION).windows("2026-06", "2026-04")}
    assert got[("1a", "rolling_3")] == (6, 8, 75.0, False)
    assert got[("1a", "in_month")] == (2, 2, 100.0, True)
    assert got[("1b", "cumulative")] == (5, 6, 83.3, False)
    assert got[("2", "rolling_3")] == (7, 8, 87.5, False)
    assert got[("2", "in_month")] == (0, 0, None, None)
    assert got[("2", "rolling_12")] == got[("2", "cumulative")] == (7, 8, 87.5, False)  # clipped at April
