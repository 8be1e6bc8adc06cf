"""The Work and Health Programme in the packs: which ledger returns are the PRaP extracts, one view per contract
(packs.whp_view), and the views and their attention items added to the provider and national packs.

No return is named here: the referrals extract is the spec whose fields include ``referral_id`` and
``referral_date``, the starts and outcomes extract the one with ``participant_id`` and ``start_date`` (the field
ids agreed for issue 22). A contract's provider is the one its latest extract names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable

import pandas as pd

from ..spec.return_spec import load_all
from ..spec.whp_config import WhpConfig
from .pack_text import AttentionLine, PackData
from .whp_view import WhpContract, whp_contract

ROLES = {"referrals": ("referral_id", "referral_date"), "starts": ("participant_id", "start_date")}
Loader = Callable[[Any, str, str], pd.DataFrame]  # (ledger, return id, contract) -> the contract's rows


def extract_ids() -> dict[str, str]:
    """role ("referrals", "starts") -> the return id of the spec with that role's fields (none: left out)."""
    out: dict[str, str] = {}
    for rid, spec in sorted(load_all().items()):
        try:
            fields = set(spec.fields_by_id)
        except (AttributeError, TypeError):
            continue
        for role, needed in ROLES.items():
            if role not in out and set(needed) <= fields:
                out[role] = rid
    return out


def whp_views(ledger: Any, returns: Iterable[Any], period: str, config: WhpConfig, load: Loader, *,
              as_of: dt.date | None = None) -> list[WhpContract]:
    """One view per contract with an extract in ``returns`` (the ledger's current returns), by provider and contract."""
    ids = extract_ids()
    by_id = {rid: role for role, rid in ids.items()}
    owners: dict[str, str] = {}
    for r in returns:
        rid, contract = _get(r, "return_id"), _get(r, "contract")
        if rid in by_id and contract:
            owners[contract] = _get(r, "provider") or owners.get(contract, "")
    views = []
    for contract, provider in sorted(owners.items(), key=lambda cp: (cp[1].casefold(), cp[0])):
        frames = {role: load(ledger, rid, contract) for role, rid in ids.items()}
        views.append(whp_contract(provider, contract, period, frames.get("referrals"), frames.get("starts"), config,
                                  as_of=as_of))
    return views


def _get(row: Any, key: str) -> Any:
    if isinstance(row, dict):
        return row.get(key)
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return getattr(row, key, None)


def attach(packs: list[PackData], views: list[WhpContract]) -> None:
    """Add each view to its provider's pack (attention items merged, most urgent first) and every view to the
    national pack, whose summary of attention items is then brought up to date."""
    for pack in packs:
        if pack.is_national:
            pack.whp = list(views)
            continue
        mine = [v for v in views if v.provider == pack.provider]
        if not mine:
            continue
        pack.whp = mine
        pack.attention = sorted(pack.attention + [AttentionLine(v.contract, i) for v in mine for i in v.attention],
                                key=lambda a: a.item.severity)
    for pack in (p for p in packs if p.is_national):
        for row in pack.attention_summary:
            own = next((p for p in packs if not p.is_national and p.provider == row["provider"]), None)
            if own is None:
                continue
            sev = [a.item.severity for a in own.attention]
            row.update(high=sev.count(1), medium=sev.count(2), low=sev.count(3),
                       top=own.attention[0].item.fact if own.attention else "Nothing flagged.")
