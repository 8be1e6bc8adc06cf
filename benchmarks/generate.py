"""Generate N realistic, distinct returns for the benchmark, quickly.

    python benchmarks/generate.py N OUT_DIR

How:
1. A handful of *base* returns are built with the project's own code
   (``kpd_returns.author.samples``: the real template filled by defined name, saved by
   openpyxl): KPD for the four sample providers and quarters Q1/Q2 of 2026-27,
   MMIR for the four providers and the sample months (April-October 2026).
   openpyxl saves formulas without their results, which a file saved by Excel
   always has, so each base's formula cells are given their cached results
   (computed from the inputs, as Excel would) to look like a provider's file.
   Bases are cached on disk (keyed on the project's sample/template code and
   specs), so only the first run pays for them (about 0.5 s each).
2. Each of the N files is derived from a base at the zip/XML level
   (``xlsxpatch``: about 1 ms a file): its own provider name, contract (CPA or
   contract reference), period (year shifted back where needed, with every date
   in the file shifted alike), date submitted and MI contact text, so no two
   files have the same content or the same (provider, contract, period). Figures
   are left as the samples made them, so returns of the same contract in
   consecutive periods stay consistent (year to date, restated months) and the
   ledger's cross-return checks find nothing in the clean files.
3. One file in eight (12.5%) gets one typical mistake, recorded in the manifest:
   a number typed over a total formula, text in a number cell, a negative count,
   a figure in a month after the period, an empty required cell, a breakdown that
   does not add up, or a National Insurance number in free text.

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

GENERATOR_VERSION = "4"
KPD_SHARE = (0, 2)  # file i is a KPD return when i % 5 is one of these: 40% KPD, 60% MMIR
MISTAKE_EVERY = 8  # one file in eight has a mistake
N_PROVIDERS = 20
CONTRACTS_PER_PROVIDER = 5

# Four providers come from kpd_returns.author.samples; the rest are invented here. Each
# generated provider borrows the figures of sample provider (index % 4).
EXTRA_PROVIDER_NAMES = [
    "Ashdown Pathways Ltd", "Beacon Employment Services CIC", "Castlegate Careers Ltd", "Dovetail Work and Health Ltd",
    "Eastmoor Opportunities Ltd", "Fernlea Support Partnership", "Glenfield Employability CIC", "Highcross Futures Ltd",
    "Ironbridge Work Solutions Ltd", "Juniper Health and Work CIC", "Kestrel Employment Partnership",
    "Larkspur Skills Ltd", "Millbrook Pathways CIC", "Netherby Work Options Ltd", "Oakhurst Employment Support Ltd",
    "Primrose Vale Partnership CIC",
]
MMIR_BASE_MONTHS = list(range(10, 3, -1))  # October .. April 2026, newest first


@dataclass
class FilePlan:
    index: int
    return_id: str
    provider_index: int
    provider: str
    contract: str
    year_back: int  # contract years before 2026-27 (KPD) or calendar years before 2026 (MMIR)
    quarter: str | None  # KPD
    month: int | None  # MMIR, calendar month
    period: str = ""
    mistake: str | None = None
    expected_code: str | None = None
    file: str = ""


# ------------------------------------------------------------------ planning


def provider_names() -> list[str]:
    from kpd_returns.author import samples

    return [p.name for p in samples.PROVIDERS] + EXTRA_PROVIDER_NAMES[: N_PROVIDERS - len(samples.PROVIDERS)]


def _kpd_keys():
    year_back = 0
    while True:
        for quarter in ("Q2", "Q1"):
            for c in range(CONTRACTS_PER_PROVIDER):
                for j in range(N_PROVIDERS):
                    yield j, f"CPA {j * CONTRACTS_PER_PROVIDER + c + 1:02d}", year_back, quarter
        year_back += 1


def _mmir_keys():
    year_back = 0
    while True:
        for month in MMIR_BASE_MONTHS:
            for c in range(CONTRACTS_PER_PROVIDER):
                for j in range(N_PROVIDERS):
                    yield j, f"AtW-MHSS-C{j * CONTRACTS_PER_PROVIDER + c + 1:03d}", year_back, month
        year_back += 1


KPD_MISTAKES = [("typed-over-total", "total-mismatch"), ("text-in-number", "not-a-number"),
                ("negative-count", "below-minimum"), ("month-after-period", "month-after-period"),
                ("required-missing", "required-missing")]
MMIR_MISTAKES = [("negative-count", "below-minimum"), ("text-in-number", "not-a-number"),
                 ("breakdown-mismatch", "breakdown-mismatch"), ("required-missing", "required-missing"),
                 ("personal-data", "personal-data")]


def plan(n: int) -> list[FilePlan]:
    names = provider_names()
    kpd, mmir = _kpd_keys(), _mmir_keys()
    plans = []
    n_mistakes = 0
    for i in range(n):
        if i % 5 in KPD_SHARE:
            j, contract, back, quarter = next(kpd)
            year = 2026 - back
            p = FilePlan(i, "kpd", j, names[j], contract, back, quarter, None, f"{year}-{(year + 1) % 100:02d} {quarter}")
        else:
            j, contract, back, month = next(mmir)
            p = FilePlan(i, "mmir", j, names[j], contract, back, None, month, f"{2026 - back}-{month:02d}")
        if i % MISTAKE_EVERY == MISTAKE_EVERY // 2:
            choices = KPD_MISTAKES if p.return_id == "kpd" else MMIR_MISTAKES
            p.mistake, p.expected_code = choices[n_mistakes % len(choices)]
            n_mistakes += 1
        slug = "".join(ch if ch.isalnum() else "-" for ch in f"{p.contract}-{p.period}").lower()
        p.file = f"{i:05d}-{p.return_id}-{slug}.xlsx"
        plans.append(p)
    return plans


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

    kind, pi, what = key
    who = samples.PROVIDERS[pi]
    if kind == "kpd":
        wb = samples.sample_workbook(get_spec("kpd"), who, who.contracts_for("kpd")[0], f"2026-27 {what}")
    else:
        wb = samples.sample_workbook(get_spec("mmir"), who, who.contracts_for("mmir")[0], f"2026-{what:02d}")
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
        """(field, key) -> Formula(text, Excel's result) for every computed cell."""
        out = {}
        for (fid, key), formula in self.formulas.items():
            field = self.spec.field(fid)
            if field.computed is None:
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

    def derive(self, edits: dict[tuple[str, str], Any], typed_over: set[tuple[str, str]] = frozenset()) -> bytes:
        values = dict(self.values)
        values.update(edits)
        totals = {k: v for k, v in self.cached_totals(values).items()
                  if k not in typed_over and (k in edits or any((p, k[1]) in edits for p in self.spec.field(k[0]).computed.of))}
        return self.book.derive(self._by_sheet({**edits, **totals}))


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


def variant_edits(p: FilePlan, base: Base) -> tuple[dict[tuple[str, str], Any], set]:
    from kpd_returns.author import sample_calendar

    spec = base.spec
    v = base.values
    edits: dict[tuple[str, str], Any] = {(spec.header.provider, ""): p.provider, (spec.header.contract, ""): p.contract}
    typed_over: set = set()
    # The distinct value of every file: the MI contact names the return's own number (a figure
    # would do too, but the ledger's cross-return checks compare figures between periods).
    edits[("contact", "")] = f"Performance and MI team, return {p.index + 1}"
    if p.return_id == "kpd":
        year = 2026 - p.year_back
        edits[("contract_year", "")] = f"{year}-{(year + 1) % 100:02d}"
        end_month = 3 + 3 * int(p.quarter[1])
        edits[("date_submitted", "")] = sample_calendar.nth_working_day(year, end_month + 1, 2)
        months = spec.column_sets["months"].keys
        in_period = months[: 3 * int(p.quarter[1])]
        first, last = in_period[0], in_period[-1]
        m = p.mistake
        if m == "typed-over-total":
            parts = [v[(f, first)] for f in spec.field("fte_total").computed.of]
            edits[("fte_total", first)] = round(sum(parts) + 10, 2)
            typed_over.add(("fte_total", first))
        elif m == "text-in-number":
            edits[("staff_central", last)] = f"{round(float(v[('staff_central', last)]))} FTE"
        elif m == "negative-count":
            edits[("caseload_in_work", first)] = -int(v[("caseload_in_work", first)])
        elif m == "month-after-period":
            edits[("staff_senior", months[len(in_period)])] = 4.5
        elif m == "required-missing":
            # The contract: still an error (it says whose return it is, spec.basis HEADER); an empty Contact
            # is a query since issue 20, which would make this mistake file valid with a warning.
            edits[(spec.header.contract, "")] = None
    else:
        year = 2026 - p.year_back
        edits[("reporting_month", "")] = dt.date(year, p.month, 1)
        ny, nm = (year + 1, 1) if p.month == 12 else (year, p.month + 1)
        edits[("date_submitted", "")] = sample_calendar.nth_working_day(ny, nm, 2)
        if p.year_back:
            for (fid, key), raw in v.items():
                if key and spec.field(fid).type == "date":
                    d = _as_date(raw)
                    if d is not None:
                        edits[(fid, key)] = _shift_years(d, p.year_back)
        # A month before a referral cohort's first referrals has no cases of that cohort (AtW 7.16;
        # the validator's cohort_not_before_start): a file shifted back empties those rows.
        from kpd_returns.checks.period import cohort_rows

        for r in (r for r in spec.rules if r.kind == "cohort_not_before_start"):
            for key, _cohort, first in cohort_rows(spec.sheet(r.params["sheet"]).row_keys, r.params["cohorts"]):
                if f"{year}-{p.month:02d}" < first:
                    edits.update({(fid, key): 0 for fid in r.params["fields"]})
        m = p.mistake
        if m == "negative-count":
            edits[("sustainment_required", "in_month")] = -int(v[("sustainment_required", "in_month")])
        elif m == "text-in-number":
            edits[("complaints", "year_to_date")] = "n/a"
        elif m == "breakdown-mismatch":
            edits[("heard_other", "in_month")] = int(v[("heard_other", "in_month")]) + 3
        elif m == "required-missing":
            edits[(spec.header.contract, "")] = None  # an error; an empty Contact is a query (issue 20)
        elif m == "personal-data":
            edits[("rework_reason", "row1")] = "Support Plan for QQ123456C did not record the agreed adjustments."
    return edits, typed_over


def generate(n: int, out_dir: str | Path, log=print) -> list[dict]:
    """Write n returns to out_dir/inbox and the manifest to out_dir/manifest.json."""
    from kpd_returns.spec.return_spec import get_spec

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    inbox = out_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    plans = plan(n)
    specs = {"kpd": get_spec("kpd"), "mmir": get_spec("mmir")}

    def base_key(p: FilePlan) -> tuple:
        return ("kpd", p.provider_index % 4, p.quarter) if p.return_id == "kpd" else ("mmir", p.provider_index % 4, p.month)

    keys = sorted({base_key(p) for p in plans}, key=str)
    raw = base_bytes(keys, log=log)
    cache = _cache_dir()
    bases = {k: Base(raw[k], specs[k[0]], cache / ("-".join(str(x) for x in k) + ".base.pickle")) for k in keys}
    for p in plans:
        base = bases[base_key(p)]
        edits, typed_over = variant_edits(p, base)
        (inbox / p.file).write_bytes(base.derive(edits, typed_over))
    manifest = [asdict(p) for p in plans]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    log(f"generated {n} returns in {inbox} in {time.perf_counter() - t0:.1f} s "
        f"({sum(1 for p in plans if p.return_id == 'kpd')} KPD, {sum(1 for p in plans if p.return_id == 'mmir')} MMIR, "
        f"{sum(1 for p in plans if p.mistake)} with a mistake)")
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
