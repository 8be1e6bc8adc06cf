"""The KPI arithmetic: a KPI's percentage over a window of months, for a referral cohort or all of
them, against its target and (on the publication basis) its tier. Plain inputs (``MonthKpiCounts``),
no database; the configuration is ``spec.kpi_config``. The decisions (AtW 7.05, 7.16-7.19) are in
``packs.kpis``, the engine's front, which adds the Social Value KPI and the trend.

Used by the packs and, below them, by the consolidated workbook's KPI percentages sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from .kpi_config import WINDOWS, KpiConfig, Window, default_config
from .periods import month_at, month_index

_SPAN = {"in_month": 1, "rolling_3": 3, "rolling_12": 12}
ALL_COHORTS = "all"
_TENTH = Decimal("0.1")


def window_months(report_month: str, window: Window, service_start: str) -> tuple[list[str], bool]:
    """The months of a window, clipped at the Service Start Date, and whether it was clipped."""
    end, start = month_index(report_month), month_index(service_start)
    if end < start:
        raise ValueError(f"report month {report_month} is before the Service Start Date {service_start}")
    if window not in WINDOWS:
        raise ValueError(f"unknown window '{window}' (known: {', '.join(WINDOWS)})")
    first = start if window == "cumulative" else end - _SPAN[window] + 1
    return [month_at(i) for i in range(max(first, start), end + 1)], first < start


def round_pct(numerator: int | float | Decimal, denominator: int | float | Decimal) -> Decimal:
    """100 * numerator / denominator to one decimal place, half up (as published)."""
    return (Decimal(str(numerator)) * 100 / Decimal(str(denominator))).quantize(_TENTH, ROUND_HALF_UP)


# ---------------------------------------------------------------- inputs and results
@dataclass(frozen=True)
class MonthKpiCounts:
    """One provider/contract, one month, one KPI, one referral cohort, from an accepted return."""

    month: str  # "YYYY-MM"
    kpi: int  # 1..5
    cohort: str  # a referral cohort of the KPI config: the suffix of the row keys ([pack.kpis] key_prefix)
    due: int
    within: int
    outside: int


@dataclass(frozen=True)
class WindowResult:
    kpi: int
    cohort: str  # a cohort id or "all"
    window: Window
    months: list[str]
    due: int
    within: int
    percentage: float | None  # 0-100, one decimal place; None if incomplete or no cases due
    target: float | None
    meets_target: bool | None
    gap: float | None  # percentage points below target (0.0 when met)
    incomplete: bool
    missing_months: list[str]
    partial_since_start: bool = False
    tier: int | None = None
    tier_name: str | None = None
    reg39_rating: str | None = None


def _common(values: list[Any]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else None


def _index(counts: Iterable[MonthKpiCounts], config: KpiConfig) -> dict[tuple[str, int, str], MonthKpiCounts]:
    out: dict[tuple[str, int, str], MonthKpiCounts] = {}
    for c in counts:
        if c.cohort not in config.cohorts:
            known = ", ".join(config.cohorts)
            raise ValueError(f"unknown cohort '{c.cohort}' for KPI {c.kpi} in {c.month} (known: {known})")
        if not 0 <= c.within <= c.due:
            raise ValueError(f"KPI {c.kpi} cohort {c.cohort} in {c.month}: {c.within} within target of {c.due} due")
        key = (c.month, c.kpi, c.cohort)
        if key in out:
            raise ValueError(f"KPI {c.kpi} cohort {c.cohort} appears twice for {c.month}")
        out[key] = c
    return out


def kpi_window(counts: Iterable[MonthKpiCounts], kpi: int, cohort: str, report_month: str, window: Window, *,
               missing_months: Iterable[str] = (), service_start: str | None = None,
               config: KpiConfig | None = None) -> WindowResult:
    """One KPI, one cohort (or "all"), one window ending at ``report_month``.

    ``missing_months``: months with no accepted return (missing or rejected) for this contract;
    ``service_start``: the contract's Service Start Date month (default from the config)."""
    config = config or default_config()
    idx = counts if isinstance(counts, dict) else _index(counts, config)
    kdef = config.kpi(kpi)
    months, partial = window_months(report_month, window, service_start or config.default_service_start)
    missing = sorted(set(months) & set(missing_months))
    cohorts = list(config.cohorts) if cohort == ALL_COHORTS else [cohort]
    if cohort != ALL_COHORTS and cohort not in config.cohorts:
        raise ValueError(f"unknown cohort '{cohort}' (known: {', '.join(config.cohorts)}, {ALL_COHORTS})")
    rows = [idx[k] for m in months if m not in missing for c in cohorts if (k := (m, kpi, c)) in idx]
    due, within = sum(r.due for r in rows), sum(r.within for r in rows)
    target = _common([kdef.targets[c] for c in cohorts])
    pct = None if missing or due == 0 else round_pct(within, due)
    tier = None
    if pct is not None and kdef.published and window == config.publication_window:
        bounds = _common([config.tiers[c] for c in cohorts])
        tier = bounds.tier(pct) if bounds else None
    meets = gap = None
    if pct is not None and target is not None:
        meets = pct >= Decimal(str(target))
        gap = float(max(Decimal(0), Decimal(str(target)) - pct))
    return WindowResult(kpi, cohort, window, months, due, within, None if pct is None else float(pct), target,
                        meets, gap, bool(missing), missing, partial, tier, config.tier_name(tier),
                        config.reg39_rating(tier))


def kpi_windows(counts: Iterable[MonthKpiCounts], report_month: str, *, missing_months: Iterable[str] = (),
                service_start: str | None = None, config: KpiConfig | None = None,
                kpis: Iterable[int] | None = None, windows: Iterable[Window] = WINDOWS,
                include_all: bool = True) -> list[WindowResult]:
    """Every KPI x cohort (plus "all") x window, in config order."""
    config = config or default_config()
    idx, missing = _index(counts, config), set(missing_months)
    cohorts = list(config.cohorts) + ([ALL_COHORTS] if include_all else [])
    return [kpi_window(idx, k, c, report_month, w, missing_months=missing, service_start=service_start, config=config)
            for k in (kpis or [d.id for d in config.kpis]) for c in cohorts for w in windows]


