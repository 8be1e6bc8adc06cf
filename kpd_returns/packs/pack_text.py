"""The records and words of a performance pack: a KPI line, its cells, tier, change and chart description.

Both renderers (Excel and HTML) print these strings, so a PM reads the same words in
either. Meaning is never carried by colour alone: every tier is "4 - Good" in words,
every change has "up"/"down" as well as an arrow, every gap in the data is named.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .attention import AttentionItem
from .kpis import MonthKpiCounts, SocialValueInput, SocialValueResult, TrendPoint, WindowResult, month_at, month_index
from ..spec.deadlines import deadline_guidance
from ..spec.periods import month_title, period_title
from ..spec.return_spec import display_name
from ..spec.words import plural
from .specs import kpi_spec, pack_specs
from ..spec.resources import templates_dir


@lru_cache(maxsize=1)
def load_notes() -> dict:
    """templates/pack-notes.toml: the packs' general notes, and the Work and Health Programme's ([whp])."""
    return tomllib.loads((templates_dir() / "pack-notes.toml").read_text(encoding="utf-8"))

if TYPE_CHECKING:  # measure_view builds on this module's words
    from ..spec.pack_spec import PackSpec
    from .measure_view import MeasureSection

TREND_MONTHS = 12  # months in each trend chart and in the register shown
WINDOW_LABELS = {"in_month": "in month", "rolling_3": "rolling 3 months", "rolling_12": "rolling 12 months",
                 "cumulative": "cumulative"}
WINDOW_HEADINGS = {"in_month": "In month", "rolling_3": "Rolling 3 months", "rolling_12": "Rolling 12 months",
                   "cumulative": "Cumulative"}
TIER_COLOURS = {  # GOV.UK tag colours: (text, background), contrast above 7:1
    4: ("#005a30", "#cce2d8"), 3: ("#594d00", "#fff7bf"), 2: ("#6e3619", "#fcd6c3"), 1: ("#2a0b06", "#f4cdc6")}


def short_month(month: str, full: bool = False) -> str:
    """'2026-10' -> 'Oct 2026' (or 'October 2026', spec.periods.month_title)."""
    title = month_title(month)
    return title if full else f"{title[:3]} {month[:4]}"


def month_list(months: list[str], limit: int = 3) -> str:
    """Months in a sentence, as words ("September 2026, October 2026 and 2 more"), never "2026-09"."""
    words = [period_title(m) for m in months]
    if len(words) <= limit:
        return ", ".join(words)
    return f"{', '.join(words[:limit])} and {len(words) - limit} more"


def pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def num(value: float | None, places: int = 2) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{places}f}"


def tier_words(tier: int | None, name: str | None) -> str:
    return "" if tier is None else f"{tier} - {name}"


@dataclass(frozen=True)
class Coverage:
    """The contracts a national figure sums (pack_national): ``counted`` sent every return they owed
    in the window; ``not_counted`` owed one or more they have not sent (contract, months missing)."""

    counted: tuple[str, ...]
    not_counted: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def owing(self) -> int:
        return len(self.counted) + len(self.not_counted)

    def short(self, due: int | None = None) -> str:
        """'5 of 6 contracts, 55 cases due'."""
        text = f"{len(self.counted)} of {self.owing} contract{'' if self.owing == 1 else 's'}"
        return text + (f", {due:,} case{'' if due == 1 else 's'} due" if due is not None and self.counted else "")

    @property
    def missing_text(self) -> str:
        """'not counted: AtW-MHSS-C058 (2026-10 missing)', or '' when every contract owing is counted."""
        if not self.not_counted:
            return ""
        return "not counted: " + "; ".join(f"{c} ({month_list(list(ms))} missing)" for c, ms in self.not_counted)


@dataclass(frozen=True)
class KpiLine:
    """One KPI for one referral cohort of one contract, on every window, with its 12-month trend."""

    contract: str
    kpi: int
    name: str
    cohort: str
    cohort_label: str
    published: bool
    target: float | None
    results: dict[str, WindowResult]
    trend: list[TrendPoint]
    guidance: str
    publication_window: str = "rolling_12"
    month_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # month -> (due, within)
    coverage: dict[str, Coverage] | None = None  # national lines: window -> the contracts summed

    @property
    def label(self) -> str:
        return f"KPI {self.kpi} {self.name}"

    @property
    def key(self) -> str:
        return f"{self.contract}-kpi{self.kpi}-{self.cohort}"

    def cell(self, window: str) -> tuple[float | None, str]:
        """(percentage or None, words): '92.3%', 'Incomplete: 2026-02 missing' or 'No cases due'.
        A national line says whom it covers: '90.9% (5 of 6 contracts, 55 cases due)'."""
        r = self.results[window]
        if self.coverage is not None:
            cov = self.coverage[window]
            if not cov.counted:
                return None, f"No figure: no contract sent every return ({cov.short()})"
            if r.percentage is None:
                return None, f"No cases due ({cov.short()})"
            return r.percentage, f"{r.percentage:.1f}% ({cov.short(r.due)})"
        if r.incomplete:
            return None, f"Incomplete: {month_list(r.missing_months)} missing"
        if r.percentage is None:
            return None, "No cases due"
        note = " (since start)" if r.partial_since_start else ""
        return r.percentage, f"{r.percentage:.1f}%{note}"

    @property
    def meets_text(self) -> str:
        below = [WINDOW_LABELS[w] for w, r in self.results.items() if r.meets_target is False]
        unknown = [WINDOW_LABELS[w] for w, r in self.results.items() if r.meets_target is None]
        if below:
            return f"No: below target {', '.join(below)}"
        if not unknown:
            return "Yes: on every basis"
        if len(unknown) == len(self.results):
            return "Not known"
        return f"Yes where known (not known: {', '.join(unknown)})"

    @property
    def meets(self) -> bool | None:
        flags = [r.meets_target for r in self.results.values()]
        return False if False in flags else None if None in flags else True

    @property
    def tier_result(self) -> WindowResult:
        return self.results[self.publication_window]

    @property
    def tier(self) -> int | None:
        return self.tier_result.tier if self.published else None

    @property
    def tier_text(self) -> str:
        if not self.published:
            return "Not published (no tier)"
        r = self.tier_result
        if r.tier is not None:
            return tier_words(r.tier, r.tier_name)
        return "Not rated: incomplete" if r.incomplete else "Not rated: no cases due"

    @property
    def change_text(self) -> str:
        """In-month percentage against the month before: '▲ up 2.1 points', '▼ down 0.5 points', 'No change'."""
        if len(self.trend) < 2:
            return "Not known: first month"
        prev, cur = self.trend[-2], self.trend[-1]
        if prev.percentage is None or cur.percentage is None:
            gap = [p for p in (prev, cur) if p.percentage is None]
            why = (f"{period_title(gap[0].month)} missing" if gap[0].incomplete
                   else f"no cases due in {period_title(gap[0].month)}")
            return f"Not known: {why}"
        delta = round(cur.percentage - prev.percentage, 1)
        if delta == 0:
            return "No change"
        return f"▲ up {delta:.1f} points" if delta > 0 else f"▼ down {-delta:.1f} points"

    @property
    def months12(self) -> list[str]:
        return [p.month for p in self.trend]

    @property
    def has_figures(self) -> bool:
        """Whether any month of the trend has a percentage: a chart is drawn only then."""
        return any(p.percentage is not None for p in self.trend)

    def gap_word(self, p: TrendPoint) -> str:
        """Why a month has no point on the chart: 'no return', 'none due' or '' (it has one)."""
        if p.percentage is not None:
            return ""
        return "no return" if p.incomplete else "none due"

    def point_note(self, p: TrendPoint) -> str:
        if p.incomplete:
            return "No contract sent a return" if self.coverage is not None else "Return missing or rejected"
        if p.percentage is None:
            return "No cases due"
        if self.target is None:
            return ""
        return "Meets target" if p.percentage >= self.target else f"Below target by {self.target - p.percentage:.1f}"

    @property
    def chart_title(self) -> str:
        return f"{self.label} ({self.cohort_label}), {self.contract}: in-month % against target"

    def chart_description(self) -> str:
        pts = [p for p in self.trend if p.percentage is not None]
        if not self.trend:
            return "No months to show."
        span = f"{short_month(self.trend[0].month)} to {short_month(self.trend[-1].month)}"
        text = f"In-month percentage of cases within target, {span}"
        text += f", against a target of {self.target:g}%." if self.target is not None else "."
        if not pts:
            return text + " No month in the period has a percentage."
        last = pts[-1]
        text += f" Latest {last.percentage:.1f}% in {short_month(last.month)}."
        if self.target is not None:
            met = sum(1 for p in pts if p.percentage >= self.target)
            text += f" At or above target in {met} of {plural(len(pts), 'month')} with figures."
        gaps = [p.month for p in self.trend if p.incomplete]
        if gaps:
            text += f" Gaps where the return is missing or rejected: {month_list(gaps, 4)}."
        none_due = [p.month for p in self.trend if not p.incomplete and p.percentage is None]
        if none_due:
            text += f" Gaps where no cases were due: {month_list(none_due, 4)}."
        return text


@dataclass(frozen=True)
class SocialValueView:
    contract: str
    quarter_end: str
    quarter: str
    input: SocialValueInput | None
    companies: float | None
    result: SocialValueResult | None
    received: bool  # an accepted return exists for the quarter-end month

    @property
    def tier_text(self) -> str:
        if self.result and self.result.tier is not None:
            return tier_words(self.result.tier, self.result.tier_name)
        if not self.received:
            return f"Not rated: the {self.quarter_end} return is missing or rejected"
        return "Not rated: measures not returned"

    @property
    def score_text(self) -> str:
        r = self.result
        if r is None or r.incomplete:
            return "Not known"
        return f"{r.achieved_count} of 3 measures achieved ({r.percentage:.1f}%)"

    def measures(self) -> list[tuple[str, str, str]]:
        """(measure, returned value, achieved?) for the three measures."""
        i, r = self.input, self.result
        vals = [i.measure1_pct, i.measure2_pct, i.measure3_pct] if i else [None, None, None]
        out = []
        for n, v in enumerate(vals):
            shown = pct(v) or ("No companies over 500 employees" if n == 2 and i and i.companies_over_500 == 0
                               else "Not returned")
            done = "Not known" if r is None or r.incomplete else ("Achieved" if r.achieved[n] else "Not achieved")
            out.append((f"Measure {n + 1}", shown, done))
        return out


@dataclass
class ContractKpis:
    contract: str
    provider: str
    service_start: str
    missing: list[str]
    lines: list[KpiLine]
    counts: list[MonthKpiCounts]
    windows: list[WindowResult]
    social_value: SocialValueView | None = None
    notes: list[str] = field(default_factory=list)
    service_end: str | None = None  # the last month owed (registry.owed_span), None while the contract runs
    coverage: dict[str, Coverage] | None = None  # national: window -> contracts summed
    no_returns: bool = False  # no accepted return yet: nothing to rate, said in ``notes``

    @property
    def missing_text(self) -> str:
        if self.coverage is not None:
            parts = [f"{WINDOW_HEADINGS[w]}: {cov.short()}" + (f", {cov.missing_text}" if cov.missing_text else "")
                     for w, cov in self.coverage.items()]
            return "Contracts counted on each basis. " + "; ".join(parts) + "."
        if self.no_returns:
            return ""  # the note in ``notes`` says it, with the first return's deadline
        return f"Months with no accepted return: {month_list(self.missing, 6)}." if self.missing else \
            "Every month since the Service Start Date has an accepted return."


STATUS_TAGS = {"missing": "missing", "late": "late", "rejected only": "rejected", "on time": "on-time",
               "not yet due": "not-yet-due"}  # register status -> CSS tag (status-...) and Excel format


def when_text(value: Any) -> str:
    """A submission or deadline time as words: a date-only submission (the return gave only its date,
    stored as a date) shows the date alone, never "00:00" (issue 19 item 20)."""
    if value is None or value == "":
        return ""
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "hour") else str(value)


def register_text(row: dict[str, Any]) -> dict[str, str]:
    """A submissions-register row in words."""
    when = when_text
    late, files = row.get("late_working_days"), row.get("files")
    if isinstance(files, (list, tuple)):
        files = ", ".join(str(f) for f in files)
    status = str(row.get("status") or "")
    if status == "late" and late:
        status = f"late by {late} working day{'s' if late != 1 else ''}"
    tag = STATUS_TAGS.get(str(row.get("status") or ""), "")
    return {"tag": tag, "return": display_name(row.get("return_id")), "contract": str(row.get("contract") or ""),
            "period": str(row.get("period") or ""), "status": status, "received": when(row.get("received_at")),
            "deadline": when(row.get("deadline")), "resubmissions": str(row.get("resubmissions") or 0),
            "files": str(files if files not in (None, "") else "")}


# ---------------------------------------------------------------- the pack
@dataclass(frozen=True)
class AttentionLine:
    contract: str
    item: AttentionItem


@dataclass
class PackData:
    provider: str  # "National overview" for the national pack
    slug: str
    period: str  # the report month "YYYY-MM"
    as_of: dt.date
    marking: str
    is_national: bool = False
    contracts: list[ContractKpis] = field(default_factory=list)
    sections: list[MeasureSection] = field(default_factory=list)  # one per return with [[pack.measures]]
    attention: list[AttentionLine] = field(default_factory=list)
    register: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # data notes (rows not counted...)
    overview: list[tuple[str, KpiLine]] = field(default_factory=list)  # national: (provider, line)
    sv_overview: list[tuple[str, SocialValueView]] = field(default_factory=list)
    attention_summary: list[dict] = field(default_factory=list)
    whp: list[Any] = field(default_factory=list)  # packs.whp_view.WhpContract per WHP contract (packs.whp_pack)
    reviews: list = field(default_factory=list)  # plan_review.PlanReview per contract (WHP ch.16 23)

    @property
    def title(self) -> str:
        what = "National overview" if self.is_national else self.provider
        return f"Contract performance pack: {what}, {short_month(self.period, full=True)}"

    @property
    def held(self) -> list[tuple[str, "PackSpec"]]:
        """(return id, pack section) of the returns this pack holds, in section order: the KPI return's
        when it has KPI contracts, and each measures section's."""
        kpis = kpi_spec()
        ids = ({kpis.id} if kpis and (self.contracts or self.overview) else set()) | {s.return_id
                                                                                     for s in self.sections}
        return [(s.id, s.pack) for s in pack_specs() if s.id in ids]

    @property
    def lead(self) -> "PackSpec | None":
        """The first section the pack holds (the last declared for a pack with none): it says what the pack serves."""
        held = self.held or [(s.id, s.pack) for s in pack_specs()[-1:]]
        return held[0][1] if held else None

    @property
    def review_basis(self) -> str:
        """The guidance the pack serves: its lead section's (AtW chapter 7 for the MMIR, the KPD guidance)."""
        return self._whp_only("review_basis") or (self.lead.guidance if self.lead else "")

    @property
    def action_plan_basis(self) -> str:
        return self._whp_only("action_plan_basis") or (self.lead.action_plan_guidance if self.lead else "")

    def _whp_only(self, key: str) -> str:
        """The WHP notes' ``key`` (templates/pack-notes.toml [whp]) for a pack of WHP contracts only, else ""."""
        return str(load_notes().get("whp", {}).get(key, "")) if self.whp and not self.held else ""

    @property
    def contract_summary(self) -> str:
        """'C1 (AtW MHSS); CPA 07, CPA 09 (Work Programme KPD)': the pack's contracts by return."""
        parts = [f"{c.contract} ({self.kpi_label})" for c in self.contracts]
        whp = [f"{', '.join(w.contract for w in self.whp)} (Work and Health Programme)"] if self.whp else []
        return "; ".join(parts + [f"{', '.join(s.contracts())} ({s.spec.label})" for s in self.sections] + whp)

    @property
    def contract_list(self) -> list[str]:
        """Each of the pack's contracts with its return: 'C1 (AtW MHSS)', 'CPA 07 (Work Programme KPD)'."""
        return [f"{c.contract} ({self.kpi_label})" for c in self.contracts] + [
            f"{c} ({s.spec.label})" for s in self.sections for c in s.contracts()] + [
            f"{w.contract} (Work and Health Programme)" for w in self.whp]

    @property
    def contract_count(self) -> int:
        return len(self.contracts) + sum(len(s.contracts()) for s in self.sections) + len(self.whp)

    @property
    def deadline_guidance(self) -> str:
        """The deadline paragraphs of every return with a pack section ("AtW 7.24; KPD intro 4")."""
        return "; ".join(g for s in pack_specs() if (g := deadline_guidance(s.id)))

    @property
    def kpi_label(self) -> str:
        """What follows a KPI contract's reference: "AtW MHSS"."""
        spec = kpi_spec()
        return spec.pack.label if spec else ""

    @property
    def trend_months(self) -> list[str]:
        end = month_index(self.period)
        return [month_at(i) for i in range(end - TREND_MONTHS + 1, end + 1)]

    @property
    def lines(self) -> list[KpiLine]:
        return [line for c in self.contracts for line in c.lines]
