"""A package's bookkeeping parts, edited in place: relationships (.rels), content types and styles
(the fills and cell formats the marks need, added once and reused).
"""

from __future__ import annotations

import posixpath
import re

from ._xlsx import CopyError
from ._zippackage import (Edits, El, NeedsOpenpyxl, Package, RT, XML_DECL, append_children, check_utf8, scan,
                          set_attr, xml_attr)


def rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(part: str, target: str) -> str:
    """The part a relationship of ``part`` points to."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target)).lstrip("/")


def relative(part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(part) or ".")


class Rels:
    """A .rels part (or a new one): read its relationships, append new ones."""

    def __init__(self, pkg: Package, source_part: str):
        self.pkg, self.source = pkg, source_part
        self.name = pkg.find(rels_part(source_part)) or rels_part(source_part)
        self.exists = pkg.find(self.name) is not None
        self.items: list[dict[str, str]] = []
        self._new: list[bytes] = []
        if self.exists:
            self.data = pkg.read(self.name)
            check_utf8(self.data, self.name)
            els = scan(self.data, self.name, pkg.label, {("Relationships",): {"Relationship"}})
            self.root = els[0]
            self.items = [e.attrs for e in els[1:]]

    def target(self, rid: str) -> str | None:
        for rel in self.items:
            if rel.get("Id") == rid and rel.get("TargetMode") != "External":
                return resolve(self.source, rel.get("Target", ""))
        return None

    def has_type(self, *kinds: str) -> bool:
        return any(rel.get("Type", "") in {RT + k for k in kinds} for rel in self.items)

    def add(self, kind: str, target_part: str) -> str:
        used = {rel.get("Id") for rel in self.items}
        n = len(used) + 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        self.items.append({"Id": rid})
        self._new.append(b'<Relationship Id="%s" Type="%s" Target="%s"/>' % (
            rid.encode(), xml_attr(RT + kind), xml_attr(relative(self.source, target_part))))
        return rid

    def save(self) -> None:
        if not self._new:
            return
        if self.exists:
            edits = Edits(self.data)
            prefix = self.root.prefix.encode()
            new = b"".join(x.replace(b"<Relationship ", b"<" + prefix + b"Relationship ") for x in self._new)
            append_children(edits, self.root, new)
            self.pkg.write(self.name, edits.result())
        else:
            self.pkg.write(self.name, XML_DECL + b'<Relationships xmlns="http://schemas.openxmlformats.org/'
                           b'package/2006/relationships">' + b"".join(self._new) + b"</Relationships>")


class ContentTypes:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.name = pkg.find("[Content_Types].xml")
        if self.name is None:
            raise CopyError(f"{pkg.label} is damaged (it has no [Content_Types].xml), so no copy was made.")
        self.data = pkg.read(self.name)
        check_utf8(self.data, self.name)
        els = scan(self.data, self.name, pkg.label, {("Types",): None})
        self.root = els[0]
        self.defaults = {e.attrs.get("Extension", "").lower() for e in els[1:] if e.local == "Default"}
        # Part names with an Override, even one for a part not in the zip: a new part must not reuse one.
        self.overrides = {e.attrs.get("PartName", "").lstrip("/").lower() for e in els[1:] if e.local == "Override"}
        self._new: list[bytes] = []

    def override(self, part: str, content_type: str) -> None:
        self.overrides.add(part.lower())
        self._new.append(b'<Override PartName="/%s" ContentType="%s"/>' % (xml_attr(part), xml_attr(content_type)))

    def default(self, extension: str, content_type: str) -> None:
        if extension.lower() not in self.defaults:
            self.defaults.add(extension.lower())
            # A Default may come anywhere among the Overrides; first is where Excel puts them.
            self._new.insert(0, b'<Default Extension="%s" ContentType="%s"/>' % (
                xml_attr(extension), xml_attr(content_type)))

    def save(self) -> None:
        if self._new:
            edits = Edits(self.data)
            prefix = self.root.prefix.encode()
            append_children(edits, self.root, b"".join(x.replace(b"<", b"<" + prefix, 1) for x in self._new))
            self.pkg.write(self.name, edits.result())


class Styles:
    """xl/styles.xml: append fills, fonts and cell formats; derive a cell format with another fill."""

    GROUPS = ("fonts", "fills", "cellXfs")

    def __init__(self, pkg: Package, part: str | None):
        if part is None or pkg.find(part) is None:
            raise NeedsOpenpyxl("the workbook has no styles part")
        self.pkg, self.part = pkg, pkg.find(part)
        self.data = pkg.read(self.part)
        check_utf8(self.data, self.part)
        keep = {("styleSheet",): set(self.GROUPS), ("styleSheet", "fonts"): {"font"},
                ("styleSheet", "fills"): {"fill"}, ("styleSheet", "cellXfs"): {"xf"}}
        els = scan(self.data, self.part, pkg.label, keep)
        self.prefix = els[0].prefix.encode()
        self.groups: dict[str, El] = {e.local: e for e in els if len(e.path) == 1}
        self.children: dict[str, list[El]] = {g: [e for e in els if e.path == ("styleSheet", g)] for g in self.GROUPS}
        if els[0].local != "styleSheet" or set(self.groups) != set(self.GROUPS) or not self.children["cellXfs"]:
            raise NeedsOpenpyxl("the styles part lacks fonts, fills or cell formats")
        self._added: dict[str, list[bytes]] = {g: [] for g in self.GROUPS}
        self._derived: dict[tuple[int, int], int] = {}

    def _add(self, group: str, xml: bytes) -> int:
        xml = re.sub(rb"<(/?)", lambda m: b"<" + m.group(1) + self.prefix, xml)
        self._added[group].append(xml)
        return len(self.children[group]) + len(self._added[group]) - 1

    def solid_fill(self, rgb: str) -> int:
        return self._add("fills", b'<fill><patternFill patternType="solid"><fgColor rgb="FF%s"/>'
                                  b'<bgColor indexed="64"/></patternFill></fill>' % rgb.encode())

    def font(self, inner: bytes) -> int:
        return self._add("fonts", b"<font>" + inner + b"</font>")

    def xf(self, attrs: bytes, inner: bytes = b"") -> int:
        return self._add("cellXfs", b"<xf " + attrs + (b">" + inner + b"</xf>" if inner else b"/>"))

    def with_fill(self, base: int, fill_id: int) -> int:
        """A copy of cell format ``base`` (font, border, number format, alignment, protection) with another fill."""
        if (base, fill_id) not in self._derived:
            xfs = self.children["cellXfs"]
            el = xfs[base] if 0 <= base < len(xfs) else xfs[0]
            head = set_attr(set_attr(self.data[el.start:el.head_end], "fillId", str(fill_id)), "applyFill", "1")
            self._added["cellXfs"].append(head + self.data[el.head_end:el.end])
            self._derived[(base, fill_id)] = len(xfs) + len(self._added["cellXfs"]) - 1
        return self._derived[(base, fill_id)]

    def save(self) -> None:
        edits = Edits(self.data)
        for group in self.GROUPS:
            if self._added[group]:
                el = self.groups[group]
                total = len(self.children[group]) + len(self._added[group])
                if el.empty:
                    head = set_attr(self.data[el.start:el.head_end - 2].rstrip(), "count", str(total))
                    edits.replace(el.start, el.end, head + b">" + b"".join(self._added[group])
                                  + b"</" + el.tag.encode() + b">")
                else:
                    edits.set_attr(el, "count", str(total))
                    edits.insert(el.close, b"".join(self._added[group]))
        self.pkg.write(self.part, edits.result())
