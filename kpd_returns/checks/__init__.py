"""Validation checks, one concern per module.

* ``cells``: value types (``values.parse``) and required cells;
* ``fields``: the field limits from the spec (bounds, whole numbers, decimals, text), checked with
  pandera, or in plain Python by ``field_limits`` where pandas cannot run (the browser page);
* ``personal_data``: the anonymisation guard (AtW 7.25, 7.27, 7.31);
* ``period``, ``totals``, ``segments``, ``consistency``, ``lists``, ``compare``: the rule kinds a
  spec's ``[[rules]]`` use, registered by name in ``registry``;
* ``batch``: the two phases, ``prepare`` (per file) and ``check_batch`` (per batch).

The public entry points are in ``kpd_returns.checks.validate``.
"""

from __future__ import annotations

_LOADED = False


def load_rule_modules() -> None:
    """Import the modules that register rule kinds (once)."""
    global _LOADED
    if not _LOADED:
        from . import clocks, compare, consistency, lists, period, segments, totals  # noqa: F401

        _LOADED = True
