"""The personal data guard: MI must be anonymised (AtW 7.25, 7.27, 7.31).

Every text cell whose field has ``checks_personal_data`` (free text and staff lists, by
default every text field) is scanned for:

* National Insurance numbers: two letters, six digits (spaces allowed in pairs) and an
  optional suffix A-D. HMRC's unallocated prefixes are *not* excluded: the specimen
  number QQ123456C is what people paste into test data, and excluding prefixes would
  save almost no false positives (most two-letter prefixes are valid);
* e-mail addresses;
* UK phone numbers: mobiles (07..., +44 7...) and landlines (01, 02, 03), with spaces,
  dashes, brackets or +44 (0);
* dates of birth: a date written after "DOB", "D.O.B.", "born" or "date of birth"
  (a date on its own is not flagged: free text legitimately mentions dates);
* full UK postcodes ("SW1A 1AA", "M1 1AE"); an outward code alone ("M1") is not flagged.

Each kind found gives one ``personal-data`` error at the cell. The finding never holds
the value itself: ``found`` is a masked rendering ("QQ*****6C", "j***@***.com",
"07*** ***123") and the message names only the kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .context import FileCheck

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]?(?![A-Za-z0-9])")
_DATE = r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9},?\s+\d{4})"
_DOB = re.compile(r"(?<![A-Za-z])(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:\-]?\s*(" + _DATE + ")",
                  re.I)
_PHONE = re.compile(r"(?<![\w+])\(?(?:\+44|0044|0)\)?[\s\-]?(?:\(0\)[\s\-]?)?[1237](?:[\s\-()]{0,2}\d){8,9}(?!\d)")
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])", re.I)


def _mask(text: str, keep_start: int, keep_end: int) -> str:
    """Replace letters and digits with '*', except the first and last few; keep separators."""
    positions = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set(positions[:keep_start]) | set(positions[len(positions) - keep_end:] if keep_end else [])
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(text))


def _mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@***.{domain.rpartition('.')[2]}"


def _mask_dob(match: re.Match) -> str:
    start, end = match.span(1)
    text = match.string
    return text[match.start():start] + _mask(text[start:end], 0, 0)


def mask_text(text: str) -> str:
    """Any text that may hold personal data: its first two characters, then stars."""
    return text[:2] + "*" * min(8, max(1, len(text) - 2))


# (detail for the message, pattern, masker) in scanning order: a match is blanked out
# before the next kind is looked for, so an e-mail address is not also a postcode.
KINDS: list[tuple[str, re.Pattern, Callable[[re.Match], str]]] = [
    ("an e-mail address", _EMAIL, lambda m: _mask_email(m.group(0))),
    ("a National Insurance number", _NINO, lambda m: _mask(m.group(0), 2, 2)),
    ("a date of birth", _DOB, _mask_dob),
    ("a phone number", _PHONE, lambda m: _mask(m.group(0), 2, 3)),
    ("a postcode", _POSTCODE, lambda m: _mask(m.group(0), 2, 0)),
]

# The paragraph to cite, by the spec's guidance source; others cite the field's own.
GUIDANCE = {"AtW": "AtW 7.25"}


def scan(text: str) -> list[tuple[str, str]]:
    """(kind, masked rendering) for each kind of personal data in ``text``, first match of each."""
    out = []
    for kind, pattern, masker in KINDS:
        match = pattern.search(text)
        if match is None:
            continue
        out.append((kind, masker(match)))
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return out


def check_personal_data(fc: FileCheck) -> None:
    """``personal-data`` at each text cell that looks like it holds personal data."""
    idx = fc.idx
    cite = GUIDANCE.get(fc.spec.guidance_short)
    for (fid, key), value in list(fc.data.values.items()):
        field = idx.field_of[fid]
        if not isinstance(value, str) or not field.checks_personal_data:
            continue
        for kind, masked in scan(value):
            fc.add("personal-data", fid, key, guidance=cite or field.guidance, found=masked, detail=kind,
                   invalid=True)
