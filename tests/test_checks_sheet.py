"""The Checks sheet as written (issue 15 items 1, 2, 4): generated from the spec, protected,
portable formulas, and invisible to the validator's findings."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.author import checks_sheet, samples
from kpd_returns.author.template import write_template
from kpd_returns.checks.validate import validate_file

RETURN_TYPE_WORDS = re.compile(r"\b(kpd|mmir)\b(?!-returns)", re.I)  # the tool's own name is fine


def _bytes(spec, **kw) -> bytes:
    buf = io.BytesIO()
    write_template(spec, buf, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module", params=["kpd", "mmir"])
def built(request, specs):
    spec = specs[request.param]
    return spec, openpyxl.load_workbook(io.BytesIO(_bytes(spec)))


def test_every_rule_is_on_the_sheet_or_listed_as_checked_when_validated(built):
    spec, wb = built
    ws = wb[checks_sheet.SHEET_NAME]
    words = [c.value for c in ws["A"] if isinstance(c.value, str)]
    plan = checks_sheet.plan(spec)
    for r in spec.rules:
        if r.kind != "months_in_period_required":
            assert any(w.startswith(r.description) for w in words), r.description
    status = [c.value for c in ws["C"]]
    assert status.count(checks_sheet.VALIDATED_ONLY) == len(plan.validated_only) >= 4
    assert any("personal data" in w for w, _g in plan.validated_only)
    assert [c.value for c in ws[4]][:5] == checks_sheet.HEADERS


def test_count_name_cover_and_conditional_formats(built):
    spec, wb = built
    name = checks_sheet.count_name(spec)
    assert name == f"{spec.name_prefix}_checks_failing"
    assert wb.defined_names[name].attr_text.startswith("COUNTIF('Checks'!$D$5:$D$")
    cover = [c.value for c in wb["Cover"]["B"]]
    assert f"={name}" in cover
    assert wb["Checks"].protection.sheet and wb["Cover"].protection.sheet
    for sheet in spec.sheets:  # red where the problem is, on every data sheet a check covers
        rules = [r for cf in wb[sheet.name].conditional_formatting for r in cf.rules]
        assert rules and all(r.type == "expression" for r in rules), sheet.name


def test_formulas_fit_excel_and_use_functions_both_programs_share(built):
    spec, wb = built
    ws = wb[checks_sheet.SHEET_NAME]
    cells = [getattr(c.value, "text", c.value) for row in ws.iter_rows() for c in row]  # array formulas: text
    texts = [t for t in cells if isinstance(t, str) and t.startswith("=")]
    texts += [r.formula[0] for s in spec.sheets for cf in wb[s.name].conditional_formatting for r in cf.rules]
    assert texts
    for t in texts:
        assert len(t) < 8192
        for banned in ("LET(", "LAMBDA(", "REGEX(", "TEXTJOIN(", "FILTER(", "XLOOKUP(", "INDIRECT(", "OFFSET("):
            assert banned not in t.upper(), (banned, t[:80])
        assert "ISFORMULA(" not in t.replace("_xlfn.ISFORMULA(", "")  # Excel 2013 function: prefixed


def test_the_template_is_byte_identical_across_runs(specs):
    for spec in specs.values():
        assert _bytes(spec) == _bytes(spec)


def test_no_generator_module_names_a_return_type():
    for module in ("checks_sheet.py", "checks_probes.py", "checks_sheet_rules.py", "prefilled.py"):
        source = (Path(checks_sheet.__file__).parent / module).read_text(encoding="utf-8")
        assert not RETURN_TYPE_WORDS.search(source), module


@pytest.mark.parametrize("return_id", ["kpd", "mmir"])
def test_validate_gives_the_same_findings_with_or_without_the_checks_sheet(specs, return_id, tmp_path):
    """The Checks sheet is ours: a return keeps its findings, and one whose Checks sheet was
    deleted (or made from the template before it) is still read the same way."""
    spec = specs[return_id]
    who = samples.PROVIDERS[0]
    wb = samples.sample_workbook(spec, who, who.contracts_for(return_id)[0], spec.samples["committed"][0]["period"])
    first = next(iter(spec.sheets[1].expanded_fields))
    samples.named_cells(wb, spec, first.id)[next(iter(samples.named_cells(wb, spec, first.id)))].value = "n/a"
    with_sheet = tmp_path / "with.xlsx"
    with_sheet.write_bytes(samples.save_reproducibly(wb))
    del wb[checks_sheet.SHEET_NAME]
    without = tmp_path / "without.xlsx"
    without.write_bytes(samples.save_reproducibly(wb))
    a, b = validate_file(with_sheet), validate_file(without)
    assert [(f.code, f.cell) for f in a.findings] == [(f.code, f.cell) for f in b.findings]
    assert "not-a-number" in [f.code for f in a.findings]
    assert not [f for f in a.findings if f.code in ("not-a-return", "sheet-missing", "label-changed")]
