"""WHP performance by cohort (16.14-16.15, 16.26) and the pipeline Performance Indicators (16.12), worked out by
hand from tests/whp_frames.py as at the end of October 2026 (cohorts to December 2024 have matured)."""

from __future__ import annotations

from whp_frames import starts_frame

from kpd_returns.packs.whp_attention import pi_items, tmpl_items
from kpd_returns.packs.whp_cohorts import LEVEL_NOT_SET, CohortBook
from kpd_returns.spec.whp_config import Levels

LEVELS = Levels(cpa=45.0, disability=50.0, early_entry=None, ltu=None, dda=60.0)


def _book(levels=LEVELS):
    return CohortBook(starts_frame(), "2026-10", levels)


def _cohort(book, group, month):
    return next(c for c in book.figures(group) if c.cohort == month)


def test_december_2024_cohort_by_hand():
    book = _book()
    # P1 outcome on day 639 converts; P2 on day 640 does not; P3 (self-employed) claimed on day 674 converts;
    # P4 (self-employed) has no claim yet; P5 has no outcome: 2 of 5.
    c = _cohort(book, "cpa", "2024-12")
    assert (c.starts, c.outcomes, c.percentage, c.level, c.meets) == (5, 2, 40.0, 45.0, False)
    assert c.matured and c.claims_open  # 700 days from 31 Dec 2024 is 1 Dec 2026
    assert c.status == "matured, self-employed claims still open"
    ltu = _cohort(book, "ltu", "2024-12")  # P2, P4, P5
    assert (ltu.starts, ltu.outcomes, ltu.percentage, ltu.meets, ltu.level_text) == (3, 0, 0.0, None, LEVEL_NOT_SET)
    dda = _cohort(book, "dda", "2024-12")  # P1, P3 live in the DDA
    assert (dda.starts, dda.outcomes, dda.percentage, dda.meets) == (2, 2, 100.0, True)
    assert _cohort(book, "disability", "2024-12").meets is True  # P1: 1 of 1 against 50%


def test_windows_sum_counts_over_matured_cohorts():
    w = {x.window: x for x in _book().windows("cpa")}
    assert (w["in_month"].months, w["in_month"].outcomes, w["in_month"].starts, w["in_month"].percentage) == \
        (["2024-12"], 2, 5, 40.0)
    # Rolling 3 is clipped at the first cohort (November 2024: P6, converted): 3 of 6.
    assert (w["rolling_3"].months, w["rolling_3"].outcomes, w["rolling_3"].starts, w["rolling_3"].percentage) == \
        (["2024-11", "2024-12"], 3, 6, 50.0)
    assert w["cumulative"].percentage == 50.0 and w["cumulative"].meets is True


def test_level_not_set_is_never_invented():
    book = _book(Levels())
    assert all(c.level is None and c.meets is None and c.level_text == "level not set"
               for g in ("cpa", "ltu", "dda") for c in book.figures(g))
    assert all(w.level is None and w.meets is None for w in book.windows("cpa"))
    assert tmpl_items("P", "WHP-CPA-03", book.windows("cpa")) == []
    assert pi_items("P", "WHP-CPA-03", "cpa", None, book.projections("cpa")) == []


def test_in_progress_cohort_shows_its_pipeline_against_earlier_cohorts():
    book = _book()
    jan = _cohort(book, "cpa", "2025-01")
    assert (jan.matured, jan.percentage, jan.status) == (False, None, "in progress")
    pipe = {p.cohort: p for p in book.pipeline("cpa", "earnings_start_date")}
    # January 2025 (age 21 months): P7 has earnings, P8 not: 1 of 2. Earlier cohorts (P1-P6) by age 21: P1, P3,
    # P4, P6: 4 of 6.
    p = pipe["2025-01"]
    assert (p.age, p.count, p.starts, p.percentage, p.earlier_count, p.earlier_starts, p.earlier_percentage) == \
        (21, 1, 2, 50.0, 4, 6, 66.7)
    # September 2026 (age 1): P9 1 of 1; earlier cohorts (P1-P8) by age 1: P1 (Dec 24 -> Jan 25), P6: 2 of 8.
    s = pipe["2026-09"]
    assert (s.count, s.starts, s.earlier_count, s.earlier_starts, s.earlier_percentage) == (1, 1, 2, 8, 25.0)
    m1000 = {p.cohort: p for p in book.pipeline("cpa", "milestone_1000_date")}["2025-01"]
    assert (m1000.count, m1000.earlier_count) == (1, 2)  # P7; P1 and P6


def test_pi_projection_points_to_a_future_failure():
    book = _book()
    proj = {p.cohort: v for p, v in book.projections("cpa")}
    # Matured cohorts: 3 of 6 converted, 4 of 6 had earnings by 21 months; January 2025 has 1 of 2:
    # 50% x (50% / 66.7%) = 37.5%, below the 45% level. September 2026: 50% x (100% / 33.3%) capped at 100%.
    assert proj["2025-01"] == 37.5 and proj["2026-09"] == 100.0
    [item] = pi_items("Pennine Work and Health Ltd", "WHP-CPA-01", "cpa", 45.0, book.projections("cpa"))
    assert item.guidance == "WHP 16.12" and item.kind == "pi" and item.severity == 2
    assert "A Performance Indicator Course of Action Notice may follow." in item.fact
    assert "January 2025: 50.0% with earnings against 66.7%" in item.fact and "projected 37.5%" in item.fact
    assert item.prompt.startswith("Consider adding an action to the contract's Action Plan")


def test_tmpl_item_below_level():
    [item] = tmpl_items("P", "WHP-CPA-02", _book().windows("cpa"))
    # Only the latest matured cohort (40.0%) is below 45%; rolling 3 and cumulative (50.0%) meet it.
    assert item.severity == 3 and item.guidance == "WHP 16.14-16.15, 16.26"
    assert "below its level of 45%: 40.0% latest matured cohort (2 outcomes of 5 starts)" in item.fact
    assert "Action Plan" in item.prompt
