"""The return specs load, malformed specs are refused with a useful message, and every
field the guidance asks for is in the spec with its guidance paragraph."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpd_returns.spec.resources import validators_dir
from kpd_returns.spec.return_spec import (NUMERIC_TYPES, SpecError, get_spec, load_all, load_spec_file, spec_paths,
                                          spec_problems)


def test_both_specs_load(specs):
    assert set(load_all()) >= {"kpd", "mmir"}
    kpd, mmir = specs["kpd"], specs["mmir"]
    assert kpd.period.kind == "contract_quarter" and mmir.period.kind == "month"
    assert len(kpd.spec_hash) == 16 and kpd.spec_hash != mmir.spec_hash
    assert {p.name for p in spec_paths()} >= {"kpd.toml", "mmir.toml"}
    assert kpd.guidance_ref("9") == "KPD 9" and mmir.guidance_ref("7.25") == "AtW 7.25"
    assert kpd.guidance_ref("KPD intro 4") == "KPD intro 4"


# -- malformed specs ------------------------------------------------------------------
KPD_SOURCE = (validators_dir() / "kpd.toml").read_text(encoding="utf-8")


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in KPD_SOURCE, f"test setup: {old!r} is no longer in kpd.toml"
    path = tmp_path / "kpd.toml"
    path.write_text(KPD_SOURCE.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        ('type = "fte"', 'type = "ftee"', "sheets.1.fields.0.type", "Input should be"),
        ('label = "Prime provider"\n', "", "sheets.0.fields.1.label", "Field required"),
        ('columns = "months"', 'columns = "weeks"', "sheets.1.columns", "unknown column set 'weeks'"),
        ('id = "staff_central"', 'id = "staff_senior"', "sheets.1.fields.2.id", "'staff_senior' appears twice"),
        ('provider = "provider"\ncontract', 'provider = "prime"\ncontract', "header.provider", "'prime'"),
        ("[return]", "[retrun]", "return", "is missing"),
    ],
    ids=["bad-type", "missing-key", "unknown-column-set", "duplicate-field-id", "header-unknown-field", "no-return"],
)
def test_malformed_spec_names_file_and_key(tmp_path, old, new, key, says):
    path = _broken(tmp_path, old, new)
    with pytest.raises(SpecError) as err:
        load_spec_file(path)
    message = str(err.value)
    assert message.startswith("kpd.toml: ")
    assert f"key '{key}'" in message
    assert says in message


def test_bad_toml_names_file_and_line(tmp_path):
    path = tmp_path / "kpd.toml"
    path.write_text(KPD_SOURCE + "\n[[sheets\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"^kpd\.toml: is not valid TOML \(.*line \d+"):
        load_spec_file(path)


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="cannot be read"):
        load_spec_file(tmp_path / "nope.toml")


def test_duplicate_return_id_in_a_folder(tmp_path):
    """The second file using an id is set aside with a sentence naming it; the first still loads."""
    (tmp_path / "a.toml").write_text(KPD_SOURCE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(KPD_SOURCE, encoding="utf-8")
    (tmp_path / "deadlines.toml").write_text('[kpd]\nkind = "nth_working_day_after_period"\nn = 15\n')
    assert list(load_all(str(tmp_path))) == ["kpd"]
    assert load_all(str(tmp_path))["kpd"].source_path.endswith("a.toml")
    assert spec_problems(str(tmp_path)) == ["b.toml: key 'return.id': 'kpd' is already used by another spec."]


# -- KPD: every field, with its paragraph of the KPD guidance ---------------------------
KPD_FIELDS = {
    # header
    "cpa": "2", "provider": "KPD intro 1", "contract_year": "16", "quarter": "KPD intro 4",
    "date_submitted": "KPD intro 4", "contact": "KPD intro 4",  # lateness: one citation (issue 20)
    # staffing and caseloads (KPD 5-15)
    "staff_senior": "5", "staff_front_line": "6", "staff_central": "7", "staff_employer": "8", "fte_total": "9",
    "days_lost": "10", "caseload_active": "11", "caseload_in_work": "12", "caseload_not_engaged": "13",
    "caseload_total": "14", "job_entries": "15", "job_entries_per_front_line_fte": "15",
    # caseload management keys (KPD 20, 22)
    "seg_title": "20", "seg_type": "22", "seg_key": "20", "rag_title": "20", "rag_key": "20",
}


@pytest.mark.parametrize(("field_id", "paragraph"), sorted(KPD_FIELDS.items()))
def test_kpd_field_and_paragraph(specs, field_id, paragraph):
    kpd = specs["kpd"]
    assert kpd.field(field_id).guidance == paragraph
    assert kpd.guidance_ref(paragraph) == (paragraph if paragraph.startswith("KPD") else f"KPD {paragraph}")


def test_kpd_header_roles(specs):
    kpd = specs["kpd"]
    assert kpd.header.provider == "provider" and kpd.header.contract == "cpa"
    assert kpd.header.submitted == "date_submitted" and kpd.header.contact == "contact"
    assert (kpd.period.year_field, kpd.period.quarter_field) == ("contract_year", "quarter")
    assert kpd.field("quarter").choices == ["Q1", "Q2", "Q3", "Q4"]
    assert kpd.field("date_submitted").type == "date"


def test_kpd_computed_fields(specs):
    kpd = specs["kpd"]
    fte = kpd.field("fte_total").computed
    assert fte.op == "sum" and fte.of == ["staff_senior", "staff_front_line", "staff_central", "staff_employer"]
    total = kpd.field("caseload_total").computed
    assert total.op == "sum" and total.of == ["caseload_active", "caseload_in_work", "caseload_not_engaged"]
    ratio = kpd.field("job_entries_per_front_line_fte").computed
    assert ratio.op == "ratio" and ratio.of == ["job_entries", "staff_front_line"]
    front_line = kpd.field("staff_front_line")
    assert (front_line.type, front_line.max_decimals, front_line.query_decimals) == ("fte", None, 4)
    assert kpd.column_sets["months"].labels[0] == "April" and kpd.column_sets["months"].months[0] == 4


@pytest.mark.parametrize("prefix", ["seg", "rag"])
def test_kpd_ten_segments_and_ratings(specs, prefix):
    kpd = specs["kpd"]
    for n in range(1, 11):
        participants, jobs = kpd.field(f"{prefix}{n}_participants"), kpd.field(f"{prefix}{n}_job_entries")
        assert participants.type == jobs.type == "count"
        assert participants.guidance == jobs.guidance == "21"
        assert f"{n}" in participants.label
    key_sheet = kpd.sheet("Segment key" if prefix == "seg" else "RAG key")
    assert [r.key for r in key_sheet.row_keys] == [f"{prefix}{n}" for n in range(1, 11)]
    assert kpd.field(f"{prefix}_title").type == "text"


def test_kpd_segment_type_has_in_work(specs):
    seg_type = specs["kpd"].field("seg_type")
    assert seg_type.type == "choice" and "In work" in seg_type.choices and seg_type.guidance == "22"


# -- MMIR: every item of AtW 7.25 and the KPIs of 7.16 ----------------------------------
MMIR_VOLUMES = [
    "referrals", "support_plans_approved", "six_month_reports_approved", "exit_reports_approved", "reworks",
    "reworks_outside_1wd", "support_plans_outside_1_month", "six_month_reports_outside_10wd",
    "exit_reports_outside_10wd", "withdrawals_before_support_plan", "withdrawals_before_six_month_report",
    "withdrawals_before_exit_report", "sustainment_required", "complaints",
]
MMIR_DETAIL = {
    "Rework reasons": ["rework_case_ref", "rework_report_type", "rework_reason"],
    "Late reworks": ["late_rework_case_ref", "late_rework_date_requested", "late_rework_date_returned",
                     "late_rework_reason"],
    "Late Support Plans": ["late_sp_case_ref", "late_sp_referral_date", "late_sp_date_returned", "late_sp_reason"],
    "Late 6 Month Reports": ["late_6m_case_ref", "late_6m_period_end", "late_6m_date_returned", "late_6m_reason"],
    "Late Exit Reports": ["late_exit_case_ref", "late_exit_period_end", "late_exit_date_returned", "late_exit_reason"],
    "Withdrawals": ["withdrawal_case_ref", "withdrawal_date", "withdrawal_stage", "withdrawal_reason"],
    "Complaints": ["complaint_ref", "complaint_date_received", "complaint_summary", "complaint_working_days"],
    "Staff": ["staff_ref", "staff_role", "staff_skills", "staff_experience", "staff_clearances"],
    "Supplier personnel": ["personnel_ref", "personnel_organisation", "personnel_role", "personnel_skills",
                           "personnel_experience", "personnel_clearances"],
}


def test_mmir_volumes_in_month_and_year_to_date(specs):
    mmir = specs["mmir"]
    sheet = mmir.sheet("Volumes")
    assert [f.id for f in sheet.expanded_fields] == MMIR_VOLUMES
    assert mmir.column_sets[sheet.columns].keys == ["in_month", "year_to_date"]
    for fid in MMIR_VOLUMES:
        f = mmir.field(fid)
        assert f.type == "count" and f.required and f.guidance == "7.25", fid


def test_mmir_referral_routes_and_how_heard(specs):
    mmir = specs["mmir"]
    sheet = mmir.sheet("Referral routes")
    assert mmir.column_sets[sheet.columns].labels == ["In month", "Programme to date"]
    assert "Authority Candidate" in mmir.field("route_authority_candidate").label
    assert "Supplier Generated" in mmir.field("route_supplier_generated").label
    heard = [f.id for f in sheet.expanded_fields if f.id.startswith("heard_")]
    assert heard == ["heard_supplier_marketing", "heard_gp", "heard_occupational_health", "heard_employer",
                     "heard_other"]
    assert all(mmir.field(f).guidance == "7.25" for f in heard)


def test_mmir_kpis_five_by_two_cohorts(specs):
    mmir = specs["mmir"]
    sheet = mmir.sheet("KPIs")
    keys = [r.key for r in sheet.row_keys]
    assert keys == [f"kpi{k}_{c}" for k in range(1, 6) for c in (2024, 2026)]
    assert [f.id for f in sheet.expanded_fields] == ["kpi_cases_due", "kpi_within_target", "kpi_outside_target",
                                                     "kpi_outside_reasons"]
    assert sheet.guidance == "7.16" and mmir.field("kpi_outside_reasons").guidance == "7.25"
    assert mmir.field("kpi_outside_reasons").checks_personal_data


@pytest.mark.parametrize("sheet_name", sorted(MMIR_DETAIL))
def test_mmir_detail_tables(specs, sheet_name):
    mmir = specs["mmir"]
    sheet = mmir.sheet(sheet_name)
    assert sheet.kind == "list" and sheet.max_rows and sheet.max_rows >= 200
    assert [f.id for f in sheet.expanded_fields] == MMIR_DETAIL[sheet_name]
    assert sheet.guidance == "7.25"
    for f in sheet.expanded_fields:
        assert f.guidance in {"7.16", "7.25"}, f.id


def test_mmir_withdrawal_stages_and_complaint_days(specs):
    mmir = specs["mmir"]
    stages = ["Before Support Plan", "Before 6 Month Report", "Before Exit Report"]
    assert mmir.field("withdrawal_stage").choices == stages
    days = mmir.field("complaint_working_days")
    assert days.type in NUMERIC_TYPES and days.max_decimals == 0
    assert "Working days" in days.label


def test_mmir_social_value_three_measures(specs):
    mmir = specs["mmir"]
    sheet = mmir.sheet("Social value")
    assert sheet.optional and sheet.guidance == "7.16"
    for n in (1, 2, 3):
        f = mmir.field(f"sv_measure{n}_pct")
        assert f.type == "percent" and f.upper == 100 and f.guidance == "7.16"
    assert mmir.field("sv_companies").lower == 1 and mmir.field("sv_companies_over_500").guidance == "7.16"


def test_mmir_header(specs):
    mmir = specs["mmir"]
    assert [f.id for f in mmir.sheet("Header").expanded_fields] == [
        "provider", "contract", "reporting_month", "date_submitted", "contact"]
    assert mmir.period.month_field == "reporting_month" and mmir.field("reporting_month").type == "date"
    assert mmir.field("date_submitted").guidance == "7.24"


def test_key_measures_are_declared_in_the_spec_and_checked(tmp_path):
    """The consolidated workbook's providers x months sheets come from [[key_measures]]."""
    from kpd_returns.spec.return_spec import SpecError, get_spec, load_spec_file

    assert [m.slug for m in get_spec("kpd").key_measures][:1] == ["fte_total"]
    assert ("kpi_cases_due", "kpi3_2026") in get_spec("mmir").key_measures[4].parts
    src = get_spec("kpd").source_path
    text = open(src, encoding="utf-8").read().replace('parts = [["job_entries", ""]]', 'parts = [["job_entriez", ""]]')
    bad = tmp_path / "kpd.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match="kpd.toml.*job_entriez"):
        load_spec_file(bad)


def test_no_text_field_is_exempt_from_the_personal_data_scan(specs):
    """Issue 10, item 3: a field may skip kinds (the provider's name is not a postcode), never the scan."""
    from pydantic import ValidationError

    from kpd_returns.spec.return_spec import FieldSpec

    for spec in specs.values():
        for sheet in spec.sheets:
            for f in sheet.expanded_fields:
                if f.type == "text":
                    assert f.checks_personal_data and len(f.personal_data_skip) <= 1, f.id
    assert specs["mmir"].field("provider").personal_data_skip == ["postcode"]
    assert specs["kpd"].field("cpa").personal_data_skip == []
    base = dict(id="x", label="X", definition="X", type="text", guidance="1")
    with pytest.raises(ValidationError):
        FieldSpec(**base, personal_data_check=False)  # the old switch is gone
    with pytest.raises(ValidationError):
        FieldSpec(**base, personal_data_skip=["names"])  # only known kinds


def test_kpd_citations_tell_the_introduction_from_the_mi_definitions():
    """The KPD guidance numbers its Introduction 1-5 and its MI Definitions 1-23 separately:
    every citation says which ("KPD intro 4" the deadlines, "KPD 4" the FTE definition)."""
    import re

    kpd = get_spec("kpd")
    refs = [kpd.guidance_ref(f.guidance) for s in kpd.sheets for f in s.expanded_fields]
    refs += [kpd.guidance_ref(s.guidance) for s in kpd.sheets] + [kpd.guidance_ref(r.guidance) for r in kpd.rules]
    shape = re.compile(r"^(KPD intro [1-5]|KPD (1[0-9]|2[0-3]|[1-9])|KPD Annex \d|plausibility check)$")
    assert [r for r in refs if not shape.match(r)] == []
    by_field = {f.id: kpd.guidance_ref(f.guidance) for s in kpd.sheets for f in s.expanded_fields}
    assert (by_field["quarter"], by_field["date_submitted"], by_field["staff_senior"]) == (
        "KPD intro 4", "KPD intro 4", "KPD 5")
    assert {kpd.guidance_ref(r.guidance) for r in kpd.rules if r.kind.startswith("months_")} == {"KPD intro 4"}


def test_the_slot_index_is_built_once_per_spec():
    """The checks across returns ask for it on every file that arrives; rebuilding it each time made
    consolidate 40% slower a file (benchmark of 2026-12-01). A copy of a spec builds its own."""
    from kpd_returns.spec import layout
    from kpd_returns.spec.return_spec import get_spec

    spec = get_spec("mmir")
    assert layout.slot_index(spec) is layout.slot_index(spec)
    copy = spec.model_copy(update={"rules": []})
    assert layout.slot_index(copy) is not layout.slot_index(spec)
    assert layout.slot_index(copy) == layout.slot_index(spec)
