"""``parts_equal_total``: AtW 7.25: for each row, the parts (within + outside target) equal the total
(cases due): ``parts-not-equal-total`` at the total's cell."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import _EPS, Check, Context, Probe
from . import Params, RuleKind

_EPSILON = 1e-9


class PartsEqualTotal(Params):
    sheet: str
    parts: list[str]
    total: str


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    for key in fc.idx.keys[p["sheet"]]:
        total = fc.value(p["total"], key)
        parts = [fc.value(fid, key) for fid in p["parts"]]
        if total is None or any(v is None for v in parts):
            continue
        if abs(sum(parts) - total) > _EPSILON:
            fc.add("parts-not-equal-total", p["total"], key, guidance=r.guidance, found=sum(parts), expected=total)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    p = r.params
    sheet = ctx.spec.sheet(p["sheet"])
    flag = lambda R: (f"{R.valid(p['total'])}*{'*'.join(R.valid(x) for x in p['parts'])}"  # noqa: E731
                      f"*(ABS({'+'.join(R.at(x) for x in p['parts'])}-{R.me})>{_EPS})")
    return [Check("parts-not-equal-total", r.description, ctx.spec.guidance_ref(r.guidance),
                  [Probe(sheet, p["total"], ctx.keys(sheet), flag)], {"found": "{parts}", "expected": "{value}"})]


KIND = RuleKind(check, params=PartsEqualTotal, codes=("parts-not-equal-total",),
                summary="parts add up to their total, row by row", sheet_checks=sheet_checks)
