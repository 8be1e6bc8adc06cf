"""AtW MHSS KPI engine: windows, targets, Cabinet Office tiers and publication rows.

Works on plain Python inputs (``MonthKpiCounts`` from accepted MMIRs), no database.
Configuration (targets, tiers, ratings) is data: validators/kpis.toml.

Decisions (AtW 7.05, 7.16-7.19):

* Windows for report month M: ``in_month`` (M), ``rolling_3`` (M-2..M),
  ``rolling_12`` (M-11..M) and ``cumulative`` (Service Start..M). A rolling window
  that would start before the Service Start Date is clipped to the months since the
  start and flagged ``partial_since_start``; a report month before the start is an error.
* Figures over several months are ratios of summed counts (sum within / sum due),
  never averages of monthly percentages. Cohort ``"all"`` sums both cohorts' counts.
* A window with a missing or rejected month is ``incomplete``: percentage, target
  verdict and tier are None and the missing months are listed; ``due``/``within``
  hold the sums over the months received, for information only. ``due == 0`` gives
  percentage None ("no cases due").
* ``percentage`` is the published figure: 100 * within / due rounded to one decimal
  place, half up, with ``decimal.Decimal`` (never float ``round``). Targets and tier
  boundaries are compared with ``>=`` against that figure, so 89.95 is 90.0 (Good
  for the 2024 cohort) and 89.94 is 89.9 (Near Target).
* Tiers are given for the published KPIs (3-5) on the ``publication_window`` basis
  (rolling 12 months, AtW 7.18) only. Cohort ``"all"`` gets a target or tier only
  where every cohort has the same one (KPI 1 and 2 targets), otherwise None.
"""


from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from ..spec.kpi_config import (WINDOWS, ContractSettings, KpiConfig, KpiConfigError, Window,  # noqa: F401
                               default_config, load_kpi_config)
from ..spec.kpi_windows import (ALL_COHORTS, MonthKpiCounts, WindowResult, _index, kpi_window,  # noqa: F401
                                kpi_windows, round_pct, window_months)
from ..spec.periods import month_at, month_index  # noqa: F401  (re-exported: the packs import them here)

# The configuration (spec.kpi_config) and the window arithmetic (spec.kpi_windows) sit in the spec stage,
# since the consolidated workbook (intake) uses them too; the packs and tests import them from here.


# ---------------------------------------------------------------- Social Value KPI
@dataclass(frozen=True)
class SocialValueInput:
    """The Social Value fields the spec names in [pack.kpis.social_value] (AtW 7.16)."""

    measure1_pct: float | None
    measure2_pct: float | None
    companies_over_500: int | None
    measure3_pct: float | None


@dataclass(frozen=True)
class SocialValueResult:
    achieved: tuple[bool, bool, bool]
    achieved_count: int
    percentage: float | None  # 0, 33.3, 66.7 or 100.0; None if incomplete
    tier: int | None
    tier_name: str | None
    reg39_rating: str | None
    incomplete: bool
    missing: list[str]


def social_value_kpi(sv: SocialValueInput, config: KpiConfig | None = None) -> SocialValueResult:
    """Each measure is achieved at 100%; measure 3 also when no company has over 500 employees (AtW 7.16).
    Measured individually, marked collectively: the score is measures achieved / 3 (AtW 7.19)."""
    config = config or default_config()
    missing = [n for n in ("measure1_pct", "measure2_pct", "companies_over_500") if getattr(sv, n) is None]
    if sv.companies_over_500 and sv.measure3_pct is None:
        missing.append("measure3_pct")
    done = lambda v: v is not None and v >= 100  # noqa: E731
    achieved = (done(sv.measure1_pct), done(sv.measure2_pct), sv.companies_over_500 == 0 or done(sv.measure3_pct))
    pct = None if missing else round_pct(sum(achieved), 3)
    tier = None if pct is None else config.social_value.tiers.tier(pct)
    return SocialValueResult(achieved, sum(achieved), None if pct is None else float(pct), tier,
                             config.tier_name(tier), config.reg39_rating(tier), bool(missing), missing)


# ---------------------------------------------------------------- trend
@dataclass(frozen=True)
class TrendPoint:
    month: str
    percentage: float | None
    change: Literal["up", "down", "flat"] | None  # against the month before; None if either is unknown
    incomplete: bool


def direction(previous: float | None, current: float | None) -> Literal["up", "down", "flat"] | None:
    if previous is None or current is None:
        return None
    return "up" if current > previous else "down" if current < previous else "flat"


def trend(counts: Iterable[MonthKpiCounts], kpi: int, cohort: str, report_month: str, *, n: int = 12,
          missing_months: Iterable[str] = (), service_start: str | None = None,
          config: KpiConfig | None = None) -> list[TrendPoint]:
    """The last ``n`` in-month percentages to ``report_month`` (from the Service Start) with up/down/flat arrows."""
    config = config or default_config()
    idx, missing = _index(counts, config), set(missing_months)
    start = service_start or config.default_service_start
    first = max(month_index(report_month) - n, month_index(start))
    res = [kpi_window(idx, kpi, cohort, month_at(i), "in_month", missing_months=missing, service_start=start,
                      config=config) for i in range(first, month_index(report_month) + 1)]
    points = [TrendPoint(r.months[0], r.percentage, direction(p.percentage, r.percentage) if p else None, r.incomplete)
              for p, r in zip([None] + res[:-1], res)]
    return points[-n:]
