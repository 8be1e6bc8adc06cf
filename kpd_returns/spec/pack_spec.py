"""A return's ``[pack]`` section: what a Performance Manager sees of it (docs/spec-format.md, "Pack sections").

A return whose spec has a ``[pack]`` table appears in the performance packs; one without does not.
The section says, as data, how to title and order it, which guidance it serves, the notes printed
with it, and what is computed from the return's fields:

* ``[pack.kpis]``: the KPI engine (kpd_returns.packs.kpis: windows, referral cohorts, targets,
  tiers, Social Value), configured by a file beside the specs (``config``) and told which fields
  hold the cases due / within / outside target, per KPI and cohort (row keys ``<prefix><kpi>_<cohort>``).
  The return that has it gives the packs their contract list and Service Start Dates.
* ``[[pack.measures]]``: figures per contract per month, computed from fields by the measures
  engine (kpd_returns.packs.measures): a ``sum`` of fields, a ``ratio`` of sums with a ``scale``,
  a ``count`` of list rows, a ``mean`` the return states with the cases it is over (``weight``), or
  an earlier measure's own target as a figure (``target_of``). A measure below its target may put a
  query-level item on the attention list (``attention``).
* ``[[pack.groups]]``: numbered groups of fields (``<prefix><n>_<part>``), each with a title field.

A part names a field (its value in the month, whatever its key), one row or column of a field
(``"clock_due[interview_5wd]"``: the field at that key), or a measure declared earlier. A measure may be
compared with a fixed ``target`` or with a per-contract, per-period figure from the providers register
(``target_from = "profile"``: the register's ``profile`` column, JOBS II 6.10).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_ID = r"^[a-z][a-z0-9_]*$"
WINDOWS = ("month", "rolling_3", "rolling_12", "cumulative", "contract_year")
Window = Literal["month", "rolling_3", "rolling_12", "cumulative", "contract_year"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackNote(_Model):
    """A line of the pack's Notes: a measure, what it means, the paragraph behind it."""

    measure: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    guidance: str = ""


class SocialValueFields(_Model):
    """The fields of the Social Value KPI (AtW 7.16): each measure's percentage, the count of companies
    over 500 employees (measure 3 is met when there are none), and the supply-chain size."""

    measures: tuple[str, str, str]
    over_500: str
    companies: str


class KpiSource(_Model):
    """Where the KPI engine finds its counts in this return."""

    config: str = Field(min_length=1)  # a file in the validators folder (KPIs, cohorts, targets, tiers)
    due: str  # field id: cases whose KPI deadline fell in the month
    within: str  # field id: cases within target
    outside: str  # field id: cases outside target
    key_prefix: str = Field(pattern=_ID)  # row keys "<prefix><kpi id>_<cohort>"
    social_value: SocialValueFields | None = None
    # The consolidated workbook's sheet of KPI percentages for this return.
    consolidated_sheet: str = Field(min_length=1, max_length=31)
    consolidated_title: str = Field(min_length=1)


class MeasureAttention(_Model):
    """A query-level (low) item on the attention list when a contract's figure is below its target in the
    report month on any of ``windows``: a fact for discussion with the provider, never a failure."""

    windows: list[Window] = Field(default_factory=lambda: ["month"], min_length=1)
    guidance: str = Field(min_length=1)  # the paragraph that sets the expectation ("JOBS II 6.10")
    prompt: str = Field(min_length=1)  # the suggested Action Plan prompt


class Measure(_Model):
    """One figure per contract per month, computed from the return's fields (or earlier measures)."""

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    sum: list[str] | None = None  # the sum of these; None if any is missing
    ratio: tuple[list[str], list[str]] | None = None  # sum of the first over sum of the second, times ``scale``
    count: str | None = None  # list sheet: the number of rows with this field filled in ...
    # ... optionally where a field has one of these (with ``sum`` of one list field: its sum over those rows)
    where: dict[str, list[str]] = Field(default_factory=dict)
    mean: str | None = None  # an average the return states (a field) ...
    weight: list[str] = Field(default_factory=list)  # ... over these cases: over months and contracts, weighted
    target_of: str | None = None  # an earlier measure's own target (target_from) as a figure: it adds up
    scale: float = 1.0  # 100 for a percentage
    unit: str = ""
    decimals: int = Field(default=2, ge=0, le=6)
    target: float | None = None
    # Or a target per contract and period from the providers register: "profile" is its profile column.
    target_from: Literal["profile"] | None = None
    target_label: str = Field(default="target", min_length=1)  # in words: "Below profile (25)"
    direction: Literal["higher", "lower"] = "higher"  # which side of the target is better
    windows: list[Window] = Field(default_factory=lambda: ["month"])
    national: Literal["sum", "ratio", "none"] = "sum"  # the national figure: sum of contracts, ratio of sums
    median: bool = False  # also the median across contracts, and the change on the month before
    trend: bool = False  # drawn in a trend chart
    plausible_max: float | None = None  # above this the figure is listed for a second look (a query)
    plausible_guidance: str = ""
    attention: MeasureAttention | None = None  # below target: a query-level item on the attention list

    @model_validator(mode="after")
    def _one_kind(self) -> "Measure":
        kinds = [k for k in ("sum", "ratio", "count", "mean", "target_of") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"measure '{self.id}' needs exactly one of sum, ratio, count, mean or target_of")
        if self.where and self.count is None and self.sum is None:
            raise ValueError(f"measure '{self.id}': 'where' goes with 'count' or 'sum'")
        if self.where and self.sum is not None and len(self.sum) != 1:
            raise ValueError(f"measure '{self.id}': a sum with 'where' adds up one list field: sum = [\"<field>\"]")
        if bool(self.weight) != (self.mean is not None):
            raise ValueError(f"measure '{self.id}': 'mean' needs 'weight' (the cases it is an average over), "
                             "and 'weight' goes with 'mean'")
        if self.mean is not None and self.national == "sum":
            raise ValueError(f"measure '{self.id}': averages are not added up: give national = 'ratio' (weighted by "
                             "its cases) or 'none'")
        if self.national == "ratio" and self.ratio is None and self.mean is None:
            raise ValueError(f"measure '{self.id}': national = 'ratio' needs a ratio or mean measure")
        if self.target is not None and self.target_from is not None:
            raise ValueError(f"measure '{self.id}': give target or target_from, not both")
        if self.attention is not None:
            if self.target is None and self.target_from is None:
                raise ValueError(f"measure '{self.id}': attention needs a target or target_from")
            if self.target_from is not None and self.sum is None and set(self.attention.windows) - {"month"}:
                # A per-month target adds up over a window only for a figure that adds up.
                raise ValueError(f"measure '{self.id}': attention over a window with target_from needs a sum measure")
        return self


class Group(_Model):
    """Numbered groups (``<prefix>1_<part>`` ...) with the provider's own titles, e.g. KPD segments (KPD 17-22)."""

    prefix: str = Field(pattern=_ID)
    label: str = Field(min_length=1)  # "Segment": rows read "Segment 1"
    title_field: str  # text field holding each group's title, keyed "<prefix><n>"
    parts: str  # the part giving each group's size (its share of all groups)
    outcomes: str  # the part converted from it (outcomes / parts, %)


class Column(_Model):
    """A column of a pack table: a measure's figure, its change on last month, or the median contract."""

    measure: str
    # value / change on last month / median contract / national figure; a window of the contract's figure
    # (rolling_3, rolling_12, cumulative, contract_year: the contract year to the month); "target": whether
    # the month's figure meets the measure's target, in words; or "target_figure": the target itself (the
    # contract's profile; nationally, the profiles summed).
    show: Literal["value", "change", "median", "national", "rolling_3", "rolling_12", "cumulative",
                  "contract_year", "target", "target_figure"] = "value"
    heading: str = Field(min_length=1)  # in the HTML pack
    sheet_heading: str = ""  # in the Excel pack (default: heading)
    width: int = Field(default=10, ge=4, le=60)  # Excel column width
    format: Literal["num", "int", "pct", "text"] = "num"  # "text" for show = "target"


class Table(_Model):
    """A table per contract, one row per month (HTML: one table per contract; Excel: one sheet of all)."""

    id: str = Field(pattern=_ID)
    caption: str = Field(min_length=1)  # HTML: "<caption>, <contract>"
    sheet: str = Field(min_length=1, max_length=31)
    sheet_title: str = Field(min_length=1)
    sheet_note: str = ""
    columns: list[Column] = Field(min_length=1)


class Series(_Model):
    measure: str
    show: Literal["value", "median", "national", "target_figure"] = "value"
    label: str = Field(min_length=1)


class Chart(_Model):
    """A trend chart by month. Per contract it is drawn beside ``table`` in Excel, from that table's columns."""

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)  # ", <contract>" is added per contract
    description: str = Field(min_length=1)  # ", <months>." and the latest figure are added
    latest: str = "figure"  # "Latest <latest> 12.0 in Oct 2026."
    table: str = ""
    series: list[Series] = Field(min_length=1)
    excel: bool = True  # the national chart is also drawn in the Excel pack


class GroupTable(_Model):
    """The groups ([[pack.groups]]) of the latest month (HTML) and of every month (Excel)."""

    id: str = Field(default="groups", pattern=_ID)
    caption: str = Field(min_length=1)
    sheet: str = Field(min_length=1, max_length=31)
    sheet_title: str = Field(min_length=1)
    sheet_note: str = ""
    table_name: str = Field(min_length=1)
    empty: str = Field(min_length=1)
    size_heading: str = Field(min_length=1)
    outcomes_heading: str = Field(min_length=1)


class NationalView(_Model):
    """The national pack's table (columns with show = "national" or "median") and charts."""

    caption: str = Field(min_length=1)
    sheet: str = Field(min_length=1, max_length=31)
    sheet_title: str = Field(min_length=1)
    sheet_note: str = ""
    table_name: str = Field(min_length=1)
    columns: list[Column] = Field(min_length=1)
    charts: list[Chart] = Field(default_factory=list)


class PackSpec(_Model):
    title: str = Field(min_length=1)  # the section's heading in a provider's pack
    national_title: str = ""  # its heading in the national pack (default: title)
    label: str = Field(min_length=1)  # after a contract reference: "(AtW MHSS)"
    order: int = 1  # sections, and the general notes (templates/pack-notes.toml), sorted by this
    guidance: str = Field(min_length=1)  # what the pack serves ("AtW 7.04-7.05, 7.20; ...")
    action_plan_guidance: str = ""
    findings_guidance: str = Field(min_length=1)  # cited for open findings on this return
    intro: str = ""
    how_to_read: list[str] = Field(min_length=1)  # used when this is the first section a pack holds
    notes: list[PackNote] = Field(default_factory=list)
    kpis: KpiSource | None = None
    measures: list[Measure] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    # How the measures are shown (a measures section: packs.pack_html, pack_excel).
    short: str = ""  # "KPD": "No KPD figures for the 12 months to the report month."
    contract_heading: str = "Contract"  # the Excel tables' first column
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    group_table: GroupTable | None = None
    national_view: NationalView | None = None
    flags_heading: str = "Figures for a second look"

    @model_validator(mode="after")
    def _measures_refer_back(self) -> "PackSpec":
        seen: set[str] = set()
        for m in self.measures:
            if m.id in seen:
                raise ValueError(f"measure id '{m.id}' is used twice")
            if m.target_of is not None and (m.target_of not in seen or next(
                    x for x in self.measures if x.id == m.target_of).target_from is None):
                raise ValueError(f"measure '{m.id}': target_of names '{m.target_of}', which is not an earlier "
                                 "measure with target_from")
            seen.add(m.id)
        if self.kpis is None and not self.measures:
            raise ValueError("a pack section needs [pack.kpis] or at least one [[pack.measures]]")
        tables = {t.id: t for t in self.tables}
        by_id = {m.id: m for m in self.measures}
        views = [c for t in self.tables for c in t.columns] + (self.national_view.columns if self.national_view else [])
        for c in views:
            if c.measure not in seen:
                raise ValueError(f"column '{c.heading}' shows measure '{c.measure}', which [[pack.measures]] lacks")
            if c.show in WINDOWS and c.show not in by_id[c.measure].windows:
                raise ValueError(f"column '{c.heading}': measure '{c.measure}' does not list window '{c.show}'")
            m = by_id[c.measure]
            if c.show in ("target", "target_figure") and m.target is None and m.target_from is None:
                raise ValueError(f"column '{c.heading}': measure '{c.measure}' has no target or target_from")
        charted = [s for ch in self.charts + (self.national_view.charts if self.national_view else [])
                   for s in ch.series]
        for s in charted:
            if s.measure not in by_id or not by_id[s.measure].trend:
                raise ValueError(f"series '{s.label}': measure '{s.measure}' needs trend = true to be charted")
        for ch in self.charts:
            if ch.table not in tables:
                raise ValueError(f"chart '{ch.id}': table '{ch.table}' is not one of [[pack.tables]]")
            shown = {(c.measure, c.show) for c in tables[ch.table].columns}
            for se in ch.series:
                if (se.measure, se.show) not in shown:
                    raise ValueError(f"chart '{ch.id}': series '{se.label}' is not a column of table '{ch.table}'")
        return self
