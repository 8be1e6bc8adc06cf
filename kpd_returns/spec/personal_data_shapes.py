"""The shapes of personal data the guard looks for (``personal_data``), and the text they are matched in.

Time: every pattern runs in time linear in the text (issue 19 item 3: a 32,767-character cell of
"DOB" and spaces took 108 s). Python's ``re`` backtracks, so each pattern is written so that a
match attempt at one position costs a bounded number of steps, or so that only a bounded number of
positions can start an unbounded attempt:

* every repeat of spaces, separators or digits is bounded (``{0,3}``, ``{8,9}``), never ``*`` or ``+``;
* the one unbounded repeat, an e-mail address's local part and domain, is matched from each "@"
  outwards, over runs that hold no "@", so the runs tried never overlap and the total stays linear.

``tests/test_personal_data_speed.py`` runs the worst shapes at Excel's 32,767 characters a cell.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from .periods import ISO_DAY

# -- the text as matched -------------------------------------------------------------------------

# Letters of other scripts that look like Latin capitals or small letters (Unicode's confusables for
# the letters an NI number, a postcode or a keyword can hold): "АВ123456С" in Cyrillic is an NI number.
_LOOK_ALIKES = str.maketrans(dict(zip(
    "АВЕІЈКМНОРСТУХЅԚԜаеіјорсухѕԁһԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοακνρχυ",  # Cyrillic, then Greek
    "ABEIJKMHOPCTYXSQWaeijopcyxsdhqwABEZHIKMNOPTYXoakvpxu")))
_ASCII_SPACES = str.maketrans({c: " " for c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"})
_CACHE_LIMIT = 4096  # distinct characters remembered: a cell of every code point still costs linear time
_rep_cache: dict[str, str] = {}


def _rep(ch: str) -> str:
    """What one character is matched as (possibly nothing, or several characters)."""
    if ch.isascii():
        rep = " " if ch.isspace() else ch
    elif ch.isspace():
        rep = " "
    else:
        cat = unicodedata.category(ch)
        if cat == "Cf":  # zero-width space and joiners, soft hyphen, byte-order mark...
            rep = ""
        elif cat == "Pd" or ch == "\u2212":
            rep = "-"
        else:
            rep = unicodedata.normalize("NFKC", ch.translate(_LOOK_ALIKES))
    if len(_rep_cache) < _CACHE_LIMIT:
        _rep_cache[ch] = rep
    return rep


def normalise(text: str) -> tuple[str, "list[int] | range"]:
    """The text as matched and, for each of its characters, its index in ``text``.

    Every Unicode space becomes a plain space, every dash a hyphen, invisible format characters
    are dropped, full-width forms become ASCII (NFKC) and Cyrillic or Greek look-alike letters
    their Latin twins. Linear in the text: ASCII text is translated in one call.
    """
    if text.isascii():
        return text.translate(_ASCII_SPACES), range(len(text))
    out: list[str] = []
    where: list[int] = []
    cache = _rep_cache
    for i, ch in enumerate(text):
        rep = cache.get(ch)
        if rep is None:
            rep = _rep(ch)
        out.append(rep)
        if len(rep) == 1:
            where.append(i)
        elif rep:
            where.extend([i] * len(rep))
    return "".join(out), where


# -- the shapes ----------------------------------------------------------------------------------

# An e-mail address: a local part, "@" with up to one space either side ("john.smith @ example.com"),
# a domain in any script ("exämple.com") and a top-level domain of letters. Found from each "@" (text
# without one costs nothing): the local part is matched backwards in the reversed text and the domain
# forwards, each over a run that holds no "@", so each character is looked at a bounded number of times.
_LOCAL_BACK = re.compile(r" ?[\w.%+'-]+")  # on the reversed text: an optional space, then the local part
_DOMAIN_SHAPE = r" ?[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"
_DOMAIN = re.compile(_DOMAIN_SHAPE)
# Each "@" with a local part's character before it and a domain after it: the candidates. Its look-ahead
# from one "@" stops at the next (a domain holds none), so the candidates cost linear time together.
_AT = re.compile(r"[\w.%+'-] ?@(?=" + _DOMAIN_SHAPE + ")")


def find_emails(norm: str) -> Iterator[tuple[int, int, None]]:
    """(start, end, None) of each e-mail address in the normalised text, left to right."""
    if "@" not in norm:
        return
    rev = None
    done = 0  # the end of the last address found: the next starts after it
    for m in _AT.finditer(norm):
        at = m.end() - 1
        if at < done:
            continue
        rev = norm[::-1] if rev is None else rev
        local = _LOCAL_BACK.match(rev, len(norm) - at, len(norm) - done)
        if local is None or not local.group().strip():
            continue
        domain = _DOMAIN.match(norm, at + 1)
        yield at - len(local.group()), domain.end(), None
        done = domain.end()


# National Insurance numbers: two letters, six digits and a suffix A-D, written compactly
# (AB123456C) or with spaces, dashes, dots, slashes, colons or underscores between the groups. Without
# a suffix the digits must be compact or split by spaces only, so "on 12/05/26" (a date) is not one;
# a small suffix letter must touch the digits, so "at 10:15:00 a customer" (a time) is not one either.
_SEP = r"[ ./_:-]"
NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}(?:"
    rf"{_SEP}{{0,2}}(?:\d{{6}}|\d{{2}}{_SEP}{{1,2}}\d{{2}}{_SEP}{{1,2}}\d{{2}}|\d{{3}}{_SEP}{{1,2}}\d{{3}})"
    rf"(?:{_SEP}{{0,2}}[A-D]|[./_:-]{{0,2}}[a-d])"
    rf"|{_SEP}{{0,2}}\d{{6}}| {{0,2}}(?:\d{{2}} {{1,2}}\d{{2}} {{1,2}}\d{{2}}|\d{{3}} {{1,2}}\d{{3}})"
    r")(?![A-Za-z0-9])")

# A date after a birth keyword, with up to three spaces, a joining word and a sign between:
# "DOB 01/02/1980", "DOB=02/03/1975", "date of birth is 14/03/1981", "born on 3 March 1985".
DATE = (r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|" + ISO_DAY +
        r"|\d{1,2}(?:st|nd|rd|th)? {1,3}[A-Za-z]{3,9},? {1,3}\d{4})")
DOB = re.compile(r"(?<![A-Za-z])(?:d\.? ?o\.? ?b\.?|date {1,3}of {1,3}birth|birth ?date|birthday|born|b\.)"
                 r" {0,3}(?:(?:is|was|on) {0,3})?[:=\-]? {0,3}(" + DATE + r")(?!\d)", re.I)

# UK phone numbers: mobiles, landlines and 08 numbers after 0, +44, 0044 or a bare 44
# (447700900124), the digits grouped by spaces, dashes, dots or brackets. A date followed by a
# count ("01-02-2025 123") is not one.
PHONE = re.compile(r"(?<![\w+])(?<!\d[/.\-])(?!\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}(?!\d))"
                   r"\(?(?:\+44|0044|44|0)\)?[ \-]?(?:\(0\)[ \-]?)?[12378](?:[ \-().]{0,2}\d){8,9}(?!\d)")

# Full UK postcodes, the two halves apart by up to two spaces, underscores or dashes ("SW1A-1AA");
# an outward code alone ("M1") is not one.
POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ _-]{0,2}\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])",
                      re.I)
