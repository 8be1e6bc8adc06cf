"""What an annotated copy's marks say and look like, whichever way the copy is made: the fills,
the comment on a marked cell, the findings sheet's name and columns, and the copy's file name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..spec.personal_data import mask_all
from ..spec.findings import Finding
from . import _zipedit as Z


ERROR_FILL = "FFC7CE"  # Excel's "light red fill"
WARNING_FILL = "FFEB9C"  # Excel's "yellow/amber fill"
FINDINGS_SHEET = "Findings"
FINDINGS_SHEET_ALT = "kpd-returns findings"
HEADERS = ("Severity", "Code", "Sheet", "Cell", "Field", "Message", "Guidance")
WIDTHS = (10, 26, 22, 9, 32, 100, 14)
HEADER_ROW = 3  # row 1: the verdict line; row 2: blank
AUTHOR = "kpd-returns"
MAX_TEXT = 32767  # Excel's limit for the text of one cell or comment


def annotated_name(source: str | Path) -> str:
    """'returns/x.xlsx' -> 'x.annotated.xlsx' (personal data in the name masked, stars as 'x')."""
    return f"{mask_all(Path(source).stem).replace('*', 'x')}.annotated.xlsx"


def _clean(text: str | None) -> str:
    return Z.clean(text)


MASKED_NOTE = "NOTE: kpd-returns masked the personal data in this cell in this copy (*)."


def _message(f: Finding) -> str:
    """The finding's message; an explained query also gives the provider's explanation (issue 13)."""
    if not f.explanation:
        return f.message
    return f"{f.message} Explained by the provider: \"{mask_all(f.explanation)}\""


def _comment_text(items: Sequence[Finding], masked: bool = False) -> str:
    lines = [MASKED_NOTE] if masked else []
    for f in items:
        line = f"{f.severity.upper()} {f.code}: {_message(f)}"
        if f.guidance:
            line += f" [{f.guidance}]"
        lines.append(line)
    return _clean("\n\n".join(lines))


def _fill_of(items: Sequence[Finding]) -> str:
    return ERROR_FILL if any(f.severity == "error" for f in items) else WARNING_FILL
