"""A draft e-mail back to the provider about one return: what to fix, what to explain, and the
annotated copy attached (issue 19 item 21).

The draft is an RFC 5322 message (``.eml``) built with Python's ``email`` package: a plain-text
body in UTF-8 and, when there is one, the annotated copy of the return as an attachment. It has
``X-Unsent: 1``, so Outlook opens it as a message to edit and send; Thunderbird opens it as a
message (File > Open > Saved Message; "Edit as New Message" to send it). It has no From: the mail
program puts the sender's own address there.

The same inputs give the same bytes: the Date is the run's as-of date (never the clock), and
the Message-ID and the MIME boundary are derived from a SHA-256 of the draft's content.

Personal data: every finding message and value quoted is already masked (``findings.make``);
the subject and body are masked once more as a whole (``personal_data.mask_all``), as a finding
message is. Only the To header holds an address: the provider's own, which the draft is for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from ..checks.explanations import SHEET_NAME as EXPLANATIONS_SHEET
from ..spec.findings import Finding
from ..spec.model import FileReport
from ..spec.periods import months_title
from ..spec.personal_data import mask_all
from ..spec.return_spec import display_name
from ._common import grouped, plural, spec_of

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOMAIN = "kpd-returns.invalid"  # a reserved name (RFC 2606): a draft's Message-ID names no real host
# CRLF line ends; lines up to RFC 5322's hard limit of 998 characters, so a subject is never folded
# (Python's parser reads a folded one with a leading space) and a plain body stays 7-bit text,
# readable as it is; an attachment is base64 in 76-character lines whatever the limit.
POLICY = policy.SMTP.clone(max_line_length=998)
# A copy bigger than this is not attached (many mail systems refuse messages over 10 to 25 MB, and
# the message is built in memory: a third bigger again in base64); the draft says so.
MAX_ATTACHMENT_BYTES = 10 * 2**20


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes


def _period_words(report: FileReport) -> str | None:
    """'October 2026', 'July to September 2026', 'April 2026 to March 2027'; None when unknown."""
    spec = spec_of(report)
    period = spec.period.parse(report.period) if spec is not None and report.period else None
    if period is None:
        return report.period
    return months_title(f"{period.start:%Y-%m}", period.end_month)


def return_words(report: FileReport) -> str:
    """'October 2026 MMIR return for contract AtW-MHSS-C014', or as much of it as is known."""
    kind = display_name(report.return_id)
    if kind and not kind.lower().endswith("return"):
        kind += " return"
    words = " ".join(x for x in (_period_words(report), kind or "return") if x)
    return words + (f" for contract {report.contract}" if report.contract else "")


def _open_queries(report: FileReport) -> list[Finding]:
    return [f for f in report.findings if f.status == "open"]


def subject(report: FileReport) -> str:
    """'Your October 2026 MMIR return for contract X: 3 things to fix' (and the queries to check)."""
    errors, queries = len(report.errors), len(_open_queries(report))
    parts = []
    if errors:
        parts.append(f"{errors} {'thing' if errors == 1 else 'things'} to fix")
    if queries:
        parts.append(f"{queries} {'query' if queries == 1 else 'queries'} to check")
    text = f"Your {return_words(report)}: {', '.join(parts) or 'nothing to fix'}"
    # One line whatever a provider typed in the contract cell (a line break there would end the header).
    return mask_all(" ".join(text.split()))


def _finding_lines(f: Finding) -> list[str]:
    """'  * Cell D12 (FTE total), guidance KPD 9, query code x:' then the message; a finding about a
    whole sheet or file is its message, then its guidance."""
    bits = []
    if f.guidance:  # a paragraph ("KPD 9", "AtW 7.25") is cited as guidance; a basis in words
        # ("arithmetic: ...", spec.basis) and "plausibility check" are said as they are
        paragraph = any(ch.isdigit() for ch in f.guidance) and ":" not in f.guidance
        bits.append(f"guidance {f.guidance}" if paragraph else f.guidance)
    if f.status == "open":
        bits.append(f"query code {f.code}")
    if not f.cell:
        return [f"  * {f.message}" + (f" ({', '.join(bits)})" if bits else "")]
    where = f"Cell {f.cell}" + (f" ({f.field_label})" if f.field_label else "")
    return [f"  * {', '.join([where, *bits])}:", f"    {f.message}"]


def _section(title: str, report: FileReport, findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return []
    keep = {id(f) for f in findings}
    lines = [title, "-" * len(title), ""]
    for sheet, items in grouped(report):
        mine = [f for f in items if id(f) in keep]
        if not mine:
            continue
        lines.append(f"Sheet {sheet}" if sheet else "The whole file")
        for f in mine:
            lines.extend(_finding_lines(f))
        lines.append("")
    return lines


def _explain_lines(queries: Sequence[Finding]) -> list[str]:
    if not queries:
        return []
    example = queries[0]
    return [
        "How to explain a query",
        "----------------------",
        "",
        "A query is a figure that is unusual but may be right. If it is wrong, correct it. If it is right, "
        f"explain it on your return's {EXPLANATIONS_SHEET} sheet: on one row, enter the query code, the cell as "
        "this e-mail gives it and one sentence saying why the figure is right. For example:",
        "",
        f"  Query code: {example.code}",
        f"  Cell: {example.ref}",
        "  Explanation: one sentence, with no names or other personal data.",
        "",
        "An error cannot be explained: it must be corrected.",
        "",
    ]


def body(report: FileReport, *, attachment: str | None, received: str | None = None, too_large: bool = False) -> str:
    """The plain-text body: what happened, the findings by sheet and cell, how to explain a query."""
    errors = report.errors
    queries = _open_queries(report)
    others = [f for f in report.warnings if f.status is None]
    what = return_words(report)
    sent = f" that you sent on {received}" if received else ""
    name = f" ({report.name})" if report.name else ""
    lines = ["Hello,", ""]
    if errors:
        lines.append(f"We checked the {what}{sent}{name}. We could not accept it: it has "
                     f"{plural(len(errors), 'error')} to correct"
                     + (f" and {plural(len(queries), 'query')} to check" if queries else "") + ".")
        lines += ["", "Please correct the return and send the whole workbook to us again."]
    else:
        lines.append(f"We checked the {what}{sent}{name}. We have accepted it, but it has "
                     f"{plural(len(queries), 'query')} for you to check.")
        lines += ["", "Please correct each figure that is wrong, or explain it if it is right, and send the whole "
                      "workbook to us again."]
    if attachment:
        lines += ["", f"A copy of your return is attached ({attachment}): each cell below is marked in it with a "
                      "comment, and its Findings sheet lists them all. Make your changes in your own copy of the "
                      "return."]
    elif too_large:
        lines += ["", "A marked-up copy of your return is too large to attach to an e-mail: the findings are listed "
                      "below."]
    else:
        lines += ["", "We could not attach a marked-up copy of this file: the findings are listed below."]
    lines.append("")
    lines += _section("Errors to correct", report, errors)
    lines += _section("Queries to check", report, queries)
    lines += _explain_lines(queries)
    lines += _section("Also for your information", report, others)
    lines += ["If anything here is unclear, reply to this e-mail.", "", "Thank you."]
    return mask_all("\n".join(lines) + "\n")


def draft_message(report: FileReport, *, to: str | None, as_of: dt.date, attachment: Attachment | None = None,
                  received: str | None = None, too_large: bool = False) -> bytes:
    """The draft as the bytes of an .eml file (CRLF line ends). ``to`` must be an address that
    ``usable_address`` accepts, or None for a draft with no To. An attachment over
    MAX_ATTACHMENT_BYTES is left out, as when ``too_large`` says the caller left it out: the body says so."""
    if attachment is not None and len(attachment.data) > MAX_ATTACHMENT_BYTES:
        attachment, too_large = None, True
    text = body(report, attachment=attachment.name if attachment else None, received=received, too_large=too_large)
    subj = subject(report)
    date = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.timezone.utc)
    digest = hashlib.sha256()
    for part in (to or "", subj, text, date.isoformat(), attachment.name if attachment else "",
                 hashlib.sha256(attachment.data).hexdigest() if attachment else ""):
        digest.update(part.encode("utf-8") + b"\0")
    key = digest.hexdigest()

    msg = EmailMessage(policy=POLICY)
    if to:
        local, _, domain = to.rpartition("@")
        msg["To"] = Address(addr_spec=f"{local}@{domain}")
    msg["Subject"] = subj
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<draft.{key[:32]}@{DOMAIN}>"
    msg["X-Unsent"] = "1"
    msg.set_content(text, charset="utf-8")
    if attachment is not None:
        msg.add_attachment(attachment.data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=attachment.name)
        for part in msg.iter_parts():
            del part["MIME-Version"]  # the message says it once, in its own header
        msg.set_boundary(f"=_kpd-returns_{key[32:56]}")
    return msg.as_bytes(policy=POLICY)


def usable_address(text: str | None) -> str | None:
    """The address itself when ``text`` is one plain e-mail address a To header can carry (ASCII,
    one @, no spaces, quotes, brackets or separators), else None."""
    if not text:
        return None
    text = text.strip()
    if not text.isascii() or any(c.isspace() or c in '<>()[],;:"\\' for c in text) or text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith(".") or len(text) > 254:
        return None
    try:
        Address(addr_spec=text)
    except Exception:  # noqa: BLE001 - anything the header registry refuses is not usable
        return None
    return text
