"""Names and text from outside (file names, attachment names, cell text) made safe to show.

A file or attachment name is chosen by whoever sent it. Printed raw, a name such as
``ret\\x1b]0;PWNED\\x07\\x1b[2Jurn.xlsx`` sets the terminal's title and clears the
screen; a name whose bytes are not UTF-8 (Linux keeps them as lone surrogates) cannot
be encoded at all, and stopped the batch. ``safe_name`` gives one printable form,
used everywhere a name is shown or stored (terminal, ledger, summary.json,
workbook): control characters and undecodable bytes become visible escapes
(``\\x1b``, ``\\xff``), and nothing else changes. ``safe_text`` does the same to a
whole line printed to a terminal, keeping its newlines and tabs.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, lone surrogates (undecodable bytes under surrogateescape), and
# the bidirectional overrides that make a name read differently from what it is.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    ch = match.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe_name(name: object) -> str:
    """A name with every control character and undecodable byte shown as an escape."""
    return _UNSAFE.sub(_escape, str(name))


def safe_text(text: object) -> str:
    """A line (or lines) for a terminal: as ``safe_name``, but newlines and tabs kept."""
    text = str(text)
    return _UNSAFE_IN_TEXT.sub(_escape, text)
