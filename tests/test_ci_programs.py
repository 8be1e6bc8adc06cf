"""Every program a test or benchmark looks for is installed by `.ci/run` (issue 19 item 1).

A test that finds its program with ``shutil.which``, runs it with ``subprocess`` or names
it under ``/usr/bin`` passes on a machine set up by hand and fails on a fresh one under
KPD_RETURNS_REQUIRE_SYSTEM=1. This reads the test and benchmark sources for the programs
they name and requires each to be a ``command -v PROGRAM ... || need_apt+=(PACKAGE)`` line
of `.ci/run`, or a program every machine that can clone the repository has.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What a fresh machine has before .ci/run installs anything: the interpreter it runs and git
# (CI works on a clone).
ALWAYS_PRESENT = {"python", "python3", "git", "sh", "bash"}

# shutil.which("x"), subprocess.run(["x", ...]) / Popen / check_output, Path("/usr/bin/x").
_LOOKUPS = (
    re.compile(r"shutil\.which\(\s*[\"']([\w.+-]+)[\"']"),
    re.compile(r"subprocess\.(?:run|Popen|check_output|check_call|call)\(\s*\[\s*[\"']([\w./+-]+)[\"']"),
    re.compile(r"[\"']/usr/(?:local/)?bin/([\w.+-]+)[\"']"),
)


def programs_named(text: str) -> set[str]:
    found = set()
    for pattern in _LOOKUPS:
        found.update(Path(name).name for name in pattern.findall(text))
    return found


def programs_ci_installs() -> set[str]:
    text = ROOT.joinpath(".ci", "run").read_text(encoding="utf-8")
    return set(re.findall(r"command -v ([\w.+-]+) [^\n]*\|\| need_apt\+=", text))


def test_the_scanner_finds_each_way_of_naming_a_program():
    sample = ('shutil.which("pdftotext")\nsubprocess.run(["gnumeric", "-x"])\n'
              'CHROMIUM = Path("/usr/bin/chromium")\nsubprocess.check_output(["git", "log"])')
    assert programs_named(sample) == {"pdftotext", "gnumeric", "chromium", "git"}


def test_ci_run_installs_poppler_for_pdftotext():
    assert "pdftotext" in programs_ci_installs()
    assert "poppler-utils" in ROOT.joinpath(".ci", "run").read_text(encoding="utf-8")


def test_every_program_a_test_looks_for_is_installed_by_ci():
    installed = programs_ci_installs() | ALWAYS_PRESENT
    # soffice's other name is the same Debian package
    installed |= {"libreoffice"} if "soffice" in installed else set()
    missing = {}
    for folder in ("tests", "benchmarks"):
        for source in sorted(ROOT.joinpath(folder).rglob("*.py")):
            if source.name == Path(__file__).name:
                continue
            for program in programs_named(source.read_text(encoding="utf-8")) - installed:
                missing.setdefault(program, []).append(str(source.relative_to(ROOT)))
    assert not missing, f"programs looked for but not installed by .ci/run: {missing}"
