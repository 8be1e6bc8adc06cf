"""`kpd-returns validate DIR`: the returns in the folder (subfolders too); other files skipped and listed once."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from kpd_returns.cli.validate import run

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CLEAN = SAMPLES / "returns" / "kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx"


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    (inbox / "october").mkdir(parents=True)
    shutil.copy(CLEAN, inbox / "clean.xlsx")
    shutil.copy(SAMPLES / "mistakes" / "mistake-negative-count.xlsx", inbox / "october" / "negative.xlsx")
    shutil.copy(CLEAN, inbox / "october" / "sent-as.bin")  # a workbook by its bytes, whatever its name
    (inbox / "README.md").write_text("# Returns for October\n", encoding="utf-8")
    (inbox / "tracker.json").write_text("{}", encoding="utf-8")
    (inbox / "october" / "covering-letter.pdf").write_bytes(b"%PDF-1.4\n")
    (inbox / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return inbox


def _call(*args, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run([str(a) for a in args], out=out, err=err, color=False, as_of="2026-11-20", **options)
    return code, out.getvalue(), err.getvalue()


def test_a_folder_is_the_returns_in_it(tmp_path):
    inbox = _inbox(tmp_path)
    code, text, err = _call(inbox)
    assert err == ""
    assert code == 1  # the negative count; the skipped files do not change it
    assert "not an Excel workbook" not in text
    checked = [line.split(":")[0] for line in text.splitlines() if line.startswith(str(inbox)) and "skipped" not in line]
    assert checked == [str(inbox / "clean.xlsx"), str(inbox / "october" / "negative.xlsx"),
                       str(inbox / "october" / "sent-as.bin")]
    skipped = [line for line in text.splitlines() if line.endswith("skipped: not a return")]
    assert skipped == [f"{inbox / 'README.md'}: skipped: not a return",
                       f"{inbox / 'october' / 'covering-letter.pdf'}: skipped: not a return",
                       f"{inbox / 'tracker.json'}: skipped: not a return"]
    assert ".DS_Store" not in text


def test_a_folder_in_json_lists_what_it_skipped(tmp_path):
    inbox = _inbox(tmp_path)
    code, text, _err = _call(inbox, fmt="json")
    document = json.loads(text)
    assert code == document["exit_code"] == 1
    assert [Path(f["file"]).name for f in document["files"]] == ["clean.xlsx", "negative.xlsx", "sent-as.bin"]
    assert [Path(p).name for p in document["skipped"]] == ["README.md", "covering-letter.pdf", "tracker.json"]
    assert document["counts"]["files"] == 3 and document["counts"]["skipped"] == 3


def test_an_xls_in_a_folder_is_still_a_return_and_refused(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    code, text, _err = _call(folder)
    assert code == 2 and "old.xls" in text and "skipped" not in text


def test_a_folder_without_returns_is_one_sentence(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "README.md").write_text("x", encoding="utf-8")
    code, text, err = _call(folder)
    assert code == 2 and text == ""
    assert err.strip() == f"There is no return (an .xlsx, .xlsm or .xls workbook) in {folder}; skipped 1 other file."


def test_a_file_named_on_the_command_line_is_always_checked(tmp_path):
    note = tmp_path / "README.md"
    note.write_text("x", encoding="utf-8")
    code, text, _err = _call(note)
    assert code == 2 and "skipped" not in text
