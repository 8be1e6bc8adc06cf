"""Shared builders for the checks tests: small, clean returns made from the real template
(kpd_returns.author.template.write_template) and filled by defined name with openpyxl, the way a
provider's figures land in the input cells. Each test changes one thing and asserts the
exact finding. (No tests here; the other test_checks_* modules import these helpers.)
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from functools import lru_cache
from typing import Any

import openpyxl

from kpd_returns.spec import layout
from kpd_returns.spec.return_spec import get_spec
from kpd_returns.author.template import write_template
from kpd_returns.checks.validate import validate_file

D = dt.date
KPD_MONTHS = ["apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "jan", "feb", "mar"]
Cells = dict[tuple[str, str], Any]  # (field id, key) -> value; None clears the cell


@lru_cache(maxsize=None)
def blank(return_id: str) -> bytes:
    buf = io.BytesIO()
    write_template(get_spec(return_id), buf)
    return buf.getvalue()


def named_cell(wb: openpyxl.Workbook, return_id: str, field_id: str, key: str = ""):
    """The openpyxl cell of (field, key), found through the field's defined name."""
    spec = get_spec(return_id)
    dn = wb.defined_names[spec.defined_name(field_id)]
    ((sheet_name, coord),) = list(dn.destinations)
    found = wb[sheet_name][coord]
    cells = [c for row in found for c in row] if isinstance(found, tuple) else [found]
    sheet = spec.fields_by_id[field_id][0]
    keys = layout.column_keys(spec, sheet) if sheet.kind == "grid" else (
        [r.key for r in sheet.row_keys] if sheet.kind == "list" else [""])
    return dict(zip(keys, cells))[key]


def build(return_id: str, cells: Cells, edit=None) -> bytes:
    """The template with ``cells`` typed in; ``edit(wb)`` may change anything else first."""
    wb = openpyxl.load_workbook(io.BytesIO(blank(return_id)))
    for (fid, key), value in cells.items():
        named_cell(wb, return_id, fid, key).value = value
    if edit:
        edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- clean returns ---------------------------------------------------------------------------
STAFFING = {"staff_senior": 4.5, "staff_front_line": 50.25, "staff_central": 10.0, "staff_employer": 6.0,
            "days_lost": 12.5, "caseload_active": 3000, "caseload_in_work": 800, "caseload_not_engaged": 500,
            "job_entries": 120}


def kpd_cells(quarter: str = "Q1", **changes: Any) -> Cells:
    """A clean KPD return for 2026-27 ``quarter``: staffing for every month of the period,
    one RAG rating (KPD 20 asks for segmentation or RAG ratings or both). ``changes``: 'field__key' -> value."""
    n_months = 3 * int(quarter[1])
    cells: Cells = {("cpa", ""): "CPA 07", ("provider", ""): "Test Provider Ltd", ("contract_year", ""): "2026-27",
                    ("quarter", ""): quarter, ("date_submitted", ""): D(2026, 7, 2) if quarter == "Q1" else
                    D(2026, 10, 2), ("contact", ""): "Performance team"}
    for month in KPD_MONTHS[:n_months]:
        for fid, v in STAFFING.items():
            cells[(fid, month)] = v
        cells[("rag1_participants", month)] = STAFFING["caseload_active"]
        cells[("rag1_job_entries", month)] = STAFFING["job_entries"]
    cells |= {("rag_title", "rag1"): "Whole caseload", ("rag_key", "rag1"): "Everyone actively engaged"}
    return _apply(cells, changes)


VOLUMES = {"referrals": (10, 60), "support_plans_approved": (5, 30), "six_month_reports_approved": (3, 20),
           "exit_reports_approved": (2, 10), "reworks": (0, 4), "reworks_outside_1wd": (0, 1),
           "support_plans_outside_1_month": (0, 0), "six_month_reports_outside_10wd": (0, 0),
           "exit_reports_outside_10wd": (0, 0), "withdrawals_before_support_plan": (0, 2),
           "withdrawals_before_six_month_report": (0, 0), "withdrawals_before_exit_report": (0, 0),
           "sustainment_required": (1, 3), "complaints": (0, 1)}
ROUTES = {"route_authority_candidate": (7, 40), "route_supplier_generated": (3, 20), "heard_supplier_marketing": (2, 12),
          "heard_gp": (3, 18), "heard_occupational_health": (1, 6), "heard_employer": (3, 16), "heard_other": (1, 8)}
KPI_ROWS = [f"kpi{k}_{c}" for k in range(1, 6) for c in (2024, 2026)]


def mmir_cells(month: str = "2026-10", **changes: Any) -> Cells:
    """A clean MMIR for ``month`` (October by default: not a quarter end, so no Social Value)."""
    y, m = int(month[:4]), int(month[5:])
    cells: Cells = {("provider", ""): "Test Provider Ltd", ("contract", ""): "AtW-MHSS-C099",
                    ("reporting_month", ""): D(y, m, 1), ("date_submitted", ""): D(y + (m == 12), m % 12 + 1, 2),
                    ("contact", ""): "Performance team"}
    for fid, (a, b) in VOLUMES.items():
        cells[(fid, "in_month")], cells[(fid, "year_to_date")] = a, b
    for fid, (a, b) in ROUTES.items():
        cells[(fid, "in_month")], cells[(fid, "programme_to_date")] = a, b
    for row in KPI_ROWS:
        for fid in ("kpi_cases_due", "kpi_within_target", "kpi_outside_target"):
            cells[(fid, row)] = 0
    staff = {"staff_ref": "STF-001", "staff_role": "Mental health practitioner", "staff_skills": "Action planning",
             "staff_experience": "Five years in NHS Talking Therapies", "staff_clearances": "BPSS"}
    for fid, v in staff.items():
        cells[(fid, "row1")] = v
    return _apply(cells, changes)


def _apply(cells: Cells, changes: dict[str, Any]) -> Cells:
    for name, value in changes.items():
        fid, _, key = name.partition("__")
        cells[(fid, key)] = value
    return cells


# -- running and asserting ----------------------------------------------------------------------
def check(return_id: str, cells: Cells, edit=None, **options: Any):
    """Validate the built return; as_of defaults to a date before any deadline."""
    options.setdefault("as_of", D(2026, 7, 1))
    return validate_file(build(return_id, cells, edit), name=f"test-{return_id}.xlsx", **options)


def codes(report) -> list[tuple[str, str | None, str | None, str]]:
    """(code, sheet, cell, severity) of every finding."""
    return [(f.code, f.sheet, f.cell, f.severity) for f in report.findings]


def only(report, code: str):
    """The one finding with ``code``; fails if there are none or several."""
    hits = [f for f in report.findings if f.code == code]
    assert len(hits) == 1, f"expected one {code}, got {[(f.code, f.ref, f.message) for f in report.findings]}"
    return hits[0]


def cell_of(return_id: str, field_id: str, key: str = "") -> tuple[str, str]:
    slot = layout.slot_index(get_spec(return_id))[(field_id, key)]
    return slot.sheet, slot.cell


def set_cached_value(xlsx: bytes, sheet_index: int, cell: str, value: str) -> bytes:
    """Give a formula cell a cached value (openpyxl writes none), as a stale spreadsheet would."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == f"xl/worksheets/sheet{sheet_index}.xml":
                data = re.sub(rb'(<c r="' + cell.encode() + rb'"[^>]*>\s*<f>[^<]*</f>)(<v>[^<]*</v>|<v\s*/>)?',
                              lambda m: m.group(1) + b"<v>" + value.encode() + b"</v>", data)
            dst.writestr(info, data)
    return out.getvalue()
