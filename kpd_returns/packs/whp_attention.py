"""What needs attention on a Work and Health Programme contract: standards below, levels missed, PIs that
point to a future failure. Each item suggests an entry in the contract's Action Plan (16.6-16.7, 16.9); the
tool never decides a PMIR level (16.4-16.11: the register records the Performance Manager's decision).

Severity (as packs.attention): 1 a tMPL missed on the rolling 12 months or cumulative basis, or CSS 4 breached
(a referral over 25 working days); 2 a CSS 1a-3 below its standard, a tMPL missed on the rolling 3 months
only, a PI pointing to a future tMPL failure (16.12); 3 a tMPL missed on the latest cohort only, or a
contract with no levels recorded (so none can be judged).
"""

from __future__ import annotations

from typing import Iterable

from ..spec.periods import month_title
from ..spec.whp_config import GROUP_TITLES, TMPL_NUMBER
from .attention import AttentionItem
from .whp_cohorts import PipelineFigure, WindowFigure
from .whp_css import BASE_WORDS, COUNT_WORDS, STANDARDS, CssFigure

CSS_PARAS = "WHP 16.28-16.31"
TMPL_PARAS = "WHP 16.14-16.15, 16.26"
PI_PARA = "WHP 16.12"
_WINDOW_WORDS = {"in_month": "latest matured cohort", "rolling_3": "rolling 3 cohorts",
                 "rolling_12": "rolling 12 cohorts", "cumulative": "cumulative since the first cohort"}
# a group in a sentence ("conversion for ... will reach 25%")
GROUP_PHRASES = {"cpa": "all starts in the CPA", "disability": "the disability group", "early_entry": "the early entry "
                 "group", "ltu": "the long-term unemployed group", "dda": "the starts in the DDA"}
_WINDOW_SEVERITY = {"rolling_12": 1, "cumulative": 1, "rolling_3": 2, "in_month": 3}


def _plan(what: str) -> str:
    return f"Consider adding an action to the contract's Action Plan: {what}"


def css_items(provider: str, contract: str, figures: Iterable[CssFigure]) -> list[AttentionItem]:
    items = []
    for f in figures:
        if f.meets is not False:
            continue
        month = month_title(f.month)
        subject = f"CSS {f.css}, {contract}"
        if f.css == "4":
            fact = (f"{f.count:,} of the {f.base:,} referrals in backlog at the end of {month} had waited more than 25 "
                    f"working days without a start or failure to attend; the standard is none.")
            what = (f"clear the {f.count:,} referrals over 25 working days (listed by referral id in the pack), with "
                    f"a date for each, and a check that stops a referral waiting that long again.")
            items.append(AttentionItem(provider, 1, "css", subject, fact, CSS_PARAS, _plan(what), float(f.count)))
            continue
        fact = (f"CSS {f.css} was {f.percentage:.1f}% in {month}: {f.count:,} {COUNT_WORDS[f.css]} of {f.base:,} "
                f"{BASE_WORDS[f.css]}. The standard: {f.standard[0].lower() + f.standard[1:]}.")
        gap = abs(f.percentage - float(STANDARDS[f.css][1]))
        what = (f"bring CSS {f.css} back to its standard, with the cause of the "
                f"{f.count if f.css == '3' else f.base - f.count:,} referrals behind it (listed by referral id in the "
                f"pack), a dated step and how it will be checked at the next Contract Performance Review.")
        items.append(AttentionItem(provider, 2, "css", subject, fact, CSS_PARAS, _plan(what), gap))
    return items


def tmpl_items(provider: str, contract: str, windows: Iterable[WindowFigure]) -> list[AttentionItem]:
    by_group: dict[str, list[WindowFigure]] = {}
    for w in windows:
        if w.meets is False:
            by_group.setdefault(w.group, []).append(w)
    items = []
    for group, below in by_group.items():
        subject = f"tMPL {TMPL_NUMBER[group]} {GROUP_TITLES[group]}, {contract}"
        parts = [f"{w.percentage:.1f}% {_WINDOW_WORDS[w.window]} ({w.outcomes:,} outcomes of {w.starts:,} starts)"
                 for w in below]
        fact = f"{subject} is below its level of {below[0].level:g}%: {'; '.join(parts)}."
        what = (f"how and by when conversion for {GROUP_PHRASES[group]} will reach {below[0].level:g}%, "
                f"with SMART milestones (WHP 16.7) for the cohorts still in progress.")
        gap = max(w.level - w.percentage for w in below)
        items.append(AttentionItem(provider, min(_WINDOW_SEVERITY[w.window] for w in below), "tmpl", subject, fact,
                                   TMPL_PARAS, _plan(what), gap))
    return items


def pi_items(provider: str, contract: str, group: str, level: float | None,
             projections: Iterable[tuple[PipelineFigure, float]]) -> list[AttentionItem]:
    """One item per group whose in-progress cohorts project below the level (see packs.whp_cohorts)."""
    if level is None:
        return []
    low = [(p, proj) for p, proj in projections if proj < level]
    if not low:
        return []
    subject = f"Performance Indicators, {GROUP_TITLES[group]}, {contract}"
    cohorts = "; ".join(f"{month_title(p.cohort)}: {p.percentage:.1f}% with earnings against {p.earlier_percentage:.1f}% "
                        f"for earlier cohorts at the same age, projected {proj:.1f}%" for p, proj in low[:3])
    more = f" and {len(low) - 3} more" if len(low) > 3 else ""
    fact = (f"{len(low)} cohort{'s' if len(low) != 1 else ''} in progress point{'s' if len(low) == 1 else ''} to a "
            f"conversion below the {level:g}% level ({cohorts}{more}). A Performance Indicator Course of Action Notice "
            f"may follow.")
    what = (f"the steps that will move the in-progress cohorts of {GROUP_PHRASES[group]} into work "
            f"(earnings commencement, then the £1,000 and £2,000 milestones), with dates.")
    return [AttentionItem(provider, 2, "pi", subject, fact, PI_PARA, _plan(what),
                          max(level - proj for _, proj in low))]


def no_levels_item(provider: str, contract: str) -> AttentionItem:
    return AttentionItem(provider, 3, "tmpl", f"Performance levels, {contract}",
                         f"No performance levels are recorded for {contract}, so no tMPL can be judged: every level "
                         f"shows as 'level not set'.", "WHP 16.24, 16.26",
                         "Record the contract's Schedule 2 levels in the WHP register before the next Contract "
                         "Performance Review; no Action Plan entry is needed for this.")


def sample_items(provider: str, contract: str, samples: Iterable) -> list[AttentionItem]:
    """CSS 5 or 6 below its standard in the latest compliance sample recorded (every record must pass, 16.29)."""
    items = []
    for s in samples:
        if s.meets is not False:
            continue
        sample = s.sample
        fact = (f"CSS {s.css}: {sample.passes:,} of the {sample.size:,} records checked in {month_title(sample.month)} "
                f"passed ({s.percentage:.1f}%); the standard is every one. {s.standard}.")
        what = (f"the cause of the {sample.size - sample.passes:,} records that failed CSS {s.css} in the compliance "
                f"sample, a dated step, and the provider's own check on the next sample (WHP 16.38).")
        items.append(AttentionItem(provider, 2, "css", f"CSS {s.css}, {contract}", fact, "WHP 16.29-16.31, 16.41",
                                   _plan(what), float(sample.size - sample.passes)))
    return items
