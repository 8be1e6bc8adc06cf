"""The consolidated workbook's KPI percentages sheet, for a return whose spec has ``[pack.kpis]`` (the
MMIR's "MMIR KPI percentages"): the division done once, by the KPI engine. The fields, the row keys and
the sheet's name come from the spec; no return or field is named here.

The providers x months sheets hold the KPI counts (cases within target, cases due); a PM
should not have to divide them. One row per contract, month, KPI and referral cohort with
the counts and the in-month, rolling 3-month and rolling 12-month percentages, each worked
by spec.kpi_windows.kpi_window (ratios of summed counts, rounded half up to one decimal place, AtW 7.05).

A contract's months run from the first month of its current returns (as the submissions
register does without a providers register, registry.owed_span); a rolling basis with a
month that has no current return is left blank and the note names the months, as the
packs do. Rows come out in a stable order so the workbook stays byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..spec.pack_spec import KpiSource
from ..spec.kpi_config import default_config
from ..spec.kpi_windows import ALL_COHORTS, MonthKpiCounts, _index, kpi_window
from ..spec.periods import month_at, month_index

BASES = ("in_month", "rolling_3", "rolling_12")


def kpi_rows(current: list[Any], file_values, source: KpiSource) -> Iterator[list[Any]]:
    """[provider, contract, month, KPI, cohort, due, within, in month %, rolling 3 %, rolling 12 %, note],
    a contract at a time: only one contract's counts are held, so memory does not grow with the ledger."""
    config = default_config()
    fields = {source.due: "due", source.within: "within"}
    by_contract: dict[tuple[str, str], list[Any]] = {}
    for ret in current:
        by_contract.setdefault((ret.provider or "", ret.contract or ""), []).append(ret)
    for (provider, contract), returns in sorted(by_contract.items(), key=lambda kv: (kv[0][0].casefold(), kv[0][1])):
        yield from _contract_rows(provider, contract, _kpi_cells(returns, file_values, config, fields,
                                                                 source.key_prefix), config)


def _kpi_cells(returns: list[Any], file_values, config, fields: dict[str, str],
               prefix: str) -> dict[tuple[str, int, str], dict[str, float]]:
    """(month, KPI, cohort) -> {"due": n, "within": n} from one contract's current returns."""
    cells: dict[tuple[str, int, str], dict[str, float]] = {}
    for ret in returns:
        for fld, key, month, value in file_values(ret.file_id):
            if fld in fields and isinstance(value, (int, float)) and key.startswith(prefix) and "_" in key:
                kpi, _, cohort = key[len(prefix):].partition("_")
                if kpi.isdigit() and cohort in config.cohorts:
                    cells.setdefault((month or ret.period, int(kpi), cohort), {})[fields[fld]] = float(value)
    return cells


def _contract_rows(provider: str, contract: str, cells: dict, config) -> Iterator[list[Any]]:
    counts = [MonthKpiCounts(m, k, c, int(v["due"]), int(v["within"]), int(v["due"] - v["within"]))
              for (m, k, c), v in sorted(cells.items()) if {"due", "within"} <= set(v) and v["within"] <= v["due"]]
    months = sorted({c.month for c in counts}, key=month_index)
    if not months:
        return
    start = months[0]
    missing = [month_at(i) for i in range(month_index(start), month_index(months[-1]) + 1)
               if month_at(i) not in months]
    by_key = {(c.month, c.kpi, c.cohort): c for c in counts}
    indexed = _index(counts, config)  # checked and indexed once a contract, not once a window (kpi_window takes it)
    for month in months:
        for kdef in config.kpis:
            for cohort in config.cohorts:
                row = by_key.get((month, kdef.id, cohort))
                if row is None:
                    continue
                results = [kpi_window(indexed, kdef.id, cohort, month, b, missing_months=missing,
                                      service_start=start, config=config) for b in BASES]
                gaps = sorted({m for r in results for m in r.missing_months})
                note = (f"Rolling bases incomplete: no current return for {', '.join(gaps)}" if gaps
                        else "No cases due in the month" if row.due == 0 else "")
                yield [provider or None, contract, month, f"KPI {kdef.id} {kdef.name}",
                       config.cohorts.get(cohort, ALL_COHORTS), row.due, row.within,
                       *[r.percentage for r in results], note]


def kpi_sheet(w: Any, rd: Any, source: KpiSource, table_name: str) -> None:
    """Write the sheet with the consolidated workbook's writer ``w`` for the ReturnData ``rd`` of a return
    whose spec has [pack.kpis] (``source``)."""
    ws = w.sheet(source.consolidated_sheet, source.consolidated_title,
                 ["Cases within target divided by cases due (AtW 7.05): in the month, and over the rolling 3 and "
                  "12 months to it (sums of counts, not averages of percentages), rounded half up to one decimal "
                  "place. A rolling basis with a month that has no current return is left blank (see Note)."],
                 "KPI percentages (within target / cases due) per contract and month, in month and rolling.")
    pct = w.num("0.0")
    headers = [{"header": "Provider", "text": True}, {"header": "Contract", "text": True},
               {"header": "Month", "text": True}, {"header": "KPI", "text": True},
               {"header": "Referral cohort", "text": True}, {"header": "Cases due"}, {"header": "Within target"},
               {"header": "In month (%)", "format": pct}, {"header": "Rolling 3 months (%)", "format": pct},
               {"header": "Rolling 12 months (%)", "format": pct}, {"header": "Note", "text": True}]
    w.table(ws, 3, headers, kpi_rows(rd.current, rd.file_values, source), table_name,
            [34, 18, 9, 34, 26, 10, 10, 11, 11, 11, 50], freeze_cols=2)
