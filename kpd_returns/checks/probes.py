"""The building blocks of the Checks sheet (author.checks_sheet): its layout, the *probe* (one field's
cells and the flag formula that is 1 where one fails), the references a flag is written with, and the
spec's context (slots, months, computed cells). The checks of fields (author.checks_sheet_rules) and
each rule kind's formula twin (checks.rules.<kind>) are made of these; the sheet (author.checks_sheet)
lays them out and counts them. They live here, below the author stage, so a rule kind's module can
hold its own formula twin beside its check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..spec import layout
from ..spec.return_spec import FIRST_DATA_ROW, ReturnSpec, SheetSpec

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
_EPS = "0.000000001"  # the validator's tolerance for sums (the rule kinds' _EPSILON)


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
    basis: str = ""  # what an error rests on (spec.basis ``describe``); a query says it has none


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
        if p.kind == "contract_year" and p.year_field:
            return f'TRIM({self.header_cell(p.year_field)})'
        if p.kind == "contract_year":  # read from its first month: '2025-26' for a year from August 2025
            cell = self.header_cell(p.month_field)
            return f'TEXT({cell},"yyyy")&"-"&RIGHT(YEAR({cell})+1,2)'
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


def cell_of(ctx: Context, fid: str, key: str) -> str:
    """The absolute reference of field ``fid``'s cell at ``key``."""
    s = ctx.index[(fid, key)]
    return layout.absolute_ref(s.sheet, s.row, s.col)
