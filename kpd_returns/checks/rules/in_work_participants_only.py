"""``in_work_participants_only``: KPD 22: an in-work segment records participants only. Job entries
other than 0 are ``in-work-job-entries`` (an explicit 0 says the same as an empty cell, so it passes)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, cell_of, lit
from . import Params, RuleKind


class InWorkParticipantsOnly(Params):
    key_sheet: str
    type_field: str
    in_work_value: str
    grid_sheet: str
    field: str
    title_field: str | None = None


def check(fc: FileCheck, r: RuleSpec) -> None:
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


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p = ctx.spec, r.params
    key_sheet, grid = spec.sheet(p["key_sheet"]), spec.sheet(p["grid_sheet"])
    probes = []
    for n, row in enumerate(key_sheet.row_keys, start=1):
        type_cell = cell_of(ctx, p["type_field"], row.key)
        probes.append(Probe(grid, p["field"].replace("{n}", str(n)), ctx.keys(grid), lambda R, t=type_cell: (
            f"({t}={lit(p['in_work_value'])})*{R.valid(R.probe.fid)}*({R.me}<>0)")))
    return [Check("in-work-job-entries", r.description, spec.guidance_ref(r.guidance), probes,
                  {"detail": lit("in this row")})]


KIND = RuleKind(check, params=InWorkParticipantsOnly, codes=("in-work-job-entries",),
                summary="an in-work segment records participants only (KPD 22)", sheet_checks=sheet_checks)
