"""Counts in words, shared by every output: "1 file", "2 files", never "1 files" or "contract(s)"
(issue 19 item 20)."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 file', '2 files'; ``many`` for a word that does not just take an s ('entry', 'entries')."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"
