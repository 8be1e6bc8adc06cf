"""Which cells each check flags: the spec's field checks and rule kinds as probes (checks_sheet).

The field checks mirror the validator's modules (checks.cells, checks.fields); each rule kind writes
its own formula twin in its module (checks/rules/<kind>.py ``sheet_checks``), so a new spec with the
same kinds gets its Checks sheet with no code change. A flag is written with ``*`` and ``+`` rather
than AND/OR so it works cell by cell in an array formula.
"""

from __future__ import annotations

from ..checks import load_rule_modules
from ..checks.registry import RULES
from ..spec.basis import UNREADABLE, Basis, is_error
from ..spec.findings import CATALOGUE, decide
from .checks_probes import Check, Context, Probe, blank, filled, lit, quoted
from ..spec.return_spec import HEADER_ROW, RuleSpec, SheetSpec


# -- field checks (checks.cells, checks.fields) -----------------------------------------
def field_checks(ctx: Context) -> list[Check]:
    spec = ctx.spec
    out: list[Check] = []
    for sheet in spec.sheets:
        keys = ctx.keys(sheet)
        fields = sheet.expanded_fields
        numbers = [f for f in fields if f.numeric]
        guidance = spec.guidance_ref(sheet.guidance)
        on = f"on the {sheet.name} sheet"

        def probes(fs, flag, keys=keys, sheet=sheet):
            return [Probe(sheet, f.id, keys, flag) for f in fs]

        # Required cells (checks.cells.check_required); grids under the month rule ask per month.
        # Each limit is an error where it has a basis and a query where it has none (spec.basis).
        required = [f for f in fields if f.required and f.computed is None]
        if required and not sheet.optional and sheet.name not in ctx.month_rule_sheets:
            if sheet.kind == "list" and not sheet.rows:
                flag = lambda R: f"{blank(R.me)}*{R.started()}"  # noqa: E731
            else:
                flag = lambda R: blank(R.me)  # noqa: E731
            for basis, fs in _by_basis(required, lambda f, sheet=sheet: spec.required_basis(sheet, f)):
                out.append(_based(Check("required-missing", f"Required fields {on} are filled in.", guidance,
                                        probes(fs, flag)), basis))
        if sheet.name in ctx.month_rule_sheets and required:
            month_rule = next(r for r in spec.rules if r.kind == "months_in_period_required"
                              and sheet.name in r.params.get("sheets", []))
            out.append(_based(Check("month-missing", f"Required fields {on} are filled in for each month of the period.",
                             guidance, probes(required, lambda R: f"{blank(R.me)}*{R.in_period()}"),
                             {"detail": _month_label(sheet), "period": ctx.period_text()}), month_rule.basis))
        inputs = [f for f in numbers if f.computed is None]
        if numbers:
            out.append(_based(Check("not-a-number", f"Number cells {on} hold numbers, not text.", guidance,
                                    probes(numbers, lambda R: f"{filled(R.me)}*NOT(ISNUMBER({R.me}))")), UNREADABLE))
        for lo in sorted({f.lower for f in inputs if f.lower is not None}):
            words = "Numbers are not negative" if lo == 0 else f"Numbers are {lo:g} or more"
            for basis, fs in _by_basis([f for f in inputs if f.lower == lo], lambda f: f.limit_basis("min")):
                out.append(_based(Check("below-minimum", f"{words} {on}.", guidance,
                                        probes(fs, lambda R, lo=lo: f"{R.usable(R.me)}*({R.me}<{lo:g})"),
                                        {"expected": lit(f"{lo:g}")}), basis))
        for hi in sorted({f.upper for f in inputs if f.upper is not None}):
            for basis, fs in _by_basis([f for f in inputs if f.upper == hi], lambda f: f.limit_basis("max")):
                out.append(_based(Check("above-maximum", f"Numbers are {hi:g} or less {on}.", guidance,
                                        probes(fs, lambda R, hi=hi: f"{R.usable(R.me)}*({R.me}>{hi:g})"),
                                        {"expected": lit(f"{hi:g}")}), basis))
        whole = [f for f in inputs if f.max_decimals == 0]
        for basis, fs in _by_basis(whole, lambda f: f.limit_basis("decimals")):
            out.append(_based(Check("not-whole-number", f"Counts {on} are whole numbers.", guidance,
                                    probes(fs, lambda R: f"{R.usable(R.me)}*(ROUND({R.me},0)<>{R.me})")), basis))
        for n in sorted({f.max_decimals for f in inputs if f.max_decimals}):
            for basis, fs in _by_basis([f for f in inputs if f.max_decimals == n], lambda f: f.limit_basis("decimals")):
                out.append(_based(Check("too-many-decimals", f"Figures {on} have at most {n} decimal places.",
                                        guidance, probes(fs, lambda R, n=n: f"{R.usable(R.me)}*(ROUND({R.me},{n})<>{R.me})"),
                                        {"expected": lit(str(n))}), basis))
        for n in sorted({f.query_decimals for f in inputs if f.query_decimals is not None}):
            fs = [f for f in inputs if f.query_decimals == n]
            out.append(Check("many-decimals", f"Query: figures {on} have at most {n} decimal places.",
                             "plausibility check",
                             probes(fs, lambda R, n=n: f"{R.usable(R.me)}*(ROUND({R.me},{n})<>{R.me})"),
                             {"expected": lit(str(n))}))
        texts = [f for f in fields if f.type == "text"]
        for basis, fs in _by_basis(texts, lambda f: f.limit_basis("max_length")):
            limits = sorted({f.max_length for f in fs})
            expected = lit(str(limits[0])) if len(limits) == 1 else lit("the allowed number of")
            out.append(_based(Check("text-too-long", f"Text {on} is no longer than its field allows.", guidance,
                                    [Probe(sheet, f.id, keys, lambda R, n=f.max_length: f"(LEN({R.me})>{n})")
                                     for f in fs], {"expected": expected, "found": "LEN({value})"}), basis))
    return out


def _by_basis(fields: list, basis_of) -> list[tuple[Basis | None, list]]:
    """Fields grouped by the basis of one limit, in field order (a limit's error and query apart)."""
    groups: dict[Basis | None, list] = {}
    for f in fields:
        groups.setdefault(basis_of(f), []).append(f)
    return list(groups.items())


def _based(check: Check, basis: Basis | None) -> Check:
    """The check as its basis makes it (the validator's FileCheck.add decides the same way): an error
    cited to its basis, or, without one, the query twin of its code."""
    if CATALOGUE[check.code][0] != "error":
        return check
    code, _cited = decide(check.code, basis, check.guidance)  # spec.findings: the one decision
    if code == check.code and is_error(basis):
        check.guidance, check.basis = basis.label(), basis.describe()
        check.words = f"{check.words} Basis: {basis.said()}"
        return check
    check.code, check.guidance = code, "plausibility check"
    check.basis = basis.describe() if basis is not None else "none: a query"
    if not check.words.startswith("Query"):
        check.words = "Query: " + check.words[:1].lower() + check.words[1:]
    return check


def _month_label(sheet: SheetSpec) -> str:
    return (f"INDEX({quoted(sheet.name)}!$A${HEADER_ROW}:$ZZ${HEADER_ROW},1,{{col}})")


# -- rule kinds -----------------------------------------------------------------------------
def rule_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    """The checks of one rule, written by its kind's module (checks/rules/<kind>.py ``sheet_checks``), or
    None when no formula can express it (checked when validated); each as the rule's basis makes it."""
    load_rule_modules()
    writer = RULES[r.kind].sheet_checks
    made = None if writer is None else writer(ctx, r)
    return None if made is None else [_based(c, r.basis) for c in made]
