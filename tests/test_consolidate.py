"""End to end on a generated inbox of 300+ inputs: both return types, 30 providers, months and quarters,
bare workbooks and e-mails, exact duplicates, resubmissions, late and missing returns, rejected and
unreadable files. Expectations are worked out by hand in test_consolidate_gen.build_inbox."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.intake.consolidate import consolidate
from kpd_returns.intake.ledger import Ledger
from kpd_returns.intake.registry import load_registry
from test_consolidate_gen import EQUALS_NAME, build_inbox

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    exp = build_inbox(base / "inbox")
    seen = []
    result = consolidate([base / "inbox"], base / "out", register=load_registry(exp.providers_csv), as_of=AS_OF,
                         workers=2, progress=False, register_name="providers.csv", on_outcome=seen.append)
    return base, exp, result, seen


def test_every_input_is_counted_once_and_the_counts_add_up(run):
    _base, exp, result, seen = run
    s = result.summary
    assert exp.inputs >= 300
    assert s.inputs == exp.inputs == len(s.outcomes) == len(seen)
    assert sum(s.counts.values()) == s.inputs and s.balanced
    assert s.counts == exp.counts
    got = {(o.source if o.name == Path(o.source).name else f"{o.source}:{o.name}"): o.outcome for o in s.outcomes}
    assert got == exp.outcome_by_name
    doc = json.loads(result.summary_file.read_text())
    assert doc["inputs"] == exp.inputs and sum(doc["counts"].values()) == exp.inputs
    assert len(doc["files"]) == exp.inputs


def test_duplicates_say_where_the_first_copy_is(run):
    _base, _exp, result, _seen = run
    dup = next(o for o in result.summary.outcomes if o.source == "files/zz-copies/1/mmir-p01-2026-04.xlsx")
    assert dup.outcome == "duplicate"
    assert dup.detail == "already in the ledger as mmir-p01-2026-04.xlsx, received 2026-05-05"


def test_the_current_return_per_provider_and_period(run):
    _base, exp, result, _seen = run
    with Ledger(result.ledger_path) as led:
        current = {(r.return_id, r.contract, r.period): r.name for r in led.current_returns()}
        assert current == exp.current
        # History keeps superseded and rejected files: P03's August has both.
        hist = [(h.name, h.verdict, h.current) for h in led.group_files()[("mmir", "atw-t-03", "2026-08")]]
        assert hist == [("mmir-p03-2026-08-first-try.xlsx", "invalid", False),
                        ("mmir-p03-2026-08-corrected.xlsx", "valid-with-warnings", True)]
        assert led.integrity_problems() == []


def test_each_files_current_flag_agrees_with_the_current_files_view(run):
    """The per-file flag is worked out from the file's own period (fast); it must mean the view's ranking."""
    _base, exp, result, _seen = run
    with Ledger(result.ledger_path) as led:
        in_view = {r[0] for r in led.conn.execute("SELECT id FROM current_files")}
        files = led.all_files()
        by_id = {f.file_id: f for f in files}
        assert {f.file_id for f in files if f.current} == in_view
        assert {r.file_id for r in led.current_returns()} == in_view
        assert all(by_id[i].current for i in in_view)
    assert len(in_view) < len(files)  # superseded and rejected files are there too


def test_the_register_matches_the_hand_worked_expectation(run):
    _base, exp, result, _seen = run
    got = {(r.return_id, r.contract, r.period): (r.status, r.late_working_days, r.resubmissions, r.files)
           for r in result.register_rows}
    assert got == exp.register
    statuses = [r.status for r in result.register_rows]
    assert statuses.count("missing") == 11 and statuses.count("late") == 3
    assert statuses.count("rejected only") == 2
    assert all(r.in_register for r in result.register_rows)
    # Deadlines follow each provider's UK division: July 2026 was due Wed 5 August in England and
    # Wales but Thu 6 August in Scotland (P05), where Mon 3 August is a bank holiday.
    due = {r.contract: r.deadline for r in result.register_rows if r.period == "2026-07"}
    assert due["AtW-T-01"] == dt.datetime(2026, 8, 5, 23, 59) and due["AtW-T-05"] == dt.datetime(2026, 8, 6, 23, 59)
    with Ledger(result.ledger_path) as led:
        p05 = next(r for r in led.current_returns("mmir") if r.contract == "AtW-T-05" and r.period == "2026-07")
        assert (p05.region, p05.deadline) == ("scotland", dt.datetime(2026, 8, 6, 23, 59))


def test_cross_return_warning_is_stored_on_the_later_file(run):
    _base, _exp, result, _seen = run
    with Ledger(result.ledger_path) as led:
        row = next(r for r in led.current_returns("mmir") if r.contract == "AtW-T-04" and r.period == "2026-10")
        codes = {f.code: f for f in led.findings(row.file_id)}
        assert set(codes) == {"ytd-discontinuity", "submitted-late"}
        f = codes["ytd-discontinuity"]
        assert (f.severity, f.sheet, f.cell) == ("warning", "Volumes", "D5")
        assert "September 2026's year to date" in f.message
        assert led.finding_counts()["ytd-discontinuity"] == 1


def test_rejected_and_unreadable_findings_are_written_beside_the_outputs(run):
    _base, _exp, result, _seen = run
    names = sorted(p.name for p in result.rejected_dir.iterdir())
    assert names == sorted([
        "broken.findings.json", "empty.findings.json", "old-template.findings.json", "p22-forgot-attachment.findings.json",
        "kpd-p07-2026-27-q1.findings.json", "kpd-p07-2026-27-q1.annotated.xlsx",
        "mmir-p03-2026-08-first-try.findings.json", "mmir-p03-2026-08-first-try.annotated.xlsx",
        "mmir-p12-2026-10.findings.json", "mmir-p12-2026-10.annotated.xlsx",
        "mmir-p16-2026-06-bad.findings.json", "mmir-p16-2026-06-bad.annotated.xlsx"])
    doc = json.loads((result.rejected_dir / "mmir-p16-2026-06-bad.findings.json").read_text())
    (f,) = doc["files"]
    assert f["verdict"] == "invalid" and f["file"].endswith("> mmir-p16-2026-06-bad.xlsx")
    assert [x["code"] for x in f["findings"]][0] == "not-a-number"
    nothing = json.loads((result.rejected_dir / "p22-forgot-attachment.findings.json").read_text())
    assert nothing["files"][0]["findings"][0]["code"] == "no-workbook-attached"
    by_source = {o.source: o for o in result.summary.outcomes}
    assert by_source["files/stray/old-template.xls"].findings_file == "rejected/old-template.findings.json"
    # A covering letter and a CSV are not returns: skipped, listed once, never an input (issue 14, item 3).
    assert "files/stray/cover-letter.pdf" not in by_source and "files/stray/figures.csv" not in by_source
    assert result.summary.skipped == ["files/stray/cover-letter.pdf", "files/stray/figures.csv"]


def test_the_consolidated_workbook(run):
    _base, _exp, result, _seen = run
    wb = openpyxl.load_workbook(result.workbook)
    assert wb.sheetnames[:3] == ["Cover", "Contents", "Submissions"]
    assert {"KPD return data", "KPD FTE total", "KPD front line FTE", "KPD caseload", "KPD job entries", "MMIR data",
            "MMIR referrals", "MMIR support plans approved", "MMIR reworks", "MMIR KPI 3 within target",
            "MMIR KPI 5 cases due", "Validation summary", "Files"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        assert ws["A1"].value and ws["A1"].data_type == "s"
        assert not ws.merged_cells.ranges
        if ws.title.endswith(" data"):
            # Streamed (constant memory): a filtered range with a bold header row and a defined name.
            assert not ws.tables and ws.freeze_panes == "C5" and ws.auto_filter.ref.startswith("A4:H")
            assert [c.value for c in ws[4]] == ["Provider", "Contract", "Period", "Month", "Field", "Field label",
                                                "Key", "Value"] and ws["A4"].font.b
            name = "kpd_data" if ws.title.startswith("KPD") else "mmir_data"
            (dest,) = wb.defined_names[name].destinations
            assert dest == (ws.title, "$A$4:" + ws.auto_filter.ref.split(":")[1].replace("H", "$H$"))
            assert ws.max_row > 100
        elif ws.title != "Cover":
            assert len(ws.tables) == 1 and ws.freeze_panes
    # Contents links to every other sheet.
    contents = wb["Contents"]
    links = [c.hyperlink.location for c in contents["A"] if c.hyperlink]
    assert len(links) == len(wb.sheetnames) - 1
    # Providers x months: all 30 active providers sent MMIR returns; the totals row holds formulas.
    ws = wb["MMIR referrals"]
    (table,) = ws.tables.values()
    assert table.ref.startswith("A4:")
    header = [c.value for c in ws[4]]
    assert header[:3] == ["Provider", "Contract", "April 2026"] and header[-1] == "Total"
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5, max_row=ws.max_row)]
    data, total = rows[:-1], rows[-1]
    assert len(data) == 30 and total[0] == "Total"
    assert total[2] == f"=SUBTOTAL(109,C5:C{ws.max_row - 1})"  # by address: LibreOffice reads it too
    # The provider whose name begins with '=' is text, never a formula.
    for name in ("MMIR referrals", "MMIR data", "KPD FTE total", "Submissions", "Files"):
        cells = [c for row in wb[name].iter_rows() for c in row if c.value == EQUALS_NAME]
        assert cells and all(c.data_type == "s" for c in cells), name


def test_totals_row_values_are_cached_for_readers_that_do_not_recalculate(run):
    _base, _exp, result, _seen = run
    values = openpyxl.load_workbook(result.workbook, data_only=True)["MMIR referrals"]
    rows = [[c.value for c in r] for r in values.iter_rows(min_row=5, max_row=values.max_row)]
    data, total = rows[:-1], rows[-1]
    assert total[2] == sum(r[2] or 0 for r in data) and total[2] > 0
    assert total[-1] == sum(r[-1] for r in data)


def test_rerunning_into_a_fresh_folder_with_the_same_ledger_gives_identical_outputs(run):
    base, exp, result, _seen = run
    again = consolidate([base / "inbox"], base / "out-again", db=result.ledger_path,
                        register=load_registry(exp.providers_csv), as_of=AS_OF, workers=1, progress=False,
                        register_name="providers.csv")
    # A re-run tells the ledger's truth (issue 14 item 4): each input keeps its recorded outcome,
    # only second copies within the inbox are duplicates, and the summary is the first run's.
    assert again.summary.counts == result.summary.counts
    recorded = [o for o in again.summary.outcomes if o.already_recorded]
    assert len(recorded) == exp.inputs - result.summary.counts["duplicate"]
    assert again.summary.recorded_line().startswith(f"{len(recorded)} already recorded by an earlier run (")
    assert again.summary_file.read_bytes() == result.summary_file.read_bytes()
    assert again.summary.inputs == exp.inputs and again.summary.balanced
    assert again.workbook.read_bytes() == result.workbook.read_bytes()
    first = sorted(p.name for p in result.rejected_dir.iterdir())
    assert sorted(p.name for p in again.rejected_dir.iterdir()) == first
    for name in first:
        assert (again.rejected_dir / name).read_bytes() == (result.rejected_dir / name).read_bytes(), name


@pytest.mark.system
def test_libreoffice_opens_the_consolidated_workbook_with_every_row(run, tmp_path):
    """A second real spreadsheet program reads the spliced data sheets and the tables alike."""
    from libreoffice_helper import convert, make_profile

    _base, _exp, result, _seen = run
    proc = convert([result.workbook], tmp_path / "lo", make_profile(tmp_path / "profile"))
    saved = tmp_path / "lo" / result.workbook.name
    assert proc.returncode == 0 and saved.exists(), proc.stderr
    # Values (LibreOffice recalculates the totals row; it also rewrites the formulas' spelling).
    ours = openpyxl.load_workbook(result.workbook, data_only=True)
    theirs = openpyxl.load_workbook(saved, data_only=True)
    assert theirs.sheetnames == ours.sheetnames
    for name in ("KPD return data", "MMIR data", "MMIR referrals", "Files"):
        mine = [[c.value for c in row] for row in ours[name].iter_rows(min_row=4)]
        other = [[c.value for c in row] for row in theirs[name].iter_rows(min_row=4, max_col=len(mine[0]))]
        assert other[:len(mine)] == mine, name
        assert len(mine) > 30
