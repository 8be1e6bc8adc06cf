"""The two phases of checking, split so a batch pays pandera's fixed cost once.

``prepare(source)``: read one file, recognise it, check its structure, locate the field
cells (sparsely: only cells holding something), parse every value, and run the per-cell
checks that need nothing else (types, required cells, personal data). The result is a
picklable ``Prepared`` record, without the workbook.

``check_batch(prepared)``: run each sheet's pandera schema once over the rows of every
file in the batch (checks.fields), then per file: the rules that make cells unusable
(months after the period), recomputed totals, the other rules, and the ``FileReport``.

Lateness is not worked out here: it depends on the submission time and calendar the
caller has (validate.finish_report). Any unexpected exception is confined to its file
and becomes a ``file-check-failed`` finding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec import findings as F
from ..read.extract import describe_header, recognise
from ..spec.findings import Finding
from ..spec.model import FileReport, Located, ReturnData
from ..spec.return_spec import ReturnSpec
from ..read.workbook import MAX_FILE_BYTES, UnreadableFile, WorkbookData, open_workbook
from . import load_rule_modules
from .cells import check_required, parse_cells
from .context import FileCheck, spec_index
from .extract_intake import extract_report
from .explanations import Explanation, apply as apply_explanations, for_ledger, read_explanations
from .fields import check_fields
from .lists import check_rows_below
from .period import check_period, report_unrun
from ..spec.personal_data import check_personal_data, cut, mask_all
from .registry import run_rules
from .totals import recompute


@dataclass
class Prepared:
    """One file after the first phase."""

    path: str
    name: str
    sha256: str | None = None
    return_id: str | None = None
    version: str | None = None
    findings: list[Finding] = field(default_factory=list)  # file and structure findings
    check: FileCheck | None = None  # present when the return's structure is right
    explanations: list[Explanation] = field(default_factory=list)  # the provider's, from the Explanations sheet
    guidance: str = ""  # the template's paragraph, for findings about the Explanations sheet
    report: FileReport | None = None  # an extract's whole report (checks.extract_intake): nothing left to check


def _label(source: Any, name: str | None) -> tuple[str, str]:
    if isinstance(source, (bytes, bytearray)):
        return name or "workbook.xlsx", name or "workbook.xlsx"
    return str(source), name or Path(source).name


def _read_bytes(source: Any) -> bytes | None:
    """The file's bytes, or None to let the reader say what is wrong (missing, a folder, too big)."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    try:
        path = Path(source)
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def broken_sheets(spec: ReturnSpec, problems: list[Finding]) -> frozenset[str]:
    """The sheets whose layout a structure finding says is changed (missing, a label or a named
    range moved): their cells cannot be trusted to be where the spec puts them."""
    idx = spec_index(spec)
    out = set()
    for f in problems:
        if f.code in ("sheet-missing", "sheet-duplicate", "label-changed") and f.sheet:
            out.add(f.sheet)
        elif f.code in ("defined-name-missing", "defined-name-moved") and f.field in idx.sheet_of:
            out.add(idx.sheet_of[f.field].name)
    return frozenset(out)


def locate_sparse(wb: WorkbookData, spec: ReturnSpec, skip: frozenset[str] = frozenset()
                  ) -> dict[tuple[str, str], Located]:
    """Located cells for the field slots that hold a value or a formula (none on ``skip`` sheets)."""
    idx = spec_index(spec)
    out: dict[tuple[str, str], Located] = {}
    for sheet, positions in idx.by_position.items():
        if sheet in skip:
            continue
        get = positions.get
        for slot_key, cell in [(k, c) for p, c in wb.cells(sheet).items() if (k := get(p)) is not None]:
            out[slot_key] = Located(sheet, idx.slots[slot_key].cell, slot_key[0], slot_key[1],
                                    cell.value, cell.formula)
    return out


def prepare(source: Any, *, name: str | None = None, specs: dict[str, ReturnSpec]) -> Prepared:
    """The first phase for one file (see the module notes); never raises."""
    path, label = _label(source, name)
    prep = Prepared(path=path, name=label)
    wb = None
    try:
        if label.lower().endswith(".csv"):  # a table, never a workbook: an extract or nothing
            prep.report = extract_report(source, path, label)
            return prep
        data = _read_bytes(source)
        if data is not None:
            prep.sha256 = hashlib.sha256(data).hexdigest()
        wb = open_workbook(data if data is not None else source, name=label)
        spec, version, problems = recognise(wb, specs, label)
        prep.return_id, prep.version = (spec.id if spec else None), version
        prep.findings = problems
        if spec is None:
            # A workbook that is not a template may be an extract in .xlsx (its header names a key column).
            prep.report = extract_report(data, path, label, only_if_known=True) if data is not None else None
            return prep
        # Run every check whose inputs are readable: a superseded version or a changed label on one
        # sheet must not hide the findings on the others. A sheet whose layout is broken is not read
        # (its cells may have moved), and the checks that need it say they could not run.
        broken = broken_sheets(spec, problems)
        prep.explanations, prep.guidance = read_explanations(wb), spec.template_guidance
        cells = locate_sparse(wb, spec, skip=broken)
        rd = ReturnData(return_id=spec.id, version=version or "", cells=cells)
        describe_header(rd, spec, wb.date1904)
        fc = FileCheck(spec, rd, unreadable_sheets=broken)
        parse_cells(fc, wb.date1904)
        check_rows_below(fc, wb)
        check_required(fc)
        check_period(fc)
        check_personal_data(fc)
        prep.check = fc
    except UnreadableFile as exc:
        prep.findings = [F.make(exc.code, file=label, detail=exc.detail)]
        prep.check = None
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
        prep.findings.append(failed(label, exc))
        prep.check = None
    finally:
        if wb is not None:
            wb.close()
    return prep


def failed(label: str, exc: BaseException) -> Finding:
    detail = cut(f"{type(exc).__name__}: {exc}".strip().rstrip(":"), 200)  # masked whole, then cut
    return F.make("file-check-failed", file=label, detail=detail)


def check_batch(prepared: list[Prepared]) -> list[FileReport]:
    """The second phase for a batch; reports in the same order (lateness not yet assessed)."""
    load_rule_modules()
    checks = [p.check for p in prepared if p.check is not None]
    before = [(len(fc.findings), set(fc.bad)) for fc in checks]
    try:
        check_fields(checks)
    except Exception:  # noqa: BLE001 - undo, then find the file that breaks the batch
        for fc, (n, bad) in zip(checks, before):
            del fc.findings[n:]
            fc.bad = bad
        for p in prepared:
            if p.check is not None:
                try:
                    check_fields([p.check])
                except Exception as exc:  # noqa: BLE001
                    p.findings.append(failed(p.name, exc))
                    p.check = None
    return [_finish(p) for p in prepared]


def _finish(p: Prepared) -> FileReport:
    if p.report is not None:
        return p.report
    report = FileReport(path=p.path, name=p.name, sha256=p.sha256, return_id=p.return_id, version=p.version)
    findings = list(p.findings)
    fc = p.check
    if fc is not None:
        try:
            run_rules(fc, early=True)
            recompute(fc)
            run_rules(fc, early=False)
            report_unrun(fc)
            findings += fc.findings
            _describe(report, fc)
        except Exception as exc:  # noqa: BLE001 - confined to this file
            findings = list(p.findings) + [failed(p.name, exc)]
            report.values = []
    findings = apply_explanations(findings, p.explanations, p.guidance)
    report.explanations = for_ledger(p.explanations)
    report.findings = sorted(findings, key=lambda f: (f.sort_key(), f.message))
    return report


def _describe(report: FileReport, fc: FileCheck) -> None:
    data = fc.data
    # What the ledger, the workbook and the packs show of a return: masked like its findings (a return
    # with personal data in these cells is rejected, but its row is still listed).
    header = fc.spec.header
    report.provider = _masked(data.provider, fc.idx.field_of.get(header.provider))
    report.contract = _masked(data.contract, fc.idx.field_of.get(header.contract))
    report.period, report.period_end = data.period, data.period_end
    report.period_kind = fc.spec.period.kind if data.period else None
    if data.submitted_date is not None:
        report.submitted = dt.datetime.combine(data.submitted_date, dt.time())
        report.submitted_source = "workbook"
    report.values = long_values(fc)


def _masked(value: Any, field: Any) -> Any:
    return mask_all(value, field.personal_data_skip if field is not None else ())


def long_values(fc: FileCheck) -> list[tuple[str, str, str, Any]]:
    """(field, key, month, value) for every usable cell and recomputed total, in sheet order.

    month: the column's month for month columns (KPD), the period for a monthly return
    (MMIR), else ''. Numbers are floats, dates ISO strings, text str.
    """
    data = fc.data
    monthly = fc.spec.period.monthly
    usable = {k: v for k, v in data.values.items() if k not in fc.bad and fc.idx.field_of[k[0]].computed is None}
    usable.update(fc.computed)
    order = fc.idx.order
    out = []
    for (fid, key) in sorted(usable, key=order.__getitem__):
        v = usable[(fid, key)]
        if isinstance(v, dt.date):
            v = v.isoformat()
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            v = float(v)
        month = data.month_of_key.get(key) or ((data.period or "") if monthly else "")
        out.append((fid, key, month, v))
    return out
