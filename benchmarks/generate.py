"""Generate N realistic, distinct returns for the benchmark, quickly.

    python benchmarks/generate.py N OUT_DIR

How:
1. Every return type with a sample profile (``[samples]`` in validators/*.toml) is in the inbox,
   in the share a season brings: the returns a contract sends a year (by the spec's period kind)
   times the contracts that send that type in validators/samples.toml. Nothing here names a type:
   a new spec with a profile joins without a change to this file.
2. A handful of *base* returns are built with the project's own code
   (``kpd_returns.author.samples``: the real template filled by defined name, saved by
   openpyxl), one for each sample provider of a type and each of its sample periods.
   openpyxl saves formulas without their results, which a file saved by Excel
   always has, so each base's sum and ratio cells are given their cached results
   (computed from the inputs, as Excel would) to look like a provider's file.
   Bases are cached on disk (keyed on the project's sample/template code and
   specs), so only the first run pays for them (about 0.5 s each).
3. Each of the N files is derived from a base at the zip/XML level
   (``xlsxpatch``: about 1 ms a file): its own provider name, contract (the sample
   contract reference renumbered), period (whole years back where needed, with every date
   in the file shifted alike), date submitted and MI contact text, so no two
   files have the same content or the same (provider, contract, period). Figures
   are left as the samples made them, so returns of the same contract in
   consecutive periods stay consistent (year to date, restated months) and the
   ledger's cross-return checks find nothing in the clean files.
4. One file in eight (12.5%) gets one typical mistake from its type's own profile
   (``[[samples.mistakes]]``, those at a cell and not about the period or the date
   submitted), worked out from that file's own figures; the manifest records it.

Files go to OUT_DIR/inbox/; OUT_DIR/manifest.json lists each file with its
return type, provider, contract, period and the injected mistake (or null).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import hashlib
import json
import os
import pickle
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from xlsxpatch import Book, Formula  # noqa: E402

GENERATOR_VERSION = "5"
MISTAKE_EVERY = 8  # one file in eight has a mistake
N_PROVIDERS = 20
CONTRACTS_PER_PROVIDER = 5
RETURNS_A_YEAR = {"month": 12, "contract_quarter": 4, "contract_year": 1}  # by the spec's period kind

# Four providers come from kpd_returns.author.samples; the rest are invented here. Each
# generated provider borrows the figures of a sample provider that sends that return type.
EXTRA_PROVIDER_NAMES = [
    "Ashdown Pathways Ltd", "Beacon Employment Services CIC", "Castlegate Careers Ltd", "Dovetail Work and Health Ltd",
    "Eastmoor Opportunities Ltd", "Fernlea Support Partnership", "Glenfield Employability CIC", "Highcross Futures Ltd",
    "Ironbridge Work Solutions Ltd", "Juniper Health and Work CIC", "Kestrel Employment Partnership",
    "Larkspur Skills Ltd", "Millbrook Pathways CIC", "Netherby Work Options Ltd", "Oakhurst Employment Support Ltd",
    "Primrose Vale Partnership CIC",
]


@dataclass
class FilePlan:
    index: int
    return_id: str
    provider_index: int
    provider: str
    contract: str
    year_back: int  # years before the sample period
    base_provider: int  # the sample provider (index in samples.PROVIDERS) whose figures it borrows
    base_period: str  # the sample period it is shifted from
    period: str = ""
    mistake: str | None = None
    expected_code: str | None = None
    file: str = ""


# ------------------------------------------------------------------ planning


def sample_specs() -> list:
    """Every return type with a sample profile (validators/*.toml [samples]), by return id."""
    from kpd_returns.author import samples

    return samples.sample_specs()


def provider_names() -> list[str]:
    from kpd_returns.author import samples

    return [p.name for p in samples.PROVIDERS] + EXTRA_PROVIDER_NAMES[: N_PROVIDERS - len(samples.PROVIDERS)]


def season_weights(specs) -> dict[str, int]:
    """How many returns of each type a season brings: the returns a contract sends a year (by the
    period kind) times the contracts that send that type in the samples' world."""
    from kpd_returns.author import samples

    return {s.id: RETURNS_A_YEAR.get(s.period.kind, 1) * sum(len(p.contracts_for(s.id)) for p in samples.PROVIDERS)
            for s in specs}


def type_sequence(weights: dict[str, int], n: int) -> list[str]:
    """n return ids in the weights' proportions, spread evenly (smooth weighted round robin)."""
    total = sum(weights.values())
    current = dict.fromkeys(weights, 0)
    out = []
    for _ in range(n):
        for rid, w in weights.items():
            current[rid] += w
        pick = max(sorted(current), key=current.__getitem__)
        current[pick] -= total
        out.append(pick)
    return out


def _numbered(contract: str, n: int) -> str:
    """A sample contract reference renumbered: 'CPA 07' -> 'CPA 23', 'AtW-MHSS-C014' -> 'AtW-MHSS-C023'."""
    m = re.search(r"\d+$", contract)
    return f"{contract[:m.start()]}{n:0{len(m.group())}d}" if m else f"{contract}-{n:03d}"


def _keys(spec):
    """(provider index, sample provider index, contract, years back, sample period), newest first."""
    from kpd_returns.author import samples

    senders = [i for i, p in enumerate(samples.PROVIDERS) if p.contracts_for(spec.id)]
    periods = sorted(spec.samples["periods"], reverse=True)
    year_back = 0
    while True:
        for period in periods:
            for c in range(CONTRACTS_PER_PROVIDER):
                for j in range(N_PROVIDERS):
                    base = senders[j % len(senders)]
                    contract = _numbered(samples.PROVIDERS[base].contracts_for(spec.id)[0],
                                         j * CONTRACTS_PER_PROVIDER + c + 1)
                    yield j, base, contract, year_back, period
        year_back += 1


def plan(n: int, specs=None) -> list[FilePlan]:
    specs = sample_specs() if specs is None else specs
    by_id = {s.id: s for s in specs}
    names = provider_names()
    keys = {s.id: _keys(s) for s in specs}
    mistakes_made: dict[str, int] = dict.fromkeys(by_id, 0)
    plans = []
    for i, rid in enumerate(type_sequence(season_weights(specs), n)):
        j, base, contract, back, period = next(keys[rid])
        p = FilePlan(i, rid, j, names[j], contract, back, base, period)
        p.period = shifted_period(by_id[rid], period, back)
        if i % MISTAKE_EVERY == MISTAKE_EVERY // 2:
            usable = usable_mistakes(by_id[rid])
            if usable:
                m = usable[mistakes_made[rid] % len(usable)]
                p.mistake, p.expected_code = m["file"].removesuffix(".xlsx"), m["code"]
                mistakes_made[rid] += 1
        slug = "".join(ch if ch.isalnum() else "-" for ch in f"{p.contract}-{p.period}").lower()
        p.file = f"{i:05d}-{p.return_id}-{slug}.xlsx"
        plans.append(p)
    return plans


def shifted_period(spec, period: str, years: int) -> str:
    """A sample period label moved ``years`` back: '2026-08' -> '2024-08', '2026-27 Q2' -> '2025-26 Q2'."""
    if not years:
        return period
    return re.sub(r"^(\d{4})(-\d{2})?", lambda m: _back(m, years), period)


def _back(m: re.Match, years: int) -> str:
    y = int(m.group(1)) - years
    if m.group(2) and spec_year_like(m.group(0)):
        return f"{y}-{(y + 1) % 100:02d}"
    return f"{y}{m.group(2) or ''}"


def spec_year_like(text: str) -> bool:
    """'2026-27' is a contract year (the second part is the next year's last two digits)."""
    return int(text[5:7]) == (int(text[:4]) + 1) % 100


def usable_mistakes(spec) -> list[dict]:
    """The profile's mistakes (samples.mistakes) that a derived file can carry: at a cell, and not
    about the period or the date submitted, which every derived file sets for itself."""
    period_fields = {spec.period.month_field, spec.period.year_field, spec.period.quarter_field,
                     spec.header.submitted} - {None}
    return [m for m in spec.samples.get("mistakes", [])
            if m.get("at_cell", True) and (m.get("field") or m.get("meta")) and m.get("field") not in period_fields]


# ------------------------------------------------------------------ bases


def _cache_dir() -> Path:
    # Every module of the stages that shape a return's bytes: the spec and the authoring code.
    sources = sorted((ROOT / "kpd_returns" / "spec").glob("*.py")) + sorted((ROOT / "kpd_returns" / "author").glob("*.py"))
    sources += sorted((ROOT / "validators").glob("*.toml"))
    h = hashlib.sha256(GENERATOR_VERSION.encode())
    for path in sources:
        if path.exists():
            h.update(path.name.encode() + path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kpd-returns-bench"
    return base / h.hexdigest()[:16]


def _build_base(key: tuple) -> tuple[tuple, bytes]:
    """Build one base with kpd_returns.author.samples (runs in a worker process)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from kpd_returns.author import samples
    from kpd_returns.spec.return_spec import get_spec

    rid, pi, period = key
    who = samples.PROVIDERS[pi]
    wb = samples.sample_workbook(get_spec(rid), who, who.contracts_for(rid)[0], period)
    return key, samples.save_reproducibly(wb)


def base_bytes(keys: list[tuple], log=print) -> dict[tuple, bytes]:
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[tuple, bytes] = {}
    missing = []
    for key in keys:
        path = cache / ("-".join(str(k) for k in key) + ".xlsx")
        if path.exists():
            out[key] = path.read_bytes()
        else:
            missing.append(key)
    if missing:
        t0 = time.perf_counter()
        workers = min(len(missing), os.cpu_count() or 1)
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                built = list(pool.map(_build_base, missing))
        else:
            built = [_build_base(k) for k in missing]
        for key, data in built:
            out[key] = data
            path = cache / ("-".join(str(k) for k in key) + ".xlsx")
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        log(f"built {len(missing)} base returns with kpd_returns.author.samples in {time.perf_counter() - t0:.1f} s "
            f"(cached in {cache})")
    return out


class Base:
    """A base return: its bytes as a patchable Book plus its cell values by (field, key)."""

    def __init__(self, data: bytes, spec, cache_file: Path | None = None):
        from kpd_returns.spec import layout

        self.spec = spec
        self.slots = layout.slot_index(spec)
        if cache_file is not None and cache_file.exists():
            cached = pickle.loads(cache_file.read_bytes())
            self.values, self.formulas = cached["values"], cached["formulas"]
            self.book = Book(cached["book"])
            return
        from kpd_returns.checks.batch import prepare

        ex = prepare(data, name="base", specs={spec.id: spec})
        if ex.check is None:
            raise RuntimeError(f"a base {spec.id} return does not read cleanly: {ex.findings}")
        cells = ex.check.data.cells
        self.values = {k: loc.raw for k, loc in cells.items()}
        self.formulas = {k: loc.formula for k, loc in cells.items() if loc.formula}
        self.book = Book(data)
        # Give formula cells the cached results Excel would have saved.
        edits = self.cached_totals(self.values)
        if edits:
            self.book = self.book.edited(self._by_sheet(edits))
        if cache_file is not None:
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps({"values": self.values, "formulas": self.formulas, "book": self.book.data}))
            tmp.replace(cache_file)

    def _by_sheet(self, edits: dict[tuple[str, str], Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key, value in edits.items():
            slot = self.slots[key]
            out.setdefault(slot.sheet, {})[slot.cell] = value
        return out

    def cached_totals(self, values: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
        """(field, key) -> Formula(text, Excel's result) for every computed cell of a sum or a ratio of
        cells in its row or column (other computed cells keep the formula as openpyxl saved it)."""
        out = {}
        for (fid, key), formula in self.formulas.items():
            field = self.spec.field(fid)
            if field.computed is None or field.computed.op not in ("sum", "ratio") or not _parts(field):
                continue
            parts = [values.get((p, key)) for p in field.computed.of]
            if field.computed.op == "sum":  # SUM skips text and blanks
                result: Any = sum(x for x in parts if isinstance(x, (int, float)) and not isinstance(x, bool))
            else:
                num, den = parts
                if den in (None, "") or den == 0:
                    result = ""
                elif isinstance(den, str) or isinstance(num, str):
                    result = "#VALUE!"
                else:
                    result = (num or 0) / den
            out[(fid, key)] = Formula(formula, result)
        return out

    def derive(self, edits: dict[tuple[str, str], Any], typed_over: set[tuple[str, str]] = frozenset(),
               cells: dict[tuple[str, str], Any] | None = None) -> bytes:
        """The bytes of a variant: ``edits`` by (field, key); ``cells`` by (sheet, cell) for cells that
        are no field's (the hidden metadata sheet)."""
        values = dict(self.values)
        values.update(edits)
        totals = {k: v for k, v in self.cached_totals(values).items()
                  if k not in typed_over and (k in edits or any((p, k[1]) in edits for p in _parts(self.spec.field(k[0]))))}
        by_sheet = self._by_sheet({**edits, **totals})
        for (sheet, cell), value in (cells or {}).items():
            by_sheet.setdefault(sheet, {})[cell] = value
        return self.book.derive(by_sheet)


def _parts(field) -> tuple[str, ...]:
    return tuple(getattr(field.computed, "of", None) or ())


# ------------------------------------------------------------------ variants


def _shift_years(d: dt.date, years: int) -> dt.date:
    y = d.year - years
    return d.replace(year=y, day=min(d.day, calendar.monthrange(y, d.month)[1]))


def _as_date(raw: Any) -> dt.date | None:
    from kpd_returns.read.workbook import excel_date

    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return excel_date(raw)
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    return None


def variant_edits(p: FilePlan, base: Base) -> tuple[dict[tuple[str, str], Any], set, dict]:
    """The edits that make file ``p`` from its base: (field edits, typed-over totals, other cells)."""
    from kpd_returns.author import sample_calendar
    from kpd_returns.spec.periods import contract_year_label, parse_contract_year

    spec, v = base.spec, base.values
    head, per = spec.header, spec.period
    edits: dict[tuple[str, str], Any] = {(head.provider, ""): p.provider, (head.contract, ""): p.contract}
    # The distinct value of every file: the MI contact names the return's own number (a figure
    # would do too, but the ledger's cross-return checks compare figures between periods).
    if head.contact:
        edits[(head.contact, "")] = f"Performance and MI team, return {p.index + 1}"
    if p.year_back:  # every date moves back with the period
        for (fid, key), raw in v.items():
            if spec.field(fid).type == "date":
                d = _as_date(raw)
                if d is not None:
                    edits[(fid, key)] = _shift_years(d, p.year_back)
        if per.year_field and (year := parse_contract_year(v.get((per.year_field, "")))) is not None:
            edits[(per.year_field, "")] = contract_year_label(year - p.year_back)
    header = {k: edits.get((f, ""), v.get((f, ""))) for k, f in
              (("month", per.month_field), ("year", per.year_field), ("quarter", per.quarter_field)) if f}
    if "month" in header:
        header["month"] = _as_date(header["month"])
    period = per.from_header(**header)
    if period is None or period[0] != p.period:
        raise RuntimeError(f"{p.file}: the derived header says period {period and period[0]}, the plan {p.period}")
    _label, start, end = period
    if head.submitted:  # the 2nd working day of the month after the period: on time
        ny, nm = (end.year + 1, 1) if end.month == 12 else (end.year, end.month + 1)
        edits[(head.submitted, "")] = sample_calendar.nth_working_day(ny, nm, 2)
    # A month before a referral cohort's first referrals has no cases of that cohort (AtW 7.16;
    # the validator's cohort_not_before_start): a file shifted back empties those rows.
    cohort_rows = _cohort_rows()
    for r in (r for r in spec.rules if r.kind == "cohort_not_before_start"):
        for key, _cohort, first in cohort_rows(spec.sheet(r.params["sheet"]).row_keys, r.params["cohorts"]):
            if start.strftime("%Y-%m") < first:
                edits.update({(fid, key): 0 for fid in r.params["fields"]})
    typed_over: set = set()
    cells: dict[tuple[str, str], Any] = {}
    if p.mistake:
        m_edits, typed_over, cells = mistake_edits(base, p)
        edits.update(m_edits)
    return edits, typed_over, cells


def _cohort_rows():
    """The checks' own cohort rows (the ``cohort_not_before_start`` kind's module)."""
    from kpd_returns.checks.rules.cohort_not_before_start import cohort_rows

    return cohort_rows


# ------------------------------------------------------------------ mistakes from the profiles


class _Recorder:
    """Stands in for the openpyxl workbook a profile's mistake builds: records what it would set."""

    def __init__(self, edit, prefill: dict[str, Any]):
        self.values: dict[str, dict[str, Any]] = {}
        self.prefill = prefill
        self.cells: dict[tuple[str, str], Any] = {}
        if edit is not None:
            edit(self.values)

    def __getitem__(self, sheet: str) -> "_Sheet":
        return _Sheet(self, sheet)


class _Sheet:
    def __init__(self, rec: _Recorder, name: str):
        self.rec, self.name = rec, name

    def __getitem__(self, ref: str) -> "_Cell":
        return _Cell(self.rec, self.name, ref)

    def cell(self, row: int, column: int) -> "_Cell":
        from kpd_returns.spec.layout import a1

        return _Cell(self.rec, self.name, a1(row, column))


class _Cell:
    def __init__(self, rec: _Recorder, sheet: str, ref: str):
        self.__dict__.update(rec=rec, key=(sheet, ref))

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "value":
            raise AttributeError(name)
        self.rec.cells[self.key] = value


_MISTAKES: dict[tuple, dict[str, Any]] = {}


def mistake_edits(base: Base, p: FilePlan) -> tuple[dict[tuple[str, str], Any], set, dict]:
    """The profile's mistake ``p.mistake`` made in this base's figures, as edits."""
    from kpd_returns.author import samples
    from kpd_returns.author.sample_mistakes import profile_mistakes

    spec = base.spec
    key = (spec.id, p.base_provider, p.base_period)
    if key not in _MISTAKES:
        who = samples.PROVIDERS[p.base_provider]
        values = samples.sample_values(spec, who, who.contracts_for(spec.id)[0], p.base_period)
        # Each mistake's value is worked out from this base's own figures ("clean + 2" of this cell).
        made = profile_mistakes(spec, samples.PROVIDERS, lambda *_a: _copy(values),
                                lambda _s, _w, _c, _p, edit=None, **prefill: _Recorder(edit, prefill),
                                lambda *_a: "base")
        _MISTAKES[key] = {m.name.removesuffix(".xlsx"): m for m in made}
    rec = _MISTAKES[key][p.mistake].build()
    edits = {(fid, k): value for fid, by_key in rec.values.items() for k, value in by_key.items()}
    head = {"provider": spec.header.provider, "contract": spec.header.contract}
    edits.update({(head[name], ""): value for name, value in rec.prefill.items()})
    at = {(slot.sheet, slot.cell): k for k, slot in base.slots.items()}
    typed_over = {at[c] for c in rec.cells if c in at}
    edits.update({at[c]: value for c, value in rec.cells.items() if c in at})
    return edits, typed_over, {c: value for c, value in rec.cells.items() if c not in at}


def _copy(values: dict) -> dict:
    return {f: dict(by_key) for f, by_key in values.items()}


def generate(n: int, out_dir: str | Path, log=print) -> list[dict]:
    """Write n returns to out_dir/inbox and the manifest to out_dir/manifest.json."""
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    inbox = out_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    specs = {s.id: s for s in sample_specs()}
    plans = plan(n, list(specs.values()))

    def base_key(p: FilePlan) -> tuple:
        return (p.return_id, p.base_provider, p.base_period)

    keys = sorted({base_key(p) for p in plans}, key=str)
    raw = base_bytes(keys, log=log)
    cache = _cache_dir()
    bases = {k: Base(raw[k], specs[k[0]], cache / ("-".join(str(x) for x in k) + ".base.pickle")) for k in keys}
    for p in plans:
        base = bases[base_key(p)]
        edits, typed_over, cells = variant_edits(p, base)
        (inbox / p.file).write_bytes(base.derive(edits, typed_over, cells))
    manifest = [asdict(p) for p in plans]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    mix = ", ".join(f"{sum(1 for p in plans if p.return_id == rid)} {rid}" for rid in specs)
    log(f"generated {n} returns in {inbox} in {time.perf_counter() - t0:.1f} s "
        f"({mix}; {sum(1 for p in plans if p.mistake)} with a mistake)")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out_dir")
    args = ap.parse_args(argv)
    generate(args.n, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
