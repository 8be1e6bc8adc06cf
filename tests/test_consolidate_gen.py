"""A generated inbox for the batch tests: hundreds of realistic inputs, built fast.

A few base returns are made the slow, realistic way (kpd_returns.author.samples: the real
template filled by defined name); every other return is derived from them by
rewriting a handful of header cells in the zip (provider, contract, date submitted,
contact) or one figure. So each provider's months carry the same, consistent figures
(year to date continues month to month, Q2 restates Q1 exactly) and files differ
only where a test wants them to.

``build_inbox`` returns the files it wrote and the expectation, worked out by hand
from the plan (not by running the tool): the outcome of every input, the current
file for each (return, contract, period) and the status of each register row.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from kpd_returns.spec import layout
from kpd_returns.author import sample_calendar, samples
from kpd_returns.checks.batch import prepare
from kpd_returns.spec.return_spec import get_spec

UK = ZoneInfo("Europe/London")
MONTHS = tuple(f"2026-{m:02d}" for m in range(4, 11))
QUARTERS = ("Q1", "Q2")
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_EPOCH = dt.date(1899, 12, 30)
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)
EQUALS_NAME = "=1+2 Equals Training Ltd"


# -- patching a saved workbook without openpyxl ------------------------------------------
def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({a: b for b, a in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', wb):
        t = targets[rid].lstrip("/")
        out[name.replace("&amp;", "&")] = t if t.startswith("xl/") else "xl/" + t
    return out


def _cell_xml(ref: str, style: str, value: Any) -> str:
    if value is None:
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{style}><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def patch(data: bytes, spec, edits: dict[tuple[str, str], Any]) -> bytes:
    """A copy of the workbook with the cells of ``edits`` ((field, key) -> value) rewritten."""
    index = _slots(spec.id)
    by_sheet: dict[str, dict[str, Any]] = {}
    for key, value in edits.items():
        slot = index[key]
        by_sheet.setdefault(slot.sheet, {})[slot.cell] = value
    src = zipfile.ZipFile(io.BytesIO(data))
    parts = _sheet_parts(src)
    new: dict[str, bytes] = {}
    for sheet, cells in by_sheet.items():
        xml = src.read(parts[sheet]).decode()
        for ref, value in cells.items():
            pattern = re.compile(rf'<c r="{ref}"((?: [a-z]+="[^"]*")*)\s*(?:/>|>.*?</c>)', re.S)
            m = pattern.search(xml)
            if m is None:
                raise ValueError(f"{sheet}!{ref} is not in the base workbook")
            style = "".join(a for a in re.findall(r' [a-z]+="[^"]*"', m.group(1)) if a.startswith(" s="))
            xml = xml[:m.start()] + _cell_xml(ref, style, value) + xml[m.end():]
        new[parts[sheet]] = xml.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, _ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, new.get(info.filename, src.read(info.filename)), compresslevel=1)
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def _slots(return_id: str):
    return layout.slot_index(get_spec(return_id))


@functools.lru_cache(maxsize=None)
def mmir_base(month: str) -> bytes:
    return samples.save_reproducibly(samples.sample_workbook(get_spec("mmir"), samples.PROVIDERS[0], "AtW-MHSS-C014", month))


@functools.lru_cache(maxsize=None)
def kpd_base(quarter: str) -> bytes:
    return samples.save_reproducibly(samples.sample_workbook(get_spec("kpd"), samples.PROVIDERS[0], "CPA 07", f"2026-27 {quarter}"))


def working_day(year: int, month: int, n: int) -> dt.date:
    return sample_calendar.nth_working_day(year, month, n)


def default_submitted(return_id: str, period: str) -> dt.date:
    """As the samples do: the 2nd working day of the month after the period."""
    if return_id == "mmir":
        y, m = int(period[:4]), int(period[5:])
    else:
        y, m = (2026, 6) if period.endswith("Q1") else (2026, 9)
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return working_day(y, m, 2)


# -- the plan -------------------------------------------------------------------------------
@dataclass
class Provider:
    n: int
    name: str
    channel: str  # "file" or "email"
    region: str = "england-and-wales"
    service_start: str = "2026-04"

    @property
    def mmir_contract(self) -> str:
        return f"AtW-T-{self.n:02d}"

    @property
    def cpa(self) -> str:
        return f"CPA T{self.n:02d}"

    @property
    def slug(self) -> str:
        return f"p{self.n:02d}"

    @property
    def sender(self) -> str:
        return f"mi@{self.slug}.example"

    def contract(self, rid: str) -> str:
        return self.mmir_contract if rid == "mmir" else self.cpa


@dataclass
class Expected:
    inputs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in (
        "accepted", "accepted with warnings", "rejected", "unreadable", "duplicate")})
    outcome_by_name: dict[str, str] = field(default_factory=dict)  # unique input label -> outcome
    current: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (rid, contract, period) -> file name
    register: dict[tuple[str, str, str], tuple] = field(default_factory=dict)  # -> (status, late, resubs, files)
    equals_provider: str = EQUALS_NAME
    providers_csv: Path | None = None
    skipped: list[str] = field(default_factory=list)  # files in the inbox that are not returns


class InboxBuilder:
    def __init__(self, root: Path):
        self.root = root
        self.exp = Expected()
        self.mail_no = 0

    # the return's bytes
    def workbook(self, rid: str, period: str, p: Provider, *, submitted: dt.date | None = None,
                 contact: str | None = None, extra: dict | None = None) -> bytes:
        spec = get_spec(rid)
        if rid == "mmir":
            base = mmir_base(period)
            edits = {("provider", ""): p.name, ("contract", ""): p.mmir_contract}
        else:
            base = kpd_base(period[-2:])
            edits = {("provider", ""): p.name, ("cpa", ""): p.cpa}
        if submitted is not None:
            edits[("date_submitted", "")] = submitted
        if contact is not None:
            edits[("contact", "")] = contact
        edits.update(extra or {})
        return patch(base, spec, edits)

    def name(self, rid: str, period: str, p: Provider, suffix: str = "") -> str:
        return f"{rid}-{p.slug}-{period.replace(' ', '-').lower()}{suffix}.xlsx"

    def count(self, label: str, outcome: str) -> None:
        assert label not in self.exp.outcome_by_name, label
        self.exp.inputs += 1
        self.exp.counts[outcome] += 1
        self.exp.outcome_by_name[label] = outcome

    # delivering it
    def put_file(self, rel: str, data: bytes, outcome: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if outcome == "skipped":  # not a return: listed once, never an input
            self.exp.skipped.append(rel)
        else:
            self.count(rel, outcome)
        return path

    def put_email(self, rel: str, p_sender: str, when: dt.datetime, attachments: list[tuple[str, bytes, str]],
                  others: list[tuple[str, bytes]] = (), outcome_if_none: str | None = None) -> Path:
        msg = EmailMessage()
        msg["From"] = f"MI team <{p_sender}>"
        msg["To"] = "returns@dwp.example"
        msg["Subject"] = "Monthly return"
        msg["Date"] = format_datetime(when.replace(tzinfo=UK))
        msg.set_content("Our return is attached.")
        for name, data, outcome in attachments:
            msg.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=name)
        for name, data in others:
            msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(msg))
        for name, _data, outcome in attachments:
            self.count(f"{rel}:{name}", outcome)
        if not attachments:
            self.count(rel, outcome_if_none or "unreadable")
        return path

    def deliver(self, p: Provider, rid: str, period: str, data: bytes, name: str, outcome: str,
                when: dt.datetime | None = None, folder: str | None = None) -> str:
        if p.channel == "file":
            rel = f"{folder or 'files/' + p.slug}/{name}"
            self.put_file(rel, data, outcome)
            return rel
        self.mail_no += 1
        rel = f"{folder or 'mail'}/{p.slug}-{self.mail_no:03d}.eml"
        when = when or dt.datetime.combine(default_submitted(rid, period), dt.time(10, 0))
        self.put_email(rel, p.sender, when, [(name, data, outcome)])
        return f"{rel}:{name}"


def build_inbox(root: Path, n_providers: int = 30) -> Expected:
    """Write the inbox under ``root``; return what a correct run must report."""
    root.mkdir(parents=True, exist_ok=True)
    b = InboxBuilder(root)
    exp = b.exp
    providers = []
    for n in range(1, n_providers + 1):
        name = EQUALS_NAME if n == n_providers else f"Test Provider {n:02d} Ltd"
        region = {5: "scotland", 8: "northern-ireland"}.get(n, "england-and-wales")
        providers.append(Provider(n, name, "file" if n < n_providers // 2 else "email", region,
                                  "2026-08" if n == 20 else "2026-04"))
    P = {p.n: p for p in providers}
    silent = Provider(n_providers + 1, "Silent Provider Ltd", "file")

    def periods_for(p: Provider, rid: str) -> list[str]:
        if rid == "mmir":
            return [m for m in MONTHS if m >= p.service_start]
        return ["2026-27 Q1", "2026-27 Q2"] if p.service_start <= "2026-06" else ["2026-27 Q2"]

    def on_time(rid, p, period, resubs=0, files=1):
        exp.register[(rid, p.contract(rid), period)] = ("on time", 0, resubs, files)

    # 1. Every provider's returns, on time, each with the workbook's own date submitted.
    skip = {(10, "mmir", "2026-10"), (11, "kpd", "2026-27 Q2"), (12, "mmir", "2026-10"),
            (7, "kpd", "2026-27 Q1"), (2, "mmir", "2026-10"), (15, "mmir", "2026-10"), (3, "mmir", "2026-08")}
    originals: dict[tuple[int, str, str], tuple[str, bytes]] = {}
    for p in providers:
        for rid in ("kpd", "mmir"):
            for period in periods_for(p, rid):
                if (p.n, rid, period) in skip:
                    continue
                data = b.workbook(rid, period, p)
                name = b.name(rid, period, p)
                label = b.deliver(p, rid, period, data, name, "accepted")
                originals[(p.n, rid, period)] = (label, data)
                exp.current[(rid, p.contract(rid), period)] = name
                on_time(rid, p, period)
    for p in providers + [silent]:
        for rid in ("kpd", "mmir"):
            for period in periods_for(p, rid):
                exp.register.setdefault((rid, p.contract(rid), period), ("missing", None, 0, 0))

    # 2. Late returns. P02's October says it was submitted Tue 10 November 2026: the deadline was
    #    Wed 4 November, so late by 4 working days (5, 6, 9, 10 November).
    p = P[2]
    name = b.name("mmir", "2026-10", p)
    b.deliver(p, "mmir", "2026-10", b.workbook("mmir", "2026-10", p, submitted=dt.date(2026, 11, 10)), name, "accepted with warnings")
    exp.current[("mmir", p.mmir_contract, "2026-10")] = name
    exp.register[("mmir", p.mmir_contract, "2026-10")] = ("late", 4, 0, 1)
    #    P15 e-mailed October on Fri 20 November 10:00: late by 12 working days (5-6, 9-13, 16-20 November).
    p = P[15]
    name = b.name("mmir", "2026-10", p)
    b.deliver(p, "mmir", "2026-10", b.workbook("mmir", "2026-10", p), name, "accepted with warnings",
              when=dt.datetime(2026, 11, 20, 10, 0))
    exp.current[("mmir", p.mmir_contract, "2026-10")] = name
    exp.register[("mmir", p.mmir_contract, "2026-10")] = ("late", 12, 0, 1)

    # 3. Resubmissions.
    #    P01 resends September on Mon 5 October (the deadline day) with a new contact: it supersedes.
    p = P[1]
    name = b.name("mmir", "2026-09", p, "-v2")
    b.deliver(p, "mmir", "2026-09", b.workbook("mmir", "2026-09", p, submitted=dt.date(2026, 10, 5),
                                               contact="MI team (resubmission)"), name, "accepted")
    exp.current[("mmir", p.mmir_contract, "2026-09")] = name
    on_time("mmir", p, "2026-09", resubs=1, files=2)
    #    P17 (e-mail) resends its KPD Q2 on 28 October, after the deadline: current, and
    #    the period stays on time because the first valid return was.
    p = P[17]
    name = b.name("kpd", "2026-27 Q2", p, "-v2")
    b.deliver(p, "kpd", "2026-27 Q2", b.workbook("kpd", "2026-27 Q2", p, contact="Performance team v2"), name,
              "accepted with warnings", when=dt.datetime(2026, 10, 28, 9, 0))
    exp.current[("kpd", p.cpa, "2026-27 Q2")] = name
    on_time("kpd", p, "2026-27 Q2", resubs=1, files=2)
    #    P03's August first came with a negative count (rejected), then corrected on Mon 7 September:
    #    the deadline was Thu 3 September (31 August was a bank holiday), so late by 2 working days.
    p = P[3]
    bad = b.workbook("mmir", "2026-08", p, extra={("sustainment_required", "in_month"): -4})
    b.deliver(p, "mmir", "2026-08", bad, b.name("mmir", "2026-08", p, "-first-try"), "rejected")
    name = b.name("mmir", "2026-08", p, "-corrected")
    b.deliver(p, "mmir", "2026-08", b.workbook("mmir", "2026-08", p, submitted=dt.date(2026, 9, 7),
                                               contact="MI team (corrected)"), name, "accepted with warnings")
    exp.current[("mmir", p.mmir_contract, "2026-08")] = name
    exp.register[("mmir", p.mmir_contract, "2026-08")] = ("late", 2, 1, 2)
    #    P04 resends October on 5 November with year to date referrals 5 too high: accepted with a
    #    ytd-discontinuity warning (September's year to date plus October's in-month is less).
    p = P[4]
    ytd = _base_value("mmir", "2026-10", ("referrals", "year_to_date"))
    name = b.name("mmir", "2026-10", p, "-v2")
    b.deliver(p, "mmir", "2026-10", b.workbook("mmir", "2026-10", p, submitted=dt.date(2026, 11, 5),
                                               extra={("referrals", "year_to_date"): ytd + 5}),
              name, "accepted with warnings")
    exp.current[("mmir", p.mmir_contract, "2026-10")] = name
    on_time("mmir", p, "2026-10", resubs=1, files=2)
    #    P06 sends a July version dated BEFORE its original (3 August vs 4 August), read after it:
    #    it does not supersede the later-dated original.
    p = P[6]
    b.deliver(p, "mmir", "2026-07", b.workbook("mmir", "2026-07", p, submitted=dt.date(2026, 8, 3),
                                               contact="MI team (draft)"), "zz-" + b.name("mmir", "2026-07", p),
              "accepted")
    on_time("mmir", p, "2026-07", resubs=1, files=2)
    #    P16 (e-mail) sends June with a number typed as text, then the right one two days later.
    p = P[16]
    bad = b.workbook("mmir", "2026-06", p, extra={("referrals", "in_month"): "about 90"})
    b.deliver(p, "mmir", "2026-06", bad, b.name("mmir", "2026-06", p, "-bad"), "rejected",
              when=dt.datetime(2026, 7, 1, 16, 0))
    # (its original, sent on the 2nd working day, is later: it stays current)
    exp.register[("mmir", p.mmir_contract, "2026-06")] = ("on time", 0, 1, 2)

    # 4. Rejected only: P07's KPD Q1 has text in a number; P12's October has a negative count.
    p = P[7]
    b.deliver(p, "kpd", "2026-27 Q1", b.workbook("kpd", "2026-27 Q1", p, extra={("staff_central", "jun"): "12 FTE"}),
              b.name("kpd", "2026-27 Q1", p), "rejected")
    exp.register[("kpd", p.cpa, "2026-27 Q1")] = ("rejected only", None, 0, 1)
    p = P[12]
    rejected_oct = b.workbook("mmir", "2026-10", p, extra={("sustainment_required", "in_month"): -1})
    b.deliver(p, "mmir", "2026-10", rejected_oct, b.name("mmir", "2026-10", p), "rejected")
    exp.register[("mmir", p.mmir_contract, "2026-10")] = ("rejected only", None, 0, 1)
    # Missing: P10's October, P11's KPD Q2 (already "missing" above), everything of the silent provider.

    # 5. Exact duplicates: copies of three providers' files in another folder, two providers'
    #    e-mails sent again, one e-mail carrying two returns already sent, a copy of a rejected file.
    for n in (1, 2, 3):
        for (pn, rid, period), (label, data) in sorted(originals.items()):
            if pn == n:
                b.put_file(f"files/zz-copies/{n}/{Path(label).name}", data, "duplicate")
    for n in (18, 19):
        for (pn, rid, period), (label, data) in sorted(originals.items()):
            if pn == n:
                b.mail_no += 1
                b.put_email(f"mail/resent/{P[n].slug}-{b.mail_no:03d}.eml", P[n].sender,
                            dt.datetime(2026, 11, 25, 9, 0), [(label.split(":")[-1], data, "duplicate")])
    both = [(label.split(":")[-1], data, "duplicate") for (pn, rid, period), (label, data) in sorted(originals.items())
            if pn == 21 and period in ("2026-09", "2026-10")]
    b.put_email("mail/resent/p21-two-returns.eml", P[21].sender, dt.datetime(2026, 11, 26, 9, 0), both)
    b.put_file("files/zz-copies/p12-october-again.xlsx", rejected_oct, "duplicate")

    # 6. Unreadable inputs, and OS clutter that is not an input at all.
    b.put_file("files/stray/cover-letter.pdf", b"%PDF-1.4\n% not a return\n", "skipped")
    b.put_file("files/stray/old-template.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "unreadable")
    b.put_file("files/stray/figures.csv", b"provider,referrals\nP01,10\n", "skipped")
    b.put_file("files/stray/empty.xlsx", b"", "unreadable")
    b.put_file("files/stray/broken.msg", b"this is not an Outlook message", "unreadable")
    b.put_email("mail/p22-forgot-attachment.eml", P[22].sender, dt.datetime(2026, 11, 3, 9, 0), [],
                others=[("cover.pdf", b"%PDF")])
    for junk in ("files/.DS_Store", "files/p01/Thumbs.db", "files/p01/~$mmir-p01-2026-10.xlsx", "mail/desktop.ini"):
        (root / junk).write_bytes(b"junk")

    # The register: every provider, each return type on its own row (MMIR contract, KPD CPA).
    lines = ["provider,contract,returns,region,service_start"]
    for p in providers + [silent]:
        lines.append(f'"{p.name}",{p.mmir_contract},mmir,{p.region},{p.service_start}')
        lines.append(f'"{p.name}",{p.cpa},kpd,{p.region},{p.service_start}')
    exp.providers_csv = root.parent / f"{root.name}-providers.csv"
    exp.providers_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return exp


@functools.lru_cache(maxsize=None)
def _base_values(rid: str, period: str) -> dict:
    data = mmir_base(period) if rid == "mmir" else kpd_base(period[-2:])
    ex = prepare(data, name="base", specs={rid: get_spec(rid)})
    return {k: loc.raw for k, loc in ex.check.data.cells.items()}


def _base_value(rid: str, period: str, key: tuple[str, str]) -> float:
    return float(_base_values(rid, period)[key])


def small_inbox(root: Path, extra_providers: int = 0) -> Expected:
    """A small mixed inbox for quick end-to-end runs: two providers' returns (one by file, one by
    e-mail, one provider named with a leading '='), a rejected file, a late one, unreadable ones and
    duplicates."""
    b = InboxBuilder(root)
    p1 = Provider(1, "Test Provider 01 Ltd", "file")
    p2 = Provider(2, EQUALS_NAME, "email", "scotland")
    for p in (p1, p2):
        for rid, periods in (("kpd", ["2026-27 Q1", "2026-27 Q2"]), ("mmir", list(MONTHS))):
            for period in periods:
                b.deliver(p, rid, period, b.workbook(rid, period, p), b.name(rid, period, p), "accepted")
    bad = b.workbook("mmir", "2026-10", p1, extra={("referrals", "in_month"): "n/a"}, submitted=dt.date(2026, 11, 2))
    b.deliver(p1, "mmir", "2026-10", bad, b.name("mmir", "2026-10", p1, "-bad"), "rejected")
    b.put_file("files/zz-copies/again.xlsx", bad, "duplicate")
    late = b.workbook("mmir", "2026-10", p1, submitted=dt.date(2026, 11, 10), contact="MI team (late)")
    b.deliver(p1, "mmir", "2026-10", late, b.name("mmir", "2026-10", p1, "-late"), "accepted with warnings")
    b.put_file("files/stray/notes.pdf", b"%PDF-1.4 not a return", "skipped")
    b.put_email("mail/no-attachment.eml", p2.sender, dt.datetime(2026, 11, 3, 9, 0), [])
    for n in range(3, 3 + extra_providers):
        p = Provider(n, f"Test Provider {n:02d} Ltd", "file")
        for rid, periods in (("kpd", ["2026-27 Q1", "2026-27 Q2"]), ("mmir", list(MONTHS))):
            for period in periods:
                b.deliver(p, rid, period, b.workbook(rid, period, p), b.name(rid, period, p), "accepted")
    lines = ["provider,contract,returns,region"] + [
        f'"{p.name}",{c},{rid},{p.region}' for p in (p1, p2) for c, rid in ((p.mmir_contract, "mmir"), (p.cpa, "kpd"))]
    b.exp.providers_csv = root.parent / f"{root.name}-providers.csv"
    b.exp.providers_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return b.exp


# -- the generator's own checks -------------------------------------------------------------------
def test_patch_rewrites_only_the_given_cells(tmp_path):
    base = mmir_base("2026-09")
    out = patch(base, get_spec("mmir"), {("provider", ""): "A & B <Ltd>", ("referrals", "in_month"): 7,
                                         ("date_submitted", ""): dt.date(2026, 10, 9)})
    specs = {"mmir": get_spec("mmir")}
    before, after = (prepare(data, specs=specs).check.data for data in (base, out))
    assert after.provider == "A & B <Ltd>" and after.submitted_date == dt.date(2026, 10, 9)
    assert after.cells[("referrals", "in_month")].raw == 7
    changed = {k for k in before.cells if before.cells[k].raw != after.cells[k].raw}
    assert changed == {("provider", ""), ("referrals", "in_month"), ("date_submitted", "")}
    assert patch(base, get_spec("mmir"), {("provider", ""): "X"}) == patch(base, get_spec("mmir"), {("provider", ""): "X"})


def test_the_plan_adds_up(tmp_path):
    exp = build_inbox(tmp_path / "inbox")
    assert exp.inputs >= 300
    assert sum(exp.counts.values()) == exp.inputs
    assert exp.counts["duplicate"] >= 40 and exp.counts["unreadable"] == 4 and len(exp.skipped) == 2 and exp.counts["rejected"] == 4
