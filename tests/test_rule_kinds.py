"""Issue 21 items 2-4 and the list rows of item 6: a rule kind is one unit (checks/rules/<kind>.py) with
typed parameters; ``row_condition`` checks a condition on one row; ``query = true`` works on any kind and
the report, the rule catalogue and the Checks sheet agree; a computed list column is never "incomplete".

Through the real command line where the item is about it, with a validators folder of the test's own
($KPD_RETURNS_VALIDATORS).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.author import checks_sheet
from kpd_returns.author.template import write_template
from kpd_returns.checks import load_rule_modules
from kpd_returns.checks.registry import RULES, check_spec_rules
from kpd_returns.checks.validate import validate_file
from kpd_returns.spec import layout
from kpd_returns.spec.conditions import holds, problem, to_excel
from kpd_returns.spec.findings import CATALOGUE, QUERY_TWINS
from kpd_returns.spec.resources import VALIDATORS_ENV, validators_dir
from kpd_returns.spec.return_spec import RuleSpec, SpecError, load_all, load_spec_file

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "returns" / "insight-northbridge-employment-ltd-2026-10.xlsx"
COUNT_MISMATCH = ROOT / "samples" / "mistakes" / "mistake-insight-count-mismatch.xlsx"

# Row 5 of the sample's Responses list: "Fairly dissatisfied" with no reason given.
CONDITION = '''
[[rules]]
kind = "row_condition"
guidance = "AtW 7.30"
description = "A dissatisfied customer's response says why."
{extra}
params = {{ sheet = "Responses", when = 'q1_satisfaction in ["Fairly dissatisfied", "Very dissatisfied"] and blank(q2_reason)', fields = ["q2_reason"], message = "Give the customer's reason: a dissatisfied response needs its why." }}
'''
ROWS_RULE = 'kind = "rows_match_count"'


def _folder(tmp_path: Path, old: str = "", new: str = "", append: str = "") -> Path:
    folder = tmp_path / "validators"
    shutil.copytree(validators_dir(), folder)
    path = folder / "insight.toml"
    text = path.read_text(encoding="utf-8")
    if old:
        assert old in text, f"test setup: {old!r} is no longer in insight.toml"
        text = text.replace(old, new, 1)
    path.write_text(text + append, encoding="utf-8")
    return folder


def _run(folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, VALIDATORS_ENV: str(folder), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _findings(run: subprocess.CompletedProcess) -> list[dict]:
    data = json.loads(run.stdout)
    return [f for r in data["files"] for f in r["findings"]]


def _checks_sheet_rows(folder: Path, cwd: Path) -> list[tuple]:
    run = _run(folder, "template", "insight", "t.xlsx", cwd=cwd)
    assert run.returncode == 0, run.stderr
    ws = openpyxl.load_workbook(cwd / "t.xlsx")[checks_sheet.SHEET_NAME]
    return [tuple(c.value for c in row[:3]) for row in ws.iter_rows()]


# -- row_condition (item 2) ---------------------------------------------------------------------
def test_a_row_condition_is_a_query_at_its_row_through_validate_rules_and_the_checks_sheet(tmp_path):
    folder = _folder(tmp_path, append=CONDITION.format(extra="query = true"))
    run = _run(folder, "validate", str(SAMPLE), "--as-of", "2026-11-01", "--format", "json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    (f,) = [f for f in _findings(run) if f["code"].startswith("row-condition")]
    assert (f["code"], f["severity"], f["ref"], f["guidance"]) == (
        "row-condition-query", "warning", "Responses!E9", "plausibility check")
    assert f["message"].startswith("Query (a plausibility check by kpd-returns, not a rule of the guidance): "
                                   "Responses!E9 (Question 2: why (anonymised), row 5): Give the customer's reason")
    rules = _run(folder, "rules", "insight", cwd=tmp_path)
    # One display name per return type (agg, issue 21 item 6): the rules are listed under "Customer Insight".
    assert "  row-condition-query (query, plausibility check): A dissatisfied customer's response says why." \
        in rules.stdout
    assert "reads: Responses sheet, q1_satisfaction, q2_reason" in rules.stdout
    sheet = _checks_sheet_rows(folder, tmp_path)
    assert any(str(row[0]).startswith("Query: a dissatisfied customer's response says why.") for row in sheet)


def test_a_row_condition_with_a_basis_is_an_error(tmp_path):
    basis = 'basis = { quote = "as detailed and specific as possible", paragraph = "AtW 7.30" }'
    folder = _folder(tmp_path, append=CONDITION.format(extra=basis))
    run = _run(folder, "validate", str(SAMPLE), "--as-of", "2026-11-01", "--format", "json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    (f,) = [f for f in _findings(run) if f["code"].startswith("row-condition")]
    assert (f["code"], f["severity"], f["ref"], f["guidance"]) == ("row-condition", "error", "Responses!E9", "AtW 7.30")


@pytest.mark.parametrize("when, said", [
    ("q1_satisfaction == 'x' and blank(q2_reasons)", "unknown name 'q2_reasons'"),
    ("q1_satisfaction ==", "cannot read the expression"),
    ("q2_reason and q1_satisfaction", "'q2_reason' is not true or false"),
    ("__import__('os').system('x') == 0", "is not a field id, a number, a string or arithmetic"),
    ("exec('x')", "is not a call conditions can make"),
    ("q1_satisfaction.upper() == 'X'", "is not a field id"),
])
def test_a_condition_that_cannot_be_used_is_refused_at_load_naming_the_file_and_rule(tmp_path, when, said):
    rule = CONDITION.format(extra="query = true").replace(
        """'q1_satisfaction in ["Fairly dissatisfied", "Very dissatisfied"] and blank(q2_reason)'""", repr(when))
    folder = _folder(tmp_path, append=rule)
    n = len(load_spec_file(folder / "insight.toml").rules)
    run = _run(folder, "rules", "insight", cwd=tmp_path)
    assert run.returncode == 2
    assert f"insight.toml: rule {n} (row_condition): its condition 'when' cannot be used: " in run.stderr
    assert said in run.stderr and "Traceback" not in run.stderr


def test_conditions_treat_blanks_as_the_doc_says():
    assert holds("a > 0 and b == 0", {"a": 5.0, "b": 0.0})
    assert not holds("a > 0 and b == 0", {"a": 5.0, "b": None})  # a blank is not 0
    assert holds("b != 0", {"b": None}) and not holds("b < 1", {"b": None})
    assert not holds("a + b > 1", {"a": 5.0, "b": None}) and not holds("a / b > 1", {"a": 5.0, "b": 0.0})
    assert holds("s in ['At risk', 'Complete']", {"s": "complete"}) and holds("s not in ['x']", {"s": None})
    assert holds("blank(x) and filled(y)", {"x": None, "y": "1"})
    assert problem("a > 0 or not filled(b)", ["a", "b"]) is None


def test_the_checks_sheet_twin_is_the_same_condition_over_the_row_s_cells():
    excel = to_excel("spend > 0 and starts == 0", lambda n: {"spend": "B5", "starts": "C5"}[n], lambda n: True)
    assert excel == "(((ISNUMBER(B5)*(B5>0)))*((((LEN(TRIM(C5))>0)*(C5=0)))))"


# -- query = true on every kind (item 3) -----------------------------------------------------------
def test_query_true_on_another_kind_is_a_query_in_validate_rules_and_the_checks_sheet(tmp_path):
    folder = _folder(tmp_path, ROWS_RULE, ROWS_RULE + "\nquery = true")
    run = _run(folder, "validate", str(COUNT_MISMATCH), "--as-of", "2026-11-01", "--format", "json", cwd=tmp_path)
    codes = {(f["code"], f["severity"]) for f in _findings(run)}
    assert ("detail-rows-mismatch-query", "warning") in codes and ("detail-rows-mismatch", "error") not in codes
    rules = _run(folder, "rules", "insight", "--format", "json", cwd=tmp_path)
    (entry,) = [r for r in json.loads(rules.stdout)["rules"] if r["checks"].startswith("The Very satisfied count")]
    assert (entry["code"], entry["kind"], entry["guidance"]) == ("detail-rows-mismatch-query", "query",
                                                                 "plausibility check")
    sheet = _checks_sheet_rows(folder, tmp_path)
    assert any(row[1] == "plausibility check" and str(row[0]).startswith("Query: the Very satisfied count")
               for row in sheet)
    assert not any(row[1] != "plausibility check" and "Very satisfied count" in str(row[0]) for row in sheet)


def test_every_kind_but_computed_totals_may_be_a_query():
    """Each kind's error codes have a query form, so query = true is accepted on every rule of every spec."""
    load_rule_modules()
    for name, kind in RULES.items():
        errors = [c for c in kind.codes if CATALOGUE[c][0] == "error"]
        untwinned = [c for c in errors if c not in QUERY_TWINS]
        assert untwinned == ([] if name != "computed_totals" else ["total-mismatch", "total-divide-by-zero"]), name
    for spec in load_all().values():
        rules = [RuleSpec(**{**r.model_dump(exclude={"basis"}), "query": True}) if r.kind != "computed_totals" else r
                 for r in spec.rules]
        check_spec_rules(spec.model_copy(update={"rules": rules}))


def _all_queries(return_id: str):
    spec = load_all()[return_id]
    rules = [RuleSpec(**{**r.model_dump(exclude={"basis"}), "query": True}) if r.kind != "computed_totals" else r
             for r in spec.rules]
    return spec.model_copy(update={"rules": rules})


def _query_cases() -> dict[str, tuple]:
    from test_checks_helpers import D, mmir_cells
    from test_checks_rules import BALANCED, segments
    from test_rule_catalogue_fires import MUTATIONS

    late = mmir_cells(reworks_outside_1wd__in_month=1, reworks_outside_1wd__year_to_date=1,
                      late_rework_case_ref__row1="C-9", late_rework_date_requested__row1=D(2026, 10, 12),
                      late_rework_date_returned__row1=D(2026, 10, 9), late_rework_reason__row1="Absence")
    return {
        "month-after-period-query": MUTATIONS["month-after-period"],
        "month-missing-query": MUTATIONS["month-missing"],
        "keyed-row-incomplete-query": MUTATIONS["keyed-row-incomplete"],
        "caseload-management-missing-query": MUTATIONS["caseload-management-missing"],
        "ytd-below-in-month-query": MUTATIONS["ytd-below-in-month"],
        "parts-not-equal-total-query": MUTATIONS["parts-not-equal-total"],
        "reasons-missing-query": MUTATIONS["reasons-missing"],
        "in-work-job-entries-query": ("kpd", segments(BALANCED, seg3_job_entries__apr=12), None),
        "cohort-before-start-query": ("mmir", mmir_cells("2026-05", kpi_cases_due__kpi1_2026=10,
                                                         kpi_within_target__kpi1_2026=10), None),
        "breakdown-mismatch-query": ("mmir", mmir_cells(route_supplier_generated__in_month=4), None),
        "dates-out-of-order-query": ("mmir", late, None),
    }


@pytest.mark.parametrize("code", [
    "month-after-period-query", "month-missing-query", "keyed-row-incomplete-query",
    "caseload-management-missing-query", "ytd-below-in-month-query", "parts-not-equal-total-query",
    "reasons-missing-query", "in-work-job-entries-query", "cohort-before-start-query", "breakdown-mismatch-query",
    "dates-out-of-order-query"])
def test_with_query_true_each_kind_s_error_is_its_query_form(code):
    """The same mistake as the error's own test, with every rule of the spec saying query = true."""
    from test_checks_helpers import check

    return_id, cells, edit = _query_cases()[code]
    error = code.removesuffix("-query")
    assert error in {f.code for f in check(return_id, cells, edit).findings}
    found = {f.code: f for f in check(return_id, cells, edit, specs={return_id: _all_queries(return_id)}).findings}
    assert error not in found and found[code].severity == "warning" and found[code].guidance == "plausibility check"
    assert found[code].message.startswith("Query (a plausibility check by kpd-returns, not a rule of the guidance): ")


# -- typed parameters (item 4) ---------------------------------------------------------------------
def test_a_misspelled_parameter_is_refused_naming_the_file_rule_and_key(tmp_path):
    folder = _folder(tmp_path, "optional_fields = [", "optional_field = [")
    spec = load_spec_file(folder / "insight.toml")
    n = next(i for i, r in enumerate(spec.rules, 1) if "optional_field" in r.params)
    said = f"insight.toml: rule {n} (list_row_complete) has the parameter 'optional_field', which list_row_complete " \
           "does not take"
    run = _run(folder, "validate", str(SAMPLE), "--as-of", "2026-11-01", cwd=tmp_path)
    assert said in run.stderr
    rules = _run(folder, "rules", "insight", cwd=tmp_path)
    assert rules.returncode == 2 and said in rules.stderr


def test_a_parameter_of_the_wrong_type_is_refused():
    spec = load_all()["insight"]
    bad = [r if r.kind != "list_row_complete" else r.model_copy(update={"params": {"sheets": "Responses"}})
           for r in spec.rules]
    with pytest.raises(SpecError, match=r"rule \d+ \(list_row_complete\) has a parameter 'sheets' that is not right"):
        check_spec_rules(spec.model_copy(update={"rules": bad}))


def test_each_kind_is_one_module_with_its_model_check_codes_and_wording():
    load_rule_modules()
    modules = sorted(p.stem for p in (ROOT / "kpd_returns" / "checks" / "rules").glob("*.py") if p.stem != "__init__")
    assert sorted(RULES) == modules
    for name, kind in RULES.items():
        assert kind.params is not None and kind.params.model_config["extra"] == "forbid", name
        assert kind.codes and all(c in CATALOGUE for c in kind.codes) and kind.summary, name


# -- list rows (item 6) ----------------------------------------------------------------------------
LIST_COMPUTED = '''
[[sheets.fields]]
id = "sessions_booked"
label = "Sessions booked"
definition = "Sessions booked."
type = "count"
guidance = "7.28"

[[sheets.fields]]
id = "sessions_held"
label = "Sessions held"
definition = "Sessions held."
type = "count"
guidance = "7.28"

[[sheets.fields]]
id = "sessions_share"
label = "Share of sessions held"
definition = "Worked out for you."
type = "decimal"
guidance = "7.28"
computed = { op = "ratio", of = ["sessions_held", "sessions_booked"], zero_denominator = "finding" }
'''


def _list_spec(tmp_path: Path):
    text = (validators_dir() / "insight.toml").read_text(encoding="utf-8")
    marker = "# ---------------------------------------------------------------- Summary"
    assert marker in text
    path = tmp_path / "insight.toml"
    text = text.replace(marker, LIST_COMPUTED + marker, 1)
    totals = 'params = { sheets = ["Summary"], tolerance = 0.005 }'
    assert totals in text
    path.write_text(text.replace(totals, totals.replace('["Summary"]', '["Summary", "Responses"]')), encoding="utf-8")
    return load_spec_file(path)


def _fill(spec, rows: dict[str, dict[str, object]]) -> bytes:
    buf = io.BytesIO()
    write_template(spec, buf)
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    slots = layout.slot_index(spec)
    for key, values in rows.items():
        for fid, value in values.items():
            s = slots[(fid, key)]
            wb[s.sheet].cell(s.row, s.col).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_computed_list_column_is_not_incomplete_and_list_messages_say_row(tmp_path):
    spec = _list_spec(tmp_path)
    row = {"response_date": None, "response_channel": "E-mail", "q1_satisfaction": "Very satisfied",
           "sessions_booked": 0, "sessions_held": 2}
    report = validate_file(_fill(spec, {"row1": row}), name="r.xlsx", specs={"insight": spec})
    incomplete = [f.field for f in report.findings if f.code.startswith("list-row-incomplete")]
    assert "response_date" in incomplete and "sessions_share" not in incomplete
    (zero,) = [f for f in report.findings if f.code == "total-divide-by-zero"]
    assert "cannot be worked out for row 1:" in zero.message
    assert "month" not in zero.message and "case" not in zero.message
    plan = checks_sheet.plan(spec)
    probes = [p.fid for c in plan.checks if c.code.startswith("list-row-incomplete") for p in c.probes]
    assert "sessions_share" not in probes and "sessions_held" in probes


# -- the doc's table (item 4) ----------------------------------------------------------------------
def test_the_doc_s_table_of_rule_kinds_is_the_generated_one():
    from kpd_returns.author.rule_catalogue import KINDS_BEGIN, KINDS_END, kinds_table

    doc = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    start, end = doc.index(KINDS_BEGIN), doc.index(KINDS_END) + len(KINDS_END)
    assert doc[start:end] == kinds_table()
    assert "`row_condition`" in kinds_table() and "query = true" in doc


# -- the Checks sheet twin in a real spreadsheet program (system) -----------------------------------
@pytest.mark.system
def test_the_row_condition_s_formula_agrees_with_the_validator_in_libreoffice(tmp_path):
    from libreoffice_helper import convert, make_profile, require_soffice

    from kpd_returns.spec.return_spec import FIRST_DATA_ROW

    require_soffice()
    path = tmp_path / "insight.toml"
    rule = CONDITION.format(extra="query = true").replace(
        "blank(q2_reason)", 'blank(q2_reason) and not response_channel != "E-mail"')
    path.write_text((validators_dir() / "insight.toml").read_text(encoding="utf-8") + rule, encoding="utf-8")
    spec = load_spec_file(path)
    base = {"response_date": None, "q2_reason": None}
    rows = {"row1": {**base, "response_channel": "E-mail", "q1_satisfaction": "Very satisfied"},
            "row2": {**base, "response_channel": "Provider portal", "q1_satisfaction": "Very dissatisfied"},
            "row3": {**base, "response_channel": "e-mail", "q1_satisfaction": "Fairly dissatisfied"},
            "row4": {**base, "response_channel": "E-mail", "q1_satisfaction": "Very dissatisfied",
                     "q2_reason": "Late"},
            "row5": {**base, "response_channel": "E-mail", "q1_satisfaction": "Very dissatisfied"}}
    source = tmp_path / "in" / "r.xlsx"
    source.parent.mkdir()
    source.write_bytes(_fill(spec, rows))
    found = [f for f in validate_file(source, specs={"insight": spec}).findings if f.code == "row-condition-query"]
    assert [f.cell for f in found] == ["E7", "E9"]  # rows 3 and 5 (text compares without regard to case)
    result = convert([source], tmp_path / "out", make_profile(tmp_path / "profile"))
    assert result.returncode == 0, result.stderr
    ws = openpyxl.load_workbook(tmp_path / "out" / "r.xlsx", data_only=True)[checks_sheet.SHEET_NAME]
    (i,) = [i for i, c in enumerate(checks_sheet.plan(spec).checks) if c.code == "row-condition-query"]
    r = FIRST_DATA_ROW + i
    assert (ws.cell(r, 4).value, ws.cell(r, checks_sheet.REF_COL).value) == (2, "Responses!E7")
    assert "row 3): Give the customer's reason" in ws.cell(r, 3).value


def test_a_row_condition_on_a_grid_is_checked_column_by_column():
    """On a grid each column is a row of the condition: the finding names the column, never 'row'."""
    from test_checks_helpers import check, mmir_cells

    spec = load_all()["mmir"]
    rule = RuleSpec(kind="row_condition", guidance="AtW 7.25", description="Approved Support Plans need referrals.",
                    query=True, params={"sheet": "Volumes", "when": "support_plans_approved > 0 and referrals == 0",
                                        "fields": ["support_plans_approved"],
                                        "message": "Support Plans were approved with no referrals: check both."})
    with_rule = spec.model_copy(update={"rules": [*spec.rules, rule]})
    report = check("mmir", mmir_cells(referrals__in_month=0), specs={"mmir": with_rule})
    (f,) = [f for f in report.findings if f.code == "row-condition-query"]
    assert f.field == "support_plans_approved" and "row " not in f.message
    assert "(Support Plans approved by DWP, In month): Support Plans were approved with no referrals" in f.message


def test_query_must_be_true_or_false_and_false_needs_a_basis(tmp_path):
    period_rule = 'kind = "dates_in_period"'  # a query: insight gives it no basis
    for n, (old, value, said) in enumerate(((ROWS_RULE, '"yes"', "'query' is true or false"),
                                            (period_rule, "false", "'query = false' makes the rule an error"))):
        folder = _folder(tmp_path / str(n), old, old + f"\nquery = {value}")
        run = _run(folder, "rules", "insight", cwd=tmp_path)
        assert run.returncode == 2 and "insight.toml: key 'rules." in run.stderr and said in run.stderr, run.stderr
