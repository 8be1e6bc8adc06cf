"""`kpd-returns pack`: wires the options to packs.build.write_packs and prints the files written.

Exit codes: 0 = packs written; 2 = could not run (no ledger, a bad option, an unknown provider),
with one plain sentence saying why. The library (``load_packs``, ``write_packs``) lives in packs/build.py.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..intake.ledger import Ledger, LedgerError
from ..intake.ledger_reads import unusable_figures_note
from ..intake.output_lock import output_lock
from ..intake.registry import RegistryError
from ..intake.workspace import ledger_for, register_for
from ..packs.build import DEFAULT_MARKING, PackUsageError, write_packs
from ..read.terminal import safe_text
from ..spec.whp_config import load_whp_config
from ..spec.constants import EXIT_UNREADABLE, EXIT_VALID, plausible_year, years_text


def run(*, period: str, out: Path, providers: Sequence[str] | None = None, all_providers: bool = False,
        db: Path | None = None, formats: str = "xlsx,html", marking: str = DEFAULT_MARKING, as_of: str | None = None,
        register: Path | None = None, whp: Path | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """The `kpd-returns pack` command: print each file written; exit code 0 or 2."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr

    try:
        if providers and all_providers:
            raise PackUsageError("Give --provider or --all, not both.")
        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of.strip())
            except ValueError:
                raise PackUsageError(f"--as-of '{as_of}' is not a date: write it as 2026-11-20.") from None
            if not plausible_year(day.year):
                raise PackUsageError(f"--as-of '{as_of}' is outside the years a return can mean ({years_text()}).")
        if not marking.strip():
            raise PackUsageError("--marking cannot be empty: give the protective marking, e.g. OFFICIAL-SENSITIVE.")
        fmts = [f.strip().lower() for f in formats.split(",") if f.strip()]
        ledger_path = ledger_for(db, stderr)
        if not ledger_path.exists():
            raise PackUsageError(f"There is no ledger at {ledger_path}: run kpd-returns ingest first, or give --db.")
        register, _name = register_for(ledger_path, register, stderr)
        whp_register = load_whp_config(whp) if whp is not None else None  # a bad register stops before any pack
        with output_lock(out, on_wait=lambda text: print(text, file=stderr, flush=True)):  # one run at a time
            paths = write_packs(ledger_path, out, period.strip(),
                                providers=list(providers) if providers else None, formats=fmts,
                                marking=marking.strip(), as_of=day, register=register, whp=whp_register)
        with Ledger(ledger_path) as ledger:
            unusable = ledger.unusable_figures()
        if unusable:  # figures no return can hold were skipped (packs.build never sees them): say so
            print(safe_text(unusable_figures_note(ledger_path, unusable)), file=stderr)
    except (PackUsageError, LedgerError, RegistryError, ValueError) as exc:
        print(safe_text(exc), file=stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        print(safe_text(f"kpd-returns could not read or write {exc.filename or 'a file'} ({exc.strerror or exc})."),
              file=stderr)
        return EXIT_UNREADABLE
    for p in paths:
        print(safe_text(p), file=stdout)
    print(f"{len(paths)} file{'' if len(paths) == 1 else 's'} written to {out}.", file=stdout)
    return EXIT_VALID
