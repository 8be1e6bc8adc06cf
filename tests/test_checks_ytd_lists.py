"""AtW 7.25 asks for rework reasons and withdrawal details "in Month and year to date": each
return lists the month's cases, Volumes carries the year-to-date totals, and across returns the
ledger checks that the totals equal the year's lists (``ytd-list-mismatch``, a query)."""
from __future__ import annotations

import datetime as dt

from test_checks_helpers import build, mmir_cells

from kpd_returns.checks.ytd_lists import year_months
from kpd_returns.intake.consolidate import ingest
from kpd_returns.intake.ledger import Ledger


def _month(month: str, reworks: tuple[int, int], withdrawals: tuple[int, int], rework_rows: int,
           withdrawal_rows: int, edit=None) -> bytes:
    cells = mmir_cells(month, reworks__in_month=reworks[0], reworks__year_to_date=reworks[1],
                       withdrawals_before_support_plan__in_month=withdrawals[0],
                       withdrawals_before_support_plan__year_to_date=withdrawals[1],
                       reworks_outside_1wd__in_month=0, reworks_outside_1wd__year_to_date=0)
    for i in range(1, rework_rows + 1):
        cells |= {("rework_case_ref", f"row{i}"): f"RW-{month}-{i}", ("rework_report_type", f"row{i}"): "Support Plan",
                  ("rework_reason", f"row{i}"): "Goals not specific"}
    for i in range(1, withdrawal_rows + 1):
        y, m = int(month[:4]), int(month[5:])
        cells |= {("withdrawal_case_ref", f"row{i}"): f"WD-{month}-{i}", ("withdrawal_date", f"row{i}"): dt.date(y, m, 10),
                  ("withdrawal_stage", f"row{i}"): "Before Support Plan", ("withdrawal_reason", f"row{i}"): "Moved job"}
    return build("mmir", cells, edit)


def _ledger_findings(tmp_path, files: dict[str, bytes]) -> dict[str, list]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, data in files.items():
        (inbox / f"{name}.xlsx").write_bytes(data)
    with Ledger(tmp_path / "ledger.db") as ledger:
        ingest([inbox], ledger, workers=1)
        return {r.period: [f for f in ledger.findings(r.file_id) if f.code == "ytd-list-mismatch"]
                for r in ledger.current_returns("mmir")}


def test_year_months_from_the_contract_year_start():
    assert year_months("2026-05", 4) == ["2026-04", "2026-05"]
    assert year_months("2027-02", 4)[0] == "2026-04" and len(year_months("2027-02", 4)) == 11
    assert year_months("2026-04", 4) == ["2026-04"]


def test_a_year_to_date_total_that_is_not_the_year_s_lists_is_a_query(tmp_path):
    found = _ledger_findings(tmp_path, {
        "apr": _month("2026-04", reworks=(1, 1), withdrawals=(1, 1), rework_rows=1, withdrawal_rows=1),
        # May lists one rework (two in the year) but says 3 to date; withdrawals: none in May, 1 to date (right).
        "may": _month("2026-05", reworks=(1, 3), withdrawals=(0, 1), rework_rows=1, withdrawal_rows=0)})
    assert found["2026-04"] == []
    (q,) = found["2026-05"]
    assert q.code == "ytd-list-mismatch"
    assert (q.severity, q.field, q.found, q.expected, q.sheet) == ("warning", "reworks", "3", "2", "Volumes")
    assert q.status == "open" and q.guidance == "AtW 7.25"
    assert "Rework reasons sheets of this contract year's 2 months of returns list 2 cases" in q.message


def test_not_checked_when_the_ledger_lacks_a_month_of_the_year(tmp_path):
    found = _ledger_findings(tmp_path, {
        "may": _month("2026-05", reworks=(1, 3), withdrawals=(0, 1), rework_rows=1, withdrawal_rows=0)})
    assert found["2026-05"] == []


def test_a_cross_return_query_explained_on_the_later_return_is_stored_explained(tmp_path):
    """Issue 13: the provider answers the ledger's query on the Explanations sheet of the return it is on."""
    from test_checks_explanations import explain
    from test_checks_helpers import cell_of

    sheet, cell = cell_of("mmir", "reworks", "year_to_date")
    why = "One April rework was listed on the March return by mistake; corrected next month."
    found = _ledger_findings(tmp_path, {
        "apr": _month("2026-04", reworks=(1, 1), withdrawals=(1, 1), rework_rows=1, withdrawal_rows=1),
        "may": _month("2026-05", reworks=(1, 3), withdrawals=(0, 1), rework_rows=1, withdrawal_rows=0,
                      edit=explain(("ytd-list-mismatch", f"{sheet}!{cell}", why)))})
    (q,) = found["2026-05"]
    assert (q.code, q.status, q.explanation) == ("ytd-list-mismatch", "explained", why)
