"""National KPI figures: summed over the contracts that reported, with the coverage stated.

A real season always has a contract that has just started, one late this month, one that
has ended. A national figure that waits for every contract is never there, so (issue 12):

* For each basis (in month, rolling 3, rolling 12, cumulative) a contract *owes* the months
  of the window between its first and last month owed (registry.owed_span). It is counted
  when it owes at least one month of the window and has an accepted return for every one;
  a contract with a gap is left out of that basis and named, never averaged over fewer months.
* The figure is then the engine's own (kpis.kpi_window) over the summed counts of the
  contracts counted: ratios of sums, rounded half up, tiers on the publication basis.
* Each figure carries its coverage ("5 of 6 contracts, 55 cases due; not counted:
  AtW-MHSS-C058 (2026-10 missing)"). A national figure is partial, not absent: it is
  "no figure" only when no contract owing the window sent every return.
* The national trend point for a month sums the contracts that owed that month and sent it.
"""

from __future__ import annotations

from .kpis import (KpiConfig, MonthKpiCounts, TrendPoint, WINDOWS, direction, kpi_window, month_at, month_index,
                   round_pct, window_months)
from .pack_text import TREND_MONTHS, ContractKpis, Coverage, KpiLine

NATIONAL_CONTRACT = "All contracts"


def owes(ck: ContractKpis, month: str) -> bool:
    i = month_index(month)
    return month_index(ck.service_start) <= i and (ck.service_end is None or i <= month_index(ck.service_end))


def coverage(contracts: list[ContractKpis], months: list[str]) -> Coverage:
    counted, left_out = [], []
    for ck in contracts:
        owed = [m for m in months if owes(ck, m)]
        if not owed:
            continue
        gaps = [m for m in owed if m in set(ck.missing)]
        if gaps:
            left_out.append((ck.contract, tuple(gaps)))
        else:
            counted.append(ck.contract)
    return Coverage(tuple(counted), tuple(left_out))


def _summed(contracts: list[ContractKpis], names: set[str]) -> list[MonthKpiCounts]:
    sums: dict[tuple[str, int, str], list[int]] = {}
    for ck in contracts:
        if ck.contract not in names:
            continue
        for c in ck.counts:
            if owes(ck, c.month):
                s = sums.setdefault((c.month, c.kpi, c.cohort), [0, 0, 0])
                s[0], s[1], s[2] = s[0] + c.due, s[1] + c.within, s[2] + c.outside
    return [MonthKpiCounts(m, k, co, *v) for (m, k, co), v in sorted(sums.items())]


def national_kpis(contracts: list[ContractKpis], report_month: str, config: KpiConfig) -> ContractKpis | None:
    """The "All contracts" KPI lines for the report month, or None if no contract owes a return by then."""
    live = [ck for ck in contracts if ck.lines or ck.no_returns]
    if not live:
        return None
    start = min((ck.service_start for ck in live), key=month_index)
    by_window: dict[str, tuple[Coverage, list[MonthKpiCounts]]] = {}
    for w in WINDOWS:
        cov = coverage(live, window_months(report_month, w, start)[0])
        by_window[w] = (cov, _summed(live, set(cov.counted)))
    first = max(month_index(report_month) - TREND_MONTHS + 1, month_index(start))
    trend_months = [month_at(i) for i in range(first, month_index(report_month) + 1)]
    per_month = {m: (cov := coverage(live, [m]), _summed(live, set(cov.counted))) for m in trend_months}
    with_cases = {c.cohort for ck in live for c in ck.counts if c.due > 0 and c.month <= report_month}
    cohorts = [c for c in config.cohorts if c in with_cases] or list(config.cohorts)[:1]
    lines, windows = [], []
    for kdef in config.kpis:
        for cohort in cohorts:
            results = {w: kpi_window(counts, kdef.id, cohort, report_month, w, service_start=start, config=config)
                       for w, (_cov, counts) in by_window.items()}
            windows += results.values()
            month_counts, points, previous = {}, [], None
            for m in trend_months:
                cov, counts = per_month[m]
                rows = [c for c in counts if c.month == m and c.kpi == kdef.id and c.cohort == cohort]
                due, within = sum(c.due for c in rows), sum(c.within for c in rows)
                value = float(round_pct(within, due)) if due else None
                if cov.counted:
                    month_counts[m] = (due, within)
                points.append(TrendPoint(m, value, direction(previous, value), not cov.counted))
                previous = value
            lines.append(KpiLine(NATIONAL_CONTRACT, kdef.id, kdef.name, cohort, config.cohorts[cohort], kdef.published,
                                 kdef.targets[cohort], results, points, kdef.guidance, config.publication_window,
                                 month_counts, {w: cov for w, (cov, _c) in by_window.items()}))
    summed_all = _summed(live, {ck.contract for ck in live})
    return ContractKpis(NATIONAL_CONTRACT, "All providers", start, [], lines, summed_all, windows,
                        coverage={w: cov for w, (cov, _c) in by_window.items()})
