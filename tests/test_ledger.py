"""The ledger: schema and migrations, duplicates, current returns, cross-return checks, the submissions register."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import pytest

from kpd_returns.spec import findings as F
from kpd_returns.intake.ledger import Ledger, LedgerError, contract_key
from kpd_returns.intake.ledger_schema import MIGRATIONS, SCHEMA_VERSION
from kpd_returns.spec.model import FileReport
from kpd_returns.intake.registry import Registry, RegistryEntry, RegistryError, load_registry
from kpd_returns.intake.submissions import submissions_register

D = dt.date
T = dt.datetime


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def mmir_report(tag: str, *, provider="Provider A", contract="AtW-C1", period="2026-10", submitted=None,
                source="email", volumes=None, bad=False, name=None) -> FileReport:
    y, m = int(period[:4]), int(period[5:])
    end = (D(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))
    values = []
    for fid, (in_month, ytd) in (volumes or {"referrals": (10, 10)}).items():
        values += [(fid, "in_month", "", float(in_month)), (fid, "year_to_date", "", float(ytd))]
    values.append(("kpi_outside_reasons", "kpi3_2024", "", "=SUM(A1) typed by a provider"))
    findings = [F.make("required-missing", sheet="Header", cell="B5", field="contact", field_label="MI contact")] if bad else []
    return FileReport(path=f"in/{tag}.xlsx", name=name or f"{tag}.xlsx", sha256=sha(tag), return_id="mmir",
                      version="1.0", provider=provider, contract=contract, period=period, period_end=end,
                      findings=findings, submitted=submitted or T(end.year + (end.month == 12), end.month % 12 + 1, 2, 10, 0),
                      submitted_source=source, values=values)


def kpd_report(tag: str, quarter: str, months: dict[str, float], *, contract="CPA 07", submitted=None) -> FileReport:
    q = int(quarter[1])
    end = {1: D(2026, 6, 30), 2: D(2026, 9, 30), 3: D(2026, 12, 31), 4: D(2027, 3, 31)}[q]
    keys = {"apr": "2026-04", "may": "2026-05", "jun": "2026-06", "jul": "2026-07", "aug": "2026-08", "sep": "2026-09"}
    values = [("staff_senior", k, keys[k], v) for k, v in months.items()]
    return FileReport(path=f"{tag}.xlsx", name=f"{tag}.xlsx", sha256=sha(tag), return_id="kpd", version="1.0",
                      provider="Northbridge", contract=contract, period=f"2026-27 {quarter}", period_end=end,
                      submitted=submitted or T(end.year, end.month, end.day) + dt.timedelta(days=10),
                      submitted_source="email", values=values)


@pytest.fixture()
def ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as led:
        yield led


# -- schema --------------------------------------------------------------------------------
def test_new_ledger_has_the_current_schema(tmp_path):
    path = tmp_path / "sub" / "l.sqlite"
    with Ledger(path) as led:
        assert led.schema_version == SCHEMA_VERSION
        assert led.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert led.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [r[0] for r in led.conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == [v for v, _, _ in MIGRATIONS]
        names = {r[0] for r in led.conn.execute("SELECT name FROM sqlite_master")}
        assert {"files", "findings", "file_values", "current_files", "valid_files"} <= names
        assert led.integrity_problems() == []
    with Ledger(path) as again:  # reopening changes nothing
        assert again.schema_version == SCHEMA_VERSION


def test_an_older_ledger_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    version, description, sql = MIGRATIONS[0]
    conn.executescript(sql)
    conn.execute("INSERT INTO schema_version VALUES (1, ?, '2026-01-01T00:00:00')", (description,))
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO files (sha256, name, source_path, verdict, ingested_at, return_id, contract, "
                 "contract_key, period, period_end, received_at) VALUES ('x', 'old.xlsx', 'old.xlsx', 'valid', "
                 "'2026-01-01', 'mmir', 'C1', 'c1', '2026-10', '2026-10-31', '2026-11-02T10:00:00')")
    conn.close()
    with Ledger(path) as led:
        assert led.schema_version == SCHEMA_VERSION
        assert [r.name for r in led.current_returns()] == ["old.xlsx"]


def test_a_ledger_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LedgerError, match="newer version"):
        Ledger(path)


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="not a kpd-returns ledger"):
        Ledger(path)


# -- adding files --------------------------------------------------------------------------
def test_identical_file_is_added_once_and_says_where_it_is(ledger):
    first = ledger.add_report(mmir_report("a", name="october.xlsx", submitted=T(2026, 11, 2, 9, 30)),
                              source_path="in/october.xlsx")
    assert first.added
    again = ledger.add_report(mmir_report("a", name="copy.xlsx"), source_path="in/copy.xlsx")
    assert not again.added and again.file_id == first.file_id
    assert again.duplicate_message == "already in the ledger as october.xlsx, received 2026-11-02 09:30:00"
    assert ledger.file_count() == 1


def test_workbook_dates_are_stored_as_dates(ledger):
    r = mmir_report("a", submitted=T(2026, 11, 3), source="workbook")
    ledger.add_report(r, source_path="a.xlsx")
    row = ledger.find_sha256(r.sha256)
    assert row.received_text == "2026-11-03" and row.received_date_only
    assert row.received_at == T(2026, 11, 3)


def test_findings_and_values_are_stored_with_the_file(ledger):
    r = mmir_report("bad", bad=True)
    res = ledger.add_report(r, source_path="bad.xlsx", source_email="mail.eml", sender="mi@provider.example")
    row = ledger.file(res.file_id)
    assert row.verdict == "invalid" and row.errors == 1 and row.sender == "mi@provider.example"
    assert row.source_email == "mail.eml" and not row.current
    assert [f.code for f in ledger.findings(res.file_id)] == ["required-missing"]
    ledger.conn.execute("BEGIN")
    ledger.conn.execute("DELETE FROM files WHERE id = ?", (res.file_id,))  # cascades
    assert ledger.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 0
    assert ledger.conn.execute("SELECT COUNT(*) FROM file_values").fetchone()[0] == 0
    ledger.conn.execute("ROLLBACK")


def test_a_report_without_sha256_is_refused(ledger):
    r = mmir_report("x")
    r.sha256 = None
    with pytest.raises(ValueError):
        ledger.add_report(r, source_path="x")


# -- the current return --------------------------------------------------------------------
def test_latest_valid_submission_is_current_and_history_keeps_all(ledger):
    ledger.add_report(mmir_report("v1", submitted=T(2026, 11, 2, 9)), source_path="v1")
    ledger.add_report(mmir_report("v2", submitted=T(2026, 11, 5, 9), volumes={"referrals": (12, 12)}),
                      source_path="v2")
    ledger.add_report(mmir_report("v3-bad", submitted=T(2026, 11, 6, 9), bad=True), source_path="v3")
    ledger.add_report(mmir_report("other", contract="AtW-C2", provider="Provider B"), source_path="o")
    current = ledger.current_returns("mmir")
    assert [(r.contract, r.name) for r in current] == [("AtW-C1", "v2.xlsx"), ("AtW-C2", "other.xlsx")]
    assert current[0].received_at == T(2026, 11, 5, 9) and current[0].period_end == D(2026, 10, 31)
    hist = ledger.group_files()[("mmir", "atw-c1", "2026-10")]
    assert [(h.name, h.verdict, h.current) for h in hist] == [
        ("v1.xlsx", "valid", False), ("v2.xlsx", "valid", True), ("v3-bad.xlsx", "invalid", False)]
    vals = {(v.contract, v.field, v.key): v.value for v in ledger.current_values("mmir")}
    assert vals[("AtW-C1", "referrals", "in_month")] == 12.0
    assert vals[("AtW-C1", "kpi_outside_reasons", "kpi3_2024")] == "=SUM(A1) typed by a provider"
    assert ledger.finding_counts(current_only=False) == {"required-missing": 1}
    assert ledger.finding_counts() == {}


def test_an_earlier_submission_arriving_later_does_not_supersede(ledger):
    ledger.add_report(mmir_report("new", submitted=T(2026, 11, 5)), source_path="n")
    ledger.add_report(mmir_report("old", submitted=T(2026, 11, 2)), source_path="o")
    assert [r.name for r in ledger.current_returns()] == ["new.xlsx"]


def test_same_time_ties_do_not_depend_on_the_order_ingested(tmp_path):
    """Issue 19 item 18: intake.supersession's rule, not the order files were read in, breaks a tie."""
    currents = []
    for order in (("x1", "x2"), ("x2", "x1")):
        with Ledger(tmp_path / f"{order[0]}.sqlite") as led:
            for tag in order:
                led.add_report(mmir_report(tag, submitted=T(2026, 11, 2, 9)), source_path=tag)
            currents.append([r.name for r in led.current_returns()])
            assert [r.name for r in led.all_files() if r.current] == currents[-1]
    assert currents[0] == currents[1] and len(currents[0]) == 1


def test_contracts_match_whatever_their_case_and_spacing(ledger):
    assert contract_key("  cpa   07 ") == contract_key("CPA 07") == "cpa 07"
    ledger.add_report(mmir_report("a", contract="atw-c1", submitted=T(2026, 11, 2)), source_path="a")
    ledger.add_report(mmir_report("b", contract="AtW-C1 ", submitted=T(2026, 11, 3)), source_path="b")
    assert len(ledger.current_returns()) == 1


# -- cross-return checks -------------------------------------------------------------------
def test_ytd_discontinuity_is_a_warning_on_the_later_month_and_clears_when_fixed(ledger):
    ledger.add_report(mmir_report("sep", period="2026-09", volumes={"referrals": (10, 100)}), source_path="s")
    res = ledger.add_report(mmir_report("oct", period="2026-10", volumes={"referrals": (20, 125)}), source_path="o")
    assert [(f.code, f.severity, f.sheet, f.cell, f.found, f.expected) for f in res.cross_findings] == [
        ("ytd-discontinuity", "warning", "Volumes", "D5", "125", "120")]
    assert "September 2026's year to date (100) plus this month's in-month figure (20)" in res.cross_findings[0].message
    assert ledger.file(res.file_id).verdict == "valid"  # a warning never blocks the return
    # September is resubmitted with the right year to date: October's warning goes.
    ledger.add_report(mmir_report("sep-v2", period="2026-09", volumes={"referrals": (10, 105)},
                                  submitted=T(2026, 10, 20)), source_path="s2")
    assert ledger.findings(res.file_id) == []
    assert ledger.finding_counts() == {}


def test_ytd_order_of_arrival_does_not_matter(ledger):
    ledger.add_report(mmir_report("oct", period="2026-10", volumes={"referrals": (20, 125)}), source_path="o")
    res = ledger.add_report(mmir_report("sep", period="2026-09", volumes={"referrals": (10, 100)}), source_path="s")
    assert res.cross_findings == []  # the finding belongs to the later month
    oct_row = [r for r in ledger.current_returns() if r.period == "2026-10"][0]
    assert [f.code for f in ledger.findings(oct_row.file_id)] == ["ytd-discontinuity"]


def test_ytd_resets_at_the_contract_year_start(ledger):
    ledger.add_report(mmir_report("mar", period="2027-03", volumes={"referrals": (10, 500)}), source_path="m")
    ok = ledger.add_report(mmir_report("apr", period="2027-04", volumes={"referrals": (15, 15)}), source_path="a")
    assert ok.cross_findings == []
    bad = ledger.add_report(mmir_report("apr-b", contract="AtW-C9", period="2027-04",
                                        volumes={"referrals": (15, 515)}), source_path="b")
    assert [f.code for f in bad.cross_findings] == ["ytd-discontinuity"]
    assert "contract year starts in April" in bad.cross_findings[0].message
    # A register may move the year start: then April is an ordinary month.
    moved = ledger.add_report(mmir_report("apr-c", contract="AtW-C10", period="2027-04",
                                          volumes={"referrals": (15, 515)}), source_path="c",
                              year_start=lambda rid, contract: 7)
    assert moved.cross_findings == []


def test_kpd_restatement_reports_both_values(ledger):
    ledger.add_report(kpd_report("q1", "Q1", {"apr": 4.0, "may": 5.0, "jun": 6.0}), source_path="q1")
    res = ledger.add_report(kpd_report("q2", "Q2", {"apr": 4.0, "may": 5.5, "jun": 6.0, "jul": 7.0, "aug": 7.0,
                                                    "sep": 7.0}), source_path="q2")
    assert [(f.code, f.severity, f.sheet, f.cell, f.found, f.expected) for f in res.cross_findings] == [
        ("kpd-restatement", "warning", "Staffing", "D5", "5.5", "5")]
    msg = res.cross_findings[0].message
    assert "May 2026" in msg and "2026-27 Q1 return reported 5" in msg


# -- the submissions register ------------------------------------------------------------
def test_register_statuses(ledger):
    reg = Registry([
        RegistryEntry("Provider A", "AtW-C1", ("mmir",), "england-and-wales", first_period="2026-09"),
        RegistryEntry("Provider B", "AtW-C2", ("mmir",), "scotland", first_period="2026-09"),
        RegistryEntry("Provider C", "AtW-C3", ("mmir",), "england-and-wales", first_period="2026-09"),
    ])
    # A: September on time (resubmitted later), October late by 2 working days.
    ledger.add_report(mmir_report("a9", period="2026-09", submitted=T(2026, 10, 2, 9)), source_path="x")
    ledger.add_report(mmir_report("a9b", period="2026-09", submitted=T(2026, 10, 9, 9)), source_path="x")
    ledger.add_report(mmir_report("a10", period="2026-10", submitted=T(2026, 11, 6, 9)), source_path="x")
    # B: September rejected only; October missing.
    ledger.add_report(mmir_report("b9", contract="AtW-C2", provider="Provider B", period="2026-09", bad=True),
                      source_path="x")
    # An unregistered contract still shows.
    ledger.add_report(mmir_report("z10", contract="AtW-C99", provider="Stray Ltd", period="2026-10"), source_path="x")
    rows = submissions_register(ledger, as_of=D(2026, 11, 10), register=reg)
    got = {(r.contract, r.period): (r.status, r.late_working_days, r.resubmissions, r.files, r.in_register)
           for r in rows}
    assert got == {
        ("AtW-C1", "2026-09"): ("on time", 0, 1, 2, True),
        ("AtW-C1", "2026-10"): ("late", 2, 0, 1, True),
        ("AtW-C2", "2026-09"): ("rejected only", None, 0, 1, True),
        ("AtW-C2", "2026-10"): ("missing", None, 0, 0, True),
        ("AtW-C3", "2026-09"): ("missing", None, 0, 0, True),
        ("AtW-C3", "2026-10"): ("missing", None, 0, 0, True),
        ("AtW-C99", "2026-10"): ("on time", 0, 0, 1, False),
    }
    a9 = next(r for r in rows if (r.contract, r.period) == ("AtW-C1", "2026-09"))
    assert a9.received_at == T(2026, 10, 2, 9) and a9.deadline == T(2026, 10, 5, 23, 59)
    # Before October's deadline (Wed 4 November), October is not yet due.
    early = submissions_register(ledger, as_of=D(2026, 11, 4), register=reg, periods={"2026-10"})
    assert {r.contract: r.status for r in early} == {"AtW-C1": "late", "AtW-C2": "not yet due",
                                                    "AtW-C3": "not yet due", "AtW-C99": "on time"}


def test_register_uses_the_providers_uk_division(ledger):
    # December 2026: the 3rd working day after 31 December is Wed 6 January 2027 in England and Wales,
    # Thu 7 January in Scotland (2 January is a bank holiday there, moved to Monday 4 January).
    reg = Registry([RegistryEntry("E", "AtW-E", ("mmir",), "england-and-wales", first_period="2026-12"),
                    RegistryEntry("S", "AtW-S", ("mmir",), "scotland", first_period="2026-12")])
    for c in ("AtW-E", "AtW-S"):
        ledger.add_report(mmir_report(c, contract=c, period="2026-12", submitted=T(2027, 1, 7, 10)), source_path="x")
    rows = {r.contract: r for r in submissions_register(ledger, as_of=D(2027, 2, 1), register=reg, periods={"2026-12"})}
    assert (rows["AtW-E"].status, rows["AtW-E"].late_working_days) == ("late", 1)
    assert (rows["AtW-S"].status, rows["AtW-S"].late_working_days, rows["AtW-S"].deadline) == (
        "on time", 0, T(2027, 1, 7, 23, 59))


def test_without_a_register_expected_is_what_the_ledger_has_seen(ledger):
    ledger.add_report(mmir_report("a9", period="2026-09"), source_path="x")
    ledger.add_report(mmir_report("a10", period="2026-10"), source_path="x")
    ledger.add_report(mmir_report("b10", contract="AtW-C2", period="2026-10"), source_path="x")
    rows = submissions_register(ledger, as_of=D(2026, 12, 1), register=None)
    assert [(r.contract, r.period, r.status) for r in rows] == [
        ("AtW-C1", "2026-09", "on time"), ("AtW-C1", "2026-10", "on time"), ("AtW-C2", "2026-10", "on time")]


def test_service_start_sets_the_first_period_for_each_return_type(ledger):
    reg = Registry([RegistryEntry("K", "CPA 07", ("kpd",), service_start="2026-08")])
    ledger.add_report(kpd_report("q2", "Q2", {"apr": 1.0}), source_path="x")
    rows = submissions_register(ledger, as_of=D(2027, 2, 1), register=reg)
    assert [(r.period, r.status) for r in rows] == [("2026-27 Q2", "on time"), ("2026-27 Q3", "missing")]


# -- register files ------------------------------------------------------------------------
def test_register_csv_and_toml(tmp_path):
    csv_path = tmp_path / "providers.csv"
    csv_path.write_text("# who owes what\nProvider,CPA,Return types,UK division,Service start,First period\n"
                        "Northbridge,CPA 07,kpd;mmir,Scotland,2026-04,kpd=2026-27 Q1;mmir=2026-05\n"
                        "Calder,CPA 12,kpd,,,\n", encoding="utf-8")
    reg = load_registry(csv_path)
    assert [(e.provider, e.contract, e.returns, e.region) for e in reg.entries] == [
        ("Northbridge", "CPA 07", ("kpd", "mmir"), "scotland"), ("Calder", "CPA 12", ("kpd",), "england-and-wales")]
    from kpd_returns.spec.return_spec import get_spec
    assert reg.entries[0].first_period_for(get_spec("mmir")) == "2026-05"
    assert reg.entries[0].first_period_for(get_spec("kpd")) == "2026-27 Q1"
    assert reg.region_for("cpa 07") == "scotland"
    toml_path = tmp_path / "providers.toml"
    toml_path.write_text('[[providers]]\nprovider = "Harbourside"\ncontract = "AtW-C031"\nreturns = ["mmir"]\n'
                         'service_start = "2026-06"\nyear_start_month = 7\n', encoding="utf-8")
    reg = load_registry(toml_path)
    assert reg.entries[0].returns == ("mmir",) and reg.year_start("mmir", "atw-c031") == 7


@pytest.mark.parametrize("body, message", [
    ("provider,contract,returns\nA,,kpd\n", "line 2, column 2: the contract"),
    ("provider,contract,returns\nA,C1,payroll\n", "'payroll' is not a return type"),
    ("provider,contract,returns,region\nA,C1,kpd,Wales and England\n", "is not a UK division"),
    ("provider,contract,returns\nA,C1,kpd\nB,c1,kpd\n", "already expects a kpd return"),
    ("provider,contract,colour\n", "the heading 'colour'"),
    ("provider,contract,returns,service_start\nA,C1,kpd,April\n", "is not a month"),
])
def test_register_problems_name_the_line(tmp_path, body, message):
    p = tmp_path / "providers.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(RegistryError, match=message):
        load_registry(p)


def test_the_sample_register_lists_every_sample_provider():
    from pathlib import Path

    from kpd_returns.author import samples

    reg = load_registry(Path(__file__).resolve().parents[1] / "samples" / "providers.csv")
    expected = {(p.name, c, rid) for p in samples.PROVIDERS for rid, cs in p.contracts.items() for c in cs}
    assert {(e.provider, e.contract, r) for e in reg.entries for r in e.returns} == expected
