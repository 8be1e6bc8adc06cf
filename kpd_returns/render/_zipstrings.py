"""The text a copy keeps, with personal data masked: shared strings, inline strings and any other
part's text nodes, masked cell by cell so a finding can say which cells were masked.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..spec.personal_data import mask_formula
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
    text, comment text) that ``mask`` changes is replaced by its masked text; the references of the
    cells changed. A rich-text inline string is masked as a whole (its runs joined) first."""
    data = pkg.read(part)
    check_utf8(data, part)
    changed: set[str] = set()
    for masker, pattern in ((_whole_inline, _INLINE_RICH), (_text_node, _TEXT_NODE)):
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


def _text_node(data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    text = html.unescape(m.group(1).decode("utf-8", "replace"))
    tag = _TAG_NAME.match(data, data.rfind(b"<", 0, m.start()))
    new = mask_formula(text) if tag and tag.group(1) == b"f" else mask(text)
    return None if new == text else b">" + xml_text(clean(new)) + b"<"


_INLINE_RICH = re.compile(rb"<((?:[\w.-]+:)?)is>((?:(?!</(?:[\w.-]+:)?is>).)*?<(?:[\w.-]+:)?r>.*?)</\1is>", re.S)


def _whole_inline(_data: bytes, m: re.Match, mask: Callable[[str], str]) -> bytes | None:
    """A rich-text inline string (<is> with runs) whose joined text holds personal data: one plain run."""
    text = xml_string(m.group(2))
    new = mask(text)
    if new == text:
        return None
    p = m.group(1).decode()
    return (f"<{p}is><{p}t xml:space=\"preserve\">".encode() + xml_text(clean(new)) + f"</{p}t></{p}is>".encode())


class SharedStrings:
    """The shared string table, with every item ``mask`` changes replaced by its masked text (plain,
    no runs), so the raw text survives in no part of the copy whichever cells share it."""

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
            text = xml_string(data[si.head_end:si.close])
            new = mask(text)
            if new != text:
                p = si.prefix
                edits.replace(si.start, si.end, f'<{si.tag}><{p}t xml:space="preserve">'.encode()
                              + xml_text(clean(new)) + f"</{p}t></{si.tag}>".encode())
                self.masked.add(index)
        if self.masked:
            pkg.write(self.part, edits.result())
