"""Caseload management (KPD 18-22): the key sheets that name each segment or rating, and
the month-by-month grids that hold their figures.

Segment (or rating) n of a key sheet is row n; its figures are the grid fields whose id
starts with ``{field_prefix}{n}_`` (seg3_participants, seg3_job_entries).
"""

from __future__ import annotations

from ..spec.return_spec import RuleSpec
from .context import FileCheck
from .registry import rule


def _blocks(fc: FileCheck, key_sheet: str, grid_sheet: str, prefix: str):
    """(n, key row key, key row label, grid field ids of block n) for each row of the key sheet."""
    grid = fc.spec.sheet(grid_sheet)
    for n, row in enumerate(fc.spec.sheet(key_sheet).row_keys, start=1):
        start = f"{prefix}{n}_"
        yield n, row.key, row.label, [f.id for f in grid.expanded_fields if f.id.startswith(start)]


@rule("keyed_rows_complete", "key_sheet", "title_field", "grid_sheet", "field_prefix")
def keyed_rows_complete(fc: FileCheck, r: RuleSpec) -> None:
    """KPD 20: a segment with figures needs its title and key fields (``keyed-row-incomplete``);
    a titled segment without figures is a ``keyed-row-unused`` query (the project's plausibility check)."""
    p = r.params
    grid_keys = fc.idx.keys[p["grid_sheet"]]
    for _n, row, label, fields in _blocks(fc, p["key_sheet"], p["grid_sheet"], p["field_prefix"]):
        has_figures = any(fc.filled(fid, k) for fid in fields for k in grid_keys)
        titled = fc.filled(p["title_field"], row)
        if has_figures:
            detail = f"{label} has figures on the {p['grid_sheet']} sheet"
            for fid in [p["title_field"], *p.get("required_fields", [])]:
                if not fc.filled(fid, row):
                    fc.add("keyed-row-incomplete", fid, row, guidance=r.guidance, detail=detail)
        elif titled:
            fc.add("keyed-row-unused", p["title_field"], row, guidance="plausibility check", detail=label)


@rule("in_work_participants_only", "key_sheet", "type_field", "in_work_value", "grid_sheet", "field")
def in_work_participants_only(fc: FileCheck, r: RuleSpec) -> None:
    """KPD 22: an in-work segment records participants only. Job entries other than 0 are
    ``in-work-job-entries`` (an explicit 0 says the same as an empty cell, so it passes)."""
    p = r.params
    rows = fc.spec.sheet(p["key_sheet"]).row_keys
    title_field = p.get("title_field") or next(
        (f.id for f in fc.spec.sheet(p["key_sheet"]).expanded_fields if f.type == "text"), None)
    for n, row in enumerate(rows, start=1):
        if fc.value(p["type_field"], row.key) != p["in_work_value"]:
            continue
        fid = p["field"].replace("{n}", str(n))
        title = fc.value(title_field, row.key) if title_field else None
        detail = f"{n} ({title})" if title else str(n)
        for key in fc.idx.keys[p["grid_sheet"]]:
            if fc.value(fid, key):
                fc.add("in-work-job-entries", fid, key, guidance=r.guidance, detail=detail)


@rule("segments_reconcile", "key_sheet", "type_field", "grid_sheet", "part", "target", "tolerance")
def segments_reconcile(fc: FileCheck, r: RuleSpec) -> None:
    """A query (the project's plausibility check; the guidance sets no reconciliation, KPD 17-21):
    out-of-work segment participants add up to actively engaged plus not currently engaged
    caseload, within the spec's relative tolerance, for each month within the period.

    Only months where an out-of-work segment has figures are compared, and only when the
    caseload figures are there. Segments with no type count as out of work. The finding
    is placed on the Segmentation sheet, at the first counted segment's participants cell
    of that month (the figures to check); found = their sum, expected = the caseload.
    """
    p = r.params
    exclude = p.get("exclude_value")
    tolerance = float(p["tolerance"])
    rows = fc.spec.sheet(p["key_sheet"]).row_keys
    parts = [p["part"].replace("{n}", str(n)) for n, row in enumerate(rows, start=1)
             if exclude is None or fc.value(p["type_field"], row.key) != exclude]
    for key in fc.idx.keys[p["grid_sheet"]]:
        if not fc.in_period(key):
            continue
        present = [(fid, fc.value(fid, key)) for fid in parts if fc.value(fid, key) is not None]
        targets = [fc.value(t, key) for t in p["target"]]
        if not present or any(t is None for t in targets):
            continue
        total, expected = sum(v for _fid, v in present), sum(targets)
        if abs(total - expected) > tolerance * abs(expected):
            fc.add("segments-not-reconciled", present[0][0], key, guidance=r.guidance, found=total,
                   expected=expected, detail=fc.month_label(key), tolerance=f"{tolerance * 100:g}%")


@rule("one_of_sheets_completed", "sheets", "at_field", "at_key")
def one_of_sheets_completed(fc: FileCheck, r: RuleSpec) -> None:
    """KPD 19-20: complete the segmentation or the RAG rating tables, or both. Neither sheet
    holding anything in any month is ``caseload-management-missing``, placed at ``at_field``
    (the first segment's title: where a provider starts)."""
    p = r.params
    for name in p["sheets"]:
        sheet = fc.spec.sheet(name)
        keys = fc.idx.keys[name]
        if any(fc.filled(f.id, k) for f in sheet.expanded_fields for k in keys):
            return
    fc.add("caseload-management-missing", p["at_field"], p["at_key"], guidance=r.guidance,
           detail=" nor ".join(f"the {n} sheet" for n in p["sheets"]))
