"""Write the blank, protected return template for a spec.

Everything here is driven by the spec and ``layout``: a new spec file gives a new
template with no code change. Cell positions come only from ``layout`` so the
reader finds each figure where this module put it.

Accessibility follows the Government Analysis Function spreadsheet guidance:
a title in A1 of every sheet, no merged cells, and cell types explained in words
on the Cover sheet (input cells also have a border, so colour is never the only cue).
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from collections.abc import Mapping
from typing import IO, Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from . import checks_sheet
from ..checks.explanations import SHEET_NAME as EXPLANATIONS_SHEET
from .explanations_sheet import write_explanations
from .template_cells import (  # noqa: F401 - re-exported: callers use template.NUM_FORMATS and friends
    A4, BORDER_COLOUR, CALC_FILL, DATE_MAX, DATE_MIN, INPUT_FILL, LINE_POINTS, MONTH_FORMAT, NUM_FORMATS,
    PREFILLED_FILL, PROTECT_OPTIONS, TITLE_POINTS, _fit, _fit_row, _Formats, _lines, _print_setup, _validation,
    number_format,
)
from ..spec import layout
from ..spec.constants import FIXED_TIME
from ..spec.small_files import write_small
from ..spec.formulas import computed_formula  # noqa: F401  (also re-exported: tests import it here)
from ..spec.return_spec import (FIRST_DATA_ROW, HEADER_ROW, INSTRUCTION_ROW, META_SHEET, TITLE_ROW, FieldSpec, ReturnSpec,
                                 SheetSpec, SpecError, get_spec)

GENERATOR = "kpd-returns"
META_NAME = "KPDRETURNS_META"
META_KEYS = ("return_type", "template_version", "spec_hash", "generator")
# A fixed creation date: the same arguments must give a byte-identical file.


def parse_period(spec: ReturnSpec, period: str) -> dict[str, Any]:
    """Header field id -> value for a --period; ValueError with a plain sentence if invalid."""
    return spec.period.header_cells(period)


# -- sheets ------------------------------------------------------------------
def _period_sentence(spec: ReturnSpec) -> str:
    return spec.period.cadence


def _write_cover(wb, fm: _Formats, spec: ReturnSpec, lock_prefill: bool = False) -> None:
    ws = wb.add_worksheet("Cover")
    # Column B is wide enough for the title to stay on the page (it spills over from A1).
    widths = (28, max(100, round(len(spec.title) * 1.45) - 28))
    ws.set_column(0, 0, widths[0])
    ws.set_column(1, 1, widths[1])
    ws.write_string(0, 0, spec.title, fm.title)
    ws.set_row(0, TITLE_POINTS)
    rows: list[tuple[str, str, Any]] = [
        ("What this return is", f"The {spec.short_title} template. {_period_sentence(spec)}", None),
        ("Guidance", spec.guidance_source, None),
        ("Template version", f"{spec.version} (specification {spec.spec_hash}, made by {GENERATOR})", None),
        ("", "", None),
        ("How to fill it in", "", fm.bold),
        ("Step 1", "Type your figures into the input cells only. Select a cell to see what it should hold.", None),
        ("Step 2", "Do not rename, move, add or delete sheets, rows or columns: "
                   "each figure is read from its place.", None),
        ("Step 3", "Totals and other calculated cells fill in automatically. Do not type over them.", None),
        ("Step 4", "Never enter names, National Insurance numbers, e-mail addresses or phone numbers "
                   "of customers or staff: use your own anonymised references.", None),
        ("Step 5", spec.cover_send, None),  # in the return's own terms (only MMIR has a Reporting Date)
        ("", "", None),
        ("Cell types", "Each cell type looks different, and is described here in words:", fm.bold),
    ]
    r = 2
    for label, text, fmt in rows:
        if label:
            ws.write_string(r, 0, label, fmt or fm.bold)
        if text:
            ws.write_string(r, 1, text, fm.plain)
        _fit_row(ws, r, [(label, widths[0]), (text, widths[1])])
        r += 1
    key = [
        ("Input cell", fm.input("@"), "Pale yellow with a thin grey border, unlocked: type your figures here. "
                                      "These are the only cells you can change."),
        ("Calculated cell", fm.calc("@"), "Pale blue with italic text, locked: filled in automatically by a formula."),
        ("Label", fm.label, "No fill, locked: titles, headings, labels and guidance references."),
    ]
    if lock_prefill:
        key.insert(1, ("Pre-filled cell", fm.prefilled("@"), "Pale grey with a thin grey border, locked: "
                       "filled in for you (provider, contract and period). Tell the team that sent it if it is wrong."))
    for label, fmt, text in key:
        ws.write_string(r, 0, label, fmt)
        ws.write_string(r, 1, text, fm.plain)
        _fit_row(ws, r, [(label, widths[0]), (text, widths[1])])
        r += 1
    ws.write_string(r + 1, 0, "Contents", fm.bold)
    ws.write_url(r + 1, 1, "internal:'Contents'!A1", fm.link, string="Go to the list of sheets")
    # The live count of checks that need attention (checks_sheet), as a sentence.
    ws.write_string(r + 2, 0, "Checks", fm.bold)
    ws.write_formula(r + 2, 1, "=" + checks_sheet.count_name(spec), fm.checks_count, 0)
    ws.conditional_format(r + 2, 1, r + 2, 1, {"type": "cell", "criteria": ">", "value": 0, "format": fm.failing})
    ws.conditional_format(r + 2, 1, r + 2, 1, {"type": "cell", "criteria": "=", "value": 0, "format": fm.passing})
    ws.write_url(r + 3, 1, f"internal:'{checks_sheet.SHEET_NAME}'!A1", fm.link, string="Go to the Checks sheet")
    _print_setup(ws, last_row=r + 3, last_col=1, header_row=None, landscape=True)
    ws.protect("", PROTECT_OPTIONS)
    ws.activate()


def _write_contents(wb, fm: _Formats, spec: ReturnSpec) -> None:
    ws = wb.add_worksheet("Contents")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 80)
    ws.set_column(2, 2, 20)
    ws.write_string(0, 0, "Contents", fm.title)
    ws.set_row(0, TITLE_POINTS)
    ws.write_string(1, 0, "Select a sheet name to go to that sheet.", fm.intro)
    for c, text in enumerate(["Sheet", "What it holds", "Guidance"]):
        ws.write_string(HEADER_ROW - 1, c, text, fm.header)
    entries = [("Cover", "About this return, how to fill it in and the colour key", "")]
    entries += [(s.name, s.title + (" (complete if it applies)" if s.optional else ""), spec.guidance_ref(s.guidance))
                for s in spec.sheets]
    entries.append((checks_sheet.SHEET_NAME, "Checks that run as you type, and what to fix", ""))
    entries.append((EXPLANATIONS_SHEET, "Your explanations of the queries the validation report lists", ""))
    for i, (name, title, ref) in enumerate(entries):
        r = FIRST_DATA_ROW - 1 + i
        quoted = "'" + name.replace("'", "''") + "'"
        ws.write_url(r, 0, f"internal:{quoted}!A1", fm.link, string=name)
        ws.write_string(r, 1, title, fm.label)
        ws.write_string(r, 2, ref, fm.label)
        _fit_row(ws, r, [(name, 28), (title, 80), (ref, 20)])
    _print_setup(ws, last_row=FIRST_DATA_ROW - 2 + len(entries), last_col=2, header_row=HEADER_ROW - 1,
                 landscape=False)
    ws.protect("", PROTECT_OPTIONS)


def _column_widths(spec: ReturnSpec, sheet: SheetSpec) -> list[float]:
    labels = layout.row_labels(sheet)
    if sheet.kind == "form":
        return [45, 30, 16]
    if sheet.kind == "grid":
        return [50, 12] + [12] * len(layout.column_keys(spec, sheet))
    first = min(60, max(12, len(sheet.row_label) + 2, *(len(x) * 0.8 for x in labels)))
    by_type = {"text": 36, "date": 14, "choice": 24}
    return [first] + [by_type.get(f.type, 14) for f in sheet.expanded_fields]


def _write_data_sheet(wb, fm: _Formats, spec: ReturnSpec, sheet: SheetSpec, prefill: dict[str, Any],
                      lock_prefill: bool = False):
    ws = wb.add_worksheet(sheet.name)
    widths = _column_widths(spec, sheet)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.write_string(TITLE_ROW - 1, 0, sheet.title, fm.title)
    ws.set_row(TITLE_ROW - 1, TITLE_POINTS)
    guidance = f"Guidance: {spec.guidance_ref(sheet.guidance)}."
    ws.write_string(INSTRUCTION_ROW - 1, 0, f"{sheet.description} {guidance}".strip(), fm.intro)
    headers = layout.header_labels(spec, sheet)
    for c, text in enumerate(headers):
        ws.write_string(HEADER_ROW - 1, c, text, fm.header)
    _fit_row(ws, HEADER_ROW - 1, list(zip(headers, widths)), minimum=2)
    for i, text in enumerate(layout.row_labels(sheet)):
        ws.write_string(FIRST_DATA_ROW - 1 + i, 0, text, fm.label)
        _fit_row(ws, FIRST_DATA_ROW - 1 + i, [(text, widths[0])])
    if sheet.kind in ("form", "grid"):
        gcol = 2 if sheet.kind == "form" else 1
        for i, f in enumerate(sheet.expanded_fields):
            ws.write_string(FIRST_DATA_ROW - 1 + i, gcol, spec.guidance_ref(f.guidance), fm.label)

    index = {(s.field, s.key): s for s in layout.slots(spec, sheet)}  # computed parts are on this sheet
    for slot in index.values():
        f = spec.field(slot.field)
        r, c, nf = slot.row - 1, slot.col - 1, number_format(f)
        if f.id == spec.period.month_field:
            nf = MONTH_FORMAT  # any date in the month will do: show the month, not the day
        if f.computed:
            ws.write_formula(r, c, computed_formula(spec, f.id, slot.key, index), fm.calc(nf), "")
            continue
        value = prefill.get(f.id) if slot.key == "" else None
        cell_format = fm.prefilled(nf) if lock_prefill and value is not None else fm.input(nf)
        if value is None:  # a list cell filled in for the provider (an Action Plan's areas): left editable
            value = prefill.get((f.id, slot.key))
        if value is None:
            ws.write_blank(r, c, None, cell_format)
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), cell_format)
        else:
            ws.write_string(r, c, str(value), cell_format)  # never a formula or URL

    for f in sheet.expanded_fields:
        if not f.computed:
            r1, c1, r2, c2 = layout.field_range(spec, sheet, f)
            ws.data_validation(r1 - 1, c1 - 1, r2 - 1, c2 - 1, _validation(f))

    first_value_col = {"form": layout.FORM_VALUE_COL, "grid": layout.GRID_FIRST_VALUE_COL,
                       "list": layout.LIST_FIRST_FIELD_COL}[sheet.kind]
    ws.freeze_panes(FIRST_DATA_ROW - 1, first_value_col - 1)
    _print_setup(ws, last_row=layout.last_row(sheet) - 1, last_col=len(widths) - 1, header_row=HEADER_ROW - 1,
                 landscape=sum(widths) > 160)  # portrait fits more list rows on a page
    ws.protect("", PROTECT_OPTIONS)
    return ws


def _write_checks(wb, fm: _Formats, spec: ReturnSpec, sheets: dict[str, Any]) -> None:
    """The Checks sheet (see checks_sheet), the count's defined name and the red input cells."""
    plan = checks_sheet.plan(spec)
    ctx = checks_sheet.Context(spec)
    ws = wb.add_worksheet(checks_sheet.SHEET_NAME)
    widths = [70, 18, 80, 10, 22]
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.set_column(checks_sheet.POS_COL - 1, checks_sheet.FORMULA_COL + 80, 12, None, {"hidden": True})
    ws.write_string(TITLE_ROW - 1, 0, "Checks", fm.title)
    ws.write_string(INSTRUCTION_ROW - 1, 0, "These checks run as you type. Each row says OK, or what to fix and "
                    "where: select the first cell to go there. Cells that fail a check are shown in red.", fm.intro)
    ws.write_string(0, 10, "Months in period")
    ws.write_formula(1, 10, ctx.months_formula(), None, 0)
    for r, c, formula in checks_sheet.formula_cells(ctx):
        ws.write_formula(r - 1, c - 1, formula, None, 1)
    ws.set_row(HEADER_ROW - 1, 30)
    for c, text in enumerate(checks_sheet.HEADERS):
        ws.write_string(HEADER_ROW - 1, c, text, fm.header)
    first = FIRST_DATA_ROW
    for i, check in enumerate(plan.checks):
        r = first + i  # 1-based row
        ws.write_string(r - 1, 0, check.words, fm.label)
        ws.write_string(r - 1, 1, check.guidance, fm.label)
        # Room for the status when it fails: the catalogue message with a cell, a label and a value.
        _fit_row(ws, r - 1, [(check.words, widths[0]), (checks_sheet.longest_status(check), widths[2])])
        ws.write_formula(r - 1, 2, checks_sheet.status_formula(ctx, check, r), fm.plain, "OK")
        ws.write_array_formula(r - 1, 3, r - 1, 3, checks_sheet.count_formula(ctx, check), fm.status_count, 0)
        ws.write_formula(r - 1, 4, f'=IF($D{r}=0,"",HYPERLINK("#"&$G{r},$G{r}))', fm.link, "")
        ws.write_array_formula(r - 1, checks_sheet.POS_COL - 1, r - 1, checks_sheet.POS_COL - 1,
                               checks_sheet.position_formula(ctx, check), None, 1e12)
        for col, formula in checks_sheet.helper_formulas(ctx, check, r).items():
            ws.write_formula(r - 1, col - 1, formula, None, "")
        for probe in check.probes:
            r1, c1, r2, c2 = checks_sheet.cf_range(ctx, probe)
            sheets[probe.sheet.name].conditional_format(r1, c1, r2, c2, {
                "type": "formula", "criteria": checks_sheet.cf_formula(ctx, probe), "format": fm.failing})
    last = first + len(plan.checks) - 1
    ws.conditional_format(first - 1, 3, last - 1, 3, {"type": "cell", "criteria": ">", "value": 0,
                                                      "format": fm.failing})
    r = last + 2
    ws.write_string(r - 1, 0, "Checked when the return is validated", fm.bold)
    for words, guidance in plan.validated_only:
        r += 1
        ws.write_string(r - 1, 0, words, fm.label)
        ws.write_string(r - 1, 1, guidance, fm.label)
        ws.write_string(r - 1, 2, checks_sheet.VALIDATED_ONLY, fm.plain)
        _fit_row(ws, r - 1, [(words, widths[0])])
    ws.freeze_panes(FIRST_DATA_ROW - 1, 0)
    _print_setup(ws, last_row=r - 1, last_col=len(widths) - 1, header_row=HEADER_ROW - 1, landscape=True)
    ws.protect("", PROTECT_OPTIONS)
    ref = layout.absolute_ref(checks_sheet.SHEET_NAME, first, 4, last, 4)
    wb.define_name(checks_sheet.count_name(spec), f'=COUNTIF({ref},">0")')


def _write_meta(wb, spec: ReturnSpec) -> None:
    ws = wb.add_worksheet(META_SHEET)
    values = {"return_type": spec.id, "template_version": spec.version, "spec_hash": spec.spec_hash,
              "generator": GENERATOR}
    for r, key in enumerate(META_KEYS):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, values[key])
    ws.set_column(0, 1, 20)
    ws.protect("", PROTECT_OPTIONS)
    ws.hide()  # works because Cover is the active sheet
    wb.define_name(META_NAME, "=" + layout.absolute_ref(META_SHEET, 1, 1, len(META_KEYS), 2))


# -- public API --------------------------------------------------------------
def header_prefill(spec: ReturnSpec, *, provider: str | None = None, contract: str | None = None,
                   period: str | None = None) -> dict[str, Any]:
    """Field id -> value for the header cells to pre-fill; ValueError if a value cannot be used."""
    values: dict[str, Any] = {}
    for fid, value in ((spec.header.provider, provider), (spec.header.contract, contract)):
        if value is None:
            continue
        value = value.strip()
        limit = spec.field(fid).max_length
        if not value or len(value) > limit:
            raise ValueError(f"{spec.field(fid).label} must be 1 to {limit} characters long: it has {len(value)}.")
        values[fid] = value
    if period is not None:
        values.update(parse_period(spec, period))
    return values


def write_template(spec: ReturnSpec, path_or_buffer: str | Path | IO[bytes], *, provider: str | None = None,
                   contract: str | None = None, period: str | None = None, lock_prefill: bool = False,
                   cells: Mapping[tuple[str, str], str] | None = None) -> None:
    """Write the blank template for ``spec``; the same arguments give a byte-identical file.

    ``lock_prefill``: the pre-filled header cells are locked (templates sent out per contract).
    ``cells``: (field id, row key) -> text written into list cells the provider may still change."""
    prefill: dict[Any, Any] = {**(cells or {}), **header_prefill(spec, provider=provider, contract=contract,
                                                                 period=period)}
    if isinstance(path_or_buffer, (str, Path)):
        # Built in memory, then written whole (a temporary file renamed): a full disk is one OSError
        # naming the file, never a half-written template or xlsxwriter's unclosed archive (issue 19 item 15).
        buffer = io.BytesIO()
        write_template(spec, buffer, provider=provider, contract=contract, period=period, lock_prefill=lock_prefill,
                       cells=cells)
        write_small(path_or_buffer, buffer.getvalue(), into_devices=True)
        return
    wb = xlsxwriter.Workbook(path_or_buffer, {"strings_to_formulas": False, "strings_to_urls": False,
                                              "strings_to_numbers": False})
    wb.set_properties({"title": f"{spec.short_title} template version {spec.version}", "subject": spec.title,
                       "author": GENERATOR, "company": "", "comments": f"spec {spec.spec_hash}",
                       "created": FIXED_TIME})
    fm = _Formats(wb)
    _write_cover(wb, fm, spec, lock_prefill)
    _write_contents(wb, fm, spec)
    sheets = {sheet.name: _write_data_sheet(wb, fm, spec, sheet, prefill, lock_prefill) for sheet in spec.sheets}
    _write_checks(wb, fm, spec, sheets)
    write_explanations(wb, fm, spec, PROTECT_OPTIONS)
    _write_meta(wb, spec)
    for name, ref in layout.defined_names(spec).items():
        wb.define_name(name, "=" + ref)
    wb.close()


def cli_template(return_type: str, out: Path, provider: str | None = None, contract: str | None = None,
                 period: str | None = None) -> int:
    """The `kpd-returns template` command: 0 on success, 2 with a one-line message otherwise."""
    out = Path(out)
    try:
        spec = get_spec(return_type.strip().lower())
        header_prefill(spec, provider=provider, contract=contract, period=period)  # check before touching disk
        out.parent.mkdir(parents=True, exist_ok=True)
        write_template(spec, out, provider=provider, contract=contract, period=period)
    except (SpecError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (OSError, FileCreateError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"Cannot write {out}: {reason}.", file=sys.stderr)
        return 2
    print(f"Wrote the {spec.short_title} template (version {spec.version}) to {out}.")
    return 0
