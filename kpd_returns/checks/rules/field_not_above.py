"""``field_not_above``: KPD 21: job entries cannot exceed participants, block by block ({n} = 1..repeat):
``job-entries-above-participants`` at the lesser field's cell."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import _EPS, Check, Context, Probe
from . import Params, RuleKind

_EPSILON = 1e-9


class FieldNotAbove(Params):
    sheet: str
    lesser: str
    greater: str
    repeat: int = 1


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    repeat = int(p.get("repeat", 1))
    for n in range(1, repeat + 1):
        lesser, greater = p["lesser"].replace("{n}", str(n)), p["greater"].replace("{n}", str(n))
        for key in fc.idx.keys[p["sheet"]]:
            small, big = fc.value(lesser, key), fc.value(greater, key)
            if small is not None and big is not None and small > big + _EPSILON:
                fc.add("job-entries-above-participants", lesser, key, guidance=r.guidance, found=small,
                       expected=big)


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    p = r.params
    sheet = ctx.spec.sheet(p["sheet"])
    probes = []
    for n in range(1, int(p.get("repeat", 1)) + 1):
        lesser, greater = p["lesser"].replace("{n}", str(n)), p["greater"].replace("{n}", str(n))
        probes.append(Probe(sheet, lesser, ctx.keys(sheet), lambda R, gr=greater: (
            f"{R.valid(R.probe.fid)}*{R.valid(gr)}*({R.me}>{R.at(gr)}+{_EPS})")))
    return [Check("job-entries-above-participants", r.description, ctx.spec.guidance_ref(r.guidance), probes,
                  {"expected": "{greater}"})]


KIND = RuleKind(check, params=FieldNotAbove, codes=("job-entries-above-participants",),
                summary="one field is not above another, block by block ({n} = 1 to `repeat`; KPD 21)",
                sheet_checks=sheet_checks)
