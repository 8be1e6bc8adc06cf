"""The quarterly publication of the published KPIs (AtW 7.17-7.19): per contract, the rolling 12-month
percentage, tier and reg. 39 rating for the latest quarter, as CSV and JSON (Procurement Regulations
2024, reg. 39). Split from the KPI engine (kpis.py), whose windows and tiers it reads.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any, Iterable

from ..spec.periods import period_of
from ..read.terminal import csv_text, json_dumps
from .kpis import (ALL_COHORTS, KpiConfig, MonthKpiCounts, SocialValueInput, SocialValueResult, WindowResult,
                   _index, default_config, kpi_window, month_at, month_index, social_value_kpi)


# ---------------------------------------------------------------- quarterly publication (AtW 7.17-7.19)
PUBLICATION_COLUMNS = ("contracting_authority", "contract_identifier", "supplier", "kpi", "kpi_name", "cohort",
                       "cohort_label", "period_covered", "quarter", "percentage", "tier", "tier_name",
                       "reg39_rating", "incomplete", "note")


def quarter_label(quarter_end: str, year_start_month: int = 4) -> str:
    """'2026-09' -> '2026-27 Q2' (contract years from ``year_start_month``); the month must end a quarter."""
    quarter = period_of("contract_quarter", dt.date.fromisoformat(f"{quarter_end}-01"), year_start_month)
    if quarter.end_month != quarter_end:
        raise ValueError(f"{quarter_end} is not the last month of a contract-year quarter")
    return quarter.label


def publication_rows(contract_identifier: str, supplier: str | None, counts: Iterable[MonthKpiCounts],
                     quarter_end: str, *, missing_months: Iterable[str] = (), service_start: str | None = None,
                     social_value: SocialValueInput | None = None, config: KpiConfig | None = None) -> list[dict]:
    """Rows for one contract and quarter (columns: PUBLICATION_COLUMNS): each published KPI on the rolling
    12 months to ``quarter_end``, one row per cohort with cases due in the window (one "all" row if none
    had any), then the Social Value KPI for the quarter. ``supplier`` None = the contract's in the config."""
    config = config or default_config()
    contract = config.contracts.get(contract_identifier)
    supplier = supplier or (contract.supplier if contract else None)
    if not supplier:
        raise ValueError(f"no supplier given or configured for contract '{contract_identifier}'")
    start = service_start or config.service_start(contract_identifier)
    idx, missing = _index(counts, config), set(missing_months)
    base = {"contracting_authority": config.contracting_authority, "contract_identifier": contract_identifier,
            "supplier": supplier, "quarter": quarter_label(quarter_end, config.year_start_month)}
    rows = []
    for kdef in (k for k in config.kpis if k.published):
        res = [kpi_window(idx, kdef.id, c, quarter_end, config.publication_window, missing_months=missing,
                          service_start=start, config=config) for c in [*config.cohorts, ALL_COHORTS]]
        for r in [r for r in res[:-1] if r.due > 0] or res[-1:]:
            note = (f"Returns missing or rejected: {', '.join(r.missing_months)}" if r.incomplete
                    else "No cases due in the period" if r.due == 0 else "")
            rows.append(base | _rated(r, config) | {
                "kpi": f"KPI {kdef.id}", "kpi_name": kdef.name, "cohort": r.cohort,
                "cohort_label": config.cohorts.get(r.cohort, "All referral cohorts"),
                "period_covered": f"{r.months[0]} to {r.months[-1]}", "incomplete": r.incomplete, "note": note})
    sv = social_value_kpi(social_value, config) if social_value else None
    rows.append(base | _rated(sv, config) | {
        "kpi": "Social Value KPI", "kpi_name": config.social_value.name, "cohort": ALL_COHORTS,
        "cohort_label": "All referral cohorts", "incomplete": sv is None or sv.incomplete,
        "period_covered": f"{month_at(month_index(quarter_end) - 2)} to {quarter_end}",
        "note": ("Social Value measures not returned" if sv is None
                 else f"Not returned: {', '.join(sv.missing)}" if sv.incomplete else "")})
    return rows


def _rated(result: WindowResult | SocialValueResult | None, config: KpiConfig) -> dict:
    tier = result.tier if result else None
    return {"percentage": result.percentage if result else None, "tier": tier,
            "tier_name": config.tier_name(tier), "reg39_rating": config.reg39_rating(tier)}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    return csv_text(str(value))  # a leading = + - @ would be run as a formula by a spreadsheet program


def write_publication_csv(rows: Iterable[dict], path: str | Path) -> None:
    """UTF-8, RFC 4180 (CRLF line ends on every platform), PUBLICATION_COLUMNS in order, rows as given."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(PUBLICATION_COLUMNS)
        for row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in PUBLICATION_COLUMNS])


def write_publication_json(rows: Iterable[dict], path: str | Path) -> None:
    """A JSON array of row objects: keys sorted, two-space indent, LF line ends, trailing newline."""
    text = json_dumps([{c: row.get(c) for c in PUBLICATION_COLUMNS} for row in rows], sort_keys=True, indent=2)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text + "\n")
