"""Hints that are commands are whole commands a user can paste, with the file's own name in them."""

from __future__ import annotations

import datetime as dt
import io
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpd_returns.spec import findings as F
from kpd_returns.cli.main import app
from kpd_returns.cli.validate import run
from kpd_returns.checks.validate import validate_file

REPO = Path(__file__).resolve().parents[1]
MISTAKES = REPO / "samples" / "mistakes"
GUIDANCE = Path("/work/shared/guidance/work-programme-kpd-mi-guidance.txt")


def _command(message: str) -> list[str]:
    """The command a hint ends with, split as a POSIX shell would."""
    start = re.search(r"kpd-returns (validate|template) (?!:)", message).start()
    words = shlex.split(message[start:])
    ends = [i for i, w in enumerate(words) if w in ("and", "to", "or", "(KPD)", "(MMIR)")]
    command = words[:ends[0]]
    assert not command[-1].endswith((".", ",", ";", ":")), message
    return command


def _finding(path: Path, code: str) -> F.Finding:
    report = validate_file(str(path), name=path.name, as_of=dt.date(2026, 11, 20))
    (finding,) = [f for f in report.findings if f.code == code]
    return finding


def test_every_catalogue_command_is_complete():
    for code in F.CATALOGUE:
        message = F.make(code).message
        if not re.search(r"kpd-returns (validate|template) (?!:)", message):
            assert "kpd-returns validate" not in message and "--fix-totals" not in message, code
            continue
        assert not re.search(r"kpd-returns \w+ --", message), f"{code}: a command without its file: {message}"
        argv = _command(message)
        assert argv[1] in ("validate", "template"), code
        assert any(a.endswith(".xlsx") for a in argv[2:]), f"{code}: {message}"


def test_fix_totals_hint_names_the_file_and_its_copy_and_runs(tmp_path, monkeypatch):
    source = tmp_path / "my return.xlsx"  # a space: the command quotes it
    shutil.copy(MISTAKES / "mistake-typed-over-total.xlsx", source)
    monkeypatch.chdir(tmp_path)
    finding = _finding(Path("my return.xlsx"), "total-mismatch")
    argv = _command(finding.message)
    assert argv == ["kpd-returns", "validate", "my return.xlsx", "--fix-totals", "my return-fixed.xlsx"]
    assert "run kpd-returns validate 'my return.xlsx' --fix-totals 'my return-fixed.xlsx' to write" in finding.message
    result = CliRunner().invoke(app, argv[1:] + ["--as-of", "2026-11-20"])
    assert result.exit_code == 1 and "Totals fixed: my return-fixed.xlsx" in result.output  # the original keeps its error
    fixed = validate_file(str(tmp_path / "my return-fixed.xlsx"), as_of=dt.date(2026, 11, 20))
    assert fixed.verdict == "valid"


def test_the_text_report_hint_names_the_path_as_given():
    out, err = io.StringIO(), io.StringIO()
    path = "samples/mistakes/mistake-typed-over-total.xlsx"
    code = run([str(REPO / path)], as_of="2026-11-20", out=out, err=err, color=False)
    assert code == 1
    assert f"--fix-totals {REPO / 'samples/mistakes/mistake-typed-over-total-fixed.xlsx'}" in out.getvalue()


def test_superseded_template_hint_writes_a_new_template_and_cites_the_template_annex(tmp_path, monkeypatch):
    shutil.copy(MISTAKES / "mistake-wrong-version.xlsx", tmp_path / "old.xlsx")
    monkeypatch.chdir(tmp_path)
    finding = _finding(Path("old.xlsx"), "template-superseded")
    assert finding.guidance == "KPD Annex 1"
    argv = _command(finding.message)
    assert argv == ["kpd-returns", "template", "kpd", "old-new.xlsx"]
    result = CliRunner().invoke(app, argv[1:])
    assert result.exit_code == 0, result.output
    report = validate_file(str(tmp_path / "old-new.xlsx"), as_of=dt.date(2026, 11, 20))
    assert report.version == "1.0" and not any(f.code.startswith("template-") for f in report.findings)


@pytest.mark.skipif(not GUIDANCE.exists(), reason="the guidance chapters are not beside this checkout")
def test_kpd_annex_1_is_the_returns_template():
    text = GUIDANCE.read_text(encoding="utf-8")
    assert "Annex 1: Key Performance Drivers returns template" in text
    assert re.search(r"^1\. .*excel spread sheet you must use to complete the return is at Annex 1", text, re.M)


def test_an_unrecognised_file_gets_every_template_command(tmp_path, monkeypatch):
    """One command per return type the specs define (insight and jobs2 are spec files only)."""
    (tmp_path / "notes.xlsx").write_text("a,b\n1,2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    report = validate_file("notes.xlsx", as_of=dt.date(2026, 11, 20))
    (finding,) = report.findings
    # each type by its display name (issue 19 item 20: "INSIGHT" and "JOBS2" are ids, not names)
    assert ("with kpd-returns template action_plan notes-new.xlsx (Action Plan) or kpd-returns template atw_yearly notes-new.xlsx (AtW Yearly MI) or kpd-returns template insight notes-new.xlsx (Customer Insight) or kpd-returns template jobs2 "
            "notes-new.xlsx (JOBS II MI) or kpd-returns template kpd notes-new.xlsx (KPD return) or kpd-returns "
            "template mmir notes-new.xlsx (MMIR) and copy") in finding.message


def test_reports_name_the_file_not_where_it_lay():
    """Outside the validate command (consolidate, the demo) hints name the file only: outputs hold no folders."""
    path = MISTAKES / "mistake-typed-over-total.xlsx"
    finding = _finding(path, "total-mismatch")
    assert _command(finding.message) == ["kpd-returns", "validate", "mistake-typed-over-total.xlsx", "--fix-totals",
                                         "mistake-typed-over-total-fixed.xlsx"]
    assert str(MISTAKES) not in finding.message
