"""The Checks sheet: the validator's checks as live spreadsheet formulas, generated from the spec.

Each check the validator makes that a formula can express becomes a list of *probes*: a
range of one field's cells (the cells the validator would name in its finding) and a flag
formula that is 1 where a cell fails. The same probe gives

* the sheet's count and first failing cell (array formulas, so ``IF`` works cell by cell in
  Excel 2013 as in LibreOffice: no dynamic arrays, ``LET`` or ``REGEX``);
* a conditional format on the failing cells themselves (the flag with relative references).

Nothing here names a return type: probes come from the spec's fields and ``[[rules]]`` by
rule *kind*, the wording from the validator's message catalogue. Rules no formula can
express are listed as checked when the return is validated.

A cell is *usable* as the validator's ``FileCheck.value`` sees it: a number, and not in a
month after the period (those cells are set aside by ``months_after_period_empty``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..spec import layout
from ..spec.findings import CATALOGUE
from ..spec.return_spec import FIRST_DATA_ROW, HEADER_ROW, ReturnSpec, SheetSpec

SHEET_NAME = "Checks"
HEADERS = ["Check", "Guidance", "Status", "Cells failing", "First cell"]
# Hidden helper columns F-I: first failing position, its reference, its field label, its value.
POS_COL, REF_COL, LABEL_COL, VALUE_COL = 6, 7, 8, 9
NONE_POS = "1E+12"  # the position of "no failing cell"
# Months of the contract year the chosen period covers (0 while the period is not known).
MONTHS_CELL = f"'{SHEET_NAME}'!$K$2"
# Hidden cells from column M: one ISFORMULA per computed cell (FIELD-NOTES: the single-cell form
# is the one every engine computes), laid out like the field so flags can use them as ranges.
FORMULA_COL = 13
MAX_FORMULA_LENGTH = 8192  # Excel's limit
VALIDATED_ONLY = "Checked when the return is validated"
_EPS = "0.000000001"  # the validator's tolerance for sums (checks.consistency._EPSILON)


def count_name(spec: ReturnSpec) -> str:
    """The defined name of the number of checks that need attention, e.g. KPD_checks_failing."""
    return f"{spec.name_prefix}_checks_failing"


def lit(text: str) -> str:
    """An Excel string literal."""
    return '"' + text.replace('"', '""') + '"'


def quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def ref_text(sheet: str) -> str:
    """A sheet as the validator writes it in a message: quoted only when it has a space."""
    return f"'{sheet}'" if " " in sheet else sheet


@dataclass(frozen=True)
class Probe:
    """The cells of one field at consecutive keys, and the flag that is 1 where one fails."""

    sheet: SheetSpec
    fid: str
    keys: tuple[str, ...]
    flag: Callable[["Refs"], str]


@dataclass
class Check:
    code: str  # the validator's finding code, for the wording and the agreement test
    words: str
    guidance: str
    probes: list[Probe] = field(default_factory=list)
    fills: dict[str, str] = field(default_factory=dict)  # placeholder -> Excel expression


@dataclass
class Plan:
    checks: list[Check]
    validated_only: list[tuple[str, str]]  # (words, guidance)


class Refs:
    """References for one probe's flag: whole ranges (array formulas on the Checks sheet) or
    the top-left cell, relative (a conditional format on the probe's own range)."""

    def __init__(self, ctx: "Context", probe: Probe, relative: bool):
        self.ctx, self.probe, self.relative = ctx, probe, relative
        self.me = self.at(probe.fid)

    def _span(self, fid: str, keys: tuple[str, ...]) -> tuple[layout.Slot, layout.Slot]:
        return self.ctx.index[(fid, keys[0])], self.ctx.index[(fid, keys[-1])]

    def at(self, fid: str) -> str:
        """Field ``fid``'s cells at the probe's keys (same rows or columns as the probe)."""
        first, last = self._span(fid, self.probe.keys)
        if self.relative:
            return first.cell
        return layout.absolute_ref(first.sheet, first.row, first.col, last.row, last.col)

    def is_formula(self, fid: str) -> str:
        """1 where the computed field ``fid`` still holds a formula, at the probe's keys."""
        keys = self.ctx.keys(self.ctx.spec.fields_by_id[fid][0])
        r0, c0, down = self.ctx.formula_cells[fid]
        i, j = keys.index(self.probe.keys[0]), keys.index(self.probe.keys[-1])
        (r1, c1), (r2, c2) = [(r0 + k, c0) if down else (r0, c0 + k) for k in (i, j)]
        if self.relative:
            return f"{quoted(SHEET_NAME)}!{layout.a1(r1, c1)}"
        return layout.absolute_ref(SHEET_NAME, r1, c1, r2, c2)

    def cell(self, fid: str, key: str) -> str:
        s = self.ctx.index[(fid, key)]
        return layout.absolute_ref(s.sheet, s.row, s.col)

    def after(self) -> str:
        """1 in a month after the period, for sheets the months_after_period_empty rule covers."""
        if self.probe.sheet.name not in self.ctx.after_sheets:
            return "0"
        c0 = layout.GRID_FIRST_VALUE_COL
        return f"(COLUMN({self.me})-{c0}>={MONTHS_CELL})*({MONTHS_CELL}>0)"

    def in_period(self) -> str:
        c0 = layout.GRID_FIRST_VALUE_COL
        return f"(COLUMN({self.me})-{c0}<{MONTHS_CELL})"

    def usable(self, ref: str) -> str:
        """A number the field checks look at (they skip months after the period)."""
        return f"ISNUMBER({ref})*(1-{self.after()})"

    def valid(self, fid: str, key: str | None = None) -> str:
        """A figure the rules may use (FileCheck.value): a failed field check makes a cell unusable.

        ``key`` names one cell (possibly on another sheet); without it, the field at the probe's keys."""
        f = self.ctx.spec.field(fid)
        if key is None:
            ref, after = self.at(fid), self.after()
        else:
            s = self.ctx.index[(fid, key)]
            ref = self.cell(fid, key)
            after = "0"
            if s.sheet in self.ctx.after_sheets:
                after = f"({s.col - layout.GRID_FIRST_VALUE_COL}>={MONTHS_CELL})*({MONTHS_CELL}>0)"
        parts = [f"ISNUMBER({ref})", f"(1-{after})"]
        if f.computed is None:
            if f.lower is not None:
                parts.append(f"({ref}>={f.lower:g})")
            if f.upper is not None:
                parts.append(f"({ref}<={f.upper:g})")
            if f.max_decimals is not None:
                parts.append(f"(ROUND({ref},{f.max_decimals})={ref})")
        return "*".join(parts)

    def started(self, sheet: SheetSpec | None = None) -> str:
        """1 on a list row with anything in it (checks.cells.started_rows)."""
        sheet = sheet or self.probe.sheet
        if sheet is self.probe.sheet:
            parts = [f"LEN(TRIM({self.at(f.id)}))" for f in sheet.expanded_fields]
        else:
            parts = [f"LEN(TRIM({self.ctx.whole(f.id)}))" for f in sheet.expanded_fields]
        return f"(({'+'.join(parts)})>0)"


def blank(ref: str) -> str:
    return f"(LEN(TRIM({ref}))=0)"


def filled(ref: str) -> str:
    return f"(LEN(TRIM({ref}))>0)"


class Context:
    def __init__(self, spec: ReturnSpec):
        self.spec = spec
        self.index = layout.slot_index(spec)
        self.after_sheets: set[str] = set()
        if spec.period.spans_contract_year:
            for r in spec.rules:
                if r.kind == "months_after_period_empty":
                    self.after_sheets |= set(r.params["sheets"])
        # computed field -> (row, column, laid downwards) of its ISFORMULA cells on the Checks sheet
        self.formula_cells: dict[str, tuple[int, int, bool]] = {}
        across, down_col = FIRST_DATA_ROW, FORMULA_COL + 30
        for sheet in spec.sheets:
            for f in sheet.expanded_fields:
                if f.computed is None:
                    continue
                if sheet.kind == "list":
                    self.formula_cells[f.id] = (FIRST_DATA_ROW, down_col, True)
                    down_col += 1
                else:
                    self.formula_cells[f.id] = (across, FORMULA_COL, False)
                    across += 1
        self.month_rule_sheets: set[str] = set()
        if spec.period.spans_contract_year:
            self.month_rule_sheets = {n for r in spec.rules if r.kind == "months_in_period_required"
                                      for n in r.params.get("sheets", [])}

    def keys(self, sheet: SheetSpec) -> tuple[str, ...]:
        if sheet.kind == "form":
            return ("",)
        if sheet.kind == "grid":
            return tuple(layout.column_keys(self.spec, sheet))
        return tuple(r.key for r in sheet.row_keys)

    def whole(self, fid: str) -> str:
        sheet = self.spec.fields_by_id[fid][0]
        r1, c1, r2, c2 = layout.field_range(self.spec, sheet, self.spec.field(fid))
        return layout.absolute_ref(sheet.name, r1, c1, r2, c2)

    def header_cell(self, fid: str | None) -> str | None:
        if not fid:
            return None
        s = self.index[(fid, "")]
        return layout.absolute_ref(s.sheet, s.row, s.col)

    def period_text(self) -> str:
        p = self.spec.period
        if p.kind == "contract_quarter":
            y, q = self.header_cell(p.year_field), self.header_cell(p.quarter_field)
            return f'TRIM({y})&" "&UPPER(TRIM({q}))'
        if p.kind == "contract_year":
            return f'TRIM({self.header_cell(p.year_field)})'
        return f'TEXT({self.header_cell(p.month_field)},"yyyy-mm")'

    def months_formula(self) -> str:
        """Months of the contract year up to the end of the chosen quarter; 0 when not known."""
        p = self.spec.period
        if not p.spans_contract_year:
            return "=0"
        y, q = f"TRIM({self.header_cell(p.year_field)})", f"TRIM({self.header_cell(p.quarter_field)})"
        return (f'=IFERROR(IF(AND(LEN({y})=7,MID({y},5,1)="-",ISNUMBER(-LEFT({y},4)),ISNUMBER(-RIGHT({y},2)),'
                f'MOD(VALUE(LEFT({y},4))+1,100)=VALUE(RIGHT({y},2))),'
                f'3*MATCH({q},{{"Q1","Q2","Q3","Q4"}},0),0),0)')


def _check_month_columns(spec: ReturnSpec, ctx: Context) -> None:
    """The after-period flag counts columns from the first month: they must run in contract order."""
    p = spec.period
    for name in ctx.after_sheets | ctx.month_rule_sheets:
        sheet = spec.sheet(name)
        months = spec.column_sets[sheet.columns].months if sheet.kind == "grid" else None
        if not months or not p.in_contract_order(months):
            raise ValueError(f"{name}: month columns must run in contract-year order for the Checks sheet.")


def formula_cells(ctx: Context) -> list[tuple[int, int, str]]:
    """(row, column, formula) of the hidden ISFORMULA cells."""
    out = []
    for fid, (r0, c0, down) in ctx.formula_cells.items():
        for k, key in enumerate(ctx.keys(ctx.spec.fields_by_id[fid][0])):
            s = ctx.index[(fid, key)]
            r, c = (r0 + k, c0) if down else (r0, c0 + k)
            out.append((r, c, f"=1*_xlfn.ISFORMULA({layout.absolute_ref(s.sheet, s.row, s.col)})"))
    return out


def plan(spec: ReturnSpec) -> Plan:
    """The checks of a spec: formula-expressible ones, and the rest (checked when validated)."""
    from .checks_sheet_rules import field_checks, rule_checks  # they build on this module's Probe and Refs

    ctx = Context(spec)
    _check_month_columns(spec, ctx)
    checks = field_checks(ctx)
    validated: list[tuple[str, str]] = []
    for r in spec.rules:
        made = rule_checks(ctx, r)
        if made is None:
            validated.append((r.description, spec.guidance_ref(r.guidance)))
        else:
            checks += made
    checks = [part for c in checks if c.probes for part in _fit(ctx, c)]
    if any(f.pattern for s in spec.sheets for f in s.expanded_fields):
        validated.append(("References, years and other coded text are written in the form the guidance "
                          "gives.", spec.template_guidance))
    validated += [
        ("Dates are real dates and choices come from their list (the input cells refuse others as you type).",
         spec.template_guidance),
        ("No personal data: no names, National Insurance numbers, e-mail addresses or phone numbers.",
         spec.template_guidance),
        ("Figures agree with the same provider's other returns (cross-return checks).", spec.template_guidance),
        ("The return is submitted by its deadline (lateness).", spec.template_guidance),
    ]
    return Plan(checks, validated)


def _longest(ctx: "Context", check: Check) -> int:
    return max(len(count_formula(ctx, check)), len(position_formula(ctx, check)))


def _fit(ctx: "Context", check: Check) -> list[Check]:
    """One check, or one per sheet (then parts of a sheet) when its formulas would pass Excel's limit."""
    if _longest(ctx, check) < MAX_FORMULA_LENGTH:
        return [check]
    by_sheet: dict[str, list[Probe]] = {}
    for pr in check.probes:
        by_sheet.setdefault(pr.sheet.name, []).append(pr)
    out: list[Check] = []
    for name, probes in by_sheet.items():
        words = f"{check.words} ({name} sheet)" if len(by_sheet) > 1 else check.words
        part = Check(check.code, words, check.guidance, [], check.fills)
        parts = [part]
        for pr in probes:
            part.probes.append(pr)
            if len(part.probes) > 1 and _longest(ctx, part) >= MAX_FORMULA_LENGTH:
                part.probes.pop()
                part = Check(check.code, words, check.guidance, [pr], check.fills)
                parts.append(part)
        if len(parts) > 1:
            for n, p in enumerate(parts, start=1):
                p.words = f"{words}, part {n} of {len(parts)}"
        out += parts
    return out


# -- formulas ----------------------------------------------------------------------------------
def flag_of(ctx: Context, probe: Probe, relative: bool) -> str:
    return f"IFERROR(1*({probe.flag(Refs(ctx, probe, relative))}),0)"


def _sheet_numbers(check: Check) -> dict[str, int]:
    out: dict[str, int] = {}
    for pr in check.probes:
        out.setdefault(pr.sheet.name, len(out) + 1)
    return out


def count_formula(ctx: Context, check: Check) -> str:
    return "{=" + "+".join(f"SUM({flag_of(ctx, pr, False)})" for pr in check.probes) + "}"


def position_formula(ctx: Context, check: Check) -> str:
    """Sheet number * 1E8 + row * 1000 + column of the first failing cell, or NONE_POS."""
    numbers = _sheet_numbers(check)
    parts = []
    for pr in check.probes:
        me = Refs(ctx, pr, False).me
        parts.append(f"IF({flag_of(ctx, pr, False)}=1,{numbers[pr.sheet.name]}*1E8+ROW({me})*1000+COLUMN({me}),"
                     f"{NONE_POS})")
    return "{=MIN(" + ",".join(parts) + ")}"


def _choose(pos: str, options: list[str]) -> str:
    if len(options) == 1:
        return options[0]
    return f"CHOOSE(INT({pos}/1E8),{','.join(options)})"


def helper_formulas(ctx: Context, check: Check, row: int) -> dict[int, str]:
    """The hidden columns' formulas: reference, field label and value of the first failing cell."""
    pos = f"$F{row}"
    r, c = f"MOD(INT({pos}/1000),100000)", f"MOD({pos},1000)"
    sheets = [ctx.spec.sheet(name) for name in _sheet_numbers(check)]
    refs = [lit(ref_text(s.name)) for s in sheets]
    labels = []
    values = []
    for s in sheets:
        q, last_r, last_c = quoted(s.name), layout.last_row(s), layout.col_letter(layout.last_col(ctx.spec, s))
        if s.kind == "list":
            labels.append(f"INDEX({q}!$A${HEADER_ROW}:${last_c}${HEADER_ROW},1,{c})")
        else:
            labels.append(f"INDEX({q}!$A$1:$A${last_r},{r})")
        values.append(f"INDEX({q}!$A$1:${last_c}${last_r},{r},{c})")
    none = f"{pos}>={NONE_POS}"
    return {
        REF_COL: f'=IF({none},"",{_choose(pos, refs)}&"!"&ADDRESS({r},{c},4))',
        LABEL_COL: f'=IF({none},"",{_choose(pos, labels)})',
        VALUE_COL: f'=IF({none},"",{_choose(pos, values)})',
    }


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def status_formula(ctx: Context, check: Check, row: int) -> str:
    """'OK', or the validator's catalogue message about the first failing cell."""
    template = CATALOGUE[check.code][2]
    g, h, i, pos = f"$G{row}", f"$H{row}", f"$I{row}", f"$F{row}"
    r, c = f"MOD(INT({pos}/1000),100000)", f"MOD({pos},1000)"
    sheets = [quoted(name) for name in _sheet_numbers(check)]
    # Labels beside the first failing cell (on whichever sheet it is), for the placeholders that name them.
    near = {
        "value": i,
        "month": _choose(pos, [f"INDEX({q}!$A${HEADER_ROW}:$ZZ${HEADER_ROW},1,{c})" for q in sheets]),
        "col": c,
        "rowlabel": _choose(pos, [f"INDEX({q}!$A$1:$A$9999,{r})" for q in sheets]),
        "recomputed": lit("another figure"),
        "parts": lit("a different number"),
        "listed": lit("a different number of rows"),
        "breakdown": lit("a different number"),
        "lesser": lit("the in-month figure"),
        "greater": lit("its"),
    }
    fills = {"ref": g, "field": h, "found": i, "expected": lit("the right figure"), "detail": lit(""),
             "period": lit("the chosen period"), "tolerance": lit("allowed"), "on": i, "before": lit("")}
    for key, expr in check.fills.items():
        fills[key] = expr.format(**near)
    pieces = []
    for n, part in enumerate(_PLACEHOLDER.split(template)):
        if n % 2 == 0:
            if part:
                pieces.append(lit(part))
        else:
            pieces.append(f"({fills.get(part, lit(''))})")
    return f'=IF($D{row}=0,"OK",' + "&".join(pieces) + ")"


def longest_status(check: Check) -> str:
    """A stand-in as long as the status text can be, for the row height."""
    return CATALOGUE[check.code][2] + " " * 60


def cf_formula(ctx: Context, probe: Probe) -> str:
    return "=" + flag_of(ctx, probe, True) + "=1"


def cf_range(ctx: Context, probe: Probe) -> tuple[int, int, int, int]:
    first, last = ctx.index[(probe.fid, probe.keys[0])], ctx.index[(probe.fid, probe.keys[-1])]
    return first.row - 1, first.col - 1, last.row - 1, last.col - 1


def first_check_row() -> int:
    return FIRST_DATA_ROW
