"""Who owed which return for which period, and what came in: the submissions register.

``owed_span`` is the one place that decides from when (and until when) a contract owes a
return: the submissions register, the packs, the KPI windows and the publication rows all
read it, so a contract is never "0 missing" in one output and "14 months missing" in another.

A return whose deadline rule says ``no_deadline`` (validators/deadlines.toml) is never
"on time" nor "late": a valid file received for it is "no deadline".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..spec.deadlines import assess, deadline_for, load_deadlines
from ..spec.kpi_config import configured_start
from ..spec.model import VALID_VERDICTS, RegisterRow, contract_key
from ..spec.return_spec import ReturnSpec, load_all
from ..spec.workdays import DEFAULT_REGION
from .registry import Registry, RegistryEntry, month_date
from .supersession import row_key

if TYPE_CHECKING:
    from .ledger import Ledger


def periods_between(spec: ReturnSpec, first: str, last_end: dt.date) -> list[tuple[str, dt.date]]:
    """(label, last day) of every period from ``first`` whose last day is on or before ``last_end``."""
    period = spec.period.parse(first)
    out: list[tuple[str, dt.date]] = []
    while period and period.end <= last_end:
        out.append((period.label, period.end))
        period = spec.period.following(period)
        if len(out) > 1200:  # a hundred years of months: a typo, not a register
            break
    return out



@dataclass(frozen=True)
class OwedSpan:
    """The periods a contract owes one return: from ``first_period`` (its first month ``first_month``)
    to the period ending ``last_end`` (None: still running). ``first_period`` None: nothing says."""

    first_period: str | None
    first_month: str | None
    last_end: dt.date | None = None

    @property
    def last_month(self) -> str | None:
        return None if self.last_end is None else f"{self.last_end:%Y-%m}"


def owed_span(entry: RegistryEntry | None, spec: ReturnSpec, first_seen: str | None = None,
              contract: str | None = None) -> OwedSpan:
    """From when a contract owes ``spec``'s return: the register's first_period, else the period holding
    its service_start, else the Service Start Date in the KPI config its spec's [pack.kpis] names, else ``first_seen``, the
    first period the ledger holds for it. Until: the period holding the register's service_end. A contract
    year from the Service Start Date is the contract's own (``RegistryEntry.spec_for``)."""
    if entry is not None:
        spec = entry.spec_for(spec)
    configured = configured_start(spec, entry.contract if entry else contract)
    configured_first = spec.period.containing(month_date(configured)).label if configured else None
    first = (entry.first_period_for(spec) if entry else None) or configured_first or first_seen
    bounds = spec.period.parse(first) if first else None
    end = None
    if entry and entry.service_end and (month := month_date(entry.service_end)):
        end = spec.period.containing(month).end
    return OwedSpan(bounds[0] if bounds else None, f"{bounds[1]:%Y-%m}" if bounds else None, end)



# -- who owed what ----------------------------------------------------------------------
def submissions_register(ledger: "Ledger", *, as_of: dt.date, register: Registry | None,
                         periods: Iterable[str] | None = None, region_default: str = DEFAULT_REGION,
                         calendar: Any = None) -> list[RegisterRow]:
    """One row per expected (provider, contract, return, period), plus any received but not expected.

    Status: "on time" / "late" (by the FIRST valid submission, in working days of
    the provider's UK division), "rejected only" (files came but none valid),
    "missing" (owed: its deadline passed before the as-of date, nothing received)
    or "not yet due". Periods count up to the as-of date (those that have ended).
    """
    cal = calendar if calendar is not None and not isinstance(calendar, (str, Path)) else load_deadlines(calendar)
    specs = load_all()
    groups = ledger.group_files()
    wanted = set(periods) if periods else None

    # (return_id, contract_key) -> (provider, contract, region, in_register, expected periods)
    plan: dict[tuple[str, str], tuple[str | None, str, str, bool, dict[str, dt.date]]] = {}
    seen_periods: dict[str, list[tuple[str, dt.date]]] = {}
    for rid in specs:
        seen_periods[rid] = ledger.periods_seen(rid)

    def add_periods(target: dict[str, dt.date], spec: ReturnSpec, first: str | None, floor: dt.date | None,
                    last_end: dt.date | None = None) -> None:
        until = min(as_of, last_end) if last_end else as_of
        if first:
            for label, end in periods_between(spec, first, until):
                target[label] = end
        else:
            for label, end in seen_periods.get(spec.id, []):
                if end <= until and (floor is None or end >= floor):
                    target[label] = end
        if wanted:
            first_end = spec.period.parse(first)[2] if first and spec.period.parse(first) else floor
            for label in wanted:
                b = spec.period.parse(label)
                if b and (first_end is None or b[2] >= first_end) and (last_end is None or b[2] <= last_end):
                    target[b[0]] = b[2]

    # Each attributable contract seen in the ledger, with its first period seen.
    first_seen: dict[tuple[str, str], dt.date] = {}
    for (rid, ck, _period), files in groups.items():
        end = files[0].period_end
        if end and ((rid, ck) not in first_seen or end < first_seen[(rid, ck)]):
            first_seen[(rid, ck)] = end

    if register is not None:
        for entry, rid in register.expected():
            spec = specs.get(rid)
            if spec is None:
                continue
            spec = entry.spec_for(spec)  # a contract year from this contract's Service Start Date
            target: dict[str, dt.date] = {}
            span = owed_span(entry, spec)
            add_periods(target, spec, span.first_period,
                        None if span.first_period else first_seen.get((rid, entry.contract_key)), span.last_end)
            plan[(rid, entry.contract_key)] = (entry.provider, entry.contract, entry.region, True, target)
    for rid, ck, provider, contract in ledger.contracts_seen():
        if (rid, ck) in plan or rid not in specs:
            continue
        target = {}
        if register is None:
            span = owed_span(None, specs[rid], contract=contract or ck)
            add_periods(target, specs[rid], span.first_period,
                        None if span.first_period else first_seen.get((rid, ck)))
        plan[(rid, ck)] = (provider, contract or ck, register.region_for(contract, region_default)
                           if register else region_default, False if register is not None else True, target)

    rows: list[RegisterRow] = []
    for (rid, ck), (provider, contract, region, in_register, target) in plan.items():
        spec = specs[rid]
        # Periods with files count too, even if not expected (early, or before the first period).
        for (g_rid, g_ck, g_period), files in groups.items():
            if g_rid == rid and g_ck == ck and files[0].period_end:
                target.setdefault(g_period, files[0].period_end)
        for period, end in target.items():
            if wanted and period not in wanted:
                continue
            files = groups.get((rid, ck, period), [])
            rows.append(_register_row(spec, provider, contract, period, end, region, in_register, files, as_of, cal))
    rows.sort(key=lambda r: (r.return_id, (r.provider or "").casefold(), contract_key(r.contract) or "",
                             r.period_end or dt.date.min, r.period))
    return rows


def _register_row(spec: ReturnSpec, provider: str | None, contract: str, period: str, period_end: dt.date,
                  region: str, in_register: bool, files: list, as_of: dt.date, calendar: Any) -> RegisterRow:
    dl = deadline_for(spec.id, period, period_end, region=region, calendar=calendar)
    deadline = dl.due if dl else None
    valid = [f for f in files if f.verdict in VALID_VERDICTS]
    current = None
    if valid:
        current = max(valid, key=row_key)
    base = dict(provider=provider, contract=contract,
                return_id=spec.id, period=period, deadline=deadline,
                resubmissions=max(0, len(files) - 1), files=len(files), period_end=period_end, region=region,
                in_register=in_register, current_file_id=current.file_id if current else None,
                current_name=current.name if current else None, sender=current.sender if current else None)
    if valid and dl is None:  # no deadline for this return (or this period): never on time, never late
        first = valid[0]
        return RegisterRow(status="no deadline", received_at=first.received_at, late_working_days=None,
                           received_date_only=first.received_date_only, **base)
    if valid:
        first = valid[0]
        late = first.late_working_days
        if first.received_at is not None and dl is not None:
            when = first.received_at.date() if first.received_date_only else first.received_at
            lateness = assess(spec.id, period, period_end, when, region=region, calendar=calendar)
            late = lateness.late_working_days if lateness else late
        status = "late" if late else "on time"
        return RegisterRow(status=status, received_at=first.received_at, late_working_days=late or 0,
                           received_date_only=first.received_date_only, **base)
    if files:
        return RegisterRow(status="rejected only", received_at=files[-1].received_at, late_working_days=None,
                           received_date_only=files[-1].received_date_only, **base)
    owed = as_of > deadline.date() if deadline else as_of > period_end
    return RegisterRow(status="missing" if owed else "not yet due", received_at=None, late_working_days=None, **base)
