"""The README's two set-up commands are what CI runs, verbatim, in a fresh virtual environment,
and the test command installs the pinned versions while the package keeps version ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_commands() -> list[str]:
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _ci_lines() -> list[str]:
    return [line.strip() for line in ROOT.joinpath(".ci", "run").read_text(encoding="utf-8").splitlines()]


def test_the_readme_has_exactly_two_setup_commands():
    demo, tests = _setup_commands()
    assert demo == "python -m pip install -e . && kpd-returns demo --out demo-output"
    assert tests == "python -m pip install -c constraints.txt -e '.[test]' && python -m pytest -q"


def test_ci_runs_both_commands_verbatim_in_a_fresh_venv():
    lines = _ci_lines()
    venv = next(i for i, line in enumerate(lines) if re.match(r"python3? -m venv ", line))
    assert "--system-site-packages" not in lines[venv]
    activate = next(i for i, line in enumerate(lines) if re.match(r"(\.|source) \S*/bin/activate", line))
    demo, tests = _setup_commands()
    assert venv < activate < lines.index(demo) < lines.index(tests)
    assert "KPD_RETURNS_REQUIRE_SYSTEM=1" in " ".join(lines)
    assert any("libreoffice-calc-nogui" in line for line in lines) and any("chromium" in line for line in lines)


def _dist(requirement: str) -> str:
    """A distribution's normalised name (PEP 503) from a requirement or a name."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)).lower()


def test_constraints_pin_every_dependency_and_the_package_keeps_ranges():
    project = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    assert not [d for d in declared if "==" in d], "runtime and test dependencies stay ranges"
    pins = {}
    for line in ROOT.joinpath("constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), line
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    for requirement in declared:
        name = _dist(requirement)
        assert name in pins, f"{name} is not pinned in constraints.txt"


def test_every_library_the_package_imports_is_a_runtime_dependency():
    """The README's first command installs the package alone (`pip install -e .`): a library the package imports
    but only the test extra declares (python-calamine, which reads a WHP extract sent as .xlsx) would fail there
    and nowhere in the suite."""
    import ast
    import importlib.metadata as md
    import sys

    project = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_dist(d) for d in project["dependencies"]}
    imported = set()
    for path in (ROOT / "kpd_returns").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.partition(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.partition(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"kpd_returns", "__future__"}
    owners = md.packages_distributions()
    undeclared = {m: owners.get(m) for m in third_party
                  if not {_dist(d) for d in owners.get(m, [m])} & runtime}
    assert undeclared == {}, f"imported by kpd_returns but not in [project] dependencies: {undeclared}"
