"""The Work and Health Programme register: what DWP knows of each contract that PRaP does not say.

One TOML file (``whp.toml``; docs in README "Work and Health Programme") with three kinds of table,
each keyed by the contract reference the extracts carry:

* ``[contracts."<ref>"]``: the contract's ``region`` (whose bank holidays make its working days, CSS 1-4,
  WHP 16.28), the first month of its cohorts (``service_start``, "YYYY-MM"), and its performance levels
  (``[contracts."<ref>".levels]``: ``cpa``, ``disability``, ``early_entry``, ``ltu``, ``dda``, each a
  percentage conversion rate, tMPLs 1-5 of 16.26). The levels are in Schedule 2 of each contract (16.24) and
  are not public: there are no defaults, and a level left out is "level not set" in every output.
* ``[[pmir]]``: the Performance Management and Intervention Regime register (16.4-16.11): one row per
  change, ``contract``, ``level`` (1-4), ``action`` ("entered" or "left"), ``date`` and a ``note``. Levels run
  independently or at once (16.5), so a contract may be at several; its current levels are those entered and
  not left since. The tool records and shows levels; it never decides one.
* ``[[compliance]]``: a compliance monitoring sample for CSS 5 or 6 (16.29, 16.33-16.41): ``contract``, ``css``
  (5 or 6), ``month`` ("YYYY-MM", when checked), ``size`` (records checked) and ``passes``. Shown as recorded,
  never inferred from the extracts.

Unknown keys are refused, as in every spec table; a problem is one sentence naming the file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .constants import DEFAULT_REGION
from .periods import month_index
from .workdays import REGIONS

GROUPS = ("cpa", "disability", "early_entry", "ltu", "dda")  # tMPLs 1-5, WHP 16.26
TMPL_NUMBER = {g: i for i, g in enumerate(GROUPS, start=1)}
GROUP_TITLES = {"cpa": "CPA headline", "disability": "Disability group", "early_entry": "Early Entry group",
                "ltu": "Long-term unemployed group", "dda": "DDA headline"}
PMIR_LEVELS = {1: "Level 1: Performance Management Regime", 2: "Level 2: informal action, Performance Manager led",
               3: "Level 3: informal action, Senior Management led", 4: "Level 4: formal action, DWP Commercial"}


class WhpConfigError(ValueError):
    """The register cannot be used: one plain sentence naming the file."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Levels(_Model):
    cpa: float | None = Field(None, ge=0, le=100)
    disability: float | None = Field(None, ge=0, le=100)
    early_entry: float | None = Field(None, ge=0, le=100)
    ltu: float | None = Field(None, ge=0, le=100)
    dda: float | None = Field(None, ge=0, le=100)

    def of(self, group: str) -> float | None:
        return getattr(self, group)


def _month(v: str) -> str:
    month_index(v)  # ValueError when not "YYYY-MM"
    return v


class Contract(_Model):
    region: str = DEFAULT_REGION
    service_start: str | None = None
    levels: Levels = Levels()

    @model_validator(mode="after")
    def _check(self) -> "Contract":
        if self.region not in REGIONS:
            raise ValueError(f"region '{self.region}' is not one of {', '.join(REGIONS)}")
        if self.service_start is not None:
            _month(self.service_start)
        return self


class PmirEntry(_Model):
    contract: str
    level: int = Field(ge=1, le=4)
    action: Literal["entered", "left"]
    date: dt.date
    note: str = ""


class ComplianceSample(_Model):
    contract: str
    css: Literal[5, 6]
    month: str
    size: int = Field(ge=1)
    passes: int = Field(ge=0)

    @model_validator(mode="after")
    def _check(self) -> "ComplianceSample":
        _month(self.month)
        if self.passes > self.size:
            raise ValueError(f"passes ({self.passes}) are more than the sample size ({self.size})")
        return self


class WhpConfig(_Model):
    contracts: dict[str, Contract] = {}
    pmir: list[PmirEntry] = []
    compliance: list[ComplianceSample] = []

    def contract(self, ref: str) -> Contract:
        """The contract's entry; one with no entry has the default region and no levels."""
        return self.contracts.get(ref, Contract())

    def level(self, ref: str, group: str) -> float | None:
        return self.contract(ref).levels.of(group)

    def pmir_history(self, ref: str) -> list[PmirEntry]:
        return sorted((e for e in self.pmir if e.contract == ref), key=lambda e: (e.date, e.level))

    def pmir_current(self, ref: str, on: dt.date | None = None) -> list[PmirEntry]:
        """The entries that put the contract at each level it is at now (on ``on``): entered and not left since."""
        now: dict[int, PmirEntry] = {}
        for e in self.pmir_history(ref):
            if on is not None and e.date > on:
                break
            if e.action == "entered":
                now[e.level] = e
            else:
                now.pop(e.level, None)
        return [now[k] for k in sorted(now)]

    def samples(self, ref: str, css: int | None = None) -> list[ComplianceSample]:
        return sorted((s for s in self.compliance if s.contract == ref and css in (None, s.css)),
                      key=lambda s: (s.css, month_index(s.month)))


def whp_config_from_text(text: str, name: str) -> WhpConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WhpConfigError(f"{name}: is not valid TOML ({exc}).") from None
    try:
        return WhpConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "the file"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise WhpConfigError(f"{name}: {where}: {msg}.") from None


def load_whp_config(path: str | Path) -> WhpConfig:
    """Read the register; WhpConfigError (one sentence naming the file) when it cannot be used."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WhpConfigError(f"{path.name}: could not be read ({exc.__class__.__name__}).") from None
    return whp_config_from_text(text, path.name)
