"""The package's layout keeps showing the pipeline (issue 11 item 9).

* no module is long enough to stop being read (450 lines at most);
* no import cycle between kpd_returns modules (imports at module level, as Python runs them);
* a stage imports only itself and earlier stages: spec < read < checks < intake < packs <
  author, render < cli, except that intake, packs and author may import render (they render findings);
* every stage folder's ``__init__`` says what the stage takes and gives (a docstring);
* an import of a kpd_returns module inside a function says why it is there (a comment on its line or
  just above it: start-up time of ``--help`` or of the one-file validate, a heavy library behind it).

The graph is built from the source with ``ast``: imports inside functions and under
``if TYPE_CHECKING:`` are left out, since neither runs when a module is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kpd_returns"
STAGES = ("spec", "read", "checks", "intake", "packs", "author", "render", "cli")
RANK = {"spec": 0, "read": 1, "checks": 2, "intake": 3, "packs": 4, "author": 5, "render": 5, "cli": 6}
MAY_IMPORT_RENDER = {"intake", "packs", "author"}
MAX_LINES = 450

# Modules being split now by another branch, each with its reason; each owner removes its line when done.
# Keep it empty if you can.
LONG_MODULES_BEING_SPLIT: dict[str, str] = {}

# (importer, imported) pairs allowed against the stage order, each with its reason. Keep it empty if you can.
STAGE_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level_imports(tree: ast.Module):
    """Import statements that run when the module is imported (not in functions, not TYPE_CHECKING)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending[:0] = node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending[:0] = node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]


def _imports_of(name: str, path: Path) -> set[str]:
    """The kpd_returns modules ``name`` imports at module level (a package counts as its __init__)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _top_level_imports(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        for target in targets:
            if target in MODULES and target != name:
                out.add(target)
    return out


GRAPH = {name: _imports_of(name, path) for name, path in MODULES.items()}


def _stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_graph_sees_the_imports_it_should():
    """A check that the checker works: known module-level imports are in the graph."""
    assert "kpd_returns.spec.findings" in GRAPH["kpd_returns.spec.model"]
    assert "kpd_returns.intake.ledger_rows" in GRAPH["kpd_returns.intake.ledger"]
    assert "kpd_returns.render._zipedit" in GRAPH["kpd_returns.render.annotate"]  # from . import _zipedit as Z


def test_no_module_is_over_450_lines():
    long = {str(path.relative_to(PACKAGE.parent)): n for path in MODULES.values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    unexpected = {p: n for p, n in long.items() if p not in LONG_MODULES_BEING_SPLIT}
    assert unexpected == {}, f"split these by concern (at most {MAX_LINES} lines): {unexpected}"


def test_the_known_long_modules_are_still_long():
    """An exception outlives its reason: once a module is split, its line above must go."""
    short = [p for p in LONG_MODULES_BEING_SPLIT
             if len((PACKAGE.parent / p).read_text(encoding="utf-8").splitlines()) <= MAX_LINES]
    assert short == [], f"remove these from LONG_MODULES_BEING_SPLIT: {short}"


def test_no_import_cycles():
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _allowed(importer: str, imported: str) -> bool:
    a, b = _stage(importer), _stage(imported)
    if a is None or b is None or a == b:
        return True
    if b == "render" and a in MAY_IMPORT_RENDER:
        return True
    return RANK[b] < RANK[a]


def test_a_stage_imports_only_earlier_stages():
    wrong = sorted((a, b) for a, targets in GRAPH.items() for b in targets
                   if not _allowed(a, b) and (a, b) not in STAGE_EXCEPTIONS)
    assert wrong == [], "imports against the stage order spec < read < checks < intake < packs < author, render < cli: " + ", ".join(
        f"{a} -> {b}" for a, b in wrong)


def test_the_stage_exceptions_are_still_needed():
    stale = [pair for pair in STAGE_EXCEPTIONS if pair[1] not in GRAPH.get(pair[0], set())]
    assert stale == [], f"remove these from STAGE_EXCEPTIONS: {stale}"


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_folder_says_what_it_takes_and_gives(stage):
    init = PACKAGE / stage / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 8, f"{init} needs a docstring saying what the stage takes and gives"


def _function_level_imports(tree: ast.Module):
    """Import statements inside functions (at any depth) that name a kpd_returns module."""
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("kpd_returns")):
                    yield node
                elif isinstance(node, ast.Import) and any(a.name.startswith("kpd_returns") for a in node.names):
                    yield node


def _says_why(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or on the line above it (above a run of imports, for a group)."""
    if "#" in lines[lineno - 1]:
        return True
    above = lineno - 2
    while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
        above -= 1
    return above >= 0 and lines[above].strip().startswith("#")


def test_each_import_inside_a_function_says_why():
    """Imports belong at the top of a module; one inside a function is there for a reason worth writing
    down (issue 11 item 9: 114 imports sat inside functions, several only to dodge a cycle)."""
    silent = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in _function_level_imports(ast.parse(text)):
            if not _says_why(lines, node.lineno):
                silent.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert silent == [], "move these to the top of their module, or say on or above the line why not: " + "; ".join(
        silent)


def test_the_import_check_sees_a_silent_import():
    lines = ["def f():", "    from .x import y", "", "def g():", "    # heavy: only when asked", "    from .a import b",
             "    from .c import d", "    from .e import f  # at call time: a cycle"]
    nodes = list(_function_level_imports(ast.parse("\n".join(lines))))
    assert [_says_why(lines, n.lineno) for n in nodes] == [False, True, True, True]
