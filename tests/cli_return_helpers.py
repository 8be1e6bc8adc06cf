"""Helpers for the tests of returns that exist only as spec files (insight, jobs2): a template
written by `kpd-returns template`, filled by defined name the way a provider's figures land in
the input cells, and checked by `kpd-returns validate --format json`. (No tests here.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.spec import layout
from kpd_returns.spec.return_spec import get_spec
from test_checks_helpers import named_cell

Cells = dict[tuple[str, str], Any]  # (field id, key) -> value; None clears the cell


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def with_changes(cells: Cells, changes: dict[str, Any]) -> Cells:
    """``cells`` with each ``changes`` entry ("field__key": value) laid over it: a mistake in a copy."""
    for key, value in changes.items():
        fid, _, k = key.partition("__")
        cells[(fid, k)] = value
    return cells


def write_template(return_id: str, folder: Path) -> Path:
    path = folder / f"{return_id}-blank.xlsx"
    result = run("template", return_id, str(path))
    assert result.exit_code == 0, result.output
    return path


def cell_of(return_id: str, field_id: str, key: str = "") -> tuple[str, str]:
    """(sheet, cell) of a field at a key, as the reports name them."""
    slot = layout.slot_index(get_spec(return_id))[(field_id, key)]
    return slot.sheet, slot.cell


def ref_of(return_id: str, field_id: str, key: str = "") -> str:
    """Sheet and cell as the reports write them: Activity!C5, 'Time taken'!C7."""
    return layout.slot_index(get_spec(return_id))[(field_id, key)].ref


def fill(return_id: str, blank: Path, cells: Cells, target: Path) -> Path:
    """A copy of the template with ``cells`` typed in through each field's defined name."""
    wb = openpyxl.load_workbook(blank)
    for (fid, key), value in cells.items():
        named_cell(wb, return_id, fid, key).value = value
    wb.save(target)
    return target


def validate(path: Path, *options: str) -> tuple[int, dict]:
    """Exit code and the one file's JSON report."""
    result = run("validate", str(path), "--format", "json", *options)
    return result.exit_code, json.loads(result.output)["files"][0]


def findings(report: dict) -> list[tuple[str, str, str, str]]:
    """(code, sheet!cell, severity, guidance) of each finding."""
    return [(f["code"], f["ref"], f["severity"], f["guidance"]) for f in report["findings"]]
