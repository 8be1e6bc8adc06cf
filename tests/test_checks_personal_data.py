"""The personal data guard: MI must be anonymised (AtW 7.25, 7.27, 7.31). A finding names the
kind of data and shows a masked rendering; the value itself never appears in any finding."""

from __future__ import annotations

import json

import pytest
from test_checks_helpers import check, codes, kpd_cells, mmir_cells, only

from kpd_returns.spec.personal_data import scan

CASES = [
    ("a National Insurance number", "Plan for QQ123456C not recorded", "QQ123456C", "QQ*****6C"),
    ("a National Insurance number", "NI number AB 12 34 56 C on file", "AB 12 34 56 C", "AB ** ** *6 C"),
    ("an e-mail address", "Sent to jo.bloggs@example.co.uk", "jo.bloggs@example.co.uk", "j***@***.uk"),
    ("a phone number", "Called her on 07700 900123", "07700 900123", "07*** ***123"),
    ("a phone number", "Landline +44 (0)20 7946 0000", "+44 (0)20 7946 0000", None),
    ("a phone number", "Office 0161-496-0000", "0161-496-0000", None),
    ("a date of birth", "Customer DOB 01/02/1980", "01/02/1980", "DOB **/**/****"),
    ("a date of birth", "born 3 March 1985", "3 March 1985", None),
    ("a postcode", "Lives near SW1A 1AA", "SW1A 1AA", "SW** ***"),
    ("a postcode", "Office at M1 1AE", "M1 1AE", None),
]


@pytest.mark.parametrize("kind, text, raw, masked", CASES)
def test_each_kind_is_found_and_masked_atw_7_25(kind, text, raw, masked):
    found = scan(text)
    assert [k for k, _m in found] == [kind]
    assert raw not in found[0][1]
    if masked:
        assert found[0][1] == masked


@pytest.mark.parametrize("text", [
    "CVW-14822", "STF-001", "AtW-MHSS-C014", "BPSS; enhanced DBS", "Over five years in NHS Talking Therapies.",
    "Seen on 01/02/2026 at the jobcentre", "2026-27", "CPA 07", "KPI3 5th time", "Performance and MI team",
    "120 job entries from 3 500 participants",
])
def test_ordinary_text_is_not_flagged(text):
    assert scan(text) == []


@pytest.mark.parametrize("kind, text, raw, masked", CASES)
def test_the_value_never_appears_in_a_finding_atw_7_25(kind, text, raw, masked):
    """End to end, in a rework reason (free text on a detail sheet)."""
    cells = mmir_cells(reworks__in_month=1, reworks__year_to_date=4, rework_case_ref__row1="C-1",
                       rework_report_type__row1="Exit Report", rework_reason__row1=text)
    report = check("mmir", cells)
    f = only(report, "personal-data")
    # Cited to its basis: the project's own protection (no paragraph of chapter 7 says it of every cell).
    assert (f.sheet, f.cell, f.severity) == ("Rework reasons", "D5", "error")
    assert f.guidance.startswith("kpd-returns' own protection: ")
    assert kind in f.message
    for finding in report.findings:
        blob = json.dumps(finding.to_dict(), default=str)
        assert raw not in blob and text not in blob
    # ... nor in the long-form values bound for the ledger.
    assert not any(fid == "rework_reason" for fid, _k, _m, _v in report.values)


def test_staff_lists_are_checked_atw_7_25():
    """An anonymised list of all Staff: no names, e-mail addresses or phone numbers."""
    report = check("mmir", mmir_cells(staff_experience__row1="Contact on 07700 900123"))
    assert codes(report) == [("personal-data", "Staff", "E5", "error")]


def test_kpd_contact_must_be_a_team_not_a_person():
    """KPD header: 'Do not enter a personal e-mail address or phone number'."""
    report = check("kpd", kpd_cells(contact__="jane.smith@provider.example.com"))
    f = only(report, "personal-data")
    assert (f.sheet, f.cell, f.found) == ("Header", "B10", "j***@***.com")
    assert "jane.smith" not in json.dumps([x.to_dict() for x in report.findings])


def test_a_provider_name_is_not_checked_for_postcodes():
    """The provider field skips postcodes only (personal_data_skip = ["postcode"])."""
    assert codes(check("mmir", mmir_cells(provider__="SW1A 1AA Services Ltd"))) == []


def test_several_kinds_in_one_cell_give_one_finding_each():
    report = check("mmir", mmir_cells(staff_skills__row1="QQ123456C, 07700 900123"))
    assert sorted(f.found for f in report.findings) == ["07*** ***123", "QQ*****6C"]


@pytest.mark.parametrize("changes, code", [
    ({"reworks__in_month": "AB123456C"}, "not-a-number"),
    ({"date_submitted__": "Sent by AB123456C"}, "not-a-date"),
    ({"rework_report_type__row1": "AB123456C", "reworks__in_month": 1, "reworks__year_to_date": 4,
      "rework_case_ref__row1": "C-1", "rework_reason__row1": "late"}, "not-in-list"),
])
def test_a_value_quoted_from_any_field_type_is_masked_issue10_item4(changes, code):
    """A number, date or choice cell holding an NI number: the finding quotes it masked."""
    report = check("mmir", mmir_cells(**changes))
    f = only(report, code)
    assert "AB*****6C" in f.found and "AB*****6C" in f.message
    blob = json.dumps([x.to_dict() for x in report.findings])
    assert "AB123456C" not in blob and "123456" not in blob


def test_provider_and_contract_are_scanned_but_may_skip_postcodes_issue10_item3():
    """No field switches the scan off: personal data in the provider or contract rejects the return,
    and the provider and contract the report carries (to the ledger, workbook, packs) are masked."""
    report = check("mmir", mmir_cells(provider__="Jane Doe jane.doe@example.com", contract__="AB-12-34-56-C"))
    assert sorted(f.field for f in report.findings if f.code == "personal-data") == ["contract", "provider"]
    assert report.verdict == "invalid"
    assert report.provider == "Jane Doe j***@***.com" and report.contract == "AB-**-**-*6-C"
    blob = json.dumps([x.to_dict() for x in report.findings]) + repr(report.values)
    assert "jane.doe" not in blob and "12-34-56" not in blob


def test_kpd_cpa_is_scanned():
    report = check("kpd", kpd_cells(cpa__="CPA 07 07700 900123"))
    assert only(report, "personal-data").found == "07*** ***123"


def test_findings_are_made_only_where_they_are_masked():
    """Every finding goes through findings.make (which masks what it quotes), so no check can forget:
    the only other places a Finding is built are the ledger (re-reading masked rows) and the crash
    report (spec.model.crashed_report, masked where it is built)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "kpd_returns"
    builders = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                      if re.search(r"(?<![\w.])Finding\(", p.read_text(encoding="utf-8")))
    assert builders == ["intake/ledger_rows.py", "spec/findings.py", "spec/model.py"]
