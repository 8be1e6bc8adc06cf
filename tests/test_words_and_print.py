"""What a newcomer tripped on (issue 19 items 19 and 20): the order of the Excel pack's sheets, the
words a person reads in the outputs, and how the generated workbooks print."""

from __future__ import annotations

import re

import openpyxl
import pytest
from test_pack_fixtures import AS_OF, PERIOD, ledger_from_rows
from typer.testing import CliRunner

from kpd_returns.cli.main import app


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return ledger_from_rows(tmp_path_factory.mktemp("ledger") / "kpd-ledger.sqlite")


def test_excel_pack_puts_what_needs_attention_first(ledger, tmp_path):
    """The HTML pack and the README put what needs attention and the returns missing, late or rejected
    first; so does the Excel pack, straight after its Cover and Contents."""
    result = CliRunner().invoke(app, ["pack", "--period", PERIOD, "--out", str(tmp_path), "--db", str(ledger),
                                      "--as-of", AS_OF.isoformat(), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    books = sorted(tmp_path.glob("pack-*.xlsx"))
    assert len(books) == 4
    for path in books:
        names = openpyxl.load_workbook(path).sheetnames
        assert names[:4] == ["Cover", "Contents", "Attention", "Submissions"], (path.name, names)


@pytest.mark.parametrize("return_id", ["kpd", "jobs2"])
def test_checks_sheet_names_the_fix_totals_command(tmp_path, return_id):
    """The Checks sheet's message for a typed-over total said "or run  to write a copy": the command
    was missing. It now names the command the validator gives, RETURN.xlsx standing for the file."""
    out = tmp_path / "blank.xlsx"
    result = CliRunner().invoke(app, ["template", return_id, str(out)])
    assert result.exit_code == 0, result.output
    formulas = [c.value for row in openpyxl.load_workbook(out)["Checks"].iter_rows() for c in row
                if isinstance(c.value, str) and "or run " in c.value]
    assert formulas, "no Checks row offers the fix-totals command"
    for formula in formulas:
        assert '("")&" to write a copy' not in formula
        assert "kpd-returns validate RETURN.xlsx --fix-totals RETURN-fixed.xlsx" in formula


# -- words: the demo's outputs, read as a person reads them ---------------------------------------------
# A month written YYYY-MM standing alone (not part of a file name or a full date).
BARE_MONTH = re.compile(r"(?<![-\w])\d{4}-(0[1-9]|1[0-2])(?![-\w.])")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return out, result.output


def _texts(path) -> dict[str, list[str]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
            for ws in wb.worksheets}


def test_packs_name_each_return_type_by_its_display_name_and_months_in_words(demo):
    """"INSIGHT" and "JOBS2" are ids, not names; a date-only submission has no "00:00"; a month in a
    sentence is "October 2026", not "2026-10" (issue 19 item 20)."""
    out, _ = demo
    for path in sorted((out / "packs").glob("pack-*")):
        if path.suffix == ".html":
            text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
            texts = [text]
        else:
            by_sheet = _texts(path)
            texts = [t for ts in by_sheet.values() for t in ts]
            for line in by_sheet["Cover"][4:]:
                assert not BARE_MONTH.search(line), (path.name, line)
            for line in by_sheet.get("KPI summary", []) + by_sheet.get("KPI all contracts", []):
                if line.startswith("Not known") or line.startswith("Incomplete"):
                    assert not BARE_MONTH.search(line), (path.name, line)
        for text in texts:
            assert not re.search(r"\bINSIGHT\b|\bJOBS2\b", text), path.name
            assert "00:00" not in text, path.name
    cover = _texts(out / "packs" / "pack-2026-10-northbridge-employment-ltd.xlsx")["Cover"]
    assert any(line.startswith("Customer Insight for October 2026, AtW-MHSS-C014: ") and
               "received 2026-11-03, accepted, on time" in line for line in cover), cover


def test_annotated_findings_sheet_prints_landscape_one_page_wide_with_its_header_repeated(tmp_path):
    """It printed across four portrait pages (issue 19 item 19)."""
    from pathlib import Path
    source = Path(__file__).resolve().parent.parent / "samples" / "mistakes" / "mistake-typed-over-total.xlsx"
    out = tmp_path / "annotated.xlsx"
    result = CliRunner().invoke(app, ["validate", str(source), "--annotate", str(out)])
    assert result.exit_code == 1, result.output
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.title == "Findings"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3"
    message = ws.cell(4, 6).value
    assert len(message) > 100 and ws.row_dimensions[4].height >= 30  # the wrapped message has room


def test_fix_totals_says_it_also_masked_personal_data(tmp_path):
    """--fix-totals masks a phone number in a text cell, as every copy does, so the personal-data error
    vanished from the copy without a word. The command now says which cells the copy masks."""
    from pathlib import Path
    source = Path(__file__).resolve().parent.parent / "samples" / "mistakes" / "mistake-typed-over-total.xlsx"
    wb = openpyxl.load_workbook(source)
    wb["Header"]["B10"] = "MI team, 07700 900123"
    broken = tmp_path / "return.xlsx"
    wb.save(broken)
    fixed = tmp_path / "fixed.xlsx"
    result = CliRunner().invoke(app, ["validate", str(broken), "--fix-totals", str(fixed)])
    assert result.exit_code == 1, result.output
    assert "personal-data" in result.output
    assert "It also masks the personal data in 1 text cell (Header!B10)" in result.output
    assert "07700 900123" not in openpyxl.load_workbook(fixed)["Header"]["B10"].value
    # a return with no personal data: nothing more is said
    clean = tmp_path / "clean-fixed.xlsx"
    result = CliRunner().invoke(app, ["validate", str(source), "--fix-totals", str(clean)])
    assert "Totals fixed:" in result.output and "masks the personal data" not in result.output


@pytest.mark.parametrize("text", ["import os\n\n\ndef main(a, b):\n    print('hi, there', a, b)\n",
                                  "print('hi, there')\n", "Dear DWP,\nplease find our return attached.\n"])
def test_plain_text_renamed_xlsx_is_plain_text_not_a_csv_file(tmp_path, text):
    """A Python file renamed .xlsx was called "a CSV text file" because it held a comma."""
    path = tmp_path / "return.xlsx"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "is not an Excel workbook (it is plain text)" in result.output
    assert "CSV" not in result.output


def test_real_csv_renamed_xlsx_is_still_called_a_csv_file(tmp_path):
    path = tmp_path / "figures.xlsx"
    path.write_text("provider;contract;referrals\nAcme;C1;12\nAcme;C2;7\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "is a CSV text file renamed as a workbook" in result.output


def test_demo_and_consolidate_speak_in_words(demo, tmp_path):
    """Months in sentences are "October 2026"; return types by display name; counts with proper plurals."""
    out, said = demo
    assert "5. Performance packs for October 2026:" in said
    national = (out / "packs" / "pack-2026-10-national.html").read_text(encoding="utf-8")
    assert "contract(s)" not in national
    consolidated = _texts(out / "consolidated" / "consolidated.xlsx")
    assert {"Customer Insight data", "JOBS II MI data", "KPD return data", "MMIR data"} <= set(consolidated)
    for sheet, texts in consolidated.items():
        assert not re.search(r"\bINSIGHT\b|\bJOBS2\b", sheet + " ".join(texts)), sheet
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "insight.xlsx").write_bytes(
        (out / "samples" / "mistakes" / "mistake-insight-count-mismatch.xlsx").read_bytes())
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "run"), "--no-packs",
                                      "--as-of", "2026-11-20"])
    assert result.exit_code == 1, result.output
    assert "1 input: " in result.output and "1 inputs" not in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("REJECTED"))
    assert "Customer Insight for October 2026, Harbourside Futures CIC, AtW-MHSS-C031: 1 error" in line, line
    assert not re.search(r"\bINSIGHT\b", result.output)
    status = CliRunner().invoke(app, ["status", "--db", str(tmp_path / "run" / "ledger.sqlite"),
                                      "--as-of", "2026-11-20"])
    assert "Customer Insight for October 2026, as at 2026-11-20" in status.output, status.output


def test_a_restated_quarter_is_one_query_stating_how_many_cells(demo, tmp_path):
    """A KPD return restating the earlier quarter's months was 42 separate queries, each to explain: it is
    one query per earlier return, at its first cell, counting and naming the cells that differ."""
    from kpd_returns.spec import layout
    from kpd_returns.spec.return_spec import get_spec

    out, _ = demo
    spec = get_spec("kpd")
    returns = out / "samples" / "returns"
    q1 = returns / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q1.xlsx"
    q2 = returns / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx"
    wb = openpyxl.load_workbook(q2)
    changed = []
    for (fid, key), slot in layout.slot_index(spec).items():
        field = spec.field(fid)
        if slot.sheet == "Staffing" and key in ("apr", "may", "jun") and field.numeric and not field.computed:
            cell = wb[slot.sheet][slot.cell]
            if isinstance(cell.value, (int, float)):
                cell.value = cell.value + 1
                changed.append(slot.ref)
    assert len(changed) > 10
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-q1.xlsx").write_bytes(q1.read_bytes())
    wb.save(inbox / "b-q2.xlsx")
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "run"), "--no-packs",
                                      "--as-of", "2026-11-20", "-v"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "b-q2.xlsx" in x)
    assert ": 1 warning" in line, line
    queries = openpyxl.load_workbook(tmp_path / "run" / "consolidated.xlsx")["Queries"]
    rows = [r for r in queries.iter_rows(min_row=6, values_only=True) if r[4] == "kpd-restatement"]
    assert len(rows) == 1
    status = CliRunner().invoke(app, ["status", "--db", str(tmp_path / "run" / "ledger.sqlite"),
                                      "--as-of", "2026-11-20"])
    assert "1 open" in status.output, status.output
    import sqlite3
    with sqlite3.connect(tmp_path / "run" / "ledger.sqlite") as db:
        (message,) = db.execute("SELECT message FROM findings WHERE code = 'kpd-restatement'").fetchone()
    assert f"{len(changed)} cells differ from that return in all" in message, message
    assert f"one explanation at {changed[0]} covers them" in message


def test_an_emails_pdf_attachment_is_listed_as_not_a_return(tmp_path):
    """An e-mail's covering PDF was mentioned nowhere: it is now a SKIPPED line and in summary.json."""
    import json
    from pathlib import Path

    from test_inbox import make_eml

    sample = Path(__file__).resolve().parent.parent / "samples" / "returns" / \
        "mmir-northbridge-employment-ltd-2026-09.xlsx"
    inbox = tmp_path / "inbox"
    (inbox / "mail").mkdir(parents=True)
    make_eml(inbox / "mail" / "october.eml", [("return.xlsx", sample.read_bytes()),
                                               ("covering-letter.pdf", b"%PDF-1.4 a letter")])
    result = CliRunner().invoke(app, ["consolidate", str(inbox), "--out", str(tmp_path / "run"), "--no-packs",
                                      "--as-of", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "SKIPPED    mail/october.eml > covering-letter.pdf: not a return" in result.output
    assert "1 other file skipped: not a return." in result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert {"source": "mail/october.eml > covering-letter.pdf", "reason": "not a return"} in summary["skipped"]


@pytest.mark.system
def test_readme_screenshot_is_the_demos_national_pack(demo, tmp_path):
    """docs/pack-screenshot.png showed another set of returns than the demo writes. It is the demo's national
    HTML pack in headless Chromium at a fixed viewport; regenerate it with tests/tools/pack_screenshot.py."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tests" / "tools"))
    import pack_screenshot

    from chromium_helper import require_chromium

    require_chromium()
    out, _ = demo
    (national,) = sorted((out / "packs").glob("pack-*-national.html"))
    shot = pack_screenshot.screenshot(national, tmp_path / "shot.png")
    assert shot.read_bytes() == (root / "docs" / "pack-screenshot.png").read_bytes(), (
        "docs/pack-screenshot.png is out of date: run python tests/tools/pack_screenshot.py")


def test_readme_sample_sizes_are_the_committed_files():
    """The README's sample sizes were stale (44 and 96 KB, not 45 and 98)."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    kpd, mmir = map(int, re.search(r"grew from 23 to (\d+) KB \(KPD\) and 74 to (\d+) KB \(MMIR\)", readme).groups())
    insight, jobs2 = map(int, re.search(r"Customer Insight and JOBS II samples are (\d+) and\s+(\d+)\s+KB",
                                        readme).groups())
    action_plan = int(re.search(r"the Action Plan sample (\d+) KB", readme).group(1))
    yearly = int(re.search(r"the AtW Yearly MI sample (\d+) KB", readme).group(1))
    sizes = {p.name.split("-")[0]: round(p.stat().st_size / 1024) for p in (root / "samples" / "returns").glob("*")}
    assert sizes == {"kpd": kpd, "mmir": mmir, "insight": insight, "jobs2": jobs2, "action_plan": action_plan,
                     "atw_yearly": yearly}


def test_a_link_that_leads_nowhere_is_not_a_skipped_file(tmp_path):
    """`validate DIR` listed a link meant for a folder as "skipped: not a return"; it is an input that could
    not be read, with the sentence saying where the link leads (as consolidate says)."""
    import os
    from pathlib import Path
    sample = Path(__file__).resolve().parent.parent / "samples" / "returns" / \
        "mmir-northbridge-employment-ltd-2026-09.xlsx"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "return.xlsx").write_bytes(sample.read_bytes())
    os.symlink("../october-returns", inbox / "october")
    result = CliRunner().invoke(app, ["validate", str(inbox), "--as-of", "2026-11-20"])
    assert "skipped" not in result.output, result.output
    assert "it is a symbolic link to ../october-returns, which does not exist" in result.output
    assert "Checked 2 files:" in result.output
