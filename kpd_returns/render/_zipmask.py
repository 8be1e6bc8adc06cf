"""Personal data masked in every part of a copy, not only its cells (issue 19 item 8).

Every copy kpd-returns writes (the annotated copy on either path, the fix-totals copy, consolidate's
rejected/ copies) goes through ``mask_package`` last, so what a person typed anywhere in the
workbook is masked (``spec.personal_data.mask_all``):

* cell text: shared strings (their phonetic runs too) and inline strings, rich text as one string;
* the text of comments, threaded comments, their authors, text boxes, charts, headers and footers,
  external links' cached values, custom XML and the document properties (core, app, custom);
* attributes a person typed: data-validation prompts and error texts and their titles, a link's
  tooltip and text, a person's name in threaded comments, a custom property's name, the target of
  an external link (mailto:), the text items of a pivot cache, a table's column names, a picture's
  alternative text;
* sheet names: a sheet whose name holds personal data is renamed (masked, with x for each hidden
  character, as in a copy's file name, because Excel refuses * in a sheet name), and every
  reference to it in every part (formulas, defined names, links, the list of titles) follows.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable

from ..spec.personal_data import cut, mask_all
from ._xlsx import CopyError
from ._zipedit import Workbook, rels_part
from ._zippackage import Package, check_utf8, clean, xml_attr, xml_text
from ._zipstrings import SharedStrings, mask_text_nodes

MAX_SHEET_NAME = 31  # Excel's limit

# Attributes a person typed, by the element that holds them (and the parts it is looked for in).
_ATTRS: dict[str, tuple[str, ...]] = {
    "dataValidation": ("prompt", "promptTitle", "error", "errorTitle"),
    "hyperlink": ("tooltip", "display"),
    "person": ("displayName", "userId"),
    "property": ("name",),
    "Relationship": ("Target",),  # external targets only
    "s": ("v",),  # pivot cache items
    "tableColumn": ("name",),  # a table's header, as its cell says it
    "cNvPr": ("descr", "title"),  # a picture's or shape's alternative text
}
_START = re.compile(rb"<(?:[\w.-]+:)?(dataValidation|hyperlink|person|property|Relationship|s|tableColumn|cNvPr)"
                    rb"(?=[\s/>])"
                    rb"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_ATTR = re.compile(rb"""(\s(?:[\w.-]+:)?)([\w.-]+)(\s*=\s*)(?:"([^"]*)"|'([^']*)')""")
_XML_PART = re.compile(r".*\.(xml|rels)$", re.I)
_TEXT_PART = re.compile(r"(xl/(comments[^/]*|(comments|threadedComments|drawings|charts|persons|externalLinks)/[^/]*)"
                        r"|docProps/(core|app|custom)|customXml/item[^/]*)\.xml$", re.I)


def text_parts(pkg: Package, book: Workbook) -> list[str]:
    """The parts whose text may hold what a provider typed: every sheet, comments part, drawing (text
    boxes) and chart, the cached values of external links, custom XML and the document properties."""
    sheets = [p for p in (book.part_of(el) for el in book.sheet_els) if p]
    notes = [n for n in pkg.names() if _TEXT_PART.match(n)]
    return sorted(set(sheets + notes))


def mask_package(pkg: Package, mask: Callable[[str], str] = mask_all, book: Workbook | None = None
                 ) -> tuple[Workbook, SharedStrings, dict[str, set[str]]]:
    """Mask every place of ``pkg`` (see the module notes). Returns the workbook as renamed, the shared
    strings (which items were masked) and, by part, the cells whose text was masked. ``book``: the
    package's workbook as the caller has read it (before any edit), so it is not read again."""
    memo = mask is mask_all  # what the packaged masking makes of a part is the same in every copy
    mask = _remembered(mask)
    if book is None or not _unedited(pkg, book):
        book = Workbook(pkg)
    if _rename_sheets(pkg, book, mask):
        book = Workbook(pkg)
    shared = SharedStrings(pkg, book, mask)
    texts = {part: _once(pkg, part, "text", lambda p: mask_text_nodes(pkg, p, mask), memo)
             for part in text_parts(pkg, book) + [book.part]}
    for part in pkg.names():
        if _XML_PART.match(part):
            _once(pkg, part, "attributes", lambda p: _mask_attributes(pkg, p, mask) or set(), memo)
    # Read again if its part or relationships changed.
    return (book if _unedited(pkg, book) else Workbook(pkg)), shared, texts


def _unedited(pkg: Package, book: Workbook) -> bool:
    """Whether nothing the workbook was read from has been written since the package was opened."""
    return all(pkg.edited(p) is None for p in ("_rels/.rels", book.part, rels_part(book.part)))


# (what was done, digest of the part's bytes) for the parts the masking left as they were. Most parts
# of a template (its guidance, Contents and Checks sheets, styles, drawings) are the same in every
# provider's file: each is looked through once per process, not once per copy. Bounded.
_PARTS_DONE: dict[tuple[str, bytes], bool] = {}
_PARTS_DONE_LIMIT = 2048


def _once(pkg: Package, part: str, what: str, work: Callable[[str], set[str]], memo: bool) -> set[str]:
    if not memo:
        return work(part)
    data = pkg.read(part)
    key = (what, hashlib.blake2b(data, digest_size=20).digest())
    done = _PARTS_DONE.get(key)
    if done is None:
        changed = work(part)
        new = pkg.edited(part)
        if not changed and (new is None or new == data):  # only parts left as they were: a template's
            if len(_PARTS_DONE) >= _PARTS_DONE_LIMIT:
                _PARTS_DONE.clear()
            _PARTS_DONE[key] = True
        return changed
    return set()


_MASKED_TEXTS: dict[str, str] = {}
_MASKED_TEXTS_LIMIT = 8192


def _remembered(mask: Callable[[str], str]) -> Callable[[str], str]:
    """``mask`` with its answers kept for this copy: a workbook repeats the same texts ("0", a label on
    every row) thousands of times, and the masking of a copy was an eighth of consolidate's time."""
    seen: dict[str, str] = {}  # this copy's
    kept = _MASKED_TEXTS if mask is mask_all else {}  # the packaged masking's, between copies: a template's texts

    def remembered(text: str) -> str:
        out = seen.get(text)
        if out is None:
            out = kept.get(text)
            if out is None:
                out = mask(text)
                if len(text) <= 200 and len(kept) < _MASKED_TEXTS_LIMIT:  # the first copies' texts only
                    kept[text] = out
            seen[text] = out
        return out

    return remembered


def masked_copy(data: bytes, label: str) -> bytes:
    """A workbook's bytes (openpyxl's copy) with ``mask_package`` applied: one plain sentence if it
    cannot be, never a copy with personal data left in it."""
    try:
        pkg = Package(data, label)
        mask_package(pkg)
        return pkg.to_bytes()
    except CopyError:
        raise
    except Exception as exc:  # noqa: BLE001 - no copy rather than an unmasked one (NeedsOpenpyxl too)
        raise CopyError(f"The copy of {label} could not be made safe to send ({exc}), so no copy was made.") from None


# ---------------------------------------------------------------- attributes


def _mask_attributes(pkg: Package, part: str, mask: Callable[[str], str]) -> None:
    data = pkg.read(part)
    if not _START.search(data):
        return
    check_utf8(data, part)
    pivot = part.lower().startswith("xl/pivotcache/")
    out, pos, changed = [], 0, False
    for m in _START.finditer(data):
        element = m.group(1).decode()
        if element == "s" and not pivot:
            continue
        head = m.group(0)
        if element == "Relationship" and b'TargetMode="External"' not in head and b"TargetMode='External'" not in head:
            continue
        new = _ATTR.sub(lambda a: _masked_attr(a, _ATTRS[element], mask), head)
        if new != head:
            out += [data[pos:m.start()], new]
            pos, changed = m.end(), True
    if changed:
        out.append(data[pos:])
        pkg.write(part, b"".join(out))


def _masked_attr(a: re.Match, names: tuple[str, ...], mask: Callable[[str], str]) -> bytes:
    if a.group(2).decode() not in names:
        return a.group(0)
    raw = a.group(4) if a.group(4) is not None else a.group(5)
    value = html.unescape(raw.decode("utf-8", "replace"))
    new = mask(value)
    if new == value:
        return a.group(0)
    return a.group(1) + a.group(2) + a.group(3) + b'"' + xml_attr(clean(new)) + b'"'


# ---------------------------------------------------------------- sheet names


def _rename_sheets(pkg: Package, book: Workbook, mask: Callable[[str], str]) -> bool:
    """Rename each sheet whose name holds personal data, everywhere it is named; True if any was."""
    taken = {t.lower() for t in book.titles}
    renames: dict[str, str] = {}
    for title in sorted(book.titles, key=len, reverse=True):  # longest first: one name may hold another
        if mask(title) == title:
            continue
        new = (cut(title, MAX_SHEET_NAME).replace("*", "x").strip("' ") or "Sheet")
        base, n = new, 1
        while new.lower() in taken:
            n += 1
            new = f"{base[:MAX_SHEET_NAME - len(str(n)) - 3]} ({n})"
        taken.add(new.lower())
        renames[title] = new
    if not renames:
        return False
    forms = []
    for old, new in renames.items():
        for o, n in ((old.replace("'", "''"), new.replace("'", "''")), (old, new)):
            forms += [(xml_text(o), xml_text(n)), (xml_attr(o), xml_attr(n)), (xml_attr(o).replace(b"'", b"&apos;"),
                                                                                 xml_attr(n).replace(b"'", b"&apos;"))]
    forms = sorted(set(forms), key=lambda f: len(f[0]), reverse=True)
    for part in pkg.names():
        if not _XML_PART.match(part):
            continue
        data = pkg.read(part)
        new_data = data
        for old_b, new_b in forms:
            new_data = new_data.replace(old_b, new_b)
        if new_data != data:
            check_utf8(data, part)
            pkg.write(part, new_data)
    return True
