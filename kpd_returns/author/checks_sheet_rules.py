"""Which cells each check flags: the spec's field checks and rule kinds as probes (checks_sheet).

One function per concern, mirroring the validator's modules (checks.cells, checks.fields, and the
rule kinds of checks.period, totals, consistency, lists and segments), and keyed by rule *kind*:
a new spec with the same kinds gets its Checks sheet with no code change. A flag is written with
``*`` and ``+`` rather than AND/OR so it works cell by cell in an array formula.
"""

from __future__ import annotations

import datetime as dt

from ..checks.period import cohort_rows
from ..spec.basis import UNREADABLE, Basis, is_error
from ..spec.findings import CATALOGUE, decide
from ..spec import layout
from ..spec.formulas import aggregate_ready, computed_expression
from .checks_probes import _EPS, Check, Context, Probe, blank, filled, lit, quoted
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
    """The checks of one rule, or None when no formula can express it; each as the rule's basis makes it."""
    made = _rule_checks(ctx, r)
    return None if made is None else [_based(c, r.basis) for c in made]


def _rule_checks(ctx: Context, r: RuleSpec) -> list[Check] | None:
    spec, p, g = ctx.spec, r.params, ctx.spec.guidance_ref(r.guidance)
    words = r.description
    kind = r.kind
    if kind == "months_after_period_empty":
        if not spec.period.spans_contract_year:
            return None
        probes = []
        for name in p["sheets"]:
            sheet = spec.sheet(name)
            for f in sheet.expanded_fields:
                if f.computed is None:
                    probes.append(Probe(sheet, f.id, ctx.keys(sheet), lambda R: f"{filled(R.me)}*{R.after()}"))
                else:  # a total may stay a formula there
                    probes.append(Probe(sheet, f.id, ctx.keys(sheet), lambda R, fid=f.id: (
                        f"{filled(R.me)}*(1-{R.is_formula(fid)})*{R.after()}")))
        fills = {"detail": "{month}", "period": ctx.period_text()}
        return [Check("month-after-period", words, g, probes, fills)]
    if kind == "months_in_period_required":
        return []  # made with the field checks of those sheets (month-missing)
    if kind == "computed_totals":
        typed, mismatch, zero = [], [], []
        tolerance = float(p.get("tolerance", 0.005))
        for name in p["sheets"]:
            sheet = spec.sheet(name)
            for f in sheet.expanded_fields:
                if f.computed is None:
                    continue
                op, of = f.computed.op, f.computed.of

                def value(R, c=f.computed):  # scale and decimals as the template's formula (spec.formulas)
                    return f"({computed_expression(spec, c, R.at)})"

                def ready(R, op=op, of=of, c=f.computed):
                    base = "*".join(R.valid(x) for x in of) or aggregate_ready(spec, c)  # an aggregate of a list
                    return f"{base}*({R.at(of[1])}<>0)" if op == "ratio" else base

                def over(R, sign, value=value, ready=ready, fid=f.id):
                    return (f"{filled(R.me)}*(1-{R.is_formula(fid)})*ISNUMBER({R.me})*{ready(R)}*(1-{R.after()})"
                            f"*(ABS({R.me}-ROUND({value(R)},9)){sign}{tolerance:g})")

                keys = ctx.keys(sheet)
                typed.append(Probe(sheet, f.id, keys, lambda R, over=over: over(R, "<=")))
                mismatch.append(Probe(sheet, f.id, keys, lambda R, over=over: over(R, ">")))
                if op == "ratio" and f.computed.zero_denominator == "finding":
                    zero.append(Probe(sheet, f.id, keys, lambda R, of=of: (
                        f"{R.valid(of[0])}*{R.valid(of[1])}*({R.at(of[1])}=0)*({R.at(of[0])}<>0)")))
        out = [Check("total-mismatch", words, g, mismatch, {"expected": "{recomputed}"}),
               Check("total-typed-over", "A total still holds its formula (a typed number that agrees is a "
                                         "warning: restore the formula).", g, typed)]
        if zero:
            out.append(Check("total-divide-by-zero", "A ratio's denominator is not 0 while its numerator is "
                                                     "more than 0.", g, zero, {"detail": "{month}"}))
        return out
    if kind == "parts_equal_total":
        sheet = spec.sheet(p["sheet"])
        flag = lambda R: (f"{R.valid(p['total'])}*{'*'.join(R.valid(x) for x in p['parts'])}"  # noqa: E731
                          f"*(ABS({'+'.join(R.at(x) for x in p['parts'])}-{R.me})>{_EPS})")
        return [Check("parts-not-equal-total", words, g, [Probe(sheet, p["total"], ctx.keys(sheet), flag)],
                      {"found": "{parts}", "expected": "{value}"})]
    if kind == "column_not_below":
        sheet = spec.sheet(p["sheet"])
        probes = [Probe(sheet, f.id, (p["greater"],), lambda R, f=f: (
            f"{R.valid(f.id, p['greater'])}*{R.valid(f.id, p['lesser'])}*({R.me}<{R.cell(f.id, p['lesser'])}-{_EPS})"))
            for f in sheet.expanded_fields if f.computed is None]
        label = dict(zip(spec.column_sets[sheet.columns].keys, spec.column_sets[sheet.columns].labels))
        return [Check("ytd-below-in-month", words, g, probes,
                      {"detail": lit(label[p["greater"]]), "expected": "{lesser}"})]
    if kind == "rows_match_count":
        count_sheet = spec.fields_by_id[p["count_field"]][0]
        lst = spec.sheet(p["list_sheet"])

        def flag(R):
            rows = R.started(lst)
            if p.get("filter_field"):
                rows += f"*({ctx.whole(p['filter_field'])}={lit(str(p.get('filter_value')))})"
            return f"{R.valid(p['count_field'], p['column'])}*({R.me}<>SUMPRODUCT(1*{rows}))"
        return [Check("detail-rows-mismatch", words, g, [Probe(count_sheet, p["count_field"], (p["column"],), flag)],
                      {"expected": "{value}", "found": "{listed}", "detail": lit(lst.name)})]
    if kind == "list_row_complete":
        optional = set(p.get("optional_fields", []))
        probes = []
        for name in p["sheets"]:
            sheet = spec.sheet(name)
            probes += [Probe(sheet, f.id, ctx.keys(sheet), lambda R: f"{blank(R.me)}*{R.started()}")
                       for f in sheet.expanded_fields if f.id not in optional]
        return [Check("list-row-incomplete", words, g, probes, {"detail": "{rowlabel}"})]
    if kind == "text_required_when_positive":
        sheet = spec.sheet(p["sheet"])
        flag = lambda R: f"{R.valid(p['count'])}*({R.at(p['count'])}>0)*{blank(R.me)}"  # noqa: E731
        return [Check("reasons-missing", words, g, [Probe(sheet, p["text"], ctx.keys(sheet), flag)],
                      {"found": lit("any"), "detail": "{rowlabel}"})]
    if kind == "breakdown_equals_total":
        total_sheet = spec.fields_by_id[p["total"]][0]
        psum = "+".join(ctx_cell(ctx, x, p["column"]) for x in p["parts"])
        flag = lambda R: (f"{R.valid(p['total'], p['total_column'])}*"  # noqa: E731
                          f"{'*'.join(R.valid(x, p['column']) for x in p['parts'])}*(ABS({psum}-{R.me})>{_EPS})")
        detail = "The figures in " + ", ".join(ctx.index[(x, p["column"])].ref for x in p["parts"])
        return [Check("breakdown-mismatch", words, g, [Probe(total_sheet, p["total"], (p["total_column"],), flag)],
                      {"detail": lit(detail), "found": "{breakdown}", "expected": "{value}"})]
    if kind == "field_not_above":
        sheet = spec.sheet(p["sheet"])
        probes = []
        for n in range(1, int(p.get("repeat", 1)) + 1):
            lesser, greater = p["lesser"].replace("{n}", str(n)), p["greater"].replace("{n}", str(n))
            probes.append(Probe(sheet, lesser, ctx.keys(sheet), lambda R, gr=greater: (
                f"{R.valid(R.probe.fid)}*{R.valid(gr)}*({R.me}>{R.at(gr)}+{_EPS})")))
        return [Check("job-entries-above-participants", words, g, probes, {"expected": "{greater}"})]
    if kind == "keyed_rows_complete":
        key_sheet, grid = spec.sheet(p["key_sheet"]), spec.sheet(p["grid_sheet"])
        incomplete, unused = [], []
        for n, row in enumerate(key_sheet.row_keys, start=1):
            block = [f.id for f in grid.expanded_fields if f.id.startswith(f"{p['field_prefix']}{n}_")]
            has = "(" + "+".join(f"SUMPRODUCT(LEN(TRIM({ctx.whole(fid)})))" for fid in block) + ">0)" if block else "0"
            for fid in [p["title_field"], *p.get("required_fields", [])]:
                incomplete.append(Probe(key_sheet, fid, (row.key,), lambda R, has=has: f"{has}*{blank(R.me)}"))
            unused.append(Probe(key_sheet, p["title_field"], (row.key,),
                                lambda R, has=has: f"(1-{has})*{filled(R.me)}"))
        detail = f"{{rowlabel}}&{lit(' has figures on the ' + grid.name + ' sheet')}"
        return [Check("keyed-row-incomplete", words, g, incomplete, {"detail": detail}),
                Check("keyed-row-unused", f"{words} (a title without figures is a query)", "plausibility check", unused,
                      {"detail": "{rowlabel}"})]
    if kind == "in_work_participants_only":
        key_sheet, grid = spec.sheet(p["key_sheet"]), spec.sheet(p["grid_sheet"])
        probes = []
        for n, row in enumerate(key_sheet.row_keys, start=1):
            type_cell = ctx_cell(ctx, p["type_field"], row.key)
            probes.append(Probe(grid, p["field"].replace("{n}", str(n)), ctx.keys(grid), lambda R, t=type_cell: (
                f"({t}={lit(p['in_work_value'])})*{R.valid(R.probe.fid)}*({R.me}<>0)")))
        return [Check("in-work-job-entries", words, g, probes, {"detail": lit("in this row")})]
    if kind == "plausible_range":
        sheet = spec.sheet(p["sheet"])
        f = spec.field(p["field"])
        top = float(p["max"])

        def flag(R):
            if f.computed is None:
                return f"{R.valid(f.id)}*({R.me}>{top:g})"
            refs = [R.at(x) for x in f.computed.of]
            ready = "*".join(R.valid(x) for x in f.computed.of) or "1"
            value = computed_expression(spec, f.computed, R.at)  # with its scale (spec.formulas)
            if f.computed.op != "ratio":
                return f"{ready}*(ROUND({value},9)>{top:g})"
            return f"{ready}*({refs[1]}<>0)*(ROUND({value},9)>{top:g})"
        return [Check("implausible-value", words, g, [Probe(sheet, f.id, ctx.keys(sheet), flag)],
                      {"expected": lit(f"{top:g}"), "found": "{recomputed}"})]
    if kind == "dates_in_order":
        probes = []
        for first, second in p["pairs"]:
            sheet = spec.fields_by_id[first][0]
            probes.append(Probe(sheet, second, ctx.keys(sheet), lambda R, a=first: (
                f"ISNUMBER({R.at(a)})*ISNUMBER({R.me})*({R.me}<{R.at(a)})"
                + (f"*{R.started()}" if R.probe.sheet.kind == "list" else ""))))
        return [Check("dates-out-of-order", words, g, probes,
                      {"on": 'TEXT({value},"d mmmm yyyy")', "detail": lit("the date its clock started"),
                       "before": lit("that date")})]
    if kind == "cohort_not_before_start" and spec.period.monthly:
        return [_cohort_check(ctx, r, words, g)]
    if kind == "social_value_complete" and spec.period.monthly:
        month = ctx.header_cell(spec.period.month_field)
        ends = ",".join(str(int(m)) for m in p["quarter_end_months"])
        due = f"ISNUMBER({month})*ISNUMBER(MATCH(MONTH({month}),{{{ends}}},0))"
        sheet = spec.fields_by_id[p["always"][0]][0]
        probes = [Probe(sheet, fid, ("",), lambda R: f"{due}*{blank(R.me)}") for fid in p["always"]]
        when, then = p.get("when_positive"), p.get("then_required")
        if when and then:
            w = ctx_cell(ctx, when, "")
            probes.append(Probe(sheet, then, ("",), lambda R: f"{due}*{R.valid(when, '')}*({w}>0)*{blank(R.me)}"))
        return [Check("social-value-missing", words, g, probes,
                      {"detail": f'"this return is for "&TEXT({month},"mmmm yyyy")'})]
    return None


def ctx_cell(ctx: Context, fid: str, key: str) -> str:
    s = ctx.index[(fid, key)]
    return layout.absolute_ref(s.sheet, s.row, s.col)


def _cohort_check(ctx: Context, r: RuleSpec, words: str, g: str) -> Check:
    """checks.period.cohort_not_before_start: a count above 0 in a cohort's row while the
    return's month is before the cohort's first referrals."""
    p, sheet = r.params, ctx.spec.sheet(r.params["sheet"])
    month = ctx.header_cell(ctx.spec.period.month_field)
    rows = cohort_rows(sheet.row_keys, p["cohorts"])
    probes = []
    for key, _cohort, first in rows:
        y, m = int(first[:4]), int(first[5:7])
        for fid in p["fields"]:
            probes.append(Probe(sheet, fid, (key,), lambda R, y=y, m=m: (
                f"ISNUMBER({month})*({month}<DATE({y},{m},1))*{R.valid(R.probe.fid)}*({R.me}>0)")))
    labels = {row.key: row.label for row in sheet.row_keys}
    expected = lit("")
    for first in sorted({f for _k, _c, f in rows}, reverse=True):
        same = ",".join(f"{{rowlabel}}={lit(labels[k])}" for k, _c, f in rows if f == first)
        words_first = f"{dt.date.fromisoformat(first + '-01'):%B %Y}"
        expected = f"IF(OR({same}),{lit(words_first)},{expected})"
    return Check("cohort-before-start", words, g, probes,
                 {"detail": "{rowlabel}", "expected": expected, "on": f'TEXT({month},"mmmm yyyy")'})
