"""``text_required_when_positive``: cases outside target need their reasons (AtW 7.25):
``reasons-missing`` at the reasons cell of each row whose count is above 0."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from ..probes import Check, Context, Probe, blank, lit
from . import Params, RuleKind


class TextRequiredWhenPositive(Params):
    sheet: str
    count: str
    text: str


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    for key in fc.idx.keys[p["sheet"]]:
        count = fc.value(p["count"], key)
        if count and count > 0 and not fc.filled(p["text"], key):
            fc.add("reasons-missing", p["text"], key, guidance=r.guidance, found=count,
                   detail=fc.key_label(p["sheet"], key))


def sheet_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    p = r.params
    sheet = ctx.spec.sheet(p["sheet"])
    flag = lambda R: f"{R.valid(p['count'])}*({R.at(p['count'])}>0)*{blank(R.me)}"  # noqa: E731
    return [Check("reasons-missing", r.description, ctx.spec.guidance_ref(r.guidance),
                  [Probe(sheet, p["text"], ctx.keys(sheet), flag)], {"found": lit("any"), "detail": "{rowlabel}"})]


KIND = RuleKind(check, params=TextRequiredWhenPositive, codes=("reasons-missing",),
                summary="a text is given when a count in its row is above 0", sheet_checks=sheet_checks)
