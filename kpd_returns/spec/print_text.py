"""Rows tall enough for their wrapped text, shared by every workbook kpd-returns writes.

Neither Excel nor LibreOffice grows a row written by a script when it prints: without a height,
wrapped text prints over the next row or is cut off (issue 12; issue 19 item 19)."""

from __future__ import annotations

from typing import Any

LINE_POINTS = 15  # points per line of 11-point text


def wrapped_lines(value: Any, width: float) -> int:
    """Lines a text takes in a column ``width`` characters wide (a generous estimate: wider is blank space,
    narrower is text printed over the next row)."""
    if not isinstance(value, str) or not value:
        return 1
    per_line = max(int(width) - 1, 1)
    return sum(_paragraph_lines(part, per_line) for part in value.split("\n"))


def _paragraph_lines(text: str, per_line: int) -> int:
    """Spreadsheet programs wrap at spaces: "Late by (working days)" in a column 12 wide takes three
    lines, not two. The greater of a word-by-word fill and the character count."""
    lines, used = 1, 0
    for word in text.split(" "):
        size = len(word)
        if used and used + 1 + size > per_line:
            lines, used = lines + 1, 0
        if size > per_line:  # a word longer than the line is broken across lines
            lines += (size - 1) // per_line
            size = (size - 1) % per_line + 1
        used = used + (1 if used else 0) + size
    return max(lines, -(-len(text) // per_line))


def row_points(cells: list[tuple[Any, float]]) -> int | None:
    """The height a row of (text, column width) needs, or None when one line is enough."""
    lines = max((wrapped_lines(text, width) for text, width in cells), default=1)
    return LINE_POINTS * lines if lines > 1 else None
