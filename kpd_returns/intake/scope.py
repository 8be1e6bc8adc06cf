"""Which periods a consolidate run's outputs cover (--period), per return type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .registry import period_bounds
from ..spec.constants import plausible_year, years_text
from ..spec.return_spec import ReturnSpec, load_all


# -- scope: which periods the outputs cover ---------------------------------------------------------
@dataclass
class Scope:
    """``selected``: return id -> the periods asked for (None: every period)."""

    selected: dict[str, list[str]] | None = None

    @classmethod
    def from_periods(cls, periods: Sequence[str] | None, specs: dict[str, ReturnSpec] | None = None) -> "Scope":
        if not periods:
            return cls(None)
        specs = specs or load_all()
        selected: dict[str, list[str]] = {}
        for p in periods:
            matched = False
            for rid, spec in specs.items():
                b = period_bounds(spec, p)
                if b and not (plausible_year(b.start.year) and plausible_year(b.end.year)):
                    raise ValueError(f"The period '{p}' is outside the years a return can mean ({years_text()}).")
                if b:
                    selected.setdefault(rid, []).append(b[0])
                    matched = True
            if not matched:
                forms = "; ".join(f"{s.short_title}, a {s.period.noun}: {s.period.example}" for s in specs.values())
                raise ValueError(f"The period '{p}' is not a period of any return type ({forms}).")
        return cls(selected)

    def return_ids(self, specs: dict[str, ReturnSpec]) -> list[str]:
        return sorted(specs) if self.selected is None else sorted(self.selected)

    def periods_in_scope(self, spec: ReturnSpec, periods: Iterable[str]) -> set[str]:
        """Which of ``periods`` the outputs cover: a month selects its contract year to date."""
        periods = set(periods)
        if self.selected is None:
            return periods
        chosen = self.selected.get(spec.id, [])
        out: set[str] = set()
        for sel in chosen:
            b = period_bounds(spec, sel)
            if not spec.period.monthly:
                out.add(b[0])
                continue
            year_start = spec.period.contract_year_start(b.start)
            for p in periods:
                pb = period_bounds(spec, p)
                if pb and year_start <= pb[1] <= b[1]:
                    out.add(pb[0])
            out.add(b[0])
        return out

    def label(self, spec: ReturnSpec) -> str:
        if self.selected is None:
            return "all periods in the ledger"
        chosen = self.selected.get(spec.id, [])
        if spec.period.monthly:
            return "contract year to date up to " + ", ".join(chosen)
        return "period " + ", ".join(chosen)
