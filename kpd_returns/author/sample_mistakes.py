"""The mistake files of the samples, read from each spec's ``[[samples.mistakes]]``: one typical
mistake per file, every other cell as in its clean base return, and the finding it must draw.

A mistake is data (docs/spec-format.md, "Sample profile"): the base return (provider, contract,
period), one cell (``field`` and ``key``, or ``meta`` for the template's hidden version sheet), the
bad value and anything it is worked from (the ordered ``let`` table of expressions, which must
define ``value``), the finding code it must draw with the finding's extra keys (``finding``), and
the sentence that says what is wrong (``what``, a str.format pattern over the same names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import openpyxl

from ..spec import layout
from ..spec.deadlines import deadline_for
from ..spec.findings import CATALOGUE
from ..spec.return_spec import META_SHEET, ReturnSpec
from .sample_calendar import nth_working_day_after, working_days_after
from .sample_engine import period_bounds
from ..spec.expr import FUNCTIONS, ProfileError, evaluate
from .sample_files import Values
from .sample_world import Provider
from .template import META_KEYS


@dataclass(frozen=True)
class Mistake:
    name: str  # file name under mistakes/
    base: str  # the clean return it is made from, under returns/
    what: str  # what is wrong, in words
    build: Callable[[], openpyxl.Workbook]
    expected: list[dict[str, Any]]  # the findings the validator should give


def expected_finding(spec: ReturnSpec, code: str, field: str | None, key: str = "", **extra: Any) -> dict[str, Any]:
    """The finding as the validator gives it: code, severity and, at a cell, where."""
    if code not in CATALOGUE:
        raise ProfileError(f"{spec.id}: samples.mistakes: there is no finding code '{code}'")
    out: dict[str, Any] = {"code": code, "severity": CATALOGUE[code][0], "sheet": None, "cell": None, "ref": None}
    if field:
        slot = layout.slot_index(spec)[(field, key)]
        out |= {"sheet": slot.sheet, "cell": slot.cell, "ref": slot.ref, "field": field}
    return out | extra


def profile_mistakes(spec: ReturnSpec, providers: tuple[Provider, ...],
                     clean_values: Callable[[ReturnSpec, Provider, str, str], Values],
                     workbook: Callable[..., openpyxl.Workbook],
                     file_name: Callable[[ReturnSpec, Provider, str, str], str]) -> list[Mistake]:
    """The spec's mistakes; ``workbook(spec, who, contract, period, edit, **prefill)`` builds a sample."""
    by_name = {p.name: p for p in providers}
    out = []
    for i, m in enumerate(spec.samples.get("mistakes", [])):
        where = f"{Path(spec.source_path).name}: key 'samples.mistakes.{i}'"
        try:
            who = by_name[m["provider"]]
            contract, period, name, code = m["contract"], m["period"], m["file"], m["code"]
        except KeyError as exc:
            raise ProfileError(f"{where}: needs file, provider (a provider of validators/samples.toml), contract, "
                               f"period and code: {exc} is missing or unknown") from None
        out.append(_one(spec, m, who, contract, period, name, code, where, clean_values, workbook,
                        file_name(spec, who, contract, period)))
    return out


def _one(spec, m, who, contract, period, name, code, where, clean_values, workbook, base) -> Mistake:
    start, end = period_bounds(spec, period)
    values = clean_values(spec, who, contract, period)
    field, key, meta = m.get("field"), str(m.get("key", "")), m.get("meta")

    def ref(fid: str, k: str = "") -> str:
        return layout.slot_index(spec)[(fid, k)].ref

    scope: dict[str, Any] = {
        "provider": who.name, "contract": contract, "period": period, "period_start": start, "period_end": end,
        "values": values, "spec_version": spec.version, "date": dt.date, "iso": lambda d: d.isoformat(),
        "ref": ref, "working_day_after": nth_working_day_after, "working_days_after": working_days_after,
        "deadline": lambda: deadline_for(spec.id, period, end).due.date(),
        "clean": values.get(field, {}).get(key) if field else None} | FUNCTIONS
    try:
        for var, text in m.get("let", {}).items():
            scope[var] = evaluate(str(text), scope)
        if "value" not in scope:
            raise ProfileError("the let table must give 'value', the bad value")
        extra = {k: evaluate(str(text), scope) for k, text in m.get("finding", {}).items()}
        what = str(m.get("what", "")).format(**scope)
    except ProfileError as exc:
        raise ProfileError(f"{where}: {exc}") from None
    except Exception as exc:  # arithmetic or a format gone wrong: name the key, not a traceback
        raise ProfileError(f"{where}: {type(exc).__name__}: {exc}") from None
    value = scope["value"]
    at_cell = field if m.get("at_cell", True) else None
    expected = [expected_finding(spec, code, at_cell, key, **extra)]
    return Mistake(name, base, what, _builder(spec, who, contract, period, field, key, meta, value, workbook),
                   expected)


def _builder(spec, who, contract, period, field, key, meta, value, workbook) -> Callable[[], openpyxl.Workbook]:
    if meta:  # the hidden sheet that says which template version this is
        row = META_KEYS.index(meta) + 1

        def build_meta():
            wb = workbook(spec, who, contract, period)
            wb[META_SHEET].cell(row=row, column=2).value = value
            return wb
        return build_meta
    if field and spec.field(field).computed:  # a number typed over a formula

        def build_over():
            wb = workbook(spec, who, contract, period)
            slot = layout.slot_index(spec)[(field, key)]
            wb[slot.sheet][slot.cell].value = value
            return wb
        return build_over
    prefilled = {spec.header.provider: "provider", spec.header.contract: "contract"}
    if field in prefilled:  # a header cell the template pre-fills: change what it is pre-filled with
        return lambda: workbook(spec, who, contract, period, **{prefilled[field]: value})
    return lambda: workbook(spec, who, contract, period, lambda v: v.setdefault(field, {}).update({key: value}))
