"""The packs' review of a provider's plan of actions (an Action Plan: WHP ch.16 23, "review of Action Plan";
AtW 7.06): for each contract, each item on this pack's attention list with or without an action in the plan,
the actions overdue and the actions complete since the last review.

Which return is the plan, and which of its list columns are the area, action, owner, target date, milestone
and status, is read from the spec's ``[pack_review]`` table (spec/pack_spec.py PackReview): no return is
named here.

Decisions (README, "Action Plan"):

* The plan reviewed is the latest accepted plan for a month before the report month: the plan for October
  answers the October pack and is reviewed by the November pack (WHP ch.16 23: "including improvement
  expectations agreed at the last meeting"). The plan before it is "the last review".
* An attention item has an action when a row of the plan names the item's subject as its area (case and
  spacing aside; the pre-filled templates write it so) and the row's action is filled in.
* Overdue: the target date is before the pack's as-of date (the day of the review) and the status is not
  the complete one. Complete since the last review: complete now, and not complete (or not there) in the
  plan before.
* The review covers every contract that owes a plan (the providers register) or sent one; one that sent
  none says so (WHP ch.16 6: every contract has a plan). A pack with no such contract has no review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..spec.pack_spec import PackReview
from ..spec.periods import month_index, period_title
from ..spec.return_spec import ReturnSpec, load_all
from .pack_inputs import _ck, get, period_end_month


def review_spec() -> ReturnSpec | None:
    """The return whose spec has ``[pack_review]`` (the first by id when several do), or None."""
    return next((s for _, s in sorted(load_all().items()) if s.pack_review is not None), None)


@dataclass(frozen=True)
class PlanAction:
    row: str  # the list row's key ("row3")
    area: str
    action: str
    owner: str
    target: dt.date | None
    milestone: str
    status: str

    def key(self) -> tuple[str, str]:
        return _norm(self.area), _norm(self.action)


@dataclass(frozen=True)
class ReviewItem:
    subject: str
    fact: str
    severity: int
    actions: tuple[PlanAction, ...]  # the plan's actions for it (empty: no action)


@dataclass
class PlanReview:
    contract: str
    report_month: str
    plan_month: str | None  # the month of the plan reviewed ("2026-09"); None when none was received
    previous_month: str | None  # the plan before it (the last review)
    items: list[ReviewItem] = field(default_factory=list)
    overdue: list[PlanAction] = field(default_factory=list)
    completed: list[PlanAction] = field(default_factory=list)

    @property
    def without_action(self) -> list[ReviewItem]:
        return [i for i in self.items if not i.actions]

    @property
    def plan_words(self) -> str:
        if self.plan_month is None:
            return f"No Action Plan received for {self.contract} for a month before {period_title(self.report_month)}."
        since = (f"; the last review was of the plan for {period_title(self.previous_month)}"
                 if self.previous_month else "; no earlier plan was received")
        return f"Action Plan for {period_title(self.plan_month)} reviewed for {self.contract}{since}."


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold().rstrip(".")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def plans_by_contract(rows: Iterable[Any], review: PackReview) -> dict[str, dict[str, list[PlanAction]]]:
    """contract key -> plan month -> the plan's actions (rows with an area or an action), in row order, from the
    ledger's current values of the plan's return."""
    wanted = set(review.fields())
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        if get(r, "field") not in wanted:
            continue
        month = period_end_month(str(get(r, "month") or get(r, "period") or ""))
        if month is None:
            continue
        cells.setdefault((_ck(get(r, "contract")), month, str(get(r, "key"))), {})[get(r, "field")] = get(r, "value")
    out: dict[str, dict[str, list[PlanAction]]] = {}
    for (ck, month, key), c in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], _row_no(kv[0][2]))):
        text = {f: str(c.get(f) or "").strip() for f in (review.area, review.action, review.owner, review.milestone,
                                                          review.status)}
        if not text[review.area] and not text[review.action]:
            continue
        out.setdefault(ck, {}).setdefault(month, []).append(PlanAction(
            key, text[review.area], text[review.action], text[review.owner], _date(c.get(review.target)),
            text[review.milestone], text[review.status]))
    return out


def _row_no(key: str) -> int:
    digits = "".join(ch for ch in key if ch.isdigit())
    return int(digits) if digits else 0


def contract_review(contract: str, items: list[Any], plans: dict[str, list[PlanAction]], report_month: str,
                    as_of: dt.date, review: PackReview) -> PlanReview:
    """The review of one contract's plan: ``items`` are its AttentionItems in this pack, ``plans`` its plans by
    month (plans_by_contract)."""
    before = sorted((m for m in plans if month_index(m) < month_index(report_month)), key=month_index)
    plan_month = before[-1] if before else None
    previous = before[-2] if len(before) > 1 else None
    actions = plans.get(plan_month, []) if plan_month else []
    done = _norm(review.done)
    out = PlanReview(contract, report_month, plan_month, previous)
    for item in items:
        mine = tuple(a for a in actions if _norm(a.area) == _norm(item.subject) and a.action)
        out.items.append(ReviewItem(item.subject, item.fact, item.severity, mine))
    out.overdue = [a for a in actions if a.target is not None and a.target < as_of and _norm(a.status) != done]
    earlier = {a.key() for a in plans.get(previous, []) if _norm(a.status) == done} if previous else set()
    out.completed = [a for a in actions if _norm(a.status) == done and a.key() not in earlier]
    return out


def reviews_for(attention: list[Any], plans: dict[str, dict[str, list[PlanAction]]], contracts: Iterable[str],
                report_month: str, as_of: dt.date, review: PackReview) -> list[PlanReview]:
    """One PlanReview per contract that owes or sent a plan (``contracts``; by contract reference), with its items on
    the attention list (AttentionLines)."""
    order = sorted({_ck(c): c for c in sorted(contracts, key=str)}.values(), key=_ck)
    return [contract_review(c, [a.item for a in attention if _ck(a.contract) == _ck(c)], plans.get(_ck(c), {}),
                            report_month, as_of, review) for c in order]


class Reviewer:
    """The plans of the return with ``[pack_review]``, read once from its ledger values, reviewed per provider."""

    def __init__(self, values: dict[str, Iterable[Any]], report_month: str, as_of: dt.date) -> None:
        spec = review_spec()
        self.spec, self.report_month, self.as_of = spec, report_month, as_of
        self.return_id = spec.id if spec else None
        self.plans = plans_by_contract(values.get(spec.id, ()), spec.pack_review) if spec else {}

    def reviews(self, attention: list[Any], plan_contracts: Iterable[str]) -> list[PlanReview]:
        if self.spec is None:
            return []
        return reviews_for(attention, self.plans, plan_contracts, self.report_month, self.as_of,
                           self.spec.pack_review)
