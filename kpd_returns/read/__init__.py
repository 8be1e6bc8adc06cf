"""The read stage: a file in (an .xlsx, or an attachment of an e-mail), located values out.

Takes bytes from outside; gives every cell with its place, formulas told apart from
typed numbers (``workbook``, its XML parts read by ``sheet_xml``), which return it is, whether
its layout is intact and what its header says (``extract``), each raw value in its field's type (``values``), and names made safe to
print (``terminal``). Anything hostile becomes a refusal, never an exception."""

from __future__ import annotations
