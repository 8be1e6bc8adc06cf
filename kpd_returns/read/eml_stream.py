"""Reading a MIME e-mail (.eml) as a stream, a line at a time, keeping only the parts wanted.

The standard library's parser holds a whole message several times over (a 600 MB
e-mail took 6.85 GB). Here each part's headers are parsed by the standard library
(so encoded names, RFC 2231 parameters and content types are read as it reads
them), and each body is decoded as it streams past: base64 in whole groups of four
characters, quoted-printable a line at a time. Only the wanted parts' decoded bytes
are held, each capped; forwarded e-mails (message/rfc822) are read through.
"""

from __future__ import annotations

import binascii
import email.parser
from collections.abc import Callable, Iterable
from email import policy
from email.message import EmailMessage
from typing import BinaryIO

_MAX_HEADER_BYTES = 1 << 20
_MAX_DEPTH = 20


class MalformedEmail(ValueError):
    """An e-mail the stream reader refuses (its message says why, in plain words)."""


class EmlStream:
    """A MIME message read a line at a time: headers parsed by the standard library, bodies decoded
    as they stream past, and only workbook attachments kept."""

    def __init__(self, fh: BinaryIO, is_workbook: Callable[[str | None, str | None], bool],
                 spreadsheet_types: Iterable[str], cap: int):
        self.fh = fh
        self.is_workbook = is_workbook  # (filename, content type) -> whether the part is kept
        self.spreadsheet_types = frozenset(spreadsheet_types)
        self.cap = cap  # a kept part decoding to more than this is given back as None
        self.attachments: list[tuple[str, bytes | None]] = []
        self.others: list[str] = []

    def parse(self):
        headers = self._headers()
        self._entity(headers, (), 0)
        return headers, self.attachments, self.others

    def _line(self) -> bytes:
        return self.fh.readline(1 << 16)

    def _headers(self) -> EmailMessage:
        block = bytearray()
        while True:
            line = self._line()
            if not line or line in (b"\r\n", b"\n"):
                break
            block += line
            if len(block) > _MAX_HEADER_BYTES:
                raise MalformedEmail("its headers run to more than 1 MB")
        return email.parser.BytesParser(policy=policy.default).parsebytes(bytes(block), headersonly=True)

    @staticmethod
    def _boundary(line: bytes, boundaries: tuple[bytes, ...]) -> bytes | None:
        if not line.startswith(b"--"):
            return None
        text = line.rstrip(b"\r\n \t")
        for b in boundaries:
            if text == b"--" + b or text == b"--" + b + b"--":
                return text
        return None

    def _entity(self, headers: EmailMessage, boundaries: tuple[bytes, ...], depth: int) -> bytes | None:
        """Read one entity's body; return the boundary line that ended it (None at the end of the file)."""
        if depth > _MAX_DEPTH:
            raise MalformedEmail(f"its parts are nested more than {_MAX_DEPTH} deep")
        maintype = headers.get_content_maintype()
        if headers.get_content_type() == "message/rfc822":
            return self._entity(self._headers(), boundaries, depth + 1)
        boundary = headers.get_boundary() if maintype == "multipart" else None
        if boundary:
            return self._multipart(boundary.encode("ascii", "replace"), boundaries, depth)
        filename = headers.get_filename()
        ctype = headers.get_content_type()
        wanted = (filename or headers.get_content_disposition() == "attachment" or ctype in self.spreadsheet_types)
        if wanted and self.is_workbook(filename, ctype):
            name = filename or f"attachment-{len(self.attachments) + 1}.xlsx"
            data, end = self._decode(headers, boundaries)
            self.attachments.append((name, data))
            return end
        if wanted and filename:
            self.others.append(filename)
        return self._skip(boundaries)

    def _multipart(self, boundary: bytes, outer: tuple[bytes, ...], depth: int) -> bytes | None:
        inner = (boundary, *outer)
        end = self._skip(inner)  # the preamble
        while end is not None and end.startswith(b"--" + boundary) and not end.endswith(b"--" + boundary + b"--"):
            end = self._entity(self._headers(), inner, depth + 1)
        if end is not None and end == b"--" + boundary + b"--":
            end = self._skip(outer)  # the epilogue
        return end

    def _skip(self, boundaries: tuple[bytes, ...]) -> bytes | None:
        at_start = True
        while True:
            line = self._line()
            if not line:
                return None
            if at_start:
                found = self._boundary(line, boundaries)
                if found is not None:
                    return found
            at_start = line.endswith(b"\n")

    def _decode(self, headers: EmailMessage, boundaries: tuple[bytes, ...]) -> tuple[bytes | None, bytes | None]:
        """The part's decoded bytes (None when over the workbook cap) and the boundary that ended it."""
        cte = str(headers.get("Content-Transfer-Encoding", "")).strip().lower()
        out = bytearray()
        pending = b""  # base64 characters not yet a whole group of four
        held: bytes | None = None  # the previous line: its line break belongs to the boundary if one follows
        too_big = False
        at_start = True
        end = None

        def emit(raw: bytes) -> None:
            nonlocal pending, too_big
            if too_big:
                return
            if cte == "base64":
                pending += bytes(c for c in raw if c not in b" \t\r\n") if b" " in raw or b"\t" in raw \
                    else raw.rstrip(b"\r\n")
                cut = len(pending) // 4 * 4
                out.extend(binascii.a2b_base64(pending[:cut]))
                pending = pending[cut:]
            elif cte == "quoted-printable":
                out.extend(binascii.a2b_qp(raw))
            else:
                out.extend(raw)
            if len(out) > self.cap:
                too_big = True
                out.clear()

        while True:
            line = self._line()
            if not line:
                break
            if at_start:
                end = self._boundary(line, boundaries)
                if end is not None:
                    break
            at_start = line.endswith(b"\n")
            if held is not None:
                emit(held)
            held = line
        if held is not None:
            emit(held.rstrip(b"\r\n") if cte not in ("base64",) else held)
        if cte == "base64" and pending and not too_big:
            out.extend(binascii.a2b_base64(pending + b"=" * (-len(pending) % 4)))
        return (None if too_big else bytes(out)), end
