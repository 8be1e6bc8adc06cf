"""``keyed_rows_complete``: KPD 20: a segment (row n of a key sheet) with figures on its grid
(fields ``{field_prefix}{n}_...``) needs its title and key fields (``keyed-row-incomplete``); a
titled segment without figures is a ``keyed-row-unused`` query (the project's plausibility check)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, blank, filled, lit
from . import Params, RuleKind


class KeyedRowsComplete(Params):
    key_sheet: str
    title_field: str
    grid_sheet: str
    field_prefix: str
    required_fields: list[str] = []


def blocks(fc: FileCheck, key_sheet: str, grid_sheet: str, prefix: str):
    """(n, key row key, key row label, grid field ids of block n) for each row of the key sheet."""
    grid = fc.spec.sheet(grid_sheet)
    for n, row in enumerate(fc.spec.sheet(key_sheet).row_keys, start=1):
        start = f"{prefix}{n}_"
        yield n, row.key, row.label, [f.id for f in grid.expanded_fields if f.id.startswith(start)]


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    grid_keys = fc.idx.keys[p["grid_sheet"]]
    for _n, row, label, fields in blocks(fc, p["key_sheet"], p["grid_sheet"], p["field_prefix"]):
        has_figures = any(fc.filled(fid, k) for fid in fields for k in grid_keys)
        titled = fc.filled(p["title_field"], row)
        if has_figures:
            detail = f"{label} has figures on the {p['grid_sheet']} sheet"
            for fid in [p["title_field"], *p.get("required_fields", [])]:
                if not fc.filled(fid, row):
                    fc.add("keyed-row-incomplete", fid, row, guidance=r.guidance, detail=detail)
        elif titled:
            fc.add("keyed-row-unused", p["title_field"], row, guidance="plausibility check", detail=label)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p, g, words = ctx.spec, r.params, ctx.spec.guidance_ref(r.guidance), r.description
    key_sheet, grid = spec.sheet(p["key_sheet"]), spec.sheet(p["grid_sheet"])
    incomplete, unused = [], []
    for n, row in enumerate(key_sheet.row_keys, start=1):
        block = [f.id for f in grid.expanded_fields if f.id.startswith(f"{p['field_prefix']}{n}_")]
        has = "(" + "+".join(f"SUMPRODUCT(LEN(TRIM({ctx.whole(fid)})))" for fid in block) + ">0)" if block else "0"
        for fid in [p["title_field"], *p.get("required_fields", [])]:
            incomplete.append(Probe(key_sheet, fid, (row.key,), lambda R, has=has: f"{has}*{blank(R.me)}"))
        unused.append(Probe(key_sheet, p["title_field"], (row.key,),
                            lambda R, has=has: f"(1-{has})*{filled(R.me)}"))
    detail = f"{{rowlabel}}&{lit(' has figures on the ' + grid.name + ' sheet')}"
    return [Check("keyed-row-incomplete", words, g, incomplete, {"detail": detail}),
            Check("keyed-row-unused", f"{words} (a title without figures is a query)", "plausibility check", unused,
                  {"detail": "{rowlabel}"})]


KIND = RuleKind(check, params=KeyedRowsComplete, codes=("keyed-row-incomplete", "keyed-row-unused"),
                summary="a segment with figures has its title and key fields; a title without figures is a query "
                        "(KPD 17-22)", sheet_checks=sheet_checks)
