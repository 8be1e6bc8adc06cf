"""Totals are recomputed from their inputs (KPD 9, 14, 15), never trusted from the file."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from test_checks_helpers import build, check, codes, kpd_cells, only, set_cached_value

from kpd_returns.checks.validate import validate_file
from kpd_returns.spec.return_spec import get_spec

# Cited to the rule's basis (issue 20): a total is the sum of its parts, an average their quotient.
ARITHMETIC = next(r for r in get_spec("kpd").rules if r.kind == "computed_totals").basis.cite()

# April: 4.5 + 50.25 + 10 + 6 = 70.75 FTE; 3000 + 800 + 500 = 4300 caseload; 120 / 50.25 job entries per FTE.


def test_a_typed_number_that_disagrees_kpd_9():
    """KPD 9: FTE Total is the sum of the four staff categories and fills in automatically."""
    report = check("kpd", kpd_cells(fte_total__apr=75))
    f = only(report, "total-mismatch")
    assert (f.sheet, f.cell, f.severity, f.found, f.expected, f.guidance) == (
        "Staffing", "C9", "error", "75", "70.75", ARITHMETIC)


def test_a_typed_number_that_agrees_is_a_warning_kpd_14():
    """KPD 14: Total caseload size; a correct typed number still replaces the formula."""
    report = check("kpd", kpd_cells(caseload_total__may=4300))
    assert codes(report) == [("total-typed-over", "Staffing", "D14", "warning")]
    assert report.verdict == "valid-with-warnings"
    assert only(report, "total-typed-over").guidance == "KPD 14"


def test_a_typed_ratio_within_tolerance_kpd_15():
    report = check("kpd", kpd_cells(job_entries_per_front_line_fte__apr=2.39))  # 120 / 50.25 = 2.388
    assert codes(report) == [("total-typed-over", "Staffing", "C16", "warning")]


def test_zero_front_line_fte_with_job_entries_kpd_15():
    """KPD 15 divides job entries by front line FTE: 0 FTE cannot give a figure."""
    report = check("kpd", kpd_cells(staff_front_line__jun=0))
    f = only(report, "total-divide-by-zero")
    assert (f.sheet, f.cell, f.severity, f.found, f.guidance) == ("Staffing", "E16", "error", "120", ARITHMETIC)
    assert "June 2026" in f.message


def test_zero_over_zero_gives_nothing_kpd_15():
    assert codes(check("kpd", kpd_cells(staff_front_line__jun=0, job_entries__jun=0))) == []


def test_an_invalid_input_skips_that_months_total():
    report = check("kpd", kpd_cells(staff_central__jun="n/a", fte_total__jun=99))
    assert [c[0] for c in codes(report)] == ["not-a-number"]


def test_a_formulas_cached_value_is_never_compared_kpd_9():
    """A stale cached value (a spreadsheet that did not recalculate) under the formula is ignored,
    and the ledger gets the recomputed total."""
    xlsx = build("kpd", kpd_cells())
    order = openpyxl.load_workbook(io.BytesIO(xlsx)).sheetnames
    stale = set_cached_value(xlsx, order.index("Staffing") + 1, "C9", "999")
    part = f"xl/worksheets/sheet{order.index('Staffing') + 1}.xml"
    assert b'SUM(C5,C6,C7,C8))</f><v>999</v>' in zipfile.ZipFile(io.BytesIO(stale)).read(part)
    report = validate_file(stale, name="stale.xlsx")
    assert [f.code for f in report.findings if f.severity == "error"] == []
    values = {(f, k): v for f, k, _m, v in report.values}
    assert values[("fte_total", "apr")] == 70.75
    assert values[("caseload_total", "apr")] == 4300.0
    assert abs(values[("job_entries_per_front_line_fte", "apr")] - 120 / 50.25) < 1e-9
