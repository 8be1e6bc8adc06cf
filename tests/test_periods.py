"""Periods in one place (issue 11 item 2): kpd_returns.spec.periods owns the period kinds
(month, contract quarter, contract year) and their year-start month; a spec with a
contract-year period loads, templates and validates with no Python change."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import openpyxl
import pytest

from kpd_returns.author.template import parse_period, write_template
from kpd_returns.checks.validate import validate_file
from kpd_returns.spec.periods import (Period, PeriodSpec, month_title, parse_any, parse_label, period_of,
                                      previous_month)
from kpd_returns.spec.return_spec import SpecError, load_spec_file

D = dt.date


def _spec(kind: str, start: int = 4) -> PeriodSpec:
    return PeriodSpec(kind=kind, month_field="m", year_field="y", quarter_field="q", year_start_month=start)


def test_month_title_and_month_arithmetic():
    assert month_title("2026-09") == "September 2026"
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-10") == "2026-09"


@pytest.mark.parametrize(("kind", "start", "label", "first", "last"), [
    ("month", 4, "2026-10", D(2026, 10, 1), D(2026, 10, 31)),
    ("contract_quarter", 4, "2026-27 Q2", D(2026, 7, 1), D(2026, 9, 30)),
    ("contract_quarter", 4, "2026-27 Q4", D(2027, 1, 1), D(2027, 3, 31)),
    ("contract_quarter", 7, "2026-27 Q2", D(2026, 10, 1), D(2026, 12, 31)),  # a July contract year (KPD 16 allows)
    ("contract_year", 4, "2026-27", D(2026, 4, 1), D(2027, 3, 31)),
    ("contract_year", 9, "2026-27", D(2026, 9, 1), D(2027, 8, 31)),
])
def test_parse_gives_label_and_bounds(kind, start, label, first, last):
    period = _spec(kind, start).parse(label)
    assert period == Period(label, first, last)
    assert parse_label(kind, label, start) == period
    # every day of the period is in it, and the next period starts the day after
    assert _spec(kind, start).containing(last) == period == _spec(kind, start).containing(first)
    assert _spec(kind, start).following(period).start == last + dt.timedelta(days=1)


@pytest.mark.parametrize(("kind", "label"), [
    ("month", "2026-13"), ("month", "2026-27 Q2"), ("contract_quarter", "2026-28 Q2"),
    ("contract_quarter", "2026-27 Q5"), ("contract_quarter", "2026-27"), ("contract_year", "2026-27 Q1"),
    ("contract_year", "2026-28"), ("contract_year", "2026"),
])
def test_labels_of_another_kind_are_refused(kind, label):
    assert _spec(kind).parse(label) is None
    with pytest.raises(ValueError, match=rf"^The period '{label}' is not "):
        _spec(kind).header_values(label)


def test_months_covered_and_months_after_the_period():
    quarter = _spec("contract_quarter").parse("2026-27 Q3")
    assert quarter.months == ["2026-10", "2026-11", "2026-12"] and quarter.end_month == "2026-12"
    keys = ["apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "jan", "feb", "mar"]
    months = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]
    grid = _spec("contract_quarter").month_keys(quarter, keys, months)
    assert grid["dec"] == "2026-12" and grid["jan"] == "2027-01"
    assert _spec("contract_quarter").months_after(quarter, keys, months) == ["jan", "feb", "mar"]
    assert _spec("contract_year").months_after(_spec("contract_year").parse("2026-27"), keys, months) == []
    assert _spec("contract_quarter").in_contract_order(months) and not _spec("contract_quarter", 1).in_contract_order(months)


def test_contract_year_start_of_a_month():
    assert _spec("month").contract_year_start(D(2027, 2, 10)) == D(2026, 4, 1)
    assert _spec("month", 1).contract_year_start(D(2027, 2, 10)) == D(2027, 1, 1)
    assert _spec("month").contract_year_first(D(2026, 4, 1)) == 2026


def test_labels_of_whichever_kind_and_quarters_of_a_day():
    assert parse_any("2026-27 Q2").end_month == "2026-09" and parse_any("2026-10").end_month == "2026-10"
    assert parse_any("2026-27").end == D(2027, 3, 31) and parse_any("Q2") is None
    assert period_of("contract_quarter", D(2026, 11, 5)).label == "2026-27 Q3"
    assert period_of("contract_quarter", D(2026, 11, 5), 7).label == "2026-27 Q2"


def test_a_period_kind_needs_its_header_fields():
    with pytest.raises(ValueError, match="a contract_year period needs 'year_field'"):
        PeriodSpec(kind="contract_year")
    with pytest.raises(ValueError, match="a contract_quarter period needs 'quarter_field'"):
        PeriodSpec(kind="contract_quarter", year_field="y")


# -- a yearly return, as a spec file only ----------------------------------------------------
YEARLY = textwrap.dedent('''
    [return]
    id = "yearly_trial"
    title = "A yearly trial return"
    short_title = "Yearly trial"
    version = "1.0"
    name_prefix = "YT"
    guidance_source = "AtW MHSS guidance, chapter 7"
    guidance_short = "AtW"

    [period]
    kind = "contract_year"
    year_field = "contract_year"
    year_start_month = 9

    [header]
    provider = "provider"
    contract = "contract"
    submitted = "date_submitted"

    [column_sets.one]
    keys = ["year"]
    labels = ["Contract year"]

    [[sheets]]
    name = "Header"
    title = "About this return"
    kind = "form"
    guidance = "7.26"

    [[sheets.fields]]
    id = "provider"
    label = "Provider"
    definition = "The provider."
    type = "text"
    required = true
    guidance = "7.26"

    [[sheets.fields]]
    id = "contract"
    label = "Contract reference"
    definition = "The contract."
    type = "text"
    required = true
    guidance = "7.26"

    [[sheets.fields]]
    id = "contract_year"
    label = "Contract year"
    definition = "The contract year, written as 2026-27."
    type = "text"
    required = true
    pattern = '^\\d{4}-\\d{2}$'
    guidance = "7.26"

    [[sheets.fields]]
    id = "date_submitted"
    label = "Date submitted"
    definition = "The day the return is sent."
    type = "date"
    required = true
    guidance = "7.26"

    [[sheets.fields]]
    id = "people_helped"
    label = "People helped in the year"
    definition = "People helped."
    type = "count"
    required = true
    guidance = "7.27"
''')


@pytest.fixture
def yearly(tmp_path: Path):
    path = tmp_path / "yearly_trial.toml"
    path.write_text(YEARLY, encoding="utf-8")
    return load_spec_file(path)


def _fill(template: Path, out: Path, spec, values: dict) -> None:
    wb = openpyxl.load_workbook(template)
    for fid, value in values.items():
        sheet, ref = next(iter(wb.defined_names[spec.defined_name(fid)].destinations))
        wb[sheet][ref.replace("$", "")] = value
    wb.save(out)


def test_a_contract_year_spec_loads_templates_and_validates(yearly, tmp_path):
    assert yearly.period.kind == "contract_year" and yearly.period.cadence == "Make one return for each contract year."
    assert parse_period(yearly, "2026-27") == {"contract_year": "2026-27"}
    template = tmp_path / "blank.xlsx"
    write_template(yearly, template, provider="Northbridge", contract="AtW-C1", period="2026-27")
    filled = tmp_path / "filled.xlsx"
    _fill(template, filled, yearly, {"date_submitted": dt.datetime(2027, 9, 3), "people_helped": 41})
    report = validate_file(filled, specs={yearly.id: yearly}, as_of=D(2027, 9, 3))
    assert report.verdict == "valid", [f.message for f in report.findings]
    assert (report.return_id, report.period, report.period_end) == ("yearly_trial", "2026-27", D(2027, 8, 31))


def test_a_contract_year_period_with_a_quarter_field_missing_is_fine_but_a_kind_typo_is_a_spec_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(YEARLY.replace('kind = "contract_year"', 'kind = "contract_yr"'), encoding="utf-8")
    with pytest.raises(SpecError, match=r"^bad\.toml: key 'period\.kind': .*'contract_year'"):
        load_spec_file(path)


def test_a_run_of_months_in_words():
    """One home for a span of months (the draft e-mails and the attention list each built their own)."""
    from kpd_returns.spec.periods import months_title

    assert months_title("2026-10", "2026-10") == "October 2026"
    assert months_title("2026-04", "2026-10") == "April to October 2026"
    assert months_title("2025-12", "2026-02") == "December 2025 to February 2026"


def test_no_module_outside_spec_periods_decides_what_a_period_label_is():
    """Issue 21 item 5's check: grep -rn 'd{4}-' kpd_returns --include='*.py' finds nothing outside
    spec/periods.py (a contract year "2025-26" has the shape of a month, so only that module may tell them
    apart; the shapes of a month and a day are its MONTH_PATTERN, ISO_DAY and is_month)."""
    root = Path(__file__).resolve().parents[1]
    found = [f"{p.relative_to(root)}:{n}" for p in sorted((root / "kpd_returns").rglob("*.py"))
             if p.relative_to(root).as_posix() != "kpd_returns/spec/periods.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "d{4}-" in line]
    assert found == []


def test_a_contract_year_from_the_service_start_is_the_contract_s_own():
    """AtW 7.26: a contract year from the Service Start Date (read from its first month), not from April."""
    spec = PeriodSpec(kind="contract_year", month_field="year_start", year_start="service_start")
    august = spec.for_service_start("2024-08")
    assert august.parse("2025-26") == Period("2025-26", D(2025, 8, 1), D(2026, 7, 31))
    assert august.header_values("2025-26") == {"month": D(2025, 8, 1)}
    assert august.containing(D(2026, 3, 9)).label == "2025-26"
    assert august.following(august.parse("2025-26")).start == D(2026, 8, 1)
    # The file itself says where its year starts: twelve months from the month it gives, whatever the default.
    assert spec.from_header(month=D(2025, 11, 20)) == Period("2025-26", D(2025, 11, 1), D(2026, 10, 31))
    # A stored period end gives the year back (the ledger keeps the end only).
    assert spec.ending_on(D(2026, 10, 31)).months[0] == "2025-11" and len(spec.ending_on(D(2026, 10, 31)).months) == 12
    assert spec.for_service_start(None) is spec and spec.for_service_start("August") is spec
    assert PeriodSpec(kind="month", month_field="m").for_service_start("2024-08").year_start_month == 4
    with pytest.raises(ValueError, match="is for a contract_year period"):
        PeriodSpec(kind="month", month_field="m", year_start="service_start")
    with pytest.raises(ValueError, match="needs 'month_field'"):
        PeriodSpec(kind="contract_year", year_start="service_start")
    with pytest.raises(ValueError, match="read from its first month"):
        PeriodSpec(kind="contract_year", year_field="y", month_field="m", year_start="service_start")


def test_a_quarter_or_a_year_on_a_chart_axis():
    """A quarterly or yearly section's chart has a point a period, named in two short lines, the year only where
    it changes (packs.svg_charts.period_axis_labels, spec.periods.axis_parts)."""
    from kpd_returns.packs.svg_charts import period_axis_labels
    from kpd_returns.spec.periods import axis_parts

    assert axis_parts("2026-27 Q2") == ("Q2", "2026-27")
    assert axis_parts("Contract year 2025-26") == ("2025-26", "")
    assert period_axis_labels(["2025-26 Q4", "2026-27 Q1", "2026-27 Q2"]) == [
        ("Q4", "2025-26"), ("Q1", "2026-27"), ("Q2", "")]


def test_a_period_on_a_chart_axis_is_written_as_text():
    """The axis labels of a quarterly or yearly chart come from the ledger: written escaped, never as markup."""
    from kpd_returns.packs.svg_charts import Series, line_chart, period_axis_labels

    svg = line_chart("c", ["2026-09"], [Series("Starts", [1.0])], title="t", desc="d", percent=False,
                     axis=period_axis_labels(["<b>2026-27</b> Q2"]))
    assert ">&lt;b&gt;2026-27&lt;/b&gt;</text>" in svg and "<b>" not in svg
