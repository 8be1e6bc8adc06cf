"""The text a copy keeps, with personal data masked: shared strings (their phonetic runs too), inline
strings and any other part's text nodes (rich text with its runs joined, headers and footers without
their codes), masked cell by cell so a finding can say which cells were masked.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from xml.parsers import expat

from ..spec.personal_data import mask_formula
from ._xlsx import CopyError
from ._zippackage import RT, Edits, Package, check_utf8, clean, scan, xml_text
from ._zipmeta import resolve

if TYPE_CHECKING:
    from ._zipedit import Workbook


_T_TEXT = re.compile(rb"<(?:[\w.-]+:)?t(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?t>", re.S)
_RPH = re.compile(rb"<((?:[\w.-]+:)?rPh)\b.*?</\1>", re.S)  # phonetic runs are not part of the text
_V = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?v>", re.S)


def xml_string(fragment: bytes) -> str:
    """The text of a string item (<si> or <is> content): its <t> runs joined, entities resolved."""
    body = _RPH.sub(b"", fragment)
    return html.unescape("".join(m.group(1).decode("utf-8", "replace") for m in _T_TEXT.finditer(body)))


_TEXT_NODE = re.compile(rb">([^<]+)<")
_CELL_START = re.compile(rb"<(?:[\w.-]+:)?c\s[^>]*?\br=\"([A-Za-z]+\d+)\"[^>]*?(/?)>")
_CELL_END = re.compile(rb"</(?:[\w.-]+:)?c>")
_TAG_NAME = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)")


def mask_text_nodes(pkg: Package, part: str, mask: Callable[[str], str]) -> set[str]:
    """Every text node of ``part`` (inline strings, formula results and formulas, header and footer
    text, comment text and authors, property values) that ``mask`` changes is replaced by its masked
    text; the references of the cells changed. Rich text (an inline string, a comment's text, a text
    box's paragraph) is masked as a whole, its runs joined, first; a header or footer section is
    masked without its formatting codes ("&LAB123456C" holds an NI number)."""
    data = pkg.read(part)
    check_utf8(data, part)
    well_formed(data, part, pkg.label)  # the patterns below assume it: an unclosed element would cost O(n) each
    changed: set[str] = set()
    for masker, pattern in ((_whole_rich, _RICH), (_header_footer, _HEADER_FOOTER), (_text_node, _TEXT_NODE)):
        edits, cells, n = Edits(data), _Cells(data), 0
        for m in pattern.finditer(data):
            new = masker(data, m, mask)
            if new is not None:
                edits.replace(m.start(), m.end(), new)
                changed |= cells.ref_at(m.start())
                n += 1
        if n:
            data = edits.result()
            pkg.write(part, data)
    return changed


def well_formed(data: bytes, part: str, label: str) -> None:
    """CopyError unless ``part`` is well-formed XML without a DOCTYPE (expat, no Python callbacks per element)."""
    p = expat.ParserCreate()

    def refuse(*_args) -> None:
        raise CopyError(f"{label} contains XML that is not allowed (a DOCTYPE), so no copy was made.")

    p.StartDoctypeDeclHandler = p.EntityDeclHandler = refuse
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        raise CopyError(f"{label} has damaged XML in {part}, so no copy was made ({exc}).") from None


class _Cells:
    """Which cell a position of a worksheet part is in (worked out when first asked)."""

    def __init__(self, data: bytes):
        self.data, self.starts, self.at = data, None, []

    def ref_at(self, pos: int) -> set[str]:
        if self.starts is None:
            self.starts = list(_CELL_START.finditer(self.data))
            self.at = [c.start() for c in self.starts]
        i = bisect.bisect_right(self.at, pos) - 1
        if i < 0 or self.starts[i].group(2) or _CELL_END.search(self.data, self.starts[i].end(), pos) is not None:
            return set()
        return {self.starts[i].group(1).decode().upper()}


# Elements holding a formula (a cell's, a defined name's, a validation's or conditional format's, a
# chart series'): only their text literals are masked, so a reference such as AB123456 keeps working.
_FORMULA_TAGS = {b"f", b"definedName", b"formula", b"formula1", b"formula2"}


def _text_node(data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    text = html.unescape(m.group(1).decode("utf-8", "replace"))
    tag = _TAG_NAME.match(data, data.rfind(b"<", 0, m.start()))
    new = mask_formula(text) if tag and tag.group(1) in _FORMULA_TAGS else mask(text)
    return None if new == text else b">" + xml_text(clean(new)) + b"<"


# An element holding rich text in runs: an inline string (<is>), a comment's <text>, a DrawingML
# paragraph (<a:p>) in a text box, a chart or a shape. Its runs are joined before masking.
_RICH = re.compile(rb"<((?:[\w.-]+:)?)(is|text|p)(\s[^>]*)?>((?:(?!</(?:[\w.-]+:)?(?:is|text|p)>).)*?"
                   rb"<(?:[\w.-]+:)?r>.*?)</\1\2>", re.S)


def _whole_rich(_data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    """Rich text whose joined text holds personal data: one plain run of the masked text."""
    text = xml_string(m.group(4))
    new = mask(text)
    if new == text:
        return None
    p, name, attrs = m.group(1).decode(), m.group(2).decode(), (m.group(3) or b"").decode()
    body = xml_text(clean(new))
    if name == "p":  # DrawingML: <a:p><a:r><a:t>...</a:t></a:r></a:p>
        inner = f"<{p}r><{p}t>".encode() + body + f"</{p}t></{p}r>".encode()
    else:
        inner = f'<{p}t xml:space="preserve">'.encode() + body + f"</{p}t>".encode()
    return f"<{p}{name}{attrs}>".encode() + inner + f"</{p}{name}>".encode()


# Headers and footers: "&L", "&C" and "&R" start the sections; the other codes format (&B, &"Arial",
# &12, &KFF0000) or insert a field (&P, &D...). A datum is looked for in a section's text without
# them; a section holding one is replaced by its masked text (its formatting and fields dropped).
_HEADER_FOOTER = re.compile(rb"<((?:[\w.-]+:)?)((?:odd|even|first)(?:Header|Footer))>([^<]*)</\1\2>")
_HF_SECTION = re.compile(r"(&[LCR])")
_HF_CODE = re.compile(r'&(?:"[^"]*"|\d{1,3}|K[0-9A-Fa-f]{6}|K\d{2}[+-]\d{3}|[PNDTFAZG]|[BIUESXYOH]|&)')


def _hf_visible(section: str) -> str:
    return _HF_CODE.sub(lambda c: "&" if c.group() == "&&" else (" " if c.group()[1:] in "PNDTFAZG" else ""),
                        section)


def _header_footer(_data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    text = html.unescape(m.group(3).decode("utf-8", "replace"))
    parts = _HF_SECTION.split(text)  # [before, "&L", section, "&C", section, ...]
    out, changed = [], False
    for i, part in enumerate(parts):
        if i % 2 == 0:
            visible = _hf_visible(part)
            masked = mask(visible)
            if masked != visible:
                part, changed = masked.replace("&", "&&"), True
        out.append(part)
    if not changed:
        return None
    p, name = m.group(1).decode(), m.group(2).decode()
    return f"<{p}{name}>".encode() + xml_text(clean("".join(out))) + f"</{p}{name}>".encode()


def phonetic_text(fragment: bytes) -> str:
    """The text of the phonetic runs (<rPh>) of a string item: readings a person typed, kept apart."""
    return " ".join(xml_string(m.group(0)[m.group(0).index(b">") + 1:]) for m in _RPH.finditer(fragment))


class SharedStrings:
    """The shared string table, with every item ``mask`` changes replaced by its masked text (plain,
    no runs), so the raw text survives in no part of the copy whichever cells share it. An item whose
    phonetic runs hold personal data is replaced by its text without them. ``masked``: the items whose
    text changed."""

    def __init__(self, pkg: Package, book: "Workbook", mask: Callable[[str], str]):
        rel = next((r for r in book.rels.items if r.get("Type") == RT + "sharedStrings"), None)
        self.part = pkg.find(resolve(book.part, rel.get("Target", ""))) if rel else None
        self.masked: set[int] = set()  # indexes of the items replaced
        if self.part is None:
            return
        data = pkg.read(self.part)
        check_utf8(data, self.part)
        els = scan(data, self.part, pkg.label, {("sst",): {"si"}})
        edits = Edits(data)
        for index, si in enumerate(els[1:]):
            fragment = data[si.head_end:si.close]
            text = xml_string(fragment)
            new = mask(text)
            phonetic = phonetic_text(fragment) if b"rPh" in fragment else ""
            if new != text or mask(phonetic) != phonetic:  # the item, phonetic runs dropped
                p = si.prefix
                edits.replace(si.start, si.end, f'<{si.tag}><{p}t xml:space="preserve">'.encode()
                              + xml_text(clean(new)) + f"</{p}t></{si.tag}>".encode())
                if new != text:
                    self.masked.add(index)
        if self.masked:
            pkg.write(self.part, edits.result())
