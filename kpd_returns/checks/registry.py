"""The rule kinds a spec's ``[[rules]]`` may use, each a small function registered by name.

A rule function takes the file being checked and the ``RuleSpec`` and adds findings.
``check_spec_rules`` is called before any file is read: an unknown kind or a missing
parameter is a ``SpecError`` naming the spec file and the rule, never a per-file finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..spec.return_spec import ReturnSpec, RuleSpec, SpecError
from .context import FileCheck

RuleFn = Callable[[FileCheck, RuleSpec], None]


@dataclass(frozen=True)
class RuleKind:
    fn: RuleFn
    required: tuple[str, ...]  # parameters the rule cannot do without
    early: bool = False  # runs before totals are recomputed (it makes cells unusable)


RULES: dict[str, RuleKind] = {}


def rule(kind: str, *required: str, early: bool = False) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        RULES[kind] = RuleKind(fn, tuple(required), early)
        return fn

    return register


def check_spec_rules(spec: ReturnSpec) -> None:
    """Raise SpecError for a rule kind that does not exist, lacks a parameter or names
    a sheet, field or column the spec does not have (checked once per spec, kept on it)."""
    spec.memo("checks.rules_checked", _check_rules)


def _check_rules(spec: ReturnSpec) -> bool:
    from . import load_rule_modules

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
        _check_names(spec, name, n, r)
    return True


FIELD_PARAMS = {"at_field", "title_field", "required_fields", "type_field", "field", "part", "target", "parts", "total",
                "count", "text", "key_field", "filter_field", "count_field", "always", "when_positive",
                "then_required", "optional_fields", "pairs", "fields", "limit"}
COLUMN_PARAMS = {"column", "total_column"}
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


def run_rules(fc: FileCheck, *, early: bool) -> None:
    for r in fc.spec.rules:
        kind = RULES[r.kind]
        if kind.early == early:
            kind.fn(fc, r)
