"""Figures for a sample return drawn from its spec's ``[samples]`` profile: no Python per return.

A profile (docs/spec-format.md, "Sample profile") holds, as expressions of the small language in
``sample_expr``: constants (``[samples.data]``), values drawn once per provider and contract
(``[samples.start]``), values drawn for each period in order so they can grow month on month
(``[samples.step]``), how many rows each list sheet gets (``[samples.rows]``), and one expression
per input field (``[samples.fields]``), evaluated per cell with ``key`` (and ``row`` on lists) in
scope. Every draw comes from one random generator seeded by return, provider code and contract,
so the same profile always gives the same files.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from ..spec import layout
from ..spec.return_spec import ReturnSpec
from .sample_calendar import minus_working_days, nth_working_day_after, working_days_in
from ..spec.expr import ProfileError, evaluate
from .sample_world import Provider

Values = dict[str, dict[str, Any]]  # field id -> {key: value}; key "" for a form field


def _random_functions(rng: random.Random) -> dict[str, Any]:
    def split(total: int, weights: list[float]) -> list[int]:
        """Split a whole number by rough weights; the parts add up to ``total`` exactly."""
        jitter = [w * rng.uniform(0.85, 1.15) for w in weights]
        parts = [int(total * w / sum(jitter)) for w in jitter]
        parts[-1] = total - sum(parts[:-1])
        return parts

    return {"uniform": rng.uniform, "randint": rng.randint, "choice": rng.choice, "split": split,
            "choices": lambda seq, weights=None: rng.choices(seq, weights=weights)[0],
            "working_days_in": working_days_in, "minus_working_days": minus_working_days,
            "working_day_after": nth_working_day_after, "days": lambda n: dt.timedelta(days=n),
            "date": dt.date}


def period_bounds(spec: ReturnSpec, period: str) -> tuple[dt.date, dt.date]:
    parsed = spec.period.parse(period)
    if parsed is None:
        raise ProfileError(f"{spec.id}: [samples] period '{period}' is not a period of this return")
    return parsed[1], parsed[2]


def _series_scope(spec: ReturnSpec, provider: Provider, contract: str) -> dict[str, Any]:
    profile = spec.samples
    seed = str(profile.get("seed", "{return}|{code}|{contract}")).format(
        code=provider.code, contract=contract, provider=provider.name, **{"return": spec.id})
    scope: dict[str, Any] = {"provider": provider.name, "code": provider.code, "contract": contract}
    scope |= provider.traits | dict(profile.get("data", {})) | _random_functions(random.Random(seed))

    def tick(name: str, by: int) -> int:
        """Move the counter ``name`` (a start value) on by ``by`` and give its new value (case numbers)."""
        scope[name] += by
        return scope[name]
    scope["tick"] = tick
    return scope


def _run(section: dict[str, str], scope: dict[str, Any], where: str) -> None:
    for name, text in section.items():
        scope[name] = _eval(str(text), scope, f"{where}.{name}")


def _keys(spec: ReturnSpec, sheet) -> list[str]:
    if sheet.kind == "form":
        return [""]
    if sheet.kind == "grid":
        return layout.column_keys(spec, sheet)
    return [r.key for r in sheet.row_keys]


def _months_to_date(spec: ReturnSpec, end: dt.date) -> list[str]:
    """The month column keys from the start of the contract year to the period's end (a grid of months)."""
    name = spec.period.months_column_set
    if not name:
        return []
    keys = list(spec.column_sets[name].keys)
    return keys[: (end.month - spec.period.year_start_month) % 12 + 1]


def _field_expression(fields: dict[str, Any], field_id: str) -> tuple[str | None, int | None]:
    """The profile's expression for a field, and ``n`` when it matched a repeated id (seg{n}_people)."""
    if field_id in fields:
        return str(fields[field_id]), None
    for pattern, text in fields.items():
        if "{n}" in pattern:
            found = re.fullmatch(re.escape(pattern).replace(re.escape("{n}"), r"(\d+)"), field_id)
            if found:
                return str(text), int(found[1])
    if "*" in fields:  # every other field: one expression with `field` (and `sheet`) in scope
        return str(fields["*"]), None
    return None, None


def profile_values(spec: ReturnSpec, provider: Provider, contract: str, period: str) -> Values:
    """The input values of one sample return drawn from ``spec.samples`` (header cells excepted:
    the template pre-fills provider, contract and period)."""
    profile = spec.samples
    periods = list(profile.get("periods", []))
    if period not in periods:
        raise ProfileError(f"{spec.id}: period '{period}' is not one of [samples] periods")
    scope = _series_scope(spec, provider, contract)
    _run(profile.get("start", {}), scope, f"{spec.id}: samples.start")
    step_section = profile.get("step", {})
    series: dict[str, dict[str, Any]] = {}
    # Every step is drawn, in order, whichever period is asked for: a period's figures never
    # depend on which file is written first.
    for step in profile.get("steps", periods):
        scope["step"] = step
        _run(step_section, scope, f"{spec.id}: samples.step")
        series[step] = {name: scope[name] for name in step_section}
    start, end = period_bounds(spec, period)
    scope |= {"period": period, "period_start": start, "period_end": end, "series": series,
              "this": series.get(period, {}), "months_to_date": _months_to_date(spec, end)}
    fields, row_counts = profile.get("fields", {}), profile.get("rows", {})
    header = {spec.header.provider, spec.header.contract, *_period_fields(spec)}
    values: Values = {}
    for sheet in spec.sheets:
        keys = _keys(spec, sheet)
        if sheet.kind == "list":
            scope |= {"sheet": sheet.name, "rows_available": len(keys)}
            count = row_counts.get(sheet.name, row_counts.get("*"))
            rows = 0 if count is None else int(_eval(str(count), scope, f"{spec.id}: samples.rows.{sheet.name}"))
            keys = keys[: max(0, rows)]
        scope["sheet"] = sheet.name
        for number, key in enumerate(keys, start=1):
            scope |= {"key": key, "row": number}
            for f in sheet.expanded_fields:
                text, n = _field_expression(fields, f.id)
                if f.computed or f.id in header or text is None:
                    continue
                scope |= {"n": n, "field": f.id}
                value = _eval(text, scope, f"{spec.id}: samples.fields.{f.id}")
                if value is not None:
                    values.setdefault(f.id, {})[key] = value
    return values


def _eval(text: str, scope: dict[str, Any], where: str) -> Any:
    try:
        return evaluate(text, scope)
    except ProfileError as exc:
        raise ProfileError(f"{where}: {exc}") from None
    except Exception as exc:  # a profile's arithmetic gone wrong: name the key, not a traceback
        raise ProfileError(f"{where}: {type(exc).__name__}: {exc}") from None


def _period_fields(spec: ReturnSpec) -> list[str]:
    p = spec.period
    return [f for f in (p.month_field, p.year_field, p.quarter_field) if f]
