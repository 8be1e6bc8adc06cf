"""``breakdown_equals_total``: AtW 7.25: a breakdown (referrals by route, by how the customer heard)
adds up to its total: ``breakdown-mismatch`` at the total's cell."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import _EPS, Check, Context, Probe, cell_of, lit
from . import Params, RuleKind

_EPSILON = 1e-9


class BreakdownEqualsTotal(Params):
    sheet: str
    parts: list[str]
    column: str
    total: str
    total_column: str
    total_sheet: str | None = None  # the total's sheet, when it is not ``sheet`` (read by the catalogue)


def _cells_text(fc: FileCheck, keys: list[tuple[str, str]]) -> str:
    """'Referral routes'!C5 to C6, or a list of cells when they are not one run."""
    slots = [fc.idx.slots[k] for k in keys]
    first = slots[0]
    sheet = f"'{first.sheet}'" if " " in first.sheet else first.sheet
    one_run = all(s.sheet == first.sheet and s.col == first.col and s.row == first.row + i for i, s in enumerate(slots))
    if one_run and len(slots) > 1:
        return f"The figures in {sheet}!{first.cell} to {slots[-1].cell}"
    return "The figures in " + ", ".join(s.ref for s in slots)


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    total = fc.value(p["total"], p["total_column"])
    parts = [fc.value(fid, p["column"]) for fid in p["parts"]]
    if total is None or any(v is None for v in parts):
        return
    if abs(sum(parts) - total) > _EPSILON:
        detail = _cells_text(fc, [(fid, p["column"]) for fid in p["parts"]])
        fc.add("breakdown-mismatch", p["total"], p["total_column"], guidance=r.guidance, found=sum(parts),
               expected=total, detail=detail)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    p = r.params
    total_sheet = ctx.spec.fields_by_id[p["total"]][0]
    psum = "+".join(cell_of(ctx, x, p["column"]) for x in p["parts"])
    flag = lambda R: (f"{R.valid(p['total'], p['total_column'])}*"  # noqa: E731
                      f"{'*'.join(R.valid(x, p['column']) for x in p['parts'])}*(ABS({psum}-{R.me})>{_EPS})")
    detail = "The figures in " + ", ".join(ctx.index[(x, p["column"])].ref for x in p["parts"])
    return [Check("breakdown-mismatch", r.description, ctx.spec.guidance_ref(r.guidance),
                  [Probe(total_sheet, p["total"], (p["total_column"],), flag)],
                  {"detail": lit(detail), "found": "{breakdown}", "expected": "{value}"})]


KIND = RuleKind(check, params=BreakdownEqualsTotal, codes=("breakdown-mismatch",),
                summary="a breakdown in one column adds up to its total", sheet_checks=sheet_checks)
