"""The personal data guard: MI must be anonymised (AtW 7.25, 7.27, 7.31).

Every text cell is scanned (a field may relax *which* kinds are looked for with
``personal_data_skip`` in its spec, never switch the scan off) for:

* National Insurance numbers: two letters, six digits and a suffix A-D, written
  compactly (``AB123456C``) or with spaces, dashes, dots, slashes, colons or underscores
  between the groups (``AB 12 34 56 C``, ``JK-31-41-59-D``, ``QQ:12:34:56:C``,
  ``AB 123 456 C``). Without a suffix the digits must be compact or split by spaces
  only, so "on 12/05/26" (a date) is not an NI number. HMRC's unallocated prefixes
  are *not* excluded: the specimen number QQ123456C is what people paste into test
  data;
* e-mail addresses, a space either side of the @ allowed, domains in any script;
* UK phone numbers: mobiles (07..., +44 7..., 447...), landlines (01, 02, 03) and 08
  numbers (0800, 0845...), with spaces, dashes, dots, brackets or +44 (0);
* dates of birth: a date written after "DOB", "D.O.B.", "b.", "born", "birthday",
  "birth date" or "date of birth", with "is", "was", "on", ":" or "=" between ("date of
  birth is 14/03/1981", "DOB=02/03/1975"). A date on its own is not flagged: free text
  legitimately mentions dates;
* full UK postcodes ("SW1A 1AA", "M1 1AE", "SW1A-1AA"); an outward code alone ("M1") is not flagged.

Before matching, the text is normalised (``personal_data_shapes.normalise``): every Unicode
space (no-break, thin, ideographic...) becomes a plain space, every dash (en, em, minus...)
a hyphen, zero-width and other invisible format characters are dropped, full-width letters
and digits become ASCII (NFKC) and Cyrillic or Greek letters that look Latin become Latin.
Each normalised character remembers where it came from, so masking replaces the right
characters of the *original* text. Every shape is matched in time linear in the text (see
``personal_data_shapes``): a cell of Excel's 32,767 characters is scanned in milliseconds.

``mask_all`` is the one masking every output uses: findings (``findings.make``),
file and attachment names, annotated copies. The masked renderings ("QQ*****6C",
"j***@***.com", "07*** ***123") never match again, so masking twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from .personal_data_shapes import DOB, NINO, PHONE, POSTCODE, find_emails, normalise

if TYPE_CHECKING:  # mask_all is used by every output: importing it must cost nothing more
    from ..checks.context import FileCheck

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


Span = tuple[int, int, "tuple[int, int] | None"]  # start, end, and the date's span in a date of birth


def _finder(pattern: re.Pattern) -> Callable[[str], Iterator[Span]]:
    def find(norm: str) -> Iterator[Span]:
        for m in pattern.finditer(norm):
            yield m.start(), m.end(), (m.span(1) if pattern.groups else None)
    return find


class _Kind(NamedTuple):
    id: str
    detail: str  # for the message: "looks like it contains {detail}"
    find: Callable[[str], Iterator[Span]]  # in the normalised text
    masker: Callable[[str, tuple[int, int] | None], str]  # (original text of the match, date span in it)


def _mask_dob(text: str, date: tuple[int, int] | None) -> str:
    start, end = date or (0, len(text))
    return text[:start] + _mask(text[start:end], 0, 0) + text[end:]


# In scanning order: a match is blanked out before the next kind is looked for, so an
# e-mail address is not also a postcode.
KINDS: list[_Kind] = [
    _Kind("email", "an e-mail address", find_emails, lambda t, _d: _mask_email(t)),
    _Kind("ni_number", "a National Insurance number", _finder(NINO), lambda t, _d: _mask(t, 2, 2)),
    _Kind("date_of_birth", "a date of birth", _finder(DOB), _mask_dob),
    _Kind("phone", "a phone number", _finder(PHONE), lambda t, _d: _mask(t, 2, 3)),
    _Kind("postcode", "a postcode", _finder(POSTCODE), lambda t, _d: _mask(t, 2, 0)),
]

# Every kind of personal data holds a digit (NI number, phone, postcode, date of birth) or an @
# (e-mail): plain ASCII text with neither is skipped before the costly normalisation. Text with
# any other character always takes the full path (NFKC can turn many characters into a digit).
_ASCII_DIGIT_OR_AT = re.compile(r"[0-9@]")


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
        found = list(kind.find(norm))
        for a, b, span in found:
            start, end = where[a], where[b - 1] + 1
            date = (where[span[0]] - start, where[span[1] - 1] + 1 - start) if span else None
            out.append(Match(kind.id, kind.detail, start, end, kind.masker(text[start:end], date)))
        if found:  # blanked out, so the next kind does not find a part of this one
            parts, at = [], 0
            for a, b, _span in found:
                parts += [norm[at:a], " " * (b - a)]
                at = b
            norm = "".join(parts) + norm[at:]
    return out


def scan(text: str, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(kind, masked rendering) for each kind of personal data in ``text``, first match of each."""
    seen: dict[str, tuple[str, str]] = {}
    for m in find_all(text, skip):
        seen.setdefault(m.kind, (m.detail, m.masked))
    return list(seen.values())


def _pieces(text: str, skip: Iterable[str]) -> list[tuple[str, bool]]:
    """``text`` as pieces (text, is a masked item), the personal data in it masked."""
    parts, at = [], 0
    for m in sorted(find_all(text, skip), key=lambda m: m.start):
        if m.start < at:  # overlapping spans cannot happen (matches are blanked), but never unmask
            continue
        parts += [(text[at:m.start], False), (m.masked, True)]
        at = m.end
    parts.append((text[at:], False))
    return parts


def mask_all(text: str, skip: Iterable[str] = ()) -> str:
    """``text`` with every piece of personal data in it replaced by its masked rendering."""
    if not isinstance(text, str):
        return text
    parts = _pieces(text, skip)
    return text if len(parts) == 1 else "".join(piece for piece, _masked in parts)


def cut(text: str, limit: int, skip: Iterable[str] = ()) -> str:
    """``text`` masked, then cut to at most ``limit`` characters: scanned whole first, so an item
    across the limit is still found (issue 19 item 6), and never cut inside a masked item, which is
    left out whole rather than shown in part."""
    out, size = [], 0
    for piece, masked in _pieces(text, skip):
        room = limit - size
        if len(piece) > room:
            if not masked:
                out.append(piece[:room])
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


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
