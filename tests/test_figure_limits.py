"""A figure no return can hold (issue 19 item 4): counts of 1e308, text of 400 digits and ratios that
overflow are findings at their cell (spec.constants FIGURE_CEILING, part of every numeric field's
limits), and a ledger that already holds such a figure (an older or hand-edited ledger) never stops
a later run: the figure is skipped and one sentence says so."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest

from cli_return_helpers import fill, findings, ref_of, run, validate, write_template
from test_checks_helpers import check, kpd_cells
from test_return_insight import insight_cells
from test_return_jobs2 import jobs2_cells

from kpd_returns.spec.constants import FIGURE_CEILING

REGISTER = ("provider,contract,returns,first_period,profile\n"
            "Test Provider 01 Ltd,ATW-MHSS-001,insight,2026-10,\n"
            "Test Provider 02 Ltd,JOBS2-007,jobs2,2026-10,\n")


def test_a_count_of_1e308_is_an_error_at_its_cell_through_the_command_line(tmp_path):
    blank = write_template("jobs2", tmp_path)
    path = fill("jobs2", blank, jobs2_cells(exit_work__in_month=1e308, exit_health__in_month=1e308),
                tmp_path / "huge.xlsx")
    code, report = validate(path)
    assert code == 1
    got = {(c, ref) for c, ref, _s, _g in findings(report)}
    assert ("above-maximum", ref_of("jobs2", "exit_work", "in_month")) in got
    assert ("above-maximum", ref_of("jobs2", "exit_health", "in_month")) in got
    message = next(f["message"] for f in report["findings"] if f["code"] == "above-maximum")
    assert "1e+308" in message and "1,000,000,000 or less" in message  # never 309 digits


def test_the_ceiling_applies_to_every_return_type_and_both_signs():
    report = check("kpd", kpd_cells("Q1", days_lost__apr=FIGURE_CEILING + 1))
    assert [f.code for f in report.findings] == ["above-maximum"]
    assert not check("kpd", kpd_cells("Q1", days_lost__apr=FIGURE_CEILING)).findings


@pytest.mark.parametrize("value", [1e305, 1e308, -1e308])
def test_a_huge_figure_in_a_field_with_decimal_places_is_one_finding_not_a_crash(value):
    """Days lost are queried beyond 4 places: 1e305 * 10^4 is infinity, which round() cannot take."""
    report = check("kpd", kpd_cells("Q1", days_lost__apr=value))
    assert [f.code for f in report.findings] == ["above-maximum" if value > 0 else "below-minimum"]


def test_four_hundred_digits_typed_as_text_are_not_a_number(tmp_path):
    path = fill("jobs2", write_template("jobs2", tmp_path), jobs2_cells(referrals__in_month="9" * 400),
                tmp_path / "digits.xlsx")
    code, report = validate(path)
    assert code == 1
    assert ("not-a-number", ref_of("jobs2", "referrals", "in_month")) in {(c, r) for c, r, _s, _g in findings(report)}


def test_a_ratio_that_overflows_is_a_finding_at_its_cell_and_is_never_stored():
    """Job entries per front line FTE over an FTE of 5e-324: infinity, not a figure."""
    cells = kpd_cells("Q1", staff_front_line__apr=5e-324)
    report = check("kpd", cells)
    codes = [f.code for f in report.findings]
    assert "total-out-of-range" in codes, codes
    f = next(f for f in report.findings if f.code == "total-out-of-range")
    assert f.field == "job_entries_per_front_line_fte" and "infinity" in f.message
    stored = [v for fid, _k, _m, v in report.values if fid == "job_entries_per_front_line_fte"]
    assert all(isinstance(v, float) and abs(v) <= FIGURE_CEILING for v in stored)


def _consolidate(inbox, out, db, register):
    return run("consolidate", str(inbox), "--out", str(out), "--db", str(db), "--providers", str(register),
               "--as-of", "2026-11-27", "--workers", "1")


def test_a_ledger_holding_an_infinite_figure_never_stops_a_later_run(tmp_path):
    """Tampered or older ledger: infinity (and 1e308) stored directly with sqlite3, then an unrelated
    clean return consolidated into it: exit 0, the workbook and packs written, one sentence on stderr."""
    register = tmp_path / "providers.csv"
    register.write_text(REGISTER, encoding="utf-8")
    db = tmp_path / "ledger.sqlite"
    first = tmp_path / "first"
    first.mkdir()
    fill("jobs2", write_template("jobs2", tmp_path), jobs2_cells(), first / "jobs2-2026-10.xlsx")
    assert _consolidate(first, tmp_path / "out1", db, register).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE file_values SET value_num = 9e999 WHERE field = 'exit_work'")
        conn.execute("UPDATE file_values SET value_num = 1e308 WHERE field IN ('exit_health', 'referrals')")
        conn.execute("UPDATE file_values SET value_num = -9e999 WHERE field = 'prop_attended'")
        assert conn.execute("SELECT COUNT(*) FROM file_values WHERE abs(value_num) > 1e300").fetchone()[0] == 4
    second = tmp_path / "second"
    second.mkdir()
    fill("insight", write_template("insight", tmp_path), insight_cells(), second / "insight-2026-10.xlsx")
    out = tmp_path / "out2"
    for _ in range(2):  # and every later run
        result = _consolidate(second, out, db, register)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        assert "holds figures no return can hold" in result.stderr and "jobs2-2026-10.xlsx" in result.stderr
    assert (out / "consolidated.xlsx").stat().st_size > 0
    packs = sorted(p.name for p in (out / "packs").iterdir())
    assert any(p.endswith(".html") for p in packs) and any(p.endswith(".xlsx") for p in packs), packs
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {f["outcome"] for f in summary["files"]} == {"accepted"}
    result = run("pack", "--period", "2026-10", "--db", str(db), "--out", str(tmp_path / "packs"), "--all",
                 "--providers", str(register))
    assert result.exit_code == 0, result.output
    assert "holds figures no return can hold" in result.stderr
    assert list((tmp_path / "packs").glob("*.html"))


class _Sheet:
    """Records what a writer asks of an xlsxwriter worksheet."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, args[2] if len(args) > 2 else None))


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_the_workbook_writers_leave_a_figure_that_cannot_be_drawn_blank(value):
    """The last line of defence: xlsxwriter raises on infinity; the consolidated workbook and the packs
    write an empty cell instead (the sentence naming the file comes from the ledger read)."""
    from types import SimpleNamespace

    from kpd_returns.intake.consolidated_writer import _Writer
    from kpd_returns.packs.pack_excel import PackWorkbook

    ws = _Sheet()
    _Writer.value(SimpleNamespace(), ws, 3, 2, value)
    PackWorkbook.cell(SimpleNamespace(fmt={"num": None}), ws, 3, 2, value, "num")
    assert [name for name, _ in ws.calls] == ["write_blank", "write_blank"]
