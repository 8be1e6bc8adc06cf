"""Which returns make a pack, read from their specs: a return whose spec has a ``[pack]`` section
(spec/pack_spec.py) has a section in the packs, in ``order``; the one with ``[pack.kpis]`` gives the
packs their contract list (the KPI engine's contracts). No return is named here."""

from __future__ import annotations

from ..spec.kpi_config import kpi_spec  # noqa: F401  (re-exported: the packs import it here)
from ..spec.pack_spec import PackSpec
from ..spec.return_spec import ReturnSpec, load_all


def pack_specs() -> list[ReturnSpec]:
    """Every return with a pack section, in section order."""
    return sorted((s for s in load_all().values() if s.pack is not None), key=lambda s: (s.pack.order, s.id))


def measure_specs() -> list[ReturnSpec]:
    """The returns whose [[pack.measures]] the measures engine computes, in section order."""
    return [s for s in pack_specs() if s.pack.measures]


def section_of(return_id: str) -> PackSpec | None:
    spec = load_all().get(return_id)
    return spec.pack if spec is not None else None


def year_start_of(return_id: str) -> int:
    """The first month of the return's contract year (its ``[period] year_start_month``)."""
    spec = load_all().get(return_id)
    return spec.period.year_start_month if spec is not None else 4
