"""Bad and hostile files: each one is refused with exit code 2 and one plain sentence naming the
file, quickly, with no traceback and no entity ever resolved. One bad file never stops the others.

Every case runs the real command in a subprocess (`python -m kpd_returns.cli.main validate FILE`).
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kpd_returns.spec.return_spec import get_spec
from kpd_returns.author.template import write_template
from kpd_returns.read.workbook import open_workbook

REPO = Path(__file__).resolve().parents[1]
TIME_LIMIT = 20.0
PASSWD_MARKERS = ("root:x:0:0", "root:*:0:0", "/bin/bash", "/usr/sbin/nologin")


# -- running the command --------------------------------------------------------

def run_validate(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", *args], capture_output=True,
                          text=True, timeout=TIME_LIMIT + 10, env=env, cwd=str(REPO))
    return proc, time.monotonic() - start


def finding_lines(text: str) -> list[str]:
    """Finding lines of the text report (indented four spaces, starting with the severity word)."""
    return [ln for ln in text.splitlines() if ln.startswith("    ") and ln.split()[0] in ("error", "warning")]


# -- building the files ---------------------------------------------------------

def template_bytes() -> bytes:
    buf = io.BytesIO()
    write_template(get_spec("mmir"), buf)
    return buf.getvalue()


def first_sheet_part(data: bytes) -> str:
    """The zip member of the template's first data sheet ('Header')."""
    wb = open_workbook(data)
    try:
        return next(s.part for s in wb.sheets if s.name == "Header")
    finally:
        wb.close()


def rezip(data: bytes, target: Path, replace: dict[str, bytes] | None = None,
          add: dict[str, bytes] | None = None) -> None:
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, body in add.items():
            dst.writestr(name, body)


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal but well-formed OLE compound file (CFB v3, 512-byte sectors) holding ``streams``.

    Real password-protected .xlsx files are exactly this kind of container, with
    EncryptionInfo and EncryptedPackage streams (plus a \\x06DataSpaces storage);
    a legacy .xls holds a Workbook stream. Each stream here is padded to 4096
    bytes so it lives in ordinary sectors and no mini stream is needed.
    """
    sector = 512
    end, free, fat_sect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    bodies = [body.ljust(4096, b"\0") for body in streams.values()]
    fat = [fat_sect, end]  # sector 0: the FAT, sector 1: the directory
    starts = []
    for body in bodies:
        n = len(body) // sector
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(n - 1)] + [end]
    assert len(fat) <= sector // 4
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, child=nostream, left=nostream, right=nostream, start=end, size=0) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3I", len(raw), kind, 1, left, right, child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", start, size))

    names = list(streams)
    # Root's child is the first stream; the others hang off it as right siblings (a valid, all-black tree
    # since names are compared by length first and these are given shortest first).
    dir_entries = [entry("Root Entry", 5, child=1 if names else nostream)]
    for i, (name, body) in enumerate(zip(names, bodies)):
        right = i + 2 if i + 1 < len(names) else nostream
        dir_entries.append(entry(name, 2, right=right, start=starts[i], size=len(streams[name])))
    while len(dir_entries) < 4:
        dir_entries.append(entry("", 0))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    assert len(header) == sector
    return header + struct.pack(f"<{sector // 4}I", *fat) + b"".join(dir_entries) + b"".join(bodies)


def million_rows(data: bytes, target: Path) -> None:
    """The template with its Header sheet replaced by ~1,000,000 rows, written streaming."""
    part = first_sheet_part(data)
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info.filename, src.read(info.filename))
                continue
            with dst.open(part, "w") as fh:
                fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                         b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                for start in range(1, 1_000_001, 10_000):
                    fh.write(b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r)
                                      for r in range(start, start + 10_000)))
                fh.write(b"</sheetData></worksheet>")


def zip_bomb(data: bytes, target: Path, megabytes: int = 300) -> None:
    """The template with a sheet of a few hundred MB of zeros (a few hundred KB on disk)."""
    part = first_sheet_part(data)
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info.filename, src.read(info.filename))
        with dst.open(part, "w") as fh:
            for _ in range(megabytes):
                fh.write(chunk)


XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE workbook [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="&e;" sheetId="1" r:id="rId1"/></sheets></workbook>"""

LAUGHS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                     for i in range(1, 10))
          + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
          + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


def build(kind: str, folder: Path) -> Path:
    data = template_bytes()
    names = {"xls": "legacy.xls", "xlsm": "macros.xlsm"}
    path = folder / names.get(kind, f"{kind}.xlsx")
    if kind == "random":
        path.write_bytes(random.Random(20261122).randbytes(20_000))
    elif kind == "truncated":
        path.write_bytes(data[:3000])
    elif kind == "corrupt-xml":
        rezip(data, path, replace={first_sheet_part(data): b"<worksheet><sheetData><row r='1'><c>garbage"})
    elif kind == "encrypted":
        path.write_bytes(cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>",
                              "EncryptedPackage": struct.pack("<Q", 9000) + os.urandom(1000)}))
    elif kind == "xls":
        path.write_bytes(cfb({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + b"\0" * 100}))
    elif kind == "xlsm":
        rezip(data, path, add={"xl/vbaProject.bin": cfb({"VBA": b"Attribute VB_Name"})})
    elif kind == "csv":
        path.write_text("Provider,Contract,Month\nNorthbridge,AtW-7,2026-10\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "million-rows":
        million_rows(data, path)
    elif kind == "zip-bomb":
        zip_bomb(data, path)
    elif kind == "zip-bomb-part":  # under the whole-archive cap: caught by the per-part cap while reading
        zip_bomb(data, path, megabytes=100)
    elif kind == "xxe":
        rezip(data, path, replace={"xl/workbook.xml": XXE})
    elif kind == "billion-laughs":
        rezip(data, path, replace={first_sheet_part(data): LAUGHS})
    else:
        raise ValueError(kind)
    return path


def _table_cases() -> dict[str, str]:
    """kind -> the finding code it must give, from the one hostile table (tests/data/hostile_table.toml)."""
    import tomllib

    table = tomllib.loads((Path(__file__).parent / "data" / "hostile_table.toml").read_text(encoding="utf-8"))
    return {entry["kind"]: entry["code"] for entry in table["file"]}


CASES = _table_cases()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {kind: build(kind, folder) for kind in CASES}


# -- the files are what they claim to be --------------------------------------

def test_the_generated_files_are_real(hostile):
    olefile = pytest.importorskip("olefile")
    enc = olefile.OleFileIO(str(hostile["encrypted"]))
    assert sorted("/".join(p) for p in enc.listdir()) == ["EncryptedPackage", "EncryptionInfo"]
    assert olefile.OleFileIO(str(hostile["xls"])).listdir() == [["Workbook"]]
    with zipfile.ZipFile(hostile["xlsm"]) as zf:
        assert "xl/vbaProject.bin" in zf.namelist() and "xl/workbook.xml" in zf.namelist()
    with zipfile.ZipFile(hostile["zip-bomb"]) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 300 * 2**20
    assert hostile["zip-bomb"].stat().st_size < 2 * 2**20
    with zipfile.ZipFile(hostile["million-rows"]) as zf:
        big = max(zf.infolist(), key=lambda i: i.file_size)
        assert big.file_size > 30 * 2**20
        with zf.open(big) as fh:
            fh.seek(big.file_size - 200)
            assert b'<row r="1000000">' in fh.read()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(hostile["truncated"])


# -- each is refused with exit code 2, one plain sentence, quickly ----------------

@pytest.mark.parametrize("kind", list(CASES))
def test_refused_with_one_plain_sentence(hostile, kind):
    path = hostile[kind]
    proc, elapsed = run_validate(str(path))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert elapsed < TIME_LIMIT
    assert "Traceback" not in output
    assert proc.stderr == ""
    lines = finding_lines(proc.stdout)
    assert len(lines) == 1, output
    line = lines[0]
    severity, code, message = line.split(None, 2)
    assert (severity, code) == ("error", CASES[kind])
    assert path.name in message
    # one sentence (or two: what is wrong, then how to fix it), plain text, no Python internals
    assert message.rstrip().endswith((".", "]")) and "\n" not in message
    assert "Error:" not in message and "Exception" not in message
    verdicts = [ln for ln in proc.stdout.splitlines() if ln.startswith(str(path))]
    assert len(verdicts) == 1 and verdicts[0].endswith("— could not be read")
    for marker in PASSWD_MARKERS:
        assert marker not in output


@pytest.mark.parametrize("kind", ["xxe", "billion-laughs", "zip-bomb", "encrypted"])
def test_json_report_of_a_refused_file(hostile, kind):
    proc, elapsed = run_validate(str(hostile[kind]), "--format", "json")
    assert proc.returncode == 2 and elapsed < TIME_LIMIT
    assert "Traceback" not in proc.stdout + proc.stderr
    document = json.loads(proc.stdout)
    (entry,) = document["files"]
    assert entry["verdict"] == "unreadable" and entry["exit_code"] == 2
    assert [f["code"] for f in entry["findings"]] == [CASES[kind]]
    for marker in PASSWD_MARKERS:
        assert marker not in proc.stdout


def test_one_bad_file_never_stops_the_others(hostile, tmp_path):
    good = tmp_path / "blank-template.xlsx"
    good.write_bytes(template_bytes())
    proc, elapsed = run_validate(str(good), str(hostile["zip-bomb"]), str(hostile["xxe"]), str(hostile["csv"]))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    verdict_lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith(" ") and ": " in ln
                     and not ln.startswith("Checked")]
    assert [ln.split(": ")[0] for ln in verdict_lines] == [
        str(good), str(hostile["zip-bomb"]), str(hostile["xxe"]), str(hostile["csv"])]
    assert not verdict_lines[0].endswith("could not be read")  # the template itself is read and checked
    assert proc.stdout.rstrip().splitlines()[-1].endswith("3 could not be read.")
    assert elapsed < TIME_LIMIT
