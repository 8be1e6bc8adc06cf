"""Issue 19 item 21: `kpd-returns consolidate` writes a draft e-mail back to the provider for each return
rejected (and still open) or current with an open query, tested by parsing the drafts with Python's
``email`` package, through the real command on the committed mistake samples.

The inbox: every committed mistake sample as a bare workbook, except the personal-data one, which
arrives attached to an e-mail; a KPD return with an open query and one whose query is explained; a
providers register giving one contract a contact. No mail client is installed here (Thunderbird,
Outlook): the drafts are checked as RFC 5322 messages by the standard library only.
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import json
import shutil
from email.message import EmailMessage
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from cli_run import run_cli
from leakcheck import assert_no_leak
from test_checks_explanations import ODD, WHY, explain
from test_checks_helpers import build, check, kpd_cells, only

from kpd_returns.intake.registry import RegistryError, registry_from_text
from kpd_returns.render.draft_email import MAX_ATTACHMENT_BYTES, Attachment, draft_message, subject, usable_address
from kpd_returns.spec import findings as F
from kpd_returns.spec.model import FileReport
from kpd_returns.spec.personal_data import find_all

REPO = Path(__file__).resolve().parents[1]
MISTAKES = REPO / "samples" / "mistakes"
SCHEMA = json.loads((REPO / "docs" / "batch-summary-schema.json").read_text("utf-8"))
SENDER = "mi.returns@meridian-skills.example"
CONTACT = "returns@calder-valley.example"
CONTACT_CONTRACT = "CPA 12"  # mistake-text-in-number.xlsx, a bare workbook
MAILED = "mistake-personal-data.xlsx"
AS_OF = "2026-11-20"
# Rejected samples: each is open (nothing corrects it in this inbox), so each gets a draft.
REJECTED = ["mistake-insight-count-mismatch", "mistake-insight-personal-data", "mistake-jobs2-clock-above-due",
            "mistake-jobs2-typed-over-exits", "mistake-missing-header", "mistake-negative-count",
            "mistake-personal-data", "mistake-text-in-number", "mistake-typed-over-total", "mistake-wrong-version",
            # The Yearly MI's missing CPD plan is not open: the late (valid) file for the same year followed it.
            "mistake-yearly-full-postcode"]
# Open queries: the query return built below, and the Action Plan whose action has no target date (a SMART query,
# WHP ch.16 7: the plan is accepted with a warning, and its provider is asked about it).
QUERIES = ["kpd-query", "mistake-action-plan-no-target-date"]
QUERY_CELLS = dict(cpa__="CPA 55", provider__="Query Provider Ltd", **ODD)


def _mail(attachment: Path) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"MI Returns <{SENDER}>"
    msg["To"] = "performance.team@dwp.example"
    msg["Subject"] = "Our July return"
    msg["Date"] = "Tue, 04 Aug 2026 10:15:00 +0100"
    msg.set_content("Please find our return attached.")
    msg.add_attachment(attachment.read_bytes(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=attachment.name)
    return bytes(msg)


def _register(path: Path) -> Path:
    """samples/providers.csv with a contact column, filled for one contract."""
    lines = (REPO / "samples" / "providers.csv").read_text(encoding="utf-8").splitlines()
    rows = [r for r in csv.reader(line for line in lines if not line.startswith("#"))]
    header, body = rows[0], rows[1:]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header + ["contact"])
    for r in body:
        r = r + [""] * (len(header) - len(r))
        w.writerow(r + [CONTACT if r[1] == CONTACT_CONTRACT else ""])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _inbox(base: Path) -> Path:
    inbox = base / "inbox"
    (inbox / "files").mkdir(parents=True)
    (inbox / "mail").mkdir()
    for p in sorted(MISTAKES.glob("*.xlsx")):
        if p.name == MAILED:
            (inbox / "mail" / "july-return.eml").write_bytes(_mail(p))
        else:
            shutil.copy(p, inbox / "files" / p.name)
    (inbox / "files" / "kpd-query.xlsx").write_bytes(build("kpd", kpd_cells("Q1", **QUERY_CELLS)))
    ref = _query().ref
    (inbox / "files" / "kpd-explained.xlsx").write_bytes(build(
        "kpd", kpd_cells("Q1", cpa__="CPA 56", provider__="Explained Provider Ltd", **ODD),
        explain(("implausible-value", ref, WHY))))
    return inbox


def _query():
    return only(check("kpd", kpd_cells("Q1", **QUERY_CELLS)), "implausible-value")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("drafts")
    inbox = _inbox(base)
    register = _register(base / "providers.csv")
    procs = []
    for name in ("out1", "out2"):
        procs.append(run_cli("consolidate", str(inbox), "--out", str(base / name), "--providers", str(register),
                             "--as-of", AS_OF, "--workers", "1", cwd=base))
    return base, procs


def _parse(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _body(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _attachment(msg: EmailMessage):
    parts = list(msg.iter_attachments())
    assert len(parts) == 1
    return parts[0]


def test_one_draft_for_each_open_rejected_return_and_each_open_query(runs):
    base, procs = runs
    proc = procs[0]
    assert proc.returncode == 1, proc.stderr  # rejected returns stay open
    assert "Traceback" not in proc.stderr
    drafts = sorted(p.name for p in (base / "out1" / "drafts").iterdir())
    # Not for: returns accepted with only a late-submission warning (no query), an explained query.
    assert drafts == sorted(f"{n}.eml" for n in REJECTED + QUERIES)
    assert f"Wrote {len(drafts)} draft e-mails to providers in " in proc.stdout
    assert "have no address to send to" in proc.stdout


def test_same_inputs_give_byte_identical_drafts(runs):
    base, _procs = runs
    one, two = base / "out1" / "drafts", base / "out2" / "drafts"
    for path in one.iterdir():
        assert path.read_bytes() == (two / path.name).read_bytes(), path.name


def test_a_rerun_into_the_same_folder_writes_the_same_drafts(runs, tmp_path):
    base, _procs = runs
    out = tmp_path / "out"
    shutil.copytree(base / "out2", out)
    before = {p.name: p.read_bytes() for p in (out / "drafts").iterdir()}
    proc = run_cli("consolidate", str(base / "inbox"), "--out", str(out), "--providers", str(base / "providers.csv"),
                   "--as-of", AS_OF, "--workers", "1", cwd=base)
    assert "already recorded by an earlier run" in proc.stdout, proc.stderr
    assert {p.name: p.read_bytes() for p in (out / "drafts").iterdir()} == before


def test_headers_recipient_date_and_draft_flag(runs):
    base, _procs = runs
    folder = base / "out1" / "drafts"
    ids = set()
    for path in folder.iterdir():
        msg = _parse(path)
        assert msg["X-Unsent"] == "1" and msg["MIME-Version"] == "1.0"
        assert msg["Date"].datetime == dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)  # the as-of date
        assert msg["Message-ID"].startswith("<draft.") and msg["Message-ID"].endswith("@kpd-returns.invalid>")
        ids.add(msg["Message-ID"])
        assert msg["From"] is None  # the mail program puts its own sender there
        assert not msg.defects and all(not p.defects for p in msg.walk())
        raw = path.read_bytes()
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends throughout
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert len(ids) == len(list(folder.iterdir()))
    assert _parse(folder / "mistake-personal-data.eml")["To"] == SENDER  # the From of the e-mail it came in
    assert _parse(folder / "mistake-text-in-number.eml")["To"] == CONTACT  # a bare workbook: the register
    assert _parse(folder / "mistake-negative-count.eml")["To"] is None  # neither: no To
    assert (_parse(folder / "mistake-typed-over-total.eml")["Subject"]
            == "Your July to September 2026 KPD return for contract CPA 07: 1 thing to fix")
    assert (_parse(folder / "mistake-personal-data.eml")["Subject"]
            == "Your July 2026 MMIR return for contract AtW-MHSS-C047: 1 thing to fix")
    assert (_parse(folder / "kpd-query.eml")["Subject"]
            == "Your April to June 2026 KPD return for contract CPA 55: 1 query to check")


def test_the_body_lists_each_finding_by_sheet_and_cell_with_its_paragraph(runs):
    base, _procs = runs
    out = base / "out1"
    for stem in REJECTED:
        body = _body(_parse(out / "drafts" / f"{stem}.eml"))
        report = json.loads((out / "rejected" / f"{stem}.findings.json").read_text(encoding="utf-8"))["files"][0]
        assert report["findings"], stem
        assert "We could not accept it" in body
        for f in report["findings"]:
            assert f["message"] in body, (stem, f["message"])
            if f["guidance"]:  # a paragraph as "guidance AtW 7.25"; a basis in words as it is
                paragraph = any(ch.isdigit() for ch in f["guidance"]) and ":" not in f["guidance"]
                assert (f"guidance {f['guidance']}" if paragraph else f["guidance"]) in body, stem
            if f["cell"]:
                assert f"Sheet {f['sheet']}\n" in body and f"Cell {f['cell']}" in body, stem
        assert f"attached ({stem}.annotated.xlsx)" in body


def test_an_open_query_says_how_to_explain_it(runs):
    base, _procs = runs
    q = _query()
    body = _body(_parse(base / "out1" / "drafts" / "kpd-query.eml"))
    assert "We have accepted it, but it has 1 query" in body
    assert f"Sheet {q.sheet}\n" in body and f"Cell {q.cell}" in body and q.message in body
    assert q.guidance == "plausibility check" and f"{q.cell} ({q.field_label}), plausibility check, query code {q.code}:" \
        in body
    assert "Explanations sheet" in body and f"Query code: {q.code}" in body and f"Cell: {q.ref}" in body
    assert "one sentence" in body


def test_the_attachment_is_the_annotated_copy_and_opens(runs):
    base, _procs = runs
    out = base / "out1"
    for path in sorted((out / "drafts").iterdir()):
        part = _attachment(_parse(path))
        assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert part.get_filename() == f"{path.stem}.annotated.xlsx"
        data = part.get_content()
        wb = openpyxl.load_workbook(io.BytesIO(data))
        assert wb.sheetnames[0] == "Findings", path.name
        rejected = out / "rejected" / part.get_filename()
        if rejected.exists():  # a rejected return: the copy written in rejected/
            assert data == rejected.read_bytes()
    findings = openpyxl.load_workbook(io.BytesIO(_attachment(_parse(out / "drafts" / "kpd-query.eml")).get_content()))
    text = [c.value for row in findings["Findings"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("implausible-value" in t for t in text)


def test_no_personal_data_in_any_draft(runs):
    base, _procs = runs
    needles = []
    for name in (MAILED, "mistake-insight-personal-data.xlsx"):
        for ws in openpyxl.load_workbook(MISTAKES / name):
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str):
                        needles += [c.value[m.start:m.end] for m in find_all(c.value)]
    assert {"QQ123456C", "sam.taylor@example.com"} <= set(needles)
    # leakcheck decodes every part of a draft (the body, the attached workbook's every part).
    assert_no_leak(base / "out1" / "drafts", needles)
    for path in (base / "out1" / "drafts").iterdir():
        msg = _parse(path)
        assert not [m for m in find_all(_body(msg))], path.name  # the body: not even a masked-out shape
        assert not find_all(msg["Subject"])
        headers = path.read_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")
        assert [line for line in headers.split("\r\n") if "@" in line and not line.startswith(
            ("To:", "Message-ID:"))] == []  # the only address is the recipient's


def test_summary_lists_the_drafts(runs):
    base, _procs = runs
    summary = json.loads((base / "out1" / "summary.json").read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(summary)]
    assert errors == []
    drafts = {Path(d["file"]).stem: d for d in summary["drafts"]}
    assert set(drafts) == set(REJECTED) | set(QUERIES)
    mailed = drafts["mistake-personal-data"]
    assert mailed["to_source"] == "sender" and mailed["to"] != SENDER and "@" in mailed["to"]  # masked
    assert SENDER not in json.dumps(summary)
    assert drafts["mistake-text-in-number"]["to_source"] == "register" and CONTACT not in json.dumps(summary)
    none = drafts["mistake-negative-count"]
    assert none["to_source"] == "none" and none["to"] is None
    q = drafts["kpd-query"]
    assert (q["return_type"], q["contract"], q["period"], q["errors"], q["open_queries"]) == (
        "kpd", "CPA 55", "2026-27 Q1", 0, 1)
    assert q["attachment"] == "kpd-query.annotated.xlsx"
    assert mailed["source"] == "mail/july-return.eml" and mailed["errors"] == 1


def test_a_return_put_right_loses_its_draft(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(MISTAKES / "mistake-typed-over-total.xlsx", inbox)
    out = tmp_path / "out"
    first = run_cli("consolidate", str(inbox), "--out", str(out), "--as-of", AS_OF, "--workers", "1", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert (out / "drafts" / "mistake-typed-over-total.eml").exists()
    # The corrected return for the same contract and period arrives: the rejected one is no longer open.
    shutil.copy(REPO / "samples" / "returns" / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx", inbox)
    second = run_cli("consolidate", str(inbox), "--out", str(out), "--as-of", AS_OF, "--workers", "1", cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert not (out / "drafts" / "mistake-typed-over-total.eml").exists()
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["drafts"] == []
    assert "draft e-mail" not in second.stdout


def test_addresses_a_draft_can_carry():
    assert usable_address(" mi@provider.example ") == "mi@provider.example"
    for bad in (None, "", "no-at-sign", "two@@provider.example", "a b@provider.example", "x@localhost",
                "Name <mi@provider.example>", "mi@provider.example\r\nBcc: x@y.example", "mé@provider.example"):
        assert usable_address(bad) is None, bad


def test_a_register_contact_must_be_one_address():
    reg = registry_from_text("provider,contract,returns,contact\nA Ltd,C-1,mmir,mi@a.example\n", "providers.csv")
    assert reg.for_contract("C-1").contact == "mi@a.example"
    with pytest.raises(RegistryError) as err:
        registry_from_text("provider,contract,returns,contact\nA Ltd,C-1,mmir,someone at a.example\n", "providers.csv")
    assert str(err.value) == ("providers.csv: line 2, column 4: 'someone at a.example' is not one e-mail address: "
                              "write it as mi@provider.example.")


def _report(contract: str) -> FileReport:
    q = _query()
    return FileReport(path="x.xlsx", name="x.xlsx", return_id="kpd", provider="P Ltd", contract=contract,
                      period="2026-27 Q1", findings=[q])


def test_a_line_break_typed_in_the_contract_cannot_end_the_subject_header():
    data = draft_message(_report("CPA 55\r\nBcc: someone@elsewhere.example"), to="mi@provider.example",
                         as_of=dt.date(2026, 11, 20))
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg["Bcc"] is None and not msg.defects
    assert msg["Subject"].startswith("Your April to June 2026 KPD return for contract CPA 55 Bcc: s")
    assert "someone@elsewhere.example" not in data.decode("ascii")  # masked, as everywhere


def test_a_copy_too_large_to_send_is_left_out_and_the_body_says_so():
    big = Attachment("x.annotated.xlsx", b"PK" + b"\0" * MAX_ATTACHMENT_BYTES)
    msg = email.message_from_bytes(draft_message(_report("CPA 55"), to=None, as_of=dt.date(2026, 11, 20),
                                                 attachment=big), policy=email.policy.default)
    assert list(msg.iter_attachments()) == [] and "too large to attach" in _body(msg)


def test_the_subject_counts_what_to_fix_and_what_to_check():
    errors = [F.make("required-missing", sheet="Header", cell=f"B{n}", field_label="Provider") for n in (3, 4, 5)]
    report = _report("AtW-MHSS-C014")
    report.return_id, report.period = "mmir", "2026-10"
    report.findings = errors + [_query(), _query()]
    assert subject(report) == ("Your October 2026 MMIR return for contract AtW-MHSS-C014: 3 things to fix, "
                               "2 queries to check")
