"""The packs stage: the ledger in, Contract Performance Review packs out.

Takes the current returns from the ledger and the specs' pack sections; gives KPI
windows and tiers (``kpis``), measures and the attention list, and the Excel and HTML
packs a performance manager opens."""

from __future__ import annotations
