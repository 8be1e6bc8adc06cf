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

from ..spec.extract_spec import load_extracts
from ..spec.model import contract_key
from ..spec.whp_config import WhpConfig
from .pack_inputs import slugify
from .pack_text import AttentionLine, PackData
from .whp_view import WhpContract, whp_contract

ROLES = {"referrals": ("referral_id", "referral_date"), "starts": ("participant_id", "start_date")}
Loader = Callable[[Any, str, str], pd.DataFrame]  # (ledger, return id, contract) -> the contract's rows


def extract_ids() -> dict[str, str]:
    """role ("referrals", "starts") -> the return id of the spec with that role's fields (none: left out)."""
    out: dict[str, str] = {}
    for rid, spec in sorted(load_extracts().items()):
        fields = set(spec.by_id)
        for role, needed in ROLES.items():
            if role not in out and set(needed) <= fields:
                out[role] = rid
    return out


def whp_providers(register: Any) -> dict[str, str]:
    """contract key -> provider name, from the providers register (a PRaP extract names no provider)."""
    if register is None:
        return {}
    return {e.contract_key: e.provider for e in register.entries if e.provider}


def whp_views(ledger: Any, returns: Iterable[Any], period: str, config: WhpConfig, load: Loader, *,
              as_of: dt.date | None = None, providers: dict[str, str] | None = None) -> list[WhpContract]:
    """One view per contract with an extract in ``returns`` (the ledger's current returns), by provider and
    contract. The provider is the providers register's (``providers``: contract key -> name), else the one the
    extract's record names, else the contract reference itself."""
    ids = extract_ids()
    by_id = {rid: role for role, rid in ids.items()}
    owners: dict[str, str] = {}
    for r in returns:
        rid, contract = _get(r, "return_id"), _get(r, "contract")
        if rid in by_id and contract:
            owners[contract] = ((providers or {}).get(contract_key(contract)) or _get(r, "provider")
                                or owners.get(contract) or contract)
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


def selects(wanted: str, view: WhpContract | Iterable[WhpContract]) -> bool:
    """Whether a --provider value (a name, contract reference or slug) picks the view (or one of the views)."""
    if not isinstance(view, WhpContract):
        return any(selects(wanted, v) for v in view)
    key = wanted.strip().casefold()
    return key in (view.provider.casefold(), slugify(view.provider)) or contract_key(wanted) == contract_key(
        view.contract)


def attach(packs: list[PackData], views: list[WhpContract], *, providers: list[str] | None, period: str,
           as_of: dt.date, marking: str) -> list[PackData]:
    """Add each view to its provider's pack (attention items merged, most urgent first; a pack made for a
    provider with WHP contracts only) and every view to the national pack, whose summary of attention items is
    then brought up to date. ``providers``: the --provider selection (None: every provider)."""
    if providers is not None:
        views = [v for v in views if any(selects(w, v) for w in providers)]
    national = [p for p in packs if p.is_national]
    packs = [p for p in packs if not p.is_national]
    slugs = {p.slug for p in packs} | {"national"}
    for name in dict.fromkeys(v.provider for v in views):
        if not any(p.provider == name for p in packs):
            slug, n = slugify(name), 2
            while slug in slugs:
                slug, n = f"{slugify(name)}-{n}", n + 1
            slugs.add(slug)
            packs.append(PackData(name, slug, period, as_of, marking))
            for nat in national:
                nat.attention_summary.append({"provider": name, "high": 0, "medium": 0, "low": 0, "top": ""})
    packs.sort(key=lambda p: (p.provider.casefold(), p.provider))
    packs += national
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
        pack.attention_summary.sort(key=lambda r: (str(r["provider"]).casefold(), str(r["provider"])))
    return packs


def whp_sources(packs: list[PackData], lines: list[dict], period: str) -> None:
    """Add the extracts each pack's WHP figures came from (source lines of the ledger's current returns, up to
    the report month) to its Data sources, with the provider the pack gives the contract."""
    ids = set(extract_ids().values())
    for pack in packs:
        owner = {contract_key(v.contract): v.provider for v in pack.whp}
        # A ledger that recorded the extract's provider has put it there already (the national pack lists all).
        have = {(x["return_id"], contract_key(x["contract"]), str(x["period"]), x["name"]) for x in pack.sources}
        extra = [dict(line, provider=owner[ck]) for line in lines if line["return_id"] in ids
                 and (ck := contract_key(line["contract"])) in owner and str(line["period"]) <= period
                 and (line["return_id"], ck, str(line["period"]), line["name"]) not in have]
        pack.sources += sorted(extra, key=lambda x: (x["return_id"], contract_key(x["contract"]), str(x["period"])))
