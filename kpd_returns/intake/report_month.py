"""Which month the packs report on when nobody says: read from the ledger and the specs.

The packs cover one report month. Without ``--period`` the batch run and the demo take the
latest month that the finest-grained returns with a pack section (``[pack]``) in the ledger reach:
a monthly return's latest month before a quarterly return's last month, so a quarterly return sent
early never moves the packs past the monthly returns, and a return the packs do not show never moves
them at all; a DWP extract counts as a monthly return with a section (the WHP's). No return type is named: whether a return has a pack section and how many months a
period covers come from each return's own spec.
"""

from __future__ import annotations

import datetime as dt

from ..spec.extract_spec import load_extracts
from ..spec.periods import is_month
from ..spec.return_spec import SpecError, get_spec


def _months_covered(return_id: str, period: str) -> int | None:
    """How many calendar months the period ``period`` of ``return_id`` spans (None if unknown, or if the
    return has no section in the packs). A DWP extract (``[extract]``: the WHP's PRaP data) covers the one
    month its file names and feeds the packs' WHP sections, so an inbox of extracts alone has a report month."""
    if return_id in load_extracts():
        return 1 if is_month(period) else None
    try:
        spec = get_spec(return_id)
    except SpecError:
        return None
    if spec.pack is None:
        return None
    parsed = spec.period.parse(period)
    if parsed is None:
        return None
    _label, start, end = parsed
    return (end.year - start.year) * 12 + end.month - start.month + 1


def latest_report_month(ledger) -> str | None:
    """'YYYY-MM': the latest month in which a current return of the finest-grained return types with a
    pack section held ends; None for a ledger with no current return of those."""
    ends: dict[int, set[str]] = {}
    for row in ledger.current_returns():
        if not row.return_id or not row.period or not isinstance(row.period_end, dt.date):
            continue
        months = _months_covered(row.return_id, row.period)
        if months is not None:
            ends.setdefault(months, set()).add(f"{row.period_end:%Y-%m}")
    return max(ends[min(ends)]) if ends else None
