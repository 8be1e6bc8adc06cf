"""--fix-totals: every computed cell holds the template's formula again; inputs untouched."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kpd_returns.spec import findings as F
from kpd_returns.spec import layout
from kpd_returns.checks.batch import prepare
from kpd_returns.spec.model import FileReport
from kpd_returns.render.fix_totals import CopyError, fix_totals
from kpd_returns.spec.return_spec import get_spec

from kpd_returns.author import template  # noqa: E402


def computed_slots(spec):
    return [s for sheet in spec.sheets for s in layout.slots(spec, sheet) if spec.field(s.field).computed]


@pytest.fixture(scope="module")
def typed_over(tmp_path_factory) -> tuple[Path, list[str]]:
    """A KPD return with figures typed in and three totals typed over (a number, a wrong formula, text)."""
    spec = get_spec("kpd")
    folder = tmp_path_factory.mktemp("fix")
    blank = folder / "blank.xlsx"
    template.write_template(spec, blank)
    wb = openpyxl.load_workbook(blank)
    idx = layout.slot_index(spec)
    keys = layout.column_keys(spec, spec.sheet("Staffing"))
    ws = wb["Staffing"]
    for n, key in enumerate(keys[:3], start=1):
        for fid in ("staff_senior", "staff_front_line", "staff_central", "staff_employer",
                    "caseload_active", "caseload_in_work", "caseload_not_engaged", "job_entries"):
            ws[idx[(fid, key)].cell] = n * 3
    broken = [idx[("fte_total", keys[0])], idx[("caseload_total", keys[1])],
              idx[("job_entries_per_front_line_fte", keys[2])]]
    ws[broken[0].cell] = 12
    ws[broken[1].cell] = f"={idx[('caseload_active', keys[1])].cell}"
    ws[broken[2].cell] = "one"
    path = folder / "typed-over.xlsx"
    wb.save(path)
    return path, [s.ref for s in broken]


def kpd_report(path: Path, **kw) -> FileReport:
    return FileReport(path=str(path), name=path.name, return_id="kpd", version="1.0", **kw)


def test_formulas_restored_inputs_untouched(typed_over, tmp_path):
    path, broken = typed_over
    out = tmp_path / "fixed.xlsx"
    spec = get_spec("kpd")
    result = fix_totals(path, kpd_report(path), out)
    assert sorted(result.changed) == sorted(broken)
    slots = computed_slots(spec)
    assert len(result.cells) == len(slots)
    before, after = openpyxl.load_workbook(path), openpyxl.load_workbook(out)
    index = layout.slot_index(spec)
    computed_cells = set()
    for slot in slots:
        expected = template.computed_formula(spec, slot.field, slot.key, index)
        assert after[slot.sheet][slot.cell].value == expected, slot.ref
        computed_cells.add((slot.sheet, slot.cell))
    for ws in before.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if (ws.title, c.coordinate) not in computed_cells:
                    kept = after[ws.title][c.coordinate].value
                    # An array formula (the Checks sheet) is an object: compare its text.
                    assert getattr(kept, "text", kept) == getattr(c.value, "text", c.value), f"{ws.title}!{c.coordinate}"
    assert after.sheetnames == before.sheetnames
    assert after.calculation.fullCalcOnLoad


def test_the_reader_sees_formulas_again(typed_over, tmp_path):
    path, _ = typed_over
    out = tmp_path / "fixed.xlsx"
    fix_totals(path, kpd_report(path), out)
    spec = get_spec("kpd")
    ex = prepare(out, specs={"kpd": spec})
    assert ex.check is not None, ex.findings
    for slot in computed_slots(spec):
        cell = ex.check.data.cells[(slot.field, slot.key)]
        assert cell.formula and "=" + cell.formula == template.computed_formula(spec, slot.field, slot.key)


def test_same_input_same_bytes(typed_over, tmp_path):
    path, _ = typed_over
    fix_totals(path, kpd_report(path), tmp_path / "a.xlsx")
    fix_totals(path, kpd_report(path), tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_only_a_recognised_return_with_its_layout(typed_over, tmp_path):
    path, _ = typed_over
    out = tmp_path / "x.xlsx"
    with pytest.raises(CopyError, match="could not be read"):
        fix_totals(path, kpd_report(path, findings=[F.make("file-corrupt", file="x", detail="y")]), out)
    with pytest.raises(CopyError, match="not a recognised return"):
        fix_totals(path, FileReport(path=str(path), name=path.name), out)
    moved = F.make("label-changed", sheet="Staffing", cell="A6", found="x", expected="y")
    with pytest.raises(CopyError, match="layout differs"):
        fix_totals(path, kpd_report(path, findings=[moved]), out)
    with pytest.raises(CopyError, match="is the file being checked"):
        fix_totals(path, kpd_report(path), path)
    assert not out.exists()
