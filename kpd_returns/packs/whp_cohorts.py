"""WHP performance by cohort of starts (16.14-16.15, 16.26) and the pipeline Performance Indicators (16.12).

Computed from the starts and outcomes extract (field ids in /work/coord/TEAM.md), one contract at a time,
vectorised with pandas. Decisions:

* A cohort is the calendar month of the start date. A participant converts when the outcome was met at or
  before 639 days from the start date (16.15: day 0 is the start date, so a start on 1 Jan 2025 converts
  with an outcome on or before 2 Oct 2026); a self-employed participant also needs the claim dated at or
  before 700 days from the start.
* Groups (tMPLs 1-5, 16.26): ``cpa`` every start; ``disability``, ``early_entry``, ``ltu`` by customer group;
  ``dda`` the starts with a DDA named (measured both distinctly from and as part of the CPA headline).
* A cohort has **matured** when 639 days have run from its last day to the report month's end; until 700 days
  have run, self-employed claims may still arrive (``claims_open``). A cohort that has not matured is
  **in progress**: it has no conversion rate, and shows its pipeline instead (earnings commencement and the
  £1,000 and £2,000 milestones, each as a share of the cohort's starts, by the report month's end), against
  where the contract's earlier cohorts stood at the same age (same number of months after their start month,
  all their starts pooled).
* The levels are the contract's (spec.whp_config): none is assumed; a group without one is "level not set".
* Windows (16.8, 16.16): in month, rolling 3, rolling 12 and cumulative, counted back from the latest matured
  cohort with the KPI engine's windows (spec.kpi_windows.window_months, clipped at the first cohort); a window
  is the ratio of summed counts, never an average of cohort percentages (round_pct, one decimal place, half up).
* A PI points to a future tMPL failure (16.12) when an in-progress cohort's projected conversion is below the
  level: projected = the contract's matured cohorts' conversion x (this cohort's earnings commencement share /
  the matured cohorts' share at the same age). With no matured cohort, or none with earnings at that age,
  there is no projection and no such item.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ..spec.kpi_windows import round_pct, window_months
from ..spec.periods import month_at, month_index
from ..spec.whp_config import GROUPS, Levels

OUTCOME_DAYS, CLAIM_DAYS = 639, 700
PIS = {"earnings_start_date": "Earnings commencement", "milestone_1000_date": "£1,000 milestone",
       "milestone_2000_date": "£2,000 milestone"}
COHORT_WINDOWS = ("in_month", "rolling_3", "rolling_12", "cumulative")
LEVEL_NOT_SET = "level not set"


@dataclass(frozen=True)
class CohortFigure:
    cohort: str  # "YYYY-MM"
    group: str
    starts: int
    outcomes: int  # converted so far (final only when matured and claims closed)
    matured: bool
    claims_open: bool
    percentage: float | None  # conversion, matured cohorts only
    level: float | None
    meets: bool | None

    @property
    def status(self) -> str:
        if not self.matured:
            return "in progress"
        return "matured, self-employed claims still open" if self.claims_open else "matured"

    @property
    def level_text(self) -> str:
        return LEVEL_NOT_SET if self.level is None else f"{self.level:g}%"


@dataclass(frozen=True)
class WindowFigure:
    group: str
    window: str
    months: list[str]
    starts: int
    outcomes: int
    percentage: float | None
    level: float | None
    meets: bool | None


@dataclass(frozen=True)
class PipelineFigure:
    cohort: str
    group: str
    age: int  # whole months from the cohort month to the report month
    pi: str  # a column of PIS
    starts: int
    count: int
    percentage: float | None
    earlier_starts: int  # the earlier cohorts' starts, pooled
    earlier_count: int  # of those, with the event by the same age
    earlier_percentage: float | None


def _pct(n: int, d: int) -> float | None:
    return float(round_pct(n, d)) if d else None


def _meets(pct: float | None, level: float | None) -> bool | None:
    return None if pct is None or level is None else Decimal(str(pct)) >= Decimal(str(level))


def prepare(starts: pd.DataFrame) -> pd.DataFrame:
    """One row per participant: cohort index, converted flag, group flags and each PI's month index."""
    start = pd.to_datetime(starts["start_date"])
    days_out = (pd.to_datetime(starts["outcome_date"]) - start).dt.days
    days_claim = (pd.to_datetime(starts["claim_date"]) - start).dt.days
    met = days_out.between(0, OUTCOME_DAYS).to_numpy()
    self_employed = (starts["employment"] == "self_employed").to_numpy()
    converted = met & (~self_employed | days_claim.between(0, CLAIM_DAYS).to_numpy())
    out = pd.DataFrame({"cohort": (start.dt.year * 12 + start.dt.month - 1).to_numpy(), "converted": converted})
    group = starts["customer_group"].astype("string").to_numpy()
    dda = starts["dda"].astype("string").fillna("").str.strip().to_numpy()
    out["cpa"] = True
    for g in ("disability", "early_entry", "ltu"):
        out[g] = group == g
    out["dda"] = dda != ""
    for col in PIS:
        when = pd.to_datetime(starts[col])
        out[col] = (when.dt.year * 12 + when.dt.month - 1).astype("Int64")
    return out


class CohortBook:
    """One contract's cohorts as at the end of ``report_month``, against its ``levels``."""

    def __init__(self, starts: pd.DataFrame, report_month: str, levels: Levels, service_start: str | None = None):
        self.frame = prepare(starts)
        self.report = month_index(report_month)
        self.levels = levels
        cohorts = self.frame["cohort"]
        first = month_index(service_start) if service_start else (int(cohorts.min()) if len(cohorts) else self.report)
        self.first = first
        self.frame = self.frame[(cohorts >= first) & (cohorts <= self.report)]
        end = pd.Timestamp(month_at(self.report + 1) + "-01") - pd.Timedelta(days=1)
        # A cohort has matured when its last day + 639 days is on or before the report month's end.
        self.matured_upto = self._last_cohort_within(end, OUTCOME_DAYS)
        self.claims_upto = self._last_cohort_within(end, CLAIM_DAYS)
        grouped = {}
        for g in GROUPS:
            sub = self.frame[self.frame[g]]
            grouped[g] = sub.groupby("cohort")["converted"].agg(["size", "sum"])
        self._by_group = grouped
        self._age_cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    @staticmethod
    def _last_cohort_within(end: pd.Timestamp, days: int) -> int:
        latest_last_day = end - pd.Timedelta(days=days)
        # the latest cohort month whose last day is on or before latest_last_day
        nxt = latest_last_day + pd.Timedelta(days=1)
        return nxt.year * 12 + nxt.month - 1 - 1

    def cohorts(self) -> list[str]:
        return [month_at(i) for i in range(self.first, self.report + 1)]

    def figures(self, group: str) -> list[CohortFigure]:
        table, level = self._by_group[group], self.levels.of(group)
        out = []
        for i in range(self.first, self.report + 1):
            n, k = (int(table.at[i, "size"]), int(table.at[i, "sum"])) if i in table.index else (0, 0)
            matured = i <= self.matured_upto
            pct = _pct(k, n) if matured else None
            out.append(CohortFigure(month_at(i), group, n, k, matured, matured and i > self.claims_upto, pct, level,
                                    _meets(pct, level)))
        return out

    def windows(self, group: str) -> list[WindowFigure]:
        """The group's conversion over each window ending at the latest matured cohort (none matured: none)."""
        if self.matured_upto < self.first:
            return []
        table, level = self._by_group[group], self.levels.of(group)
        out = []
        for w in COHORT_WINDOWS:
            months, _ = window_months(month_at(self.matured_upto), w, month_at(self.first))
            idx = [month_index(m) for m in months]
            rows = table.reindex(idx).fillna(0)
            n, k = int(rows["size"].sum()), int(rows["sum"].sum())
            pct = _pct(k, n)
            out.append(WindowFigure(group, w, months, n, k, pct, level, _meets(pct, level)))
        return out

    def _ages(self, group: str, pi: str) -> tuple[np.ndarray, np.ndarray]:
        """(starts per cohort, with the PI by each age) for cohorts first..report and ages 0..report-first:
        ``by_age[c, a]`` counts cohort ``first + c``'s starts whose event came within ``a`` months of its month
        (an event dated before the start month counts from age 0). Built once per group and PI, by bincount."""
        key = (group, pi)
        if key not in self._age_cache:
            sub = self.frame[self.frame[group]]
            n = self.report - self.first + 1
            cohort = sub["cohort"].to_numpy(dtype=np.int64) - self.first
            starts = np.bincount(cohort, minlength=n)[:n]
            event = sub[pi].to_numpy(dtype="float64", na_value=np.nan)
            has = ~np.isnan(event)
            age = np.clip(event[has].astype(np.int64) - (cohort[has] + self.first), 0, None)
            keep = age < n
            counts = np.zeros((n, n), dtype=np.int64)
            np.add.at(counts, (cohort[has][keep], age[keep]), 1)
            self._age_cache[key] = (starts, counts.cumsum(axis=1))
        return self._age_cache[key]

    def pipeline(self, group: str, pi: str = "earnings_start_date") -> list[PipelineFigure]:
        """Each in-progress cohort's PI share by the report month, against the earlier cohorts at the same age."""
        starts, by_age = self._ages(group, pi)
        out = []
        for i in range(max(self.matured_upto + 1, self.first), self.report + 1):
            c, age = i - self.first, self.report - i
            n, k = int(starts[c]), int(by_age[c, age])
            en, ek = int(starts[:c].sum()), int(by_age[:c, age].sum())
            out.append(PipelineFigure(month_at(i), group, age, pi, n, k, _pct(k, n), en, ek, _pct(ek, en)))
        return out

    def matured_share(self, group: str, pi: str, age: int) -> tuple[int, int, int]:
        """(starts, with the PI by ``age`` months, converted) over the matured cohorts of ``group``."""
        starts, by_age = self._ages(group, pi)
        last = self.matured_upto - self.first + 1
        if last <= 0:
            return 0, 0, 0
        table = self._by_group[group]
        converted = int(table.loc[table.index <= self.matured_upto, "sum"].sum())
        return int(starts[:last].sum()), int(by_age[:last, min(age, by_age.shape[1] - 1)].sum()), converted

    def projections(self, group: str) -> list[tuple[PipelineFigure, float]]:
        """(in-progress cohort's earnings PI, projected conversion %) where a projection can be made (see notes)."""
        out = []
        for p in self.pipeline(group):
            n, with_pi, conv = self.matured_share(group, p.pi, p.age)
            if not n or not with_pi or not p.starts:
                continue
            projected = (conv / n) * ((p.count / p.starts) / (with_pi / n)) * 100
            out.append((p, round(min(projected, 100.0), 1)))
        return out
