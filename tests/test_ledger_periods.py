"""Every figure carries its period in the ledger (issue 21 item 5): kind, label and the months covered,
for new figures and, by migration 6, for the figures of a ledger written before."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

from kpd_returns.intake.ledger import Ledger
from kpd_returns.packs.pack_inputs import field_values
from kpd_returns.intake.ledger_schema import MIGRATIONS, SCHEMA_VERSION, _statements
from kpd_returns.spec.model import FileReport
from kpd_returns.spec.periods import ValuePeriod, kind_of, period_heading, value_period

D = dt.date


def _report(tag: str, period: str, end: dt.date, kind: str | None, values) -> FileReport:
    return FileReport(path=f"{tag}.xlsx", name=f"{tag}.xlsx", sha256=hashlib.sha256(tag.encode()).hexdigest(),
                      return_id="example", version="1.0", provider="Northbridge", contract="C1", period=period,
                      period_end=end, period_kind=kind, submitted=dt.datetime(2026, 11, 2, 10),
                      submitted_source="email", values=values)


def _spans(led: Ledger) -> dict[tuple[str, str], tuple]:
    return {(r.field, r.key): tuple(r.span) for r in led.current_values("example")}


def test_a_quarterly_and_a_yearly_figure_carry_their_period_and_months(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        led.add_report(_report("q", "2026-27 Q2", D(2026, 9, 30), "contract_quarter",
                               [("spend", "row1", "", 10.0), ("staff", "jul", "2026-07", 3.0)]), source_path="q.xlsx")
        led.add_report(_report("y", "2025-26", D(2026, 3, 31), "contract_year", [("starts", "", "", 5.0)]), source_path="y.xlsx")
        spans = _spans(led)
    assert spans[("spend", "row1")] == ("contract_quarter", "2026-27 Q2", "2026-07", "2026-09")
    assert spans[("staff", "jul")] == ("month", "2026-07", "2026-07", "2026-07")
    assert spans[("starts", "")] == ("contract_year", "2025-26", "2025-04", "2026-03")


def test_an_old_ledger_migrates_and_its_figures_get_their_periods(tmp_path):
    """A ledger at schema 5 (before figures carried a period) with a monthly, a quarterly and a yearly
    return: after opening, each figure has its period; '2011-12' is told apart by its end."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, description, sql in MIGRATIONS:
        if version > 5:
            break
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, ?, '2026-01-01T00:00:00')", (version, description))
    conn.execute("PRAGMA user_version = 5")
    files = [(1, "2026-10", "2026-10-31"), (2, "2026-27 Q2", "2026-09-30"), (3, "2011-12", "2012-03-31"),
             (4, "2011-12", "2011-12-31")]
    for fid, period, end in files:
        conn.execute("INSERT INTO files (id, sha256, name, source_path, verdict, ingested_at, return_id, provider, "
                     "contract, contract_key, period, period_end, received_at) VALUES (?, ?, ?, ?, 'valid', "
                     "'2026-01-01', 'example', 'P', ?, ?, ?, ?, '2026-11-02T10:00:00')",
                     (fid, f"s{fid}", f"f{fid}.xlsx", f"f{fid}.xlsx", f"C{fid}", f"c{fid}", period, end))
    rows = [(1, "received", "in_month", "2026-10"), (2, "spend", "row1", ""), (2, "staff", "jul", "2026-07"),
            (3, "starts", "", ""), (4, "starts", "", "")]
    conn.executemany("INSERT INTO file_values (file_id, return_id, field, key, month, value_num) "
                     "VALUES (?, 'example', ?, ?, ?, 1.0)", rows)
    conn.close()
    with Ledger(path) as led:
        assert led.schema_version == SCHEMA_VERSION
        got = {(r.contract, r.field): tuple(r.span) for r in led.current_values("example")}
        assert led.integrity_problems() == []
    assert got == {
        ("C1", "received"): ("month", "2026-10", "2026-10", "2026-10"),
        ("C2", "spend"): ("contract_quarter", "2026-27 Q2", "2026-07", "2026-09"),
        ("C2", "staff"): ("month", "2026-07", "2026-07", "2026-07"),
        ("C3", "starts"): ("contract_year", "2011-12", "2011-04", "2012-03"),
        ("C4", "starts"): ("month", "2011-12", "2011-12", "2011-12"),
    }
    with Ledger(path) as again:  # opened again: checked against the migrated schema, unchanged
        assert again.schema_version == SCHEMA_VERSION


def test_periods_decide_kind_heading_and_months():
    assert kind_of("2025-26", D(2026, 3, 31)) == "contract_year"
    assert kind_of("2026-27 Q2", D(2026, 9, 30)) == "contract_quarter"
    assert kind_of("2026-10", D(2026, 10, 31)) == "month"
    assert value_period("", "contract_year", "2025-26", D(2026, 3, 31)).heading == "Contract year 2025-26"
    assert period_heading("contract_quarter", "2026-27 Q2") == "2026-27 Q2"
    assert period_heading("month", "2026-10") == "October 2026"
    assert value_period("", None, None, None) == ValuePeriod("", "", "", "")


def test_the_packs_place_a_yearly_figure_at_its_years_last_month_under_its_heading(tmp_path):
    """A contract year '2025-26' has the shape of a month: the packs once read it as one and stopped."""
    with Ledger(tmp_path / "l.sqlite") as led:
        led.add_report(_report("y", "2025-26", D(2026, 3, 31), "contract_year", [("starts", "in_year", "", 5.0)]),
                       source_path="y.xlsx")
        rows = led.current_values("example")
    (fv,) = field_values(rows)
    assert (fv.month, fv.period, fv.value) == ("2026-03", "Contract year 2025-26", 5.0)
