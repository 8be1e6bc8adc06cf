"""Templates sent out pre-filled: one per registered contract that owes a return for a period.

The central team attaches each file to its e-mail, so the name says whose it is
(``<return>-<provider>-<contract>-<period>.xlsx``); provider, contract and period are
filled in and locked, so the return comes back saying whose it is and what it covers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from ..spec.constants import EXIT_UNREADABLE, EXIT_VALID
from ..spec.personal_data import mask_all
from ..intake.registry import Registry, RegistryError, load_registry, period_bounds
from ..intake.submissions import owed_span
from ..spec.return_spec import ReturnSpec, SpecError, get_spec
from .template import parse_period, write_template


def slug(text: str) -> str:
    """'Northbridge Employment Ltd' -> 'northbridge-employment-ltd' (safe in any file system and e-mail)."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def owing(spec: ReturnSpec, register: Registry, period: str) -> list:
    """The register entries that owe ``spec``'s return for ``period``, in register order: from when
    (and until when) is decided by submissions.owed_span, as for status, packs and publication."""
    _label, start, end = period_bounds(spec, period)
    out = []
    for entry in register.entries:
        if spec.id not in entry.returns:
            continue
        span = owed_span(entry, spec)
        if span.first_month and span.first_month > f"{start:%Y-%m}":
            continue  # not owed yet: the contract's first period is later
        if span.last_end and span.last_end < end:
            continue  # the contract ended before this period
        out.append(entry)
    return out


def file_name(spec: ReturnSpec, provider: str, contract: str, period: str) -> str:
    # A file name travels in e-mails: masked like every name the tool shows (a register row could hold
    # an e-mail address or an NI number by mistake).
    return f"{slug(spec.id)}-{slug(mask_all(provider))}-{slug(mask_all(contract))}-{slug(period)}.xlsx"


def write_prefilled(spec: ReturnSpec, register: Registry, period: str, out_dir: Path) -> list[Path]:
    """Write one locked, pre-filled template per owing contract; the paths written."""
    parse_period(spec, period)  # a plain sentence for a period of the wrong form
    label = period_bounds(spec, period)[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in owing(spec, register, label):
        path = out_dir / file_name(spec, entry.provider, entry.contract, label)
        write_template(spec, path, provider=entry.provider, contract=entry.contract, period=label, lock_prefill=True)
        paths.append(path)
    return paths


def cli_prefilled(return_type: str, providers: Path, period: str | None, out_dir: Path | None) -> int:
    """`kpd-returns template RETURN --providers FILE --period P --out DIR`: 0, or 2 with one sentence."""
    if not period or out_dir is None:
        print("Give --period and --out with --providers, for example --period 2026-27 Q2 --out outbox.",
              file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        spec = get_spec(return_type.strip().lower())
        register = load_registry(providers)
        paths = write_prefilled(spec, register, period, Path(out_dir))
    except (SpecError, RegistryError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNREADABLE
    except (OSError, FileCreateError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"Cannot write into {out_dir}: {reason}.", file=sys.stderr)
        return EXIT_UNREADABLE
    if not paths:
        print(f"No contract in {providers} owes the {spec.short_title} for {period}: nothing written.")
        return EXIT_VALID
    print(f"Wrote {len(paths)} pre-filled {spec.short_title} templates for {period} to {out_dir}:")
    for p in paths:
        print(f"  {p.name}")
    return EXIT_VALID
