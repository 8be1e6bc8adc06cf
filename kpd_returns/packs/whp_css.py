"""Customer Service Standards 1-4 of the Work and Health Programme (WHP 16.28), by working-day clock.

Computed from the referrals extract (field ids in /work/coord/TEAM.md: referral_id, referral_date,
acknowledged_date, start_or_fta_date, recorded_date), one contract at a time, vectorised with numpy: each
referral's clocks are worked out once (``numpy.busday_offset`` / ``busday_count`` with the contract region's
bank holidays from ``spec.workdays.bank_holidays``, the project's one calendar), then each month is a few
boolean masks. Days are counted as everywhere in the project: the referral date is day 0 and "within N
working days" means on or before the Nth working day after it (``workdays.working_days_between <= N``).

Which referrals make a month's base (report month M, month end E):

* **CSS 1a** (99%): the referrals whose 15-working-day clock ends in M (the 15th working day after the
  referral falls in M), so every referral in the base has had its full 15 days by the month end and the
  month's figure never changes later. Met: a start or failure to attend dated on or before that day.
* **CSS 1b** (99%): the referrals that met CSS 1a in M ("the Participant Starts or failures to attend
  referred to in CSS 1(a)"). Met: recorded on PRaP on or before the 15th working day after the referral.
* **CSS 2** (99.5%): the referrals whose 2-working-day clock ends in M. Met: acknowledged on PRaP on or
  before the 2nd working day after the referral.
* **CSS 3** (no more than 4%): the base is the referrals the provider held in M: referred on or before E and
  not started or failed to attend before the 1st of M. In backlog: no start or failure to attend by E and more
  than 15 working days from the referral to E (the 16th working day after the referral is on or before E).
* **CSS 4** (none): the referrals in backlog at E (CSS 3's count) are its base; a breach is one with more than
  25 working days from the referral to E. The standard is met when the count is 0.

Worked figures (England and Wales; tests/test_whp_css.py recomputes them):
Fri 24 Apr 2026 is day 0 of a referral; May Day (Mon 4 May 2026) is not a working day, so its 15th working
day is Mon 18 May 2026, not Fri 15 May (which it would be without the bank holiday). A referral on Thu 23
Apr 2026 has its 15th working day on Fri 15 May. For October 2026: the referrals whose 15-day clock ends in
October are those referred from Thu 10 Sep to Sun 11 Oct 2026 (the 15th working day after Thu 10 Sep is
Thu 1 Oct, after Wed 9 Sep Wed 30 Sep; after Fri 9 Oct, Sat 10 or Sun 11 Oct it is Fri 30 Oct, after Mon 12 Oct
Mon 2 Nov). A referral of Mon 21 Sep 2026 with no start by Sat 31 Oct
is in backlog (its 16th working day is Tue 13 Oct); one of Tue 15 Sep 2026 also breaches CSS 4 (its 26th
working day is Wed 21 Oct).

Percentages are the published figure: 100 x count / base to one decimal place, half up (spec.kpi_windows
.round_pct), compared with the standard (>= for 1a, 1b and 2, <= for 3). A base of 0 has no percentage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ..spec.kpi_windows import round_pct, window_months
from ..spec.periods import month_at, month_index
from ..spec.workdays import bank_holidays

CSS_IDS = ("1a", "1b", "2", "3", "4")
CSS_GUIDANCE = "WHP 16.28"
# css -> (standard in words, threshold, "at least" | "at most" | "none")
STANDARDS: dict[str, tuple[str, Decimal, str]] = {
    "1a": ("99% of referrals start or fail to attend within 15 working days", Decimal("99"), "at least"),
    "1b": ("99% of those starts and failures to attend recorded on PRaP within 15 working days of the referral",
           Decimal("99"), "at least"),
    "2": ("99.5% of referrals acknowledged on PRaP within 2 working days", Decimal("99.5"), "at least"),
    "3": ("No more than 4% of referrals in backlog (over 15 working days without a start or failure to attend)",
          Decimal("4"), "at most"),
    "4": ("No referral in backlog for more than 25 working days", Decimal("0"), "none"),
}
COUNT_WORDS = {"1a": "started or failed to attend in time", "1b": "recorded in time",
               "2": "acknowledged in time", "3": "in backlog", "4": "in backlog over 25 working days"}
BASE_WORDS = {"1a": "referrals whose 15 working days ended in the month",
              "1b": "starts or failures to attend in time under CSS 1a",
              "2": "referrals whose 2 working days ended in the month",
              "3": "referrals held in the month", "4": "referrals in backlog at the month end"}


@dataclass(frozen=True)
class CssFigure:
    css: str
    month: str
    count: int
    base: int
    percentage: float | None  # CSS 1a-3; None for CSS 4 and a base of 0
    meets: bool | None  # None when the base is 0

    @property
    def standard(self) -> str:
        return STANDARDS[self.css][0]

    @property
    def figure_text(self) -> str:
        if self.css == "4":
            return f"{self.count:,} over 25 working days"
        return "no referrals due" if self.percentage is None else f"{self.percentage:.1f}%"


def _calendar(region: str, days: np.ndarray) -> np.busdaycalendar:
    real = days[~np.isnat(days)]
    first = int(str(real.min())[:4]) if real.size else 2000
    last = int(str(real.max())[:4]) + 1 if real.size else 2000
    hols = np.array(bank_holidays(region, first, last), dtype="datetime64[D]")
    return np.busdaycalendar(holidays=hols)


def _day(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_datetime(frame[column]).to_numpy(dtype="datetime64[D]")


def _month_idx(days: np.ndarray) -> np.ndarray:
    """Year * 12 + month - 1 (periods.month_index), -1 where there is no date."""
    months = days.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return np.where(np.isnat(days), -1, months)


class CssClock:
    """Each referral's clocks worked out once; ``figures(month)`` and ``breaches(month, css)`` from masks."""

    def __init__(self, referrals: pd.DataFrame, region: str) -> None:
        self.ids = referrals["referral_id"].astype(str).to_numpy()
        ref = _day(referrals, "referral_date")
        if np.isnat(ref).any():
            raise ValueError("Every referral needs a referral date: the extract's checks should have refused this one.")
        done, rec, ack = (_day(referrals, c) for c in ("start_or_fta_date", "recorded_date", "acknowledged_date"))
        cal = _calendar(region, np.concatenate([ref, done, rec, ack]))
        self.ref, self.done = ref, done
        due = {n: np.busday_offset(ref, n, roll="backward", busdaycal=cal) for n in (2, 15, 16, 26)}
        self.due15_month, self.due2_month = _month_idx(due[15]), _month_idx(due[2])
        self.day16, self.day26 = due[16], due[26]

        def on_time(when: np.ndarray, deadline: np.ndarray) -> np.ndarray:
            return ~np.isnat(when) & (when <= deadline)

        self.met_1a = on_time(done, due[15])
        self.met_1b = on_time(rec, due[15])
        self.met_2 = on_time(ack, due[2])

    def _masks(self, month: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """css -> (base mask, counted mask) for ``month``."""
        m = month_index(month)
        first = np.datetime64(f"{month}-01", "D")
        end = np.datetime64(month_at(m + 1) + "-01", "D") - np.timedelta64(1, "D")
        base_1a = self.due15_month == m
        base_2 = self.due2_month == m
        referred = self.ref <= end
        open_at_end = referred & (np.isnat(self.done) | (self.done > end))
        held = referred & (np.isnat(self.done) | (self.done >= first))
        backlog = open_at_end & (self.day16 <= end)
        return {"1a": (base_1a, base_1a & self.met_1a), "1b": (base_1a & self.met_1a, base_1a & self.met_1a & self.met_1b),
                "2": (base_2, base_2 & self.met_2), "3": (held, backlog), "4": (backlog, backlog & (self.day26 <= end))}

    def figures(self, month: str) -> list[CssFigure]:
        out = []
        for css, (base_mask, count_mask) in self._masks(month).items():
            base, count = int(base_mask.sum()), int(count_mask.sum())
            _, threshold, kind = STANDARDS[css]
            if css == "4":
                out.append(CssFigure(css, month, count, base, None, count == 0))
                continue
            pct = round_pct(count, base) if base else None
            meets = None if pct is None else (pct >= threshold if kind == "at least" else pct <= threshold)
            out.append(CssFigure(css, month, count, base, None if pct is None else float(pct), meets))
        return out

    def breaches(self, month: str, css: str) -> list[str]:
        """The referral ids behind a month's breaches of one standard, sorted: those in the base not met
        (CSS 1a, 1b, 2) or those counted (CSS 3 backlog, CSS 4 over 25 working days)."""
        base, counted = self._masks(month)[css]
        wrong = counted if css in ("3", "4") else base & ~counted
        return sorted(self.ids[wrong].tolist())


    def first_month(self) -> str:
        """The month of the earliest referral (the start of the cumulative window when the register gives none)."""
        return month_at(int(_month_idx(self.ref.min(keepdims=True))[0])) if len(self.ref) else "2000-01"

    def windows(self, month: str, first: str) -> list[CssWindow]:
        """CSS 1a, 1b and 2 in month, rolling 3, rolling 12 and cumulative from ``first`` (WHP 16.8): each window
        the sum of its months' counts over the sum of their bases (spec.kpi_windows.window_months, clipped at
        ``first``), never an average of monthly percentages. CSS 3 and 4 are month-end positions: in month only."""
        out = []
        if month_index(month) < month_index(first):
            return out
        by_month = {m: {f.css: f for f in self.figures(m)}
                    for m in window_months(month, "cumulative", first)[0]}
        for css in ("1a", "1b", "2"):
            _, threshold, _ = STANDARDS[css]
            for w in WINDOW_IDS:
                months, _ = window_months(month, w, first)
                count = sum(by_month[m][css].count for m in months)
                base = sum(by_month[m][css].base for m in months)
                pct = round_pct(count, base) if base else None
                out.append(CssWindow(css, w, months, count, base, None if pct is None else float(pct),
                                     None if pct is None else pct >= threshold))
        return out


@dataclass(frozen=True)
class CssWindow:
    css: str
    window: str
    months: list[str]
    count: int
    base: int
    percentage: float | None
    meets: bool | None


WINDOW_IDS = ("in_month", "rolling_3", "rolling_12", "cumulative")


def css_figures(referrals: pd.DataFrame, months: list[str], region: str) -> list[CssFigure]:
    """CSS 1a-4 for each month of ``months`` (one contract's referrals), month by month in CSS order."""
    clock = CssClock(referrals, region)
    return [f for m in months for f in clock.figures(m)]


def css_breaches(referrals: pd.DataFrame, month: str, css: str, region: str) -> list[str]:
    if css not in CSS_IDS:
        raise ValueError(f"There is no CSS '{css}': use one of {', '.join(CSS_IDS)}.")
    return CssClock(referrals, region).breaches(month, css)


def month_end(month: str) -> dt.date:
    return dt.date.fromisoformat(month_at(month_index(month) + 1) + "-01") - dt.timedelta(days=1)
