"""A measures section of a pack (a return's ``[[pack.measures]]``), laid out as its spec declares.

``MeasureSection`` holds one return's figures for one pack: its contracts' months (measures engine),
the national figures and the figures for a second look. ``cell`` picks what a declared column or
chart series shows; ``contract_charts``/``national_charts`` build the trend charts the spec declares,
for the HTML and Excel renderers alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec.pack_spec import Chart, PackSpec
from ..spec.personal_data import cut
from .measures import ContractMonth, NationalMonth, meets_target, target_of, window_value
from .pack_text import month_list, num, short_month


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    desc: str
    series: list[tuple[str, list[float | None]]]
    percent: bool = False
    # Each point's period ("2026-27 Q2", "Contract year 2025-26") when the figures cover quarters or years; empty
    # for months, which the chart and its table name themselves ("Sep 2026").
    labels: tuple[str, ...] = ()

    @property
    def has_data(self) -> bool:
        """A chart is drawn only when one of its lines has a figure."""
        return any(v is not None for _, values in self.series for v in values)


@dataclass(frozen=True)
class MeasureSection:
    return_id: str
    spec: PackSpec
    months: list[ContractMonth]  # the provider's contracts, the 12 months to the report month
    national: dict[str, NationalMonth]  # month -> national figures
    flags: list[str]
    history: list[ContractMonth] = field(default_factory=list)  # every month held (windows, cumulative)
    year_start_month: int = 4  # the return's contract year (the contract_year window)
    failure: str = ""  # the sentence shown in the section's place when it could not be drawn

    def contracts(self) -> list[str]:
        return sorted({cm.contract for cm in self.months})

    def by_month(self, contract: str) -> dict[str, ContractMonth]:
        return {cm.month: cm for cm in self.months if cm.contract == contract}

    @property
    def title(self) -> str:
        return self.spec.title

    def decimals(self, measure: str) -> int:
        return next(x.decimals for x in self.spec.measures if x.id == measure)

    def held(self, contract: str) -> dict[str, ContractMonth]:
        """Every month held for a contract (the windows reach back before the pack's 12 months)."""
        return {h.month: h for h in self.history or self.months if h.contract == contract}

    def window(self, cm: ContractMonth, measure: str, window: str) -> float | None:
        m = next(x for x in self.spec.measures if x.id == measure)
        return window_value(self.held(cm.contract), m, cm.month, window, self.year_start_month)

    def target_words(self, cm: ContractMonth, measure: str) -> str:
        """'Meets target (90)', 'Below profile (25)' or '' (no target or no figure): in words, not colour."""
        m = next(x for x in self.spec.measures if x.id == measure)
        target = target_of(m, cm)
        met = meets_target(m, cm.measure(measure), target)
        return "" if met is None else f"{'Meets' if met else 'Below'} {m.target_label} ({target:g}{m.unit})"

    def target_figure(self, cm: ContractMonth, measure: str) -> float | None:
        return target_of(next(x for x in self.spec.measures if x.id == measure), cm)

    def row_label(self, month: str) -> str:
        """A table row's heading: the month ('Sep 2026'), or the quarter or contract year its figures cover
        ('2026-27 Q2', 'Contract year 2025-26') for a quarterly or yearly return."""
        for cm in (*self.months, *self.history):
            if cm.month == month and cm.period:
                return cm.period
        nat = self.national.get(month)
        return nat.period if nat is not None and nat.period else short_month(month)

    def span(self, months: list[str], present: Any) -> list[str]:
        """The months a chart spans: from the first to the last month with data, a gap where a return is missing;
        for figures that cover quarters or years, only the months their periods end in, one point a period (a
        quarter's two other months are not gaps)."""
        if self.by_period:
            return [m for m in months if m in present]
        return data_span(months, present)

    @property
    def by_period(self) -> bool:
        """Whether the figures cover quarters or years (rows and chart points named by period, not by month)."""
        return self.row_column[0] == "Period"

    @property
    def row_column(self) -> tuple[str, int, str]:
        """The Excel tables' period column: "Month", or "Period" when the figures cover quarters or years."""
        periods = any(cm.period for cm in (*self.months, *self.history)) or any(
            n.period for n in self.national.values())
        return ("Period", 22, "text") if periods else ("Month", 10, "text")

    @property
    def national_title(self) -> str:
        return self.spec.national_title or self.spec.title


def section_failure(title: str, exc: BaseException) -> str:
    """The sentence a pack shows in place of a section that could not be drawn (and the command says on stderr):
    the section's title and what went wrong, masked and cut like a finding's detail."""
    detail = cut(str(exc).strip() or type(exc).__name__, 200)  # masked, then cut
    return (f"The {title} section could not be drawn ({detail}); the rest of the pack is complete. "
            "Check the ledger's figures for this return, then write the packs again.")


def cell(cm: ContractMonth | None, nat: NationalMonth | None, measure: str, show: str,
         section: MeasureSection | None = None) -> float | str | None:
    """What a column or series shows: the contract's value, change or window figure, whether it meets the
    target (words) or the target itself, the median contract or the national figure (the national target:
    the contracts' own targets summed)."""
    if show in ("rolling_3", "rolling_12", "cumulative", "contract_year"):
        return section.window(cm, measure, show) if cm and section else None
    if show == "target_figure" and cm is not None:
        return section.target_figure(cm, measure) if section else cm.targets.get(measure)
    if show == "target_figure":
        return nat.targets.get(measure) if nat else None
    if show == "target":
        return section.target_words(cm, measure) if cm and section else None
    if show == "value":
        return cm.measure(measure) if cm else None
    if show == "change":
        return cm.changes.get(measure) if cm else None
    if nat is None:
        return None
    return nat.medians.get(measure) if show == "median" else nat.values.get(measure)


def data_span(months: list[str], present: Any) -> list[str]:
    """The months from the first to the last one in ``present``: a chart spans the months with data."""
    have = [i for i, m in enumerate(months) if m in present]
    return months[have[0]: have[-1] + 1] if have else []


def _latest(name: str, months: list[str], values: list[float | None], labels: tuple[str, ...]) -> str:
    named = labels or tuple(short_month(m) for m in months)
    known = [(label, v) for label, v in zip(named, values) if v is not None]
    if not known:
        return f" No {name} figures in the period."
    label, v = known[-1]
    text = f" Latest {name} {num(v)} in {label}."
    if labels:  # one point a period: every period in the span has its return
        gaps = [x for x, v in zip(labels, values) if v is None]
        return text + (f" No figures for {', '.join(gaps)}." if gaps else "")
    gaps = [m for m, v in zip(months, values) if v is None]
    return text + (f" No figures for {month_list(gaps, 4)}." if gaps else "")


def _chart(chart: Chart, key: str, title: str, months: list[str], by_month: dict[str, ContractMonth],
           national: dict[str, NationalMonth], section: MeasureSection) -> ChartSpec:
    labels = tuple(section.row_label(m) for m in months) if section.by_period else ()
    span = f"{labels[0]} to {labels[-1]}" if labels else f"{short_month(months[0])} to {short_month(months[-1])}"
    series = [(s.label, [cell(by_month.get(m), national.get(m), s.measure, s.show) for m in months])
              for s in chart.series]
    return ChartSpec(key, title, f"{chart.description}, {span}." + _latest(chart.latest, months, series[0][1], labels),
                     series, labels=labels)


def contract_charts(section: MeasureSection, months: list[str], contract: str) -> list[ChartSpec]:
    """The section's charts for one contract over ``months`` (the span with data), in the spec's order."""
    by = section.by_month(contract)
    return [_chart(c, f"{contract}-{c.id}", f"{c.title}, {contract}", months, by, section.national, section)
            for c in section.spec.charts]


def national_charts(section: MeasureSection, months: list[str]) -> list[tuple[Chart, ChartSpec]]:
    view = section.spec.national_view
    return [(c, _chart(c, f"national-{c.id}", c.title, months, {}, section.national, section))
            for c in (view.charts if view else [])]
