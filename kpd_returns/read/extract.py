"""From a workbook to a recognised return: which return it is, whether its layout is intact,
and its header (provider, contract, period). Locating the field cells is checks.batch.locate_sparse.

Order matters (as GOV.UK Notify does for uploads): file problems, then
structure problems; cell checks run only on a return whose structure is right.
"""

from __future__ import annotations

import re
from typing import Any

from ..spec import findings as F
from ..spec import layout
from ..spec.findings import Finding
from ..spec.model import ReturnData
from ..spec.periods import plausible_period
from ..spec.return_spec import HEADER_ROW, META_SHEET, ReturnSpec
from .values import Problem, parse
from .workbook import WorkbookData, parse_ref

_SPACE = re.compile(r"\s+")


def read_meta(wb: WorkbookData) -> dict[str, str]:
    """The hidden metadata marker: key in column A, value in column B."""
    if not wb.has_sheet(META_SHEET):
        return {}
    cells = wb.cells(META_SHEET)
    out = {}
    for (row, col), cell in cells.items():
        if col == 1 and isinstance(cell.value, str):
            value = cells.get((row, 2))
            if value is not None and value.value is not None:
                out[cell.value.strip()] = _as_text(value.value)
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def recognise(wb: WorkbookData, specs: dict[str, ReturnSpec], file_label: str) -> tuple[ReturnSpec | None, str | None, list[Finding]]:
    """Which return this is, from the metadata marker, else from its defined names."""
    meta = read_meta(wb)
    return_id = meta.get("return_type")
    spec = specs.get(return_id or "")
    if spec is None:
        spec = _guess_from_names(wb, specs)
        if spec is None:
            detail = (f"its metadata names an unknown return type '{return_id}'" if return_id
                      else "it has no kpd-returns metadata sheet and none of the named ranges of a return")
            return None, None, [F.make("not-a-return", file=file_label, detail=detail)]
        # A hand-made or copied template: named like ours but without the marker.
        found = [F.make("not-a-return", file=file_label, guidance=spec.template_guidance,
                        detail=f"its hidden metadata sheet is missing, though it looks like a {spec.short_title}")]
        return spec, None, found + check_structure(wb, spec)
    version = meta.get("template_version")
    issues: list[Finding] = []
    if version != spec.version:
        code = "template-superseded" if version in spec.superseded_versions else "template-unknown-version"
        issues.append(F.make(code, found=version or "(none)", expected=spec.version, guidance=spec.template_guidance))
    return spec, version, issues + check_structure(wb, spec)


def _guess_from_names(wb: WorkbookData, specs: dict[str, ReturnSpec]) -> ReturnSpec | None:
    best, best_hits = None, 0
    for spec in specs.values():
        prefix = spec.name_prefix + "_"
        hits = sum(1 for n in wb.defined_names if n.startswith(prefix))
        sheets = sum(1 for s in spec.sheets if wb.has_sheet(s.name))
        score = hits + sheets
        if score > best_hits and (hits or sheets == len(spec.sheets)):
            best, best_hits = spec, score
    return best


def _norm(text: Any) -> str:
    return _SPACE.sub(" ", _as_text(text)).strip().casefold() if text is not None else ""


def _structure_plan(spec: ReturnSpec) -> list:
    """Per sheet: the labels to compare and the defined names to find, worked out once per spec."""
    return spec.memo("read.structure_plan", _build_plan)


def _build_plan(spec: ReturnSpec) -> list:
    expected_names = layout.defined_names(spec)
    plan = []
    for sheet in spec.sheets:
        labels = [(HEADER_ROW, col, label, _norm(label))
                  for col, label in enumerate(layout.header_labels(spec, sheet), start=1)]
        labels += [(layout.FIRST_DATA_ROW + i, 1, label, _norm(label))
                   for i, label in enumerate(layout.row_labels(sheet))]
        names = []
        for f in sheet.expanded_fields:
            name = spec.defined_name(f.id)
            names.append((f, name, expected_names[name], parse_ref(expected_names[name])))
        plan.append((sheet, labels, names))
    return plan


def duplicate_sheets(wb: WorkbookData, spec: ReturnSpec) -> list[Finding]:
    """``sheet-duplicate`` for each set of sheets whose names are the same, whatever their case ('Activity'
    twice, or 'ACTIVITY' and 'Activity'): Excel refuses such a workbook, and which one a figure is read
    from would depend on the order of the sheets. The finding names the spec's sheet, whose cells are then
    not read (checks.batch.broken_sheets)."""
    groups: dict[str, list[str]] = {}
    for name in wb.sheet_names:
        groups.setdefault(name.casefold(), []).append(name)
    ours = {s.name.casefold(): s.name for s in spec.sheets}
    out = []
    for key, names in groups.items():
        if len(names) > 1:
            listed = " and ".join(f"'{n}'" for n in names) if len(set(names)) > 1 else f"'{names[0]}'"
            detail = f"{len(names)} sheets named {listed}"
            out.append(F.make("sheet-duplicate", sheet=ours.get(key, names[0]), detail=detail,
                              guidance=spec.template_guidance))
    return out


def check_structure(wb: WorkbookData, spec: ReturnSpec) -> list[Finding]:
    """No two sheets of one name, sheets present, defined names where the spec puts them, labels unchanged."""
    out: list[Finding] = duplicate_sheets(wb, spec)
    for sheet, labels, names in _structure_plan(spec):
        if not wb.has_sheet(sheet.name):
            out.append(F.make("sheet-missing", sheet=sheet.name, guidance=spec.template_guidance))
            continue
        get = wb.cells(sheet.name).get
        # Most labels are exactly as written: only the others are compared closely (in order).
        for row, col, label, normalised in [x for x in labels if (c := get((x[0], x[1]))) is None or c.value != x[2]]:
            _compare_label(out, sheet.name, get((row, col)), row, col, label, normalised, spec.template_guidance)
        for f, name, expected, expected_ref in names:
            actual = wb.defined_names.get(name)
            if actual is None:
                out.append(F.make("defined-name-missing", field=f.id, field_label=f.label, detail=name,
                                  guidance=spec.guidance_ref(f.guidance)))
            elif parse_ref(actual) != expected_ref:
                out.append(F.make("defined-name-moved", field=f.id, field_label=f.label,
                                  found=actual.lstrip("="), expected=expected,
                                  guidance=spec.guidance_ref(f.guidance)))
    return out


def _compare_label(out: list[Finding], sheet: str, cell: Any, row: int, col: int, expected: str,
                   normalised: str, guidance: str) -> None:
    found = cell.value if cell else None
    if found == expected or _norm(found) == normalised:
        return
    out.append(F.make("label-changed", sheet=sheet, cell=layout.a1(row, col),
                      found=_as_text(found) if found is not None else "(empty)", expected=expected,
                      guidance=guidance))


def describe_header(data: ReturnData, spec: ReturnSpec, date1904: bool = False) -> None:
    """Fill provider, contract, period and months from the header cells (where valid)."""

    def value(field_id: str | None) -> Any:
        if not field_id:
            return None
        loc = data.cells.get((field_id, ""))
        if loc is None:
            return None
        v = parse(spec.field(field_id), loc.raw, date1904)
        return None if isinstance(v, Problem) else v

    data.provider = value(spec.header.provider)
    data.contract = value(spec.header.contract)
    data.submitted_date = value(spec.header.submitted)
    period = spec.period
    parsed = period.from_header(month=value(period.month_field), year=value(period.year_field),
                                quarter=value(period.quarter_field))
    if parsed and plausible_period(parsed):  # a contract year of 0001-02 is no period (checks.period says so)
        data.period, data.period_start, data.period_end = parsed
        if period.months_column_set:
            cs = spec.column_sets[period.months_column_set]
            data.month_of_key = period.month_keys(parsed, cs.keys, cs.months or [])
