"""A new return type is a spec file and a deadline rule, nothing else (issue 11 items 1 and 6).

The worked example in docs/spec-format.md is copied, as written there, into a temporary
validators folder; the real command line then writes its template, a return filled in by the
template's defined names is validated, a folder of returns is consolidated, and packs are written,
with no Python change. If the documented format and the code drift apart, this fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import openpyxl.utils.cell
import pytest

from kpd_returns.spec.resources import VALIDATORS_ENV, validators_dir

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "spec-format.md"


def _example(name: str) -> str:
    """The fenced block the doc marks ``<!-- example: NAME -->``."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```toml\n(.*?)```", text, re.S)
    assert found, f"docs/spec-format.md has no example block for {name}"
    return found[1]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """The packaged validators plus the doc's complaints return and its deadline rule."""
    out = tmp_path / "validators"
    shutil.copytree(validators_dir(), out)
    (out / "complaints.toml").write_text(_example("complaints.toml"), encoding="utf-8")
    (out / "courses.toml").write_text(_example("courses.toml"), encoding="utf-8")
    (out / "yearly.toml").write_text(_example("yearly.toml"), encoding="utf-8")
    with (out / "deadlines.toml").open("a", encoding="utf-8") as fh:
        for name in ("deadlines.toml", "courses-deadline.toml", "yearly-deadline.toml"):
            fh.write("\n" + _example(name))
    return out


def _cli(folder: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, VALIDATORS_ENV: str(folder), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def _fill(blank: Path, target: Path, values: dict[str, object], prefix: str = "COMPLAINTS") -> Path:
    """Type each value into the cell its defined name <PREFIX>_<field> points at (the first cell of a
    grid row's range: the in-month column); a list of values goes down a list column's range, a row each."""
    wb = openpyxl.load_workbook(blank)
    for field, value in values.items():
        ((sheet, ref),) = list(wb.defined_names[f"{prefix}_{field}"].destinations)
        first = ref.replace("$", "").split(":")[0]
        cells = value if isinstance(value, list) else [value]
        column, row = openpyxl.utils.cell.coordinate_from_string(first)
        for i, one in enumerate(cells):
            wb[sheet][f"{column}{row + i}"].value = one
    wb.save(target)
    return target


CLEAN = {"provider": "Northbridge Employment Ltd", "contract": "AtW-MHSS-C014",
         "reporting_month": dt.datetime(2026, 10, 1), "date_submitted": dt.datetime(2026, 11, 3),
         "received": 12, "resolved": 10, "resolved_in_time": 8}


def test_the_documented_example_return_works_end_to_end_with_no_python_change(folder, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    blank = work / "complaints-blank.xlsx"
    made = _cli(folder, work, "template", "complaints", str(blank))
    assert made.returncode == 0, made.stderr
    names = openpyxl.load_workbook(blank).defined_names
    assert {f"COMPLAINTS_{f}" for f in CLEAN} <= set(names)

    good = _fill(blank, work / "complaints-oct.xlsx", CLEAN)
    checked = _cli(folder, work, "validate", str(good), "--format", "json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)["files"][0]
    assert report["return_type"] == "complaints" and report["verdict"] == "valid", report["findings"]

    bad = _fill(blank, work / "complaints-bad.xlsx", {**CLEAN, "resolved_in_time": 11})
    checked = _cli(folder, work, "validate", str(bad), "--format", "json")
    assert checked.returncode == 1
    codes = {(f["code"], f["guidance"]) for f in json.loads(checked.stdout)["files"][0]["findings"]}
    assert ("sum-above-limit", "arithmetic: those resolved in time are some of those resolved") in codes

    listed = _cli(folder, work, "rules", "complaints", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "sum-above-limit" in listed.stdout and "submitted-late" in listed.stdout

    inbox = work / "inbox"
    inbox.mkdir()
    shutil.copy(good, inbox / "complaints-oct.xlsx")
    sept = dict(CLEAN, reporting_month=dt.datetime(2026, 9, 1), date_submitted=dt.datetime(2026, 10, 6), received=7)
    _fill(blank, inbox / "complaints-sep.xlsx", sept)
    out = work / "out"
    done = _cli(folder, work, "consolidate", str(inbox), "--out", str(out), "--as-of", "2026-11-20")
    assert done.returncode == 0, done.stdout + done.stderr
    sheets = openpyxl.load_workbook(out / "consolidated.xlsx", read_only=True).sheetnames
    assert "Complaints data" in sheets and "Complaints received" in sheets
    status = _cli(folder, work, "status", "--db", str(out / "ledger.sqlite"), "--as-of", "2026-11-20",
                  "--format", "json")
    assert status.returncode == 0, status.stderr
    rows = [r for r in json.loads(status.stdout)["returns"] if r["return_type"] == "complaints"]
    assert {r["period"]: r["status"] for r in rows} == {"2026-09": "on time", "2026-10": "on time"}

    packs = work / "packs"
    written = _cli(folder, work, "pack", "--period", "2026-10", "--db", str(out / "ledger.sqlite"), "--out",
                   str(packs), "--all", "--as-of", "2026-11-20")
    assert written.returncode == 0, written.stdout + written.stderr
    national = (packs / "pack-2026-10-national.html").read_text(encoding="utf-8")
    assert '<h2 id="complaints">Complaints</h2>' in national
    provider = next(packs.glob("pack-2026-10-northbridge*.html")).read_text(encoding="utf-8")
    assert '<h2 id="complaints">Complaints</h2>' in provider and "Complaints by month" in provider
    assert "80.0" in provider  # 8 of 10 resolved within 10 working days, as a percentage to 1 place


def test_no_python_module_names_a_return_type():
    """The issue's own check: grep -rnE "[\"'](kpd|mmir|insight|jobs2|whp_referrals|whp_outcomes|action_plan|atw_yearly)[\"']" kpd_returns
    --include='*.py' (the WHP extracts are specs too: no Python names them, issue 22)."""
    pattern = re.compile(r"[\"'](kpd|mmir|insight|jobs2|whp_referrals|whp_outcomes|action_plan|atw_yearly)[\"']")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "kpd_returns").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert found == []


# -- the quarterly return built around a list, and the yearly return (issue 21 items 5 and 7) -------------
def _validate(folder: Path, work: Path, path: Path) -> tuple[int, dict]:
    done = _cli(folder, work, "validate", str(path), "--format", "json")
    return done.returncode, json.loads(done.stdout)["files"][0]


def _table_rows(html: str, caption: str) -> list[list[str]]:
    """The body rows of the table whose caption starts with ``caption``: [row heading, cells...]."""
    found = re.search(r"<caption[^>]*>" + re.escape(caption) + r".*?</caption>.*?<tbody>(.*?)</tbody>", html, re.S)
    assert found, f"no table '{caption}' in the pack"
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", found[1], re.S)]


def _key_measure(path: Path, sheet: str) -> tuple[list, list]:
    """A consolidated key-measure sheet's header row and its first provider's row."""
    rows = [list(r) for r in openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True)]
    header = next(r for r in rows if r[:2] == ["Provider", "Contract"])
    body = rows[rows.index(header) + 1]
    return [h for h in header if h is not None], body


COURSES = {"provider": "Northbridge Employment Ltd", "contract": "AtW-MHSS-C014", "contract_year": "2026-27",
           "quarter": "Q2", "date_submitted": dt.datetime(2026, 10, 5),
           "course_name": ["Warehouse skills", "Care certificate", "English for work"],
           "course_type": ["Sector-based", "Sector-based", "Basic skills"], "starts": [8, 6, 4],
           "spend": [2400.0, 1800.0, 600.0], "courses_run": 3, "total_spend": 4800.0}


def test_the_documented_quarterly_list_return_works_end_to_end(folder, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    blank = work / "courses-blank.xlsx"
    made = _cli(folder, work, "template", "courses", str(blank))
    assert made.returncode == 0, made.stderr

    good = _fill(blank, work / "courses-q2.xlsx", COURSES, "COURSES")
    code, report = _validate(folder, work, good)
    assert code == 0 and report["verdict"] == "valid", report["findings"]
    assert report["period"] == "2026-27 Q2"

    # Mistakes: a typed count that disagrees with the list (an error), and a row without its starts (a query).
    bad = _fill(blank, work / "courses-bad.xlsx", {**COURSES, "courses_run": 4}, "COURSES")
    code, report = _validate(folder, work, bad)
    assert code == 1 and "detail-rows-mismatch" in {f["code"] for f in report["findings"]}
    # The aggregate total (issue 21 item 1): starts on all courses typed as 19 disagrees with the list's 18.
    typed = _fill(blank, work / "courses-typed.xlsx", {**COURSES, "total_starts": 19}, "COURSES")
    code, report = _validate(folder, work, typed)
    assert code == 1 and ("total-mismatch", "total_starts") in {(f["code"], f["field"]) for f in report["findings"]}
    short = _fill(blank, work / "courses-query.xlsx", {**COURSES, "starts": [8, 6, None]}, "COURSES")
    code, report = _validate(folder, work, short)
    queries = [f for f in report["findings"] if f["code"].startswith("list-row-incomplete")]
    assert report["verdict"] == "valid-with-warnings" and queries and queries[0]["severity"] == "warning"
    # The row query (issue 21 item 2): spend on a course with no starts.
    none = _fill(blank, work / "courses-none.xlsx", {**COURSES, "starts": [8, 6, 0]}, "COURSES")
    code, report = _validate(folder, work, none)
    queries = [f for f in report["findings"] if f["code"] == "row-condition-query"]
    assert code == 0 and report["verdict"] == "valid-with-warnings" and [q["field"] for q in queries] == ["starts"]

    inbox = work / "inbox"
    inbox.mkdir()
    shutil.copy(good, inbox / "courses-q2.xlsx")
    _fill(blank, inbox / "courses-q1.xlsx", {**COURSES, "quarter": "Q1", "date_submitted": dt.datetime(2026, 7, 6),
                                             "starts": [5, 4, 3]}, "COURSES")
    out = work / "out"
    done = _cli(folder, work, "consolidate", str(inbox), "--out", str(out), "--as-of", "2026-10-20")
    assert done.returncode == 0, done.stdout + done.stderr
    header, row = _key_measure(out / "consolidated.xlsx", "Courses starts")
    assert header[2:4] == ["2026-27 Q1", "2026-27 Q2"] and row[2:4] == [12, 18], (header, row)

    status = _cli(folder, work, "status", "--db", str(out / "ledger.sqlite"), "--as-of", "2026-10-20",
                  "--format", "json")
    assert status.returncode == 0, status.stderr
    rows = [r for r in json.loads(status.stdout)["returns"] if r["return_type"] == "courses"]
    assert {r["period"]: r["status"] for r in rows} == {"2026-27 Q1": "on time", "2026-27 Q2": "on time"}

    packs = work / "packs"
    written = _cli(folder, work, "pack", "--period", "2026-09", "--db", str(out / "ledger.sqlite"), "--out",
                   str(packs), "--all", "--as-of", "2026-10-20")
    assert written.returncode == 0, written.stdout + written.stderr
    provider = next(packs.glob("pack-2026-09-northbridge*.html")).read_text(encoding="utf-8")
    assert _table_rows(provider, "Courses by quarter") == [["2026-27 Q1", "3", "2", "12", "400", "9"],
                                                           ["2026-27 Q2", "3", "2", "18", "267", "14"]]
    # The trend chart has a point a quarter, named by its quarter: July and August are not gaps.
    assert _table_rows(provider, "Course starts by quarter, AtW-MHSS-C014") == [["2026-27 Q1", "12"],
                                                                               ["2026-27 Q2", "18"]]
    assert ("Customers who started a course in each quarter, 2026-27 Q1 to 2026-27 Q2. Latest figure 18 in "
            "2026-27 Q2.</desc>") in provider
    assert ">Q1</text>" in provider and ">2026-27</text>" in provider and ">Jul</text>" not in provider
    sheet = openpyxl.load_workbook(next(packs.glob("pack-2026-09-northbridge*.xlsx")), read_only=True)["Courses"]
    cells = [r for r in sheet.iter_rows(values_only=True) if r and r[1] in ("2026-27 Q1", "2026-27 Q2")]
    assert [r[:5] for r in cells] == [("AtW-MHSS-C014", "2026-27 Q1", 3, 2, 12), ("AtW-MHSS-C014", "2026-27 Q2", 3, 2, 18)]


YEARLY = {"provider": "Northbridge Employment Ltd", "contract": "AtW-MHSS-C014", "contract_year": "2025-26",
          "date_submitted": dt.datetime(2026, 4, 20), "supported": 240, "in_work": 180}


def test_the_documented_yearly_return_works_end_to_end(folder, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    blank = work / "yearly-blank.xlsx"
    made = _cli(folder, work, "template", "yearly", str(blank))
    assert made.returncode == 0, made.stderr

    good = _fill(blank, work / "yearly-2025-26.xlsx", YEARLY, "YEARLY")
    code, report = _validate(folder, work, good)
    assert code == 0 and report["verdict"] == "valid", report["findings"]
    bad = _fill(blank, work / "yearly-bad.xlsx", {**YEARLY, "in_work": 250}, "YEARLY")
    code, report = _validate(folder, work, bad)
    assert code == 1 and "sum-above-limit" in {f["code"] for f in report["findings"]}

    inbox = work / "inbox"
    inbox.mkdir()
    shutil.copy(good, inbox / "yearly-2025-26.xlsx")
    out = work / "out"
    done = _cli(folder, work, "consolidate", str(inbox), "--out", str(out), "--as-of", "2026-05-20")
    assert done.returncode == 0, done.stdout + done.stderr  # packs written too: a yearly [pack] stops none
    header, row = _key_measure(out / "consolidated.xlsx", "Yearly supported")
    assert header[2] == "Contract year 2025-26" and row[2] == 240, (header, row)

    status = _cli(folder, work, "status", "--db", str(out / "ledger.sqlite"), "--as-of", "2026-05-20",
                  "--format", "json")
    assert status.returncode == 0, status.stderr
    rows = [r for r in json.loads(status.stdout)["returns"] if r["return_type"] == "yearly"]
    assert {r["period"]: r["status"] for r in rows} == {"2025-26": "on time"}

    packs = work / "packs"
    written = _cli(folder, work, "pack", "--period", "2026-03", "--db", str(out / "ledger.sqlite"), "--out",
                   str(packs), "--all", "--as-of", "2026-05-20")
    assert written.returncode == 0, written.stdout + written.stderr
    provider = next(packs.glob("pack-2026-03-northbridge*.html")).read_text(encoding="utf-8")
    assert _table_rows(provider, "Customers by contract year") == [["Contract year 2025-26", "240", "75.0%"]]


def test_a_pack_section_that_cannot_be_drawn_is_refused_when_the_spec_loads(folder, tmp_path):
    """A quarterly return's measure over rolling 3 months could never be drawn: refused in one sentence naming
    the file and the key; the other returns' commands go on."""
    text = _example("courses.toml").replace('sum = ["total_starts"]\ndecimals = 0\ntrend = true',
                                            'sum = ["total_starts"]\ndecimals = 0\ntrend = true\n'
                                            'windows = ["month", "rolling_3"]')
    (folder / "courses.toml").write_text(text, encoding="utf-8")
    done = _cli(folder, tmp_path, "template", "courses", str(tmp_path / "c.xlsx"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "courses.toml" in line]
    assert said and "key 'pack.measures.2.windows'" in said[0] and "rolling_3" in said[0], done.stderr
    other = _cli(folder, tmp_path, "template", "yearly", str(tmp_path / "y.xlsx"))
    assert other.returncode == 0, other.stderr


def test_a_section_that_fails_while_drawing_costs_that_section_only(folder, tmp_path):
    """A ledger whose quarterly figures hold a month no calendar has (edited by hand): the courses section
    says it could not be drawn, in its place and once on stderr; the yearly section and every pack are drawn."""
    work = tmp_path / "work"
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    for rid, values, prefix in (("courses", COURSES, "COURSES"), ("yearly", YEARLY, "YEARLY")):
        blank = work / f"{rid}-blank.xlsx"
        assert _cli(folder, work, "template", rid, str(blank)).returncode == 0
        _fill(blank, inbox / f"{rid}.xlsx", values, prefix)
    out = work / "out"
    done = _cli(folder, work, "consolidate", str(inbox), "--out", str(out), "--as-of", "2026-10-20")
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(out / "ledger.sqlite") as conn:
        conn.execute("UPDATE file_values SET last_month = '2026-13' WHERE return_id = 'courses'")
    packs = work / "packs"
    written = _cli(folder, work, "pack", "--period", "2026-09", "--db", str(out / "ledger.sqlite"), "--out",
                   str(packs), "--all", "--as-of", "2026-10-20")
    assert written.returncode == 0, written.stdout + written.stderr
    failed = [line for line in written.stderr.splitlines() if "could not be drawn" in line]
    assert len(failed) == 1 and failed[0].startswith("The Training courses section could not be drawn"), written.stderr
    provider = next(packs.glob("pack-2026-09-northbridge*.html")).read_text(encoding="utf-8")
    assert "The Training courses section could not be drawn" in provider
    assert _table_rows(provider, "Customers by contract year") == [["Contract year 2025-26", "240", "75.0%"]]
    national = (packs / "pack-2026-09-national.html").read_text(encoding="utf-8")
    assert "The Training courses section could not be drawn" in national
    sheets = openpyxl.load_workbook(next(packs.glob("pack-2026-09-northbridge*.xlsx")), read_only=True).sheetnames
    assert "Courses" in sheets and "Yearly summary" in sheets
