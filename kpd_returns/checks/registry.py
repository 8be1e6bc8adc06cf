"""The rule kinds a spec's ``[[rules]]`` may use, one module each under ``checks/rules/`` (found there
by ``checks.rules.discover``), kept here by name.

A rule function takes the file being checked and the ``RuleSpec`` and adds findings.
``check_spec_rules`` is called before any file is read: an unknown kind, a missing, unknown or
misspelled parameter, or a name the spec does not have is a ``SpecError`` naming the spec file and
the rule, never a per-file finding.
"""

from __future__ import annotations

from pydantic import ValidationError

from ..spec.findings import CATALOGUE, QUERY_TWINS
from ..spec.return_spec import ReturnSpec, RuleSpec, SpecError
from . import load_rule_modules
from .context import FileCheck
from .rules import RuleFn, RuleKind

__all__ = ["RULES", "RULE_CODES", "RuleFn", "RuleKind", "check_spec_rules", "run_rules", "sheets_read"]

RULES: dict[str, RuleKind] = {}

# The finding codes each rule kind can give (its module's ``codes``), filled with RULES. A rule that is a
# query (no basis, or query = true) gives each error's query twin (spec.findings.QUERY_TWINS).
RULE_CODES: dict[str, tuple[str, ...]] = {}


def register(kinds: dict[str, RuleKind]) -> None:
    """Keep the discovered kinds (checks.load_rule_modules)."""
    RULES.update(kinds)
    RULE_CODES.update({name: kind.codes for name, kind in kinds.items()})


def check_spec_rules(spec: ReturnSpec) -> None:
    """Raise SpecError for a rule kind that does not exist, lacks a parameter or names
    a sheet, field or column the spec does not have (checked once per spec, kept on it)."""
    spec.memo("checks.rules_checked", _check_rules)


def _check_rules(spec: ReturnSpec) -> bool:
    load_rule_modules()
    name = spec.source_path.rpartition("/")[2] or spec.id
    for n, r in enumerate(spec.rules, start=1):
        kind = RULES.get(r.kind)
        if kind is None:
            known = ", ".join(sorted(RULES))
            raise SpecError(f"{name}: rule {n} has kind '{r.kind}', which kpd-returns does not know "
                            f"(known kinds: {known}).")
        missing = [p for p in kind.required if p not in r.params]
        if missing:
            raise SpecError(f"{name}: rule {n} ({r.kind}) needs the parameter '{missing[0]}' in its params.")
        if kind.params is not None:
            _check_params(kind, name, n, r)
        problem = kind.vet(spec, r) if kind.vet is not None else None
        if problem:
            raise SpecError(f"{name}: rule {n} ({r.kind}): {problem}.")
        _check_names(spec, name, n, r)
        untwinned = [c for c in RULE_CODES.get(r.kind, ()) if r.query and CATALOGUE[c][0] == "error"
                     and c not in QUERY_TWINS]
        if untwinned:
            raise SpecError(f"{name}: rule {n} ({r.kind}) has no basis (or says query = true), and "
                            f"'{untwinned[0]}' has no query form: give its basis (a quote with its paragraph, "
                            "arithmetic or the template), and no query = true.")
    return True


def _check_params(kind: RuleKind, name: str, n: int, r: RuleSpec) -> None:
    """The rule's params against its kind's model: an unknown key (a misspelling) or a value of the
    wrong type is refused, naming the key; then the kind's own checks (``Params.check_spec``)."""
    try:
        kind.params.model_validate(r.params)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"]) or "params"
        if err["type"] == "extra_forbidden":
            known = ", ".join(kind.params.model_fields)
            raise SpecError(f"{name}: rule {n} ({r.kind}) has the parameter '{key}', which {r.kind} does not "
                            f"take (it takes: {known}).") from None
        raise SpecError(f"{name}: rule {n} ({r.kind}) has a parameter '{key}' that is not right: "
                        f"{err['msg'][:1].lower()}{err['msg'][1:]}.") from None


FIELD_PARAMS = {"at_field", "title_field", "required_fields", "type_field", "field", "part", "target", "parts", "total",
                "count", "text", "key_field", "filter_field", "count_field", "always", "when_positive",
                "then_required", "optional_fields", "pairs", "fields", "limit"}
COLUMN_PARAMS = {"column", "total_column", "ytd_column"}
FIELD_OR_COLUMN_PARAMS = {"lesser", "greater"}  # fields (field_not_above) or columns (column_not_below)


def _names(value) -> list[str]:
    if isinstance(value, str):
        return [value.replace("{n}", "1")]
    if isinstance(value, list):
        return [name for v in value for name in _names(v)]
    return []


def _check_names(spec: ReturnSpec, name: str, n: int, r: RuleSpec) -> None:
    """Sheet, field and column names in a rule's parameters must exist: a typo would check nothing."""
    sheets = {s.name for s in spec.sheets}
    fields = set(spec.fields_by_id)
    columns = {k for cs in spec.column_sets.values() for k in cs.keys}
    for key, value in r.params.items():
        if key == "sheets" or key.endswith("sheet"):
            known, what = sheets, "sheet"
        elif key in FIELD_PARAMS:
            known, what = fields, "field"
        elif key in COLUMN_PARAMS:
            known, what = columns, "column"
        elif key in FIELD_OR_COLUMN_PARAMS:
            known, what = fields | columns, "field or column"
        else:
            continue
        for item in _names(value):
            if item not in known:
                raise SpecError(f"{name}: rule {n} ({r.kind}) names the {what} '{item}' in '{key}', "
                                f"which the spec does not have.")


def sheets_read(fc: FileCheck, r: RuleSpec) -> set[str]:
    """The sheets a rule reads, from the sheets and fields its parameters name."""
    out: set[str] = set()
    for key, value in r.params.items():
        for name in _names(value):
            if key == "sheets" or key.endswith("sheet"):
                out.add(name)
            elif name in fc.idx.sheet_of and (key in FIELD_PARAMS or key in FIELD_OR_COLUMN_PARAMS):
                out.add(fc.idx.sheet_of[name].name)
    return out


def run_rules(fc: FileCheck, *, early: bool) -> None:
    """Run each rule of the spec; one that reads a sheet whose layout is broken is not run, and
    noted in ``fc.not_run`` so the report can say so."""
    for r in fc.spec.rules:
        kind = RULES[r.kind]
        if kind.early != early:
            continue
        unreadable = sheets_read(fc, r) & fc.unreadable_sheets
        if unreadable and kind.each_sheet:
            fc.not_run.extend(sorted(unreadable))
            readable = [name for name in r.params["sheets"] if name not in unreadable]
            if readable and not (sheets_read(fc, r) - set(r.params["sheets"])) & unreadable:
                _run(fc, kind, r.model_copy(update={"params": {**r.params, "sheets": readable}}))
            continue
        if unreadable:
            fc.not_run.extend(sorted(unreadable))
            continue
        _run(fc, kind, r)


def _run(fc: FileCheck, kind: RuleKind, r: RuleSpec) -> None:
    """One rule, with its basis deciding the severity of what it finds (FileCheck.add)."""
    fc.rule = r
    try:
        kind.fn(fc, r)
    finally:
        fc.rule = None
