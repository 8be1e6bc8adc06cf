"""The project's one expression evaluator: the small language of sample profiles (docs/spec-format.md,
"Sample profile") and, through spec.conditions, of the ``row_condition`` rule kind's conditions.

A profile says how each figure is drawn as a Python-like expression held in the spec file:
``"randint(90, 240)"``, ``"int(active * uniform(0.97, 1.04))"``, ``"[{'ref': case()} for _ in
range(reworks)]"``. Only what is listed here can be evaluated: literals, names from the scope,
arithmetic, comparisons, ``x if c else y``, subscripts and slices, list/dict displays and
comprehensions, and calls of the functions the scope holds. No attribute access, no imports, no
builtins beyond ``FUNCTIONS``: a spec file cannot run arbitrary code. Evaluation order is Python's
(left to right, dict key before value, nested comprehensions per outer item), so a profile draws
its random numbers in exactly the order it is written.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from typing import Any

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitOr: operator.or_}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b}

# Pure helpers every profile may call (the random and calendar ones are added per series).
FUNCTIONS: dict[str, Any] = {
    "int": int, "float": float, "round": round, "min": min, "max": max, "len": len, "sum": sum, "abs": abs,
    "range": range, "enumerate": enumerate, "zip": lambda *xs: list(zip(*xs)), "str": str, "bool": bool,
    "items": lambda d: list(d.items()), "get": lambda d, k, default=None: d.get(k, default), "fmt": lambda pattern, *args: pattern.format(*args),
    "join": lambda sep, parts: sep.join(parts),
}


class ProfileError(ValueError):
    """A sample profile expression that cannot be read or evaluated."""


@lru_cache(maxsize=None)
def parse(text: str) -> ast.expr:
    try:
        # In brackets, so an expression may run over several lines of a TOML multi-line string.
        return ast.parse(f"(\n{text.strip()}\n)", mode="eval").body
    except SyntaxError as exc:
        raise ProfileError(f"cannot read the expression {text!r}: {exc.msg}") from None


def evaluate(text: str, scope: dict[str, Any]) -> Any:
    """The value of the expression ``text`` with the names of ``scope``."""
    return _Eval(scope).run(parse(text))


class _Eval:
    def __init__(self, scope: dict[str, Any]):
        self.scope = scope

    def run(self, node: ast.AST) -> Any:
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            raise ProfileError(f"'{ast.unparse(node)}' uses {type(node).__name__}, which profiles cannot use")
        return handler(node)

    def _Constant(self, node):
        return node.value

    def _Name(self, node):
        if node.id in self.scope:
            return self.scope[node.id]
        if node.id in FUNCTIONS:
            return FUNCTIONS[node.id]
        raise ProfileError(f"unknown name '{node.id}'")

    def _BinOp(self, node):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ProfileError(f"operator in '{ast.unparse(node)}' is not allowed")
        return op(self.run(node.left), self.run(node.right))

    def _UnaryOp(self, node):
        value = self.run(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.Not):
            return not value
        raise ProfileError(f"operator in '{ast.unparse(node)}' is not allowed")

    def _BoolOp(self, node):
        value = None
        for part in node.values:
            value = self.run(part)
            if isinstance(node.op, ast.And) and not value or isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _Compare(self, node):
        left = self.run(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.run(right_node)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, node):
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _Call(self, node):
        func = self.run(node.func)
        if not callable(func) or node.keywords and any(k.arg is None for k in node.keywords):
            raise ProfileError(f"'{ast.unparse(node)}' is not a call profiles can make")
        args = [self.run(a) for a in node.args]
        kwargs = {k.arg: self.run(k.value) for k in node.keywords}
        return func(*args, **kwargs)

    def _Subscript(self, node):
        return self.run(node.value)[self.run(node.slice)]

    def _Slice(self, node):
        part = lambda n: None if n is None else self.run(n)  # noqa: E731
        return slice(part(node.lower), part(node.upper), part(node.step))

    def _List(self, node):
        return [self.run(e) for e in node.elts]

    def _Tuple(self, node):
        return tuple(self.run(e) for e in node.elts)

    def _Dict(self, node):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                raise ProfileError("'**' is not allowed in a profile's dict")
            key = self.run(k)
            out[key] = self.run(v)
        return out

    def _JoinedStr(self, node):
        return "".join(str(self.run(v)) for v in node.values)

    def _FormattedValue(self, node):
        spec = "" if node.format_spec is None else self.run(node.format_spec)
        return format(self.run(node.value), spec)

    # -- comprehensions: each generator is evaluated once per item of the one before it
    def _comprehend(self, generators: list[ast.comprehension], emit) -> None:
        first, rest = generators[0], generators[1:]
        # Only the loop's own names are restored afterwards: a counter a call moved stays moved.
        names = [n.id for n in ast.walk(first.target) if isinstance(n, ast.Name)]
        missing = object()
        saved = {n: self.scope.get(n, missing) for n in names}
        for item in self.run(first.iter):
            self._bind(first.target, item)
            if all(self.run(cond) for cond in first.ifs):
                if rest:
                    self._comprehend(rest, emit)
                else:
                    emit()
        for name, value in saved.items():
            if value is missing:
                self.scope.pop(name, None)
            else:
                self.scope[name] = value

    def _bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.scope[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            values = list(value)
            if len(values) != len(target.elts):
                raise ProfileError(f"cannot unpack {len(values)} values into '{ast.unparse(target)}'")
            for t, v in zip(target.elts, values):
                self._bind(t, v)
        else:
            raise ProfileError(f"cannot assign to '{ast.unparse(target)}'")

    def _ListComp(self, node):
        out: list = []
        self._comprehend(node.generators, lambda: out.append(self.run(node.elt)))
        return out

    def _DictComp(self, node):
        out: dict = {}

        def emit():
            key = self.run(node.key)
            out[key] = self.run(node.value)
        self._comprehend(node.generators, emit)
        return out
