"""The Excel pack's sheets for a measures section (a return's [[pack.measures]], laid out by its spec's
[[pack.tables]], [[pack.charts]], [pack.group_table] and [pack.national_view]): a mixin of
pack_excel.PackWorkbook, which gives it ``sheet``, ``table`` and ``line_chart``.
"""

from __future__ import annotations

from .measure_view import ChartSpec, MeasureSection, cell, contract_charts, national_charts

FIRST_ROW = 3  # zero-based: the table header is on row 4
Col = tuple[str, int, str]  # header, width, kind


class MeasureSheets:
    def measure_sheets(self, section: MeasureSection) -> None:
        """A sheet per declared table (all contracts, by month) with its charts to the right, then the groups."""
        if section.failure:
            self.failed_section(section)
            return
        spec, months = section.spec, self.pack.trend_months
        lead: list[Col] = [(spec.contract_heading, 14, "text"), section.row_column]
        rows: dict[str, list] = {t.id: [] for t in spec.tables}
        rows_g, blocks = [], []
        for contract in section.contracts():
            by = section.by_month(contract)
            shown = [m for m in months if m in by]
            blocks.append((contract, len(rows[spec.tables[0].id]) if spec.tables else 0, shown))
            for m in shown:
                cm, n = by[m], section.national.get(m)
                for t in spec.tables:
                    rows[t.id].append([contract, section.row_label(m)] + [cell(cm, n, c.measure, c.show, section)
                                                                for c in t.columns])
                rows_g += [[contract, section.row_label(m), g.label, g.title or "No title given", g.size, g.outcomes,
                            g.share, g.conversion] for g in cm.groups]
        made = []
        for t in spec.tables:
            ws = self.sheet(t.sheet, t.sheet_title, t.sheet_note)
            cols = lead + [(c.sheet_heading or c.heading, c.width, c.format) for c in t.columns]
            made.append((t, ws, len(cols), self.table(ws, cols, rows[t.id], f"No {spec.short} figures in the 12 months",
                                                      t.sheet)))
        # Charts after every table (their titles go into cells too), a contract at a time.
        for i, (contract, offset, shown) in enumerate(blocks):
            if not shown:
                continue
            specs = {cs.key: cs for cs in contract_charts(section, shown, contract)}
            for t, ws, width, first in made:
                charts = [c for c in spec.charts if c.table == t.id]
                keys = [(c.measure, c.show) for c in t.columns]
                cat = (first + offset, first + offset + len(shown) - 1, 1)
                for j, chart in enumerate(charts):
                    # Stacked to the right of the table, 16 rows a chart; series read from the table's columns.
                    series = [keys.index((s.measure, s.show)) + len(lead) for s in chart.series]
                    self._measure_chart(ws, t.sheet, (FIRST_ROW + (i * len(charts) + j) * 16, width + 1), cat,
                                        specs[f"{contract}-{chart.id}"], series)
        gt = spec.group_table
        if gt:
            ws3 = self.sheet(gt.sheet, gt.sheet_title, gt.sheet_note)
            self.table(ws3, lead + [("Group", 13, "text"), ("Provider's title", 40, "text"),
                                    (gt.size_heading, 11, "num"), (gt.outcomes_heading, 10, "num"),
                                    ("Share (%)", 9, "pct"), ("Conversion (%)", 11, "pct")], rows_g, gt.empty,
                       gt.table_name)

    def _measure_chart(self, ws, sheet: str, at: tuple[int, int], cat: tuple, spec: ChartSpec,
                       cols: list[int]) -> None:
        if not spec.has_data:
            return
        values = [v for _, vs in spec.series for v in vs if v is not None]
        self.line_chart(ws, at, sheet, cat, [(n, c, False) for (n, _), c in zip(spec.series, cols)], spec.title,
                        spec.desc, False, values)

    def failed_section(self, section: MeasureSection, again: bool = False) -> None:
        """A section that could not be drawn: one sheet saying so, in the place of its tables (``again``: after
        some of its sheets were written, under a name of its own)."""
        spec = section.spec
        name = spec.tables[0].sheet if spec.tables else (spec.short or section.return_id)[:31]
        name = f"{name[:21]} not drawn" if again else name
        self.sheet(name, spec.national_title if self.pack.is_national else spec.title, section.failure)

    def national_measures(self, section: MeasureSection) -> None:
        if section.failure:
            self.failed_section(section)
            return
        view, nat = section.spec.national_view, section.national
        if view is None:
            return
        months = [m for m in self.pack.trend_months if m in nat]
        ws = self.sheet(view.sheet, view.sheet_title, view.sheet_note)
        cols: list[Col] = [section.row_column, (f"{section.spec.contract_heading}s reporting", 9, "int")] + [
            (c.sheet_heading or c.heading, c.width, c.format) for c in view.columns]
        rows = [[section.row_label(m), nat[m].providers] + [cell(None, nat[m], c.measure, c.show) for c in view.columns]
                for m in months]
        first = self.table(ws, cols, rows, f"No {section.spec.short} figures in the 12 months", view.table_name)
        keys = [(c.measure, c.show) for c in view.columns]
        for chart, spec in (national_charts(section, months) if months else []):
            if chart.excel:
                series = [keys.index((s.measure, s.show)) + 2 for s in chart.series]
                self._measure_chart(ws, view.sheet, (FIRST_ROW, len(cols) + 1), (first, first + len(months) - 1, 0),
                                    spec, series)
