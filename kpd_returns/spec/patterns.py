"""A field's ``pattern`` is checked when the spec is loaded, so no cell can make ``validate`` hang.

Python's ``re`` backtracks, and has no time limit: ``(a+)+$`` against thirty ``a``s and a ``b``
tries every way of splitting the ``a``s (exponential time), and ``\\d*\\d*\\d*x`` against 4,000
digits takes minutes (polynomial). Rather than add a regex engine with timeouts, kpd-returns
refuses the shapes that backtrack badly, when the spec is loaded, with one sentence naming the
key (the spec is then set aside: a bad spec costs only its own return):

* a pattern of more than 200 characters;
* a repeated part (``+``, ``*``, ``{2,}``, ``{2}`` ...) that can match text of different lengths
  (a quantifier inside a quantified group, ``(a+)+``, ``(\\d{1,3}-)*``, or a back-reference) or
  holds an alternation (``(a|ab)+``);
* more than two open-ended quantifiers (``*``, ``+``, ``{n,}`` or a maximum over 100).

What is left matches in at most quadratic time in the text, and the checks try a pattern only on
text within the field's ``max_length`` (longer text is already an error of its own).

The sample profile's file-name pattern (``[samples] file_name``) and each mistake's ``file`` are
checked here too: a plain ``.xlsx`` file name, so ``"../../x"`` cannot write outside the output folder.
"""

from __future__ import annotations

import re
import string

try:  # Python 3.11 and later
    import re._parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]

MAX_PATTERN_LENGTH = 200
MAX_OPEN_ENDED = 2
_OPEN_ENDED_FROM = 100  # a maximum above this counts as open-ended
_REPEATS = {name for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_sre, name)}


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used as a field's pattern (a phrase), or None."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is {len(pattern)} characters long; the most is {MAX_PATTERN_LENGTH}"
    try:
        re.compile(pattern)
        tree = _sre.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"the pattern is not a regular expression ({exc})"
    open_ended = 0
    for op, av in _nodes(tree):
        name = str(op)
        if name in _REPEATS:
            low, high, body = av
            if high > _OPEN_ENDED_FROM:
                open_ended += 1
            if high > 1 and (_has_branch(body) or _variable(body)):
                return ("the pattern repeats a part that can match in more than one way (a quantifier inside a "
                        "repeated group, or an alternation or back-reference inside one), which can make checking a "
                        "cell take hours: repeat only fixed-length parts, e.g. (\\d{2}-)+ or [A-Z]+")
    if open_ended > MAX_OPEN_ENDED:
        return (f"the pattern has {open_ended} open-ended quantifiers (*, + or {{n,}}); the most is {MAX_OPEN_ENDED}, "
                "as more can make checking a cell take hours")
    return None


def _variable(body) -> bool:
    low, high = body.getwidth()
    return low != high


def _has_branch(body) -> bool:
    return any(str(op) in ("BRANCH", "GROUPREF", "GROUPREF_EXISTS") for op, _ in _nodes(body))


def _nodes(tree):
    """Every (op, argument) in a parsed pattern, nested parts included, without recursion."""
    stack = [tree]
    while stack:
        for op, av in stack.pop():
            yield op, av
            name = str(op)
            if name in _REPEATS:
                stack.append(av[2])
            elif name == "SUBPATTERN":
                stack.append(av[-1])
            elif name == "BRANCH":
                stack.extend(av[1])
            elif name in ("ASSERT", "ASSERT_NOT"):
                stack.append(av[1])
            elif name == "ATOMIC_GROUP":
                stack.append(av)
            elif name == "GROUPREF_EXISTS":
                stack.extend(p for p in av[1:] if p is not None)


def sample_names_problem(samples: dict) -> str | None:
    """``"@samples.file_name: why"`` when the sample profile's file names are not plain .xlsx names, else None."""
    pattern = samples.get("file_name")
    if pattern is not None:
        try:
            fields = {name for _text, name, _spec, _conv in string.Formatter().parse(str(pattern)) if name is not None}
        except ValueError as exc:
            return f"@samples.file_name: the file-name pattern cannot be read ({exc})"
        if not fields <= {"provider", "contract", "period"}:
            return "@samples.file_name: the file-name pattern may use only {provider}, {contract} and {period}"
        problem = _plain_name(str(pattern))
        if problem:
            return f"@samples.file_name: {problem}"
    for i, mistake in enumerate(samples.get("mistakes", []) if isinstance(samples.get("mistakes"), list) else []):
        name = mistake.get("file") if isinstance(mistake, dict) else None
        problem = _plain_name(name) if name is not None else None
        if problem:
            return f"@samples.mistakes.{i}.file: {problem}"
    return None


def _plain_name(name) -> str | None:
    if (not isinstance(name, str) or not name.lower().endswith(".xlsx") or name.startswith(".")
            or any(c in name for c in "/\\:\0") or len(name) > 200):
        return (f"'{str(name)[:80]}' is not a plain file name ending .xlsx (no folder, no '/' or '\\', not "
                "starting with '.'): samples are written only into their own folder")
    return None
