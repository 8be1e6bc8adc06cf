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
from kpd_returns.spec.return_spec import load_all

SPECS = load_all()
CITED = re.compile(r"^(KPD intro [1-5]|KPD (1[0-9]|2[0-3]|[1-9])|KPD Annex 1|AtW 7\.(0[1-9]|[1-2][0-9]|3[0-5])|JOBS II 6\.(0[1-9]|[1-2][0-9]|3[0-6])"
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
    assert page.count("<caption>") == len(SPECS)


def test_each_kpi_clock_is_in_the_template_prompt_and_the_packs_notes():
    """AtW 7.16: each KPI's clock and condition, shown to the provider and the performance manager."""
    from kpd_returns.packs.kpis import default_config
    from kpd_returns.packs.pack_data import PackData, notes_for

    prompt = SPECS["mmir"].sheet("KPIs").description
    for words in ("within 1 working day", "within 2 working days", "within 31 calendar days",
                  "within 10 working days", "required quality standard"):
        assert words in prompt
    pack = PackData.__new__(PackData)
    for name, value in (("contracts", [object()]), ("overview", None), ("sections", [])):
        object.__setattr__(pack, name, value)
    measures = {m["measure"]: m for m in notes_for(pack)["measures"]}
    for k in default_config().kpis:
        assert measures[f"KPI {k.id}: {k.name}"]["explanation"] == k.description + "."
