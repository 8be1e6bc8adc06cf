"""Templates sent out pre-filled: one per registered contract that owes a return for a period.

The central team attaches each file to its e-mail, so the name says whose it is
(``<return>-<provider>-<contract>-<period>.xlsx``); provider, contract and period are
filled in and locked, so the return comes back saying whose it is and what it covers.
"""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from ..spec.constants import EXIT_ERRORS, EXIT_UNREADABLE, EXIT_VALID
from ..spec.personal_data import mask_all, scan
from ..intake.registry import Registry, RegistryEntry, RegistryError, load_registry, period_bounds
from ..intake.ledger import LedgerError
from ..intake.submissions import owed_span
from ..intake.workspace import ledger_for
from ..packs.build import PackUsageError
from ..spec.words import plural
from .plan_areas import area_cells, attention_areas
from ..spec.return_spec import ReturnSpec, SpecError, get_spec
from .template import parse_period, write_template


def slug(text: str) -> str:
    """'Northbridge Employment Ltd' -> 'northbridge-employment-ltd' (safe in any file system and e-mail)."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def owing(spec: ReturnSpec, register: Registry, period: str) -> list:
    """The register entries that owe ``spec``'s return for ``period``, in register order: from when
    (and until when) is decided by submissions.owed_span, as for status, packs and publication."""
    out = []
    for entry in register.entries:
        if spec.id not in entry.returns:
            continue
        _label, start, end = period_bounds(entry.spec_for(spec), period)  # the contract's own year
        span = owed_span(entry, spec)
        if span.first_month and span.first_month > f"{start:%Y-%m}":
            continue  # not owed yet: the contract's first period is later
        if span.last_end and span.last_end < end:
            continue  # the contract ended before this period
        out.append(entry)
    return out


# A file name's parts are cut to this many characters: a long register name must not make a name the
# file system refuses (most allow 255 bytes); names that end up alike are told apart by a suffix.
_PART_CHARS = 60


def file_name(spec: ReturnSpec, provider: str, contract: str, period: str) -> str:
    # A file name travels in e-mails: masked like every name the tool shows (a register row could hold
    # an e-mail address or an NI number by mistake).
    parts = (slug(spec.id), slug(mask_all(provider))[:_PART_CHARS].strip("-"),
             slug(mask_all(contract))[:_PART_CHARS].strip("-"), slug(period))
    return "-".join(parts) + ".xlsx"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name`` with -2, -3... before .xlsx if an earlier template of this run took it (names
    compare as a case-insensitive file system compares them)."""
    stem, n = name[: -len(".xlsx")], 1
    candidate = name
    while _fold(candidate) in taken:
        n += 1
        candidate = f"{stem}-{n}.xlsx"
    taken.add(_fold(candidate))
    return candidate


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def personal_data_in_row(spec: ReturnSpec, entry: RegistryEntry, source: str) -> str | None:
    """One sentence if the register row's provider or contract holds personal data: written into the
    template's locked cells, it would make a return that can only be rejected (AtW 7.25). None if clean."""
    for label, fid, value in (("provider", spec.header.provider, entry.provider),
                              ("contract", spec.header.contract, entry.contract)):
        if not fid:
            continue
        field = spec.field(fid)
        found = scan(value, field.personal_data_skip)
        if found:
            where = (f"providers entry {entry.line}" if source.lower().endswith(".toml")
                     else f"line {entry.line}")
            cite = spec.personal_data_basis.cite()  # as the personal-data check cites it (spec.basis)
            return (f"{source}: {where}: the {label} '{mask_all(value, field.personal_data_skip)}' looks like it "
                    f"contains {found[0][0]}, which a return must not hold ({cite}), so no template was written "
                    f"for this row: correct the register and run the command again.")
    return None


@dataclass
class Prefilled:
    """What a run wrote: the paths, in register order, and one sentence per register row refused."""
    written: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    areas: dict[Path, int] = field(default_factory=dict)  # areas pre-filled per file (a plan's)


def write_prefilled(spec: ReturnSpec, register: Registry, period: str, out_dir: Path,
                    areas: dict[str, list[str]] | None = None) -> Prefilled:
    """Write one locked, pre-filled template per owing contract whose row holds no personal data.
    ``areas``: contract key -> the areas a plan's list is pre-filled with (plan_areas.attention_areas)."""
    parse_period(spec, period)  # a plain sentence for a period of the wrong form
    label = period_bounds(spec, period)[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    result, taken = Prefilled(), set()
    for entry in owing(spec, register, label):
        problem = personal_data_in_row(spec, entry, register.source)
        if problem:
            result.refused.append(problem)
            continue
        path = out_dir / _unique(file_name(spec, entry.provider, entry.contract, label), taken)
        cells, left = area_cells(spec, (areas or {}).get(entry.contract_key, []))
        write_template(entry.spec_for(spec), path, provider=entry.provider, contract=entry.contract, period=label, lock_prefill=True,
                       cells=cells)
        result.written.append(path)
        result.areas[path] = len(cells)
        if left:
            result.refused.append(f"{path.name}: the list has room for {len(cells)} areas, so {len(left)} more from "
                                  f"the attention list were left out: add them to the plan by hand.")
    return result


def _plan_areas(spec: ReturnSpec, register: Registry, period: str, db: Path | None,
                as_of: str | None) -> dict[str, list[str]]:
    day = dt.date.today()
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of.strip())
        except ValueError:
            raise ValueError(f"--as-of '{as_of}' is not a date: write it as 2026-11-20.") from None
    parse_period(spec, period)  # a plain sentence for a period of the wrong form
    label = period_bounds(spec, period)[0]
    return attention_areas(ledger_for(db, sys.stderr), label, day, register)


def cli_prefilled(return_type: str, providers: Path, period: str | None, out_dir: Path | None,
                  db: Path | None = None, as_of: str | None = None) -> int:
    """`kpd-returns template RETURN --providers FILE --period P --out DIR`: 0; 1 when a register row was refused
    (the other templates written); or 2 with one sentence. A plan (a spec with ``[pack_review]``) is pre-filled
    with each contract's areas for attention in the pack for P, from the ledger (``--db``, as `pack` finds it),
    judged as at ``--as-of`` (default today)."""
    if not period or out_dir is None:
        print("Give --period and --out with --providers, for example --period 2026-27 Q2 --out outbox.",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        spec = get_spec(return_type.strip().lower())
        register = load_registry(providers)
        areas = _plan_areas(spec, register, period, db, as_of) if spec.pack_review is not None else None
        result = write_prefilled(spec, register, period, Path(out_dir), areas)
    except (SpecError, RegistryError, ValueError, PackUsageError, LedgerError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE
    except (OSError, FileCreateError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"Cannot write into {out_dir}: {reason}.", file=sys.stderr)
        return EXIT_UNREADABLE
    for sentence in result.refused:
        print(sentence, file=sys.stderr)
    paths = result.written
    if not paths and not result.refused:
        print(f"No contract in {providers} owes the {spec.short_title} for {period}: nothing written.")
        return EXIT_VALID
    noun = "template" if len(paths) == 1 else "templates"
    print(f"Wrote {len(paths)} pre-filled {spec.short_title} {noun} for {period} to {out_dir}"
          + (":" if paths else "."))
    for p in paths:
        print(f"  {p.name}" + (f" ({plural(result.areas[p], 'area')} for attention filled in)"
                                if spec.pack_review is not None else ""))
    # A refused row is an error in the register (exit 1, as a file with errors): the rest were written.
    return EXIT_ERRORS if result.refused else EXIT_VALID
