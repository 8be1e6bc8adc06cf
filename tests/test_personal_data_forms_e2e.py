"""Issue 19 items 6 and 7 through `kpd-returns consolidate`: the forms the scan missed, and an
Explanations sentence with an NI number or e-mail address across character 500 (where it is cut),
each reached the ledger, consolidated.xlsx, the Queries sheet, status and the annotated copies.
Every output is read by ``leakcheck`` (the ledger's every row, every part of every zip)."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import openpyxl
import pytest
from cli_run import run_cli
from leakcheck import assert_no_leak
from test_consolidate_gen import InboxBuilder, Provider

from kpd_returns.checks import explanations as X
from kpd_returns.spec import layout
from kpd_returns.spec.return_spec import get_spec

REPO = Path(__file__).resolve().parents[1]
SHAPES = tomllib.loads((Path(__file__).parent / "data" / "hostile_table.toml").read_text(encoding="utf-8"))[
    "personal_data"]
# The forms issue 19 item 7 lists, as the table of shapes holds them.
FORMS = [c for c in SHAPES["positive"] if c["text"] in (
    "Her date of birth is 14/03/1981", "DOB=02/03/1975", "NINO QQ:12:34:56:C", "Claimant QQ 123456C",
    "\u0410\u0412123456\u0421 in Cyrillic letters", "Write to john.smith @ example.com", "jo.bloggs@exämple.co.uk",
    "Mobile 07700.900.123", "447700900124", "Lives at SW1A-1AA")]
# Item 6: what went out when the sentence was cut before the scan.
FRAGMENTS = ["QQ-12-34-56", "john.smith@exam"]


def _explained(data: bytes, rows: list[tuple[str, str, str]]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[X.SHEET_NAME]
    for i, row in enumerate(rows):
        for c, v in enumerate(row, start=1):
            ws.cell(X.FIRST_ROW + i, c, v)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _across_the_cut(item: str) -> str:
    """A sentence with ``item`` starting a few characters before character 500."""
    head = "April had a large employer recruitment drive. "
    text = head + "x" * (X.MAX_TEXT - len(head) - 6) + " " + item + " in the team."
    assert text.index(item) < X.MAX_TEXT < text.index(item) + len(item)
    return text


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory):
    base = tmp_path_factory.mktemp("forms")
    b = InboxBuilder(base / "inbox")
    p1, p2, p3 = (Provider(n, f"Test Provider 0{n} Ltd", "file") for n in (1, 2, 3))
    # Item 7: each form in a free-text cell of the staff list.
    extra = {}
    for i, case in enumerate(FORMS, start=1):
        extra[("staff_experience", f"row{i}")] = case["text"]
    b.put_file("files/forms.xlsx", b.workbook("mmir", "2026-10", p1, extra=extra), "rejected")
    # Item 6: a query explained by a sentence with an NI number or an e-mail address across the cut.
    ref = layout.slot_index(get_spec("kpd"))[("job_entries", "apr")].ref
    for p, item in ((p2, "QQ-12-34-56-C"), (p3, "john.smith@example.com")):
        data = b.workbook("kpd", "2026-27 Q1", p, extra={("job_entries", "apr"): 1000})
        data = _explained(data, [("implausible-value", ref, _across_the_cut(item))])
        b.put_file(f"files/explained-{p.n}.xlsx", data, "rejected")
    out = base / "out"
    proc = run_cli("consolidate", str(base / "inbox"), "--out", str(out), "--as-of", "2026-11-27", "--workers", "1",
                   cwd=base)
    status = run_cli("status", "--db", str(out / "ledger.sqlite"), "--as-of", "2026-11-27", cwd=base)
    return out, proc, status


def test_every_form_and_every_sentence_is_found(consolidated):
    out, proc, _status = consolidated
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sorted(f["outcome"] for f in summary["files"]) == ["rejected"] * 3, proc.stdout + proc.stderr
    for f in summary["files"]:
        findings = json.loads((out / f["findings_file"]).read_text(encoding="utf-8"))["files"][0]["findings"]
        pd = [x for x in findings if x["code"] == "personal-data"]
        if f["return_id"] == "kpd":
            assert [x["ref"] for x in pd] == [f"{X.SHEET_NAME}!C5"]
        else:
            rows = {x["cell"] for x in pd}
            assert len(rows) == len(FORMS), pd  # one row each, every form found


def test_no_form_and_no_fragment_leaves_in_any_output(consolidated):
    """consolidated.xlsx, summary.json, rejected/ (JSON and annotated copies), the packs, the ledger,
    and what consolidate and status print."""
    out, proc, status = consolidated
    needles = [c["raw"] for c in FORMS] + FRAGMENTS + ["QQ-12-34-56-C", "john.smith@example.com"]
    assert_no_leak(out, needles, ledger=out / "ledger.sqlite",
                   streams=[proc.stdout, proc.stderr, status.stdout, status.stderr])
