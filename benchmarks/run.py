"""kpd-returns benchmark: N generated returns through every step, on the same files.

    python benchmarks/run.py --returns 1000 [--json out.json] [--workers W] [--keep DIR]
                             [--skip-rss] [--skip-naive] [--repeats 5] [--rss-factor 5]

Steps (see benchmarks/README.md for what each measures and how):
  parse_floor         python-calamine reading every sheet of every file (the floor)
  naive               openpyxl + pandas + pandera per file, then one to_excel (benchmarks/naive.py)
  validate_serial     kpd_returns.checks.validate.validate_paths(files, workers=1)
  validate_parallel   the same with workers=W (default os.cpu_count())
  validate_cli        `kpd-returns validate --format json FILE...` as one subprocess
  consolidate         `kpd-returns consolidate INBOX --out DIR` (fresh ledger + workbook) as a subprocess
  pack                `kpd-returns pack --period P --all --out DIR --db LEDGER` per return type
  single_file_cli     `kpd-returns validate ONE.xlsx` on the heaviest clean MMIR, median of --repeats runs
  single_file_heaviest  the same on the heaviest clean return of any type (no target)
  bare_imports        `python -c "import pandera.pandas, openpyxl"`, median of --repeats runs
  consolidate_5n      consolidate again on 5N files, for its peak RSS (skipped with --skip-rss)
  frictionless        the peer: frictionless.validate of each file's main table

In-process steps run each in a fresh child process (this script with --child), with
one untimed warm-up call on the first file, then time.perf_counter() around the loop
over all N files. Command-line steps are timed cold (interpreter start and imports
included), as a user runs them. A step whose command or module does not exist yet
reports "not available"; a step that fails reports "error" with the reason.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from browser import CHROMIUM, measure as measure_browser, targets as browser_targets  # noqa: E402 - benchmarks/

CLI = [sys.executable, "-m", "kpd_returns.cli.main"]
SINGLE_FILE_TYPE = "mmir"  # the return type the one-file ratio times (see where single_file_cli is recorded)
STEP_ORDER = ["parse_floor", "naive", "validate_serial", "validate_parallel", "validate_cli", "consolidate",
              "pack", "single_file_cli", "single_file_heaviest", "bare_imports", "consolidate_5n", "frictionless", "browser",
              "consolidate_estate"]
NOT_AVAILABLE = "not available"


def heaviest_file(paths: list[str]) -> str:
    """The file of the most bytes (the first of those)."""
    return max(enumerate(paths), key=lambda x: (os.path.getsize(x[1]), -x[0]))[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("NO_COLOR", "1")
    return env


# ====================================================================== child steps


class Clock:
    """Wall time (perf_counter) and CPU time of this process plus its finished children
    (process pools are shut down inside the timed call, so their CPU is counted)."""

    def __enter__(self) -> "Clock":
        import resource

        self._r = resource
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.ch0 = ch.ru_utime + ch.ru_stime
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.wall0
        ch = self._r.getrusage(self._r.RUSAGE_CHILDREN)
        self.cpu_seconds = (time.process_time() - self.cpu0) + (ch.ru_utime + ch.ru_stime - self.ch0)

    def result(self, **extra) -> dict:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, **extra}
# Each runs in its own process: `run.py --child STEP --files LIST --result OUT.json`.


def _child_floor(files: list[str], args) -> dict:
    from python_calamine import CalamineWorkbook

    def read(path: str) -> int:
        wb = CalamineWorkbook.from_path(path)
        n = 0
        for name in wb.sheet_names:
            n += len(wb.get_sheet_by_name(name).to_python())
        return n

    read(files[0])  # warm-up
    with Clock() as c:
        rows = sum(read(f) for f in files)
    return c.result(rows_read=rows)


def _child_naive(files: list[str], args) -> dict:
    import naive

    naive.run(files[:1], Path(args.out_dir) / "warmup.xlsx")  # warm-up: imports, schema, writer
    with Clock() as c:
        result = naive.run(files, Path(args.out_dir) / "naive-consolidated.xlsx")
    return c.result(files_failing_schema=result["files_failing_schema"],
                    failing=sorted(name for name, _n in result["failed"]))


def _child_validate(files: list[str], args) -> dict:
    from kpd_returns.checks.validate import validate_paths

    validate_paths(files[:1], workers=1)  # warm-up: imports, specs, calendars
    with Clock() as c:
        reports = list(validate_paths(files, workers=args.workers))
    return c.result(workers=args.workers,
                    reports=[{"name": Path(r.path).name, "verdict": r.verdict,
                              "codes": sorted({f.code for f in r.findings})} for r in reports])


FRICTIONLESS_TYPES = ("kpd", "mmir")  # the return types the peer has a table schema for
FRICTIONLESS_MONTHS = ["April", "May", "June", "July", "August", "September", "October", "November", "December",
                       "January", "February", "March"]


def _child_frictionless(files: list[str], args) -> dict:
    import warnings

    import frictionless
    from frictionless import Dialect, Resource, Schema, fields, formats

    warnings.simplefilter("ignore")
    kpd = Schema(fields=[fields.StringField(name="Measure"), fields.StringField(name="Guidance")]
                 + [fields.NumberField(name=m, constraints={"minimum": 0}) for m in FRICTIONLESS_MONTHS])
    mmir = Schema(fields=[fields.StringField(name="Measure"), fields.StringField(name="Guidance"),
                          fields.IntegerField(name="In month", constraints={"minimum": 0}),
                          fields.IntegerField(name="Year to date", constraints={"minimum": 0})])

    def check(path: str) -> bool:
        p = Path(path)
        is_kpd = "-kpd-" in p.name
        dialect = Dialect(header_rows=[4], controls=[formats.ExcelControl(sheet="Staffing" if is_kpd else "Volumes")])
        resource = Resource(path=p.name, basepath=str(p.parent), format="xlsx", schema=kpd if is_kpd else mmir,
                            dialect=dialect)
        return frictionless.validate(resource).valid

    check(files[0])  # warm-up
    with Clock() as c:
        invalid = [Path(f).name for f in files if not check(f)]
    return c.result(files_invalid=len(invalid), invalid=invalid, version=frictionless.__version__)


CHILDREN = {"parse_floor": _child_floor, "naive": _child_naive, "validate": _child_validate,
            "frictionless": _child_frictionless}


def child_main(args) -> int:
    files = Path(args.files).read_text(encoding="utf-8").splitlines()
    result = CHILDREN[args.child](files, args)
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


# ====================================================================== helpers


def run_child(step: str, filelist: Path, work: Path, workers: int = 1, timeout: float = 3600) -> dict:
    result = work / f"child-{step}-{workers}.json"
    out_dir = work / f"child-{step}-out"
    out_dir.mkdir(exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--files", str(filelist),
           "--result", str(result), "--workers", str(workers), "--out-dir", str(out_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)
    if proc.returncode != 0 or not result.exists():
        raise StepError(_tail(proc.stderr) or f"exit code {proc.returncode}")
    return json.loads(result.read_text(encoding="utf-8"))


class StepError(Exception):
    pass


def _tail(text: str, n: int = 600) -> str:
    text = (text or "").strip()
    return text[-n:]


def _tree_memory_kb(root_pid: int) -> tuple[int, int]:
    """(sum of VmRSS, largest VmHWM) over a process and its descendants (from /proc), in KiB.

    VmHWM is a process's own peak resident set since it started its program (exec)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    rss: dict[int, int] = {}
    hwm: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as fh:
                ppid = vm = high = 0
                for line in fh:
                    if line.startswith("PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        vm = int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        high = int(line.split()[1])
        except OSError:
            continue
        children[ppid].append(int(entry))
        rss[int(entry)] = vm
        hwm[int(entry)] = high
    total, largest, stack = 0, 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        largest = max(largest, hwm.get(pid, 0))
        stack.extend(children.get(pid, ()))
    return total, largest


def measured_run(cmd: list[str], work: Path, label: str, timeout: float = 3600, sample_tree: bool = True) -> dict:
    """Run a command; wall time, exit code, and peak memory.

    ``max_rss_mb``: the largest VmHWM (peak resident set) of any process of the
    command (main or worker), sampled from /proc every 20 ms; VmHWM only rises, so
    only growth in a process's last 20 ms can be missed. Not ru_maxrss from wait4():
    on Linux a child's ru_maxrss starts from the PARENT's resident set at fork (the
    pre-exec copy of its memory), so after this harness has run an in-process step
    every command would look as big as the harness (measured: a 400 MB parent makes
    ``python -c pass`` report 413 MB).
    ``tree_rss_mb``: the peak of the sum of VmRSS over the process tree, sampled
    the same way: counts workers together."""
    out_path, err_path = work / f"{label}.stdout", work / f"{label}.stderr"
    peak = [0, 0]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=_env(), cwd=str(work))
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                total, largest = _tree_memory_kb(proc.pid)
                peak[0], peak[1] = max(peak[0], total), max(peak[1], largest)
                stop.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_tree:  # off for the short single-command steps: scanning /proc would share their CPU
            sampler.start()
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        stop.set()
        if sample_tree:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "exit_code": proc.returncode, "max_rss_mb": peak[1] / 1024 if sample_tree else None,
            "tree_rss_mb": peak[0] / 1024 if sample_tree else None,
            "stdout": out_path.read_text(encoding="utf-8", errors="replace"),
            "stderr": err_path.read_text(encoding="utf-8", errors="replace")}


_HELP_CACHE: dict[str, bool] = {}


def cli_has(command: str) -> bool:
    """Whether `kpd-returns COMMAND --help` works (the command exists in this tree)."""
    if command not in _HELP_CACHE:
        proc = subprocess.run([*CLI, command, "--help"], capture_output=True, text=True, env=_env(), cwd=str(ROOT))
        _HELP_CACHE[command] = proc.returncode == 0
    return _HELP_CACHE[command]


def cli_help(command: str) -> str:
    proc = subprocess.run([*CLI, command, "--help"], capture_output=True, text=True, env=_env(), cwd=str(ROOT))
    return proc.stdout if proc.returncode == 0 else ""


def module_has(module: str, attr: str) -> bool:
    import importlib

    try:
        mod = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - missing or broken: not available
        return False
    return hasattr(mod, attr)


def chunks(paths: list[str], limit: int) -> list[list[str]]:
    """Split a file list so each command line stays under ``limit`` bytes."""
    out, cur, size = [], [], 0
    for p in paths:
        n = len(os.fsencode(p)) + 1
        if cur and size + n > limit:
            out.append(cur)
            cur, size = [], 0
        cur.append(p)
        size += n
    if cur:
        out.append(cur)
    return out


def median_run(cmd: list[str], repeats: int, cwd: Path) -> dict:
    """Run a command ``repeats`` times: median wall time and median CPU time (from wait4)."""
    times, cpus = [], []
    code = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), cwd=str(cwd))
        err = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        cpus.append(usage.ru_utime + usage.ru_stime)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        if code not in (0, 1):
            raise StepError(_tail(err.decode("utf-8", "replace")) or f"exit code {code}")
    return {"seconds": statistics.median(times), "cpu_seconds": statistics.median(cpus),
            "runs": [round(t, 4) for t in times], "exit_code": code}


# ====================================================================== the steps


class Bench:
    def __init__(self, args, work: Path):
        self.args = args
        self.work = work
        self.steps: dict[str, dict] = {}
        self.log = (lambda *a: print(*a, file=sys.stderr, flush=True))

    # -- bookkeeping
    def record(self, name: str, fn) -> None:
        self.log(f"[{name}] ...")
        t0 = time.perf_counter()
        try:
            entry = fn()
        except StepError as exc:
            entry = {"status": "error", "reason": str(exc)}
        except subprocess.TimeoutExpired as exc:
            entry = {"status": "error", "reason": f"timed out after {exc.timeout} s"}
        if entry.get("status") is None:
            entry["status"] = "ok"
        if entry["status"] == "ok" and "seconds" in entry and entry.get("files"):
            entry["ms_per_file"] = entry["seconds"] * 1000 / entry["files"]
            if entry.get("cpu_seconds") is not None:
                entry["cpu_ms_per_file"] = entry["cpu_seconds"] * 1000 / entry["files"]
        self.steps[name] = entry
        shown = entry.get("ms_per_file", entry.get("seconds"))
        detail = f"{shown:.2f}" if isinstance(shown, float) and entry["status"] == "ok" else entry.get("reason", "")
        self.log(f"[{name}] {entry['status']} {detail} ({time.perf_counter() - t0:.1f} s)")

    def unavailable(self, reason: str) -> dict:
        return {"status": NOT_AVAILABLE, "reason": reason}

    # -- data
    def generate(self, n: int, where: Path) -> tuple[list[str], list[dict], float]:
        from generate import generate

        t0 = time.perf_counter()
        manifest = generate(n, where, log=self.log)
        seconds = time.perf_counter() - t0
        files = [str(where / "inbox" / m["file"]) for m in manifest]
        return files, manifest, seconds

    # -- steps
    def floor(self, filelist: Path, n: int) -> dict:
        r = run_child("parse_floor", filelist, self.work)
        return {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "files": n, "rows_read": r["rows_read"]}

    def naive(self, filelist: Path, n: int) -> dict:
        if self.args.skip_naive:
            return self.unavailable("skipped (--skip-naive)")
        r = run_child("naive", filelist, self.work)
        return {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "files": n,
                "files_failing_schema": r["files_failing_schema"], "failing": r["failing"]}

    def validate_lib(self, filelist: Path, n: int, workers: int) -> dict:
        if not module_has("kpd_returns.checks.validate", "validate_paths"):
            return self.unavailable("kpd_returns.checks.validate.validate_paths does not exist yet")
        r = run_child("validate", filelist, self.work, workers=workers)
        verdicts = collections.Counter(x["verdict"] for x in r["reports"])
        return {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "files": n, "workers": workers,
                "verdicts": dict(verdicts), "_reports": r["reports"]}

    def validate_cli(self, files: list[str]) -> dict:
        if not (module_has("kpd_returns.checks.validate", "validate_paths") and cli_has("validate")):
            return self.unavailable("`kpd-returns validate` or kpd_returns.checks.validate is missing")
        limit = min(int(os.sysconf("SC_ARG_MAX") // 2), 1_000_000) if hasattr(os, "sysconf") else 100_000
        parts = chunks(files, limit)
        seconds, cpu, verdicts = 0.0, 0.0, collections.Counter()
        peak = 0.0
        for i, part in enumerate(parts):
            r = measured_run([*CLI, "validate", "--format", "json", *part], self.work, f"validate-cli-{i}")
            if r["exit_code"] not in (0, 1, 2) or not r["stdout"].strip():
                raise StepError(_tail(r["stderr"]) or f"exit code {r['exit_code']}")
            try:
                report = json.loads(r["stdout"])
            except json.JSONDecodeError as exc:
                raise StepError(f"the JSON report does not parse: {exc}") from None
            verdicts.update(f["verdict"] for f in report["files"])
            seconds += r["seconds"]
            cpu += r["cpu_seconds"]
            peak = max(peak, r["max_rss_mb"])
        return {"seconds": seconds, "cpu_seconds": cpu, "files": len(files), "invocations": len(parts),
                "verdicts": dict(verdicts), "max_rss_mb": peak}

    def consolidate(self, inbox: Path, n: int, label: str) -> dict:
        if not cli_has("consolidate"):
            return self.unavailable("`kpd-returns consolidate` does not exist yet")
        out = self.work / f"{label}-out"
        if out.exists():
            shutil.rmtree(out)
        cmd = [*CLI, "consolidate", str(inbox), "--out", str(out)]
        help_text = cli_help("consolidate")
        if "--workers" in help_text:
            cmd += ["--workers", str(self.args.workers)]
        if "--no-packs" in help_text:  # packs are timed on their own (the pack step)
            cmd += ["--no-packs"]
        r = measured_run(cmd, self.work, label)
        if r["exit_code"] not in (0, 1):
            raise StepError(_tail(r["stderr"]) or _tail(r["stdout"]) or f"exit code {r['exit_code']}")
        produced = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) if out.exists() else []
        return {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "files": n, "exit_code": r["exit_code"],
                "max_rss_mb": r["max_rss_mb"],
                "tree_rss_mb": r["tree_rss_mb"], "command": " ".join(cmd[2:]).replace(str(self.work), "$WORK"),
                "outputs": produced[:20], "_out": str(out)}

    def pack(self, consolidated: dict, manifest: list[dict]) -> dict:
        if not cli_has("pack"):
            return self.unavailable("`kpd-returns pack` does not exist yet")
        if consolidated.get("status") != "ok":
            return self.unavailable("needs the consolidate step's ledger")
        out_root = Path(consolidated["_out"])
        ledger = find_ledger(out_root)
        if ledger is None:
            raise StepError(f"no ledger found in the consolidate output ({consolidated.get('outputs')})")
        # One report month covers every return type (the quarter and contract year it falls in):
        # the newest month of the generated monthly returns, which has the most returns.
        months = collections.Counter(m["period"] for m in manifest if re.fullmatch(r"\d{4}-\d{2}", m["period"])
                                     and int(m["period"][5:]) <= 12)
        period = max(months) if months else "2026-09"
        count = sum(1 for m in manifest if m["period"] == period)
        out = self.work / "pack"
        cmd = [*CLI, "pack", "--period", period, "--all", "--out", str(out), "--db", str(ledger)]
        r = measured_run(cmd, self.work, "pack", sample_tree=False)
        if r["exit_code"] != 0:
            raise StepError(_tail(r["stderr"]) or _tail(r["stdout"]) or f"exit code {r['exit_code']}")
        made = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
        runs = [{"period": period, "monthly_returns_in_month": count, "seconds": r["seconds"],
                 "cpu_seconds": r["cpu_seconds"], "max_rss_mb": r["max_rss_mb"],
                 "html_files": sum(p.suffix == ".html" for p in made),
                 "xlsx_files": sum(p.suffix == ".xlsx" for p in made), "other_files": len(made)}]
        total = r["seconds"]
        packs = sum(x["html_files"] + x["xlsx_files"] for x in runs)
        return {"seconds": total, "cpu_seconds": sum(x["cpu_seconds"] for x in runs), "runs": runs,
                "packs_written": packs,
                "ms_per_pack": total * 1000 / packs if packs else None}

    def single_file(self, one: str) -> dict:
        if not (module_has("kpd_returns.checks.validate", "validate_paths") and cli_has("validate")):
            return self.unavailable("`kpd-returns validate` or kpd_returns.checks.validate is missing")
        r = median_run([*CLI, "validate", one], self.args.repeats, self.work)
        return {**r, "files": 1, "file": Path(one).name}

    def bare(self) -> dict:
        return median_run([sys.executable, "-c", "import pandera.pandas, openpyxl"], self.args.repeats, self.work)

    def browser(self, files: list[str], work: Path) -> dict:
        if not self.args.browser:
            return self.unavailable("not asked for (--browser)")
        if not CHROMIUM.exists():
            return self.unavailable(f"Chromium is not installed at {CHROMIUM}")
        try:
            return measure_browser(files, work / "web")
        except Exception as exc:  # noqa: BLE001 - the page could not be built or run: say why
            raise StepError(" ".join(f"{type(exc).__name__}: {exc}".split())[:300]) from None

    def frictionless(self, filelist: Path, n: int) -> dict:
        if not module_has("frictionless", "validate"):
            return self.unavailable("frictionless is not installed (pip install frictionless)")
        r = run_child("frictionless", filelist, self.work)
        return {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "files": n,
                "files_invalid": r["files_invalid"], "version": r["version"], "invalid": r["invalid"]}


def find_ledger(out: Path) -> Path | None:
    for pattern in ("*.sqlite", "*.sqlite3", "*.db", "*ledger*"):
        found = sorted(p for p in out.rglob(pattern) if p.is_file())
        if found:
            return found[0]
    return None


# ====================================================================== accuracy and ratios


def accuracy(reports: list[dict], manifest: list[dict]) -> dict:
    """Did validate find each injected mistake, and only those? (a sanity check that the
    timed path really validates, not a test of the validator)."""
    by_name = {m["file"]: m for m in manifest}
    found = missed = false_alarms = 0
    missed_files, alarm_files = [], []
    for r in reports:
        m = by_name.get(r["name"])
        if m is None:
            continue
        if m["mistake"]:
            if m["expected_code"] in r["codes"]:
                found += 1
            else:
                missed += 1
                missed_files.append(f"{r['name']}: expected {m['expected_code']}, got {r['codes']}")
        elif r["verdict"] not in ("valid", "valid-with-warnings"):
            false_alarms += 1
            alarm_files.append(f"{r['name']}: {r['verdict']} {r['codes']}")
    return {"mistakes_found": found, "mistakes_missed": missed, "clean_files_flagged": false_alarms,
            "examples": (missed_files + alarm_files)[:5]}


def ratio(a: dict | None, b: dict | None, key: str = "ms_per_file") -> float | None:
    if not a or not b or a.get("status") != "ok" or b.get("status") != "ok":
        return None
    x, y = a.get(key), b.get(key)
    if not isinstance(x, (int, float)) or not isinstance(y, (int, float)) or y == 0:
        return None
    return x / y


# The targets (issue 24): wall and CPU side by side; CPU is what holds when the machine is shared.
TARGETS = {
    "validate_serial_over_floor": ("<= 1.5", "<= 1.5"),
    "naive_over_consolidate": (">= 15", ">= 12"),
    "rss_5n_over_n": ("<= 1.1", None),
    "tree_rss_5n_over_n": ("<= 1.1", None),
    "single_file_over_bare_imports": ("<= 1.1", "<= 1.1"),
}
ESTATE_SECONDS = 90  # a year of the whole estate (10^4 returns) re-processed on 2 cores


def compute_ratios(steps: dict[str, dict]) -> dict[str, dict]:
    s = steps.get
    rss_n = s("consolidate") or {}
    rss_5n = s("consolidate_5n") or {}

    def entry(a, b, meaning, key="ms_per_file", cpu_key="cpu_ms_per_file") -> dict:
        out = {"value": ratio(a, b, key), "meaning": meaning}
        if cpu_key:
            out["cpu_value"] = ratio(a, b, cpu_key)
        return out

    out = {
        "validate_serial_over_floor": entry(s("validate_serial"), s("parse_floor"),
                                            "per-file read+validate (library, 1 worker) / python-calamine reading every sheet"),
        "naive_over_consolidate": entry(s("naive"), s("consolidate"),
                                        "naive pipeline ms/file / consolidate end to end ms/file (= throughput ratio; "
                                        "CPU: consolidate's workers included)"),
        "naive_over_validate_serial": entry(s("naive"), s("validate_serial"),
                                            "naive ms/file / library validate (1 worker) ms/file"),
        "validate_serial_over_parallel": entry(s("validate_serial"), s("validate_parallel"),
                                               "speed-up of validate_paths with W workers", cpu_key=None),
        "frictionless_over_validate_serial": entry(s("frictionless"), s("validate_serial"),
                                                   "peer ms/file (one table per file) / ours ms/file (every sheet)"),
        "rss_5n_over_n": entry(rss_5n, rss_n, "consolidate peak RSS of its largest process (main or worker) at 5N / at N",
                               key="max_rss_mb", cpu_key=None),
        "tree_rss_5n_over_n": entry(rss_5n, rss_n, "consolidate peak summed RSS of its process tree (workers counted "
                                    "together) at 5N / at N", key="tree_rss_mb", cpu_key=None),
        "single_file_over_bare_imports": entry(s("single_file_cli"), s("bare_imports"),
                                               "one-file `kpd-returns validate` / `python -c 'import pandera.pandas, openpyxl'`",
                                               key="seconds", cpu_key="cpu_seconds"),
    }
    for name, r in out.items():
        r["target"] = TARGETS.get(name, (None, None))[0]
        if "cpu_value" in r:
            r["cpu_target"] = TARGETS.get(name, (None, None))[1]
    estate = s("consolidate_estate")
    if estate and estate.get("status") == "ok":
        out["estate_seconds"] = {"value": estate["seconds"], "target": f"<= {ESTATE_SECONDS}",
                                 "cpu_value": estate.get("cpu_seconds"), "cpu_target": None,
                                 "meaning": f"consolidate of {estate.get('files')} returns (a year of the estate), seconds"}
    return out


def _target_met(value: float | None, target: str | None) -> bool | None:
    if value is None or not target:
        return None
    op, bound = target.split()
    return value <= float(bound) if op == "<=" else value >= float(bound)


# ====================================================================== output


def table(result: dict) -> str:
    lines = [f"kpd-returns benchmark  {result['meta']['date']}  N={result['meta']['returns']}  "
             f"cores={result['meta']['cpu_count']}  {result['meta']['machine']}  Python {result['meta']['python']}  "
             f"load avg {result['meta']['load_average_before']} -> {result['meta']['load_average_after']}",
             "", f"{'step':<20} {'status':<14} {'ms/file':>10} {'cpu ms/f':>10} {'total s':>10}  notes", "-" * 100]
    for name in STEP_ORDER:
        e = result["steps"].get(name)
        if e is None:
            continue
        ms = e.get("ms_per_file")
        sec = e.get("seconds")
        notes = []
        if name in ("single_file_cli", "single_file_heaviest", "bare_imports") and sec is not None:
            notes.append(f"median of {len(e.get('runs', []))}")
        for key in ("workers", "max_rss_mb", "tree_rss_mb", "files", "files_failing_schema", "files_invalid", "site_mb", "first_report_seconds"):
            if e.get(key) is not None and key != "files":
                v = e[key]
                notes.append(f"{key}={v:.1f}" if isinstance(v, float) else f"{key}={v}")
        if name in ("consolidate", "consolidate_5n", "consolidate_estate") and e.get("files"):
            notes.append(f"files={e['files']}")
        if e.get("verdicts"):
            notes.append("verdicts=" + ",".join(f"{k}:{v}" for k, v in sorted(e["verdicts"].items())))
        if name == "pack" and e.get("packs_written") is not None:
            notes.append(f"packs={e['packs_written']}")
            if e.get("ms_per_pack"):
                notes.append(f"ms/pack={e['ms_per_pack']:.0f}")
        if e["status"] != "ok":
            notes.append(e.get("reason", "")[:70])
        cpu = e.get("cpu_ms_per_file")
        if cpu is None and e.get("cpu_seconds") is not None and not e.get("files"):
            notes.append(f"cpu {e['cpu_seconds']:.2f} s")
        ms_text = "" if ms is None else f"{ms:.2f}"
        cpu_text = "" if cpu is None else f"{cpu:.2f}"
        sec_text = "" if sec is None else f"{sec:.2f}"
        lines.append(f"{name:<20} {e['status']:<14} {ms_text:>10} {cpu_text:>10} {sec_text:>10}  {'; '.join(notes)}")
    lines += ["", f"{'ratio':<36} {'wall':>8}  {'target':<8} {'met':<4} {'CPU':>8}  {'target':<8} met", "-" * 86]

    def num(v) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    def yes(met) -> str:
        return "" if met is None else ("yes" if met else "NO")

    for name, r in result["ratios"].items():
        cpu = (f"{num(r['cpu_value']):>8}  {r.get('cpu_target') or '':<8} {yes(r.get('cpu_met'))}"
               if "cpu_value" in r else "")
        lines.append(f"{name:<36} {num(r['value']):>8}  {r['target'] or '':<8} {yes(r.get('met')):<4} {cpu}".rstrip())
    acc = result.get("accuracy")
    if acc:
        lines += ["", f"validate accuracy: {acc['mistakes_found']} injected mistakes found, {acc['mistakes_missed']} missed, "
                  f"{acc['clean_files_flagged']} clean files flagged; serial == parallel verdicts: "
                  f"{result.get('serial_parallel_identical')}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark kpd-returns against the parse floor, a naive pipeline "
                                             "and frictionless, on N generated returns.")
    ap.add_argument("--returns", type=int, default=1000, help="How many returns to generate (N).")
    ap.add_argument("--json", help="Write the results as JSON to this file.")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Workers for the parallel steps.")
    ap.add_argument("--keep", help="Keep the generated files and outputs in this folder.")
    ap.add_argument("--skip-rss", action="store_true", help="Skip the 5N consolidate run (RSS growth).")
    ap.add_argument("--skip-naive", action="store_true", help="Skip the naive pipeline (slow: ~100 ms a file).")
    ap.add_argument("--rss-factor", type=int, default=5, help="The second consolidate run's size, in N (default 5).")
    ap.add_argument("--repeats", type=int, default=5, help="Runs of each single-command step (median taken).")
    ap.add_argument("--estate", type=int, nargs="?", const=10_000, default=None, metavar="N",
                    help="Also consolidate a year of the whole estate: N freshly generated returns (default 10000; "
                         f"target: within {ESTATE_SECONDS} s on 2 cores). Slow: opt-in.")
    ap.add_argument("--browser", action="store_true",
                    help="Also measure the browser page (kpd-returns web) in Chromium: slow, and needs the network "
                         "or a filled cache to build the page.")
    ap.add_argument("--whp-rows", type=int, default=0,
                    help="Run only the WHP extract step (benchmarks/whp_scale.py) on this many referral rows "
                         "(and 0.3 times as many outcome rows), e.g. 1000000.")
    # internal: one in-process step in a fresh process
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--files", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args)
    if args.whp_rows:  # issue 22's scale step, kept in its own file
        import whp_scale
        return whp_scale.report(args.whp_rows, args.json, args.keep)
    if args.returns < 1:
        ap.error("--returns must be at least 1")

    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="kpd-bench-")
        work = Path(cleanup.name)
    try:
        result = run_all(args, work)
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


def _git_state() -> dict:
    """The commit measured, and whether the work tree had uncommitted changes to the package."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=str(ROOT), timeout=10).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "kpd_returns", "validators"],
                               capture_output=True, text=True, cwd=str(ROOT), timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": bool(dirty)}


def _byte_compile() -> bool:
    """Byte-compile the package and the harness, as pip does when it installs a wheel.

    A checkout run from PYTHONPATH (or installed with ``pip install -e``) is compiled on
    first import and the bytecode cached in __pycache__, unless PYTHONDONTWRITEBYTECODE is
    set (it is on some machines, this one included): then every cold command would pay for
    compiling the package's 60-odd modules again (about 0.1 s), which no installed copy does."""
    import compileall

    ok = compileall.compile_dir(str(ROOT / "kpd_returns"), quiet=1)
    return bool(ok and compileall.compile_dir(str(HERE), quiet=1, maxlevels=0))


def run_all(args, work: Path) -> dict:
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    git = _git_state()
    compiled = _byte_compile()
    b = Bench(args, work)
    n = args.returns
    files, manifest, gen_seconds = b.generate(n, work / "n")
    filelist = work / "files.txt"
    filelist.write_text("\n".join(files) + "\n", encoding="utf-8")
    inbox = work / "n" / "inbox"

    b.record("parse_floor", lambda: b.floor(filelist, n))
    b.record("naive", lambda: b.naive(filelist, n))
    b.record("validate_serial", lambda: b.validate_lib(filelist, n, 1))
    b.record("validate_parallel", lambda: b.validate_lib(filelist, n, args.workers))
    b.record("validate_cli", lambda: b.validate_cli(files))
    b.record("consolidate", lambda: b.consolidate(inbox, n, "consolidate-n"))
    b.record("pack", lambda: b.pack(b.steps["consolidate"], manifest))
    # The ratio's file is the heaviest clean MMIR (the most bytes; the first of those), the return every
    # recorded run since 2026-11-22 timed, so the figure compares like with like: it measures what the command
    # adds to its imports for a monthly return. The heaviest clean return of any type (since issue 21 an AtW
    # Yearly MI of thousands of list rows) is timed beside it, without a target: it is the check's own work.
    clean = [(f, m) for f, m in zip(files, manifest) if not m["mistake"]] or list(zip(files, manifest))
    monthly = [f for f, m in clean if m["return_id"] == SINGLE_FILE_TYPE] or [f for f, _m in clean]
    b.record("single_file_cli", lambda: b.single_file(heaviest_file(monthly)))
    b.record("single_file_heaviest", lambda: b.single_file(heaviest_file([f for f, _m in clean])))
    b.record("bare_imports", b.bare)
    if args.skip_rss:
        b.steps["consolidate_5n"] = b.unavailable("skipped (--skip-rss)")
    else:
        def big() -> dict:
            if not cli_has("consolidate"):
                return b.unavailable("`kpd-returns consolidate` does not exist yet")
            big_files, _m, _s = b.generate(n * args.rss_factor, work / "n5")
            r = b.consolidate(work / "n5" / "inbox", len(big_files), "consolidate-5n")
            shutil.rmtree(work / "n5", ignore_errors=True)
            return r
        b.record("consolidate_5n", big)
    # The peer has a table schema for the two oldest return types only: it checks those files.
    peer_files = [f for f, m in zip(files, manifest) if m["return_id"] in FRICTIONLESS_TYPES]
    peer_list = work / "files-peer.txt"
    peer_list.write_text("\n".join(peer_files) + "\n", encoding="utf-8")
    b.record("frictionless", lambda: b.frictionless(peer_list, len(peer_files)) if peer_files
             else b.unavailable("no return of a type it has a schema for"))
    b.record("browser", lambda: b.browser(files, work))
    if args.estate:
        def estate() -> dict:
            if not cli_has("consolidate"):
                return b.unavailable("`kpd-returns consolidate` does not exist yet")
            estate_files, _m, _s = b.generate(args.estate, work / "estate")
            r = b.consolidate(work / "estate" / "inbox", len(estate_files), "consolidate-estate")
            shutil.rmtree(work / "estate", ignore_errors=True)
            return r
        b.record("consolidate_estate", estate)
    else:
        b.steps["consolidate_estate"] = b.unavailable("not asked for (--estate)")

    serial, parallel = b.steps.get("validate_serial", {}), b.steps.get("validate_parallel", {})
    identical = None
    acc = None
    if serial.get("status") == "ok":
        acc = accuracy(serial["_reports"], manifest)
        if parallel.get("status") == "ok":
            key = lambda reps: [(r["name"], r["verdict"], r["codes"]) for r in reps]  # noqa: E731
            identical = key(serial["_reports"]) == key(parallel["_reports"])
    for e in b.steps.values():
        for k in [k for k in e if k.startswith("_")]:
            del e[k]
    ratios = compute_ratios(b.steps)
    ratios.update(browser_targets(b.steps.get("browser")))
    for r in ratios.values():
        r["met"] = _target_met(r["value"], r["target"])
        if "cpu_value" in r:
            r["cpu_met"] = _target_met(r["cpu_value"], r.get("cpu_target"))
    mix = collections.Counter(m["return_id"] for m in manifest)
    return {
        "meta": {"date": dt.date.today().isoformat(), "returns": n, "cpu_count": os.cpu_count(),
                 "workers": args.workers, "machine": platform.machine(), "python": platform.python_version(),
                 "platform": platform.platform(), "generate_seconds": gen_seconds, **git,
                 "byte_compiled": compiled, "pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
                 "mix": dict(mix), "with_mistakes": sum(1 for m in manifest if m["mistake"]),
                 "bytes_per_file": int(sum(os.path.getsize(f) for f in files) / len(files)),
                 # Other work on the machine skews timings: the 1-minute load average before and after.
                 "load_average_before": load_before[0] if load_before else None,
                 "load_average_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
        "steps": b.steps,
        "ratios": ratios,
        "accuracy": acc,
        "serial_parallel_identical": identical,
    }


if __name__ == "__main__":
    sys.exit(main())
