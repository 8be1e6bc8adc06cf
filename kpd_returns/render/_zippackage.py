"""An .xlsx package read and written at the zip/XML level, and parts edited by byte offsets.

Why not openpyxl: a full load and save takes about 0.6 s a workbook and drops what
openpyxl does not model (cached formula results, Excel 2010 list validations,
images). Here a part is edited by splicing bytes at offsets that expat reports,
so everything around an edit, prefixes, extensions and all, stays as it was.

* ``Package`` reads the zip once and writes a new one: unchanged parts keep their
  compressed bytes (no recompression), and every entry gets a fixed time and
  attributes, so the same input and edits always give the same bytes.
* ``scan`` parses one part with expat (any DOCTYPE refused) and returns the
  elements asked for, each with its byte offsets.
* ``Edits`` collects (start, end, new bytes) splices and applies them in one pass.

The edits an annotated copy needs (styles, relationships, content types, sheets,
the workbook) are in ``_zipedit``. Anything not handled raises ``NeedsOpenpyxl``,
so the caller can take its slower path; a part that cannot be read raises ``CopyError``.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable, Union
from xml.parsers import expat
from xml.sax.saxutils import escape

from ..spec.constants import ZIP_TIME
from ..spec.layout import col_letter as col_letters  # 1 -> A, 27 -> AA
from ._xlsx import CopyError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RT = REL_NS + "/"  # relationship types are this + worksheet, comments, vmlDrawing ...
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

MAX_COL, MAX_ROW = 16384, 1048576
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEAD = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")
# spec.constants.ZIP_TIME in the zip format's DOS date and time fields, as _xlsx writes it through zipfile.
_ZIP_DATE = ((ZIP_TIME[0] - 1980) << 9) | (ZIP_TIME[1] << 5) | ZIP_TIME[2]
_ZIP_TIME = (ZIP_TIME[3] << 11) | (ZIP_TIME[4] << 5) | (ZIP_TIME[5] // 2)


class NeedsOpenpyxl(Exception):
    """The file has something this module does not edit; the caller takes the openpyxl path."""


# ---------------------------------------------------------------- text


def clean(text: str | None) -> str:
    """Text without the characters XML 1.0 cannot hold."""
    return _ILLEGAL.sub("", text or "")


def xml_text(text: str) -> bytes:
    return escape(text, {"\r": "&#13;"}).encode("utf-8")


def xml_attr(text: str) -> bytes:
    # Newlines and tabs would be folded to spaces by any XML reader: keep them as references.
    return escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}).encode("utf-8")


def parse_ref(ref: str | None) -> tuple[int, int] | None:
    """'D12' -> (12, 4): (row, column), both from 1; None for anything else."""
    m = _REF.match(ref or "")
    if not m:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    return (row, col) if 1 <= row <= MAX_ROW and 1 <= col <= MAX_COL else None


def ref_of(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"


# ---------------------------------------------------------------- zip


class Package:
    """The parts of an .xlsx: read once, edited in memory, written deterministically."""

    def __init__(self, blob: bytes, label: str):
        self.label = label
        self._blob = blob
        try:
            self._zf = zipfile.ZipFile(io.BytesIO(blob))
            self._infos = self._zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise CopyError(f"{label} is damaged, so no copy was made ({exc}).") from None
        self._lower: dict[str, str] = {}
        for info in self._infos:
            if info.filename.lower() in self._lower:
                raise CopyError(f"{label} is damaged (the part {info.filename} is there twice), so no copy was made.")
            if info.flag_bits & 1:
                raise CopyError(f"{label} has an encrypted part ({info.filename}), so no copy was made.")
            self._lower[info.filename.lower()] = info.filename
        self._new: dict[str, bytes] = {}  # name -> content, for parts changed or added
        self._read: dict[str, bytes] = {}  # name -> content as stored, once read

    def find(self, name: str) -> str | None:
        """The member name as stored (some writers vary the case), or None."""
        if name in self._new:
            return name
        return self._lower.get(name.lower())

    def names(self) -> list[str]:
        return [i.filename for i in self._infos] + [n for n in self._new if n.lower() not in self._lower]

    def read(self, name: str) -> bytes:
        if name in self._new:
            return self._new[name]
        if name in self._read:
            return self._read[name]  # a copy reads some parts several times: inflated once
        try:
            data = self._read[name] = self._zf.read(name)  # preflight has capped every part's size
            return data
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error) as exc:
            raise CopyError(f"{self.label} is damaged (the part {name} cannot be read), so no copy was made ({exc}).") from None

    def edited(self, name: str) -> bytes | None:
        """The part's new content if it was written, else None."""
        return self._new.get(self.find(name) or name)

    def write(self, name: str, data: bytes) -> None:
        self._new[self.find(name) or name] = data

    def fresh(self, pattern: str, also_taken: set[str] = frozenset()) -> str:
        """The first name pattern.format(n), n = 1, 2, ..., not used by any part nor in ``also_taken`` (lower case)."""
        n = 1
        while self.find(pattern.format(n)) is not None or pattern.format(n).lower() in also_taken:
            n += 1
        return pattern.format(n)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        central = []
        names = self.names()
        infos = {i.filename: i for i in self._infos}
        for name in names:
            if name in self._new:
                data = self._new[name]
                method, crc, size = zipfile.ZIP_DEFLATED, zlib.crc32(data), len(data)
                packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                body = packer.compress(data) + packer.flush()
            else:
                method, crc, size, body = self._raw(infos[name])
            central.append(_write_entry(out, name, method, crc, size, body))
        start = out.tell()
        for record in central:
            out.write(record)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central),
                              out.tell() - start, start, 0))
        return out.getvalue()

    def _raw(self, info: zipfile.ZipInfo) -> tuple[int, int, int, bytes]:
        """A member's compressed bytes as stored (stored or deflated), else recompressed."""
        if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            head = self._blob[info.header_offset:info.header_offset + 30]
            if len(head) == 30 and head[:4] == b"PK\x03\x04":
                name_len, extra_len = struct.unpack("<2H", head[26:30])
                start = info.header_offset + 30 + name_len + extra_len
                body = self._blob[start:start + info.compress_size]
                if len(body) == info.compress_size:
                    return info.compress_type, info.CRC, info.file_size, body
        data = self.read(info.filename)
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return zipfile.ZIP_DEFLATED, zlib.crc32(data), len(data), packer.compress(data) + packer.flush()


def _write_entry(out: io.BytesIO, name: str, method: int, crc: int, size: int, body: bytes) -> bytes:
    """Write one local entry; return its central directory record (fixed time, mode 0644, Unix)."""
    try:
        raw_name, flags = name.encode("ascii"), 0
    except UnicodeEncodeError:
        raw_name, flags = name.encode("utf-8"), 0x800
    offset = out.tell()
    out.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, flags, method, _ZIP_TIME, _ZIP_DATE,
                          crc, len(body), size, len(raw_name), 0))
    out.write(raw_name)
    out.write(body)
    return struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, flags, method, _ZIP_TIME, _ZIP_DATE,
                       crc, len(body), size, len(raw_name), 0, 0, 0, 0, 0o644 << 16, offset) + raw_name


# ---------------------------------------------------------------- XML scanning


@dataclass(eq=False)
class El:
    """One element of a scanned part and where it is: data[start:end] is the whole element."""

    tag: str  # as written, with any prefix
    attrs: dict[str, str]
    path: tuple[str, ...]  # local names of its ancestors
    start: int
    head_end: int  # just after the start tag
    close: int = 0  # where the end tag starts (head_end for an empty element)
    end: int = 0

    @property
    def local(self) -> str:
        return self.tag.rpartition(":")[2]

    @property
    def prefix(self) -> str:
        """'x:' for <x:row>, '' for <row>."""
        return self.tag[: len(self.tag) - len(self.local)]

    @property
    def empty(self) -> bool:
        return self.close == self.head_end and self.end == self.head_end


Keep = Union[set, None, Callable[[El, str], bool]]


def check_utf8(data: bytes, part: str) -> None:
    """Edits are spliced in as UTF-8 bytes, so a part in another encoding is left to openpyxl."""
    m = _ENCODING.match(data)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (m and m.group(1).lower() not in (b"utf-8", b"utf8")):
        raise NeedsOpenpyxl(f"{part} is not UTF-8")


def scan(data: bytes, part: str, label: str, keep: dict[tuple[str, ...], Keep]) -> list[El]:
    """The elements of ``data`` whose parent path is in ``keep``, in document order.

    ``keep[path]`` is None (any child), a set of local names, or a function of the
    (kept) parent element and the local name. The root is always kept. A DOCTYPE or
    damaged XML raises CopyError.
    """
    keep = {(): None, **keep}
    found: list[El] = []
    stack: list[tuple[tuple[str, ...], El | None]] = [((), None)]
    p = expat.ParserCreate()

    def refuse(*_args) -> None:
        raise CopyError(f"{label} contains XML that is not allowed (a DOCTYPE), so no copy was made.")

    def start(tag: str, attrs: dict[str, str]) -> None:
        path = stack[-1][0]
        local = tag.rpartition(":")[2]
        wanted = keep.get(path, ())
        el = None
        if wanted is None or (wanted(stack[-1][1], local) if callable(wanted) else local in wanted):
            at = p.CurrentByteIndex
            head = _HEAD.match(data, at)
            if head is None:
                raise CopyError(f"{label} has XML that could not be read in {part}, so no copy was made.")
            el = El(tag, attrs, path, at, head.end())
            if data[head.end() - 2:head.end()] == b"/>":
                el.close = el.end = el.head_end
            found.append(el)
        stack.append((path + (local,), el))

    def end(_tag: str) -> None:
        _, el = stack.pop()
        if el is not None and not el.end:
            el.close = p.CurrentByteIndex
            el.end = data.index(b">", el.close) + 1

    p.StartElementHandler, p.EndElementHandler = start, end
    p.StartDoctypeDeclHandler = p.EntityDeclHandler = refuse
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        raise CopyError(f"{label} has damaged XML in {part}, so no copy was made ({exc}).") from None
    return found


def text_of(data: bytes, el: El) -> str:
    """The raw text inside a leaf element, entities unresolved (enough for names and numbers)."""
    return data[el.head_end:el.close].decode("utf-8", "replace")


class Edits:
    """Splices into one part, applied together so offsets from one scan stay valid."""

    def __init__(self, data: bytes):
        self.data = data
        self._items: list[tuple[int, int, int, bytes]] = []  # start, end, sequence, new bytes

    def replace(self, start: int, end: int, new: bytes) -> None:
        self._items.append((start, end, len(self._items), new))

    def insert(self, at: int, new: bytes) -> None:
        self.replace(at, at, new)

    def set_attr(self, el: El, name: str, value: str) -> None:
        head = self.data[el.start:el.head_end]
        self.replace(el.start, el.head_end, set_attr(head, name, value))

    def result(self) -> bytes:
        out, pos = [], 0
        # By start, then inserts before a replacement starting at the same place, then in the order made.
        for start, end, _, new in sorted(self._items, key=lambda item: item[:3]):
            if start < pos:
                raise AssertionError("overlapping edits")  # a bug here, never the provider's file
            out += [self.data[pos:start], new]
            pos = end
        out.append(self.data[pos:])
        return b"".join(out)


def set_attr(head: bytes, name: str, value: str) -> bytes:
    """A start tag with attribute ``name`` set to ``value`` (replaced, or added after the tag name)."""
    pattern = re.compile(rb"(\s" + re.escape(name.encode()) + rb"""\s*=\s*)(?:"[^"]*"|'[^']*')""")
    new = b'"' + xml_attr(value) + b'"'
    if pattern.search(head):
        return pattern.sub(lambda m: m.group(1) + new, head, count=1)
    tag_end = re.match(rb"<[^\s/>]+", head).end()
    return head[:tag_end] + b" " + name.encode() + b"=" + new + head[tag_end:]


def ns_prefix(root: El, uri: str) -> str | None:
    """The prefix the root binds to ``uri`` ('' for the default namespace), or None."""
    for key, value in root.attrs.items():
        if value == uri and (key == "xmlns" or key.startswith("xmlns:")):
            return key[6:]
    return None


def append_children(edits: Edits, el: El, new: bytes) -> None:
    if el.empty:
        head = edits.data[el.start:el.head_end - 2].rstrip()
        edits.replace(el.start, el.end, head + b">" + new + b"</" + el.tag.encode() + b">")
    else:
        edits.insert(el.close, new)


