"""Write performance packs (Excel and HTML) from the ledger: the library half of `kpd-returns pack`.

Outputs in ``out_dir`` (``<slug>`` from the provider's name):

* ``pack-<period>-<slug>.xlsx`` and ``.html`` for each provider;
* ``pack-<period>-national.xlsx`` and ``.html``, and ``publication-<quarter>.csv`` and ``.json``
  (KPIs 3-5 and the Social Value KPI per contract, rolling 12 months, for the latest quarter
  ending at or before the period: the Cabinet Office quarterly publication, AtW 7.17-7.19, and
  the Procurement Regulations 2024 reg. 39 contract performance notice) when every provider
  is packed (no provider selection).

Each file is written to a temporary name and then renamed, so a failed run never leaves
a half-written pack behind.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Callable

from ..intake.extract_store import load_extract_frame
from ..intake.ledger import Ledger
from ..intake.registry import load_registry
from ..intake.submissions import owed_span
from ..spec.constants import plausible_year, years_text
from ..spec.whp_config import WhpConfig, load_whp_config
from .kpis import month_index
from .publication import write_publication_csv, write_publication_json
from .pack_data import _source_line, build_packs, publication
from .pack_inputs import value_month
from .pack_excel import write_xlsx
from .pack_html import write_html
from .plan_review import review_spec
from .specs import kpi_spec, measure_specs, pack_specs
from .whp_pack import attach, selects, whp_providers, whp_sources, whp_views

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
FORMATS = ("xlsx", "html")


class PackUsageError(Exception):
    """An option is wrong or the ledger is missing: the message is one plain sentence."""


def _atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk: say which file could not be written, not its temporary name
        if exc.filename in (None, str(tmp), tmp):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _registry(register: Any):
    if register is None or not isinstance(register, (str, Path)):
        return register
    return load_registry(register)


def load_packs(ledger_path: str | Path, period: str, *, providers: Iterable[str] | None = None,
               marking: str = DEFAULT_MARKING, as_of: dt.date | None = None, register: Any = None, whp: Any = None):
    """Read the ledger and build the PackData list (providers, then national when ``providers`` is None).
    ``whp``: the WHP register (WhpConfig or its path; None: no levels, PMIR levels or samples recorded)."""
    try:
        month_index(period)
    except ValueError:
        raise PackUsageError(f"--period '{period}' is not a month: write it as 2026-10.") from None
    if not plausible_year(month_index(period) // 12):
        raise PackUsageError(f"--period '{period}' is outside the years a return can mean ({years_text()}): "
                             "write a month such as 2026-10.")
    if not Path(ledger_path).exists():
        raise PackUsageError(f"There is no ledger at {ledger_path}: run kpd-returns ingest first, or give --db.")
    as_of = as_of or dt.date.today()
    reg = _registry(register)
    with Ledger(ledger_path) as ledger:
        returns = ledger.current_returns()
        values = {spec.id: ledger.current_values(spec.id) for spec in [*pack_specs(), *filter(None, [review_spec()])]}
        rows = ledger.submissions_register(as_of=as_of, register=reg)
        contracts = sorted({r.contract for r in returns if r.contract} | {r.contract for r in rows if r.contract})
        findings = {c: ledger.finding_counts(contract=c) for c in contracts}
        starts, ends = contract_spans(ledger, reg)
        views = whp_views(ledger, returns, period, _whp_config(whp), load_extract_frame, as_of=as_of,
                          providers=whp_providers(reg))
    wanted = None if providers is None else list(providers)

    def build(chosen):
        return build_packs(returns=returns, values=values, period=period, as_of=as_of, marking=marking,
                           register=rows, findings=findings, providers=chosen, service_starts=starts,
                           service_ends=ends, profiles=contract_profiles(reg, values))
    try:
        packs = build(wanted)
    except ValueError:  # a provider asked for may hold WHP contracts only: the others are built, it is added below
        rest = [w for w in wanted or [] if not selects(w, views)]
        if wanted is None or len(rest) == len(wanted):
            raise
        packs = build(rest)
    packs = attach(packs, views, providers=wanted, period=period, as_of=as_of, marking=marking)
    whp_sources(packs, [_source_line(r) for r in returns], period)
    return packs


def _whp_config(whp: Any) -> WhpConfig:
    if whp is None:
        return WhpConfig()
    return whp if isinstance(whp, WhpConfig) else load_whp_config(whp)


def contract_profiles(reg: Any, values: dict[str, list[Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """return id -> contract key -> month -> the register's profiled figure for that month (``profile``
    column, JOBS II 6.10), for each return whose pack measures say ``target_from = "profile"``, over the
    months its values cover. A month's profile is the register's figure for the period labelled by that
    month (a monthly return's period); a contract the register gives no profile has none."""
    if reg is None:
        return {}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for spec in measure_specs():
        if not any(m.target_from == "profile" for m in spec.pack.measures):
            continue
        months = sorted({m for r in values.get(spec.id, ()) if (m := value_month(r))})
        out[spec.id] = {e.contract_key: {m: float(p) for m in months if (p := e.profiled(m)) is not None}
                        for e in reg.entries if spec.id in e.returns and e.profile is not None}
    return out


def contract_spans(ledger: Any, reg: Any) -> tuple[dict[str, str], dict[str, str]]:
    """contract -> first month owed and contract -> last month owed, for every contract of the return that
    gives the packs their contract list (packs.specs.kpi_spec) in the register or the ledger, decided by
    submissions.owed_span exactly as the submissions register does."""
    spec = kpi_spec()
    if spec is None:
        return {}, {}
    first_seen: dict[str, tuple] = {}
    for (rid, ck, period), files in ledger.group_files().items():
        end = files[0].period_end
        if rid == spec.id and end and (ck not in first_seen or end < first_seen[ck][0]):
            first_seen[ck] = (end, period)
    entries = {e.contract_key: e for e in reg.entries if spec.id in e.returns} if reg is not None else {}
    starts, ends = {}, {}
    for ck in sorted(set(first_seen) | set(entries)):
        span = owed_span(entries.get(ck), spec, first_seen[ck][1] if ck in first_seen else None, contract=ck)
        if span.first_month:
            starts[ck] = span.first_month
        if span.last_month:
            ends[ck] = span.last_month
    return starts, ends


def write_packs(ledger_path: str | Path, out_dir: str | Path, period: str, providers: Iterable[str] | None = None,
                formats: Sequence[str] = FORMATS, marking: str = DEFAULT_MARKING, as_of: dt.date | None = None,
                register: Any = None, whp: Any = None,
                on_problem: Callable[[str], None] | None = None) -> list[Path]:
    """Write the packs for ``period`` ("YYYY-MM") from the ledger; return the paths written, in order.

    A section that could not be drawn is said in its place in each pack and, once, to ``on_problem`` (default:
    a line on stderr); the other sections and packs are written as usual.

    ``providers``: names, contract references or slugs (None = every provider, plus the national
    overview and the publication files). ``register``: a providers register (Registry or its path); ``whp``: the
    WHP register (spec.whp_config: levels, PMIR levels, compliance samples; a WhpConfig or its path).
    Raises PackUsageError (bad period, no ledger), ValueError (unknown provider) or RegistryError."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise PackUsageError(f"--format '{','.join(formats)}' is not known: use xlsx, html or xlsx,html.")
    packs = load_packs(ledger_path, period, providers=providers, marking=marking, as_of=as_of, register=register,
                       whp=whp)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for pack in packs:
        stem = out / f"pack-{period}-{pack.slug}"
        if "xlsx" in formats:
            written.append(_atomic(stem.with_suffix(".xlsx"), lambda p, pk=pack: write_xlsx(pk, p)))
        if "html" in formats:
            written.append(_atomic(stem.with_suffix(".html"), lambda p, pk=pack: write_html(pk, p)))
    say = on_problem or (lambda text: print(text, file=sys.stderr, flush=True))
    for text in dict.fromkeys(s.failure for pack in packs for s in pack.sections if s.failure):
        say(text)
    if providers is None:
        quarter, rows = publication(packs, period)
        name = "publication-" + re.sub(r"[^0-9A-Za-z]+", "-", quarter).strip("-")
        written.append(_atomic(out / f"{name}.csv", lambda p: write_publication_csv(rows, p)))
        written.append(_atomic(out / f"{name}.json", lambda p: write_publication_json(rows, p)))
    return written


