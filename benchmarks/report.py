"""Turn a benchmark JSON (run.py --json) into the Markdown tables used in README.md.

    python benchmarks/report.py bench.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from run import STEP_ORDER


def _f(x, nd=1) -> str:
    return "" if x is None else f"{x:.{nd}f}"


def markdown(result: dict) -> str:
    m = result["meta"]
    mix = ", ".join(f"{v} {k}" for k, v in sorted(m["mix"].items()))
    out = [f"Run of {m['date']}: N = {m['returns']} ({mix}, "
           f"{m['with_mistakes']} with a mistake; {m['bytes_per_file'] // 1024} KB a file on average), "
           f"{m['cpu_count']} cores, {m['machine']}, Python {m['python']}, workers = {m['workers']}; "
           f"load average {m.get('load_average_before', 0):.1f} before, {m.get('load_average_after', 0):.1f} after; "
           f"commit {m.get('git_commit')}{' with uncommitted changes to the package' if m.get('git_dirty') else ''}.",
           "", "| step | status | wall ms/file | CPU ms/file | wall s | notes |", "|---|---|---:|---:|---:|---|"]
    for name in STEP_ORDER:
        e = result["steps"].get(name)
        if not e:
            continue
        notes = []
        if e.get("max_rss_mb") is not None:
            notes.append(f"peak RSS {e['max_rss_mb']:.0f} MB")
        if name in ("consolidate_5n",):
            notes.append(f"{e.get('files')} files")
        if e.get("verdicts"):
            notes.append(", ".join(f"{k} {v}" for k, v in sorted(e["verdicts"].items())))
        if e.get("files_failing_schema") is not None:
            notes.append(f"{e['files_failing_schema']} files fail its schema")
        if e.get("files_invalid") is not None:
            notes.append(f"{e['files_invalid']} files invalid")
        if name == "pack" and e.get("packs_written"):
            notes.append(f"{e['packs_written']} packs, {e['ms_per_pack']:.0f} ms a pack, CPU {e['cpu_seconds']:.1f} s")
        if name in ("single_file_cli", "single_file_heaviest", "bare_imports") and e.get("runs"):
            notes.append(f"median of {len(e['runs'])}, CPU {e['cpu_seconds']:.2f} s")
        if e["status"] != "ok":
            notes.append(e.get("reason", ""))
        out.append(f"| {name} | {e['status']} | {_f(e.get('ms_per_file'))} | {_f(e.get('cpu_ms_per_file'))} | "
                   f"{_f(e.get('seconds'), 2)} | {'; '.join(notes)} |")
    out += ["", "| ratio | wall | target | met | CPU | target | met |", "|---|---:|---|---|---:|---|---|"]

    def met(x) -> str:
        return "" if x is None else ("yes" if x else "**no**")

    for name, r in result["ratios"].items():
        cpu = (f"{_f(r['cpu_value'], 2) or 'n/a'} | {r.get('cpu_target') or ''} | {met(r.get('cpu_met'))}"
               if "cpu_value" in r else " | | ")
        out.append(f"| {name} | {_f(r['value'], 2) or 'n/a'} | {r['target'] or ''} | {met(r.get('met'))} | {cpu} |")
    acc = result.get("accuracy")
    if acc:
        out += ["", f"Validate found {acc['mistakes_found']} of the injected mistakes, missed {acc['mistakes_missed']}, "
                f"flagged {acc['clean_files_flagged']} clean files; serial and parallel verdicts identical: "
                f"{result.get('serial_parallel_identical')}."]
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
