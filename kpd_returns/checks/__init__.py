"""Validation checks, one concern per module.

* ``cells``: value types (``values.parse``) and required cells;
* ``fields``: the field limits from the spec (bounds, whole numbers, decimals, text), checked with
  pandera, or in plain Python by ``field_limits`` where pandas cannot run (the browser page);
* ``personal_data``: the anonymisation guard (AtW 7.25, 7.27, 7.31);
* ``rules/<kind>.py``: the rule kinds a spec's ``[[rules]]`` use, one module each (its parameters,
  check, Checks-sheet formula and wording), found by ``rules.discover`` and kept by name in ``registry``;
* ``period``, ``totals``, ``lists``, ``clocks``: what the kinds share (the period, recomputed totals,
  rows below a list, the KPI clocks once the region is known);
* ``batch``: the two phases, ``prepare`` (per file) and ``check_batch`` (per batch).

The public entry points are in ``kpd_returns.checks.validate``.
"""

from __future__ import annotations

_LOADED = False


def load_rule_modules() -> None:
    """Find the rule kinds' modules (checks/rules/) and register them (once)."""
    global _LOADED
    if not _LOADED:
        # Here, not at the top: the registry imports this package, and the kinds import the registry's context.
        from .registry import register
        from .rules import discover

        register(discover())
        _LOADED = True
