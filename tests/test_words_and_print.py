"""What a newcomer tripped on (issue 19 items 19 and 20): the order of the Excel pack's sheets, the
words a person reads in the outputs, and how the generated workbooks print."""

from __future__ import annotations

import openpyxl
import pytest
from test_pack_fixtures import AS_OF, PERIOD, ledger_from_rows
from typer.testing import CliRunner

from kpd_returns.cli.main import app


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return ledger_from_rows(tmp_path_factory.mktemp("ledger") / "kpd-ledger.sqlite")


def test_excel_pack_puts_what_needs_attention_first(ledger, tmp_path):
    """The HTML pack and the README put what needs attention and the returns missing, late or rejected
    first; so does the Excel pack, straight after its Cover and Contents."""
    result = CliRunner().invoke(app, ["pack", "--period", PERIOD, "--out", str(tmp_path), "--db", str(ledger),
                                      "--as-of", AS_OF.isoformat(), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    books = sorted(tmp_path.glob("pack-*.xlsx"))
    assert len(books) == 4
    for path in books:
        names = openpyxl.load_workbook(path).sheetnames
        assert names[:4] == ["Cover", "Contents", "Attention", "Submissions"], (path.name, names)


@pytest.mark.parametrize("return_id", ["kpd", "jobs2"])
def test_checks_sheet_names_the_fix_totals_command(tmp_path, return_id):
    """The Checks sheet's message for a typed-over total said "or run  to write a copy": the command
    was missing. It now names the command the validator gives, RETURN.xlsx standing for the file."""
    out = tmp_path / "blank.xlsx"
    result = CliRunner().invoke(app, ["template", return_id, str(out)])
    assert result.exit_code == 0, result.output
    formulas = [c.value for row in openpyxl.load_workbook(out)["Checks"].iter_rows() for c in row
                if isinstance(c.value, str) and "or run " in c.value]
    assert formulas, "no Checks row offers the fix-totals command"
    for formula in formulas:
        assert '("")&" to write a copy' not in formula
        assert "kpd-returns validate RETURN.xlsx --fix-totals RETURN-fixed.xlsx" in formula
