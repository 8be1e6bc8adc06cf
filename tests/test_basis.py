"""Every error has a basis a provider can read (issue 20): a sentence of the guidance quoted with
its paragraph, arithmetic, the template, or the project's own protection; anything else is a query.
The guidance chapters are in docs/guidance/ and every quote is found in the paragraph it cites."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guidance_paragraphs import FILES, GUIDANCE, SEPARATOR, normalised, paragraph
from test_checks_helpers import D, build, kpd_cells, mmir_cells

from kpd_returns.author import rule_catalogue as rc
from kpd_returns.checks.registry import check_spec_rules
from kpd_returns.checks.validate import validate_file
from kpd_returns.spec.basis import Basis
from kpd_returns.spec.findings import QUERY_CODES
from kpd_returns.spec.return_spec import SpecError, get_spec, load_all, load_spec_file

SPECS = load_all()
ENTRIES = [e for spec in SPECS.values() for e in rc.entries(spec)]
ERRORS = [e for e in ENTRIES if e.kind == "error"]
LICENCE = "Contains public sector information licensed under the Open Government Licence v3.0."


@pytest.mark.parametrize("entry", ERRORS, ids=[f"{e.return_id}-{e.code}-{n}" for n, e in enumerate(ERRORS)])
def test_every_error_producing_check_of_every_spec_has_a_basis(entry):
    """The catalogue lists every check; each error in it says what it rests on."""
    assert entry.basis and not entry.basis.startswith("none"), entry
    assert entry.basis.split(":")[0] in {"arithmetic", "the template", "kpd-returns' own protection"} \
        or entry.basis.split(":")[0].startswith(("AtW ", "JOBS II ", "KPD ")), entry


def test_each_query_says_it_has_no_basis():
    queries = [e for e in ENTRIES if e.kind == "query"]
    assert queries and all(e.basis.startswith("none") for e in queries)


def _bases(spec) -> list[tuple[str, Basis]]:
    out = [("personal_data_basis", spec.personal_data_basis)]
    out += [(f"rule {n} ({r.kind})", r.basis) for n, r in enumerate(spec.rules, 1) if r.basis is not None]
    for sheet in spec.sheets:
        limits = [(f"sheet {sheet.name}", sheet.basis)] + [(f"field {f.id}", f.basis) for f in sheet.fields]
        for where, bases in limits:
            out += [(f"{where} {limit}", b) for limit, b in bases if b is not None]
    return out


QUOTES = [(spec.id, where, b) for spec in SPECS.values() for where, b in _bases(spec) if b.kind == "quote"]


@pytest.mark.parametrize("spec_id, where, basis", QUOTES, ids=[f"{s}-{w}" for s, w, _b in QUOTES])
def test_every_quote_is_found_in_the_paragraph_it_cites(spec_id, where, basis):
    assert normalised(basis.quote) in normalised(paragraph(basis.paragraph)), (spec_id, where, basis.paragraph)


def test_the_locator_finds_each_chapter_s_paragraphs_and_tells_the_kpd_intro_from_its_definitions():
    assert paragraph("AtW 7.25").startswith("7.25 The MMIR should include") and "KPI1 to KPI5" in paragraph("AtW 7.25")
    assert "7.26" not in paragraph("AtW 7.25")
    assert paragraph("JOBS II 6.17").startswith("- 6.17") and "course day one" in paragraph("JOBS II 6.17")
    assert paragraph("KPD intro 4").startswith("4. This management information return must be completed")
    assert paragraph("KPD 4").startswith("4. For each category listed below")
    with pytest.raises(KeyError):
        paragraph("AtW 7.99")


def test_a_quote_not_in_its_paragraph_is_caught():
    """The check the test above makes fails for a quote cited to the wrong paragraph."""
    quote = normalised("You are required to collate and anonymise the Customer responses.")
    assert quote in normalised(paragraph("AtW 7.31")) and quote not in normalised(paragraph("AtW 7.25"))


@pytest.mark.parametrize("name", sorted(FILES.values()))
def test_the_guidance_chapters_are_kept_with_title_date_source_and_licence(name):
    head = (GUIDANCE / name).read_text(encoding="utf-8").split(SEPARATOR, 1)[0]
    fields = dict(line.split(": ", 1) for line in head.strip().split("\n"))
    assert {"Title", "Date", "Source", "Licence"} <= set(fields) and "GOV.UK" in fields["Source"]
    assert fields["Licence"] == LICENCE


def test_the_foi_request_is_not_kept():
    assert sorted(p.name for p in GUIDANCE.iterdir()) == sorted(FILES.values())


def _spec_copy(tmp_path: Path, old: str, new: str) -> Path:
    source = Path(SPECS["insight"].source_path)
    target = tmp_path / source.name
    shutil.copy(source, target)
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_a_basis_with_an_unknown_key_is_refused_naming_the_file_and_key(tmp_path):
    path = _spec_copy(tmp_path, 'basis = { arithmetic = "each count by level',
                      'basis = { because = "x", arithmetic = "each count by level')
    with pytest.raises(SpecError, match=r"insight.toml: key 'rules\.\d+\.basis\.because'"):
        load_spec_file(path)


def test_a_basis_of_two_kinds_or_a_quote_without_its_paragraph_is_refused(tmp_path):
    path = _spec_copy(tmp_path, 'basis = { arithmetic = "each count by level',
                      'basis = { quote = "Every month", arithmetic = "each count by level')
    with pytest.raises(SpecError, match="exactly one of quote, arithmetic, template, protection or none"):
        load_spec_file(path)
    path = _spec_copy(tmp_path, ', paragraph = "AtW 7.31"', '')
    with pytest.raises(SpecError, match="paragraph"):
        load_spec_file(path)


def test_a_rule_without_a_basis_whose_error_has_no_query_form_is_refused_at_load(tmp_path):
    """Severity is derived at load: a rule without a basis is a query, and one whose error cannot be a
    query (no query wording for it) is refused, naming the file and the rule."""
    path = _spec_copy(tmp_path, 'basis = { arithmetic = "the totals are sums of the counts by level and the share '
                                'is their quotient" }\n', "")
    spec = load_spec_file(path)
    with pytest.raises(SpecError, match=r"insight.toml: rule 6 \(computed_totals\) has no basis"):
        check_spec_rules(spec)


# -- the derivation both ways: the same check is an error with a basis and a query without one ------------
def _with_rule_basis(spec, kind, basis):
    return spec.model_copy(update={"rules": [r.model_copy(update={"basis": basis}) if r.kind == kind else r
                                             for r in spec.rules]})


def _with_field_basis(spec, fid, limit, basis):
    """A fresh spec (no cached lookups carried over) whose field ``fid`` rests ``limit`` on ``basis``."""
    data = spec.model_dump(exclude_none=True)
    for sheet in data["sheets"]:
        for f in sheet["fields"]:
            if f["id"] == fid:
                f["basis"] = {**f.get("basis", {}), limit: basis.model_dump(exclude_none=True)}
    return type(spec).model_validate(data)


SAID = Basis(arithmetic="for this test")
NONE = Basis(none="for this test")
DERIVED = [
    # (code, return, spec change, cells)
    ("social-value-missing", "mmir", lambda s: _with_rule_basis(s, "social_value_complete", SAID),
     lambda: mmir_cells("2026-09")),
    ("job-entries-above-participants", "kpd", lambda s: _with_rule_basis(s, "field_not_above", SAID),
     lambda: kpd_cells("Q1", rag1_job_entries__apr=5000)),
    ("detail-rows-mismatch-query", "mmir", lambda s: _with_rule_basis(s, "rows_match_count", None),
     lambda: mmir_cells(complaints__in_month=1)),
    ("below-minimum-query", "kpd", lambda s: _with_field_basis(s, "days_lost", "min", NONE),
     lambda: kpd_cells("Q1", days_lost__apr=-1)),
    ("above-maximum-query", "mmir", lambda s: _with_field_basis(s, "sv_measure1_pct", "max", NONE),
     lambda: mmir_cells("2026-09", sv_companies__=3, sv_measure1_pct__=120, sv_measure2_pct__=50,
                        sv_companies_over_500__=0)),
    ("text-too-long-query", "kpd", lambda s: _with_field_basis(s, "contact", "max_length", NONE),
     lambda: kpd_cells("Q1", contact__="x" * 200)),
    ("too-many-decimals", "mmir", lambda s: _with_field_basis(s, "sv_measure2_pct", "decimals", SAID),
     lambda: mmir_cells("2026-09", sv_companies__=3, sv_measure1_pct__=100, sv_measure2_pct__=66.67,
                        sv_companies_over_500__=0)),
]


@pytest.mark.parametrize("code, return_id, change, cells", DERIVED, ids=[d[0] for d in DERIVED])
def test_a_check_is_an_error_with_a_basis_and_its_query_twin_without(code, return_id, change, cells):
    """One decision (spec.findings.decide): the same check, the spec's basis changed, gives the other form."""
    spec = change(get_spec(return_id))
    report = validate_file(build(return_id, cells()), name="x.xlsx", specs={return_id: spec}, as_of=D(2026, 7, 1))
    hits = [f for f in report.findings if f.code == code]
    assert hits, [(f.code, f.ref) for f in report.findings]
    assert {f.severity for f in hits} == {"warning" if code in QUERY_CODES else "error"}
    assert {f.guidance for f in hits} == {"plausibility check" if code in QUERY_CODES else SAID.cite()}


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "html"])
def test_the_rule_catalogue_shows_each_check_s_basis_in_every_format(fmt):
    """`kpd-returns rules`: the quote with its paragraph, or the arithmetic, template or protection."""
    from cli_return_helpers import run

    out = run("rules", "insight", "--format", fmt).output
    quote = 'AtW 7.31: "You are required to collate and anonymise the Customer responses."'
    shown = {"text": f"    basis: {quote}", "json": '"basis": "AtW 7.31: \\"You are required',
             "csv": ",basis\n", "html": '<th scope="col">Basis</th>'}[fmt]
    assert shown in out
    assert "none: a query" in out and "arithmetic: a count cannot be fractional" in out


def test_the_template_warns_but_does_not_stop_a_figure_beyond_a_query_limit():
    """A limit with a basis stops the figure as it is typed; one without (a query) only warns."""
    from kpd_returns.author.template_cells import _validation

    kpd = get_spec("kpd")
    assert "error_type" not in _validation(kpd.field("days_lost"))
    queried = _with_field_basis(kpd, "days_lost", "min", NONE)
    assert _validation(queried.field("days_lost"))["error_type"] == "warning"


# -- found in the read-through of issue 20's change ---------------------------------------------------
def _field(**kw):
    from kpd_returns.spec.sheet_model import FieldSpec

    return FieldSpec(id="x", label="X", definition="a figure", guidance="KPD 9", **kw)


def test_a_count_cannot_make_its_whole_number_check_a_query():
    """not-whole-number has no query form: a 'none' basis would have left an error without a basis."""
    with pytest.raises(ValueError, match="whole-number check cannot be a query"):
        _field(type="count", basis={"decimals": {"none": "we allow halves"}})
    assert _field(type="count", decimals=1, basis={"decimals": {"none": "halves are plausible"}}).decimals == 1


@pytest.mark.parametrize("kind, limits, limit", [
    ("count", {"min": 0}, "min"), ("percent", {"max": 100}, "max"), ("percent", {"min": 0}, "min"),
    ("count", {"decimals": 0}, "decimals")])
def test_a_limit_that_repeats_the_types_own_keeps_its_arithmetic(kind, limits, limit):
    """A count with min = 0 once lost its 'a count cannot be negative' and a negative count became a query."""
    basis = _field(type=kind, **limits).limit_basis(limit)
    assert basis is not None and basis.kind == "arithmetic"


def test_a_stricter_limit_without_a_basis_is_a_query():
    assert _field(type="count", min=5).limit_basis("min") is None
    assert _field(type="percent", max=90).limit_basis("max") is None
