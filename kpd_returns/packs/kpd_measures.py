"""Work Programme KPD measures per provider and month, and national comparisons (KPD 4-23).

Input is the KPD return in long form, plain Python (no database): one ``KpdValue``
(or a plain tuple ``(provider, contract, month, field, value[, key])``) per figure,
with field ids from validators/kpd.toml. Decisions:

* Totals are recomputed from their inputs and never read from the return: FTE Total
  (KPD 9) is the sum of the four staff categories, Total caseload size (KPD 14) the
  sum of the three caseloads. A total with any input missing is None.
* Ratios: job entries per front line FTE (KPD 15) and days lost per FTE (KPD 10 / 9)
  are None when the denominator is 0 or missing. Shares and conversions are
  percentages (0-100, unrounded): a segment's share of all segment participants,
  and job entries / participants per segment or RAG rating (KPD 18-22).
* A quarterly return restates earlier months, so the same figure may come more than
  once: pass values in submission order, the later value wins.
* Text values are titles: ``seg_title``/``rag_title`` with ``key`` "seg1".. (the key
  sheets), or an optional ``titles`` dict; other text is ignored.
* National figures per month: totals (sums over providers), ratios of those totals,
  and medians across providers of each provider's own measures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Iterable

from ..spec.computed import value as computed_value
from ..spec.sheet_model import Computed
from .kpis import KpiConfig, default_config, month_at, month_index

FTE_FIELDS = ("staff_senior", "staff_front_line", "staff_central", "staff_employer")
_FTE_TOTAL = Computed(op="sum", of=list(FTE_FIELDS))  # KPD 9, evaluated as the checks evaluate the spec's
CASELOAD_FIELDS = ("caseload_active", "caseload_in_work", "caseload_not_engaged")
HEADLINE = ("fte_total", "caseload_total", "job_entries", "days_lost",
            "job_entries_per_front_line_fte", "days_lost_per_fte")
_GROUP_FIELD = re.compile(r"^(seg|rag)(\d+)_(participants|job_entries)$")


@dataclass(frozen=True)
class KpdValue:
    provider: str
    contract: str
    month: str  # "YYYY-MM"; ignored for titles
    field: str  # a KPD field id, e.g. "staff_front_line", "seg3_participants", "seg_title"
    value: float | str | None
    key: str = ""  # the key-sheet row ("seg1", "rag2") of a title


@dataclass(frozen=True)
class GroupMeasure:
    """One segment ("seg1".., KPD 18-22) or RAG rating ("rag1"..) in one month."""

    key: str
    title: str | None
    participants: float | None
    job_entries: float | None
    share: float | None  # % of all participants in the provider's segments (or ratings)
    conversion: float | None  # job entries / participants, %


@dataclass(frozen=True)
class ProviderMonth:
    provider: str
    contract: str
    month: str
    fte: dict[str, float | None]  # the four staff categories (KPD 5-8)
    fte_total: float | None  # recomputed (KPD 9)
    caseload: dict[str, float | None]  # the three caseloads (KPD 11-13)
    caseload_total: float | None  # recomputed (KPD 14)
    job_entries: float | None
    days_lost: float | None
    job_entries_per_front_line_fte: float | None  # KPD 15
    days_lost_per_fte: float | None
    segments: list[GroupMeasure] = field(default_factory=list)
    ratings: list[GroupMeasure] = field(default_factory=list)
    changes: dict[str, float | None] = field(default_factory=dict)  # HEADLINE -> change from previous month
    flags: list[str] = field(default_factory=list)  # implausible values, for a second look

    def measure(self, name: str) -> float | None:
        return getattr(self, name)


@dataclass(frozen=True)
class NationalMonth:
    month: str
    providers: int
    totals: dict[str, float]  # sums over providers of FTE, caseload, job entries, days lost
    ratios: dict[str, float | None]  # the KPD 15 and days-lost ratios of those totals
    medians: dict[str, float | None]  # HEADLINE -> median across providers (None if none reported)


def _ratio(num: float | None, den: float | None, scale: float = 1.0) -> float | None:
    return None if num is None or not den else num / den * scale


def _sum(values: Iterable[float | None]) -> float | None:
    values = list(values)
    return None if any(v is None for v in values) else round(sum(values), 6)


def _group(prefix: str, nums: dict[str, float], titles: dict[str, str]) -> list[GroupMeasure]:
    ns = sorted({int(m.group(2)) for f in nums if (m := _GROUP_FIELD.match(f)) and m.group(1) == prefix}
                | {int(k[len(prefix):]) for k in titles if re.fullmatch(prefix + r"\d+", k)})
    parts = {n: nums.get(f"{prefix}{n}_participants") for n in ns}
    total = sum(p for p in parts.values() if p is not None)
    return [GroupMeasure(f"{prefix}{n}", titles.get(f"{prefix}{n}"), parts[n], nums.get(f"{prefix}{n}_job_entries"),
                         _ratio(parts[n], total, 100), _ratio(nums.get(f"{prefix}{n}_job_entries"), parts[n], 100))
            for n in ns]


def _normalise(values: Iterable[KpdValue | tuple]) -> list[KpdValue]:
    return [v if isinstance(v, KpdValue) else KpdValue(*v) for v in values]


def provider_months(values: Iterable[KpdValue | tuple], *,
                    titles: dict[tuple[str, str], dict[str, str]] | None = None,
                    config: KpiConfig | None = None) -> list[ProviderMonth]:
    """Measures per (provider, contract, month), sorted; ``titles`` maps (provider, contract) -> {"seg1": title}."""
    config = config or default_config()
    nums: dict[tuple[str, str, str], dict[str, float]] = {}
    names: dict[tuple[str, str], dict[str, str]] = {k: dict(v) for k, v in (titles or {}).items()}
    for v in _normalise(values):
        if isinstance(v.value, str):
            if v.field in ("seg_title", "rag_title") and v.key and v.value.strip():
                names.setdefault((v.provider, v.contract), {})[v.key] = v.value.strip()
            continue
        month_index(v.month)  # refuses a malformed month
        if v.value is not None:
            nums.setdefault((v.provider, v.contract, v.month), {})[v.field] = float(v.value)
    out: dict[tuple[str, str, str], ProviderMonth] = {}
    for key in sorted(nums, key=lambda k: (k[0], k[1], month_index(k[2]))):
        n, t = nums[key], names.get(key[:2], {})
        fte, caseload = {f: n.get(f) for f in FTE_FIELDS}, {f: n.get(f) for f in CASELOAD_FIELDS}
        fte_total = computed_value(_FTE_TOTAL, fte.get, digits=6)
        pm = ProviderMonth(*key, fte, fte_total, caseload, _sum(caseload.values()), n.get("job_entries"),
                           n.get("days_lost"), _ratio(n.get("job_entries"), fte["staff_front_line"]),
                           _ratio(n.get("days_lost"), fte_total), _group("seg", n, t), _group("rag", n, t))
        prev = out.get((key[0], key[1], month_at(month_index(key[2]) - 1)))
        changes = {h: None if prev is None else _diff(prev.measure(h), pm.measure(h)) for h in HEADLINE}
        out[key] = replace(pm, changes=changes, flags=_flags(pm, config))
    return list(out.values())


def _diff(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 6)


def _flags(pm: ProviderMonth, config: KpiConfig) -> list[str]:
    limits = (("job_entries_per_front_line_fte", config.kpd.max_job_entries_per_front_line_fte, "KPD 15"),
              ("days_lost_per_fte", config.kpd.max_days_lost_per_fte, "KPD 10"))
    return [f"{name} is {pm.measure(name):.2f}, above the plausible maximum of {limit:g} ({ref})"
            for name, limit, ref in limits if pm.measure(name) is not None and pm.measure(name) > limit]


def national_months(measures: Iterable[ProviderMonth]) -> list[NationalMonth]:
    """Totals, ratios of totals and medians across providers, per month (for comparison with one provider)."""
    by_month: dict[str, list[ProviderMonth]] = {}
    for pm in measures:
        by_month.setdefault(pm.month, []).append(pm)
    result = []
    for month in sorted(by_month, key=month_index):
        pms = by_month[month]
        totals = {f: round(sum(v for pm in pms if (v := _input(pm, f)) is not None), 6)
                  for f in (*FTE_FIELDS, "fte_total", *CASELOAD_FIELDS, "caseload_total", "job_entries", "days_lost")}
        both = [pm for pm in pms if pm.job_entries is not None and pm.fte["staff_front_line"] is not None]
        lost = [pm for pm in pms if pm.days_lost is not None and pm.fte_total is not None]
        ratios = {
            "job_entries_per_front_line_fte": _ratio(sum(p.job_entries for p in both),
                                                     sum(p.fte["staff_front_line"] for p in both)),
            "days_lost_per_fte": _ratio(sum(p.days_lost for p in lost), sum(p.fte_total for p in lost)),
        }
        medians = {h: _median([pm.measure(h) for pm in pms]) for h in HEADLINE}
        result.append(NationalMonth(month, len(pms), totals, ratios, medians))
    return result


def _input(pm: ProviderMonth, name: str) -> float | None:
    return pm.fte.get(name, pm.caseload.get(name)) if name in FTE_FIELDS + CASELOAD_FIELDS else pm.measure(name)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return median(present) if present else None
