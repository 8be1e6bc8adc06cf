"""The WHP extract step of the benchmark (issue 22, "Scale"): a contract's life of PRaP data.

    python benchmarks/run.py --whp-rows 1000000 [--json out.json]      (or run this file directly)

Generates (not timed) one contract's extracts over 24 months: ``rows`` referral rows and 0.3 x ``rows``
starts-and-outcomes rows, one .csv per month and kind, with realistic dates. Then, in a fresh process
so its peak memory is its own (``ru_maxrss``), times:

* ``read_check``: every file read (pandas) and checked column-wise (kpd_returns.checks.extract_intake,
  the path ``validate`` and ``consolidate`` take for a .csv);
* ``record``: each accepted extract added to a new ledger (its columns stored, intake.extract_store);
* ``load``: ``load_extract_frame`` of both kinds (one row per id, the latest month winning);
* ``css_tmpl``: the CSS 1-4 figures of the report month and the tMPL cohort tables of every customer
  group, when the WHP computations are on this branch (kpd_returns.packs.whp_css / whp_cohorts, engineer
  whpm); otherwise said so, not guessed.

And the naive per-row Python loop on the referral files (csv.DictReader; per row: each column checked,
each date parsed with strptime, an NI-number regex on each cell, one INSERT per row), on at most
``naive_rows`` rows, scaled linearly to all rows: ``naive_over_ours`` compares it with read_check + record
of the same referral rows. Targets: read, check, record and the tables in at most 60 s on 2 cores, peak
memory at most 1.5 GB.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = "WHP-CPA-01"
MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)][10:34]  # 2024-11 .. 2026-10
GROUPS = np.array(["disability", "early_entry", "ltu"], dtype=object)


def _specs():
    sys.path.insert(0, str(ROOT))
    from kpd_returns.spec.extract_spec import load_extracts
    specs = load_extracts().values()
    referrals = next(s for s in specs if "referral_date" in s.by_id)
    starts = next(s for s in specs if "start_date" in s.by_id and "referral_date" not in s.by_id)
    return referrals, starts


def generate(rows: int, folder: Path, seed: int = 22) -> dict:
    """Write the extracts; return what was written."""
    rng = np.random.default_rng(seed)
    referrals_spec, starts_spec = _specs()
    folder.mkdir(parents=True, exist_ok=True)
    days = np.arange(np.datetime64("2024-11-01"), np.datetime64("2026-11-01")).astype("datetime64[D]")
    working = days[np.is_busday(days)]
    referral = np.sort(rng.choice(working, rows))
    ack = np.busday_offset(referral, rng.integers(0, 3, rows), roll="forward")
    start = np.busday_offset(referral, rng.integers(3, 13, rows), roll="forward")
    recorded = np.busday_offset(start, rng.integers(0, 3, rows), roll="forward")
    ids = pd.Series(np.arange(1, rows + 1)).astype(str).str.zfill(9)
    ref = pd.DataFrame({"referral_id": ("R" + ids).to_numpy(), "cpa": CONTRACT,
                        "dda": np.where(np.arange(rows) % 3 == 0, "Greater Manchester", ""),
                        "customer_group": GROUPS[np.arange(rows) % 3], "referral_date": referral,
                        "acknowledged_date": ack, "start_or_fta": np.where(np.arange(rows) % 5 == 4, "fta", "start"),
                        "start_or_fta_date": start, "recorded_date": recorded})
    n_out = int(rows * 0.3)
    pick = np.sort(rng.choice(rows, n_out, replace=False))
    s = start[pick]
    converts = rng.random(n_out) < 0.2
    earn = s + rng.integers(60, 240, n_out).astype("timedelta64[D]")
    m1 = earn + rng.integers(30, 60, n_out).astype("timedelta64[D]")
    m2 = m1 + rng.integers(30, 60, n_out).astype("timedelta64[D]")
    outcome = np.minimum(np.maximum(s + rng.integers(300, 600, n_out).astype("timedelta64[D]"), m2),
                         s + np.timedelta64(639, "D"))
    nat = np.datetime64("NaT")
    out = pd.DataFrame({"participant_id": ("P" + ids.iloc[pick]).to_numpy(), "cpa": CONTRACT,
                        "dda": ref["dda"].to_numpy()[pick], "customer_group": ref["customer_group"].to_numpy()[pick],
                        "start_date": s, "employment": np.where(converts, "employed", ""),
                        "earnings_start_date": np.where(converts, earn, nat),
                        "milestone_1000_date": np.where(converts, np.minimum(m1, outcome), nat),
                        "milestone_2000_date": np.where(converts, np.minimum(m2, outcome), nat),
                        "outcome_date": np.where(converts, outcome, nat), "claim_date": nat})
    out.loc[~converts, "employment"] = ""
    end = np.datetime64("2026-10-31")
    written = {"referral_files": [], "outcome_files": []}
    for spec, frame, key, first in ((referrals_spec, ref, "referral_files", "referral_date"),
                                    (starts_spec, out, "outcome_files", "start_date")):
        month = frame[first].to_numpy().astype("datetime64[M]").astype(str)
        for m in MONTHS:
            part = frame[month == m].copy()
            for col in part.columns:
                if col.endswith("_date"):
                    part[col] = part[col].where(part[col] <= end)
            if "start_or_fta" in part:  # not started by the month's end: neither the kind nor its date
                part["start_or_fta"] = part["start_or_fta"].where(part["start_or_fta_date"].notna(), "")
            path = folder / f"{spec.id}_{CONTRACT}_{m}.csv"
            part.to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
            written[key].append(str(path))
    written["referral_rows"], written["outcome_rows"] = rows, n_out
    written["megabytes"] = round(sum(Path(p).stat().st_size for k in ("referral_files", "outcome_files")
                                     for p in written[k]) / 2**20, 1)
    return written


def measure(files: dict, work: Path) -> dict:
    """The timed steps, in this process (run it in a fresh one: see main)."""
    sys.path.insert(0, str(ROOT))
    from kpd_returns.checks.extract_intake import extract_report
    from kpd_returns.intake.extract_store import load_extract_frame
    from kpd_returns.intake.ledger import Ledger

    referrals_spec, starts_spec = _specs()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    checking = recording = 0.0
    verdicts: set[str] = set()
    with Ledger(work / "ledger.sqlite") as ledger:
        for path in files["referral_files"] + files["outcome_files"]:  # one file at a time, as ingest does
            a = time.perf_counter()
            report = extract_report(path, path, Path(path).name)
            report.submitted, report.submitted_source = dt.datetime(2026, 11, 6, 12), "option"
            b = time.perf_counter()
            ledger.add_report(report, source_path=report.path)
            verdicts.add(report.verdict)
            checking, recording = checking + b - a, recording + time.perf_counter() - b
        t2 = time.perf_counter()
        referrals = load_extract_frame(ledger, referrals_spec.id, CONTRACT)
        starts = load_extract_frame(ledger, starts_spec.id, CONTRACT)
    t3 = time.perf_counter()
    tables = _css_tmpl(referrals, starts)
    t4 = time.perf_counter()
    return {"read_check_seconds": round(checking, 2), "record_seconds": round(recording, 2),
            "load_seconds": round(t3 - t2, 2), "css_tmpl_seconds": round(t4 - t3, 2) if tables else None,
            "css_tmpl": tables or "not measured: the WHP computations (engineer whpm) are not on this branch",
            "total_seconds": round(t4 - t0, 2), "total_cpu_seconds": round(time.process_time() - cpu0, 2),
            "verdicts": sorted(verdicts), "rows_loaded": [len(referrals), len(starts)],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _css_tmpl(referrals: pd.DataFrame, starts: pd.DataFrame) -> str | None:
    try:
        from kpd_returns.packs.whp_cohorts import CohortBook
        from kpd_returns.packs.whp_css import CssClock
        from kpd_returns.spec.whp_config import Levels
    except ImportError:
        return None
    clock = CssClock(referrals, region="england-and-wales")
    figures = [clock.figures(m) for m in MONTHS]
    book = CohortBook(starts, MONTHS[-1], Levels())
    groups = [book.figures(g) for g in ("cpa", "disability", "early_entry", "ltu", "dda")]
    return f"{sum(len(f) for f in figures)} CSS figures, {sum(len(g) for g in groups)} cohort figures"


NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])")


def naive(paths: list[str], limit: int, work: Path) -> dict:
    """A per-row Python loop over the referral files: what one writes first."""
    conn = sqlite3.connect(str(work / "naive.sqlite"))
    conn.execute("CREATE TABLE rows (file TEXT, referral_id TEXT, cpa TEXT, dda TEXT, customer_group TEXT, "
                 "referral_date TEXT, acknowledged_date TEXT, start_or_fta TEXT, start_or_fta_date TEXT, "
                 "recorded_date TEXT)")
    done, problems = 0, 0
    t0 = time.perf_counter()
    for path in paths:
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for value in row.values():
                    if NINO.search(value or ""):
                        problems += 1
                if row["customer_group"] not in ("disability", "early_entry", "ltu"):
                    problems += 1
                for col in ("referral_date", "acknowledged_date", "start_or_fta_date", "recorded_date"):
                    if row[col]:
                        try:
                            dt.datetime.strptime(row[col], "%Y-%m-%d")
                        except ValueError:
                            problems += 1
                conn.execute("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (path, *row.values()))
                done += 1
                if done >= limit:
                    break
        if done >= limit:
            break
    conn.commit()
    conn.close()
    return {"rows": done, "seconds": round(time.perf_counter() - t0, 2), "problems": problems}


def run(rows: int, work: Path, naive_rows: int = 100_000) -> dict:
    files = generate(rows, work / "extracts")
    listing = work / "files.json"
    listing.write_text(json.dumps(files), encoding="utf-8")
    proc = subprocess.run([sys.executable, __file__, "--measure", str(listing), "--work", str(work)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode:
        raise SystemExit(f"The WHP step failed: {proc.stderr.strip()[-2000:]}")
    ours = json.loads(proc.stdout.strip().splitlines()[-1])
    slow = naive(files["referral_files"], min(naive_rows, rows), work)
    # ours on the referral rows only, pro rata of all rows read (referrals and outcomes cost alike per row)
    share = rows / (rows + files["outcome_rows"])
    ours_referrals = (ours["read_check_seconds"] + ours["record_seconds"]) * share
    naive_all = slow["seconds"] * rows / max(slow["rows"], 1)  # wall clock, as ours (both on the same machine)
    return {"whp_rows": rows, "outcome_rows": files["outcome_rows"], "csv_megabytes": files["megabytes"],
            "cpu_count": os.cpu_count(), **ours, "naive": slow,
            "naive_seconds_scaled_to_all_referral_rows": round(naive_all, 1),
            "naive_over_ours": round(naive_all / ours_referrals, 1) if ours_referrals else None,
            "targets": {"total_seconds": "<= 60 (2 cores)", "peak_rss_mb": "<= 1536"},
            "meets": {"total_seconds": ours["total_seconds"] <= 60, "peak_rss_mb": ours["peak_rss_mb"] <= 1536}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--naive-rows", type=int, default=100_000)
    ap.add_argument("--json")
    ap.add_argument("--keep")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(json.loads(Path(args.measure).read_text(encoding="utf-8")), Path(args.work))))
        return 0
    return report(args.rows, args.json, args.keep, args.naive_rows)


def report(rows: int, json_path: str | None = None, keep: str | None = None, naive_rows: int = 100_000) -> int:
    """Run the step, print it, and write it as JSON when asked (benchmarks/run.py --whp-rows calls this)."""
    if rows < 1:
        raise SystemExit("--whp-rows must be at least 1")
    with tempfile.TemporaryDirectory(prefix="kpd-whp-") as tmp:
        work = Path(keep).resolve() if keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result = run(rows, work, naive_rows)
    for key, value in result.items():
        print(f"{key:<45} {value}")
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
