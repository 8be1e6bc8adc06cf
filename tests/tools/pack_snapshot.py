"""Write every pack-stage output for the sample season into a folder, or compare two such folders.

    python tests/tools/pack_snapshot.py write DIR     # packs, national pack, publication files,
                                                      # consolidated workbook (season ledger) and
                                                      # the KPD-only packs of `consolidate`
    python tests/tools/pack_snapshot.py compare BEFORE AFTER

Workbooks are compared part by part (each XML member of the zip), HTML/CSV/JSON line by line, so a
difference names the file and the part. Used by the packs-as-data refactor (issue 11) to show the
KPD and MMIR outputs are unchanged.
"""

from __future__ import annotations

import difflib
import io
import shutil
import sys
import zipfile
from pathlib import Path


def write(folder: Path) -> None:
    from kpd_returns.author import season
    from kpd_returns.cli.batch import run_consolidate
    from kpd_returns.intake.consolidate import consolidate
    try:
        from kpd_returns.packs.build import write_packs
    except ImportError:
        from kpd_returns.packs.build import write_packs

    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "_work"
    ledger = season.build_ledger(work / "ledger.sqlite")
    write_packs(ledger, folder / "season-packs", season.REPORT_MONTH, as_of=season.AS_OF,
                register=season.register())
    result = consolidate([], work / "consolidated", db=ledger, register=season.register(), as_of=season.AS_OF,
                         workers=1, progress=False)
    (folder / "season-consolidated").mkdir(exist_ok=True)
    shutil.copy(result.workbook, folder / "season-consolidated" / Path(result.workbook).name)
    inbox = work / "inbox"
    inbox.mkdir()
    for path in (Path(__file__).resolve().parents[2] / "samples" / "returns").glob("*.xlsx"):
        shutil.copy(path, inbox / path.name)
    buf = io.StringIO()
    code = run_consolidate([inbox], out_dir=work / "samples-out", as_of="2026-11-20", workers="1", progress=False,
                           out=buf, err=buf)
    assert code in (0, 1), buf.getvalue()
    shutil.copytree(work / "samples-out" / "packs", folder / "samples-packs")
    for wb in (work / "samples-out").glob("*.xlsx"):
        (folder / "samples-consolidated").mkdir(exist_ok=True)
        shutil.copy(wb, folder / "samples-consolidated" / wb.name)
    shutil.rmtree(work)


def _parts(path: Path) -> dict[str, list[str]]:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n).decode("utf-8", "replace").replace("><", ">\n<").splitlines() for n in z.namelist()}
    return {"": path.read_text(encoding="utf-8").splitlines()}


def compare(before: Path, after: Path) -> int:
    names = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()}
                   | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})
    differ = 0
    for name in names:
        a, b = before / name, after / name
        if not a.exists() or not b.exists():
            print(f"only in {'after' if b.exists() else 'before'}: {name}")
            differ += 1
            continue
        if a.read_bytes() == b.read_bytes():
            continue
        differ += 1
        pa, pb = _parts(a), _parts(b)
        for part in sorted(set(pa) | set(pb)):
            if pa.get(part) != pb.get(part):
                print(f"--- {name} {part}")
                print("\n".join(list(difflib.unified_diff(pa.get(part, []), pb.get(part, []), lineterm="", n=1))[:60]))
    print(f"{len(names)} files, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    else:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
