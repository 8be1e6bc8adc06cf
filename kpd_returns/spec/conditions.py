"""Conditions over the cells of one row: the ``row_condition`` rule kind's ``when`` (docs/spec-format.md).

A condition is an expression of the project's one evaluator (spec.expr) in a small dialect, over the
field ids of one list row (or one grid column, or a form):

* ``and``, ``or``, ``not``; comparisons ``==  !=  <  <=  >  >=``; ``in [...]`` and ``not in [...]`` with
  a list of constants; ``+ - * /`` and unary ``-``; numbers, "strings" and brackets;
* ``blank(x)`` and ``filled(x)``, ``x`` a field id: whether the cell is empty;
* a blank cell is None: ``x == "a"`` is false and ``x != "a"`` true on a blank; an ordering comparison
  with a blank side, or arithmetic over a blank cell (or a division by 0), makes that comparison false;
  strings compare without regard to case (as a spreadsheet does).

``problem`` vets a condition when the spec is checked (syntax, the dialect, the names); ``holds``
evaluates it for one row; ``to_excel`` writes the same condition as a spreadsheet formula over the row's
cells, 1 where it holds, for the template's Checks sheet.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from .expr import _BINARY, ProfileError, _Eval, parse

HELPERS = ("blank", "filled")
_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_EXCEL_OPS = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_UNKNOWN = object()  # arithmetic over a blank cell: any comparison with it is false


def names_in(text: str) -> list[str]:
    """The field ids a condition reads, in order of first use."""
    return list(dict.fromkeys(n.id for n in ast.walk(parse(text)) if isinstance(n, ast.Name) and n.id not in HELPERS))


def problem(text: str, names: Iterable[str]) -> str | None:
    """Why ``text`` is not a condition over ``names`` (one plain phrase), or None when it is."""
    try:
        node = parse(text)
    except ProfileError as exc:
        return str(exc)
    known = set(names)
    try:
        _vet_bool(node, known)
    except ProfileError as exc:
        return str(exc)
    return None


def _vet_bool(node: ast.AST, known: set[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _vet_bool(v, known)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _vet_bool(node.operand, known)
    elif isinstance(node, ast.Compare):
        _vet_value(node.left, known)
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not (isinstance(right, (ast.List, ast.Tuple)) and right.elts
                        and all(isinstance(e, ast.Constant) for e in right.elts)):
                    raise ProfileError(f"'{ast.unparse(node)}': 'in' takes a list of constants, as in x in [\"a\", \"b\"]")
            elif type(op) in _EXCEL_OPS:
                _vet_value(right, known)
            else:
                raise ProfileError(f"'{ast.unparse(node)}' uses a comparison conditions cannot use")
    elif isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in HELPERS and len(node.args) == 1
                and not node.keywords and isinstance(node.args[0], ast.Name)):
            raise ProfileError(f"'{ast.unparse(node)}' is not a call conditions can make: blank(x) or filled(x), "
                               "x a field id")
        _vet_name(node.args[0], known)
    else:
        raise ProfileError(f"'{ast.unparse(node)}' is not true or false: compare it (x > 0), or write filled(x)")


def _vet_value(node: ast.AST, known: set[str]) -> None:
    if isinstance(node, ast.Name):
        _vet_name(node, known)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
            raise ProfileError(f"'{ast.unparse(node)}' is not a number or a string")
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        _vet_value(node.left, known)
        _vet_value(node.right, known)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _vet_value(node.operand, known)
    else:
        raise ProfileError(f"'{ast.unparse(node)}' is not a field id, a number, a string or arithmetic on them")


def _vet_name(node: ast.Name, known: set[str]) -> None:
    if node.id not in known:
        raise ProfileError(f"unknown name '{node.id}' (the row's field ids: {', '.join(sorted(known))})")


# -- evaluation ----------------------------------------------------------------------------------
class _Condition(_Eval):
    """spec.expr's evaluator with blank cells as None, as the module notes say."""

    def __init__(self, values: dict[str, Any], filled: Callable[[str], bool]):
        super().__init__(dict(values))
        self.filled = filled

    def _Name(self, node):
        return self.scope.get(node.id)

    def _BinOp(self, node):
        left, right = self.run(node.left), self.run(node.right)
        if not isinstance(left, (int, float)) or not isinstance(right, (int, float)):
            return _UNKNOWN
        if isinstance(node.op, ast.Div) and right == 0:
            return _UNKNOWN
        return _BINARY[type(node.op)](left, right)

    def _UnaryOp(self, node):
        if isinstance(node.op, ast.USub):
            value = self.run(node.operand)
            return -value if isinstance(value, (int, float)) else _UNKNOWN
        return not self.run(node.operand)

    def _Compare(self, node):
        left = self.run(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.run(right_node)
            if not _compare(op, left, right):
                return False
            left = right
        return True

    def _Call(self, node):
        filled = self.filled(node.args[0].id)
        return filled if node.func.id == "filled" else not filled


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if left is _UNKNOWN or right is _UNKNOWN:
        return False
    if isinstance(op, (ast.In, ast.NotIn)):
        found = left is not None and any(_fold(left) == _fold(c) for c in right)
        return found if isinstance(op, ast.In) else not found
    if isinstance(op, (ast.Eq, ast.NotEq)):
        same = _fold(left) == _fold(right)
        return same if isinstance(op, ast.Eq) else not same
    if left is None or right is None:
        return False
    try:
        return {ast.Lt: left < right, ast.LtE: left <= right, ast.Gt: left > right, ast.GtE: left >= right}[type(op)]
    except TypeError:  # a text against a number: not comparable, so not the problem the condition names
        return False


def holds(text: str, values: dict[str, Any], filled: Callable[[str], bool] | None = None) -> bool:
    """Whether the condition holds for one row: ``values`` maps field ids to usable values (None: blank or
    not valid); ``filled`` says whether a cell holds anything at all (by default: its value is not None)."""
    filled = filled or (lambda fid: values.get(fid) is not None)
    return bool(_Condition(values, filled).run(parse(text)))


# -- the spreadsheet twin ------------------------------------------------------------------------
def to_excel(text: str, ref: Callable[[str], str], numeric: Callable[[str], bool]) -> str:
    """The condition as a spreadsheet expression that is 1 where it holds and 0 elsewhere, written with
    ``*`` and ``+`` (never AND/OR) so it works cell by cell in an array formula. ``ref`` gives a field's
    cells, ``numeric`` whether a field holds numbers or dates (tested with ISNUMBER, others with LEN)."""
    return _Excel(ref, numeric).bool(parse(text))


class _Excel:
    def __init__(self, ref: Callable[[str], str], numeric: Callable[[str], bool]):
        self.ref, self.numeric = ref, numeric

    def filled(self, name: str) -> str:
        return f"(LEN(TRIM({self.ref(name)}))>0)"

    def present(self, name: str) -> str:
        return f"ISNUMBER({self.ref(name)})" if self.numeric(name) else self.filled(name)

    def bool(self, node: ast.AST) -> str:
        if isinstance(node, ast.BoolOp):
            parts = [self.bool(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return "(" + "*".join(parts) + ")"
            return "((" + "+".join(parts) + ")>0)"
        if isinstance(node, ast.UnaryOp):
            return f"(1-{self.bool(node.operand)})"
        if isinstance(node, ast.Call):
            filled = self.filled(node.args[0].id)
            return filled if node.func.id == "filled" else f"(1-{filled})"
        pairs, left = [], node.left
        for op, right in zip(node.ops, node.comparators):
            pairs.append(self.compare(op, left, right))
            left = right
        return "(" + "*".join(pairs) + ")"

    def value(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return self.ref(node.id)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return '"' + node.value.replace('"', '""') + '"'
            return repr(node.value)
        if isinstance(node, ast.UnaryOp):
            return f"(-{self.value(node.operand)})"
        return f"({self.value(node.left)}{_ARITH[type(node.op)]}{self.value(node.right)})"

    def compare(self, op: ast.cmpop, left: ast.AST, right: ast.AST) -> str:
        if isinstance(op, (ast.In, ast.NotIn)):
            v = self.value(left)
            found = "((" + "+".join(f"({v}={self.value(c)})" for c in right.elts) + ")>0)"
            if isinstance(left, ast.Name):
                found = f"({self.filled(left.id)}*{found})"
            return found if isinstance(op, ast.In) else f"(1-{found})"
        arithmetic = [f"ISNUMBER({self.ref(n.id)})" for side in (left, right) if not isinstance(side, (ast.Name, ast.Constant))
                      for n in ast.walk(side) if isinstance(n, ast.Name)]  # every cell in arithmetic is a number
        sign = _EXCEL_OPS[type(op)] if isinstance(op, _ORDER) else "="  # != is 1 minus ==, blanks and all
        body = f"({self.value(left)}{sign}{self.value(right)})"
        if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for s in (left, right) for n in ast.walk(s)):
            body = f"IFERROR({body},FALSE)"  # a division by 0 is no problem the condition names
        names = [s.id for s in (left, right) if isinstance(s, ast.Name)]
        if isinstance(op, _ORDER):
            return "(" + "*".join(arithmetic + [self.present(n) for n in names] + [body]) + ")"
        # A blank equals only a blank: x == "a" is 0 on a blank, x != "a" is 1.
        if len(names) == 2:
            a, b = (self.filled(n) for n in names)
            same = f"(((1-{a})*(1-{b})+{a}*{b}*{body})>0)"
        else:
            same = "(" + "*".join([self.filled(n) for n in names] + [body]) + ")"
        result = same if isinstance(op, ast.Eq) else f"(1-{same})"
        return "(" + "*".join(arithmetic + [result]) + ")"
