"""The blank template: layout, protection, validation, names, formulas, determinism and the CLI."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from typer.testing import CliRunner

from kpd_returns.spec import layout
from kpd_returns.cli.main import app
from kpd_returns.author.samples import named_cells
from kpd_returns.spec.return_spec import META_SHEET, load_spec_file
from kpd_returns.author.template import META_NAME, computed_formula, parse_period, write_template

RETURN_IDS = ["kpd", "mmir"]


def _bytes(spec, **prefill) -> bytes:
    buf = io.BytesIO()
    write_template(spec, buf, **prefill)
    return buf.getvalue()


def _load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module", params=RETURN_IDS)
def built(request):
    """(spec, workbook) of a blank template for each return type."""
    from kpd_returns.spec.return_spec import get_spec

    spec = get_spec(request.param)
    return spec, _load(_bytes(spec))


def _value_for(field, i: int):
    """A valid value of the field's type, different from cell to cell."""
    if field.type == "count":
        return int((field.lower or 0) + i % 97)
    if field.type in ("fte", "days", "decimal"):
        return float(i % 90) if field.max_decimals == 0 else round(1.25 + i % 90, 2)
    if field.type == "percent":
        return round(10.5 + i % 80, 1)
    if field.type == "date":
        return dt.date(2026, 1 + i % 12, 1 + i % 28)
    if field.type == "choice":
        return field.choices[i % len(field.choices)]
    return f"Text {i}"[: field.max_length]


def test_round_trip_every_input_slot(built):
    spec, wb = built
    wb = _load(_bytes(spec))  # a private copy: this test writes into it
    expected = {}
    inputs = [fid for fid, (_sheet, f) in spec.fields_by_id.items() if not f.computed]
    cells_in = {fid: named_cells(wb, spec, fid) for fid in inputs}
    for i, slot in enumerate(s for sheet in spec.sheets for s in layout.slots(spec, sheet)):
        field = spec.field(slot.field)
        if field.computed:
            continue
        expected[(slot.sheet, slot.cell)] = value = _value_for(field, i)
        cells_in[slot.field][slot.key].value = value  # in by defined name
    buf = io.BytesIO()
    wb.save(buf)
    back = _load(buf.getvalue())
    for (sheet, cell), value in expected.items():  # out by layout position
        got = back[sheet][cell].value
        got = got.date() if isinstance(got, dt.datetime) else got
        assert got == value, f"{sheet}!{cell}"
    # and by defined name, the way the reader finds them
    cells_out = {fid: named_cells(back, spec, fid) for fid in inputs}
    for slot in (s for sheet in spec.sheets for s in layout.slots(spec, sheet)):
        if not spec.field(slot.field).computed:
            got = cells_out[slot.field][slot.key].value
            got = got.date() if isinstance(got, dt.datetime) else got
            assert got == expected[(slot.sheet, slot.cell)]


def test_sheet_order_cover_active_and_meta_hidden(built):
    spec, wb = built
    assert wb.sheetnames == ["Cover", "Contents", *[s.name for s in spec.sheets], "Checks", "Explanations", META_SHEET]
    assert wb.active.title == "Cover"
    assert [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"] == [META_SHEET]
    meta = {row[0]: row[1] for row in wb[META_SHEET].iter_rows(values_only=True)}
    assert meta == {"return_type": spec.id, "template_version": spec.version, "spec_hash": spec.spec_hash,
                    "generator": "kpd-returns"}
    assert wb.defined_names[META_NAME].attr_text == "'_kpd_returns_meta'!$A$1:$B$4"


def test_cover_explains_in_words_and_contents_links(built):
    spec, wb = built
    cover = [v for row in wb["Cover"].iter_rows(values_only=True) for v in row if v]
    text = " ".join(cover)
    assert cover[0] == spec.title and wb["Cover"]["A1"].value == spec.title
    # The Cover's last step in the return's own terms (issue 20): "send it by the Reporting Date" on the MMIR.
    for words in (spec.guidance_source, spec.version, spec.cover_send, "unlocked", "fill in automatically",
                  "Do not rename", "Input cell", "Calculated cell", "Pale yellow", "Pale blue"):
        assert words in text, words
    links = {c.value: c.hyperlink.location for c in wb["Contents"]["A"] if c.hyperlink}
    assert set(links) == {"Cover", *[s.name for s in spec.sheets], "Checks", "Explanations"}
    assert links["Cover"] == "'Cover'!A1"
    for s in spec.sheets:
        assert links[s.name] == f"'{s.name}'!A1"


def test_data_sheet_layout(built):
    spec, wb = built
    for sheet in spec.sheets:
        ws = wb[sheet.name]
        assert ws["A1"].value == sheet.title and ws["A1"].font.b
        assert sheet.description in ws["A2"].value and spec.guidance_ref(sheet.guidance) in ws["A2"].value
        assert [c.value for c in ws[4]][: layout.last_col(spec, sheet)] == layout.header_labels(spec, sheet)
        labels = [ws.cell(row=5 + i, column=1).value for i in range(len(layout.row_labels(sheet)))]
        assert labels == layout.row_labels(sheet)
        assert not ws.merged_cells.ranges
        first_value = {"form": "B5", "grid": "C5", "list": "B5"}[sheet.kind]
        assert ws.freeze_panes == first_value
        if sheet.kind != "list":
            gcol = 3 if sheet.kind == "form" else 2
            for i, f in enumerate(sheet.expanded_fields):
                assert ws.cell(row=5 + i, column=gcol).value == spec.guidance_ref(f.guidance)
    assert not wb["Cover"].merged_cells.ranges and not wb["Contents"].merged_cells.ranges


def test_protection_inputs_unlocked_everything_else_locked(built):
    spec, wb = built
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
    for sheet in spec.sheets:
        ws = wb[sheet.name]
        slot_cells = set()
        for slot in layout.slots(spec, sheet):
            cell = ws[slot.cell]
            slot_cells.add(slot.cell)
            field = spec.field(slot.field)
            assert cell.protection.locked is bool(field.computed), f"{sheet.name}!{slot.cell}"
            if not field.computed:
                assert cell.fill.fgColor.rgb.endswith("FFF2CC") and cell.border.left.style == "thin"
        last_row, last_col = layout.last_row(sheet) + 1, layout.last_col(spec, sheet) + 1
        for row in ws.iter_rows(min_row=1, max_row=last_row, max_col=last_col):
            for cell in row:
                if cell.coordinate not in slot_cells:
                    assert cell.protection.locked, f"{sheet.name}!{cell.coordinate} should be locked"


EXPECTED_DV = {"count": "whole", "fte": "decimal", "days": "decimal", "decimal": "decimal", "percent": "decimal",
               "date": "date", "choice": "list", "text": "textLength"}


def test_data_validation_for_every_input_field(built):
    spec, wb = built
    for sheet in spec.sheets:
        by_range = {}
        for dv in wb[sheet.name].data_validations.dataValidation:
            assert str(dv.sqref) not in by_range, "one validation per field range"
            by_range[str(dv.sqref)] = dv
        inputs = [f for f in sheet.expanded_fields if not f.computed]
        assert len(by_range) == len(inputs)
        for f in inputs:
            r1, c1, r2, c2 = layout.field_range(spec, sheet, f)
            ref = layout.a1(r1, c1) if (r1, c1) == (r2, c2) else f"{layout.a1(r1, c1)}:{layout.a1(r2, c2)}"
            dv = by_range[ref]
            expected = "whole" if f.numeric and f.max_decimals == 0 else EXPECTED_DV[f.type]
            assert dv.type == expected, f.id
            assert dv.promptTitle == f.label or (len(f.label) > 32 and dv.promptTitle.endswith("…"))
            assert len(dv.promptTitle) <= 32 and 0 < len(dv.prompt) <= 255 and dv.error
            if f.type == "choice":
                assert dv.formula1 == '"' + ",".join(f.choices) + '"'
            elif f.type == "text":
                assert dv.operator == "lessThanOrEqual" and float(dv.formula1) == f.max_length
            elif f.numeric:
                assert float(dv.formula1) == f.lower
                if f.upper is not None:
                    assert dv.operator in (None, "between") and float(dv.formula2) == f.upper  # the default


def test_number_formats(built):
    spec, wb = built
    formats = {"count": "0", "fte": "0.00", "days": "0.00", "decimal": "0.00", "percent": "0.0", "date": "dd/mm/yyyy"}
    for sheet in spec.sheets:
        for slot in layout.slots(spec, sheet):
            f = spec.field(slot.field)
            if f.type in formats and f.decimals is None:
                expected = "mmmm yyyy" if f.id == spec.period.month_field else formats[f.type]  # issue 15 item 7
                assert wb[sheet.name][slot.cell].number_format == expected, slot.ref


def test_defined_name_for_every_field(built):
    spec, wb = built
    names = layout.defined_names(spec)
    assert len(names) == len(spec.fields_by_id)
    for name, ref in names.items():
        assert wb.defined_names[name].attr_text == ref


def test_formulas_in_computed_cells(built):
    spec, wb = built
    for sheet in spec.sheets:
        for slot in layout.slots(spec, sheet):
            if spec.field(slot.field).computed:
                assert wb[sheet.name][slot.cell].value == computed_formula(spec, slot.field, slot.key)


def test_kpd_formulas_literally(specs):
    wb = _load(_bytes(specs["kpd"]))
    ws = wb["Staffing"]
    # A total stays blank until its month has an input (issue 15 item 7): 0.00 would read as no staff.
    assert ws["C9"].value == '=IF(COUNT(C5,C6,C7,C8)=0,"",SUM(C5,C6,C7,C8))'
    assert ws["N14"].value == '=IF(COUNT(N11,N12,N13)=0,"",SUM(N11,N12,N13))'
    assert ws["D16"].value == '=IF(OR(D6="",D6=0),"",D15/D6)'
    assert ws["C9"].protection.locked and ws["C9"].fill.fgColor.rgb.endswith("DDEBF7")


@pytest.mark.parametrize("return_id,period", [("kpd", "2026-27 Q2"), ("mmir", "2026-10")])
def test_deterministic_with_and_without_prefill(specs, return_id, period):
    spec = specs[return_id]
    assert _bytes(spec) == _bytes(spec)
    prefill = {"provider": "Northbridge Employment Ltd", "contract": "CPA 07", "period": period}
    assert _bytes(spec, **prefill) == _bytes(spec, **prefill)
    assert _bytes(spec, **prefill) != _bytes(spec)


def test_deterministic_to_a_path(specs, tmp_path):
    write_template(specs["mmir"], tmp_path / "a.xlsx")
    write_template(specs["mmir"], tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes() == _bytes(specs["mmir"])


def test_prefill_header(specs):
    wb = _load(_bytes(specs["kpd"], provider="=HYPERLINK(\"http://x\")", contract="CPA 07", period="2026-27 q2"))
    ws = wb["Header"]
    assert ws["B6"].value == '=HYPERLINK("http://x")' and ws["B6"].data_type == "s"  # never a formula
    assert (ws["B5"].value, ws["B7"].value, ws["B8"].value) == ("CPA 07", "2026-27", "Q2")
    assert ws["B6"].protection.locked is False
    wb = _load(_bytes(specs["mmir"], provider="Calder Valley Work Partnership", period="2026-10"))
    ws = wb["Header"]
    assert ws["B5"].value == "Calder Valley Work Partnership"
    assert ws["B7"].value == dt.datetime(2026, 10, 1) and ws["B7"].number_format == "mmmm yyyy"


@pytest.mark.parametrize("return_id,period", [
    ("kpd", "2026-28 Q2"), ("kpd", "2026 Q2"), ("kpd", "2026-27 Q5"), ("kpd", "2026-10"),
    ("mmir", "2026-13"), ("mmir", "October 2026"), ("mmir", "2026-27 Q2"),
])
def test_bad_period_is_a_plain_value_error(specs, return_id, period):
    with pytest.raises(ValueError, match=r"^The period '.*' is not .*, for example 2026-10\.$|like 2026-27 Q2\.$"):
        parse_period(specs[return_id], period)


def test_cli_template_with_prefill(tmp_path):
    out = tmp_path / "sub" / "out.xlsx"
    result = CliRunner().invoke(app, ["template", "kpd", str(out), "--provider", "Northbridge Employment Ltd",
                                      "--cpa", "CPA 07", "--period", "2026-27 Q2"])
    assert result.exit_code == 0, result.output
    assert "Wrote the KPD return template" in result.stdout
    ws = openpyxl.load_workbook(out)["Header"]
    assert [ws[f"B{r}"].value for r in range(5, 9)] == ["CPA 07", "Northbridge Employment Ltd", "2026-27", "Q2"]


@pytest.mark.parametrize("args", [["kpd", "--period", "2026-27 Q9"], ["wpx"], ["mmir", "--period", "2026-13"]])
def test_cli_template_errors_exit_2_with_one_line(tmp_path, args):
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(app, ["template", args[0], str(out), *args[1:]])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message and "\n" not in message and "Traceback" not in result.output
    assert not out.exists()


def test_cli_template_unwritable_target_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["template", "mmir", str(tmp_path)])  # a folder, not a file
    assert result.exit_code == 2
    assert result.stderr.startswith("Cannot write") and result.stderr.count("\n") == 1


def test_provider_too_long_is_refused(specs):
    with pytest.raises(ValueError, match=r"^Prime provider must be 1 to 120 characters long: it has 121\.$"):
        write_template(specs["kpd"], io.BytesIO(), provider="x" * 121)


# -- a new spec gives a new template, with no code change --------------------------------
TINY_SPEC = '''
[return]
id = "tiny"
title = "Tiny test return"
short_title = "Tiny return"
version = "2.1"
name_prefix = "TINY"
guidance_source = "Test guidance"
guidance_short = "TG"

[period]
kind = "month"
month_field = "month"

[header]
provider = "who"
contract = "ref"
submitted = "sent"

[column_sets.halves]
keys = ["h1", "h2"]
labels = ["First half", "Second half"]

[[sheets]]
name = "About"
title = "About"
kind = "form"
guidance = "1"
[[sheets.fields]]
id = "who"
label = "Who"
definition = "Who sends it."
type = "text"
guidance = "1"
[[sheets.fields]]
id = "ref"
label = "Reference"
definition = "The reference."
type = "text"
guidance = "1"
[[sheets.fields]]
id = "month"
label = "Month"
definition = "The month."
type = "date"
guidance = "1"
[[sheets.fields]]
id = "sent"
label = "Sent"
definition = "The date sent."
type = "date"
guidance = "1"

[[sheets]]
name = "Numbers by half"
title = "Numbers"
kind = "grid"
columns = "halves"
guidance = "2"
[[sheets.fields]]
id = "apples"
label = "Apples"
definition = "Apples."
type = "count"
max = 10
guidance = "2.1"
[[sheets.fields]]
id = "pears"
label = "Pears"
definition = "Pears."
type = "count"
guidance = "2.2"
[[sheets.fields]]
id = "apples_per_pear"
label = "Apples per pear"
definition = "Apples divided by pears."
type = "decimal"
guidance = "2.3"
computed = { op = "ratio", of = ["apples", "pears"] }
'''


def test_a_new_spec_gives_a_new_template(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SPEC, encoding="utf-8")
    spec = load_spec_file(path)
    wb = _load(_bytes(spec, provider="Me", period="2026-02"))
    assert wb.sheetnames == ["Cover", "Contents", "About", "Numbers by half", "Checks", "Explanations", META_SHEET]
    ws = wb["Numbers by half"]
    assert [c.value for c in ws[4]] == ["Measure", "Guidance", "First half", "Second half"]
    assert ws["B5"].value == "TG 2.1" and ws["D7"].value == '=IF(OR(D6="",D6=0),"",D5/D6)'
    assert wb.defined_names["TINY_apples"].attr_text == "'Numbers by half'!$C$5:$D$5"
    (dv,) = [d for d in ws.data_validations.dataValidation if str(d.sqref) == "C5:D5"]
    assert (dv.type, dv.operator, float(dv.formula1), float(dv.formula2)) == ("whole", None, 0, 10)
    assert wb["About"]["B5"].value == "Me" and wb["About"]["B7"].value == dt.datetime(2026, 2, 1)
    assert {r[0]: r[1] for r in wb[META_SHEET].iter_rows(values_only=True)}["return_type"] == "tiny"


def test_a_reporting_month_shows_as_the_month_and_any_day_counts(specs, tmp_path):
    """Issue 15 item 7: 01/09/2026 reads as a day; the provider means September 2026."""
    from kpd_returns.author import samples
    from kpd_returns.checks.validate import validate_file

    spec = specs["mmir"]
    wb = _load(_bytes(spec, period="2026-09"))
    cell = samples.named_cells(wb, spec, spec.period.month_field)[""]
    assert cell.number_format == "mmmm yyyy"
    filled = samples.sample_workbook(spec, samples.PROVIDERS[0], "AtW-MHSS-C014", "2026-09")
    samples.named_cells(filled, spec, spec.period.month_field)[""].value = dt.datetime(2026, 9, 17)
    path = tmp_path / "mid-month.xlsx"
    path.write_bytes(samples.save_reproducibly(filled))
    report = validate_file(path)
    assert report.findings == [] and report.period == "2026-09"
