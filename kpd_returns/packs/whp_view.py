"""One Work and Health Programme contract as a pack shows it: the standards of the report month with their
counts, bases and breaches, the compliance samples, the tMPLs by window and cohort with their levels, the
pipeline of the cohorts in progress, the PMIR levels and their history, and the attention items.

Built from two DataFrames (packs.whp_css, packs.whp_cohorts) and the WHP register (spec.whp_config); the
renderers (pack_html's template ``_whp.html.j2``, pack_excel_whp) only lay it out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ..spec.kpi_windows import round_pct
from ..spec.periods import month_title
from ..spec.whp_config import (GROUP_TITLES, GROUPS, PMIR_LEVELS, TMPL_NUMBER, ComplianceSample, Levels, PmirEntry,
                               WhpConfig)
from .attention import AttentionItem, sort_items
from .whp_attention import css_items, no_levels_item, pi_items, sample_items, tmpl_items
from .whp_cohorts import LEVEL_NOT_SET, PIS, CohortBook, CohortFigure, PipelineFigure, WindowFigure
from .whp_css import CssClock, CssFigure, CssWindow

TREND_COHORTS = 12  # the in-progress cohorts the PI chart and table show (the latest)
MATURED_SHOWN = 12  # the matured cohorts the cohort table shows (the latest)
CSS_SAMPLED = {5: "An agreed Action Plan in place within 20 working days of the referral, for every start",
               6: "The ESF1420m form (Initial) sent within 5 working days of the participant's signature"}


@dataclass(frozen=True)
class SampleLine:
    css: int
    standard: str
    sample: ComplianceSample | None

    @property
    def percentage(self) -> float | None:
        s = self.sample
        return None if s is None else float(round_pct(s.passes, s.size))

    @property
    def figure_text(self) -> str:
        s = self.sample
        if s is None:
            return "No sample recorded"
        return f"{self.percentage:.1f}% ({s.passes:,} of {s.size:,} records checked, {month_title(s.month)})"

    @property
    def meets(self) -> bool | None:
        return None if self.sample is None else self.sample.passes == self.sample.size


@dataclass
class WhpContract:
    provider: str
    contract: str
    region: str
    month: str
    css: list[CssFigure]
    breaches: dict[str, list[str]]
    css_windows: list[CssWindow]  # CSS 1a, 1b and 2 over the four windows (16.8)
    samples: list[SampleLine]
    windows: dict[str, list[WindowFigure]]  # group -> windows
    cohorts: dict[str, list[CohortFigure]]  # group -> matured cohorts shown (latest MATURED_SHOWN)
    pipeline: dict[str, list[PipelineFigure]]  # pi -> CPA headline, in-progress cohorts shown
    levels: Levels
    pmir_current: list[PmirEntry]
    pmir_history: list[PmirEntry]
    attention: list[AttentionItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    groups = GROUPS
    group_titles = GROUP_TITLES
    tmpl_number = TMPL_NUMBER
    pmir_words = PMIR_LEVELS
    pi_titles = PIS

    @property
    def pmir_text(self) -> str:
        if not self.pmir_current:
            return "No PMIR level recorded in the WHP register."
        return "; ".join(f"{PMIR_LEVELS[e.level]} (since {e.date:%d %B %Y})" for e in self.pmir_current) + "."

    @property
    def levels_set(self) -> bool:
        return any(self.levels.of(g) is not None for g in GROUPS)

    def level_text(self, group: str) -> str:
        level = self.levels.of(group)
        return LEVEL_NOT_SET if level is None else f"{level:g}%"

    @property
    def cohort_months(self) -> list[str]:
        return [c.cohort for c in self.cohorts.get("cpa", [])]

    def css_window(self, css: str, window: str) -> CssWindow | None:
        return next((w for w in self.css_windows if w.css == css and w.window == window), None)

    def cohort_cell(self, group: str, cohort: str) -> CohortFigure | None:
        return next((c for c in self.cohorts.get(group, []) if c.cohort == cohort), None)


def whp_contract(provider: str, contract: str, month: str, referrals: pd.DataFrame | None,
                 starts: pd.DataFrame | None, config: WhpConfig, *, as_of: dt.date | None = None) -> WhpContract:
    """The contract's view for report month ``month``; either frame may be None (that extract not received)."""
    entry = config.contract(contract)
    notes: list[str] = []
    css: list[CssFigure] = []
    breaches: dict[str, list[str]] = {}
    css_windows: list[CssWindow] = []
    if referrals is not None and len(referrals):
        clock = CssClock(referrals, entry.region)
        css = clock.figures(month)
        css_windows = clock.windows(month, entry.service_start or clock.first_month())
        breaches = {f.css: clock.breaches(month, f.css) for f in css if f.meets is False}
    else:
        notes.append("No referrals extract for this contract: CSS 1 to 4 cannot be measured.")
    windows: dict[str, list[WindowFigure]] = {}
    cohorts: dict[str, list[CohortFigure]] = {}
    pipeline: dict[str, list[PipelineFigure]] = {}
    items: list[AttentionItem] = []
    levels = entry.levels
    if starts is not None and len(starts):
        book = CohortBook(starts, month, levels, entry.service_start)
        for g in GROUPS:
            windows[g] = book.windows(g)
            cohorts[g] = [c for c in book.figures(g) if c.matured][-MATURED_SHOWN:]
            items += pi_items(provider, contract, g, levels.of(g), book.projections(g))
        # The latest in-progress cohorts, month by month (one with no starts has no share: a gap in the chart).
        pipeline = {pi: book.pipeline("cpa", pi)[-TREND_COHORTS:] for pi in PIS}
        items += tmpl_items(provider, contract, [w for ws in windows.values() for w in ws])
        if not any(windows.values()):
            notes.append("No cohort of starts has yet had its 639 days (WHP 16.15): every cohort is in progress.")
    else:
        notes.append("No starts and outcomes extract for this contract: the tMPLs cannot be measured.")
    if not any(levels.of(g) is not None for g in GROUPS):
        items.append(no_levels_item(provider, contract))
    items += css_items(provider, contract, css)
    samples = [SampleLine(n, CSS_SAMPLED[n], (config.samples(contract, n) or [None])[-1]) for n in (5, 6)]
    items += sample_items(provider, contract, samples)
    return WhpContract(provider, contract, entry.region, month, css, breaches, css_windows, samples, windows, cohorts,
                       pipeline, levels, config.pmir_current(contract, as_of), config.pmir_history(contract),
                       sort_items(items), notes)
