"""Aggregates of lists in computed fields, and one figure everywhere (issue 21 items 1 and 6).

A made-up monthly return built around a list (tests/data/list_totals.toml) has totals that add up
the list (all of it, or rows of one customer group), counts of its rows and a share that is a ratio
of two counts, with scale 100 and 1 decimal place. Through the real command line: the template's
formulas, recalculated by LibreOffice, give the figures the validator works out (a figure typed over
a formula that agrees is total-typed-over, one that disagrees is total-mismatch, on the Checks sheet
as in the report); the consolidated workbook and the packs carry them; a bad reference is refused
when the spec loads, in one sentence naming the file and the key. The doc's complaints example shows
80.0 in the template cell labelled (%), as its report and pack do (not 0.8).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from libreoffice_helper import convert, make_profile, require_soffice

from kpd_returns.author import checks_sheet
from kpd_returns.packs import measures
from kpd_returns.spec.pack_spec import PackSpec
from kpd_returns.spec.resources import VALIDATORS_ENV, validators_dir
from kpd_returns.spec.return_spec import FIRST_DATA_ROW, SpecError, load_spec_file

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "data" / "list_totals.toml"
DEADLINE = '\n[spendlist]\nkind = "nth_working_day_after_period"\nn = 5\nsource = "TG 1"\nguidance = "TG 1"\n'
HEADER = {"provider": "Northbridge Employment Ltd", "contract": "AtW-MHSS-C014",
          "reporting_month": dt.datetime(2026, 10, 1), "date_submitted": dt.datetime(2026, 11, 3)}
# item_ref, customer_group, spend: 2 of 3 started rows are ltu ("LTU " counts: trimmed, any case)
ROWS = [("A1", "ltu", 100.5), ("A2", "disability", 40), ("A3", "LTU ", 9.25), (None, None, None), ("A5", None, None)]
# The figures: spend 149.75, ltu spend 109.75, 4 started rows, 2 ltu, share 50.0
EXPECTED = {"spend_total": 149.75, "spend_ltu": 109.75, "items": 4, "ltu_items": 2, "ltu_share": 50.0}


def _doc_example(name: str) -> str:
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    return re.search(rf"<!-- example: {re.escape(name)} -->\n```toml\n(.*?)```", text, re.S)[1]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path)


def make_folder(tmp_path: Path) -> Path:
    """The packaged validators, this test's list return and the doc's complaints example, with deadlines."""
    out = tmp_path / "validators"
    shutil.copytree(validators_dir(), out)
    shutil.copy(SPEC, out / "spendlist.toml")
    (out / "complaints.toml").write_text(_doc_example("complaints.toml"), encoding="utf-8")
    with (out / "deadlines.toml").open("a", encoding="utf-8") as fh:
        fh.write(DEADLINE + "\n" + _doc_example("deadlines.toml"))
    return out


def _cli(folder: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, VALIDATORS_ENV: str(folder), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def _cell(wb, prefix: str, field: str, row: int = 0):
    ((sheet, ref),) = list(wb.defined_names[f"{prefix}_{field}"].destinations)
    first = openpyxl.utils.cell.coordinate_from_string(ref.replace("$", "").split(":")[0])
    return wb[sheet].cell(first[1] + row, openpyxl.utils.column_index_from_string(first[0]))


def _fill(blank: Path, target: Path, header: dict, rows=(), typed: dict | None = None, prefix="SPENDLIST") -> Path:
    wb = openpyxl.load_workbook(blank)
    for field, value in header.items():
        _cell(wb, prefix, field).value = value
    for i, row in enumerate(rows):
        for field, value in zip(("item_ref", "customer_group", "spend"), row):
            _cell(wb, prefix, field, i).value = value
    for field, value in (typed or {}).items():  # typed over the formula
        _cell(wb, prefix, field).value = value
    wb.save(target)
    return target


def _findings(folder: Path, work: Path, path: Path) -> list[dict]:
    done = _cli(folder, work, "validate", str(path), "--format", "json")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return json.loads(done.stdout)["files"][0]["findings"]


def _checks_failing(path: Path, spec) -> dict[str, int]:
    """Cells failing per finding code on the Checks sheet, after LibreOffice recalculated it."""
    ws = openpyxl.load_workbook(path, data_only=True)[checks_sheet.SHEET_NAME]
    out: dict[str, int] = {}
    for i, check in enumerate(checks_sheet.plan(spec).checks):
        count = ws.cell(FIRST_DATA_ROW + i, 4).value
        assert isinstance(count, (int, float)), (path.name, FIRST_DATA_ROW + i, count)
        out[check.code] = out.get(check.code, 0) + int(count)
    return out


# -- spec load -------------------------------------------------------------------------------
BAD = {
    "unknown list": ('list = "Items", column = "spend" }', 'list = "Itemz", column = "spend" }',
                     "computed.list", "'Itemz', which is not a sheet of this return"),
    "not a list": ('list = "Items", column = "spend" }', 'list = "Header", column = "spend" }',
                   "computed.list", "a form sheet, not a list"),
    "unknown column": ('list = "Items", column = "spend" }', 'list = "Items", column = "spent" }',
                       "computed.column", "column 'spent', not a field of list 'Items'"),
    "text column summed": ('list = "Items", column = "spend" }', 'list = "Items", column = "item_ref" }',
                           "computed.column", "'item_ref', which is not a number field"),
    "where not on the list": ('where = { customer_group = ["ltu"] } }\n\n[[sheets.fields]]\nid = "items"',
                              'where = { provider = ["ltu"] } }\n\n[[sheets.fields]]\nid = "items"',
                              "computed.where.provider", "filters on 'provider', not a field of list 'Items'"),
    "value not a choice": ('where = { customer_group = ["ltu"] } }\n\n[[sheets.fields]]\nid = "items"',
                           'where = { customer_group = ["long-term"] } }\n\n[[sheets.fields]]\nid = "items"',
                           "computed.where.customer_group", "['long-term'], not among the choices"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_list_reference_is_refused_at_load_naming_file_and_key(tmp_path, case):
    old, new, key, words = BAD[case]
    text = SPEC.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "spendlist.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec_file(path)
    message = str(err.value)
    assert message.startswith("spendlist.toml: key 'sheets.") and key in message and words in message, message
    assert "\n" not in message


def test_the_command_line_refuses_a_bad_list_reference_in_one_sentence(folder, tmp_path):
    spec = folder / "spendlist.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace('column = "spend" }', 'column = "spent" }', 1))
    done = _cli(folder, tmp_path, "template", "spendlist", str(tmp_path / "t.xlsx"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "spendlist.toml: key 'sheets.1.fields.1.computed.column'" in done.stderr, done.stderr


# -- template = validator = Checks sheet --------------------------------------------------------
@pytest.mark.system
def test_template_libreoffice_validator_and_checks_sheet_give_the_same_figures(folder, tmp_path):
    require_soffice()
    work = tmp_path / "work"
    work.mkdir()
    blank = work / "spendlist-blank.xlsx"
    made = _cli(folder, work, "template", "spendlist", str(blank))
    assert made.returncode == 0, made.stderr
    wb = openpyxl.load_workbook(blank)
    assert _cell(wb, "SPENDLIST", "ltu_share").value.endswith("ROUND(B9/B8*100,1))")
    assert _cell(wb, "SPENDLIST", "ltu_share").number_format == '0.0"%"'
    comp = work / "complaints-blank.xlsx"
    assert _cli(folder, work, "template", "complaints", str(comp)).returncode == 0

    filled = _fill(blank, work / "filled.xlsx", HEADER, ROWS)
    agrees = _fill(blank, work / "agrees.xlsx", HEADER, ROWS, typed=EXPECTED)
    wrong = _fill(blank, work / "wrong.xlsx", HEADER, ROWS, typed={"spend_ltu": 149.75, "ltu_share": 0.5})
    texted = _fill(blank, work / "texted.xlsx", HEADER, [*ROWS[:2], ("A3", "ltu", "nine pounds")],
                   typed={"spend_total": 1, "spend_ltu": 1, "items": 5})
    complaints = _fill(comp, work / "complaints.xlsx", {"provider": "Northbridge Employment Ltd",
                       "contract": "AtW-MHSS-C014", "reporting_month": dt.datetime(2026, 10, 1),
                       "date_submitted": dt.datetime(2026, 11, 3), "received": 12, "resolved": 10,
                       "resolved_in_time": 8}, prefix="COMPLAINTS")
    result = convert([filled, agrees, wrong, texted, complaints], work / "lo", make_profile(work / "profile"))
    assert result.returncode == 0, result.stderr

    calc = openpyxl.load_workbook(work / "lo" / "filled.xlsx", data_only=True)
    shown = {f: _cell(calc, "SPENDLIST", f).value for f in EXPECTED}
    assert shown == EXPECTED  # LibreOffice's figures from the template's formulas
    shared = openpyxl.load_workbook(work / "lo" / "complaints.xlsx", data_only=True)
    assert _cell(shared, "COMPLAINTS", "in_time_share").value == 80.0  # labelled (%): not 0.8

    # The validator works out the same figures: typed over the formulas they agree (a warning each) ...
    assert [f for f in _findings(folder, work, filled) if f["severity"] != "warning"] == []
    found = _findings(folder, work, agrees)
    assert sorted(f["field"] for f in found if f["code"] == "total-typed-over") == sorted(EXPECTED)
    assert [f for f in found if f["code"] == "total-mismatch"] == []
    # ... and a figure that disagrees is a mismatch, expected = the recomputed figure.
    found = {f["field"]: f for f in _findings(folder, work, wrong) if f["code"] == "total-mismatch"}
    assert sorted(found) == ["ltu_share", "spend_ltu"]
    assert "109.75" in found["spend_ltu"]["message"] and "50" in found["ltu_share"]["message"]
    assert [f for f in _findings(folder, work, complaints) if f["severity"] != "warning"] == []

    spec = load_spec_file(folder / "spendlist.toml")
    assert _checks_failing(work / "lo" / "filled.xlsx", spec).get("total-mismatch") == 0
    on_sheet = _checks_failing(work / "lo" / "agrees.xlsx", spec)
    assert on_sheet["total-mismatch"] == 0 and on_sheet["total-typed-over"] == len(EXPECTED)
    on_sheet = _checks_failing(work / "lo" / "wrong.xlsx", spec)
    assert on_sheet["total-mismatch"] == 2
    # Text in a summed cell: no total over it, on the Checks sheet as in the report; the count still disagrees.
    found = [f["field"] for f in _findings(folder, work, texted) if f["code"] == "total-mismatch"]
    assert found == ["items"] and _checks_failing(work / "lo" / "texted.xlsx", spec)["total-mismatch"] == 1


# -- consolidated workbook and packs ----------------------------------------------------------
def test_list_totals_reach_the_consolidated_workbook_and_the_packs(folder, tmp_path):
    work = tmp_path / "work"
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    blank = work / "blank.xlsx"
    assert _cli(folder, work, "template", "spendlist", str(blank)).returncode == 0
    _fill(blank, inbox / "spend-oct.xlsx", HEADER, ROWS)
    sept = {**HEADER, "reporting_month": dt.datetime(2026, 9, 1), "date_submitted": dt.datetime(2026, 10, 6)}
    _fill(blank, inbox / "spend-sep.xlsx", sept, [("B1", "ltu", 7), ("B2", "early_entry", 3)])
    out = work / "out"
    done = _cli(folder, work, "consolidate", str(inbox), "--out", str(out), "--as-of", "2026-11-20")
    assert done.returncode == 0, done.stdout + done.stderr
    ws = openpyxl.load_workbook(out / "consolidated.xlsx", read_only=True)["Spend on LTU"]
    figures = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, (int, float))]
    assert 109.75 in figures and 7 in figures
    packs = work / "packs"
    written = _cli(folder, work, "pack", "--period", "2026-10", "--db", str(out / "ledger.sqlite"), "--out",
                   str(packs), "--all", "--as-of", "2026-11-20")
    assert written.returncode == 0, written.stdout + written.stderr
    provider = next(packs.glob("pack-2026-10-northbridge*.html")).read_text(encoding="utf-8")
    table = provider[provider.index("Spend by month"):]
    assert table.count("109.75") >= 2  # the list's sum + where, and the computed field from the ledger


def test_pack_measure_sum_where_adds_up_list_rows_of_the_given_values():
    section = PackSpec(title="T", label="L", guidance="g", findings_guidance="f", how_to_read=["r"], measures=[
        {"id": "spend_ltu", "label": "Spend", "sum": ["spend"], "where": {"group": ["ltu", "disability"]}}])
    rows = [("P", "C", "2026-10", "group", group, f"r{i}") for i, group in enumerate(["ltu", "disability", "x"])]
    rows += [("P", "C", "2026-10", "spend", spend, f"r{i}") for i, spend in enumerate([10.5, 2, 100])]
    [cm] = measures.contract_months(rows, section)
    assert cm.measure("spend_ltu") == 12.5
    with pytest.raises(ValueError, match="adds up one list field"):
        PackSpec(title="T", label="L", guidance="g", findings_guidance="f", how_to_read=["r"], measures=[
            {"id": "s", "label": "S", "sum": ["a", "b"], "where": {"group": ["ltu"]}}])


def test_fix_totals_restores_the_list_formulas_and_an_unusable_cell_leaves_no_total(folder, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    blank = work / "blank.xlsx"
    assert _cli(folder, work, "template", "spendlist", str(blank)).returncode == 0
    typed = _fill(blank, work / "typed.xlsx", HEADER, ROWS, typed={"spend_total": 1, "items": 4})
    fixed = work / "fixed.xlsx"
    done = _cli(folder, work, "validate", str(typed), "--fix-totals", str(fixed))
    assert done.returncode == 1, done.stdout + done.stderr
    restored = openpyxl.load_workbook(fixed)
    assert _cell(restored, "SPENDLIST", "spend_total").value == _cell(openpyxl.load_workbook(blank), "SPENDLIST",
                                                                      "spend_total").value == "=SUM('Items'!$D$5:$D$24)"
    assert _cell(restored, "SPENDLIST", "items").value.startswith("=SUMPRODUCT(")

    # Text in the spend column: not a number at its cell; the totals over it are not worked out from the rest.
    rows = [*ROWS[:2], ("A3", "ltu", "nine pounds")]
    found = _findings(folder, work, _fill(blank, work / "text.xlsx", HEADER, rows, typed={"spend_total": 1,
                                                                                          "items": 5}))
    codes = {(f["code"], f["field"]) for f in found}
    assert ("not-a-number", "spend") in codes and ("total-mismatch", "items") in codes
    assert ("total-mismatch", "spend_total") not in codes


def test_decimals_round_halves_away_from_zero_as_the_spreadsheet_does():
    from kpd_returns.spec.computed import evaluate
    from kpd_returns.spec.sheet_model import Computed

    share = Computed(op="ratio", of=["a", "b"], scale=100, decimals=0)
    assert evaluate(share, {"a": 1, "b": 8}.get).value == 13.0  # 12.5: Excel's ROUND gives 13, Python's round 12
    assert evaluate(Computed(op="sum", of=["a"], decimals=2), {"a": 2.675}.get).value == 2.68
    listed = Computed(op="count", list="Items")
    assert evaluate(listed, {}.get).value is None  # no rows to count: the caller keeps the checked figure
    assert evaluate(listed, {}.get, rows_of=lambda name: [{"x": 1.0}, {"y": "a"}]).value == 2.0


def test_the_doc_s_complaints_share_is_worked_out_as_a_percentage_in_the_template(folder, tmp_path):
    """The doc's example: `scale = 100` and `decimals = 1` are in the template's formula and format, so the
    cell labelled (%) shows 80.0% for 8 of 10, not 0.8 (recalculated by LibreOffice in the system test)."""
    blank = tmp_path / "complaints.xlsx"
    assert _cli(folder, tmp_path, "template", "complaints", str(blank)).returncode == 0
    share = _cell(openpyxl.load_workbook(blank), "COMPLAINTS", "in_time_share")
    assert share.value == '=IF(OR(C6="",C6=0),"",ROUND(C7/C6*100,1))'
    assert share.number_format == '0.0"%"'


def test_a_huge_share_with_decimals_is_out_of_range_not_a_crash():
    from kpd_returns.spec.computed import evaluate
    from kpd_returns.spec.sheet_model import Computed

    share = Computed(op="ratio", of=["a", "b"], scale=100, decimals=10)
    assert evaluate(share, {"a": 1e300, "b": 1e-10}.get).overflow
    assert evaluate(share, {"a": 1e300, "b": 1e-5}.get).value == 1e307  # beyond the ceiling: the checks report it
