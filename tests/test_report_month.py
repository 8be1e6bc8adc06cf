"""The packs' default report month comes from the ledger and the specs (intake.report_month), not from
a return type named in the code: the finest-grained returns decide it."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from kpd_returns.intake.report_month import latest_report_month
from kpd_returns.spec.return_spec import load_all


def _ledger(rows):
    return SimpleNamespace(current_returns=lambda return_id=None: rows)


def _row(rid, period, end):
    return SimpleNamespace(return_id=rid, period=period, period_end=end)


def _ids_by_months():
    """A monthly and a quarterly return id with pack sections, found from the specs themselves."""
    from kpd_returns.intake.report_month import _months_covered

    monthly = quarterly = None
    for rid in sorted(rid for rid, spec in load_all().items() if spec.pack is not None):
        if _months_covered(rid, "2026-10") == 1:
            monthly = monthly or rid
        elif _months_covered(rid, "2026-27 Q3") == 3:
            quarterly = quarterly or rid
    return monthly, quarterly


def test_a_monthly_return_decides_before_a_quarterly_one_sent_early():
    monthly, quarterly = _ids_by_months()
    rows = [_row(monthly, "2026-09", dt.date(2026, 9, 30)), _row(monthly, "2026-10", dt.date(2026, 10, 31)),
            _row(quarterly, "2026-27 Q3", dt.date(2026, 12, 31))]
    assert latest_report_month(_ledger(rows)) == "2026-10"


def test_quarterly_returns_only_give_the_last_month_of_the_latest_quarter():
    _monthly, quarterly = _ids_by_months()
    rows = [_row(quarterly, "2026-27 Q1", dt.date(2026, 6, 30)), _row(quarterly, "2026-27 Q2", dt.date(2026, 9, 30))]
    assert latest_report_month(_ledger(rows)) == "2026-09"


def test_an_empty_ledger_or_an_unknown_return_gives_no_month():
    assert latest_report_month(_ledger([])) is None
    assert latest_report_month(_ledger([_row("no-such-return", "2026-10", dt.date(2026, 10, 31))])) is None


def test_the_demo_register_adds_the_world_files_rows():
    from kpd_returns.author.sample_world import world
    from kpd_returns.cli.demo import register_csv

    assert world().demo_register_rows
    assert all(register_csv().endswith(row + "\n") or row in register_csv() for row in world().demo_register_rows)
