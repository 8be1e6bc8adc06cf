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

import json
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


# What json.dumps(..., ensure_ascii=False) leaves raw that a terminal would act on: DEL and the C1
# controls, lone surrogates (they cannot even be encoded), the bidirectional marks, embeddings,
# overrides and isolates, and the Unicode line and paragraph separators. (It escapes C0 itself.)
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_safe(json_text: str) -> str:
    """JSON text with those characters written as ``\\uXXXX`` escapes: the same JSON value (they can only
    stand inside its strings), still deterministic, and nothing in it can drive or reorder a terminal."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def json_dumps(value: object, **options) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)`` made safe to print (``json_safe``)."""
    return json_safe(json.dumps(value, ensure_ascii=False, **options))


def json_write(value: object, fh, **options) -> None:
    """``json.dump(value, fh, ensure_ascii=False, **options)`` made safe (``json_safe``), written as encoded."""
    for chunk in json.JSONEncoder(ensure_ascii=False, **options).iterencode(value):
        fh.write(json_safe(chunk))


# A text cell beginning with one of these is run as a formula by a spreadsheet program opening a CSV.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A CSV cell's text kept as text in a spreadsheet program: one beginning = + - @ tab or CR gets a
    leading ' (the OWASP advice for CSV injection). Every CSV output of kpd-returns uses this one rule."""
    return "'" + text if text[:1] in _FORMULA_START else text
