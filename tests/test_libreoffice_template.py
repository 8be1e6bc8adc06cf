"""LibreOffice as a second real spreadsheet program: it opens the template, recalculates the
totals from typed inputs, and keeps the defined names, hidden metadata sheet and protection."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from libreoffice_helper import convert as convert_with_libreoffice
from libreoffice_helper import make_profile, require_soffice

from kpd_returns.spec import layout
from kpd_returns.author.samples import PROVIDERS, fill_workbook, sample_values, save_reproducibly
from kpd_returns.spec.return_spec import META_SHEET
from kpd_returns.author.template import META_NAME, write_template

pytestmark = pytest.mark.system

@pytest.fixture(scope="module")
def convert(tmp_path_factory):
    """A function converting an .xlsx with LibreOffice (own profile); returns (exit code, output path)."""
    require_soffice()
    base = tmp_path_factory.mktemp("libreoffice")
    profile = make_profile(base / "profile")

    def run(source: Path) -> tuple[int, Path]:
        out_dir = base / f"out-{source.stem}"
        result = convert_with_libreoffice([source], out_dir, profile, timeout=120)
        return result.returncode, out_dir / source.name

    return run


def test_blank_template_opens(specs, tmp_path, convert):
    for rid in ("kpd", "mmir"):
        source = tmp_path / f"blank-{rid}.xlsx"
        write_template(specs[rid], source)
        code, out = convert(source)
        assert code == 0 and out.is_file(), rid
        assert openpyxl.load_workbook(out, read_only=True).sheetnames[-1] == META_SHEET


def test_recalculated_totals_and_structure_survive(specs, tmp_path, convert):
    kpd = specs["kpd"]
    buf = io.BytesIO()
    write_template(kpd, buf, provider=PROVIDERS[0].name, contract="CPA 07", period="2026-27 Q2")
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    values = sample_values(kpd, PROVIDERS[0], "CPA 07", "2026-27 Q2")
    values["staff_front_line"]["aug"] = 0  # a month with no front line FTE: the ratio must stay empty
    fill_workbook(wb, kpd, values)  # inputs only: the formulas are left for LibreOffice
    source = tmp_path / "filled-kpd.xlsx"
    source.write_bytes(save_reproducibly(wb))

    code, out = convert(source)
    assert code == 0 and out.is_file()
    calc = openpyxl.load_workbook(out, data_only=True)
    ws = calc["Staffing"]
    index = layout.slot_index(kpd)

    def cell(field: str, key: str):
        return ws[index[(field, key)].cell].value

    months = kpd.column_sets["months"].keys
    for key in months[:6]:
        staff = sum(values[f][key] for f in ("staff_senior", "staff_front_line", "staff_central", "staff_employer"))
        assert cell("fte_total", key) == pytest.approx(staff), key
        caseload = sum(values[f][key] for f in ("caseload_active", "caseload_in_work", "caseload_not_engaged"))
        assert cell("caseload_total", key) == caseload
        ratio = cell("job_entries_per_front_line_fte", key)
        if key == "aug":
            assert ratio in (None, "")  # never #DIV/0!
        else:
            assert ratio == pytest.approx(values["job_entries"][key] / values["staff_front_line"][key])
    # A month not yet reported shows blank totals, not 0.00 staff (issue 15 item 7).
    assert cell("fte_total", "oct") in (None, "") and cell("caseload_total", "oct") in (None, "")
    assert cell("job_entries_per_front_line_fte", "oct") in (None, "")

    kept = openpyxl.load_workbook(out)  # formulas, names, sheets and protection
    assert kept["Staffing"][index[("fte_total", "apr")].cell].value == '=IF(COUNT(C5,C6,C7,C8)=0,"",SUM(C5,C6,C7,C8))'
    # LibreOffice drops the quotes around simple sheet names ('Header'!$B$5 -> Header!$B$5), so a
    # reader must compare where a name points, not its text.
    for name, ref in layout.defined_names(kpd).items():
        sheet, coord = ref.rsplit("!", 1)
        assert list(kept.defined_names[name].destinations) == [(sheet.strip("'"), coord)], name
    assert META_NAME in kept.defined_names
    assert kept[META_SHEET].sheet_state == "hidden"
    meta = {r[0]: r[1] for r in kept[META_SHEET].iter_rows(values_only=True) if r[0]}
    assert meta["return_type"] == "kpd" and meta["template_version"] == kpd.version
    assert all(ws.protection.sheet for ws in kept.worksheets)
    assert kept["Staffing"]["C5"].protection.locked is False and kept["Staffing"]["A5"].protection.locked is True
    assert kept["Header"]["B6"].value == PROVIDERS[0].name
