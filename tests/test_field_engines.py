"""One validator, two engines for the field limits (issue 23): pandera on the command line, plain
Python in the browser page (Pyodide has no pandas). Both must give identical findings (codes,
cells, messages, order) on every committed sample and mistake, on the hostile files, and on
edge values of the arithmetic, and the plain path must never import pandas or numpy."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kpd_returns.checks import fields
from kpd_returns.checks.field_limits import failures as python_failures
from kpd_returns.checks.validate import validate_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples" / "returns").glob("*.xlsx")) + sorted((ROOT / "samples" / "mistakes").glob("*.xlsx"))
AS_OF = __import__("datetime").date(2026, 11, 20)
HOSTILE_KINDS = [e["kind"] for e in tomllib.loads((ROOT / "tests" / "data" / "hostile_table.toml")
                                                  .read_text(encoding="utf-8"))["file"]
                 if e["kind"] not in ("million-rows", "zip-bomb", "zip-bomb-part")]  # slow to build; refused alike


def _findings(path: Path, engine: str, monkeypatch) -> tuple[str, list[dict]]:
    monkeypatch.setenv(fields.ENGINE_VARIABLE, engine)
    report = validate_file(path, name=path.name, as_of=AS_OF)
    return report.verdict, [f.to_dict() for f in report.findings]


def test_the_samples_and_mistakes_are_all_here():
    assert len(SAMPLES) >= 16


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_both_engines_give_identical_findings_on_every_sample_and_mistake(path, monkeypatch):
    by_pandera = _findings(path, "pandera", monkeypatch)
    by_python = _findings(path, "python", monkeypatch)
    assert by_python == by_pandera


def test_both_engines_give_identical_findings_on_the_hostile_files(tmp_path, monkeypatch):
    from test_hostile_inputs import build  # the hostile table's files, made as that test makes them

    for kind in HOSTILE_KINDS:
        path = build(kind, tmp_path)
        assert _findings(path, "python", monkeypatch) == _findings(path, "pandera", monkeypatch), kind


def test_a_mistake_with_field_limit_findings_is_among_them(monkeypatch):
    """The parity above covers the field limits themselves, not only files refused before them."""
    codes = {f["code"] for p in SAMPLES for f in _findings(p, "python", monkeypatch)[1]}
    assert "below-minimum" in codes


NUMBERS = {
    "value": [5.0, -1.0, 101.0, 2.5, 2.675, 2.67, 1e308, math.inf, 0.1 + 0.2, 3.0000000001, -0.0, 7.0, 1e15 + 0.5,
              123456789.123],
    "lower": [0.0, 0.0, 0.0, None, 0.0, 0.0, 0.0, 0.0, None, 0.0, 0.0, -5, None, 0.0],
    "upper": [None, None, 100.0, None, None, None, None, 10.0, 1.0, None, None, None, None, None],
    "decimals": [0.0, 0.0, None, 0.0, 2.0, 2.0, 4.0, 0.0, 1.0, 0.0, 0.0, None, 0.0, 2.0],
}
TEXTS = {
    "value": ["CPA-07", "cpa-07", "x" * 201, "AB123456C", "", "Ümlaut", "12", "a\nb", "CPA-7 "],
    "max_length": [200.0, 200.0, 200.0, 200.0, 200.0, 3.0, 200.0, 200.0, 200.0],
    "pattern": [r"CPA-\d{2}", r"CPA-\d{2}", None, r"[A-Z]{2}\d{6}[A-D]", r"\d*", None, r"\d+", r"a.b", r"CPA-\d+"],
}


@pytest.mark.parametrize("which,columns", [("numbers", NUMBERS), ("texts", TEXTS)])
def test_both_engines_fail_the_same_rows_on_edge_values(which, columns):
    """Half-even rounding, float noise, overflow, infinity, missing limits, unicode and patterns."""
    by_python = python_failures(which, columns)
    assert sorted(by_python) == sorted(fields.pandera_failures(which, columns))  # reports sort their findings
    assert by_python  # the edge values do fail some checks


def _hostile_texts() -> list[str]:
    table = tomllib.loads((ROOT / "tests" / "data" / "hostile_table.toml").read_text(encoding="utf-8"))
    pd = table["personal_data"]
    texts = [e["text"] if isinstance(e, dict) else e for key in ("positive", "negative", "relaxed") for e in pd[key]]
    return texts + [e["text"] for e in table["chart_text"]]


def test_both_engines_fail_the_same_rows_on_the_hostile_tables_texts():
    """Every text of the hostile table (unicode digits, no-break spaces, formulas) against a length and
    the patterns the specs use."""
    from kpd_returns.spec.return_spec import load_all

    patterns = sorted({f.pattern for spec in load_all().values() for _s, f in spec.fields_by_id.values() if f.pattern})
    patterns += [r"[A-Z]{2}\d{6}[A-D]", r"CPA[ -]?\d{2}", r"\w+", r".*\S", r"[^@]+@[^@]+"]  # unicode-aware classes
    texts = _hostile_texts()
    assert len(texts) > 40
    rows = [(t, n, p) for t in texts for n in (12.0, 200.0) for p in [None, *patterns]]
    columns = {"value": [r[0] for r in rows], "max_length": [r[1] for r in rows], "pattern": [r[2] for r in rows]}
    by_python = python_failures("texts", columns)
    assert sorted(by_python) == sorted(fields.pandera_failures("texts", columns))
    assert {code for code, _ in by_python} == {"text-too-long", "pattern-mismatch"}


def test_the_engine_is_pandera_when_installed_and_can_be_chosen(monkeypatch):
    monkeypatch.delenv(fields.ENGINE_VARIABLE, raising=False)
    assert fields.engine() == "pandera"
    assert fields.engine("python") == "python"
    monkeypatch.setenv(fields.ENGINE_VARIABLE, "python")
    assert fields.engine() == "python"
    with pytest.raises(ValueError, match="must be pandera, python or auto"):
        fields.engine("numpy")


PLAIN_RUN = """
import sys
{block}
from kpd_returns.checks.fields import engine
from kpd_returns.checks.validate import validate_file
from kpd_returns.render.json_report import write_json
import io, datetime
out = io.StringIO()
write_json([validate_file(sys.argv[1], as_of=datetime.date(2026, 11, 20))], out)
heavy = sorted(m for m in ("pandas", "numpy", "pandera") if m in sys.modules and sys.modules[m] is not None)
print(engine(), heavy, len(out.getvalue()) > 100)
"""


def test_without_pandas_the_plain_engine_runs_and_nothing_imports_pandas_or_numpy():
    """As in Pyodide: pandas and pandera cannot be imported, so the plain engine is chosen by itself."""
    block = "sys.modules['pandas'] = None; sys.modules['pandera'] = None; sys.modules['numpy'] = None"
    sample = ROOT / "samples" / "mistakes" / "mistake-negative-count.xlsx"
    run = subprocess.run([sys.executable, "-c", PLAIN_RUN.format(block=block), str(sample)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["python", "[]", "True"]


def test_the_command_line_gives_the_same_json_with_either_engine(tmp_path):
    """Through the real command: the batch engine (pandera) and the plain one, on every mistake."""
    def report(engine: str) -> dict:
        env = {**__import__("os").environ, fields.ENGINE_VARIABLE: engine}
        run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", "--format", "json", "--as-of",
                              "2026-11-20", str(ROOT / "samples" / "mistakes")],
                             capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert run.returncode in (0, 1), run.stderr
        return json.loads(run.stdout)

    assert report("python") == report("pandera")


def test_a_mistyped_engine_setting_is_one_sentence_before_any_file_is_read(tmp_path):
    """It once made every file 'unreadable' in the ledger, where it stayed after the setting was fixed."""
    sample = sorted((Path(__file__).resolve().parents[1] / "samples" / "returns").glob("mmir-*.xlsx"))[0]
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / sample.name).write_bytes(sample.read_bytes())
    env = dict(os.environ, KPD_RETURNS_FIELD_ENGINE="pandas", KPD_RETURNS_PROJECT_FILE=str(tmp_path / "p.toml"))
    proc = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "consolidate", "inbox", "--out", "out",
                           "--workers", "1", "--no-packs"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("kpd-returns: KPD_RETURNS_FIELD_ENGINE must be pandera, python or auto, "
                                   "not 'pandas'.")
    assert not (tmp_path / "out").exists()
