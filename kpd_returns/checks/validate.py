"""Validate returns: the public API the CLI, the batch ledger and the benchmark use.

* ``validate_file(source, ...)``: one file (a path or bytes) -> ``FileReport``;
* ``validate_paths(paths, workers=..)``: many files -> reports in the same order;
* ``validate_items(items, workers=..)``: a stream of (source, name, submitted,
  submitted_source, region) -> reports, yielded in input order with flat memory.

Speed: files are checked in chunks of ``chunk_size``. Each chunk is read file by file
(kpd_returns.checks.batch.prepare) and then checked together, so each pandera schema
runs once per chunk, not once per file. With ``workers`` > 1 the chunks go to a process
pool; serial and parallel runs give identical reports.

When was a return submitted (``FileReport.submitted_source``):

* ``"option"`` (or the caller's own word, e.g. ``"email"``): the ``submitted`` passed in;
* ``"workbook"``: the header's "Date submitted" (a date: on time all of the due day);
* ``"as-of"``: neither is known, so the ``as_of`` date (the CLI's --as-of), or today.

Lateness is then ``deadlines.assess`` for the return's period; a late return gets a
``submitted-late`` warning naming the working days late and the deadline.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..spec import deadlines, workdays
from ..spec.constants import DEFAULT_REGION
from ..spec.findings import make, with_file
from ..spec.model import FileReport
from ..spec.return_spec import ReturnSpec, SpecError, load_all, set_aside
from .batch import check_batch, prepare
from .clocks import clock_findings
from .fields import warm
from .registry import check_spec_rules
from .workers import pool as worker_pool

_IN_FLIGHT_PER_WORKER = 2

Item = tuple[Any, str | None, "dt.datetime | dt.date | None", str | None, str]


def validate_file(source: Any, *, name: str | None = None, submitted: dt.datetime | dt.date | None = None,
                  submitted_source: str | None = None, as_of: dt.date | None = None,
                  region: str = DEFAULT_REGION, calendar: Any = None,
                  specs: dict[str, ReturnSpec] | None = None) -> FileReport:
    """Validate one file (path or bytes); never raises for a bad file."""
    specs = _checked_specs(specs)
    calendar = _calendar(calendar, region)
    report = check_batch([prepare(source, name=name, specs=specs)])[0]
    return finish_report(report, submitted=submitted, submitted_source=submitted_source, as_of=as_of,
                         region=region, calendar=calendar, specs=specs)


def validate_paths(paths: Iterable[Any], *, workers: int = 1, submitted: dt.datetime | dt.date | None = None,
                   as_of: dt.date | None = None, region: str = DEFAULT_REGION, calendar: Any = None,
                   chunk_size: int = 100, progress: Callable[[int], None] | None = None) -> list[FileReport]:
    """Validate many files; reports in the order of ``paths``. ``progress(n_done)`` after each."""
    paths = list(paths)
    items = [(p, None, submitted, None, region) for p in paths]
    return list(validate_items(items, workers=workers, as_of=as_of, calendar=calendar, chunk_size=chunk_size,
                               progress=progress))


def validate_items(items: Iterable[Item], *, workers: int = 1, as_of: dt.date | None = None, calendar: Any = None,
                   chunk_size: int = 100, progress: Callable[[int], None] | None = None,
                   specs: dict[str, ReturnSpec] | None = None) -> Iterator[FileReport]:
    """Validate a stream of (source, name, submitted, submitted_source, region); yield reports in order.

    Only a few chunks are in flight at a time, so memory stays flat however long the stream.
    Custom ``specs`` are only honoured serially (workers load the packaged specs).
    """
    specs = _checked_specs(specs)
    calendar = _calendar(calendar, DEFAULT_REGION)
    if hasattr(items, "__len__") and workers > 1:  # spread a short list over every worker
        workers = max(1, min(workers, len(items)))  # never more workers than files
        chunk_size = max(1, min(chunk_size, -(-len(items) // workers)))
    done = 0
    for chunk, reports in _chunk_reports(items, workers, chunk_size, specs):
        for (source, name, submitted, submitted_source, region), report in zip(chunk, reports):
            yield finish_report(report, submitted=submitted, submitted_source=submitted_source, as_of=as_of,
                                region=region or DEFAULT_REGION, calendar=calendar, specs=specs)
            done += 1
            if progress is not None:
                progress(done)


# -- chunks, serially or in a process pool -------------------------------------------

def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(tuple(item) if len(item) == 5 else _pad(item))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _pad(item: Any) -> Item:
    item = tuple(item)
    return (item + (None, None, None, DEFAULT_REGION))[:5]  # type: ignore[return-value]


def check_chunk(pairs: list[tuple[Any, str | None]], specs: dict[str, ReturnSpec] | None = None) -> list[FileReport]:
    """prepare + check_batch for one chunk of (source, name); runs in a worker process too."""
    specs = specs if specs is not None else load_all()
    return check_batch([prepare(source, name=name, specs=specs) for source, name in pairs])


def _chunk_reports(items: Iterable[Item], workers: int, size: int,
                   specs: dict[str, ReturnSpec]) -> Iterator[tuple[list[Item], list[FileReport]]]:
    chunks = _chunks(items, size)
    if workers <= 1:
        for chunk in chunks:
            yield chunk, check_chunk([(c[0], c[1]) for c in chunk], specs)
        return
    if multiprocessing.get_start_method() == "fork":
        warm(specs)  # forked workers inherit pandera and the schemas instead of each importing them
    pending: deque = deque()
    with worker_pool(workers) as pool:  # its workers end if this process is killed
        for chunk in chunks:
            pending.append((chunk, pool.submit(check_chunk, [(c[0], c[1]) for c in chunk])))
            while len(pending) >= workers * _IN_FLIGHT_PER_WORKER:
                yield _collect(*pending.popleft(), specs)
        while pending:
            yield _collect(*pending.popleft(), specs)


def _collect(chunk: list[Item], future, specs) -> tuple[list[Item], list[FileReport]]:
    try:
        return chunk, future.result()
    except Exception:  # noqa: BLE001 - a worker died: check this chunk here instead
        return chunk, check_chunk([(c[0], c[1]) for c in chunk], specs)


# -- submission time and lateness ---------------------------------------------------

def finish_report(report: FileReport, *, submitted: dt.datetime | dt.date | None = None,
                  submitted_source: str | None = None, as_of: dt.date | None = None,
                  region: str = DEFAULT_REGION, calendar: Any = None,
                  specs: dict[str, ReturnSpec] | None = None) -> FileReport:
    """Set when the return was submitted and whether it was late (see the module notes)."""
    # The hints that are commands name the file by its name: outputs never hold where it lay.
    report.findings = [with_file(f, report.name, report.return_id) for f in report.findings]

    when: dt.datetime | dt.date
    if submitted is not None:
        when, report.submitted_source = submitted, submitted_source or "option"
    elif report.submitted is not None and report.submitted_source == "workbook":
        when = report.submitted.date()
    else:
        when, report.submitted_source = as_of or dt.date.today(), "as-of"
    report.submitted = when if isinstance(when, dt.datetime) else dt.datetime.combine(when, dt.time())
    if not (report.return_id and report.period and report.period_end):
        return report
    spec = (specs or load_all()).get(report.return_id)
    if spec is not None:
        late_cases = clock_findings(report, spec, region)
        if late_cases:
            report.findings = sorted([*report.findings, *late_cases], key=lambda f: (f.sort_key(), f.message))
    lateness = deadlines.assess(report.return_id, report.period, report.period_end, when, region=region,
                                calendar=calendar)
    if lateness is None:
        return report
    report.deadline = lateness.deadline.due
    report.late_working_days = lateness.late_working_days
    if not lateness.on_time:
        n = lateness.late_working_days
        spec = (specs or load_all()).get(report.return_id)
        # One citation for lateness everywhere (the finding, the register, the packs): the deadline rule's.
        guidance = deadlines.deadline_guidance(report.return_id) or (
            spec.guidance_ref(spec.field(spec.header.submitted).guidance) if spec else "")
        found = when.isoformat(timespec="minutes") if isinstance(when, dt.datetime) else when.isoformat()
        report.findings = sorted(
            [*report.findings,
             make("submitted-late", guidance=guidance, found=found, expected=lateness.deadline.due.date().isoformat(),
                  detail=f"{n} working day{'s' if n != 1 else ''} late", deadline=lateness.deadline.due_text)],
            key=lambda f: (f.sort_key(), f.message))
    return report


def _calendar(calendar: Any, region: str) -> Any:
    """Load a deadline file once (a path), and refuse an unknown region before any work."""
    if region not in workdays.REGIONS:
        raise ValueError(f"There is no region '{region}': use one of {', '.join(workdays.REGIONS)}.")
    if isinstance(calendar, (str, os.PathLike)):
        return deadlines.load_deadlines(Path(calendar))
    return calendar


def _checked_specs(specs: dict[str, ReturnSpec] | None) -> dict[str, ReturnSpec]:
    """The specs whose rules check out (each rule kind and its parameters). A spec given
    explicitly must be right (SpecError); from the validators folder, one whose rules are wrong is
    set aside with its sentence (spec_problems), so it costs only its own return."""
    if specs is not None:
        for spec in specs.values():
            check_spec_rules(spec)
        return specs
    return usable_specs()


def usable_specs() -> dict[str, ReturnSpec]:
    """The validators folder's specs, less any whose rules name a kind or parameter that does not exist."""
    for spec in load_all().values():
        try:
            check_spec_rules(spec)
        except SpecError as exc:
            set_aside(spec, str(exc))
    return load_all()
