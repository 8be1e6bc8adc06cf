"""`kpd-returns rules`: the rule catalogue generated from the specs and the message catalogue.
A check without a catalogue entry or a guidance paragraph fails here."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from kpd_returns.author import rule_catalogue as rc
from kpd_returns.checks import load_rule_modules
from kpd_returns.checks.registry import RULES
from kpd_returns.cli.main import app
from kpd_returns.spec.findings import CATALOGUE, QUERY_TWINS
from kpd_returns.author.extract_catalogue import extract_entries
from kpd_returns.spec.extract_spec import load_extracts
from kpd_returns.spec.return_spec import load_all

SPECS = load_all()
CITED = re.compile(r"^(WHP 16\.([1-9]|[1-5][0-9]|60)|KPD intro [1-5]|KPD (1[0-9]|2[0-3]|[1-9])|KPD Annex 1|AtW 7\.(0[1-9]|[1-2][0-9]|3[0-5])|JOBS II 6\.(0[1-9]|[1-2][0-9]|3[0-6])|WHP ch\.16 ([1-9]|[1-5][0-9]|60|Annex A)"
                   r"|plausibility check|kpd-returns' own default \(JOBS II states no day\))$")


def _run(*args):
    return CliRunner().invoke(app, ["rules", *args])


def test_json_lists_every_check_with_code_kind_and_paragraph():
    result = _run("--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "kpd-returns-rules/1.1"
    assert len(doc["rules"]) >= 30
    for row in doc["rules"]:
        assert set(row) == {"return_id", "code", "kind", "checks", "guidance", "fields", "basis"}
        assert row["kind"] in {"error", "query", "warning"} and row["checks"]
        assert CITED.match(row["guidance"]), row


def test_every_finding_code_has_a_catalogue_entry():
    """Every code is listed, or its error or query form is (spec.findings.QUERY_TWINS): which of the
    two a check gives depends on its basis in today's specs."""
    listed = {e.code for s in SPECS.values() for e in rc.entries(s)}
    # A generic rule kind no packaged spec uses yet (row_condition, issue 21) has its codes all the same.
    load_rule_modules()
    unused = set(RULES) - {r.kind for s in SPECS.values() for r in s.rules}
    listed |= {c for kind in unused for c in rc.RULE_CODES[kind]}
    # The extracts' checks (checks.extract_checks) are listed from their specs (author.extract_catalogue); two
    # codes are not checks of their own: "extract-unknown" (a file no extract spec's header names) and
    # "extract-more-rows" (the count of rows beyond the first ten of a problem).
    listed |= {e.code for x in load_extracts().values() for e in extract_entries(x, rc.Entry)}
    listed |= {"extract-unknown", "extract-more-rows"}
    forms = {code: {code, twin} for code, (twin, _text) in QUERY_TWINS.items()}
    forms |= {twin: {code, twin} for code, (twin, _text) in QUERY_TWINS.items()}
    assert {c for c in set(CATALOGUE) - listed if not forms.get(c, set()) & listed} == set()


def test_every_rule_kind_and_every_spec_rule_is_in_the_catalogue():
    load_rule_modules()
    assert set(RULES) - set(rc.RULE_CODES) == set()
    for spec in SPECS.values():
        entries = rc.entries(spec)
        for r in spec.rules:
            assert any(e.checks == r.description for e in entries), (spec.id, r.kind)


def test_queries_and_their_kind():
    kpd = {e.code: e for e in rc.entries(SPECS["kpd"])}
    assert (kpd["segments-not-reconciled"].kind, kpd["segments-not-reconciled"].guidance) == (
        "query", "plausibility check")
    assert (kpd["caseload-management-missing"].kind, kpd["caseload-management-missing"].guidance) == ("error", "KPD 20")
    mmir = {e.code: e for e in rc.entries(SPECS["mmir"])}
    assert mmir["cohort-before-start"].fields == ("KPIs sheet", "kpi_cases_due", "kpi_within_target", "kpi_outside_target")


def test_one_return_text_and_csv_are_deterministic():
    text = _run("kpd")
    assert text.exit_code == 0 and text.output == _run("kpd").output
    # Under the return's display name (spec.return_spec.display_name), never its id.
    assert text.output.startswith("KPD return (") and "\nMMIR (" not in text.output
    assert "\n  segments-not-reconciled (query, plausibility check)" in text.output
    rows = list(csv.DictReader(io.StringIO(_run("mmir", "--format", "csv").output)))
    assert {r["return_id"] for r in rows} == {"mmir"} and len(rows) >= 30


@pytest.mark.parametrize("args, words", [(["nope"], "There is no return type 'nope'"),
                                          (["--format", "pdf"], "There is no format 'pdf'")])
def test_a_bad_argument_exits_2_with_one_sentence(args, words):
    result = _run(*args)
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output


def test_html_is_one_self_contained_page():
    page = _run("--format", "html").output
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<script" not in page and "http" not in page and "<link" not in page
    assert page.count("<caption>") == len(SPECS) + len(load_extracts())  # each return, then each extract


def test_each_kpi_clock_is_in_the_template_prompt_and_the_packs_notes():
    """AtW 7.16: each KPI's clock and condition, shown to the provider and the performance manager."""
    from kpd_returns.packs.kpis import default_config
    from kpd_returns.packs.pack_data import PackData, notes_for

    prompt = SPECS["mmir"].sheet("KPIs").description
    for words in ("within 1 working day", "within 2 working days", "within 31 calendar days",
                  "within 10 working days", "required quality standard"):
        assert words in prompt
    pack = PackData.__new__(PackData)
    for name, value in (("contracts", [object()]), ("overview", None), ("sections", []), ("whp", [])):
        object.__setattr__(pack, name, value)
    measures = {m["measure"]: m for m in notes_for(pack)["measures"]}
    for k in default_config().kpis:
        assert measures[f"KPI {k.id}: {k.name}"]["explanation"] == k.description + "."


def test_the_extracts_checks_are_listed_after_the_returns_with_their_paragraphs():
    """`kpd-returns rules` lists DWP's PRaP extracts' checks too (author.extract_catalogue), read from their
    specs: a column's type, list and form at its paragraph, each rule with its description; all errors."""
    rows = json.loads(_run("--format", "json").output)["rules"]
    order = list(dict.fromkeys(r["return_id"] for r in rows))
    assert order[-2:] == ["whp_outcomes", "whp_referrals"], order
    refs = [r for r in rows if r["return_id"] == "whp_referrals"]
    assert {r["kind"] for r in refs} == {"error"} and all(r["basis"] for r in refs)
    by = {(r["code"], tuple(r["fields"])): r for r in refs}
    assert by[("extract-not-a-date", ("referral_date",))]["guidance"] == "WHP 16.28"
    assert "disability" in by[("extract-not-in-list", ("customer_group",))]["checks"].casefold()
    assert by[("extract-dates-out-of-order", ("referral_date", "acknowledged_date"))]["checks"] == (
        "A referral is acknowledged on or after the day it was made.")
    every_column = next(r["fields"] for r in refs if r["code"] == "extract-column-missing")
    assert "referral_id" in every_column and ("extract-personal-data", tuple(every_column)) in by
    one = _run("whp_referrals")
    assert one.exit_code == 0 and one.output.startswith("WHP referrals (")
