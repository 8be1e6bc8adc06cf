"""Pack inputs: ledger rows (objects, mappings or sqlite3.Row) -> what the engines take.

The KPI engine's counts and Social Value inputs from the fields the spec's ``[pack.kpis]`` names, the
measures engine's FieldValues, and which months a contract has an accepted return for. Pure functions,
no return named: the fields come from the specs (packs.specs).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Iterable

from ..spec.model import contract_key
from ..spec.periods import parse_any, period_of
from ..spec.pack_spec import KpiSource
from .kpis import KpiConfig, MonthKpiCounts, SocialValueInput, default_config, month_at, month_index
from .measures import FieldValue
from .specs import kpi_spec

ACCEPTED_VERDICTS = frozenset({"valid", "valid-with-warnings", "accepted", "accepted-with-warnings"})


def get(row: Any, name: str, default: Any = None) -> Any:
    """A column of a row given as an object, a mapping or an sqlite3.Row."""
    if isinstance(row, Mapping):
        return row.get(name, default)
    if hasattr(row, "keys") and not hasattr(row, name):
        return row[name] if name in row.keys() else default
    return getattr(row, name, default)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).casefold()).strip("-")[:60].strip("-")
    return slug or "provider"


def period_end_month(period: str | None, year_start_month: int = 4) -> str | None:
    """'2026-10' -> '2026-10'; '2026-27 Q2' -> '2026-09' (contract years from ``year_start_month``)."""
    found = parse_any(period or "", year_start_month)
    return found.end_month if found else None


def is_accepted(verdict: str | None) -> bool:
    return (verdict or "").strip().lower() in ACCEPTED_VERDICTS


def value_month(row: Any) -> str:
    return get(row, "month") or get(row, "period") or ""


# ---------------------------------------------------------------- engine inputs
def _source() -> KpiSource | None:
    spec = kpi_spec()
    return spec.pack.kpis if spec else None


def kpi_counts(values: Iterable[Any], config: KpiConfig | None = None,
               source: KpiSource | None = None) -> tuple[dict[str, list[MonthKpiCounts]], list[str]]:
    """KPI rows (the fields [pack.kpis] names) -> MonthKpiCounts per contract key (ledger.contract_key), and
    notes on rows not used."""
    config = config or default_config()
    source = source or _source()
    if source is None:
        return {}, []
    fields = {source.due: "due", source.within: "within", source.outside: "outside"}
    row_key = re.compile(rf"^{re.escape(source.key_prefix)}(\d+)_(\w+)$")
    parts: dict[tuple[str, str, int, str], dict[str, float]] = {}
    for row in values:
        f = get(row, "field")
        m = row_key.match(str(get(row, "key") or ""))
        if f not in fields or not m:
            continue
        v = get(row, "value")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            key = (get(row, "contract"), value_month(row), int(m.group(1)), m.group(2))
            parts.setdefault(key, {})[fields[f]] = float(v)
    out: dict[str, list[MonthKpiCounts]] = {}
    notes = []
    for (contract, month, kpi, cohort), p in sorted(parts.items()):
        where = f"KPI {kpi} cohort {cohort}, {contract} {month}"
        if cohort not in config.cohorts:
            notes.append(f"{where}: unknown referral cohort, not counted.")
        elif "due" not in p or "within" not in p:
            notes.append(f"{where}: cases due or within target not returned, not counted.")
        elif not 0 <= p["within"] <= p["due"]:
            notes.append(f"{where}: {p['within']:g} within target of {p['due']:g} due, not counted.")
        else:
            out.setdefault(_ck(contract), []).append(MonthKpiCounts(
                month, kpi, cohort, int(p["due"]), int(p["within"]), int(p.get("outside", p["due"] - p["within"]))))
    return out, notes


def accepted_months(returns: Iterable[Any], return_id: str) -> dict[str, set[str]]:
    """contract key -> months with a current accepted return of ``return_id``."""
    out: dict[str, set[str]] = {}
    for r in returns:
        if get(r, "return_id") == return_id and is_accepted(get(r, "verdict")):
            month = end_month(r)
            if month:
                out.setdefault(_ck(get(r, "contract")), set()).add(month)
    return out


def missing_months(accepted: set[str], service_start: str, report_month: str) -> list[str]:
    return [m for i in range(month_index(service_start), month_index(report_month) + 1)
            if (m := month_at(i)) not in accepted]


def quarter_end_at_or_before(month: str, year_start_month: int = 4) -> str:
    quarter = period_of("contract_quarter", dt.date.fromisoformat(month + "-01"), year_start_month)
    if quarter.end_month == month:
        return month
    return period_of("contract_quarter", quarter.start - dt.timedelta(days=1), year_start_month).end_month


def end_month(row: Any) -> str | None:
    """The last month of a row's period: from its period_end (no re-reading of the label) when it has one."""
    end = get(row, "period_end")
    return f"{end:%Y-%m}" if isinstance(end, dt.date) else period_end_month(get(row, "period"))


def _sv_fields() -> set[str]:
    sv = _source().social_value if _source() else None
    return {*sv.measures, sv.over_500, sv.companies} if sv else set()


def social_value_input(values: Iterable[Any], contract: str,
                       month: str) -> tuple[SocialValueInput | None, float | None]:
    """The Social Value fields ([pack.kpis.social_value]) of one contract's return for ``month`` (None if
    none returned) and the supply-chain size."""
    source = _source()
    if source is None or source.social_value is None:
        return None, None
    f = source.social_value
    sv = {get(r, "field"): get(r, "value") for r in values if _ck(get(r, "contract")) == _ck(contract)
          and value_month(r) == month and get(r, "field") in _sv_fields()}
    num = lambda k: float(v) if isinstance(v := sv.get(k), (int, float)) else None  # noqa: E731
    if not any(num(k) is not None for k in (f.measures[0], f.measures[1], f.over_500)):
        return None, num(f.companies)
    over = num(f.over_500)
    return (SocialValueInput(num(f.measures[0]), num(f.measures[1]), None if over is None else int(over),
                             num(f.measures[2])), num(f.companies))


def field_values(values: Iterable[Any]) -> list[FieldValue]:
    """Ledger values -> FieldValue rows, earlier periods first so a restated month's latest value wins.
    A value's month is its column's month, else the return's period when that is a month."""
    rows = sorted(values, key=lambda r: (str(get(r, "period") or ""),))
    out = []
    for r in rows:
        month = get(r, "month") or _as_month(str(get(r, "period") or ""))
        if month or isinstance(get(r, "value"), str):
            out.append(FieldValue(get(r, "provider"), get(r, "contract"), month, get(r, "field"), get(r, "value"),
                                  get(r, "key") or ""))
    return out


def _as_month(period: str) -> str:
    """The period when it is a month ('2026-10'), else "": a contract year '2025-26' is no month (the
    periods module decides, spec.periods.month_index). A stop-gap until every figure carries its period."""
    try:
        month_index(period)
    except ValueError:
        return ""
    return period


def _ck(contract: Any) -> str:
    return contract_key(None if contract is None else str(contract)) or ""
