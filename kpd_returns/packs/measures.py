"""The measures engine: a return's ``[[pack.measures]]`` per contract and month, and national figures.

Input is a return in long form, plain Python (no database): one ``FieldValue`` (or a plain tuple
``(provider, contract, month, field, value[, key])``) per figure, with the field ids of the return's
spec. What is computed is declared in the spec's ``[pack]`` section (spec/pack_spec.py); this module
names no return and no field. Decisions:

* Parts name fields, one key of a field (``"clock_due[interview_5wd]"``: a list row or a column), or
  measures declared earlier (a count's share of another count).
* A ``sum`` of one field is that field; of several, their sum rounded to 6 places, None if any is
  missing (totals are recomputed from their inputs, never read from the return: KPD 9, 14).
* A ``ratio`` is the sum of its numerator fields over the sum of its denominator fields, times
  ``scale``; None when the denominator is 0 or missing.
* A ``count`` is the number of list rows (keys) with the field filled in, optionally only rows
  where another field has one of the given values; a ``sum`` of one field with ``where`` adds up that
  field over the rows kept the same way (None when a kept row's figure is not a number).
* A ``mean`` is an average the return states (JOBS II 6.17's working days), over the cases its
  ``weight`` counts: over months and contracts it is weighted by them (the sum of mean x cases over the
  cases), never an average of averages; a month with no cases adds nothing.
* A ``target_of`` measure is an earlier measure's own target (its profile) as a figure: it adds up
  over a window and nationally, so a ratio of the two is a percentage of the profile.
* The ``contract_year`` window runs from the first month of the contract year (the return's
  ``year_start_month``), or the contract's first month with figures if later, to the month.
* A return may restate a month (a quarterly return's month columns): pass values in submission
  order, the later value wins.
* Groups (``[[pack.groups]]``): each numbered group's size, outcomes, share of all groups' size and
  conversion (outcomes / size), as percentages; titles from the group's text field.
* A measure with ``target_from = "profile"`` is compared with the contract's own figure for the month
  from the providers register (``profiles``: contract key -> month -> number, JOBS II 6.10); nationally
  the profiles of the contracts reporting are summed.
* National figures per month: for ``national = "sum"`` the sum over contracts of those reported, for
  ``"ratio"`` the ratio of the national sums of its parts (over contracts with both), and for
  ``median = true`` the median contract (with the change on the month before, per contract).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Iterable

from ..spec.computed import ratio, total
from ..spec.model import contract_key
from ..spec.pack_spec import Measure, PackSpec
from .kpis import month_at, month_index


@dataclass(frozen=True)
class FieldValue:
    provider: str
    contract: str
    month: str  # "YYYY-MM"; ignored for titles
    field: str  # a field id of the return
    value: float | str | None
    key: str = ""  # the row key (a list row, or the key-sheet row "seg1" of a title)


@dataclass(frozen=True)
class GroupMeasure:
    """One numbered group (a KPD segment "seg1" or RAG rating "rag1") in one month."""

    key: str
    label: str  # "Segment 1"
    title: str | None
    size: float | None
    outcomes: float | None
    share: float | None  # % of all the groups' size
    conversion: float | None  # outcomes / size, %


@dataclass(frozen=True)
class ContractMonth:
    provider: str
    contract: str
    month: str
    values: dict[str, float | None]  # measure id -> figure
    parts: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # ratio id -> (num, den)
    groups: list[GroupMeasure] = field(default_factory=list)
    changes: dict[str, float | None] = field(default_factory=dict)  # median measures -> change on last month
    flags: list[str] = field(default_factory=list)  # implausible values, for a second look
    targets: dict[str, float | None] = field(default_factory=dict)  # target_from measures -> the contract's figure

    def measure(self, name: str) -> float | None:
        return self.values.get(name)


@dataclass(frozen=True)
class NationalMonth:
    month: str
    providers: int  # contracts reporting
    values: dict[str, float | None]  # national figure per measure (sum, or ratio of sums)
    medians: dict[str, float | None]  # median measures -> median across contracts (None if none reported)
    targets: dict[str, float | None] = field(default_factory=dict)  # target_from measures -> targets summed


def _ratio(num: float | None, den: float | None, scale: float = 1.0) -> float | None:
    return ratio(num, den, scale)


def _sum(values: list[float | None]) -> float | None:
    # Six places, as the packs have always shown their totals (spec.computed is the one evaluator).
    return total(values, digits=6)


def _normalise(values: Iterable[FieldValue | tuple]) -> list[FieldValue]:
    return [v if isinstance(v, FieldValue) else FieldValue(*v) for v in values]


def contract_months(values: Iterable[FieldValue | tuple], section: PackSpec, *,
                    titles: dict[tuple[str, str], dict[str, str]] | None = None,
                    profiles: dict[str, dict[str, float]] | None = None) -> list[ContractMonth]:
    """Measures per (provider, contract, month), sorted; ``titles`` maps (provider, contract) -> {"seg1": title};
    ``profiles`` maps a contract key (spec.model.contract_key) -> month -> its profiled figure."""
    title_fields = {g.title_field for g in section.groups}
    counted = ({m.count for m in section.measures if m.count} | {f for m in section.measures for f in m.where}
               | {m.sum[0] for m in section.measures if m.where and m.sum})
    nums: dict[tuple[str, str, str], dict[str, float]] = {}
    rows: dict[tuple[str, str, str], dict[str, dict[str, object]]] = {}
    names: dict[tuple[str, str], dict[str, str]] = {k: dict(v) for k, v in (titles or {}).items()}
    for v in _normalise(values):
        if isinstance(v.value, str) and v.field in title_fields:
            if v.key and v.value.strip():
                names.setdefault((v.provider, v.contract), {})[v.key] = v.value.strip()
            continue
        if isinstance(v.value, str) and v.field not in counted:
            continue  # other text is not a figure
        month_index(v.month)  # refuses a malformed month
        if v.field in counted and v.key and v.value not in (None, ""):
            rows.setdefault((v.provider, v.contract, v.month), {}).setdefault(v.key, {})[v.field] = v.value
        if v.value is not None and not isinstance(v.value, str):
            held = nums.setdefault((v.provider, v.contract, v.month), {})
            held[v.field] = float(v.value)
            if v.key:
                held[f"{v.field}[{v.key}]"] = float(v.value)  # one row or column of the field
    out: dict[tuple[str, str, str], ContractMonth] = {}
    for key in sorted(set(nums) | set(rows), key=lambda k: (k[0], k[1], month_index(k[2]))):
        n, t = nums.get(key, {}), names.get(key[:2], {})
        profile = (profiles or {}).get(contract_key(key[1]) or "", {})
        targets = {m.id: profile.get(key[2]) for m in section.measures if m.target_from == "profile"}
        figures, parts = _figures(section.measures, n, rows.get(key, {}), targets)
        groups = [g for spec in section.groups for g in _groups(spec, n, t)]
        cm = ContractMonth(*key, figures, parts, groups, targets=targets)
        prev = out.get((key[0], key[1], month_at(month_index(key[2]) - 1)))
        changes = {m.id: None if prev is None else _diff(prev.measure(m.id), cm.measure(m.id))
                   for m in section.measures if m.median}
        out[key] = replace(cm, changes=changes, flags=_flags(cm, section.measures))
    return list(out.values())


def _figures(measures: list[Measure], nums: dict[str, float], rows: dict[str, dict[str, object]],
             targets: dict[str, float | None]):
    figures: dict[str, float | None] = {}
    parts: dict[str, tuple[float | None, float | None]] = {}
    # A part names a field, or a measure declared before this one (a count's share of another count).
    get = lambda f: figures[f] if f in figures else nums.get(f)  # noqa: E731
    for m in measures:
        if m.sum is not None and m.where:
            figures[m.id] = _list_sum(m, rows)
        elif m.sum is not None:
            figures[m.id] = _sum([get(f) for f in m.sum])
        elif m.ratio is not None:
            num, den = _sum([get(f) for f in m.ratio[0]]), _sum([get(f) for f in m.ratio[1]])
            parts[m.id] = (num, den)
            figures[m.id] = _ratio(num, den, m.scale)
        elif m.mean is not None:
            figures[m.id], parts[m.id] = _mean(get(m.mean), _sum([get(f) for f in m.weight]))
        elif m.target_of is not None:
            figures[m.id] = targets.get(m.target_of)
        else:
            figures[m.id] = float(sum(1 for row in rows.values() if row.get(m.count) not in (None, "") and all(
                str(row.get(f, "")).strip() in allowed for f, allowed in m.where.items()))) if rows else None
    return figures, parts


def _kept(row: dict[str, object], where: dict[str, list[str]]) -> bool:
    return all(str(row.get(f, "")).strip() in allowed for f, allowed in where.items())


def _list_sum(m: Measure, rows: dict[str, dict[str, object]]) -> float | None:
    """``sum`` + ``where``: the field added up over the list rows kept by ``where``; None with no rows, or when
    a kept row's figure is not a number (never a total of part of them)."""
    if not rows:
        return None
    values = [row[m.sum[0]] for row in rows.values() if m.sum[0] in row and _kept(row, m.where)]
    if any(isinstance(v, str) or v is None for v in values):
        return None
    return _sum([0.0, *map(float, values)])


def _mean(mean: float | None, cases: float | None) -> tuple[float | None, tuple[float | None, float | None]]:
    """A stated average and its parts (mean x cases, cases); a month with no cases adds nothing to a weighted
    average (an empty time is right then), one with cases and no average leaves a window blank."""
    if cases == 0:
        return mean, (0.0, 0.0)
    return mean, (None if mean is None or cases is None else round(mean * cases, 6), cases)


def _groups(spec, nums: dict[str, float], titles: dict[str, str]) -> list[GroupMeasure]:
    pattern = re.compile(rf"^{re.escape(spec.prefix)}(\d+)_({re.escape(spec.parts)}|{re.escape(spec.outcomes)})$")
    ns = sorted({int(m.group(1)) for f in nums if (m := pattern.match(f))}
                | {int(k[len(spec.prefix):]) for k in titles if re.fullmatch(re.escape(spec.prefix) + r"\d+", k)})
    sizes = {n: nums.get(f"{spec.prefix}{n}_{spec.parts}") for n in ns}
    total = sum(p for p in sizes.values() if p is not None)
    out = []
    for n in ns:
        outcomes = nums.get(f"{spec.prefix}{n}_{spec.outcomes}")
        out.append(GroupMeasure(f"{spec.prefix}{n}", f"{spec.label} {n}", titles.get(f"{spec.prefix}{n}"), sizes[n],
                                outcomes, _ratio(sizes[n], total, 100), _ratio(outcomes, sizes[n], 100)))
    return out


def window_months(history: dict[str, ContractMonth], end: str, window: str,
                  year_start_month: int = 4) -> list[str] | None:
    """The months of a window ending at month ``end`` (``month``, ``rolling_3``, ``rolling_12``, ``cumulative``:
    every month held up to ``end``, or ``contract_year``: from the contract year's first month, or the
    contract's first month held if later, to ``end``); None when one of them has no figures (a window is never
    silently shortened)."""
    last = month_index(end)
    if window == "cumulative":
        months = sorted((k for k in history if month_index(k) <= last), key=month_index)
    elif window == "contract_year":
        first = last - (last % 12 + 1 - year_start_month) % 12
        held = [i for k in history if first <= (i := month_index(k)) <= last]
        months = [month_at(i) for i in range(min(held), last + 1)] if held else []
    else:
        months = [month_at(i) for i in range(last - {"month": 1, "rolling_3": 3, "rolling_12": 12}[window] + 1,
                                              last + 1)]
    if not months or any(k not in history for k in months):
        return None
    return months


def window_value(history: dict[str, ContractMonth], m: Measure, end: str, window: str,
                 year_start_month: int = 4) -> float | None:
    """One contract's ``m`` over a window ending at month ``end`` (window_months). Sums, counts and targets add
    up over the months; a ratio is the ratio of its summed parts and a mean is weighted by its cases, never an
    average of monthly figures. None when a month of the window has no figures or a part is missing."""
    months = window_months(history, end, window, year_start_month)
    if months is None:
        return None
    if m.ratio is not None or m.mean is not None:
        parts = [history[k].parts.get(m.id, (None, None)) for k in months]
        if any(None in p for p in parts):
            return None
        return _ratio(sum(p[0] for p in parts), sum(p[1] for p in parts), m.scale)
    values = [history[k].measure(m.id) for k in months]
    return None if any(v is None for v in values) else round(sum(values), 6)


def window_target(history: dict[str, ContractMonth], m: Measure, end: str, window: str,
                  year_start_month: int = 4) -> float | None:
    """The target ``m`` is compared with over a window: a fixed ``target`` as it is; the contract's own
    (target_from) added up over the window's months, None if a month has none."""
    if m.target_from is None:
        return m.target
    months = window_months(history, end, window, year_start_month)
    targets = [history[k].targets.get(m.id) for k in months or ()]
    return None if not targets or None in targets else round(sum(targets), 6)


def target_of(m: Measure, cm: ContractMonth | None) -> float | None:
    """The figure ``m`` is compared with in a contract's month: its own (target_from) or the spec's target."""
    if m.target_from is not None:
        return cm.targets.get(m.id) if cm else None
    return m.target


def meets_target(m: Measure, value: float | None, target: float | None = None) -> bool | None:
    """Whether ``value`` meets ``target`` (default the measure's) on its better side (None: no target or no value)."""
    target = m.target if target is None else target
    if target is None or value is None:
        return None
    return value >= target if m.direction == "higher" else value <= target


def _diff(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 6)


def _flags(cm: ContractMonth, measures: list[Measure]) -> list[str]:
    # A query, not a rule of the guidance: the words say "for a second look".
    return [f"{m.id} is {v:.2f}, above the plausible maximum of {m.plausible_max:g} ({m.plausible_guidance})"
            for m in measures if m.plausible_max is not None and (v := cm.measure(m.id)) is not None
            and v > m.plausible_max]


def national_months(months: Iterable[ContractMonth], section: PackSpec) -> list[NationalMonth]:
    """National figures and medians across contracts, per month (for comparison with one provider)."""
    by_month: dict[str, list[ContractMonth]] = {}
    for cm in months:
        by_month.setdefault(cm.month, []).append(cm)
    result = []
    for month in sorted(by_month, key=month_index):
        cms = by_month[month]
        values: dict[str, float | None] = {}
        for m in section.measures:
            if m.national == "sum":
                values[m.id] = round(sum(v for cm in cms if (v := cm.measure(m.id)) is not None), 6)
            elif m.national == "ratio":
                both = [cm.parts[m.id] for cm in cms if None not in cm.parts.get(m.id, (None, None))]
                values[m.id] = _ratio(sum(p[0] for p in both), sum(p[1] for p in both), m.scale)
        medians = {m.id: _median([cm.measure(m.id) for cm in cms]) for m in section.measures if m.median}
        targets = {m.id: _total_known([cm.targets.get(m.id) for cm in cms])
                   for m in section.measures if m.target_from is not None}
        result.append(NationalMonth(month, len(cms), values, medians, targets))
    return result


def _total_known(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 6) if known else None


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return median(present) if present else None
