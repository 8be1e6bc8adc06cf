"""AtW MHSS KPI engine: windows, targets, Cabinet Office tiers and publication rows.

Works on plain Python inputs (``MonthKpiCounts`` from accepted MMIRs), no database.
Configuration (targets, tiers, ratings) is data: validators/kpis.toml.

Decisions (AtW 7.05, 7.16-7.19):

* Windows for report month M: ``in_month`` (M), ``rolling_3`` (M-2..M),
  ``rolling_12`` (M-11..M) and ``cumulative`` (Service Start..M). A rolling window
  that would start before the Service Start Date is clipped to the months since the
  start and flagged ``partial_since_start``; a report month before the start is an error.
* Figures over several months are ratios of summed counts (sum within / sum due),
  never averages of monthly percentages. Cohort ``"all"`` sums both cohorts' counts.
* A window with a missing or rejected month is ``incomplete``: percentage, target
  verdict and tier are None and the missing months are listed; ``due``/``within``
  hold the sums over the months received, for information only. ``due == 0`` gives
  percentage None ("no cases due").
* ``percentage`` is the published figure: 100 * within / due rounded to one decimal
  place, half up, with ``decimal.Decimal`` (never float ``round``). Targets and tier
  boundaries are compared with ``>=`` against that figure, so 89.95 is 90.0 (Good
  for the 2024 cohort) and 89.94 is 89.9 (Near Target).
* Tiers are given for the published KPIs (3-5) on the ``publication_window`` basis
  (rolling 12 months, AtW 7.18) only. Cohort ``"all"`` gets a target or tier only
  where every cohort has the same one (KPI 1 and 2 targets), otherwise None.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..spec.periods import period_of
from ..spec.periods import month_at, month_index  # noqa: F401  (re-exported: the packs import them here)
from ..spec.resources import validators_dir
from .specs import kpi_spec

Window = Literal["in_month", "rolling_3", "rolling_12", "cumulative"]
WINDOWS: tuple[Window, ...] = ("in_month", "rolling_3", "rolling_12", "cumulative")
_SPAN = {"in_month": 1, "rolling_3": 3, "rolling_12": 12}
ALL_COHORTS = "all"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_TENTH = Decimal("0.1")


# ---------------------------------------------------------------- configuration
class KpiConfigError(Exception):
    """validators/kpis.toml (or another KPI config file) is missing or malformed."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierBounds(_M):
    """Lowest percentage (one decimal place) of tiers 4, 3 and 2; below that is tier 1."""

    good: float
    near_target: float
    needs_improvement: float

    @model_validator(mode="after")
    def _ordered(self) -> "TierBounds":
        if not self.good >= self.near_target >= self.needs_improvement:
            raise ValueError("tier bounds must run good >= near_target >= needs_improvement")
        return self

    def tier(self, pct: Decimal) -> int:
        for tier, bound in ((4, self.good), (3, self.near_target), (2, self.needs_improvement)):
            if pct >= Decimal(str(bound)):
                return tier
        return 1


class KpiDef(_M):
    id: int = Field(ge=1)
    name: str
    description: str
    guidance: str
    targets: dict[str, float]
    published: bool = False
    action_prompt: str


class SocialValueDef(_M):
    name: str
    guidance: str
    measures: list[str] = Field(min_length=3, max_length=3)
    action_prompt: str
    tiers: TierBounds


class ContractSettings(_M):
    supplier: str | None = None
    service_start: str | None = Field(default=None, pattern=MONTH_PATTERN)
    tmpls: dict[str, float] = Field(default_factory=dict)


class KpiConfig(_M):
    contracting_authority: str
    default_service_start: str = Field(pattern=MONTH_PATTERN)
    year_start_month: int = Field(default=4, ge=1, le=12)
    publication_window: Window = "rolling_12"
    cohorts: dict[str, str] = Field(min_length=1)
    kpis: list[KpiDef] = Field(min_length=1)
    tiers: dict[str, TierBounds]
    tier_names: dict[str, str]
    reg39: dict[str, str]
    social_value: SocialValueDef
    contracts: dict[str, ContractSettings] = Field(default_factory=dict)
    source_path: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "KpiConfig":
        ids = [k.id for k in self.kpis]
        if len(set(ids)) != len(ids):
            raise ValueError("key 'kpis': each KPI id must appear once")
        for k in self.kpis:
            if set(k.targets) != set(self.cohorts):
                raise ValueError(f"key 'kpis' (id {k.id}): 'targets' needs one entry per cohort {sorted(self.cohorts)}")
        if any(k.published for k in self.kpis) and set(self.tiers) != set(self.cohorts):
            raise ValueError(f"key 'tiers' needs one table per cohort {sorted(self.cohorts)}")
        for key in ("tier_names", "reg39"):
            if set(getattr(self, key)) != {"1", "2", "3", "4"}:
                raise ValueError(f"key '{key}' needs exactly the entries \"1\" to \"4\"")
        return self

    def kpi(self, kpi_id: int) -> KpiDef:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(f"KPI {kpi_id} is not defined in {Path(self.source_path).name or 'the KPI config'}")

    def service_start(self, contract: str | None = None) -> str:
        c = self.contracts.get(contract or "")
        return (c.service_start if c and c.service_start else None) or self.default_service_start

    def tier_name(self, tier: int | None) -> str | None:
        return None if tier is None else self.tier_names[str(tier)]

    def reg39_rating(self, tier: int | None) -> str | None:
        """Procurement Regulations 2024 reg. 39 rating for a tier (4 -> "Good" ...)."""
        return None if tier is None else self.reg39[str(tier)]


def load_kpi_config(path: str | Path | None = None) -> KpiConfig:
    """Load the KPI config (None = the packaged validators/kpis.toml); raise KpiConfigError naming file and key."""
    spec = kpi_spec()
    p = Path(path) if path is not None else validators_dir() / (spec.pack.kpis.config if spec else "kpis.toml")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KpiConfigError(f"{p}: cannot be read ({exc.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KpiConfigError(f"{p.name}: is not valid TOML ({exc}).") from None
    try:
        return KpiConfig(**data, source_path=str(p))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        where = f"key '{loc}': " if loc else ""
        raise KpiConfigError(f"{p.name}: {where}{msg}.") from None


@lru_cache(maxsize=1)
def default_config() -> KpiConfig:
    return load_kpi_config()


# ---------------------------------------------------------------- months
def window_months(report_month: str, window: Window, service_start: str) -> tuple[list[str], bool]:
    """The months of a window, clipped at the Service Start Date, and whether it was clipped."""
    end, start = month_index(report_month), month_index(service_start)
    if end < start:
        raise ValueError(f"report month {report_month} is before the Service Start Date {service_start}")
    if window not in WINDOWS:
        raise ValueError(f"unknown window '{window}' (known: {', '.join(WINDOWS)})")
    first = start if window == "cumulative" else end - _SPAN[window] + 1
    return [month_at(i) for i in range(max(first, start), end + 1)], first < start


def round_pct(numerator: int | float | Decimal, denominator: int | float | Decimal) -> Decimal:
    """100 * numerator / denominator to one decimal place, half up (as published)."""
    return (Decimal(str(numerator)) * 100 / Decimal(str(denominator))).quantize(_TENTH, ROUND_HALF_UP)


# ---------------------------------------------------------------- inputs and results
@dataclass(frozen=True)
class MonthKpiCounts:
    """One provider/contract, one month, one KPI, one referral cohort, from an accepted MMIR."""

    month: str  # "YYYY-MM"
    kpi: int  # 1..5
    cohort: str  # a referral cohort of the KPI config: the suffix of the row keys ([pack.kpis] key_prefix)
    due: int
    within: int
    outside: int


@dataclass(frozen=True)
class WindowResult:
    kpi: int
    cohort: str  # a cohort id or "all"
    window: Window
    months: list[str]
    due: int
    within: int
    percentage: float | None  # 0-100, one decimal place; None if incomplete or no cases due
    target: float | None
    meets_target: bool | None
    gap: float | None  # percentage points below target (0.0 when met)
    incomplete: bool
    missing_months: list[str]
    partial_since_start: bool = False
    tier: int | None = None
    tier_name: str | None = None
    reg39_rating: str | None = None


def _common(values: list[Any]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else None


def _index(counts: Iterable[MonthKpiCounts], config: KpiConfig) -> dict[tuple[str, int, str], MonthKpiCounts]:
    out: dict[tuple[str, int, str], MonthKpiCounts] = {}
    for c in counts:
        if c.cohort not in config.cohorts:
            known = ", ".join(config.cohorts)
            raise ValueError(f"unknown cohort '{c.cohort}' for KPI {c.kpi} in {c.month} (known: {known})")
        if not 0 <= c.within <= c.due:
            raise ValueError(f"KPI {c.kpi} cohort {c.cohort} in {c.month}: {c.within} within target of {c.due} due")
        key = (c.month, c.kpi, c.cohort)
        if key in out:
            raise ValueError(f"KPI {c.kpi} cohort {c.cohort} appears twice for {c.month}")
        out[key] = c
    return out


def kpi_window(counts: Iterable[MonthKpiCounts], kpi: int, cohort: str, report_month: str, window: Window, *,
               missing_months: Iterable[str] = (), service_start: str | None = None,
               config: KpiConfig | None = None) -> WindowResult:
    """One KPI, one cohort (or "all"), one window ending at ``report_month``.

    ``missing_months``: months with no accepted return (missing or rejected) for this contract;
    ``service_start``: the contract's Service Start Date month (default from the config)."""
    config = config or default_config()
    idx = counts if isinstance(counts, dict) else _index(counts, config)
    kdef = config.kpi(kpi)
    months, partial = window_months(report_month, window, service_start or config.default_service_start)
    missing = sorted(set(months) & set(missing_months))
    cohorts = list(config.cohorts) if cohort == ALL_COHORTS else [cohort]
    if cohort != ALL_COHORTS and cohort not in config.cohorts:
        raise ValueError(f"unknown cohort '{cohort}' (known: {', '.join(config.cohorts)}, {ALL_COHORTS})")
    rows = [idx[k] for m in months if m not in missing for c in cohorts if (k := (m, kpi, c)) in idx]
    due, within = sum(r.due for r in rows), sum(r.within for r in rows)
    target = _common([kdef.targets[c] for c in cohorts])
    pct = None if missing or due == 0 else round_pct(within, due)
    tier = None
    if pct is not None and kdef.published and window == config.publication_window:
        bounds = _common([config.tiers[c] for c in cohorts])
        tier = bounds.tier(pct) if bounds else None
    meets = gap = None
    if pct is not None and target is not None:
        meets = pct >= Decimal(str(target))
        gap = float(max(Decimal(0), Decimal(str(target)) - pct))
    return WindowResult(kpi, cohort, window, months, due, within, None if pct is None else float(pct), target,
                        meets, gap, bool(missing), missing, partial, tier, config.tier_name(tier),
                        config.reg39_rating(tier))


def kpi_windows(counts: Iterable[MonthKpiCounts], report_month: str, *, missing_months: Iterable[str] = (),
                service_start: str | None = None, config: KpiConfig | None = None,
                kpis: Iterable[int] | None = None, windows: Iterable[Window] = WINDOWS,
                include_all: bool = True) -> list[WindowResult]:
    """Every KPI x cohort (plus "all") x window, in config order."""
    config = config or default_config()
    idx, missing = _index(counts, config), set(missing_months)
    cohorts = list(config.cohorts) + ([ALL_COHORTS] if include_all else [])
    return [kpi_window(idx, k, c, report_month, w, missing_months=missing, service_start=service_start, config=config)
            for k in (kpis or [d.id for d in config.kpis]) for c in cohorts for w in windows]


# ---------------------------------------------------------------- Social Value KPI
@dataclass(frozen=True)
class SocialValueInput:
    """The Social Value fields the spec names in [pack.kpis.social_value] (AtW 7.16)."""

    measure1_pct: float | None
    measure2_pct: float | None
    companies_over_500: int | None
    measure3_pct: float | None


@dataclass(frozen=True)
class SocialValueResult:
    achieved: tuple[bool, bool, bool]
    achieved_count: int
    percentage: float | None  # 0, 33.3, 66.7 or 100.0; None if incomplete
    tier: int | None
    tier_name: str | None
    reg39_rating: str | None
    incomplete: bool
    missing: list[str]


def social_value_kpi(sv: SocialValueInput, config: KpiConfig | None = None) -> SocialValueResult:
    """Each measure is achieved at 100%; measure 3 also when no company has over 500 employees (AtW 7.16).
    Measured individually, marked collectively: the score is measures achieved / 3 (AtW 7.19)."""
    config = config or default_config()
    missing = [n for n in ("measure1_pct", "measure2_pct", "companies_over_500") if getattr(sv, n) is None]
    if sv.companies_over_500 and sv.measure3_pct is None:
        missing.append("measure3_pct")
    done = lambda v: v is not None and v >= 100  # noqa: E731
    achieved = (done(sv.measure1_pct), done(sv.measure2_pct), sv.companies_over_500 == 0 or done(sv.measure3_pct))
    pct = None if missing else round_pct(sum(achieved), 3)
    tier = None if pct is None else config.social_value.tiers.tier(pct)
    return SocialValueResult(achieved, sum(achieved), None if pct is None else float(pct), tier,
                             config.tier_name(tier), config.reg39_rating(tier), bool(missing), missing)


# ---------------------------------------------------------------- trend
@dataclass(frozen=True)
class TrendPoint:
    month: str
    percentage: float | None
    change: Literal["up", "down", "flat"] | None  # against the month before; None if either is unknown
    incomplete: bool


def direction(previous: float | None, current: float | None) -> Literal["up", "down", "flat"] | None:
    if previous is None or current is None:
        return None
    return "up" if current > previous else "down" if current < previous else "flat"


def trend(counts: Iterable[MonthKpiCounts], kpi: int, cohort: str, report_month: str, *, n: int = 12,
          missing_months: Iterable[str] = (), service_start: str | None = None,
          config: KpiConfig | None = None) -> list[TrendPoint]:
    """The last ``n`` in-month percentages to ``report_month`` (from the Service Start) with up/down/flat arrows."""
    config = config or default_config()
    idx, missing = _index(counts, config), set(missing_months)
    start = service_start or config.default_service_start
    first = max(month_index(report_month) - n, month_index(start))
    res = [kpi_window(idx, kpi, cohort, month_at(i), "in_month", missing_months=missing, service_start=start,
                      config=config) for i in range(first, month_index(report_month) + 1)]
    points = [TrendPoint(r.months[0], r.percentage, direction(p.percentage, r.percentage) if p else None, r.incomplete)
              for p, r in zip([None] + res[:-1], res)]
    return points[-n:]
