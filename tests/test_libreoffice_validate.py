"""LibreOffice as a second real client: a return filled in by openpyxl with deliberate mistakes,
and the same return after a LibreOffice round trip, give the same findings."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from libreoffice_helper import convert, make_profile, require_soffice

from kpd_returns.spec import layout
from kpd_returns.spec.return_spec import get_spec

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[1]
def key(findings) -> set[tuple]:
    return {(f.code, f.sheet, f.cell, f.severity) for f in findings}


def kpd_mistakes(wb) -> None:
    spec = get_spec("kpd")
    idx = layout.slot_index(spec)
    ws = wb["Staffing"]
    ws[idx[("fte_total", "may")].cell] = 999.5  # typed over a total
    ws[idx[("staff_central", "jun")].cell] = "12 FTE"  # text in a number cell
    ws[idx[("staff_senior", "apr")].cell] = -3  # negative
    wb["Header"][idx[(spec.header.contact, "")].cell] = None  # a required header field left empty


def mmir_mistakes(wb) -> None:
    spec = get_spec("mmir")
    idx = layout.slot_index(spec)
    wb["Header"][idx[(spec.header.provider, "")].cell] = None
    wb["Volumes"][idx[("referrals", "in_month")].cell] = -8
    wb["Volumes"][idx[("reworks", "year_to_date")].cell] = "n/a"


CASES = {
    "kpd": ("returns/kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx", kpd_mistakes,
            {"total-mismatch", "not-a-number", "below-minimum", "required-missing-query"}),  # Contact: a query
    "mmir": ("returns/mmir-northbridge-employment-ltd-2026-09.xlsx", mmir_mistakes,
             {"required-missing", "below-minimum", "not-a-number"}),
}


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    require_soffice()
    return make_profile(tmp_path_factory.mktemp("lo-profile"))


def round_trip(source: Path, out_dir: Path, profile: Path) -> Path:
    proc = convert([source], out_dir, profile)
    result = out_dir / source.name
    assert proc.returncode == 0 and result.exists(), proc.stdout + proc.stderr
    return result


@pytest.mark.parametrize("kind", list(CASES))
def test_same_findings_after_libreoffice_round_trip(kind, profile, tmp_path):
    from kpd_returns.checks import validate
    base, mistakes, codes = CASES[kind]
    if not (REPO / "samples" / base).exists():
        pytest.skip(f"samples/{base} is missing")
    wb = openpyxl.load_workbook(REPO / "samples" / base)
    mistakes(wb)
    filled = tmp_path / f"{kind}-with-mistakes.xlsx"
    wb.save(filled)

    original = validate.validate_file(filled)
    converted_path = round_trip(filled, tmp_path / "lo", profile)
    converted = validate.validate_file(converted_path)

    assert original.verdict == "invalid", original.findings
    assert codes <= {f.code for f in original.findings}
    assert key(converted.findings) == key(original.findings)
    assert (converted.return_id, converted.period, converted.provider) == (
        original.return_id, original.period, original.provider)


def test_libreoffice_keeps_formulas_and_recalculates(profile, tmp_path):
    """The round trip itself: totals stay formulas and get their results (the setting works)."""
    base = REPO / "samples" / CASES["kpd"][0]
    if not base.exists():
        pytest.skip("the KPD sample is missing")
    converted = round_trip(base, tmp_path / "lo", profile)
    spec = get_spec("kpd")
    slot = layout.slot_index(spec)[("fte_total", "apr")]
    formulas = openpyxl.load_workbook(converted)
    values = openpyxl.load_workbook(converted, data_only=True)
    assert "SUM(" in str(formulas["Staffing"][slot.cell].value).upper()
    parts = [values["Staffing"][layout.slot_index(spec)[(p, "apr")].cell].value
             for p in spec.field("fte_total").computed.of]
    assert values["Staffing"][slot.cell].value == pytest.approx(sum(p or 0 for p in parts))
