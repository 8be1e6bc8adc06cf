"""A paragraph locator over the guidance chapters in docs/guidance/ (no tests here).

``paragraph("AtW 7.25")`` is the text of that paragraph: from the line that starts with its number
to the next numbered line of the same chapter, bullets and all. The chapters number their
paragraphs in their own ways: "7.25 " (AtW, sometimes "7.01."), "- 6.17 " or "6.18 " (JOBS II),
and "4. " (WHP chapter 16 and the Work Programme KPD guidance). The KPD guidance numbers twice:
its introduction ("KPD intro 4") and, after the "MI Definitions" heading, its definitions ("KPD 4").
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

GUIDANCE = Path(__file__).resolve().parent.parent / "docs" / "guidance"
SEPARATOR = "=========="  # ends the header of title, date, source and licence
FILES = {"AtW": "atw-mhss-ch7-performance-and-mi.txt", "JOBS II": "jobs-ii-ch6-performance-and-mi.txt",
         "KPD": "work-programme-kpd-mi-guidance.txt", "WHP": "whp-ch16-performance-and-compliance.txt"}
_NUMBERED = {"AtW": re.compile(r"^(7\.\d\d)\.?\s"), "JOBS II": re.compile(r"^(?:- )?(6\.\d\d)\s"),
             "KPD": re.compile(r"^(\d{1,2})\.\s"), "WHP": re.compile(r"^(\d{1,2})\.\s")}
_REF = re.compile(r"^(AtW|JOBS II|KPD intro|KPD|WHP) (\d+(?:\.\d+)?)$")


def body(source: str) -> str:
    """The chapter's text as published, without the header this repository adds."""
    text = (GUIDANCE / FILES[source]).read_text(encoding="utf-8")
    return text.split(SEPARATOR + "\n", 1)[1]


@lru_cache(maxsize=None)
def _paragraphs(source: str, part: str) -> dict[str, str]:
    lines = body(source).split("\n")
    if source == "KPD":
        cut = lines.index("MI Definitions")
        lines = lines[:cut] if part == "intro" else lines[cut:]
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        m = _NUMBERED[source].match(line)
        if m:
            current = out.setdefault(m.group(1), [])
        if current is not None:
            current.append(line)
    return {number: "\n".join(text) for number, text in out.items()}


def paragraph(ref: str) -> str:
    """The text of one cited paragraph ("AtW 7.25", "JOBS II 6.18", "KPD intro 4", "KPD 20");
    KeyError when the chapter has no such paragraph, ValueError for a citation of another form."""
    m = _REF.match(ref)
    if m is None:
        raise ValueError(f"'{ref}' is not a citation of one paragraph")
    source, number = m.groups()
    part = "intro" if source == "KPD intro" else "body"
    return _paragraphs("KPD" if source == "KPD intro" else source, part)[number]


def normalised(text: str) -> str:
    return " ".join(text.split())
