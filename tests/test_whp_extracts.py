"""WHP PRaP extracts as specs (issue 22 item 1): read from .csv or .xlsx, checked column-wise, recorded in
the ledger column by column, and read back by intake.extract_store.load_extract_frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.intake.extract_store import load_extract_frame
from kpd_returns.intake.ledger import Ledger
from kpd_returns.spec.extract_spec import load_extracts

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("referral_id,cpa,dda,customer_group,referral_date,acknowledged_date,start_or_fta,start_or_fta_date,"
          "recorded_date")
CLEAN = [
    "R-0000001,WHP-CPA-01,,disability,2026-10-01,2026-10-02,start,2026-10-08,2026-10-09",
    "R-0000002,WHP-CPA-01,Greater Manchester,ltu,2026-10-05,2026-10-05,fta,2026-10-12,2026-10-13",
    "R-0000003,WHP-CPA-01,,early_entry,30/10/2026,,,,",
]
REFERRALS, STARTS = "whp_" + "referrals", "whp_" + "outcomes"  # the spec ids, as data


def _csv(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def inbox(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    _csv(box, "referrals_WHP-CPA-01_2026-10.csv", HEADER, CLEAN)
    bad = list(CLEAN)
    bad[1] = bad[1].replace("2026-10-05,2026-10-05", "2026-10-05,2026-13-05")  # row 3, acknowledged_date
    _csv(box, "referrals_WHP-CPA-02_2026-10-bad-date.csv", HEADER, [r.replace("CPA-01", "CPA-02") for r in bad])
    ni = list(CLEAN)
    ni[2] = ni[2].replace(",,early_entry", ",QQ 12 34 56 C,early_entry")  # row 4, dda
    _csv(box, "referrals_WHP-CPA-03_2026-10-ni.csv", HEADER, [r.replace("CPA-01", "CPA-03") for r in ni])
    cut = HEADER.replace(",acknowledged_date", "")
    _csv(box, "referrals_WHP-CPA-03_2026-09-missing.csv", cut,
         [",".join(p for i, p in enumerate(r.split(",")) if i != 5) for r in CLEAN])
    shutil.copy(ROOT / "samples" / "returns" / "insight-northbridge-employment-ltd-2026-10.xlsx", box)
    (box / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")  # not an extract: skipped as before
    return box


def test_validate_names_row_and_column_of_each_problem(inbox):
    result = CliRunner().invoke(app, ["validate", "--format", "json", *sorted(map(str, inbox.glob("referrals_*.csv")))])
    assert result.exit_code == 1, result.output
    files = {Path(f["name"]).name: f for f in json.loads(result.output)["files"]}
    assert files["referrals_WHP-CPA-01_2026-10.csv"]["verdict"] == "valid"

    (date,) = files["referrals_WHP-CPA-02_2026-10-bad-date.csv"]["findings"]
    assert date["code"] == "extract-not-a-date" and date["cell"] == "F3"
    assert date["message"].startswith("Row 3 of referrals_WHP-CPA-02_2026-10-bad-date.csv, column "
                                      "acknowledged_date (Acknowledged on PRaP): '2026-13-05' is not a date")
    assert date["guidance"] == "WHP 16.28"

    (ni,) = files["referrals_WHP-CPA-03_2026-10-ni.csv"]["findings"]
    assert ni["code"] == "extract-personal-data" and ni["cell"] == "C4"
    assert "Row 4 of" in ni["message"] and "column dda" in ni["message"] and "National Insurance number" in ni["message"]
    assert "12 34 56" not in result.output  # masked everywhere

    (missing,) = files["referrals_WHP-CPA-03_2026-09-missing.csv"]["findings"]
    assert missing["code"] == "extract-column-missing"
    assert missing["message"] == ("The file referrals_WHP-CPA-03_2026-09-missing.csv has no column acknowledged_date "
                                  "(Acknowledged on PRaP), which the WHP referrals extract needs. Add the column, "
                                  "named in the header line, and send the file again.")


def test_consolidate_keeps_the_rest_of_the_batch_and_records_the_clean_extract(inbox, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(out), "--as-of", "2026-11-20",
                                      "--workers", "1"])
    assert result.exit_code == 1, result.output  # rejected extracts of other contracts stay open
    assert "SKIPPED    notes.csv: not a return" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    outcomes = {Path(f["name"]).name: f["outcome"] for f in summary["files"]}
    assert outcomes == {"insight-northbridge-employment-ltd-2026-10.xlsx": "accepted",
                        "referrals_WHP-CPA-01_2026-10.csv": "accepted",
                        "referrals_WHP-CPA-02_2026-10-bad-date.csv": "rejected",
                        "referrals_WHP-CPA-03_2026-10-ni.csv": "rejected",
                        "referrals_WHP-CPA-03_2026-09-missing.csv": "rejected"}
    rejected = (out / "rejected" / "referrals_WHP-CPA-02_2026-10-bad-date.findings.json").read_text(encoding="utf-8")
    assert "Row 3 of" in rejected and "acknowledged_date" in rejected

    with Ledger(out / "ledger.sqlite") as ledger:
        row = ledger.conn.execute("SELECT return_id, contract, period, verdict, sha256 FROM files WHERE name = ?",
                                  ("referrals_WHP-CPA-01_2026-10.csv",)).fetchone()
        assert tuple(row)[:4] == (REFERRALS, "WHP-CPA-01", "2026-10", "valid")  # the audit trail
        frame = load_extract_frame(ledger, REFERRALS, "whp-cpa-01")
        assert load_extract_frame(ledger, REFERRALS, "WHP-CPA-02").empty  # rejected: no rows kept
    assert list(frame.columns) == [f.id for f in load_extracts()[REFERRALS].fields]
    assert frame["referral_id"].tolist() == ["R-0000001", "R-0000002", "R-0000003"]
    assert frame["referral_date"].tolist() == [pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-05"),
                                               pd.Timestamp("2026-10-30")]  # DD/MM/YYYY read too
    assert str(frame["acknowledged_date"].dtype) == "datetime64[ns]" and pd.isna(frame["acknowledged_date"][2])
    assert frame["dda"].tolist()[1] == "Greater Manchester" and pd.isna(frame["dda"][0])


def test_latest_month_wins_and_an_xlsx_extract_is_read(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    _csv(box, "referrals_WHP-CPA-01_2026-10.csv", HEADER, CLEAN)
    book = xlsxwriter.Workbook(str(box / "referrals_WHP-CPA-01_2026-11.xlsx"))
    sheet = book.add_worksheet("PRaP")
    labels = [load_extracts()[REFERRALS].by_id[c].label for c in HEADER.split(",")]  # a header of labels
    sheet.write_row(0, 0, labels)
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    import datetime as dt
    sheet.write_row(1, 0, ["R-0000003", "WHP-CPA-01", "", "early_entry"])
    for col, day in ((4, dt.date(2026, 10, 30)), (5, dt.date(2026, 11, 2)), (7, dt.date(2026, 11, 9)),
                     (8, dt.date(2026, 11, 10))):
        sheet.write_datetime(1, col, dt.datetime.combine(day, dt.time()), dates)
    sheet.write_string(1, 6, "start")
    book.close()
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["consolidate", str(box), "--out", str(out), "--as-of", "2026-12-20",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    frame = load_extract_frame(out / "ledger.sqlite", REFERRALS, "WHP-CPA-01")
    assert len(frame) == 3
    last = frame.set_index("referral_id").loc["R-0000003"]
    assert last["start_or_fta"] == "start" and last["recorded_date"] == pd.Timestamp("2026-11-10")


def test_rows_beyond_the_first_ten_are_counted_not_listed(tmp_path):
    rows = [f"R-{i:07d},WHP-CPA-01,,disability,2026-10-01,yesterday,,," for i in range(1, 31)]
    path = _csv(tmp_path, "referrals_WHP-CPA-01_2026-10.csv", HEADER, rows)
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    findings = json.loads(result.output)["files"][0]["findings"]
    assert [f["code"] for f in findings].count("extract-not-a-date") == 10
    assert any(f["code"] == "extract-more-rows" and f["message"].startswith("20 more rows") for f in findings)


def test_an_unknown_month_or_mixed_contracts_are_refused(tmp_path):
    path = _csv(tmp_path, "referrals.csv", HEADER, [CLEAN[0], CLEAN[1].replace("CPA-01", "CPA-02")])
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    codes = {f["code"] for f in json.loads(result.output)["files"][0]["findings"]}
    assert codes == {"extract-month-unknown", "extract-contract-mixed"}


# One mutation of the clean extract per check: (code, header, row 2, the cell the finding points at).
_ROW = CLEAN[0].split(",")
FIRES = {
    "extract-required": (HEADER, ",".join(["R-0000001", "WHP-CPA-01", "", ""] + _ROW[4:]), "D2"),
    "extract-not-in-list": (HEADER, CLEAN[0].replace("disability", "lone_parent"), "D2"),
    "extract-pattern": (HEADER, CLEAN[0].replace("R-0000001", "Alice Smith"), "A2"),
    "extract-too-long": (HEADER, CLEAN[0].replace(",,", "," + "x" * 61 + ","), "C2"),
    "extract-dates-out-of-order": (HEADER, CLEAN[0].replace("2026-10-02", "2026-09-30"), "F2"),
    "extract-filled-together": (HEADER, CLEAN[0].replace(",start,", ",,"), "G2"),
    "extract-column-unknown": (HEADER + ",notes", CLEAN[0] + ",x", None),
    "extract-column-twice": (HEADER + ",Referral ID", CLEAN[0] + ",R-0000001", None),  # an id and its label
}


@pytest.mark.parametrize("code", sorted(FIRES))
def test_each_extract_check_fires_at_its_row_and_column(code, tmp_path):
    header, row, cell = FIRES[code]
    path = _csv(tmp_path, "referrals_WHP-CPA-01_2026-10.csv", header, [row])
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["files"][0]["findings"]
    assert [f["code"] for f in findings] == [code]
    assert findings[0]["cell"] == cell and (cell is None or findings[0]["message"].startswith("Row 2 of"))


def test_an_id_listed_twice_and_a_csv_that_is_no_extract(tmp_path):
    path = _csv(tmp_path, "referrals_WHP-CPA-01_2026-10.csv", HEADER, [CLEAN[0], CLEAN[0]])
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    (dup,) = json.loads(result.output)["files"][0]["findings"]
    assert dup["code"] == "extract-duplicate-id" and dup["cell"] == "A3"
    other = _csv(tmp_path, "other_2026-10.csv", "a,b", ["1,2"])
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(other)])
    (unknown,) = json.loads(result.output)["files"][0]["findings"]
    assert unknown["code"] == "extract-unknown" and "participant_id or referral_id" in unknown["message"]


def test_personal_data_in_the_header_line_and_a_broken_extract_spec_are_said(tmp_path, monkeypatch):
    path = _csv(tmp_path, "referrals_WHP-CPA-01_2026-10.csv", HEADER + ",QQ123456C", [CLEAN[0] + ",x"])
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    findings = json.loads(result.output)["files"][0]["findings"]
    ni = next(f for f in findings if f["code"] == "extract-personal-data")
    assert ni["cell"] == "J1" and ni["message"].startswith("Row 1 of") and "QQ123456C" not in result.output

    folder = tmp_path / "validators"
    shutil.copytree(ROOT / "validators", folder)
    spec = folder / f"{REFERRALS}.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace('key_column = "referral_id"', 'key_column = "nothing"'),
                    encoding="utf-8")
    monkeypatch.setenv("KPD_RETURNS_VALIDATORS", str(folder))
    result = CliRunner().invoke(app, ["validate", str(_csv(tmp_path, "x_2026-10.csv", HEADER, CLEAN))])
    assert f"{REFERRALS}.toml: key '(top level)': key_column names 'nothing', which is not a column" in result.output


def test_validate_a_folder_checks_its_extracts_and_skips_other_csv(inbox):
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(inbox)])
    doc = json.loads(result.output)
    assert sorted(Path(f["name"]).name for f in doc["files"] if f["name"].endswith(".csv")) == sorted(
        p.name for p in inbox.glob("referrals_*.csv"))
    assert [Path(s).name for s in doc["skipped"]] == ["notes.csv"]


def test_an_xlsx_extract_names_the_sheet_row_and_column_of_a_bad_date(tmp_path):
    path = tmp_path / "referrals_WHP-CPA-01_2026-10.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("PRaP")
    sheet.write_row(0, 0, HEADER.split(","))
    sheet.write_row(1, 0, CLEAN[0].split(","))
    sheet.write_row(2, 0, CLEAN[1].replace("2026-10-12", "12th Oct").split(","))
    book.close()
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 1, result.output
    (bad,) = json.loads(result.output)["files"][0]["findings"]
    assert (bad["code"], bad["sheet"], bad["cell"]) == ("extract-not-a-date", "PRaP", "H3")
    assert bad["message"].startswith(f"Row 3 of {path.name}, column start_or_fta_date")


def test_annotate_a_csv_extract_says_why_there_is_no_copy(inbox, tmp_path):
    bad = inbox / "referrals_WHP-CPA-02_2026-10-bad-date.csv"
    result = CliRunner().invoke(app, ["validate", str(bad), "--annotate", str(tmp_path / "copy.xlsx")])
    assert result.exit_code == 1, result.output
    assert "No annotated copy: a .csv extract has no cells to mark" in result.output
    assert not (tmp_path / "copy.xlsx").exists()


@pytest.mark.parametrize("rows, said", [
    ([CLEAN[0] + ",extra"] * 2, "its rows have more values than the header line names columns"),
    ([CLEAN[0], CLEAN[1] + ",x,y"], "row 3 has 11 values but the header line names 9 columns"),
    ([CLEAN[0], '"R-0000002,WHP-CPA-01'], "a value in quotation marks from row 3 on is never closed"),
])
def test_a_csv_whose_rows_do_not_fit_its_header_is_refused_in_words(rows, said, tmp_path):
    """A row longer than the header line is refused, never read shifted (pandas would take the first column as
    the index and move every value one column left) nor cut short; the parser's complaint is in the file's rows."""
    path = _csv(tmp_path, "referrals_WHP-CPA-01_2026-10.csv", HEADER, rows)
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    (finding,) = json.loads(result.output)["files"][0]["findings"]
    assert result.exit_code == 2 and finding["code"] == "file-corrupt" and said in finding["message"], finding


def test_a_comma_at_the_end_of_every_line_is_read_as_written(tmp_path):
    path = _csv(tmp_path, "referrals_WHP-CPA-01_2026-10.csv", HEADER, [r + "," for r in CLEAN])
    result = CliRunner().invoke(app, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"][0]["verdict"] == "valid"
