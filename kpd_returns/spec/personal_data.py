"""The personal data guard: MI must be anonymised (AtW 7.25, 7.27, 7.31).

Every text cell is scanned (a field may relax *which* kinds are looked for with
``personal_data_skip`` in its spec, never switch the scan off) for:

* National Insurance numbers: two letters, six digits and a suffix A-D, written
  compactly (``AB123456C``) or with spaces, dashes, dots, slashes or underscores
  between the groups (``AB 12 34 56 C``, ``JK-31-41-59-D``, ``AB/123456/C``,
  ``AB 123 456 C``). Without a suffix the digits must be compact or split by spaces
  only, so "on 12/05/26" (a date) is not an NI number. HMRC's unallocated prefixes
  are *not* excluded: the specimen number QQ123456C is what people paste into test
  data;
* e-mail addresses;
* UK phone numbers: mobiles (07..., +44 7...), landlines (01, 02, 03) and 08
  numbers (0800, 0845...), with spaces, dashes, brackets or +44 (0);
* dates of birth: a date written after "DOB", "D.O.B.", "b.", "born", "birthday",
  "birth date" or "date of birth" (a date on its own is not flagged: free text
  legitimately mentions dates);
* full UK postcodes ("SW1A 1AA", "M1 1AE"); an outward code alone ("M1") is not flagged.

Before matching, the text is normalised one character at a time: every Unicode space
(no-break, thin, ideographic...) becomes a plain space, every dash (en, em, minus...)
a hyphen, zero-width and other invisible format characters are dropped, and
full-width letters and digits become ASCII (NFKC). Each normalised character remembers
where it came from, so masking replaces the right characters of the *original* text.

``mask_all`` is the one masking every output uses: findings (``findings.make``),
file and attachment names, annotated copies. The masked renderings ("QQ*****6C",
"j***@***.com", "07*** ***123") never match again, so masking twice changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # mask_all is used by every output: importing it must cost nothing more
    from ..checks.context import FileCheck

_EMAIL = re.compile(r"[\w.%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SEP = r"[ ./_-]"
_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}(?:"
    # with the suffix letter: any separators between the groups
    rf"{_SEP}{{0,2}}(?:\d{{6}}|\d{{2}}{_SEP}{{1,2}}\d{{2}}{_SEP}{{1,2}}\d{{2}}|\d{{3}}{_SEP}{{1,2}}\d{{3}})"
    rf"{_SEP}{{0,2}}[A-Da-d]"
    # without it: six digits together, or in pairs or threes split by spaces only
    rf"|{_SEP}{{0,2}}\d{{6}}| {{0,2}}(?:\d{{2}} {{1,2}}\d{{2}} {{1,2}}\d{{2}}|\d{{3}} {{1,2}}\d{{3}})"
    r")(?![A-Za-z0-9])")
_DATE = r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)? +[A-Za-z]{3,9},? +\d{4})"
_DOB = re.compile(r"(?<![A-Za-z])(?:d\.? ?o\.? ?b\.?|date +of +birth|birth ?date|birthday|born(?: +on)?|b\.)"
                  r" *[:\-]? *(" + _DATE + ")", re.I)
_PHONE = re.compile(r"(?<![\w+])\(?(?:\+44|0044|0)\)?[ \-]?(?:\(0\)[ \-]?)?[12378](?:[ \-()]{0,2}\d){8,9}(?!\d)")
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ _]{0,2}\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])",
                       re.I)

_SHORT_NUMBER = re.compile(r"[\d.eE+-]{0,8}\Z")

# The kinds a field may skip (FieldSpec.personal_data_skip), in scanning order.
KIND_IDS = ("email", "ni_number", "date_of_birth", "phone", "postcode")


def _mask(text: str, keep_start: int, keep_end: int) -> str:
    """Replace letters and digits with '*', except the first and last few; keep separators."""
    positions = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set(positions[:keep_start]) | set(positions[len(positions) - keep_end:] if keep_end else [])
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(text))


def _mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@***.{domain.rpartition('.')[2]}"


class _Kind(NamedTuple):
    id: str
    detail: str  # for the message: "looks like it contains {detail}"
    pattern: re.Pattern
    masker: Callable[[str, tuple[int, int] | None], str]  # (original text of the match, date span in it)


def _mask_dob(text: str, date: tuple[int, int] | None) -> str:
    start, end = date or (0, len(text))
    return text[:start] + _mask(text[start:end], 0, 0) + text[end:]


# In scanning order: a match is blanked out before the next kind is looked for, so an
# e-mail address is not also a postcode.
KINDS: list[_Kind] = [
    _Kind("email", "an e-mail address", _EMAIL, lambda t, _d: _mask_email(t)),
    _Kind("ni_number", "a National Insurance number", _NINO, lambda t, _d: _mask(t, 2, 2)),
    _Kind("date_of_birth", "a date of birth", _DOB, _mask_dob),
    _Kind("phone", "a phone number", _PHONE, lambda t, _d: _mask(t, 2, 3)),
    _Kind("postcode", "a postcode", _POSTCODE, lambda t, _d: _mask(t, 2, 0)),
]

# The paragraph to cite, by the spec's guidance source; others cite the field's own.


# Every kind of personal data holds a digit (NI number, phone, postcode, date of birth) or an @
# (e-mail): plain ASCII text with neither is skipped before the costly normalisation. Text with
# any other character always takes the full path (NFKC can turn many characters into a digit).
_ASCII_DIGIT_OR_AT = re.compile(r"[0-9@]")


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as matched (see the module notes) and, for each of its characters, its index in ``text``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            rep = " "
        elif ch.isascii():
            rep = ch
        else:
            cat = unicodedata.category(ch)
            if cat == "Cf":  # zero-width space and joiners, soft hyphen, byte-order mark...
                continue
            rep = "-" if cat == "Pd" or ch == "\u2212" else unicodedata.normalize("NFKC", ch)
        out.append(rep)
        where.extend([i] * len(rep))
    return "".join(out), where


class Match(NamedTuple):
    kind: str  # one of KIND_IDS
    detail: str
    start: int  # in the original text
    end: int
    masked: str


def find_all(text: str, skip: Iterable[str] = ()) -> list[Match]:
    """Every piece of personal data in ``text`` (positions in the original text), kinds in scanning order."""
    if len(text) < 5 or _SHORT_NUMBER.match(text):  # most cells: no kind of personal data fits
        return []
    if text.isascii() and not _ASCII_DIGIT_OR_AT.search(text):  # no kind fits without a digit or an @
        return []
    norm, where = normalise(text)
    skip = set(skip)
    out: list[Match] = []
    for kind in KINDS:
        if kind.id in skip:
            continue
        found = list(kind.pattern.finditer(norm))
        for m in found:
            start, end = where[m.start()], where[m.end() - 1] + 1
            date = None
            if m.re is _DOB:
                date = (where[m.start(1)] - start, where[m.end(1) - 1] + 1 - start)
            out.append(Match(kind.id, kind.detail, start, end, kind.masker(text[start:end], date)))
        if found:
            norm = kind.pattern.sub(lambda m: " " * len(m.group(0)), norm)
    return out


def scan(text: str, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(kind, masked rendering) for each kind of personal data in ``text``, first match of each."""
    seen: dict[str, tuple[str, str]] = {}
    for m in find_all(text, skip):
        seen.setdefault(m.kind, (m.detail, m.masked))
    return list(seen.values())


def mask_all(text: str, skip: Iterable[str] = ()) -> str:
    """``text`` with every piece of personal data in it replaced by its masked rendering."""
    if not isinstance(text, str):
        return text
    matches = sorted(find_all(text, skip), key=lambda m: m.start)
    if not matches:
        return text
    parts, at = [], 0
    for m in matches:
        if m.start < at:  # overlapping spans cannot happen (matches are blanked), but never unmask
            continue
        parts += [text[at:m.start], m.masked]
        at = m.end
    parts.append(text[at:])
    return "".join(parts)


_FORMULA_TEXT = re.compile(r'"(?:[^"]|"")*"')


def mask_formula(formula: str) -> str:
    """A formula with personal data masked in its text literals only: a reference such as AB123456
    (column AB, row 123456) has the shape of an NI number, and a formula must keep working."""
    return _FORMULA_TEXT.sub(lambda m: mask_all(m.group(0)), formula)


def check_personal_data(fc: "FileCheck") -> None:
    """``personal-data`` at each text cell that looks like it holds personal data."""
    idx = fc.idx
    for (fid, key), value in list(fc.data.values.items()):
        field = idx.field_of[fid]
        if not isinstance(value, str):
            continue
        for kind, masked in scan(value, field.personal_data_skip):
            # Cited to the spec's personal_data_basis: a sentence of the guidance or the project's own protection.
            fc.add("personal-data", fid, key, guidance=field.guidance, found=masked, detail=kind,
                   invalid=True, basis=fc.spec.personal_data_basis)
