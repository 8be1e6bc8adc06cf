"""What needs attention for one provider, with suggested Action Plan prompts.

Each item states one fact, the guidance behind it and a prompt for the provider's
monthly Action Plan (AtW 7.06, 7.22), worded as a question or suggestion for the
"Specific Areas Requiring Action" part of the plan (WHP ch.16 Annex A). The tool
suggests; it does not decide PMIR levels or intervention (AtW 7.14): that is the
DWP Performance Manager's judgement at the Contract Performance Review (AtW 7.05,
WHP ch.16 paras 21-23).

Severity (1 = most urgent), then kind, then size of the gap:

1. a return missing or rejected (no MI to manage on); a published KPI or the Social
   Value KPI in tier 1; a published KPI (3-5) below target on the rolling 12-month or
   cumulative basis;
2. a late return; tier 2; a published KPI below target on the rolling 3-month basis (but
   not longer); Social Value measures not returned; open error findings;
3. a published KPI below target in the month only; open warning findings; queries the
   provider explained (to read, not to chase); a measure below its own target where the spec asks
   for it (``[pack.measures.attention]``: JOBS II's starts against profile, 6.10), a query for
   discussion, never a failure.

KPIs 1 and 2 are managed but not published (AtW 7.17-7.19 publish KPIs 3-5 and the Social
Value KPI, with tiers): a shortfall on them is one level less urgent than the same
shortfall on a published KPI, so a PM's high-priority list is what the guidance weighs.

KPI items use the per-cohort results (targets are per cohort, AtW 7.16); results
for cohort "all" and incomplete windows are skipped (missing returns have their own item).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from ..spec.deadlines import deadline_guidance
from ..spec.findings import CATALOGUE, EXPLAINED_PREFIX
from ..spec.pack_spec import Measure
from ..spec.periods import month_title, months_title, period_title
from .kpis import ALL_COHORTS, KpiConfig, SocialValueResult, WindowResult, default_config
from .measures import ContractMonth, window_months, window_target, window_value
from ..spec.return_spec import display_name

ACTION_PLAN_SECTION = "Specific Areas Requiring Action"  # WHP ch.16 Annex A
SEVERITY_LABELS = {1: "high", 2: "medium", 3: "low"}
_KIND_ORDER = ("return", "tier", "kpi_target", "measure_target", "social_value", "findings")
_WINDOW_LABELS = {"in_month": "in month", "rolling_3": "rolling 3 months", "rolling_12": "rolling 12 months",
                  "cumulative": "cumulative since the Service Start Date"}
_WINDOW_SEVERITY = {"rolling_12": 1, "cumulative": 1, "rolling_3": 2, "in_month": 3}
# A finding in words for a PM (finding codes are for the validator's reports, never for a pack).
# Timeliness is not a finding here: the submissions register decides it once (pack_data).
FINDING_WORDS = {
    "required-missing": "a required figure left blank", "not-a-number": "text where a number belongs",
    "not-whole-number": "a fraction where a whole number belongs", "too-many-decimals": "too many decimal places",
    "caseload-management-missing": "neither segmentation nor RAG ratings completed",
    "cohort-before-start": "cases in a referral cohort that had not started",
    "listed-late-on-time": "a case listed as late that was on time",
    "check-not-run": "a check that could not run",
    "many-decimals": "a figure with more than 4 decimal places",
    "below-minimum": "a figure below its minimum", "above-maximum": "a figure above its maximum",
    "not-a-date": "a date that is not a date",
    "date-out-of-range": "a date in a year no return can mean", "not-in-list": "an answer not in its list",
    "pattern-mismatch": "a reference in the wrong form", "text-too-long": "text too long",
    "month-after-period": "a month after the period filled in", "period-invalid": "a contract year in the wrong form",
    "month-missing": "a month of the period left blank", "total-mismatch": "a total that does not add up",
    "total-typed-over": "a total typed over its formula", "total-divide-by-zero": "a ratio with nothing to divide by",
    "total-out-of-range": "a total or ratio too large to be a figure",
    "ytd-below-in-month": "a year-to-date figure below the month's", "parts-not-equal-total":
    "cases within and outside target not adding up to cases due", "reasons-missing": "reasons for cases outside "
    "target not given", "detail-rows-mismatch": "a count that does not match its detail sheet",
    "breakdown-mismatch": "a breakdown that does not add up", "segments-not-reconciled":
    "segments that do not add up to the caseload", "job-entries-above-participants":
    "more job entries than participants", "in-work-job-entries": "job entries in an in-work segment",
    "keyed-row-incomplete": "a part-filled row", "keyed-row-unused": "a titled row with no figures",
    "list-row-incomplete": "a part-filled list row", "dates-out-of-order": "dates out of order",
    "social-value-missing": "Social Value measures not returned", "implausible-value": "an implausibly high figure",
    "personal-data": "personal data in the return", "ytd-discontinuity":
    "a year-to-date figure that does not follow on from the last return", "kpd-restatement":
    "a month restated differently from the earlier return",
    "sheet-not-checked": "a sheet whose layout was changed, so it could not be checked",
    "explanation-unmatched": "an explanation that names no query on the return",
    "explanation-of-error": "an explanation given for an error, which must be corrected",
    "ytd-list-mismatch": "a year-to-date total that differs from the year's lists of cases",
}
TIMELINESS_CODES = frozenset({"submitted-late"})


def finding_words(code: str) -> str:
    """A finding code in plain words ('total-typed-over' -> 'a total typed over its formula')."""
    return FINDING_WORDS.get(code) or "a problem with the file itself"


@dataclass(frozen=True)
class AttentionItem:
    provider: str
    severity: int  # 1 high, 2 medium, 3 low
    kind: str  # one of _KIND_ORDER
    subject: str
    fact: str
    guidance: str
    prompt: str  # a suggested Action Plan prompt, for ACTION_PLAN_SECTION
    size: float = 0.0  # orders items of the same severity and kind (gap in points, count...)

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    def to_dict(self) -> dict:
        return asdict(self) | {"severity_label": self.severity_label, "action_plan_section": ACTION_PLAN_SECTION}


def attention_items(provider: str, *, windows: Iterable[WindowResult] = (),
                    social_value: SocialValueResult | None = None,
                    returns: Iterable[tuple[str, str, str, int | None]] = (),
                    findings: dict[str, int] | None = None, findings_guidance: str = "AtW 7.03",
                    config: KpiConfig | None = None, measures: Iterable[AttentionItem] = ()) -> list[AttentionItem]:
    """Items for one provider, most urgent first.

    ``windows``: WindowResults from kpis.kpi_windows for the report month.
    ``returns``: (return_id, period, status, late_working_days); status "missing" or
    "rejected" (any case) is flagged, otherwise late_working_days > 0 is.
    ``findings``: open findings, finding code -> count (severity from the findings catalogue).
    ``measures``: items from measures below their own target (target_items).
    """
    config = config or default_config()
    items = [*_return_items(provider, returns, config), *_kpi_items(provider, list(windows), config), *measures,
             *_social_value_items(provider, social_value, config), *_findings_items(provider, findings or {},
                                                                                     findings_guidance)]
    return sorted(items, key=lambda i: (i.severity, _KIND_ORDER.index(i.kind), -i.size, i.subject))


def _return_items(provider: str, returns: Iterable[tuple], config: KpiConfig) -> list[AttentionItem]:
    items = []
    for return_id, label, status, late_days in returns:
        name, ref = _return_name(return_id), deadline_guidance(return_id)
        period = period_title(label)  # in words: "October 2026", not "2026-10" (issue 19 item 20)
        subject, status = f"{name} for {period}", (status or "").strip().lower()
        if status in ("missing", "rejected"):
            fact = f"The {name} for {period} is missing." if status == "missing" else \
                f"The {name} for {period} was rejected, so its figures are not counted."
            prompt = (f"Consider why the {name} for {period} was not received, and set a date by which it will be "
                      f"sent and a step that stops it happening again." if status == "missing" else
                      f"Consider what caused the {name} for {period} to be rejected, set a date to resubmit it, "
                      f"and add a check that catches the problem before a return is sent.")
            items.append(AttentionItem(provider, 1, "return", subject, fact, ref, prompt))
        elif late_days and late_days > 0:
            days = f"{late_days} working day{'s' if late_days != 1 else ''}"
            items.append(AttentionItem(
                provider, 2, "return", subject, f"The {name} for {period} was received {days} late.", ref,
                f"Consider what delayed the {name} for {period} and set a dated action so the next return "
                f"arrives by its deadline.", float(late_days)))
    return items


def _return_name(return_id: str) -> str:
    return display_name(return_id)  # the one name of a return type in every output (spec.return_spec)


def _kpi_items(provider: str, windows: list[WindowResult], config: KpiConfig) -> list[AttentionItem]:
    items: list[AttentionItem] = []
    groups: dict[tuple[int, str], list[WindowResult]] = {}
    for r in windows:
        if r.cohort != ALL_COHORTS and r.percentage is not None:
            groups.setdefault((r.kpi, r.cohort), []).append(r)
    for (kpi, cohort), results in sorted(groups.items()):
        kdef = config.kpi(kpi)
        subject = f"KPI {kpi} {kdef.name} ({config.cohorts[cohort]})"
        below = [r for r in results if r.meets_target is False]
        if below:
            below.sort(key=lambda r: list(_WINDOW_LABELS).index(r.window))
            parts = [f"{r.percentage:.1f}% {_WINDOW_LABELS[r.window]} ({r.gap:.1f} points below)" for r in below]
            severity = min(_WINDOW_SEVERITY[r.window] for r in below)
            items.append(AttentionItem(
                provider, severity if kdef.published else min(3, severity + 1), "kpi_target", subject,
                f"{subject} is below its {below[0].target:g}% target: {'; '.join(parts)}.",
                f"{kdef.guidance}; AtW 7.05", kdef.action_prompt, max(r.gap for r in below)))
        for r in results:
            if r.tier is not None and r.tier <= 2:
                bounds = config.tiers[cohort]
                goal = bounds.needs_improvement if r.tier == 1 else bounds.near_target
                items.append(AttentionItem(
                    provider, r.tier, "tier", subject,
                    f"{subject} is in tier {r.tier} {r.tier_name} on the rolling 12 months {period_title(r.months[0])} "
                    f"to {period_title(r.months[-1])} ({r.percentage:.1f}%): it would be published as '{r.reg39_rating}'.",
                    "AtW 7.18-7.19",
                    f"Consider what it would take to reach {goal:g}% ({config.tier_name(r.tier + 1)}) on the "
                    f"rolling 12 months before the next quarterly publication, and set dated milestones in the "
                    f"Action Plan.", goal - r.percentage))
    return items


def _social_value_items(provider: str, sv: SocialValueResult | None, config: KpiConfig) -> list[AttentionItem]:
    if sv is None:
        return []
    d = config.social_value
    if sv.incomplete:
        return [AttentionItem(provider, 2, "social_value", d.name,
                              f"The Social Value measures were not all returned (missing: {', '.join(sv.missing)}).",
                              "AtW 7.16, 7.18", "Consider how the Social Value measures will be collected from every "
                              "supply-chain company in time for the last month of each quarter.")]
    if sv.tier is None or sv.tier > 2:
        return []
    not_met = [f"measure {i + 1}" for i, ok in enumerate(sv.achieved) if not ok]
    return [AttentionItem(provider, sv.tier, "social_value", d.name,
                          f"{d.name}: {sv.achieved_count} of 3 measures achieved ({sv.percentage:.1f}%), tier "
                          f"{sv.tier} {sv.tier_name}; not achieved: {', '.join(not_met)}.",
                          "AtW 7.16, 7.19", d.action_prompt, float(3 - sv.achieved_count))]


def _findings_items(provider: str, findings: dict[str, int], guidance: str) -> list[AttentionItem]:
    explained = {c[len(EXPLAINED_PREFIX):]: n for c, n in findings.items() if c.startswith(EXPLAINED_PREFIX) and n > 0}
    findings = {c: n for c, n in findings.items() if not c.startswith(EXPLAINED_PREFIX)}
    items = _explained_items(provider, explained, guidance)
    for severity, label in ((2, "error"), (3, "warning")):
        counts = sorted(((c, n) for c, n in findings.items() if n > 0 and c not in TIMELINESS_CODES
                         and CATALOGUE.get(c, ("error",))[0] == label), key=lambda x: (-x[1], x[0]))
        if not counts:
            continue
        total = sum(n for _, n in counts)
        listed = "; ".join(f"{finding_words(c)} ({n})" for c, n in counts)
        items.append(AttentionItem(
            provider, severity, "findings", f"Open {label}s on returns",
            f"{total} open {label}{'s' if total != 1 else ''} on returns: {listed}.", guidance,
            f"Consider which check in your own MI process would catch {finding_words(counts[0][0])} before a "
            f"return is sent, and set a dated action in the Action Plan to clear the open {label}s.", float(total)))
    return items


def _explained_items(provider: str, explained: dict[str, int], guidance: str) -> list[AttentionItem]:
    """Queries the provider explained on the return's Explanations sheet: shown apart from the open ones."""
    if not explained:
        return []
    counts = sorted(explained.items(), key=lambda x: (-x[1], x[0]))
    total = sum(n for _, n in counts)
    listed = "; ".join(f"{finding_words(c)} ({n})" for c, n in counts)
    return [AttentionItem(
        provider, 3, "findings", "Queries explained by the provider",
        f"{total} {'query' if total == 1 else 'queries'} on returns explained by the provider: {listed}. "
        "The explanations are on the consolidated workbook's Queries sheet.", guidance,
        "Read the provider's explanations and agree at the Contract Performance Review whether they account "
        "for the figures.", float(total))]


def _window_words(window: str, months: list[str]) -> str:
    """'in October 2026', 'in the contract year to date (April to October 2026)'..."""
    if window == "month":
        return f"in {month_title(months[-1])}"
    span = months_title(months[0], months[-1])
    name = {"contract_year": "the contract year to date", "cumulative": "all months returned",
            "rolling_3": "the 3 months", "rolling_12": "the 12 months"}[window]
    return f"in {name} ({span})"


def target_items(provider: str, measures: Iterable[Measure], held: dict[str, ContractMonth], report_month: str,
                 year_start_month: int = 4) -> list[AttentionItem]:
    """Query-level items for one contract's measures that ask for them (``attention``): the report month's
    figure below its target (a fixed ``target``, or the contract's own profile, added up over a window) on
    any of the windows named. Each window is stated with its figure, target and, for a count, the
    percentage of the target; the item cites the paragraph that sets the expectation."""
    items = []
    for m in measures:
        if m.attention is None or report_month not in held:
            continue
        parts, gaps = [], []
        for window in m.attention.windows:
            months = window_months(held, report_month, window, year_start_month)
            value = window_value(held, m, report_month, window, year_start_month)
            target = window_target(held, m, report_month, window, year_start_month)
            if months is None or value is None or target is None:
                continue
            below = (value < target) if m.direction == "higher" else (value > target)
            share = value / target * 100 if m.ratio is None and m.mean is None and target > 0 else None
            figure = f"{value:,.{m.decimals}f}{m.unit} against {target:,.{m.decimals}f}{m.unit}"
            parts.append(f"{_window_words(window, months)}, {figure}"
                         + (f" ({share:.1f}% of {m.target_label})" if share is not None else "")
                         + ("" if below else f", meeting {m.target_label}"))
            if below:
                gaps.append(100 - share if share is not None else abs(target - value))
        if gaps:
            items.append(AttentionItem(provider, 3, "measure_target", f"{m.label} against {m.target_label}",
                                       f"{m.label} below {m.target_label}: {'; '.join(parts)}.",
                                       m.attention.guidance, m.attention.prompt, max(gaps)))
    return items
