"""`kpd-returns validate`: options, exit codes, never a traceback, and the copies it writes."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.spec import findings as F
from kpd_returns.cli.validate import parse_when, run
from kpd_returns.spec.model import FileReport

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
EXPECTED = json.loads((SAMPLES / "expected-findings.json").read_text(encoding="utf-8")) \
    if (SAMPLES / "expected-findings.json").exists() else {"clean": {}, "mistakes": {}}


def call(*files, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run([str(f) for f in files], out=out, err=err, color=False, **options)
    return code, out.getvalue(), err.getvalue()


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=str(REPO))


@pytest.fixture
def fake_validate(monkeypatch):
    """A stand-in kpd_returns.checks.validate that records its arguments; ``behaviour`` maps a path to a
    FileReport or an exception."""
    calls: list[dict] = []
    behaviour: dict[str, object] = {}

    def validate_file(source, *, name=None, **kw):
        calls.append({"file": str(source), **kw})
        result = behaviour.get(str(source))
        if isinstance(result, BaseException):
            raise result
        return result or FileReport(path=str(source), name=name or Path(source).name, return_id="mmir",
                                    period="2026-10", provider="P")

    def validate_paths(paths, **kw):
        calls.append({"paths": list(paths), **kw})
        if any(isinstance(behaviour.get(str(p)), BaseException) for p in paths):
            raise RuntimeError("batch failed")
        return [validate_file(p, name=Path(p).name) for p in paths]

    module = types.ModuleType("kpd_returns.checks.validate")
    module.validate_file, module.validate_paths = validate_file, validate_paths
    monkeypatch.setitem(sys.modules, "kpd_returns.checks.validate", module)
    import kpd_returns

    monkeypatch.setattr(kpd_returns, "validate", module, raising=False)
    return types.SimpleNamespace(calls=calls, behaviour=behaviour)


# -- options -------------------------------------------------------------------

def test_parse_when():
    assert parse_when("2026-11-20", "--as-of") == dt.date(2026, 11, 20)
    assert parse_when("2026-11-20T14:30", "--as-of") == dt.datetime(2026, 11, 20, 14, 30)
    assert parse_when("2026-11-20 14:30:05", "--as-of") == dt.datetime(2026, 11, 20, 14, 30, 5)
    aware = parse_when("2026-11-20T14:30Z", "--submitted")
    assert aware.utcoffset() == dt.timedelta(0)
    assert parse_when(None, "--as-of") is None


@pytest.mark.parametrize("options, needle", [
    ({"as_of": "2026-13-01"}, "--as-of must be a date"),
    ({"as_of": "yesterday"}, "--as-of must be a date"),
    ({"submitted": "20/11/2026"}, "--submitted must be a date"),
    ({"region": "wales"}, "--region must be one of england-and-wales, scotland, northern-ireland"),
    ({"fmt": "xml"}, "--format must be text or json"),
    ({"workers": "0"}, "--workers must be a whole number"),
    ({"workers": "many"}, "--workers must be a whole number"),
    ({"deadlines": "/nonexistent/deadlines.toml"}, "cannot be read"),
])
def test_bad_option_is_one_plain_sentence(fake_validate, options, needle, tmp_path):
    code, out, err = call(tmp_path / "x.xlsx", **options)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert fake_validate.calls == []  # nothing was checked


def test_bad_deadline_file(fake_validate, tmp_path):
    bad = tmp_path / "deadlines.toml"
    bad.write_text("[mmir]\nkind = 'whenever'\n", encoding="utf-8")
    code, out, err = call(tmp_path / "x.xlsx", deadlines=bad)
    assert code == 2 and err.count("\n") == 1 and "deadlines.toml" in err and "kind" in err


@pytest.mark.parametrize("options, files, needle", [
    ({"annotate": "a.xlsx"}, 2, "--annotate writes one copy"),
    ({"fix_totals": "f.xlsx"}, 2, "--fix-totals works on one return"),
    ({"annotate": "a.xlsx", "annotate_dir": "d"}, 1, "not both"),
])
def test_single_file_options(fake_validate, tmp_path, options, files, needle):
    code, out, err = call(*[tmp_path / f"{i}.xlsx" for i in range(files)], **options)
    assert code == 2 and needle in err and err.count("\n") == 1
    assert fake_validate.calls == []


def test_options_are_passed_to_the_validator(fake_validate, tmp_path):
    deadlines = tmp_path / "d.toml"
    deadlines.write_text('[mmir]\nkind = "nth_working_day_after_period"\nn = 5\n', encoding="utf-8")
    code, _, _ = call(tmp_path / "a.xlsx", tmp_path / "b.xlsx", as_of="2026-11-30", submitted="2026-11-20T09:15",
                      region="scotland", workers="2", deadlines=deadlines)
    assert code == 0
    batch = fake_validate.calls[0]
    assert batch["paths"] == [str(tmp_path / "a.xlsx"), str(tmp_path / "b.xlsx")]
    assert batch["as_of"] == dt.date(2026, 11, 30)
    assert batch["submitted"] == dt.datetime(2026, 11, 20, 9, 15)
    assert batch["region"] == "scotland" and batch["workers"] == 2
    assert batch["calendar"]["mmir"].number == 5 and "kpd" in batch["calendar"]


# -- exit codes and never a traceback --------------------------------------------

def test_exit_code_is_the_worst(fake_validate, tmp_path):
    a, b, c = (str(tmp_path / n) for n in ("a.xlsx", "b.xlsx", "c.xlsx"))
    fake_validate.behaviour[a] = FileReport(path=a, name="a.xlsx", findings=[
        F.make("implausible-value", sheet="Volumes", cell="C5")])
    fake_validate.behaviour[b] = FileReport(path=b, name="b.xlsx", findings=[
        F.make("required-missing", sheet="Header", cell="B5")])
    assert call(a)[0] == 0
    assert call(a, b)[0] == 1
    fake_validate.behaviour[c] = FileReport(path=c, name="c.xlsx", findings=[F.make("file-empty", file="c.xlsx")])
    code, out, _ = call(a, b, c)
    assert code == 2
    assert out.rstrip().splitlines()[-1] == (
        "Checked 3 files: 0 valid, 1 valid with warnings, 1 not valid, 1 could not be read.")


def test_an_unexpected_failure_on_one_file_is_confined_to_it(fake_validate, tmp_path):
    good, bad = str(tmp_path / "good.xlsx"), str(tmp_path / "bad.xlsx")
    fake_validate.behaviour[bad] = ZeroDivisionError("division by zero")
    code, out, err = call(good, bad)
    assert code == 2 and err == "" and "Traceback" not in out
    assert f"{good}: MMIR for October 2026, P: 0 errors, 0 warnings — valid" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("    error")]
    assert "bad.xlsx could not be checked" in line and "ZeroDivisionError" in line
    code, out, _ = call(good, bad, fmt="json")
    files = json.loads(out)["files"]
    assert [f["verdict"] for f in files] == ["valid", "unreadable"]


def test_an_unexpected_failure_anywhere_is_one_sentence(fake_validate, tmp_path, monkeypatch):
    from kpd_returns.cli import validate as command

    def boom(*a, **k):
        raise KeyError("sheet")

    monkeypatch.setattr(command, "render_text", boom)  # the renderer the command calls
    code, out, err = call(tmp_path / "a.xlsx")
    assert code == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "unexpected problem" in err and "KeyError" in err


def test_help_documents_exit_codes():
    proc = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=str(REPO),
                          env=dict(os.environ, NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(REPO)))
    assert proc.returncode == 0
    text = proc.stdout
    for needle in ("0 = every file is valid", "1 = at least one file has errors",
                   "2 = at least one file could not be read", "--as-of", "--submitted", "--region",
                   "--deadlines", "--format", "--annotate", "--annotate-dir", "--fix-totals", "--workers"):
        assert needle in text, needle


def test_bad_option_from_the_real_command():
    proc = cli("samples/none.xlsx", "--region", "mars")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == ("--region must be one of england-and-wales, scotland, northern-ireland, "
                                   "not 'mars'.")


# -- with the real validator -------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED["mistakes"]))
def test_samples_mistakes_reported(name):
    expected = EXPECTED["mistakes"][name]["findings"]
    proc = cli(str(SAMPLES / name), "--format", "json")
    assert "Traceback" not in proc.stderr
    (entry,) = json.loads(proc.stdout)["files"]
    found = {(f["code"], f["severity"], f["sheet"], f["cell"]) for f in entry["findings"]}
    for f in expected:
        assert (f["code"], f["severity"], f["sheet"], f["cell"]) in found
    worst = 1 if any(f["severity"] == "error" for f in expected) else 0
    assert proc.returncode == worst == entry["exit_code"]


def test_text_report_of_the_late_sample():
    proc = cli(str(SAMPLES / "mistakes" / "mistake-late.xlsx"))
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"{SAMPLES / 'mistakes' / 'mistake-late.xlsx'}: MMIR for October 2026, Northbridge Employment Ltd: ")
    assert "late by 12 working days (deadline Wed 4 November 2026" in first
    assert "submitted 2026-11-20 (from the workbook's Date submitted)" in first


def test_json_output_validates_and_is_deterministic():
    from test_render_json import schema_errors

    files = [str(p) for p in sorted((SAMPLES / "mistakes").glob("*.xlsx"))] + [
        str(p) for p in sorted((SAMPLES / "returns").glob("*.xlsx"))]
    first = cli(*files, "--format", "json")
    second = cli(*files, "--format", "json", "--workers", "2")
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert schema_errors(document) == []
    assert [f["file"] for f in document["files"]] == files
    assert first.returncode == max(f["exit_code"] for f in document["files"]) == 1


def test_annotate_dir_and_unreadable(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    mistake = SAMPLES / "mistakes" / "mistake-negative-count.xlsx"
    proc = cli(str(mistake), str(empty), "--annotate-dir", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "No annotated copy: the file could not be read." in proc.stdout
    out = tmp_path / "out" / "mistake-negative-count.annotated.xlsx"
    assert out.exists() and not (tmp_path / "out" / "empty.annotated.xlsx").exists()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Findings"
    assert wb["Volumes"]["C17"].comment.text.startswith("ERROR below-minimum")
    assert wb["Volumes"]["C17"].value == openpyxl.load_workbook(mistake)["Volumes"]["C17"].value == -8


def test_annotate_one_file_is_reproducible(tmp_path):
    mistake = SAMPLES / "mistakes" / "mistake-typed-over-total.xlsx"
    for name in ("a.xlsx", "b.xlsx"):
        proc = cli(str(mistake), "--annotate", str(tmp_path / name))
        assert proc.returncode == 1 and f"Annotated copy: {tmp_path / name}" in proc.stdout
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_fix_totals_then_the_totals_are_right(tmp_path):
    mistake = SAMPLES / "mistakes" / "mistake-typed-over-total.xlsx"
    fixed = tmp_path / "fixed.xlsx"
    proc = cli(str(mistake), "--fix-totals", str(fixed))
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the original still has its error
    assert "Totals fixed:" in proc.stdout and "Staffing!D9" in proc.stdout
    again = cli(str(fixed), "--format", "json")
    (entry,) = json.loads(again.stdout)["files"]
    codes = {f["code"] for f in entry["findings"]}
    assert not codes & {"total-mismatch", "total-typed-over"}
    assert again.returncode == 0, again.stdout


def test_fix_totals_refuses_what_it_cannot_fix(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    proc = cli(str(empty), "--fix-totals", str(tmp_path / "f.xlsx"))
    assert proc.returncode == 2 and "Cannot fix the totals of empty.xlsx" in proc.stdout
    assert not (tmp_path / "f.xlsx").exists()


def test_a_broken_spec_is_one_sentence_for_the_run(fake_validate, tmp_path, monkeypatch):
    from kpd_returns.spec.return_spec import SpecError

    def broken(paths, **kw):
        raise SpecError("kpd.toml: key 'rules.0.kind' is 'nonsense'.")

    monkeypatch.setattr(sys.modules["kpd_returns.checks.validate"], "validate_paths", broken)
    code, out, err = call(tmp_path / "a.xlsx", tmp_path / "b.xlsx")
    assert code == 2 and out == ""
    assert err == "The return specifications cannot be used: kpd.toml: key 'rules.0.kind' is 'nonsense'.\n"
