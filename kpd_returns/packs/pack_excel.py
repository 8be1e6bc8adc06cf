"""The Excel performance pack (xlsxwriter), per provider and national, following the Government
Analysis Function's guidance on accessible spreadsheets.

* Each sheet has a descriptive name, its title in A1, the protective marking in A2, a line
  on what it shows in A3, then ONE table (``add_table``) from row 4: no merged cells and no
  blank rows inside tables; the Cover and Contents come first, Contents links to each sheet.
* Meaning never rests on colour: tiers are "4 - Good" in words with a fill, changes are
  "▲ up 2.1 points", incomplete windows say which months are missing.
* Native line charts of each KPI against its target (12 months, missing months as gaps),
  each with alt text (``description``), and KPD staffing and caseload charts.
* Provider text is only ever written with ``write_string`` (and the workbook refuses to
  turn strings into formulas or links), so ``=HYPERLINK(...)`` stays text.
* Deterministic: the document's created date is the as-of date, rows are in a fixed order,
  and xlsxwriter gives zip members a fixed time, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import xlsxwriter

from .attention import ACTION_PLAN_SECTION
from .kpis import default_config
from .pack_data import PackData, notes_for
from .measure_view import section_failure
from .pack_excel_measures import FIRST_ROW, MeasureSheets
from .pack_excel_whp import WhpSheets
from .pack_excel_review import ReviewSheet
from .pack_text import TIER_COLOURS, WINDOW_HEADINGS, KpiLine, register_text, short_month, when_text
from .svg_charts import y_range
from ..spec.periods import period_title
from ..spec.print_text import LINE_POINTS, row_points, wrapped_lines
from ..spec.return_spec import display_name
from ..spec.words import plural

SEVERITY = {1: "1 - High", 2: "2 - Medium", 3: "3 - Low"}
STATUS_COLOURS = (("missing", "#2a0b06", "#f4cdc6"), ("late", "#6e3619", "#fcd6c3"),
                  ("rejected", "#3d2375", "#dbd5e9"), ("Incomplete", "#594d00", "#fff7bf"),
                  ("on time", "#005a30", "#cce2d8"))
KINDS = {"text": {"text_wrap": True, "valign": "top"}, "pct": {"num_format": "0.0", "valign": "top"},
         "num": {"num_format": "#,##0.##", "valign": "top"}, "int": {"num_format": "#,##0", "valign": "top"},
         "dt": {"num_format": "yyyy-mm-dd hh:mm", "valign": "top"}, "date": {"num_format": "yyyy-mm-dd", "valign": "top"}}
Col = tuple[str, int, str]  # header, width, kind
ROW_HEIGHT = LINE_POINTS  # points per line of 11-point text
# The Cover's one column, in characters: 120 was wider than an A4 landscape page as LibreOffice prints it, so
# its lines ran past the page's edge (issue 19 item 19).
COVER_WIDTH = 100


class PackWorkbook(MeasureSheets, WhpSheets, ReviewSheet):
    def __init__(self, path: Path, pack: PackData) -> None:
        self.pack = pack
        # Built in memory and written whole at close: a full disk is one OSError naming the file, never
        # xlsxwriter's FileCreateError and an archive left open (issue 19 item 15).
        self.path, self.buffer = Path(path), io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, {"strings_to_formulas": False, "strings_to_urls": False,
                                                    "strings_to_numbers": False, "in_memory": True})
        created = dt.datetime.combine(pack.as_of, dt.time(0, 0))
        self.wb.set_properties({"title": pack.title, "subject": f"Contract performance pack, {pack.period}",
                                "author": "kpd-returns", "company": default_config().contracting_authority,
                                "category": pack.marking, "created": created})
        self.wb.set_custom_property("Protective marking", pack.marking)
        f = self.wb.add_format
        self.fmt = {k: f(v) for k, v in KINDS.items()}
        self.title = f({"bold": True, "font_size": 15})
        self.bold = f({"bold": True})
        self.wrap = f({"text_wrap": True, "valign": "top"})
        self.head = f({"bold": True, "text_wrap": True, "valign": "top", "bottom": 2})
        # A number sits at the right of its cell: so does its column's heading, or the figure reads as the
        # next column's (issue 19 item 19).
        self.head_num = f({"bold": True, "text_wrap": True, "valign": "top", "bottom": 2, "align": "right"})
        self.link = f({"font_color": "#1d70b8", "underline": 1, "valign": "top"})
        self.tier = {t: f({"bold": True, "font_color": fg, "bg_color": bg, "border": 1, "border_color": fg,
                           "text_wrap": True, "valign": "top"}) for t, (fg, bg) in TIER_COLOURS.items()}
        self.contents: list[tuple[str, str]] = []
        # GOV.UK tag colours for a return's status and an incomplete basis: conditional formats, so a
        # PM who sorts or filters the table keeps them; the words stay the meaning.
        self.status = [(start, f({"bold": True, "font_color": fg, "bg_color": bg}))
                       for start, fg, bg in STATUS_COLOURS]

    # ---------------------------------------------------------------- building blocks
    def sheet(self, name: str, title: str, about: str):
        ws = self.wb.add_worksheet(name)
        ws.write_string(0, 0, title, self.title)
        ws.write_string(1, 0, f"Protective marking: {self.pack.marking}", self.bold)
        ws.write_string(2, 0, about)
        marking = self.pack.marking.replace("&", "&&")[:200]
        ws.set_header(f'&C&"-,Bold"{marking}')
        ws.set_footer(f'&C&"-,Bold"{marking}&RPage &P of &N')
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        if name not in ("Cover", "Contents"):
            self.contents.append((name, title))
        return ws

    def cell(self, ws, r: int, c: int, value: Any, kind: str) -> None:
        if isinstance(value, tuple):  # (words, tier): words with the tier's fill
            text, tier = value
            ws.write_string(r, c, text, self.tier.get(tier, self.fmt["text"]))
        elif value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
            ws.write_blank(r, c, None, self.fmt[kind])  # a figure that cannot be drawn is left blank, never a crash
        elif isinstance(value, bool):
            ws.write_string(r, c, "Yes" if value else "No", self.fmt["text"])
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, self.fmt[kind if kind != "text" else "num"])
        elif isinstance(value, dt.datetime):
            ws.write_datetime(r, c, value, self.fmt["dt"])
        elif isinstance(value, dt.date):  # a date-only submission: its date, with no "00:00"
            ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), self.fmt["date"])
        else:
            ws.write_string(r, c, str(value), self.fmt["text"])

    def table(self, ws, cols: list[Col], rows: list[list[Any]], empty: str, about: str) -> int:
        """One table from row 4; returns the zero-based row of the first data row."""
        rows = rows or [[empty] + [None] * (len(cols) - 1)]
        ws.add_table(FIRST_ROW, 0, FIRST_ROW + len(rows), len(cols) - 1, {
            "name": "Table_" + re.sub(r"\W", "", ws.name), "style": "Table Style Light 1", "description": about,
            "columns": [{"header": h, "header_format": self.head if kind == "text" else self.head_num}
                        for h, _, kind in cols]})
        for c, (_, width, kind) in enumerate(cols):
            ws.set_column(c, c, width)
        # a heading wrapped over two lines needs a row two lines tall, or it prints over the first row
        if height := row_points([(h, width) for h, width, _ in cols]):
            ws.set_row(FIRST_ROW, height)
        for r, row in enumerate(rows, start=FIRST_ROW + 1):
            for c, (value, (_, _, kind)) in enumerate(zip(row, cols)):
                self.cell(ws, r, c, value, kind)
            # Spreadsheet programs do not grow a row for wrapped text written by a script: without a
            # height, wrapped lines print over the next row (LibreOffice's render of issue 12).
            lines = max((wrapped_lines(v[0] if isinstance(v, tuple) else v, width)
                         for v, (_, width, _) in zip(row, cols)), default=1)
            if lines > 1:
                ws.set_row(r, ROW_HEIGHT * lines)
        ws.freeze_panes(FIRST_ROW + 1, 0)
        ws.repeat_rows(FIRST_ROW)  # the header row on every printed page
        return FIRST_ROW + 1

    def status_formats(self, ws, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
        """Tag colours by the words a status cell begins with ('missing', 'late by 2 working days'...)."""
        for start, fmt in self.status:
            ws.conditional_format(first_row, first_col, last_row, last_col,
                                  {"type": "text", "criteria": "begins with", "value": start, "format": fmt})

    def line_chart(self, ws, at: tuple[int, int], sheet: str, cat: tuple[int, int, int], series: list[tuple],
                   title: str, desc: str, percent: bool, values: list[float]) -> None:
        """``cat`` = (first row, last row, column); ``series`` = (name, column, target?)."""
        chart = self.wb.add_chart({"type": "line"})
        colours = iter(("#1d70b8", "#d4351c", "#4c2c92", "#00703c"))
        r0, r1, cc = cat
        # xlsxwriter reads any name shaped like "Sheet!A1" as a cell reference, with no escape, so a
        # CPA typed as "CPA!A1" would become a chart formula. Every chart text is therefore written
        # to a cell of our own under the chart's top-left corner and the chart points at that cell.
        texts = iter(range(at[0], at[0] + 1 + len(series)))

        def own_cell(text: str) -> list:
            row = next(texts)
            ws.write_string(row, at[1], text, self.wrap)
            return [sheet, row, at[1]]

        title_ref = own_cell(title)
        for name, col, target in series:
            style = ({"line": {"color": "#0b0c0c", "width": 1.5, "dash_type": "dash"}, "marker": {"type": "none"}}
                     if target else {"line": {"color": (c := next(colours)), "width": 2.25},
                                     "marker": {"type": "circle" if c == "#1d70b8" else "square", "size": 6,
                                                "fill": {"color": c}, "border": {"color": c}}})
            chart.add_series({"name": own_cell(name), "categories": [sheet, r0, cc, r1, cc], "values": [sheet, r0, col, r1, col],
                              **style})
        lo, hi, step = y_range(values, percent)
        chart.set_title({"name": title_ref, "name_font": {"size": 11, "bold": True}})
        chart.set_y_axis({"min": lo, "max": hi, "major_unit": step, "num_format": '0"%"' if percent else "#,##0.##",
                          "name": "% of cases within target" if percent else None,
                          "major_gridlines": {"visible": True, "line": {"color": "#b1b4b6"}}})
        chart.set_x_axis({"name": "Month"})
        chart.set_legend({"position": "bottom"})
        chart.show_blanks_as("gap")
        chart.set_size({"width": 640, "height": 300})
        ws.insert_chart(at[0], at[1], chart, {"description": desc, "object_position": 2})

    # ---------------------------------------------------------------- sheets
    def cover(self) -> None:
        p = self.pack
        ws = self.sheet("Cover", p.title, f"Contract performance pack for the Contract Performance Review "
                                          f"({p.review_basis}).")
        ws.set_column(0, 0, COVER_WIDTH, self.wrap)
        lines = [("Provider", p.provider), ("Report month", short_month(p.period, full=True)),
                 ("Figures as of", p.as_of.isoformat())]
        if not p.is_national:
            lines.append(("Contracts", "; ".join(p.contract_list)))
        lines.append(("Data sources", f"{plural(len(p.sources), 'return')} from the ledger, listed on the Data sources sheet"))
        lines += [(c.contract, note) for c in p.contracts if not p.is_national for note in c.notes]
        r = 4
        # Every Cover line is wrapped in its own cell: unwrapped, a long line ran past column A and was cut
        # off at the page's edge when printed (issue 19 item 19).
        for label, text in lines:
            ws.write_string(r, 0, f"{label}: {text}", self.wrap)
            ws.set_row(r, ROW_HEIGHT * wrapped_lines(f"{label}: {text}", COVER_WIDTH))
            r += 1
        shown = [] if p.is_national else sorted(p.sources, key=lambda s: str(s["received_at"] or ""))[-24:]
        if len(shown) < len(p.sources) and shown:
            ws.write_string(r, 0, f"The latest {len(shown)} of {len(p.sources)} returns:")
            r += 1
        for s in shown:
            rec = when_text(s["received_at"])
            text = (f"{display_name(s['return_id'])} for {period_title(s['period'])}, {s['contract']}: {s['name']}, "
                    f"received {rec or 'at an unknown time'}, {s['verdict']}"
                    + (f", {s['timeliness']}" if s["timeliness"] else ""))
            ws.write_string(r, 0, text, self.wrap)
            ws.set_row(r, ROW_HEIGHT * wrapped_lines(text, COVER_WIDTH))
            r += 1
        ws.write_string(r + 1, 0, "How to read this pack", self.bold)
        for i, text in enumerate(notes_for(p)["how_to_read"], start=r + 2):
            ws.write_string(i, 0, text, self.wrap)
            ws.set_row(i, ROW_HEIGHT * wrapped_lines(text, COVER_WIDTH))
        ws.write_url(i + 2, 0, "internal:'Contents'!A1", self.link, "Go to the Contents sheet")
        ws.activate()

    def contents_sheet(self) -> None:
        ws = self.wb.get_worksheet_by_name("Contents")
        self.table(ws, [("Sheet", 28, "text"), ("What it shows", 100, "text")],
                   [[n, t] for n, t in self.contents], "", "The sheets of this workbook, with links")
        for r, (name, _) in enumerate(self.contents, start=FIRST_ROW + 1):
            ws.write_url(r, 0, f"internal:'{name}'!A1", self.link, name)

    def kpi_summary(self, items: list[tuple[str | None, KpiLine]], name: str = "KPI summary") -> None:
        p = self.pack
        ws = self.sheet(name, f"KPI 1 to 5, {short_month(p.period, full=True)}",
                        "Percentages of cases within target on four bases (AtW 7.05); tiers on the rolling 12 "
                        "months for published KPIs 3-5 (AtW 7.18-7.19). See the Notes sheet.")
        prov = any(pv for pv, _ in items)
        cols: list[Col] = ([("Provider", 26, "text")] if prov else []) + [
            ("Contract", 18, "text"), ("KPI", 30, "text"), ("Referral cohort", 18, "text")] + [
            (f"{WINDOW_HEADINGS[w]} (%)", 16, "pct") for w in WINDOW_HEADINGS] + [
            ("Target (%)", 9, "pct"), ("Meets target", 30, "text"), ("Tier (rolling 12 months)", 18, "text"),
            ("Change on last month", 18, "text"), ("Guidance", 10, "text")]
        rows = []
        for pv, line in items:
            # a national figure keeps its coverage beside it ("90.9% (5 of 6 contracts, 55 cases due)")
            cells = [v if v is not None and line.coverage is None else t
                     for v, t in (line.cell(w) for w in WINDOW_HEADINGS)]
            rows.append(([pv] if prov else []) + [line.contract, line.label, line.cohort_label, *cells, line.target,
                        line.meets_text, (line.tier_text, line.tier), line.change_text, line.guidance])
        first = self.table(ws, cols, rows, "No AtW MHSS contract", "KPI summary")
        col = 4 if prov else 3
        self.status_formats(ws, first, first + max(len(rows), 1) - 1, col, col + len(WINDOW_HEADINGS) - 1)

    def kpi_trends(self, lines: list[KpiLine]) -> None:
        name = "KPI trends"
        ws = self.sheet(name, "KPI trends: in-month percentage against target, 12 months",
                        "One block of 12 months per KPI and cohort; a blank percentage is a month with no accepted "
                        "return or no cases due (a gap in the chart). Charts are to the right of the table.")
        cols: list[Col] = [("Contract", 18, "text"), ("KPI", 30, "text"), ("Referral cohort", 18, "text"),
                           ("Month", 10, "text"), ("Cases due", 9, "int"), ("Within target", 9, "int"),
                           ("In month (%)", 10, "pct"), ("Target (%)", 9, "pct"), ("Note", 26, "text")]
        rows = []
        for line in lines:
            for pt in line.trend:
                c = None if pt.incomplete else line.month_counts.get(pt.month)
                rows.append([line.contract, line.label, line.cohort_label, short_month(pt.month), c and c[0],
                             c and c[1], pt.percentage, line.target, line.point_note(pt)])
        first = self.table(ws, cols, rows, "No AtW MHSS contract", "KPI trend figures")
        r, drawn = first, 0
        for line in lines:
            n = len(line.trend)
            if line.has_figures:  # an empty chart is not drawn (its rows still say why)
                values = [p.percentage for p in line.trend if p.percentage is not None] + [line.target or 100]
                self.line_chart(ws, (FIRST_ROW + drawn * 16, 10), name, (r, r + n - 1, 3),
                                [("In-month %", 6, False), (f"Target {line.target:g}%", 7, True)],
                                f"{line.label} ({line.cohort_label}): {line.contract}", line.chart_description(),
                                True, values)
                drawn += 1
            r += n

    def social_value(self, items: list[tuple[str | None, Any]]) -> None:
        ws = self.sheet("Social value", "Social Value KPI by quarter (AtW 7.16, 7.19)",
                        "Each measure is achieved at 100%; the score is the measures achieved out of 3.")
        measures = default_config().social_value.measures
        prov = any(pv for pv, _ in items)
        cols: list[Col] = ([("Provider", 26, "text")] if prov else []) + [
            ("Contract", 18, "text"), ("Quarter", 12, "text"), ("Measure", 10, "text"), ("What it asks", 60, "text"),
            ("Returned", 22, "text"), ("Result", 26, "text")]
        rows = []
        for pv, sv in items:
            base = ([pv] if prov else []) + [sv.contract, sv.quarter]
            rows += [base + [m, measures[i], shown, done] for i, (m, shown, done) in enumerate(sv.measures())]
            tier = sv.result.tier if sv.result else None
            rows.append(base + ["Score", "Measures achieved out of 3 (AtW 7.19)", sv.score_text, (sv.tier_text, tier)])
        self.table(ws, cols, rows, "No quarter has ended since the Service Start Date",
                   "Social Value KPI")

    def attention(self) -> None:
        p = self.pack
        ws = self.sheet("Attention", "What needs attention, most urgent first",
                        f"Suggested prompts for the '{ACTION_PLAN_SECTION}' part of the provider's Action Plan "
                        f"({p.action_plan_basis}): suggestions, not decisions.")
        if p.is_national:
            cols: list[Col] = [("Provider", 30, "text"), ("High", 7, "int"), ("Medium", 8, "int"), ("Low", 7, "int"),
                               ("Most urgent item", 90, "text")]
            rows = [[a["provider"], a["high"], a["medium"], a["low"], a["top"]] for a in p.attention_summary]
        else:
            cols = [("Priority", 11, "text"), ("Contract", 16, "text"), ("Subject", 34, "text"),
                    ("What the figures show", 60, "text"), ("Guidance", 14, "text"),
                    ("Suggested Action Plan prompt", 60, "text")]
            rows = [[SEVERITY[a.item.severity], a.contract, a.item.subject, a.item.fact, a.item.guidance,
                     a.item.prompt] for a in p.attention]
        self.table(ws, cols, rows, "Nothing is flagged for this month", "Attention list")

    def register(self) -> None:
        p = self.pack
        ws = self.sheet("Submissions", f"Submissions register, 12 months to {short_month(p.period, full=True)}",
                        "Each expected return: its deadline, when it arrived, and whether it was on time, late "
                        f"(working days), rejected only or missing ({p.deadline_guidance}).")
        cols: list[Col] = ([("Provider", 26, "text")] if p.is_national else []) + [
            ("Return", 8, "text"), ("Contract", 18, "text"), ("Period", 12, "text"), ("Status", 24, "text"),
            ("Received", 17, "dt"), ("Deadline", 17, "dt"), ("Resubmissions", 9, "int"), ("Files", 7, "int")]
        rows = [([row["provider"]] if p.is_national else []) + [
            register_text(row)["return"], row["contract"], row["period"], register_text(row)["status"],
            row["received_at"], row["deadline"], row["resubmissions"], row["files"]] for row in p.register]
        first = self.table(ws, cols, rows, "No returns were expected in the 12 months", "Submissions register")
        col = 4 if p.is_national else 3
        self.status_formats(ws, first, first + max(len(rows), 1) - 1, col, col)

    def sources(self) -> None:
        p = self.pack
        ws = self.sheet("Data sources", "Returns used in this pack",
                        "The current accepted version of each return in the ledger, up to the report month.")
        cols: list[Col] = ([("Provider", 26, "text")] if p.is_national else []) + [
            ("Return", 8, "text"), ("Contract", 18, "text"), ("Period", 12, "text"), ("File", 40, "text"),
            ("Received", 17, "dt"), ("Verdict", 18, "text"), ("Timeliness (submissions register)", 24, "text")]
        rows = [([s["provider"]] if p.is_national else []) + [
            display_name(s["return_id"]), s["contract"], s["period"], s["name"], s["received_at"], s["verdict"],
            s["timeliness"]] for s in p.sources]
        self.table(ws, cols, rows, "No returns in the ledger for this pack", "Data sources")

    def notes(self) -> None:
        ws = self.sheet("Notes", "Notes: what each measure means", "With the guidance paragraph behind each.")
        rows = [[m["measure"], m["explanation"], m["guidance"]] for m in notes_for(self.pack)["measures"]]
        rows += [["Figures not counted", n, "AtW 7.25"] for n in self.pack.notes]
        self.table(ws, [("Measure", 34, "text"), ("Explanation", 100, "text"), ("Guidance", 22, "text")],
                   rows, "", "Notes")

    def close(self) -> None:
        self.wb.close()
        with open(self.path, "wb") as fh:
            fh.write(self.buffer.getvalue())


def write_xlsx(pack: PackData, path: str | Path) -> Path:
    """Write the provider (or national) Excel pack to ``path``."""
    path = Path(path)
    book = PackWorkbook(path, pack)
    book.cover()
    book.sheet("Contents", "Contents", "Each sheet of this workbook, with a link to it.")
    # What needs attention and the returns missing, late or rejected come first, as in the HTML pack
    # and the README (issue 19 item 19).
    book.attention()
    book.plan_review()  # the review of the Action Plan answers the attention list (WHP ch.16 23)
    book.register()
    if pack.is_national and pack.overview:
        book.kpi_summary(pack.overview, "KPIs by provider")
        book.social_value(pack.sv_overview)
    if pack.lines:
        book.kpi_summary([(None, line) for line in pack.lines], "KPI summary" if not pack.is_national
                         else "KPI all contracts")
        book.kpi_trends(pack.lines)
    if pack.lines and not pack.is_national:
        book.social_value([(None, c.social_value) for c in pack.contracts if c.social_value])
    for i, section in enumerate(pack.sections):
        try:
            book.national_measures(section) if pack.is_national else book.measure_sheets(section)
        except Exception as exc:  # noqa: BLE001 - one section's failure costs that section only
            pack.sections[i] = section = replace(section, failure=section_failure(section.title, exc))
            book.failed_section(section, again=True)
    book.whp_sheets()
    book.sources()
    book.notes()
    book.contents_sheet()
    book.close()
    return path
