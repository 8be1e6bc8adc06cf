"""ingest() with a stand-in validator: every input is accounted for, whatever the validator does."""

from __future__ import annotations

import datetime as dt
import os
from email.message import EmailMessage
from pathlib import Path

from kpd_returns.intake.ingest import ingest
from kpd_returns.intake.scope import Scope
from kpd_returns.intake.ledger import Ledger
from kpd_returns.spec.model import FileReport
from kpd_returns.intake.registry import Registry, RegistryEntry
from kpd_returns.checks.validate import finish_report


def fake_validate(fail_after: int | None = None, seen: list | None = None):
    """Reads 'mmir|contract|period' from the bytes; anything else is an unreadable file."""

    def validate(items, *, workers=1, calendar=None, chunk_size=100):
        for n, (source, name, submitted, submitted_source, region) in enumerate(items):
            if fail_after is not None and n >= fail_after and chunk_size != 1:
                raise RuntimeError("worker pool broke")
            data = source if isinstance(source, bytes) else Path(source).read_bytes()
            if seen is not None:
                seen.append(name)
            parts = data.decode(errors="replace").split("|")
            if parts[0] != "mmir":
                from kpd_returns.spec import findings as F
                yield FileReport(path=str(name), name=name, findings=[F.make("file-not-workbook", file=name,
                                                                             detail="test")])
                continue
            y, m = int(parts[2][:4]), int(parts[2][5:])
            end = dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
            report = FileReport(path=str(name), name=name, return_id="mmir", version="1.0", provider="P",
                                contract=parts[1], period=parts[2], period_end=end,
                                values=[("referrals", "in_month", "", 1.0)])
            yield finish_report(report, submitted=submitted, submitted_source=submitted_source, region=region,
                                as_of=dt.date(2027, 3, 1))
    return validate


def eml(path: Path, attachments: list[tuple[str, bytes]], date: str) -> None:
    msg = EmailMessage()
    msg["From"] = "mi@p.example"
    msg["Date"] = date
    msg.set_content("hi")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path.write_bytes(bytes(msg))


def make_inbox(root: Path) -> None:
    root.mkdir()
    for i, month in enumerate(("2026-09", "2026-10", "2026-11")):
        p = root / f"a-{month}.xlsx"
        p.write_bytes(f"mmir|C1|{month}".encode())
        stamp = dt.datetime(2026, 10 + i, 2, 9, 0, tzinfo=dt.timezone.utc).timestamp()
        os.utime(p, (stamp, stamp))
    (root / "copy.xlsx").write_bytes(b"mmir|C1|2026-09")  # an exact copy: duplicate
    (root / "stray.xlsx").write_bytes(b"%PDF")  # a PDF under a workbook's name: an input, unreadable
    (root / "cover.pdf").write_bytes(b"%PDF")  # not a return: skipped
    eml(root / "mail.eml", [("s-dec.xlsx", b"mmir|S1|2026-12"), ("again.xlsx", b"mmir|C1|2026-10")],
        "Thu, 07 Jan 2027 10:00:00 +0000")
    eml(root / "empty.eml", [], "Thu, 07 Jan 2027 10:00:00 +0000")


def test_every_input_is_accounted_for(tmp_path):
    make_inbox(tmp_path / "in")
    seen: list = []
    with Ledger(tmp_path / "l.sqlite") as led:
        s = ingest([tmp_path / "in"], led, workers=1, progress=False, validate=fake_validate(seen=seen))
        assert s.balanced and s.inputs == 8
        # s-dec.xlsx was e-mailed on 7 January 2027: late by 1 working day in England and Wales.
        assert s.counts == {"accepted": 3, "accepted with warnings": 1, "rejected": 0, "unreadable": 2,
                            "duplicate": 2}
        # Duplicates never reach the validator.
        assert seen == ["a-2026-09.xlsx", "a-2026-10.xlsx", "a-2026-11.xlsx", "s-dec.xlsx", "stray.xlsx"]
        # A bare workbook without its own date falls back to the file's time (UK local time).
        row = next(r for r in led.all_files() if r.name == "a-2026-09.xlsx")
        assert (row.submitted_source, row.received_text) == ("file-modified", "2026-10-02T10:00:00")
        order = [o.source for o in sorted(s.outcomes, key=lambda o: o.index)]
        assert order == ["a-2026-09.xlsx", "a-2026-10.xlsx", "a-2026-11.xlsx", "copy.xlsx", "empty.eml", "mail.eml",
                         "mail.eml", "stray.xlsx"]
        assert s.skipped == ["cover.pdf"]
        # Again: nothing is validated, and every input keeps the outcome the ledger recorded for it
        # (issue 14 items 4-5): the counts and the summary are the first run's.
        seen.clear()
        again = ingest([tmp_path / "in"], led, workers=1, progress=False, validate=fake_validate(seen=seen))
        assert seen == [] and again.counts == s.counts
        assert [o.to_dict() for o in again.outcomes] == [o.to_dict() for o in s.outcomes]
        assert sum(o.already_recorded for o in again.outcomes) == 6  # the 2 duplicates are copies in the inbox
        assert [o.source for o in again.open_problems] == ["empty.eml", "stray.xlsx"]


def test_the_batch_goes_on_when_the_validator_stops(tmp_path):
    make_inbox(tmp_path / "in")
    with Ledger(tmp_path / "l.sqlite") as led:
        s = ingest([tmp_path / "in"], led, workers=1, progress=False, validate=fake_validate(fail_after=2))
        assert s.balanced and s.inputs == 8 and s.counts["accepted"] + s.counts["accepted with warnings"] == 4
        assert s.notes and "checked one at a time" in s.notes[0]
        assert led.file_count() == 6


def test_the_register_s_division_decides_lateness(tmp_path):
    make_inbox(tmp_path / "in")
    reg = Registry([RegistryEntry("S", "S1", ("mmir",), "scotland")])
    with Ledger(tmp_path / "l.sqlite") as led:
        s = ingest([tmp_path / "in"], led, workers=1, progress=False, validate=fake_validate(), register=reg)
        dec = next(o for o in s.outcomes if o.name == "s-dec.xlsx")
        # December 2026 is due Thu 7 January 2027 in Scotland (Wed 6th in England and Wales).
        assert dec.outcome == "accepted"
        row = led.find_sha256(next(r.sha256 for r in led.all_files() if r.name == "s-dec.xlsx"))
        assert (row.late_working_days, row.deadline, row.region) == (0, dt.datetime(2027, 1, 7, 23, 59), "scotland")
        assert led.findings(row.file_id) == []
    with Ledger(tmp_path / "l2.sqlite") as led:
        s = ingest([tmp_path / "in"], led, workers=1, progress=False, validate=fake_validate())
        dec = next(o for o in s.outcomes if o.name == "s-dec.xlsx")
        assert dec.outcome == "accepted with warnings"  # late by 1 working day in England and Wales


def test_scope_of_a_period():
    from kpd_returns.spec.return_spec import get_spec

    scope = Scope.from_periods(["2026-10", "2026-27 Q2"])
    # A month selects every monthly return (insight and jobs2 too), a quarter the quarterly ones.
    assert scope.selected == {"mmir": ["2026-10"], "insight": ["2026-10"], "jobs2": ["2026-10"],
                              "action_plan": ["2026-10"], "kpd": ["2026-27 Q2"]}
    assert scope.periods_in_scope(get_spec("mmir"), ["2026-03", "2026-04", "2026-10", "2026-11"]) == {
        "2026-04", "2026-10"}
    assert scope.periods_in_scope(get_spec("kpd"), ["2026-27 Q1", "2026-27 Q2"]) == {"2026-27 Q2"}
