"""The Excel pack's review of the Action Plan (WHP ch.16 23; packs/plan_review.py): one sheet, one table, a
row per item for attention (with its action, or "No action in the plan"), per action overdue and per action
complete since the last review. A mixin of pack_excel.PackWorkbook, which gives it ``sheet`` and ``table``."""

from __future__ import annotations

from .plan_review import PlanAction, PlanReview, review_spec
from ..spec.periods import period_title

SEVERITY = {1: "1 - High", 2: "2 - Medium", 3: "3 - Low"}
NO_ACTION = "No action in the plan"


def _action(a: PlanAction) -> list:
    return [a.action, a.owner, a.target, a.milestone, a.status]


def review_rows(r: PlanReview) -> list[list]:
    plan = period_title(r.plan_month) if r.plan_month else "none received"
    rows = []
    for i in r.items:
        for a in i.actions or [None]:
            rows.append([r.contract, plan, "Item for attention", i.subject, SEVERITY[i.severity]]
                        + (_action(a) if a else [NO_ACTION, None, None, None, None]))
    rows += [[r.contract, plan, "Overdue", a.area, None] + _action(a) for a in r.overdue]
    rows += [[r.contract, plan, "Complete since the last review", a.area, None] + _action(a) for a in r.completed]
    return rows


class ReviewSheet:
    def plan_review(self) -> None:
        spec = review_spec()
        if spec is None or not self.pack.reviews:
            return
        review = spec.pack_review
        ws = self.sheet(review.sheet, f"{review.title} ({review.guidance})",
                        f"{review.intro} Overdue: target date before {self.pack.as_of.isoformat()} and not complete.")
        cols = [("Contract", 16, "text"), ("Plan reviewed", 14, "text"), ("Review", 18, "text"),
                ("Item for attention or area", 40, "text"), ("Priority", 10, "text"), ("Action", 40, "text"),
                ("Owner", 18, "text"), ("Target date", 12, "date"), ("Measurable milestone", 30, "text"),
                ("Status", 12, "text")]
        rows = [row for r in self.pack.reviews for row in review_rows(r)]
        self.table(ws, cols, rows, "Nothing for attention and no Action Plan received.", review.title)
