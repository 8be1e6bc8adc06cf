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
    return sum(max(1, -(-len(part) // per_line)) for part in value.split("\n"))


def row_points(cells: list[tuple[Any, float]]) -> int | None:
    """The height a row of (text, column width) needs, or None when one line is enough."""
    lines = max((wrapped_lines(text, width) for text, width in cells), default=1)
    return LINE_POINTS * lines if lines > 1 else None
