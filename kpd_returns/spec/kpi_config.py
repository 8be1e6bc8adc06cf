"""The KPI engine's configuration, as data: the referral cohorts, the KPIs with their targets and
guidance paragraphs, the Cabinet Office tiers, the Procurement Regulations 2024 reg. 39 ratings, the
Social Value KPI and each contract's settings (its Service Start Date). The file is the one named by the
``[pack.kpis] config`` of the return whose spec has ``[pack.kpis]`` (``kpi_spec``), in validators/.

Read by the KPI windows (``spec.kpi_windows``), the submissions register (a contract's Service Start
Date decides from when it owes that return) and the packs. No return is named here.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .model import contract_key
from .periods import MONTH_PATTERN
from .resources import validators_dir
from .small_files import SmallFileError, load_toml_file
from .return_spec import ReturnSpec, load_all

Window = Literal["in_month", "rolling_3", "rolling_12", "cumulative"]
WINDOWS: tuple[Window, ...] = ("in_month", "rolling_3", "rolling_12", "cumulative")
DEFAULT_CONFIG_FILE = "kpis.toml"  # when no spec has [pack.kpis]: the packaged file


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


def kpi_spec() -> ReturnSpec | None:
    """The return whose KPIs the KPI engine rates per contract (the first with [pack.kpis], in pack
    section order), if any."""
    with_kpis = [s for s in load_all().values() if s.pack is not None and s.pack.kpis is not None]
    return min(with_kpis, key=lambda s: (s.pack.order, s.id), default=None)


def load_kpi_config(path: str | Path | None = None) -> KpiConfig:
    """Load a KPI config (None: the one ``kpi_spec`` names); raise KpiConfigError naming the file and key."""
    spec = kpi_spec()
    p = Path(path) if path is not None else validators_dir() / (spec.pack.kpis.config if spec else DEFAULT_CONFIG_FILE)
    try:  # a small regular file only (spec.small_files)
        data = load_toml_file(p)
    except OSError as exc:
        raise KpiConfigError(f"{p}: cannot be read ({exc.strerror}).") from None
    except SmallFileError as exc:
        raise KpiConfigError(f"{p.name}: {exc}") from None
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
    """The KPI config of the return with [pack.kpis] (``kpi_spec``), or the packaged file if none has it."""
    spec = kpi_spec()
    return config_named(spec.pack.kpis.config if spec else DEFAULT_CONFIG_FILE)


@lru_cache(maxsize=8)
def config_named(name: str) -> KpiConfig:
    """The KPI config file ``name`` of the validators folder (as a spec's [pack.kpis] config names it)."""
    return load_kpi_config(validators_dir() / name)


def configured_start(spec: ReturnSpec, contract: str | None) -> str | None:
    """A contract's Service Start Date month ([contracts."REF"] service_start) in the KPI config its
    return's spec names ([pack.kpis] config), if the spec names one and the config sets it."""
    if spec.pack is None or spec.pack.kpis is None or not contract:
        return None
    key = contract_key(contract)
    return next((c.service_start for ref, c in config_named(spec.pack.kpis.config).contracts.items()
                 if contract_key(ref) == key and c.service_start), None)
