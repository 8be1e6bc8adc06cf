"""The rule catalogue: every check of every return, generated from the specs and the message
catalogue so it cannot drift from the checks (``kpd-returns rules``).

Each entry: the return, the finding code, its kind (``error``; ``query``, the project's own
plausibility check; or ``warning``, the two warnings the guidance or template says), what it
checks in words, the guidance paragraph, the fields (or sheets) it reads, and its basis
(spec.basis): the quote of the guidance with its paragraph, the arithmetic, the template or the
project's own protection an error rests on; a query says it has none. Field checks
come from the fields' types and limits (as the template's Checks sheet builds them), rule
checks from the spec's ``[[rules]]`` by kind, and the checks every return gets (file, layout,
personal data, lateness, cross-return) from the lists below.
"""

from __future__ import annotations

import csv
import html
import io
import sys
from dataclasses import asdict, dataclass, replace

from ..checks.cross_checks import MONTHS_SUM_CODE, codes_for
from ..read.terminal import csv_text, json_dumps
from ..checks.lists import ROWS_BELOW
from ..checks import load_rule_modules
from ..checks.registry import FIELD_OR_COLUMN_PARAMS, FIELD_PARAMS, RULE_CODES, RULES, check_spec_rules
from ..checks.ytd_lists import list_totals
from ..spec.conditions import names_in
from ..spec.constants import FIGURE_CEILING, years_text
from ..spec.deadlines import deadline_guidance
from ..spec.basis import CEILING, HEADER, PLAUSIBLE_DATE, UNREADABLE, Basis, is_error
from ..spec.findings import CATALOGUE, QUERY_CODES, decide, query_code
from ..spec.extract_spec import load_extracts
from ..spec.return_spec import ReturnSpec, SpecError, display_name, get_spec, load_all
from .checks_probes import Context
from .checks_sheet_rules import field_checks
from .extract_catalogue import extract_entries

SCHEMA = "kpd-returns-rules/1.1"  # 1.1: each entry has its basis (issue 20)

# The finding codes each rule kind can give: checks.registry.RULE_CODES (re-exported here).

# Checks every return gets, cited to the template's paragraph unless named: (code, words).
_FILE_CHECKS = [
    ("file-not-found", "The file exists."),
    ("file-empty", "The file is not empty."),
    ("file-not-workbook", "The file is an Excel workbook."),
    ("file-csv", "The file is not a CSV text file renamed as a workbook."),
    ("file-corrupt", "The workbook is not damaged."),
    ("file-encrypted", "The workbook has no password."),
    ("file-legacy-xls", "The workbook is not an old Excel 97-2003 (.xls) file."),
    ("file-macros", "The workbook contains no macros."),
    ("file-too-large", "The file is no larger than a return can be."),
    ("file-hostile-xml", "The workbook's XML has no document type declarations or entities."),
    ("file-unreadable", "The file can be read by kpd-returns."),
    ("file-check-failed", "The file could be checked to the end."),
    ("email-too-large", "A forwarded e-mail is no larger than a return can be."),
    ("email-unreadable", "A forwarded e-mail can be read."),
    ("no-workbook-attached", "A forwarded e-mail has a workbook attached."),
    ("check-not-run", "Says which checks could not run because the period they need is missing or not valid."),
    ("sheet-not-checked", "Says which sheet and rules could not be checked because the sheet's layout is changed."),
    ("explanation-unmatched", "Query: each row of the Explanations sheet names a query on this return by its code "
     "and cell, and gives an explanation."),
    ("explanation-of-error", "No row of the Explanations sheet explains an error: an error must be corrected."),
    ("not-a-return", "The workbook is a kpd-returns template."),
    ("template-superseded", "The template is the current version."),
    ("template-unknown-version", "The template's version is one kpd-returns knows."),
    ("sheet-duplicate", "No two sheets share a name, whatever their case (Excel refuses such a workbook)."),
    ("sheet-missing", "No sheet is missing or renamed."),
    ("defined-name-missing", "No named range is deleted."),
    ("defined-name-moved", "No rows or columns are moved, added or deleted."),
    ("label-changed", "No label of the layout is changed."),
]


# The basis of the checks every return gets: a file or layout kpd-returns cannot read.
FILE_BASIS = Basis(template="the file cannot be read as a return: it is not a workbook made from the template")
LAYOUT_BASIS = Basis(template="kpd-returns reads each figure where the template put it: a changed layout "
                              "moves the cells")
NO_BASIS = "none: a query"


def _file_basis(code: str) -> str:
    if CATALOGUE[code][0] != "error":
        return ""
    return (FILE_BASIS if CATALOGUE[code][1] == "file" else LAYOUT_BASIS).describe()


_CROSS_WORDS = {
    "ytd-discontinuity": "Query: each year-to-date figure equals the previous month's return's year to date plus "
                         "this month's figure (cross-return).",
    "kpd-restatement": "Query: a month's figure is the same as an earlier quarter's return reported for it "
                       "(cross-return).",
}


@dataclass(frozen=True)
class Entry:
    return_id: str
    code: str
    kind: str
    checks: str
    guidance: str
    fields: tuple[str, ...] = ()
    basis: str = ""  # what an error rests on (spec.basis ``describe``); a query: "none: a query"

    def row(self) -> dict:
        d = asdict(self)
        d["fields"] = list(self.fields)
        return d


def kind_of(code: str) -> str:
    if code in QUERY_CODES:
        return "query"
    return CATALOGUE[code][0]


def entries(spec: ReturnSpec) -> list[Entry]:
    """Every check of one return, in a stable order: fields, rules, then the return-wide checks. A rule
    the registry refuses (an unknown kind or parameter) is a SpecError, as when validating."""
    load_rule_modules()
    check_spec_rules(spec)
    out = _field_entries(spec) + _rule_entries(spec)
    g = spec.template_guidance
    out += [Entry(spec.id, code, kind_of(code), words, g, basis=_file_basis(code)) for code, words in _FILE_CHECKS]
    lists = tuple(f"{s.name} sheet" for s in spec.sheets if s.kind == "list" and s.max_rows)
    if lists:
        out.append(Entry(spec.id, "rows-below-list", "error", "Nothing is typed below the last row of a list "
                         "(a longer list needs a new template).", g, lists, ROWS_BELOW.describe()))
    text_fields = tuple(f.id for s in spec.sheets for f in s.expanded_fields if f.type == "text")
    pd = spec.personal_data_basis
    out.append(Entry(spec.id, "personal-data", "error", "Text cells hold no personal data: no National Insurance "
                     "numbers, e-mail addresses, phone numbers, postcodes or dates of birth.",
                     pd.cite() if pd.kind == "quote" else g, text_fields, pd.describe()))
    out.append(Entry(spec.id, "submitted-late", kind_of("submitted-late"),
                     "The return is submitted by its deadline (validators/deadlines.toml).",
                     deadline_guidance(spec.id) or g, (spec.header.submitted,)))
    # The checks across returns a spec declares by column-set role (checks.cross_checks).
    out += [Entry(spec.id, code, "query", _CROSS_WORDS[code], "plausibility check", basis=NO_BASIS)
            for code in codes_for(spec) if code in _CROSS_WORDS]
    # A figure against another return type's months ([[compare_months]], checks.cross_returns).
    out += [Entry(spec.id, MONTHS_SUM_CODE, "query", c.description, "plausibility check", (c.field,),
                  basis=NO_BASIS) for c in spec.compare_months]
    if spec.period.monthly:  # the detail lists' year-to-date totals (AtW 7.25, checks.ytd_lists)
        for r in list_totals(spec):
            p = r.params
            out.append(Entry(spec.id, "ytd-list-mismatch", "query", "Query: the year-to-date total equals the "
                             f"rows listed on the {p['list_sheet']} sheet in the contract year's returns "
                             "(cross-return, where the ledger holds every month).", "plausibility check",
                             tuple(x for x in (p["count_field"], p["key_field"], p.get("filter_field")) if x)))
    # A query rests on no basis, whatever the rule that gives it (keyed-row-unused beside an error).
    return [e if e.kind != "query" or e.basis.startswith("none") else replace(e, basis=NO_BASIS) for e in out]


def _field_entries(spec: ReturnSpec) -> list[Entry]:
    # A repeated block's fields are named once, as the spec names them (seg{n}_participants).
    named = {f.id.replace("{n}", str(n)): f.id for s in spec.sheets for f in s.fields if "{n}" in f.id
             for n in range(1, (s.repeat or 1) + 1)}
    out = []
    for c in field_checks(Context(spec)):
        fields = tuple(dict.fromkeys(named.get(p.fid, p.fid) for p in c.probes))
        basis = c.basis or (NO_BASIS if c.code in QUERY_CODES else "")
        # The catalogue cites the sheet's paragraph and gives the basis in its own column.
        words = c.words.partition(" Basis: ")[0]
        guidance = "plausibility check" if c.code in QUERY_CODES else spec.guidance_ref(c.probes[0].sheet.guidance)
        out.append(Entry(spec.id, c.code, kind_of(c.code), words, guidance, fields, basis))
    for sheet in spec.sheets:
        on = f"on the {sheet.name} sheet"
        g = spec.guidance_ref(sheet.guidance)
        fields = sheet.expanded_fields
        for code, words, pick, limit in (
                ("not-a-date", f"Date cells {on} hold dates.", lambda f: f.type == "date", None),
                ("date-out-of-range", f"Dates {on} fall in the years a return can mean ({years_text()}).",
                 lambda f: f.type == "date", PLAUSIBLE_DATE),
                ("above-maximum", f"No figure {on} is more than {FIGURE_CEILING:,.0f} in size, the most any "
                 "return can hold.", lambda f: f.numeric and f.computed is None, CEILING),
                ("total-out-of-range", f"Totals and ratios {on} work out to no more than {FIGURE_CEILING:,.0f} "
                 "in size.", lambda f: f.computed is not None, CEILING),
                ("not-in-list", f"Choices {on} come from their list.", lambda f: f.type == "choice", "choices"),
                ("pattern-mismatch", f"Coded text {on} is written in the form its definition gives.",
                 lambda f: f.pattern is not None, "pattern")):
            groups: dict = {}
            for f in fields:
                if pick(f):
                    fixed = limit if isinstance(limit, Basis) else None  # a limit every return has (spec.basis)
                    groups.setdefault(fixed or (f.limit_basis(limit) if limit else UNREADABLE), []).append(f.id)
            for basis, picked in groups.items():
                out.append(_entry(spec, code, words, g, tuple(picked), basis))
    year = spec.period.year_field
    if year:
        out.append(Entry(spec.id, "period-invalid", "error", "The contract year is two consecutive years.",
                         spec.guidance_ref(spec.field(year).guidance), (year,), HEADER.describe()))
    return out


def _rule_entries(spec: ReturnSpec) -> list[Entry]:
    out = []
    for r in spec.rules:
        read: list[str] = []
        for key, value in r.params.items():
            if key in FIELD_PARAMS or (key in FIELD_OR_COLUMN_PARAMS and _is_field(spec, value)):
                read += _flat(value)
            elif key == "when":  # a row condition reads the fields it names (spec.conditions)
                read += names_in(value)
            elif key == "sheets" or key.endswith("sheet"):
                read += [f"{name} sheet" for name in _flat(value)]
        basis = r.basis.describe() if r.basis is not None else NO_BASIS
        for code in _codes_of(r):
            guidance = "plausibility check" if code in QUERY_CODES else spec.guidance_ref(r.guidance)
            out.append(Entry(spec.id, code, kind_of(code), r.description, guidance, tuple(dict.fromkeys(read)),
                             basis if CATALOGUE[code][0] == "error" else ""))
    return out


def _entry(spec: ReturnSpec, code: str, words: str, guidance: str, fields: tuple[str, ...],
           basis: Basis | None) -> Entry:
    """A field check's entry as its basis makes it: an error, or (without one) its query twin."""
    decided, _cited = decide(code, basis, guidance)  # spec.findings: the one decision
    if decided == code and is_error(basis):
        return Entry(spec.id, code, "error", words, guidance, fields, basis.describe())
    return Entry(spec.id, decided, "query", "Query: " + words[:1].lower() + words[1:],
                 "plausibility check", fields, basis.describe() if basis is not None else NO_BASIS)


def _codes_of(r) -> tuple[str, ...]:
    """The codes a rule can give: an error code, or (the rule has no basis: spec.basis) its query twin.
    A kind listing both (``x`` and ``x-query``) gives the one the rule's basis chooses."""
    codes = RULE_CODES[r.kind]
    out = [query_code(c) if r.query else c for c in codes if not (c.endswith("-query") and c[:-6] in codes)]
    return tuple(dict.fromkeys(out))


def _is_field(spec: ReturnSpec, value) -> bool:
    return all(name.replace("{n}", "1") in spec.fields_by_id for name in _flat(value))


def _flat(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return []


# -- the rule kinds, for docs/spec-format.md -------------------------------------------------------
KINDS_BEGIN = "<!-- rule kinds: generated by kpd_returns.author.rule_catalogue.kinds_table; do not edit by hand -->"
KINDS_END = "<!-- end of rule kinds -->"


def _default(value) -> str:
    return json_dumps(value) if not isinstance(value, str) else f'"{value}"'


def kinds_table() -> str:
    """The table of rule kinds and their parameters, from each kind's module and parameter model
    (checks/rules/<kind>.py): docs/spec-format.md holds it between KINDS_BEGIN and KINDS_END, and a
    test keeps the two equal, so the doc cannot drift from the code."""
    load_rule_modules()
    lines = [KINDS_BEGIN, "", "| kind | what it checks | required params | optional params (default) | codes | "
             "Checks sheet |", "|---|---|---|---|---|---|"]
    for name in sorted(RULES):
        kind = RULES[name]
        fields = kind.params.model_fields
        required = ", ".join(f"`{k}`" for k, f in fields.items() if f.is_required())
        optional = ", ".join(f"`{k}` ({_default(f.get_default())})" if f.get_default() not in (None, [])
                             else f"`{k}`" for k, f in fields.items() if not f.is_required())
        codes = ", ".join(f"`{c}`" for c in kind.codes)
        sheet = "a formula" if kind.sheet_checks is not None else "checked when validated"
        lines.append(f"| `{name}` | {kind.summary} | {required} | {optional or '-'} | {codes} | {sheet} |")
    return "\n".join(lines + ["", KINDS_END])


# -- formats --------------------------------------------------------------------------------
COLUMNS = ("return_id", "code", "kind", "checks", "guidance", "fields", "basis")


def as_json(all_entries: list[Entry]) -> str:
    return json_dumps({"schema": SCHEMA, "rules": [e.row() for e in all_entries]}, indent=2) + "\n"


def as_csv(all_entries: list[Entry]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for e in all_entries:
        # A spec's description is outside text (KPD_RETURNS_VALIDATORS): a leading = + - @ stays text.
        w.writerow([csv_text(x) for x in (e.return_id, e.code, e.kind, e.checks, e.guidance, " ".join(e.fields),
                                          e.basis)])
    return buf.getvalue()


def as_text(all_entries: list[Entry]) -> str:
    lines = []
    for i, e in enumerate(all_entries):
        if i == 0 or all_entries[i - 1].return_id != e.return_id:  # each return under its display name
            count = sum(1 for x in all_entries if x.return_id == e.return_id)
            lines += [""] * bool(i) + [f"{display_name(e.return_id)} ({count} checks)"]
        lines.append(f"  {e.code} ({e.kind}, {e.guidance}): {e.checks}")
        if e.fields:
            lines.append(f"    reads: {', '.join(e.fields)}")
        if e.basis:
            lines.append(f"    basis: {e.basis}")
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:Arial,sans-serif;margin:1.5rem;color:#0b0c0c;line-height:1.4}"
        "table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:bold;font-size:1.2rem;"
        "margin:1rem 0 .5rem}th,td{border:1px solid #505a5f;padding:.3rem .5rem;text-align:left;vertical-align:top}"
        "th{background:#f3f2f1}code{font-family:Consolas,monospace}")


def as_html(specs: dict[str, ReturnSpec], all_entries: list[Entry]) -> str:
    e = html.escape
    parts = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<title>kpd-returns: validation rules</title>', f'<style>{_CSS}</style>', '</head>', '<body>',
             '<main>', '<h1>Validation rules for the returns</h1>',
             '<p>Every check kpd-returns makes on a return, and on DWP\'s own extracts (listed last). An <strong>error</strong> breaks a rule of the guidance '
             'and must be corrected; its basis is a sentence of the guidance, arithmetic, the template (a cell that '
             'cannot be read) or a protection of kpd-returns\' own. A <strong>query</strong> is the project\'s own plausibility check: unusual but '
             'it may be right, so explain it. A <strong>warning</strong> must be looked at but does not reject '
             'the return.</p>']
    for rid in dict.fromkeys(x.return_id for x in all_entries):  # the returns, then the extracts
        rows = [x for x in all_entries if x.return_id == rid]
        parts += ['<table>', f'<caption>{e(specs[rid].short_title)} ({len(rows)} checks)</caption>', '<thead><tr>',
                  *[f'<th scope="col">{h}</th>' for h in ("Code", "Kind", "What it checks", "Guidance",
                                                           "Fields read", "Basis")],
                  '</tr></thead>', '<tbody>']
        for x in rows:
            parts.append(f'<tr><th scope="row"><code>{e(x.code)}</code></th><td>{e(x.kind)}</td>'
                         f'<td>{e(x.checks)}</td><td>{e(x.guidance)}</td><td>{e(", ".join(x.fields))}</td>'
                         f'<td>{e(x.basis)}</td></tr>')
        parts += ['</tbody>', '</table>']
    parts += ['</main>', '</body>', '</html>']
    return "\n".join(parts) + "\n"


def cli_rules(return_id: str | None, fmt: str) -> int:
    """``kpd-returns rules``: print the catalogue; 2 with one sentence for an unknown return or format."""
    try:
        specs = load_all()
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    extracts = load_extracts()  # DWP's own data (the WHP's PRaP extracts): listed after the returns
    known = {**specs, **extracts}
    if return_id is not None and return_id not in known:
        try:  # "actionplan" names action_plan (spec.return_spec.get_spec)
            return_id = get_spec(return_id).id
        except SpecError:
            pass
    if return_id is not None and return_id not in known:
        print(f"There is no return type '{return_id}': choose one of {', '.join(sorted(known))}.", file=sys.stderr)
        return 2
    if fmt not in ("text", "json", "csv", "html"):
        print(f"There is no format '{fmt}': choose text, json, csv or html.", file=sys.stderr)
        return 2
    ids = [return_id] if return_id else sorted(specs) + sorted(extracts)
    try:
        all_entries = [x for rid in ids for x in (entries(specs[rid]) if rid in specs
                                                  else extract_entries(extracts[rid], Entry))]
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    out = {"json": as_json, "csv": as_csv, "text": as_text}.get(fmt)
    sys.stdout.write(out(all_entries) if out else as_html(known, all_entries))
    return 0
