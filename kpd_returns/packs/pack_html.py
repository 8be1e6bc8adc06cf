"""The HTML performance pack: one self-contained, accessible page per provider, and a national overview.

Jinja2 templates in templates/ (``pack.html.j2``, ``national.html.j2``), autoescaping on, so
everything a provider typed (names, contract references, segment titles, file names) is
escaped. CSS is inlined and charts are inline SVG: the page makes no request and runs no
script. Output is deterministic: the only date in it is the as-of date given.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .attention import ACTION_PLAN_SECTION
from .kpis import default_config
from .pack_data import notes_for, slugify
from .plan_review import review_spec
from .measure_view import cell, contract_charts, national_charts, section_failure
from .pack_text import (TIER_COLOURS, WINDOW_HEADINGS, KpiLine, PackData, month_list, num, pct, register_text,
                        short_month, when_text)
from ..spec.periods import period_title
from ..spec.resources import templates_dir
from ..spec.return_spec import display_name
from .svg_charts import Series, line_chart, period_axis_labels
from .whp_cohorts import PIS
from .whp_view import WhpContract

SEVERITY_WORDS = {1: "High", 2: "Medium", 3: "Low"}
WHP_WINDOW_HEADINGS = {"in_month": "Latest matured cohort", "rolling_3": "Rolling 3 cohorts",
                       "rolling_12": "Rolling 12 cohorts", "cumulative": "Cumulative"}


def css_string(text: str) -> Markup:
    """A CSS string literal (for @page margin boxes): every character but letters, digits and
    spaces as a CSS escape, so provider or user text can never end the string or the rule."""
    body = "".join(c if re.fullmatch(r"[A-Za-z0-9 ]", c) else f"\\{ord(c):06x}" for c in text)
    return Markup(f'"{body}"')


class _Ids:
    """Unique, valid HTML ids for one page."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, *parts: object) -> str:
        base = "id-" + slugify("-".join(str(p) for p in parts))
        out, n = base, 2
        while out in self.seen:
            out, n = f"{base}-{n}", n + 1
        self.seen.add(out)
        return out


def kpi_chart(chart_id: str, line: KpiLine) -> Markup:
    months = line.months12
    series = [Series("In-month %", [p.percentage for p in line.trend])]
    if line.target is not None:
        series.append(Series(f"Target {line.target:g}%", [line.target] * len(months), target=True))
    return Markup(line_chart(chart_id, months, series, title=line.chart_title, desc=line.chart_description(),
                             gaps=[line.gap_word(p) for p in line.trend]))


def whp_pi_chart(chart_id: str, view: WhpContract) -> Markup:
    """The in-progress cohorts' Performance Indicators (CPA headline) with the earlier cohorts' earnings share
    at the same age as the dashed reference line (WHP 16.12)."""
    rows = {pi: view.pipeline[pi] for pi in PIS}
    months = [p.cohort for p in rows["earnings_start_date"]]
    series = [Series(name, [p.percentage for p in rows[pi]]) for pi, name in zip(PIS, ("Earnings", "£1,000", "£2,000"))]
    series.append(Series("Earlier cohorts' earnings", [p.earlier_percentage if p.starts else None
                                                       for p in rows["earnings_start_date"]], target=True))
    return Markup(line_chart(chart_id, months, series, title=f"Pipeline of the cohorts in progress, {view.contract}",
                             desc="For each cohort of starts still in progress, the share of its starts with earnings "
                                  "commencement, the £1,000 milestone and the £2,000 milestone by the report month, "
                                  "against the earlier cohorts' earnings share at the same age. The figures are in "
                                  "the table under the chart.", y_label="% of the cohort's starts"))


def measure_chart(chart_id: str, months: list[str], title: str, desc: str, series: list[tuple[str, list]],
                  labels: tuple[str, ...] = ()) -> Markup:
    """A measures section's chart; ``labels``: each point's period when the figures cover quarters or years."""
    return Markup(line_chart(chart_id, months, [Series(n, v) for n, v in series], title=title, desc=desc,
                             percent=False, axis=period_axis_labels(labels) if labels else None))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(templates_dir())), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(pct=pct, num=num, short_month=short_month, month_list=month_list, display_name=display_name,
                       when_text=when_text, period_title=period_title)
    env.globals.update(kpi_chart=kpi_chart, measure_chart=measure_chart, css_string=css_string,
                       tier_colours=TIER_COLOURS, window_headings=WINDOW_HEADINGS, severity_words=SEVERITY_WORDS,
                       register_text=register_text, glance=glance, contract_charts=contract_charts,
                       national_charts=national_charts, cell=cell,
                       action_plan_section=ACTION_PLAN_SECTION, whp_pi_chart=whp_pi_chart,
                       whp_window_headings=WHP_WINDOW_HEADINGS)
    return env


def glance(pack: PackData) -> list[tuple[str, str, str]]:
    """The 'at a glance' cards: (label, headline, detail), all in words. The national pack counts
    every provider's own lines (the overview), not the all-contracts sums."""
    lines = [line for _, line in pack.overview] if pack.is_national else pack.lines
    scope = " (all providers)" if pack.is_national else ""
    cards = []
    if lines:
        below = [line for line in lines if line.meets is False]
        kpis = ", ".join(sorted({f"KPI {b.kpi}" for b in below}))
        cards.append((f"KPI lines below target{scope}", f"{len(below)} of {len(lines)}",
                      f"On at least one basis{': ' + kpis if kpis else ''}."))
        tiers = [line for line in lines if line.published]
        rated = [t.tier_text for t in tiers if t.tier is not None]
        counts = {name: rated.count(name) for name in sorted(set(rated), reverse=True)}
        detail = "; ".join(f"{n} at {name}" for name, n in counts.items())
        unrated = "incomplete or no cases due"
        cards.append((f"Published KPIs rated, rolling 12 months{scope}", f"{len(rated)} of {len(tiers)}",
                      f"None rated ({unrated})." if not rated else
                      f"Rated: {detail}{f'; the rest not rated ({unrated})' if len(rated) < len(tiers) else ''}."))
    for c in ([] if pack.is_national else [c for c in pack.contracts if c.no_returns]):
        cards.append((f"KPIs, {c.contract}", "No data", " ".join(c.notes)))
    svs = [sv for _, sv in pack.sv_overview] if pack.is_national else [c.social_value for c in pack.contracts]
    for sv in (sv for sv in svs if sv) if not pack.is_national else []:
        cards.append((f"Social Value KPI {sv.quarter}", sv.tier_text.split(":")[0], f"{sv.contract}: {sv.score_text}."))
    if pack.is_national and svs:
        low = [sv for sv in svs if sv.result and sv.result.tier is not None and sv.result.tier <= 2]
        cards.append((f"Social Value KPI {svs[0].quarter}", f"{len(low)} of {len(svs)}",
                      "Contracts at tier 2 or 1 (Needs Improvement or Inadequate)."))
    status = [str(r.get("status") or "") for r in pack.register]
    cards.append(("Returns in the last 12 months", f"{status.count('missing')} missing",
                  f"{status.count('late')} late, {status.count('rejected only')} rejected only, "
                  f"{status.count('on time')} on time."))
    if pack.is_national:
        high = [a["provider"] for a in pack.attention_summary if a["high"]]
        cards.append(("Providers with high-priority items", f"{len(high)} of {len(pack.attention_summary)}",
                      "See What needs attention, by provider."))
    else:
        sev = [a.item.severity for a in pack.attention]
        cards.append(("Needs attention", f"{sev.count(1)} high",
                      f"{sev.count(2)} medium and {sev.count(3)} low priority items."))
    return cards


def render(pack: PackData) -> str:
    """The pack's page. A measures section that fails to render costs that section only: it is found by
    rendering each alone, marked failed (the pack says so in its place, the command on stderr) and the page
    rendered again."""
    try:
        return _render(pack)
    except Exception:  # noqa: BLE001 - find the section at fault; anything else still fails the pack
        if not pack.sections:
            raise
        for i, section in enumerate(pack.sections):
            if section.failure:
                continue
            try:
                _render(replace(pack, sections=[section]))
            except Exception as exc:  # noqa: BLE001 - this section's failure costs this section only
                pack.sections[i] = replace(section, failure=section_failure(section.title, exc))
        return _render(pack)


def _render(pack: PackData) -> str:
    template = environment().get_template("national.html.j2" if pack.is_national else "pack.html.j2")
    config = default_config()
    spec = review_spec()
    return template.render(pack=pack, notes=notes_for(pack), ids=_Ids(), config=config,
                           windows=list(WINDOW_HEADINGS), review=spec.pack_review if spec else None)


def write_html(pack: PackData, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render(pack), encoding="utf-8", newline="\n")
    return path
