"""The rule kinds a spec's ``[[rules]]`` may use: one module per kind (FAC intakelib's one check per file).

Each module ``<kind>.py`` defines ``KIND``, a ``RuleKind`` holding everything about the kind:

* ``params``: its parameters as a typed model (``Params``: an unknown or misspelled key is refused
  when the spec is checked, naming the spec file, the rule and the key);
* ``fn``: the check, which adds findings to a ``FileCheck``;
* ``sheet_checks``: its formula twin on the template's Checks sheet (``None``: "checked when the
  return is validated");
* ``codes``: the finding codes it gives (their messages are in the one catalogue, spec.findings,
  which the ledger's readers need without loading the checks);
* ``summary``: what it checks in words (docs/spec-format.md's table is generated from it).

``discover`` finds the modules; checks.registry keeps the kinds by name and runs them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


RuleFn = Callable[[Any, Any], None]  # (FileCheck, RuleSpec) -> None: adds findings


class Params(BaseModel):
    """A rule kind's parameters: every key declared, an unknown one refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class RuleKind:
    fn: RuleFn
    required: tuple[str, ...] = ()  # parameters the rule cannot do without (from ``params`` when given)
    early: bool = False  # runs before totals are recomputed (it makes cells unusable)
    each_sheet: bool = False  # judges each sheet of its ``sheets`` on its own (so it can skip one)
    params: type[Params] | None = None
    codes: tuple[str, ...] = ()
    summary: str = ""
    # (checks.probes.Context, RuleSpec) -> list of checks.probes.Check, or None: checked when validated.
    sheet_checks: Callable[[Any, Any], Any] | None = None
    name: str = ""
    # (ReturnSpec, RuleSpec) -> a phrase saying what is wrong with the rule beyond its parameters' types
    # (a condition that cannot be read), or None: checked with the spec, before any file is read.
    vet: Callable[[Any, Any], str | None] | None = None


def required_of(model: type[Params]) -> tuple[str, ...]:
    return tuple(n for n, f in model.model_fields.items() if f.is_required())


def discover() -> dict[str, RuleKind]:
    """Every module of this package that defines ``KIND``, by kind name (the module's name)."""
    out: dict[str, RuleKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind: RuleKind = module.KIND
        required = required_of(kind.params) if kind.params is not None else kind.required
        out[info.name] = RuleKind(kind.fn, required, kind.early, kind.each_sheet, kind.params, kind.codes,
                                  kind.summary, kind.sheet_checks, info.name, kind.vet)
    return out
