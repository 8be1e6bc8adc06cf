"""The Checks sheet and the validator agree (issue 15 item 3).

Sample returns are filled with every formula-expressible mistake (the samples' mistake set
and more), recalculated by LibreOffice headless (with the profile setting that makes it
recalculate files written by xlsxwriter), and each row of the Checks sheet is compared with
the validator's findings of that kind: the number of failing cells, and the first one.
Each mutation touches one or two cells, so count and first cell pin the cells down; a clean
return shows 0 checks failing on the sheet and in ``<PREFIX>_checks_failing`` on the Cover.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from libreoffice_helper import convert, make_profile, require_soffice

from kpd_returns.author import checks_sheet, samples
from kpd_returns.spec.return_spec import FIRST_DATA_ROW, load_all
from kpd_returns.checks.validate import validate_file

pytestmark = pytest.mark.system

SPECS = load_all()
NBE = samples.PROVIDERS[0]


def _kpd():
    return samples.sample_workbook(SPECS["kpd"], NBE, "CPA 07", "2026-27 Q2")


def _mmir():
    return samples.sample_workbook(SPECS["mmir"], NBE, "AtW-MHSS-C014", "2026-09")


def _set(spec_id: str, field: str, key: str, value):
    def edit(wb):
        samples.named_cells(wb, SPECS[spec_id], field)[key].value = value
    return edit


def _shift(spec_id: str, field: str, key: str, by):
    def edit(wb):
        cell = samples.named_cells(wb, SPECS[spec_id], field)[key]
        cell.value = cell.value + by
    return edit


def _typed_over(wb):
    staff = ("staff_senior", "staff_front_line", "staff_central", "staff_employer")
    cells = {f: samples.named_cells(wb, SPECS["kpd"], f) for f in (*staff, "fte_total")}
    cells["fte_total"]["may"].value = round(sum(cells[f]["may"].value for f in staff), 2) + 10  # mismatch
    cells["fte_total"]["jun"].value = round(sum(cells[f]["jun"].value for f in staff), 2)  # agrees: warning


def _both(*edits):
    def edit(wb):
        for e in edits:
            e(wb)
    return edit


# name -> (return, edit, the finding code it must give)
MUTATIONS = {
    "kpd-required": ("kpd", _set("kpd", "contact", "", None), "required-missing-query"),  # issue 20
    "kpd-text-in-number": ("kpd", _set("kpd", "staff_central", "jun", "12 FTE"), "not-a-number"),
    "kpd-negative": ("kpd", _set("kpd", "staff_senior", "apr", -3), "below-minimum"),
    "kpd-fraction": ("kpd", _set("kpd", "caseload_active", "may", 10.5), "not-whole-number"),
    "kpd-decimals": ("kpd", _set("kpd", "staff_central", "apr", 1.23456), "many-decimals"),
    "kpd-after-period": ("kpd", _set("kpd", "staff_senior", "oct", 5), "month-after-period"),
    "kpd-typed-over": ("kpd", _typed_over, "total-mismatch"),
    "kpd-month-missing": ("kpd", _set("kpd", "staff_employer", "sep", None), "month-missing"),
    "kpd-keyed": ("kpd", _both(_set("kpd", "seg_key", "seg2", None), _set("kpd", "seg_title", "seg6", "Spare")),
                  "keyed-row-incomplete"),
    "kpd-in-work": ("kpd", _set("kpd", "seg_type", "seg1", "In work"), "in-work-job-entries"),
    "kpd-above-participants": ("kpd", _set("kpd", "rag1_job_entries", "jul", 5000),
                               "job-entries-above-participants-query"),
    "kpd-implausible": ("kpd", _set("kpd", "job_entries", "jul", 100000), "implausible-value"),
    "kpd-divide-by-zero": ("kpd", _set("kpd", "staff_front_line", "aug", 0), "total-divide-by-zero"),
    "kpd-too-long": ("kpd", _set("kpd", "seg_title", "seg1", "x" * 81), "text-too-long"),
    "mmir-negative": ("mmir", _set("mmir", "sustainment_required", "in_month", -2), "below-minimum"),
    "mmir-ytd": ("mmir", _set("mmir", "referrals", "year_to_date", 1), "ytd-below-in-month"),
    "mmir-parts": ("mmir", _shift("mmir", "kpi_cases_due", "kpi1_2024", 1), "parts-not-equal-total"),
    "mmir-reasons": ("mmir", _set("mmir", "kpi_outside_reasons", "kpi5_2024", None), "reasons-missing"),
    "mmir-rows": ("mmir", _shift("mmir", "reworks", "in_month", 1), "detail-rows-mismatch"),
    "mmir-row-incomplete": ("mmir", _set("mmir", "rework_reason", "row1", None), "list-row-incomplete"),
    "mmir-breakdown": ("mmir", _shift("mmir", "route_authority_candidate", "in_month", 1), "breakdown-mismatch"),
    "mmir-dates": ("mmir", _set("mmir", "late_rework_date_returned", "row1", dt.datetime(2026, 9, 1)),
                   "dates-out-of-order"),
    "mmir-cohort": ("mmir", _both(_set("mmir", "reporting_month", "", dt.datetime(2026, 8, 1)),
                                  _set("mmir", "kpi_cases_due", "kpi2_2026", 4),
                                  _set("mmir", "kpi_within_target", "kpi2_2026", 4)), "cohort-before-start"),
    "mmir-social-value": ("mmir", _set("mmir", "sv_companies", "", None), "social-value-missing-query"),
    "mmir-percent": ("mmir", _set("mmir", "sv_measure1_pct", "", 120), "above-maximum"),
    "mmir-fraction": ("mmir", _set("mmir", "complaints", "in_month", 1.5), "not-whole-number"),
    "mmir-text-in-number": ("mmir", _set("mmir", "referrals", "in_month", "n/a"), "not-a-number"),
}


def _sheet_rows(path: Path, spec) -> list[tuple[str, int, str | None]]:
    """(code, cells failing, first cell) of each check row, after LibreOffice recalculated it."""
    ws = openpyxl.load_workbook(path, data_only=True)[checks_sheet.SHEET_NAME]
    out = []
    for i, check in enumerate(checks_sheet.plan(spec).checks):
        r = FIRST_DATA_ROW + i
        count = ws.cell(r, 4).value
        assert isinstance(count, (int, float)), f"{path.name} Checks!D{r}: {count!r}"
        status = ws.cell(r, 3).value
        assert (status == "OK") == (count == 0), f"{path.name} Checks!C{r}: {status!r}"
        out.append((check.code, int(count), ws.cell(r, checks_sheet.REF_COL).value or None))
    return out


def _cover_count(path: Path) -> float:
    ws = openpyxl.load_workbook(path, data_only=True)["Cover"]
    (value,) = [c.value for c in ws["B"] if isinstance(c.value, (int, float))]
    return value


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    require_soffice()
    tmp = tmp_path_factory.mktemp("checks")
    built = {"kpd-clean": ("kpd", None, None), "mmir-clean": ("mmir", None, None), **MUTATIONS}
    paths = {}
    (tmp / "in").mkdir()
    for name, (rid, edit, _code) in built.items():
        wb = _kpd() if rid == "kpd" else _mmir()
        if edit:
            edit(wb)
        paths[name] = tmp / "in" / f"{name}.xlsx"
        paths[name].write_bytes(samples.save_reproducibly(wb))
    for m in samples.mistakes():  # the samples' own mistake set
        name = m.name.removesuffix(".xlsx")
        paths[name] = tmp / "in" / m.name
        paths[name].write_bytes(samples.save_reproducibly(m.build()))
        built[name] = (m.base.split("-")[0], None, None)
    result = convert(list(paths.values()), tmp / "out", make_profile(tmp / "profile"))
    assert result.returncode == 0, result.stderr
    return {name: (SPECS[built[name][0]], p, tmp / "out" / p.name) for name, p in paths.items()}


@pytest.mark.parametrize("name", ["kpd-clean", "mmir-clean"])
def test_a_clean_return_shows_no_failing_check(recalculated, name):
    spec, source, out = recalculated[name]
    assert [row for row in _sheet_rows(out, spec) if row[1]] == []
    assert _cover_count(out) == 0
    codes = {c.code for c in checks_sheet.plan(spec).checks}
    assert [f for f in validate_file(source).findings if f.code in codes] == []


SAMPLE_MISTAKES = sorted(m.name.removesuffix(".xlsx") for m in samples.mistakes())


@pytest.mark.parametrize("name", sorted(MUTATIONS) + SAMPLE_MISTAKES)
def test_each_mistake_fails_the_same_cells_on_the_sheet_as_in_the_validator(recalculated, name):
    spec, source, out = recalculated[name]
    codes = {c.code for c in checks_sheet.plan(spec).checks}
    found = [f for f in validate_file(source).findings if f.code in codes]
    if name in MUTATIONS:
        assert MUTATIONS[name][2] in {f.code for f in found}, "the mutation did not give its finding"
    validator: dict[str, list[str]] = defaultdict(list)
    for f in found:
        validator[f.code].append((f"'{f.sheet}'" if " " in f.sheet else f.sheet) + "!" + f.cell)
    rows = _sheet_rows(out, spec)
    sheet_counts: dict[str, int] = defaultdict(int)
    for code, count, first in rows:
        sheet_counts[code] += count
        if count:
            assert first in validator[code], (code, first, validator[code])
    assert dict((c, n) for c, n in sheet_counts.items() if n) == {c: len(v) for c, v in validator.items()}
    assert _cover_count(out) == sum(1 for _code, count, _first in rows if count)
