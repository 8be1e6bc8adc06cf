"""`kpd-returns validate`: check returns, print a text or JSON report, and optionally
write annotated copies or a copy with its totals' formulas restored.

A folder stands for the returns in it (kpd_returns/intake/return_files.py); its other files are
listed as "skipped: not a return" and do not change the exit code.

Exit codes (the worst over all files):
  0  every file is valid (warnings allowed)
  1  at least one file has errors
  2  at least one file could not be read or used, an option was wrong, or a
     copy (--annotate, --fix-totals) could not be written

Nothing here ever shows a traceback: a wrong option is one plain sentence on
stderr, and an unexpected failure is one plain sentence naming the file.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..spec.personal_data import cut, mask_all
from ..spec.constants import DEFAULT_REGION, EXIT_UNREADABLE, EXIT_VALID, plausible_year, years_text
from ..spec.model import FileReport, crashed_report
from ..read.terminal import safe_text
from ..intake.return_files import expand
from ..render.annotate import CopyError, annotate, annotated_name
from ..render.json_report import write_json
from ..render.progress import Progress
from ..render.text import render_text
from ..spec.deadlines import DeadlineError, load_deadlines
from ..spec.findings import with_file
from ..spec.return_spec import SpecError, load_all
from ..spec.workdays import REGIONS

FORMATS = ("text", "json")
SKIPPED = "skipped: not a return"


class UsageError(Exception):
    """A wrong option value; the message is one plain sentence."""


# -- options -----------------------------------------------------------------

def parse_when(text: str | None, option: str) -> dt.date | dt.datetime | None:
    """An ISO date (2026-11-20) or date and time (2026-11-20T14:30, 2026-11-20 14:30, with Z or an offset).

    A date alone stays a ``date``: the time is not known (deadlines treat it so).
    """
    if text is None:
        return None
    raw = text.strip()
    value: dt.date | None = None
    try:
        if len(raw) == 10:
            value = dt.date.fromisoformat(raw)
        elif len(raw) > 10 and raw[10] in "T ":
            value = dt.datetime.fromisoformat(raw)
    except ValueError:
        pass
    if value is not None:
        if not plausible_year(value.year):
            raise UsageError(f"{option} '{text}' is outside the years a return can mean ({years_text()}).")
        return value
    raise UsageError(f"{option} must be a date such as 2026-11-20 or a date and time such as "
                     f"2026-11-20T14:30, not '{text}'.")


def parse_region(text: str | None) -> str:
    value = (text or DEFAULT_REGION).strip().lower()
    if value not in REGIONS:
        raise UsageError(f"--region must be one of {', '.join(REGIONS)}, not '{text}'.")
    return value


def parse_workers(text: Any) -> int:
    try:
        n = int(str(text).strip())
    except ValueError:
        n = 0
    if n < 1 or n > 64:
        raise UsageError(f"--workers must be a whole number from 1 to 64, not '{text}'.")
    return n


def parse_format(text: str | None) -> str:
    value = (text or "text").strip().lower()
    if value not in FORMATS:
        raise UsageError(f"--format must be text or json, not '{text}'.")
    return value


# -- validation, one bad file never stops the others ------------------------

def validate_all(paths: Sequence[str], *, workers: int, submitted, as_of, region: str, calendar) -> list[FileReport]:
    """Validate every file. If the batch call fails, fall back to one call per file so a
    failure is confined to the file that caused it."""
    # Imported here, not at the top: validate_options has checked the validator imports (pandas, pandera), so a
    # broken installation is one plain sentence rather than a traceback when this module loads.
    from ..checks.validate import validate_file, validate_paths

    try:
        reports = []
        with Progress("Checking returns", len(paths)) as bar:  # shown on a terminal after a second
            for report in validate_paths(list(paths), workers=workers, submitted=submitted, as_of=as_of,
                                         region=region, calendar=calendar):
                reports.append(report)
                bar.advance()
        if len(reports) == len(paths):
            return reports
    except SpecError as exc:  # the specs' rules, checked before any file is read
        raise UsageError(f"The return specifications cannot be used: {exc}") from None
    except Exception:  # noqa: BLE001 - retried file by file below
        pass
    out = []
    for p in paths:
        try:
            out.append(validate_file(p, name=Path(p).name, submitted=submitted, as_of=as_of, region=region,
                                     calendar=calendar))
        except Exception as exc:  # noqa: BLE001 - confined to this file
            out.append(crashed_report(p, exc))
    return out


def with_path_in_hints(report: FileReport) -> FileReport:
    """Commands in hints name the file by the path the user typed, so they paste where the user is."""
    if report.path != report.name:
        report.findings = [with_file(f, report.path, report.return_id, was=report.name) for f in report.findings]
    return report


# -- the copies --------------------------------------------------------------

def _annotate_targets(reports: Sequence[FileReport], annotate: Path | None, annotate_dir: Path | None) -> dict[int, Path]:
    if annotate is not None:
        return {0: annotate}
    if annotate_dir is None:
        return {}

    targets: dict[int, Path] = {}
    used: set[str] = set()
    for i, r in enumerate(reports):
        name = annotated_name(r.path)
        n = 2
        while name.lower() in used:  # two inputs with the same name from different folders
            name = annotated_name(f"{Path(r.path).stem}-{n}.xlsx")
            n += 1
        used.add(name.lower())
        targets[i] = annotate_dir / name
    return targets


def write_annotations(reports: Sequence[FileReport], targets: dict[int, Path], notes: dict[str, list[str]]) -> bool:
    """Write annotated copies; record a note per file. False if any copy could not be written."""
    ok = True
    for i, target in targets.items():
        r = reports[i]
        if r.verdict == "unreadable":
            notes.setdefault(r.path, []).append("No annotated copy: the file could not be read.")
            continue
        if Path(r.name).suffix.lower() == ".csv":  # a PRaP extract: text, no cells to mark
            notes.setdefault(r.path, []).append("No annotated copy: a .csv extract has no cells to mark; its "
                                                "findings name each row and column.")
            continue
        try:
            marked = annotate(r.path, r, target)
        except CopyError as exc:
            notes.setdefault(r.path, []).append(str(exc))
            ok = False
            continue
        except Exception as exc:  # noqa: BLE001
            notes.setdefault(r.path, []).append(
                f"No annotated copy of {mask_all(r.name)}: an unexpected problem ({type(exc).__name__}: {exc}).")
            ok = False
            continue
        cells = "1 cell" if marked == 1 else f"{marked} cells"
        notes.setdefault(r.path, []).append(f"Annotated copy: {target} ({cells} marked).")
    return ok


def write_fixed(report: FileReport, target: Path, notes: dict[str, list[str]]) -> bool:
    # Imported only for --fix-totals: it writes the template's formulas, which loads xlsxwriter, and the
    # one-file validate command must start without it (the benchmark measures that start-up).
    from ..render.fix_totals import fix_totals

    try:
        result = fix_totals(report.path, report, target)
    except CopyError as exc:
        notes.setdefault(report.path, []).append(str(exc))
        return False
    except Exception as exc:  # noqa: BLE001
        notes.setdefault(report.path, []).append(
            f"Cannot fix the totals of {mask_all(report.name)}: an unexpected problem ({type(exc).__name__}: {exc}).")
        return False
    changed = ", ".join(result.changed) if result.changed else "none needed restoring"
    note = (f"Totals fixed: {target} has the formula in all {len(result.cells)} calculated cells "
            f"(restored: {changed}).")
    if result.masked:  # the copy differs from the return in more than its totals: say where
        n = len(result.masked)
        note += (f" It also masks the personal data in {n} text cell{'s' if n != 1 else ''} "
                 f"({mask_all(', '.join(result.masked))}), as every copy kpd-returns writes does: remove it from your return "
                 f"too, and check {'that cell' if n == 1 else 'those cells'} before you send the copy.")
    notes.setdefault(report.path, []).append(note)
    return True


# -- the command -------------------------------------------------------------

def run(files: Sequence[str | Path], *, as_of: str | None = None, submitted: str | None = None,
        region: str | None = DEFAULT_REGION, deadlines: str | Path | None = None, fmt: str | None = "text",
        annotate: str | Path | None = None, annotate_dir: str | Path | None = None,
        fix_totals: str | Path | None = None, workers: Any = 1,
        out: TextIO | None = None, err: TextIO | None = None, color: bool | None = None) -> int:
    """Run `kpd-returns validate`; return the exit code (see the module notes)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    for stream in (out, err):  # an ASCII-only console must not turn a report into a crash
        if isinstance(stream, io.TextIOWrapper):
            try:
                stream.reconfigure(errors="replace")
            except (AttributeError, ValueError, io.UnsupportedOperation):
                pass
    current = {"file": None}
    try:
        return _run(files, as_of=as_of, submitted=submitted, region=region, deadlines=deadlines, fmt=fmt,
                    annotate=annotate, annotate_dir=annotate_dir, fix_totals=fix_totals, workers=workers,
                    out=out, err=err, color=color, current=current)
    except UsageError as exc:
        print(safe_text(exc), file=err)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("Stopped before every file was checked.", file=err)
        return 130
    except BrokenPipeError:  # the reader of the report has gone (| head): the command line exits quietly
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback
        where = f" while working on {mask_all(current['file'])}" if current["file"] else ""
        detail = cut(" ".join(f"{type(exc).__name__}: {exc}".split()), 300)  # masked whole, then cut
        print(safe_text(f"kpd-returns validate stopped{where} because of an unexpected problem ({detail})."), file=err)
        return EXIT_UNREADABLE


def _run(files, *, as_of, submitted, region, deadlines, fmt, annotate, annotate_dir, fix_totals, workers,
         out, err, color, current) -> int:
    paths = [str(f) for f in files]
    if not paths:
        raise UsageError("Give at least one return to check.")

    paths, skipped = expand(paths)  # a folder: the returns in it; other files skipped (listed below)
    if not paths:
        raise UsageError(f"There is no return (an .xlsx, .xlsm or .xls workbook) in {', '.join(map(str, files))}"
                         f"{f'; skipped {len(skipped)} other file' + ('s' if len(skipped) != 1 else '') if skipped else ''}.")
    when_as_of = parse_when(as_of, "--as-of")
    when_submitted = parse_when(submitted, "--submitted")
    region = parse_region(region)
    fmt = parse_format(fmt)
    workers = parse_workers(workers)
    annotate = Path(annotate) if annotate is not None else None
    annotate_dir = Path(annotate_dir) if annotate_dir is not None else None
    fix_target = Path(fix_totals) if fix_totals is not None else None
    if annotate is not None and annotate_dir is not None:
        raise UsageError("Use --annotate for one file or --annotate-dir for several, not both.")
    if annotate is not None and len(paths) != 1:
        raise UsageError("--annotate writes one copy: give one return, or use --annotate-dir DIR for several.")
    if fix_target is not None and len(paths) != 1:
        raise UsageError("--fix-totals works on one return at a time: give exactly one file.")
    if annotate_dir is not None and annotate_dir.exists() and not annotate_dir.is_dir():
        raise UsageError(f"--annotate-dir must be a folder, and {annotate_dir} is a file.")
    calendar = None
    if deadlines is not None:
        try:
            calendar = load_deadlines(Path(deadlines))
        except DeadlineError as exc:
            raise UsageError(str(exc)) from None
    try:  # the validator's own imports (pandas, pandera) checked once, so a broken installation is one sentence
        import kpd_returns.checks.validate  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"The validator is missing from this installation ({exc}); reinstall kpd-returns.") from None
    # A broken spec file was said once by the command line (cli.main); the other returns go on.

    current["file"] = paths[0] if len(paths) == 1 else f"{len(paths)} files"
    reports = validate_all(paths, workers=workers, submitted=when_submitted, as_of=when_as_of, region=region,
                           calendar=calendar)
    code = max((r.exit_code for r in reports), default=EXIT_VALID)
    reports = [with_path_in_hints(r) for r in reports]

    notes: dict[str, list[str]] = {}
    targets = _annotate_targets(reports, annotate, annotate_dir)
    if targets:
        current["file"] = "the annotated copies"
        if not write_annotations(reports, targets, notes):
            code = EXIT_UNREADABLE
    if fix_target is not None:
        current["file"] = reports[0].path
        if not write_fixed(reports[0], fix_target, notes):
            code = EXIT_UNREADABLE

    current["file"] = "the report"
    if fmt == "json":
        write_json(reports, out, skipped=skipped)
        for r in reports:
            for note in notes.get(r.path, ()):
                print(safe_text(f"{mask_all(r.path)}: {note}"), file=err)
    else:
        render_text(reports, out, notes=notes, color=color)
        for path in skipped:
            print(f"{path}: {SKIPPED}", file=out)
    out.flush()
    return code
