"""One display name per return type everywhere (issue 21 item 6): the spec's short_title
(spec.return_spec.display_name), never its id or its long title, in what the command line prints and
writes for a person: --help, template, validate, consolidate, status, rules, the consolidated workbook
and the packs. A made-up return (tests/data/list_totals.toml) has an id ("spendlist"), a title
("Spending by item (monthly return)") and a short title ("Spending list") that differ, so an output
using the wrong one is caught (the consolidated workbook's Cover gives the long title beside the name,
as its description). Machine outputs (JSON, CSV columns) keep the id as their key.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import openpyxl
import pytest
from test_computed_lists import HEADER, ROWS, _cli, _fill, make_folder

NAME, ID, TITLE = "Spending list", "spendlist", "Spending by item"


def _text(markup: str) -> str:
    """What a reader of a page sees: tags (and their anchors) left out."""
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)))


@pytest.fixture()
def folder(tmp_path):
    return make_folder(tmp_path)


def test_every_cli_output_names_the_return_by_its_display_name(folder, tmp_path):
    work = tmp_path / "work"
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    outputs: dict[str, str] = {}

    def run(label: str, *args: str, code: int = 0) -> str:
        done = _cli(folder, work, *args)
        assert done.returncode == code, (label, done.stdout, done.stderr)
        outputs[label] = done.stdout + done.stderr
        return outputs[label]

    run("help", "--help")
    template_help = run("template --help", "template", "--help")
    assert f"{ID} ({NAME})" in re.sub(r"[\s│]+", " ", template_help)  # what to type, and its name
    run("template", "template", ID, str(work / "blank.xlsx"))
    _fill(work / "blank.xlsx", inbox / "s-oct.xlsx", HEADER, ROWS)
    late = {**HEADER, "reporting_month": dt.datetime(2026, 9, 1)}
    _fill(work / "blank.xlsx", inbox / "s-sep.xlsx", late, ROWS, typed={"items": 99})
    run("validate", "validate", str(inbox / "s-sep.xlsx"), code=1)
    run("consolidate", "consolidate", str(inbox), "--out", str(work / "out"), "--as-of", "2026-11-20", code=1)
    run("status", "status", "--db", str(work / "out" / "ledger.sqlite"), "--as-of", "2026-11-20")
    run("rules", "rules", ID)
    outputs["rules html"] = _text(run("rules html", "rules", ID, "--format", "html"))
    run("pack", "pack", "--period", "2026-10", "--db", str(work / "out" / "ledger.sqlite"), "--out",
        str(work / "packs"), "--all", "--as-of", "2026-11-20")  # lists the files it wrote: no return named
    outputs["pack html"] = _text(next((work / "packs").glob("pack-2026-10-northbridge*.html")).read_text("utf-8"))
    wb = openpyxl.load_workbook(work / "out" / "consolidated.xlsx", read_only=True)
    for sheet in ("Cover", "Submissions", "Files"):
        outputs[f"consolidated {sheet}"] = "\n".join(
            str(c) for row in wb[sheet].iter_rows(values_only=True) for c in row if isinstance(c, str))

    for label, out in outputs.items():
        out = re.sub(r"[\s│]+", " ", out)  # rich wraps --help across lines and box edges
        if label == "consolidated Cover":  # the one place the long title describes the name, beside it
            out = out.replace(f"{NAME} {TITLE} (monthly return), template version", NAME)
        assert NAME in out or label == "pack", f"{label} does not name the return {NAME!r}:\n{out[:2000]}"
        assert TITLE not in out, f"{label} names the return by its long title:\n{out[:2000]}"
        if "help" not in label:
            assert not re.search(rf"(?<!validators/)\b{ID}\b", out), f"{label} names the return by its id:\n{out[:2000]}"
