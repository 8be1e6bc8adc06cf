"""`kpd-returns ingest`, `status` and `consolidate`: the batch commands.

Exit codes:
    0  the run completed and every input was accepted (or was a duplicate), or every
       rejected one has since been replaced by a valid return for its period;
    1  the run completed, and some inputs are rejected or unreadable and not replaced
       by a later valid return, whether this run or an earlier one recorded them (each
       listed, with its findings in <out>/rejected/ for consolidate);
    2  the run could not start, or stopped: an inbox, the register or the ledger
       could not be used (read-only, damaged, or locked by another run for longer
       than KPD_LEDGER_WAIT seconds), or an option was wrong (one plain sentence
       says which). Files not yet recorded are taken by the next run.

Every input is counted exactly once in the summary line, which adds up to the
number of inputs found. Files in an inbox that are not returns are listed once
("SKIPPED ... not a return") and never change the exit code. Every line is
printed through terminal.safe_text: no name can drive the terminal.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..read.terminal import safe_text
from ..spec.constants import (DEFAULT_REGION, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_VALID, LEDGER_NAME, plausible_year,
                              years_text)
from ..spec.whp_config import load_whp_config
from ..spec.periods import is_month
from ..spec.workdays import REGIONS
from ..intake.registry import RegistryError
from ..intake.submissions import submissions_register
from ..intake.scope import Scope
from ..intake.workspace import ledger_for, register_for, remember_ledger
from ..intake.report_month import latest_report_month
from ..packs.build import write_packs
from ..intake.consolidate import consolidate
from ..intake.ingest import ingest
from ..intake.ledger import Ledger, LedgerError
from ..intake.output_lock import output_lock
from ..render.status_report import FORMATS, write_status
from ..spec.deadlines import DeadlineError, load_deadlines
from ..spec.personal_data import mask_all
from ..spec.words import plural

_MARK = {"accepted": "ACCEPTED", "accepted with warnings": "WARNINGS", "rejected": "REJECTED",
         "unreadable": "UNREADABLE", "duplicate": "DUPLICATE"}


class UsageError(Exception):
    pass


def _as_of(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--as-of '{text}' is not a date: write it as 2026-11-20.") from None
    if not plausible_year(day.year):
        raise UsageError(f"--as-of '{text}' is outside the years a return can mean ({years_text()}).")
    return day


def _workers(value: int | str | None) -> int | None:
    if value in (None, "", "auto"):
        return None
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        n = 0
    if n < 1 or n > 64:  # as validate: a pool of hundreds of processes hangs the machine
        raise UsageError(f"--workers must be a whole number from 1 to 64, not '{value}'.")
    return n  # and never more than the inputs (consolidate.ingest)


def _region(region: str) -> str:
    if region not in REGIONS:
        raise UsageError(f"--region '{region}' is not a UK division: use {', '.join(REGIONS)}.")
    return region


def _inboxes(paths: Sequence[Path]) -> list[Path]:
    if not paths:
        raise UsageError("Give at least one inbox: a folder of returns, a workbook or an e-mail.")
    for p in paths:
        if not Path(p).exists():
            raise UsageError(f"The inbox {p} does not exist. Check the path and try again.")
    return [Path(p) for p in paths]


def _calendar(path: Path | None):
    if path is None:
        return None

    return load_deadlines(path)


def _outcome_line(o) -> str:
    where = f" (in {o.source_email})" if o.source_email else ""
    text = f"{_MARK[o.outcome]:<10} {o.name}{where}"
    if o.detail:
        text += f": {o.detail}"
    if o.findings_file:
        text += f" -> {o.findings_file}"
    return safe_text(text)


def _print_summary(summary, out: TextIO, err: TextIO) -> None:
    """The run's notes, the files skipped as not returns (once each), and the summary line."""
    for note in summary.notes:
        print(safe_text(note), file=err)
    for name in summary.skipped:
        print(safe_text(f"{'SKIPPED':<10} {name}: not a return"), file=out)
    print(safe_text(summary.line()), file=out)


def _printer(out: TextIO | None, verbose: bool):
    """Prints one line per input as it is stored. With no ``out``, sys.stdout is looked up at each
    line, so lines go above the progress bar while it is shown (rich redirects stdout then).
    Inputs an earlier run recorded are listed only with --verbose: the summary counts them, and
    every input still open is listed at the end (``_print_recorded``)."""
    def show(o) -> None:
        if verbose or (o.outcome not in ("accepted",) and not o.already_recorded):
            print(_outcome_line(o), file=out or sys.stdout, flush=True)
    return show


def _print_recorded(summary, out: TextIO, verbose: bool) -> None:
    """One line for the inputs an earlier run recorded; then, every run, the inputs still open (rejected
    or unreadable, and not put right since), whichever run recorded them: they are why the exit code is 1."""
    line = summary.recorded_line()
    if line:
        print(line, file=out)
    still_open = sorted(summary.open_problems, key=lambda o: o.index)
    if still_open:
        n = len(still_open)
        print(f"{n} input{' is' if n == 1 else 's are'} still open: rejected or unreadable, and no valid return "
              "for the same return type, contract and period received since.", file=out)
    for o in still_open:
        print(f"STILL OPEN {_outcome_line(o)[11:]}", file=out)


def _exit_for(summary) -> int:
    """1 while any input is rejected or unreadable and not since replaced by a valid return."""
    return EXIT_ERRORS if summary.open_problems else EXIT_VALID


def _guard(fn, err: TextIO, out_dir: Path | None = None) -> int:
    """Run ``fn``; a problem it raises is one sentence on ``err`` and exit 2 (``out_dir``: the output
    folder, named when a write fails without saying which file, as a full disk does)."""
    try:
        return fn()
    except (UsageError, LedgerError, RegistryError, DeadlineError, ValueError) as exc:
        print(safe_text(exc), file=err)
        return EXIT_UNREADABLE
    except BrokenPipeError:  # the reader of our output has gone: the command line exits quietly
        raise
    except OSError as exc:
        where = exc.filename or (f"a file in {out_dir}" if out_dir is not None else "a file")
        print(safe_text(f"kpd-returns could not read or write {mask_all(str(where))} ({exc.strerror or exc})."),
              file=err)
        return EXIT_UNREADABLE


# -- ingest ---------------------------------------------------------------------------------
def run_ingest(inboxes: Sequence[Path], *, db: Path | None = None, workers: int | str | None = None,
               region: str = DEFAULT_REGION, deadlines: Path | None = None, verbose: bool = False,
               progress: bool | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    line_out = out
    out, err = out or sys.stdout, err or sys.stderr

    def go() -> int:
        paths = _inboxes(inboxes)
        n_workers = _workers(workers)
        reg = _region(region)
        cal = _calendar(deadlines)
        db_path = ledger_for(db, err)
        exclude = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"), Path(f"{db_path}-journal")]
        with Ledger(db_path) as ledger:
            summary = ingest(paths, ledger, workers=n_workers, region=reg, exclude=exclude, progress=progress,
                             calendar=cal, on_outcome=_printer(line_out, verbose))
            total = ledger.file_count()
        remember_ledger(db_path)
        _print_summary(summary, out, err)
        _print_recorded(summary, out, verbose)
        print(safe_text(f"The ledger {db_path} now holds {plural(total, 'file')}."), file=out)
        return _exit_for(summary)
    return _guard(go, err)


# -- status --------------------------------------------------------------------------------
def run_status(*, db: Path | None = None, periods: Sequence[str] | None = None, providers: Path | None = None,
               as_of: str | None = None, region: str = DEFAULT_REGION, deadlines: Path | None = None,
               fmt: str = "text", out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr

    def go() -> int:
        if fmt not in FORMATS:
            raise UsageError(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not '{fmt}'.")
        db_path = ledger_for(db, err)
        if not db_path.exists():
            raise UsageError(f"There is no ledger at {db_path}: run kpd-returns ingest first, or give --db.")
        day = _as_of(as_of)
        reg = _region(region)
        register, _name = register_for(db_path, providers, err)
        cal = _calendar(deadlines)
        scope = Scope.from_periods(periods)
        with Ledger(db_path) as ledger:
            wanted = None
            if scope.selected is not None:
                wanted = {p for ps in scope.selected.values() for p in ps}
            rows = submissions_register(ledger, as_of=day, register=register, periods=wanted or None,
                                        region_default=reg, calendar=cal)
            queries = ledger.queries(r.current_file_id for r in rows if r.current_file_id is not None)
        write_status(rows, day, out, fmt, queries)
        return EXIT_VALID
    return _guard(go, err)


def _write_packs(ledger_path: Path, packs_dir: Path, periods: Sequence[str] | None, day: dt.date,
                 providers, whp=None) -> tuple[str | None, list[Path]]:
    """Packs for the report month: a month given with --period, else the latest month the ledger's
    finest-grained returns reach (intake.report_month: a monthly return's latest month; in a ledger of
    quarterly returns only, the last month of the latest quarter)."""
    months = [p.strip() for p in (periods or []) if is_month(p.strip())]
    if not months:
        with Ledger(ledger_path) as ledger:
            latest = latest_report_month(ledger)
        months = [latest] if latest else []
    if not months:
        return None, []
    return max(months), write_packs(ledger_path, packs_dir, max(months), as_of=day, register=providers, whp=whp)


# -- consolidate -----------------------------------------------------------------------------
def _print_drafts(result, out: TextIO) -> None:
    """One line for the draft e-mails back to providers, and which have no address to go to."""
    drafts = result.drafts
    if not drafts:
        return
    line = f"Wrote {plural(len(drafts), 'draft e-mail')} to providers in {result.drafts_dir}"
    blank = [d for d in drafts if d.to is None]
    if blank:
        line += (f"; {len(blank)} {'has' if len(blank) == 1 else 'have'} no address to send to (add it before "
                 f"sending, or give the contract a contact in the providers register): "
                 + ", ".join(Path(d.file).name for d in blank[:5])
                 + (f" and {len(blank) - 5} more (see summary.json)" if len(blank) > 5 else ""))
    print(safe_text(line + "."), file=out)


def run_consolidate(inboxes: Sequence[Path], *, out_dir: Path, db: Path | None = None,
                    providers: Path | None = None, periods: Sequence[str] | None = None, as_of: str | None = None,
                    workers: int | str | None = None, region: str = DEFAULT_REGION, deadlines: Path | None = None,
                    verbose: bool = False, progress: bool | None = None, out: TextIO | None = None,
                    err: TextIO | None = None, packs: bool = True, whp: Path | None = None) -> int:
    line_out = out
    out, err = out or sys.stdout, err or sys.stderr

    def go() -> int:
        paths = _inboxes(inboxes)
        n_workers = _workers(workers)
        reg = _region(region)
        day = _as_of(as_of)
        cal = _calendar(deadlines)
        Scope.from_periods(periods)  # check the periods before reading anything
        whp_register = load_whp_config(whp) if whp is not None else None  # and the WHP register
        # One run at a time writes into an output folder (a second waits, then stops): intake.output_lock.
        with output_lock(out_dir, on_wait=lambda text: print(text, file=err, flush=True)):
            return write_all(paths, n_workers, reg, day, cal, whp_register)

    def write_all(paths, n_workers, reg, day, cal, whp_register) -> int:
        db_path = Path(db) if db else Path(out_dir) / LEDGER_NAME
        register, register_name = register_for(db_path, providers, err)
        result = consolidate(paths, out_dir, db=db_path, register=register, periods=periods, as_of=day,
                             workers=n_workers, region=reg, progress=progress, calendar=cal,
                             register_name=register_name, on_outcome=_printer(line_out, verbose))
        remember_ledger(result.ledger_path)
        s = result.summary
        _print_summary(s, out, err)
        _print_recorded(s, out, verbose)
        missing = sum(1 for r in result.register_rows if r.status == "missing")
        late = sum(1 for r in result.register_rows if r.status == "late")
        print(f"Submissions as at {day.isoformat()}: {late} late, {missing} missing (see the Submissions sheet).",
              file=out)
        print(safe_text(f"Wrote {result.workbook} and {result.summary_file}"
                        + (f"; findings of rejected files in {result.rejected_dir}" if result.rejected_dir.exists()
                           else "") + f". Ledger: {result.ledger_path}."), file=out)
        _print_drafts(result, out)
        if packs:
            month, written = _write_packs(result.ledger_path, Path(out_dir) / "packs", periods, day, register,
                                          whp_register)
            if written:
                print(f"Wrote {len(written)} performance pack files for {month} in {Path(out_dir) / 'packs'}.",
                      file=out)
            else:
                print("No performance packs written: the ledger holds no return with a period to report on.",
                      file=out)
        return _exit_for(s)
    return _guard(go, err, Path(out_dir))
