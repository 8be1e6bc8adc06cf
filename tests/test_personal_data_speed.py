"""The personal-data scan is linear in the cell (issue 19 item 3): one Customer Insight Question 2
cell of 32,767 characters ("DOB" and spaces) took 108 s, one long word 12 s.

How it is measured, so that it does not flake on a busy machine: no tight per-cell threshold, and
the CPU time of this process (time.process_time), which another process taking the core does not
inflate, not the time on the clock. Every worst shape is scanned at Excel's 32,767 characters a
cell: the whole table must finish in a generous bound (10 s; about 0.5 s here on 2 busy cores,
while the old code took minutes for the first shape alone), each shape in under 1 s (the old code:
1.8 s to 108 s for each), and each shape must scale linearly: 4 times the text may cost at most
12 times the time of the quarter (a quadratic scan costs 16 times), best of three runs, the quarter
counted as at least 5 ms so that timer noise on tiny times cannot fail it.
"""

from __future__ import annotations

import time

import pytest
from cli_return_helpers import cell_of, fill, validate, write_template
from test_return_insight import insight_cells

from kpd_returns.spec.personal_data import find_all, mask_all, mask_formula, scan

N = 32767  # Excel's limit for the text of one cell


def _fill(unit: str, n: int = N) -> str:
    return (unit * (n // len(unit) + 1))[:n]


# name -> a function of the length giving the text (each shape was quadratic, or close to it, in some
# scanner written so far: unbounded repeats of spaces, of word characters before an @, of dotted groups).
WORST = {
    "DOB and spaces": lambda n: _fill("DOB ", n),
    "DOB then spaces": lambda n: "DOB" + " " * (n - 3),
    "date of birth and spaces": lambda n: _fill("date of birth  ", n),
    "born on and spaces": lambda n: _fill("born on   ", n),
    "one long word": lambda n: "a" * n,
    "one long number": lambda n: "1" * n,
    "zeros": lambda n: "0" * n,
    "many @": lambda n: "@" * n,
    "a word then @": lambda n: "a" * (n - 1) + "@",
    "a@ repeated": lambda n: _fill("a@", n),
    "a @ repeated": lambda n: _fill("a @ ", n),
    "a dotted domain without a top level": lambda n: "jo@" + _fill("b.", n - 3),
    "alternating digit and dash": lambda n: _fill("1-", n),
    "alternating digit and space": lambda n: _fill("1 ", n),
    "alternating digit and dot": lambda n: _fill("0.", n),
    "alternating letter and digit": lambda n: _fill("a1", n),
    "NI prefixes": lambda n: _fill("AB12", n),
    "+44 and spaces": lambda n: _fill("+44 ", n),
    "07 and spaces": lambda n: _fill("07 ", n),
    "postcode halves": lambda n: _fill("SW1A ", n),
    "no-break spaces and digits": lambda n: _fill("\u00a01", n),
    "zero-width spaces and digits": lambda n: _fill("\u200b1", n),
    "full-width digits and @": lambda n: _fill("\uff11\uff20", n),
    "Cyrillic look-alikes": lambda n: _fill("\u0410\u04121", n),
    "accented letters and digits": lambda n: _fill("\u00e91", n),
    "many e-mail addresses": lambda n: _fill("jo@example.com ", n),
    "many NI numbers": lambda n: _fill("AB123456C ", n),
    "many dates of birth": lambda n: _fill("DOB 01/02/1980 ", n),
    "many dates": lambda n: _fill("01/02/2025 ", n),
}
FORMULAS = {  # mask_formula: the text literals of a formula
    "an unterminated literal": lambda n: '="' + "a" * (n - 2),
    "many quotes": lambda n: "=" + '"' * (n - 1),
    "many short literals": lambda n: "=" + _fill('"a"&', n - 1),
}


def _shape(name: str, n: int) -> str:
    """The shape at length n, ending in a digit when it has neither a digit nor an @: text without
    them is skipped before any pattern runs, which would hide a slow pattern."""
    text = WORST[name](n)
    return text if any(ch.isdigit() or ch == "@" for ch in text) else text[:-1] + "1"


def _cost(fn, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        fn(text)
        best = min(best, time.process_time() - start)
    return best


def _scan_and_mask(text: str) -> None:
    find_all(text)
    mask_all(text)


def test_the_worst_shapes_at_32767_characters_take_seconds_not_minutes():
    start = time.process_time()
    for name in WORST:
        _scan_and_mask(_shape(name, N))
    for make in FORMULAS.values():
        mask_formula(make(N))
    assert time.process_time() - start < 10


@pytest.mark.parametrize("name", list(WORST) + [f"formula: {k}" for k in FORMULAS])
def test_each_worst_shape_scales_linearly(name):
    if name.startswith("formula: "):
        make, fn = FORMULAS[name.removeprefix("formula: ")], mask_formula
    else:
        make, fn = (lambda n: _shape(name, n)), _scan_and_mask
    small, large = _cost(fn, make(N // 4)), _cost(fn, make(N))
    assert large < 1, (name, large)
    assert large < 12 * max(small, 0.005), (name, small, large)  # quadratic: 16 times


def test_personal_data_is_still_found_inside_a_long_cell():
    """Linear, and not by giving up: a masked item far into a 32,767-character cell is found."""
    text = _fill("DOB ", N - 40) + " QQ123456C jo@example.com"
    assert [kind for kind, _m in scan(text)] == ["an e-mail address", "a National Insurance number"]
    assert "QQ123456C" not in mask_all(text)


def test_a_customer_insight_return_of_worst_question_2_answers_validates_in_seconds(tmp_path):
    """Through the command line: Question 2 answers of 32,767 characters in the worst shapes, one a
    row, plus one with an e-mail address at its end (which must still be found)."""
    blank = write_template("insight", tmp_path)
    shapes = ["DOB and spaces", "DOB then spaces", "one long word", "one long number", "a@ repeated",
              "a dotted domain without a top level", "alternating digit and dash", "many @"]
    cells = insight_cells()
    for i, name in enumerate(shapes, start=1):
        cells[("q2_reason", f"row{i}")] = _shape(name, N)
        cells[("response_date", f"row{i}")] = cells[("response_date", "row1")]
        cells[("response_channel", f"row{i}")] = "E-mail"
        cells[("q1_satisfaction", f"row{i}")] = "Very satisfied"
    cells[("q2_reason", "row9")] = "x" * (N - 20) + " jo@example.com"
    cells[("response_date", "row9")] = cells[("response_date", "row1")]
    cells[("response_channel", "row9")] = "E-mail"
    cells[("q1_satisfaction", "row9")] = "Very satisfied"
    cells[("very_satisfied", "in_month")] = 9
    for fid in ("fairly_satisfied", "fairly_dissatisfied", "very_dissatisfied"):
        cells[(fid, "in_month")] = 0
    path = fill("insight", blank, cells, tmp_path / "long.xlsx")
    start = time.perf_counter()
    code, report = validate(path)
    elapsed = time.perf_counter() - start
    assert elapsed < 30, elapsed  # the old scan: minutes (108 s for the first answer alone)
    pd = [f for f in report["findings"] if f["code"] == "personal-data"]
    assert [f["ref"] for f in pd] == ["Responses!" + cell_of("insight", "q2_reason", "row9")[1]]
    assert code == 1


def test_the_other_text_checks_are_linear_too():
    """The coded text patterns of the shipped specs (a field's ``pattern``, matched whole) and the
    parsing of a number or date typed as text, over every worst shape at 32,767 characters."""
    import re

    from kpd_returns.read.values import parse
    from kpd_returns.spec.return_spec import load_all

    fields = [f for spec in load_all().values() for _sheet, f in spec.fields_by_id.values()]
    patterns = sorted({f.pattern for f in fields if f.pattern})
    assert patterns  # the KPD period field at least
    typed = list({f.type: f for f in fields if f.type != "text"}.values())  # one field of each type
    shapes = [_shape(name, N) for name in WORST] + [_shape(name, N) + "x" for name in WORST]
    start = time.process_time()
    for text in shapes:
        for pattern in patterns:
            re.fullmatch(pattern, text)
        for field in typed:
            parse(field, text)
    assert time.process_time() - start < 10
