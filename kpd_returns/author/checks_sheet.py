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

The probes, their references and the spec's context are in ``checks.probes`` (re-exported by
``checks_probes``); the checks of fields in ``checks_sheet_rules``, each rule kind's in its own module
(checks/rules/<kind>.py); this module plans the sheet and writes its formulas.

A cell is *usable* as the validator's ``FileCheck.value`` sees it: a number, and not in a
month after the period (those cells are set aside by ``months_after_period_empty``).
"""

from __future__ import annotations

import re

from ..spec import layout
from ..spec.findings import CATALOGUE, fix_totals_command
from ..spec.return_spec import FIRST_DATA_ROW, HEADER_ROW, ReturnSpec
from .checks_probes import (FORMULA_COL, HEADERS, LABEL_COL, MAX_FORMULA_LENGTH, NONE_POS, POS_COL,  # noqa: F401
                            REF_COL, SHEET_NAME, VALIDATED_ONLY, VALUE_COL, Check, Context, Plan, Probe, Refs,
                            count_name, lit, quoted, ref_text)
from .checks_sheet_rules import field_checks, rule_checks

# SHEET_NAME, HEADERS, POS_COL, FORMULA_COL, VALIDATED_ONLY and count_name are re-exported: the template
# writer and the tests read the sheet's layout here.


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
    ctx = Context(spec)
    _check_month_columns(spec, ctx)
    checks = field_checks(ctx)
    validated: list[tuple[str, str]] = []
    for r in spec.rules:
        made = rule_checks(ctx, r)
        if made is None:
            # An error gives its basis (the guidance column its paragraph or kind), a query says it is one.
            if r.query:
                validated.append((r.description, "plausibility check"))
            else:
                validated.append((f"{r.description} Basis: {r.basis.said()}", r.basis.label()))
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
        part = Check(check.code, words, check.guidance, [], check.fills, check.basis)
        parts = [part]
        for pr in probes:
            part.probes.append(pr)
            if len(part.probes) > 1 and _longest(ctx, part) >= MAX_FORMULA_LENGTH:
                part.probes.pop()
                part = Check(check.code, words, check.guidance, [pr], check.fills, check.basis)
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
             "period": lit("the chosen period"), "tolerance": lit("allowed"), "on": i, "before": lit(""),
             # The command as the validator gives it, with RETURN.xlsx standing for this file (issue 19 item 19:
             # the sheet read "or run  to write a copy").
             "fix_totals": lit(fix_totals_command())}
    for key, expr in check.fills.items():
        fills[key] = expr.format(**near)
    pieces = []
    for n, part in enumerate(_PLACEHOLDER.split(template)):
        if n % 2 == 0:
            if part:
                pieces.append(lit(part))
        else:
            if part not in fills:  # a placeholder with no fill would leave a gap in the sentence
                raise KeyError(f"The Checks sheet has no words for {{{part}}} in the {check.code} message")
            pieces.append(f"({fills[part]})")
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
