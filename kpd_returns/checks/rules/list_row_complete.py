"""``list_row_complete``: a started list row needs every cell a provider types, except
``optional_fields``: ``list-row-incomplete`` at each empty one. A computed column (a locked formula
the template fills in) is never demanded: the provider cannot type in it."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec, SheetSpec
from ..cells import started_rows
from ..context import FileCheck
from ..probes import Check, Context, Probe, blank
from . import Params, RuleKind


class ListRowComplete(Params):
    sheets: list[str]
    optional_fields: list[str] = []


def demanded(sheet: SheetSpec, r: RuleSpec) -> list:
    """The fields of ``sheet`` a started row must fill: typed (not computed) and not optional."""
    optional = set(r.params.get("optional_fields", []))
    return [f for f in sheet.expanded_fields if f.id not in optional and f.computed is None]


def check(fc: FileCheck, r: RuleSpec) -> None:
    for name in r.params["sheets"]:
        fields = demanded(fc.spec.sheet(name), r)
        for key in started_rows(fc, name):
            for f in fields:
                if not fc.filled(f.id, key):
                    fc.add("list-row-incomplete", f.id, key, guidance=r.guidance, detail=fc.key_label(name, key))


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    probes = []
    for name in r.params["sheets"]:
        sheet = ctx.spec.sheet(name)
        probes += [Probe(sheet, f.id, ctx.keys(sheet), lambda R: f"{blank(R.me)}*{R.started()}")
                   for f in demanded(sheet, r)]
    return [Check("list-row-incomplete", r.description, ctx.spec.guidance_ref(r.guidance), probes,
                  {"detail": "{rowlabel}"})]


KIND = RuleKind(check, each_sheet=True, params=ListRowComplete, codes=("list-row-incomplete",),
                summary="a started list row is complete (computed columns and `optional_fields` apart)",
                sheet_checks=sheet_checks)
