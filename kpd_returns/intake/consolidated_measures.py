"""The consolidated workbook's key-measure sheets: one per [[key_measures]] entry of a return's spec,
laid out providers x periods (months, or the quarters or contract years a return's figures cover) with a
totals row (and a Total column for a flow).

A measure is a sum of fields at keys; a computed field is recomputed from its parts with the one
evaluator (spec.computed), never read from a typed cell. A month reported by more than one return
(a quarterly return's months) takes its figure from the latest period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..spec.computed import value as computed_value
from ..spec.periods import ValuePeriod, value_period
from ..spec.return_spec import KeyMeasure
from .consolidated_writer import _table_name, _Writer

if TYPE_CHECKING:  # the workbook's input record; consolidated_workbook imports this module
    from .consolidated_workbook import ReturnData


Grid = tuple[list[ValuePeriod], list[tuple[str | None, str, dict[str, float]]]]  # periods, rows by period label


def _file_months(rd: ReturnData, needed: set[str], spans: dict[str, ValuePeriod]):
    """Per current return: {period: {field: {key: value}}} of the numeric figures of ``needed`` fields,
    one return at a time, so memory holds the grids being built, not every figure of every return.

    A figure's period is the one the ledger gives it (spec.periods.value_period): its month column's
    month, else its return's period, so a quarterly or yearly return's figures head a column of their
    own ("2026-27 Q2", "Contract year 2025-26"). ``spans`` collects each period label's ValuePeriod."""
    kind = rd.spec.period.kind
    for ret in rd.current:
        per: dict[str, dict[str, dict[str, float]]] = {}
        own = value_period("", kind, ret.period, ret.period_end)
        for fld, key, month, value in rd.file_values(ret.file_id):
            if fld in needed and isinstance(value, (int, float)):
                span = value_period(month, None, None, None) if month else own
                if span.label:
                    spans[span.label] = span
                    per.setdefault(span.label, {}).setdefault(fld, {})[key] = float(value)
        yield ret, per


def measure_grids(rd: ReturnData, measures: Sequence[KeyMeasure]) -> dict[str, Grid]:
    """measure slug -> (periods in order, [(provider, contract, {period label: value})]), from the current
    returns."""
    spec = rd.spec
    computed = {f.id: f.computed for s in spec.sheets for f in s.expanded_fields if f.computed}
    needed: set[str] = set()
    for m in measures:
        for fid, _key in m.parts:
            needed.add(fid)
            if fid in computed:
                needed |= set(computed[fid].of)
    grids: dict[str, dict[tuple, dict[str, tuple[tuple, float]]]] = {m.slug: {} for m in measures}
    months: dict[str, set[str]] = {m.slug: set() for m in measures}
    spans: dict[str, ValuePeriod] = {}
    for ret, per in _file_months(rd, needed, spans):
        rank = (ret.period_end or dt.date.min, ret.period or "")
        for m in measures:
            for month, fields in per.items():
                total = 0.0
                complete = True
                for part, key in m.parts:
                    got = _field_value(part, key or None, fields, computed)  # '' = the month's own column
                    if got is None:
                        if len(m.parts) == 1:
                            complete = False
                        continue
                    total += got
                if not complete:
                    continue
                cell = grids[m.slug].setdefault((ret.provider or "", ret.contract or ""), {})
                if month not in cell or cell[month][0] <= rank:  # the latest period's figure wins
                    cell[month] = (rank, total)
                months[m.slug].add(month)
    out: dict[str, Grid] = {}
    for m in measures:
        rows = [(p or None, c, {mo: val for mo, (_r, val) in cells.items()})
                for (p, c), cells in sorted(grids[m.slug].items(), key=lambda kv: (kv[0][0].casefold(),
                                                                                   kv[0][1].casefold()))]
        order = sorted(months[m.slug], key=lambda label: (spans[label].last_month, spans[label].first_month, label))
        out[m.slug] = ([spans[label] for label in order], rows)
    return out


def _field_value(fid: str, key: str | None, fields: dict[str, dict[str, float]], computed: dict) -> float | None:
    comp = computed.get(fid)
    if comp is not None:  # recomputed from its parts, as the checks do; the stored figure when a part is missing
        got = computed_value(comp, lambda p: _field_value(p, key, fields, computed), digits=6)
        if got is not None:
            return got
    by_key = fields.get(fid)
    if not by_key:
        return None
    if key is not None:
        return by_key.get(key)
    return _any(by_key)


def _any(by_key: dict[str, float] | None) -> float | None:
    if not by_key:
        return None
    return by_key[sorted(by_key)[0]]


def measure_sheet(w: _Writer, rd: ReturnData, m: KeyMeasure, grid: Grid) -> None:
    months, rows = grid
    if m.average:  # an average over each provider's own cases: adding providers or months up means nothing
        about = " Averages as returned: neither providers nor months are added up."
    else:
        about = " The totals row adds up the providers." + (
            " The Total column adds up the months." if m.flow else
            " Staff and caseload are counts at a point in time, so months are not added up.")
    notes = [f"Providers x months from the current returns ({rd.periods_label})." + about
             + (f" {m.note}" if m.note else "")]
    flow = m.flow and not m.average
    ws = w.sheet(m.sheet, m.title, notes, m.title + ".")
    fmt = w.num(m.number_format)
    headers = [{"header": "Provider", "text": True}, {"header": "Contract", "text": True}]
    headers += [{"header": span.heading, "format": fmt} for span in months]
    months = [span.label for span in months]
    if flow:
        headers.append({"header": "Total", "format": fmt})
    body = []
    for provider, contract, cells in rows:
        line: list[Any] = [provider, contract] + [cells.get(mo) for mo in months]
        if flow:
            line.append(round(sum(cells.get(mo) or 0.0 for mo in months), 6))
        body.append(line)
    totals: list[Any] | None = None if m.average else ["Total", None]
    for i in range(2, len(headers) if totals else 0):
        totals.append(round(sum((r[i] or 0.0) for r in body), 6))
    w.table(ws, 3, headers, body, _table_name(f"{rd.spec.id}_{m.slug}"),
            [34, 18] + [13] * (len(headers) - 2), totals=totals, freeze_cols=2)
