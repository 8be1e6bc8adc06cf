"""``sum_not_above``: the ``parts`` (one field or several, added up) cannot exceed the ``limit`` field,
key by key on ``sheet``: ``sum-above-limit`` at the first part's cell, or its query form
``sum-above-limit-query`` for a rule that is a query (no basis, or ``query = true``)."""

from __future__ import annotations

from ...spec.return_spec import RuleSpec
from ..context import FileCheck
from . import Params, RuleKind

_EPSILON = 1e-9


class SumNotAbove(Params):
    sheet: str
    parts: str | list[str]
    limit: str


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def check(fc: FileCheck, r: RuleSpec) -> None:
    p = r.params
    parts = _as_list(p["parts"])
    labels = [fc.idx.field_of[fid].label for fid in parts]
    what = " plus ".join([labels[0]] + [_lower_first(x) for x in labels[1:]])
    limit_label = _lower_first(fc.idx.field_of[p["limit"]].label)
    for key in fc.idx.keys[p["sheet"]]:
        values = [fc.value(fid, key) for fid in parts]
        limit = fc.value(p["limit"], key)
        if limit is None or any(v is None for v in values):
            continue
        total = sum(values)
        if total > limit + _EPSILON:
            limit_ref = fc.idx.slots[(p["limit"], key)].ref
            # The error code: its basis (or its absence, or query = true) decides error or query (FileCheck.add).
            fc.add("sum-above-limit", parts[0], key, guidance=r.guidance, found=total, expected=limit, detail=what,
                   limit=f"{limit_label} in {limit_ref}")


KIND = RuleKind(check, params=SumNotAbove, codes=("sum-above-limit", "sum-above-limit-query"),
                summary="one field, or a sum of fields, is not above a limit field, key by key",
                sheet_checks=None)  # no formula on the Checks sheet: checked when the return is validated
