"""The areas an Action Plan is pre-filled with: each contract's items on the attention list of the performance
pack for the plan's month (WHP ch.16 9: the plan "must fully address all concerns"), read from the ledger.

The plan is the return whose spec has ``[pack_review]`` (packs/plan_review.py); its ``area`` field is the
column filled in, one attention item's subject per row, in the attention list's order (most urgent first),
so the next pack's review matches each item to the row that answers it. The pack data are built with
``packs.build.load_packs`` (the same list the pack prints; no pack file is written)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..intake.registry import Registry
from ..packs.build import load_packs
from ..spec.model import contract_key
from ..spec.return_spec import ReturnSpec


def attention_areas(ledger_path: Path, period: str, as_of: dt.date, register: Registry | None) -> dict[str, list[str]]:
    """contract key -> the subjects of its items on the attention list of the pack for ``period``, most urgent
    first, each once. Raises packs.build.PackUsageError (no ledger, a bad month) as `kpd-returns pack` does."""
    out: dict[str, list[str]] = {}
    for pack in load_packs(ledger_path, period, as_of=as_of, register=register):
        if pack.is_national:
            continue
        for line in pack.attention:
            subjects = out.setdefault(contract_key(line.contract) or "", [])
            if line.item.subject not in subjects:
                subjects.append(line.item.subject)
    return out


def area_cells(spec: ReturnSpec, areas: list[str]) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """(field id, row key) -> area for the plan's list rows, and the areas left over when the list is full."""
    review = spec.pack_review
    if review is None:
        return {}, []
    keys = [rk.key for rk in spec.sheet(review.list_sheet).row_keys]
    return {(review.area, k): a for k, a in zip(keys, areas)}, areas[len(keys):]
