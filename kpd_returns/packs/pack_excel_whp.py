"""The Excel pack's Work and Health Programme sheets (packs.whp_view.WhpContract per contract): a mixin of
pack_excel.PackWorkbook, which gives it ``sheet`` and ``table``. One table per sheet, as every sheet:
the standards with figure, count and base; the referrals behind each breach; the tMPLs by window and by cohort
with their levels; the pipeline of the cohorts in progress; the PMIR register.
"""

from __future__ import annotations

from ..spec.whp_config import GROUP_TITLES, GROUPS, PMIR_LEVELS, TMPL_NUMBER
from .pack_text import WINDOW_HEADINGS, short_month
from .whp_cohorts import LEVEL_NOT_SET, PIS

Col = tuple[str, int, str]  # header, width, kind


def _meets(value: bool | None, none: str) -> str:
    return none if value is None else ("Yes" if value else "No")


class WhpSheets:
    def whp_sheets(self) -> None:
        views = self.pack.whp
        if not views:
            return
        month = short_month(self.pack.period, full=True)
        lead: list[Col] = [("Provider", 26, "text"), ("Contract", 14, "text")]
        rows = []
        for v in views:
            rows += [[v.provider, v.contract, f"CSS {f.css}", f.standard, f.percentage, f.count, f.base,
                      _meets(f.meets, "No referrals due")] for f in v.css]
            rows += [[v.provider, v.contract, f"CSS {s.css}", f"{s.standard} (compliance sample)",
                      s.percentage,
                      s.sample.passes if s.sample else None, s.sample.size if s.sample else None,
                      _meets(s.meets, "Not sampled")] for s in v.samples]
        ws = self.sheet("WHP standards", f"WHP Customer Service Standards, {month}",
                        "CSS 1 to 4 from the referrals extract in the contract region's working days (WHP 16.28); "
                        "CSS 5 and 6 as recorded from compliance samples (16.29). CSS 4's figure is its count. Then CSS "
                        "1a, 1b and 2 over rolling and cumulative months (16.8).")
        rows += [[v.provider, v.contract, f"CSS {w.css}, {WINDOW_HEADINGS[w.window].lower()}",
                  f"{short_month(w.months[0])} to {short_month(w.months[-1])}", w.percentage, w.count, w.base,
                  _meets(w.meets, "No referrals due")] for v in views for w in v.css_windows
                 if w.window != "in_month"]
        self.table(ws, lead + [("Standard", 16, "text"), ("What it asks, or the months", 56, "text"),
                               ("Figure (%)", 10, "pct"), ("Count", 10, "int"), ("Base", 10, "int"),
                               ("Meets", 12, "text")], rows, "No standards measured", "WHP standards")
        national = self.pack.is_national  # the overview: standards, tMPL windows and PMIR; the detail is per provider
        if not national:
            ws = self.sheet("WHP breaches", f"Referrals behind each standard missed, {month}",
                            "The pseudonymous referral id of each referral behind a standard missed in the month.")
            self.table(ws, lead + [("Standard", 9, "text"), ("Referral id", 20, "text")],
                       [[v.provider, v.contract, f"CSS {css}", ref] for v in views for css, refs in v.breaches.items()
                        for ref in refs], "No standard missed", "WHP breaches")
        self._whp_levels(views, lead, cohorts=not national)
        if not national:
            self._whp_pipeline(views, lead)
        ws = self.sheet("WHP PMIR", "PMIR register (recorded by the Performance Manager)",
                        "Each change of PMIR level in the WHP register (WHP 16.4-16.11); levels may run at once.")
        self.table(ws, lead + [("Date", 11, "date"), ("Level", 44, "text"), ("Change", 9, "text"),
                               ("Note", 60, "text")],
                   [[v.provider, v.contract, e.date, PMIR_LEVELS[e.level], e.action.capitalize(), e.note]
                    for v in views for e in v.pmir_history], "No PMIR level recorded", "WHP PMIR")

    def _whp_levels(self, views, lead: list[Col], cohorts: bool = True) -> None:
        rows = []
        for v in views:
            for g in GROUPS:
                for w in v.windows.get(g, []):
                    rows.append([v.provider, v.contract, f"{TMPL_NUMBER[g]} {GROUP_TITLES[g]}", WINDOW_HEADINGS[w.window],
                                 f"{short_month(w.months[0])} to {short_month(w.months[-1])}", w.starts, w.outcomes,
                                 w.percentage, LEVEL_NOT_SET if w.level is None else w.level,
                                 _meets(w.meets, "Not judged")])
                for c in v.cohorts.get(g, []) if cohorts else []:
                    rows.append([v.provider, v.contract, f"{TMPL_NUMBER[g]} {GROUP_TITLES[g]}", f"Cohort, {c.status}",
                                 short_month(c.cohort), c.starts, c.outcomes, c.percentage,
                                 LEVEL_NOT_SET if c.level is None else c.level, _meets(c.meets, "Not judged")])
        ws = self.sheet("WHP tMPLs", "WHP tender Minimum Performance Levels by cohort of starts",
                        "Conversion of the matured cohorts (outcome within 639 days of the start; self-employed claim "
                        "within 700), by window and by cohort, against the contract's levels (WHP 16.14-16.15, 16.26).")
        self.table(ws, lead + [("tMPL", 30, "text"), ("Basis", 24, "text"), ("Cohorts", 20, "text"),
                               ("Starts", 9, "int"), ("Outcomes", 9, "int"), ("Conversion (%)", 11, "pct"),
                               ("Level (%)", 12, "text"), ("Meets", 10, "text")], rows,
                   "No cohort has matured", "WHP tMPLs")

    def _whp_pipeline(self, views, lead: list[Col]) -> None:
        rows = [[v.provider, v.contract, short_month(p.cohort), p.age, PIS[pi], p.starts, p.count, p.percentage,
                 p.earlier_percentage] for v in views for pi, ps in v.pipeline.items() for p in ps if p.starts]
        ws = self.sheet("WHP pipeline", "Performance Indicators of the cohorts in progress, CPA headline",
                        "Share of each in-progress cohort's starts with earnings commencement and the £1,000 and "
                        "£2,000 milestones by the report month, against the earlier cohorts at the same age (WHP 16.12).")
        self.table(ws, lead + [("Cohort", 10, "text"), ("Months since", 8, "int"), ("Indicator", 22, "text"),
                               ("Starts", 9, "int"), ("With it", 9, "int"), ("Share (%)", 9, "pct"),
                               ("Earlier cohorts (%)", 11, "pct")], rows, "No cohort in progress", "WHP pipeline")
