"""The rule kinds a spec's ``[[rules]]`` may use, each a small function registered by name.

A rule function takes the file being checked and the ``RuleSpec`` and adds findings.
``check_spec_rules`` is called before any file is read: an unknown kind or a missing
parameter is a ``SpecError`` naming the spec file and the rule, never a per-file finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..spec import ReturnSpec, RuleSpec, SpecError
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


_CHECKED: set[tuple[int, int]] = set()


def check_spec_rules(spec: ReturnSpec) -> None:
    """Raise SpecError for a rule kind that does not exist or lacks a parameter."""
    token = (id(spec), len(spec.rules))
    if token in _CHECKED:
        return
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
    _CHECKED.add(token)


def _check_names(spec: ReturnSpec, name: str, n: int, r: RuleSpec) -> None:
    """Sheet names in a rule's parameters must exist: a typo would silently check nothing."""
    sheets = {s.name for s in spec.sheets}
    for key, value in r.params.items():
        if key == "sheets" or key.endswith("sheet"):
            for sheet in value if isinstance(value, list) else [value]:
                if sheet not in sheets:
                    raise SpecError(f"{name}: rule {n} ({r.kind}) names the sheet '{sheet}' in '{key}', "
                                    f"which the spec does not have.")


def run_rules(fc: FileCheck, *, early: bool) -> None:
    for r in fc.spec.rules:
        kind = RULES[r.kind]
        if kind.early == early:
            kind.fn(fc, r)
