"""Two sheets of one name, whatever their case ('Activity' twice, or 'ACTIVITY' and 'Activity': Excel
refuses such a workbook) are a structure error at the workbook, and neither sheet's figures are read, so
a decoy's figure is never stored (issue 19 item 17)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.intake.ledger import Ledger

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "returns" / "jobs2-northbridge-employment-ltd-jii-07-2026-10.xlsx"
REAL = '<sheet name="Activity" sheetId="4" state="visible" r:id="rId4" />'


def with_decoy(decoy_name: str) -> bytes:
    """The sample JOBS II return with a second Activity sheet (named ``decoy_name``) before the real one,
    its 'Agreed to start' figure changed from 27 to 999."""
    src = zipfile.ZipFile(SAMPLE)
    parts = {n: src.read(n) for n in src.namelist()}
    assert REAL.encode() in parts["xl/workbook.xml"], "test setup: the sample's Activity sheet has moved"
    decoy = parts["xl/worksheets/sheet4.xml"].decode()
    decoy, n = re.subn(r'(<c r="C8"[^>]*><v>)27(</v>)', r"\g<1>999\g<2>", decoy)
    assert n == 1, "test setup: Activity!C8 is no longer 27"
    parts["xl/worksheets/sheet99.xml"] = decoy.encode()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(REAL.encode(), (
        f'<sheet name="{decoy_name}" sheetId="99" state="visible" r:id="rId99" />' + REAL).encode())
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        b'Target="/xl/worksheets/sheet99.xml" Id="rId99" /></Relationships>'))
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/worksheets/sheet99.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml" /></Types>'))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("decoy_name, said", [("Activity", "2 sheets named 'Activity'"),
                                              ("ACTIVITY", "2 sheets named 'ACTIVITY' and 'Activity'")])
def test_two_sheets_of_one_name_are_a_structure_error(tmp_path, decoy_name, said):
    path = tmp_path / "jobs2-decoy.xlsx"
    path.write_bytes(with_decoy(decoy_name))
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json", "--as-of", "2026-11-20"])
    assert result.exit_code == 1, result.output
    (report,) = json.loads(result.stdout)["files"]
    dupes = [f for f in report["findings"] if f["code"] == "sheet-duplicate"]
    assert len(dupes) == 1 and said in dupes[0]["message"] and dupes[0]["sheet"] == "Activity"
    assert "999" not in result.stdout
    # consolidate: rejected, and the decoy's figure is not stored as anyone's current figure
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / path.name).write_bytes(path.read_bytes())
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "out"), "--no-packs",
                                      "--as-of", "2026-11-20"])
    assert result.exit_code == 1 and "REJECTED" in result.output, result.output
    with Ledger(tmp_path / "out" / "ledger.sqlite") as ledger:
        assert ledger.current_values("jobs2") == []
        assert 999.0 not in [v[3] for (fid,) in ledger.conn.execute("SELECT id FROM files")
                             for v in ledger.file_values(fid)]


def test_the_sample_without_a_decoy_has_no_such_finding(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(SAMPLE), "--format", "json", "--as-of", "2026-11-20"])
    assert "sheet-duplicate" not in result.stdout
