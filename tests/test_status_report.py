"""`kpd-returns status`: a table that reads at 80 columns, and --format json|csv with every column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace

from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.intake.ledger import RegisterRow
from kpd_returns.render.status_report import write_status

AS_OF = dt.date(2026, 11, 20)


def _row(provider, contract, period, status, received=None, late=None, resubmissions=0, files=1, **kw):
    return RegisterRow(provider=provider, contract=contract, return_id=kw.pop("return_id", "mmir"), period=period,
                       status=status, received_at=received, deadline=dt.datetime(2026, 11, 4, 23, 59),
                       late_working_days=late, resubmissions=resubmissions, files=files, **kw)


ROWS = [
    _row("Calder Valley Work Partnership", "AtW-MHSS-C022", "2026-10", "on time", dt.datetime(2026, 11, 3, 9, 15)),
    _row("Meridian Skills and Health Ltd", "AtW-MHSS-C047", "2026-10", "late", dt.datetime(2026, 11, 9, 16, 40),
         late=3, resubmissions=2, files=3),
    _row("Eastgate Pathways Ltd", "AtW-MHSS-C058", "2026-10", "missing", files=0, in_register=True),
    _row("Unregistered Employment Services Ltd", "AtW-MHSS-C099", "2026-10", "on time", dt.datetime(2026, 11, 2),
         received_date_only=True, in_register=False),
]


def _text(rows, width=None) -> str:
    out = io.StringIO()
    if width is None:
        write_status(rows, AS_OF, out, "text")
    else:
        from kpd_returns.render.status_report import write_text

        write_text(rows, AS_OF, out, width=width)
    return out.getvalue()


def test_at_80_columns_every_line_fits_and_dates_are_whole(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    text = _text(ROWS)  # not a terminal: 80 columns
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "…" not in text
    calder = next(line for line in text.splitlines() if "AtW-MHSS-C022" in line)
    assert "2026-11-03 09:15" in calder and "2026-11-04" in calder
    meridian = next(line for line in text.splitlines() if "AtW-MHSS-C047" in line)
    assert "late by 3" in meridian and "2026-11-09 16:40" in meridian
    assert "MMIR for October 2026, as at 2026-11-20" in text
    assert "on time *" in text and "* not in the providers register." in text
    assert "Left out to fit 80 columns: Resubmitted, Files" in " ".join(text.split("\n"))
    assert text.splitlines()[-1] == "2 on time, 1 late, 1 missing."


def test_a_wide_screen_shows_every_column():
    text = _text(ROWS, width=140)
    header = next(line for line in text.splitlines() if line.startswith("Provider"))
    assert header.split() == ["Provider", "Contract", "Status", "Received", "Deadline", "Resubmitted", "Files"]
    assert "Left out" not in text


def test_a_narrow_screen_wraps_the_provider_name():
    text = _text(ROWS, width=70)
    assert max(len(line) for line in text.splitlines()) <= 70, text
    assert "Unregistered" in text and "Services Ltd" in text  # wrapped, nothing cut


def test_json_has_every_column_and_the_counts():
    out = io.StringIO()
    write_status(ROWS, AS_OF, out, "json")
    doc = json.loads(out.getvalue())
    assert doc["schema"] == "kpd-returns/status" and doc["as_of"] == "2026-11-20"
    assert doc["counts"] == {"on time": 2, "late": 1, "rejected only": 0, "missing": 1, "not yet due": 0}
    late = doc["returns"][1]
    assert late == {"return_type": "mmir", "period": "2026-10", "provider": "Meridian Skills and Health Ltd",
                    "contract": "AtW-MHSS-C047", "status": "late", "in_register": True,
                    "received": "2026-11-09T16:40:00", "deadline": "2026-11-04T23:59:00", "late_working_days": 3,
                    "resubmissions": 2, "files": 3, "queries_open": 0, "queries_explained": 0}
    assert doc["returns"][3]["received"] == "2026-11-02"


def test_csv_has_a_header_and_a_row_per_return_and_keeps_names_text():
    rows = ROWS + [_row("=HYPERLINK(\"x\")", "AtW-MHSS-C100", "2026-10", "missing", files=0)]
    out = io.StringIO()
    write_status(rows, AS_OF, out, "csv")
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(table) == 5
    assert table[1]["received"] == "2026-11-09T16:40:00" and table[1]["late_working_days"] == "3"
    assert table[4]["provider"].startswith("'=")


def test_the_command_takes_format_and_refuses_an_unknown_one(tmp_path):
    from kpd_returns.intake.ledger import Ledger

    db = tmp_path / "ledger.sqlite"
    with Ledger(db):
        pass
    runner = CliRunner()
    result = runner.invoke(app, ["status", "--db", str(db), "--as-of", "2026-11-20", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output)["returns"] == []
    result = runner.invoke(app, ["status", "--db", str(db), "--format", "xml"])
    assert result.exit_code == 2 and "--format must be text, json or csv" in result.output


def test_status_shows_open_and_explained_queries():
    """Issue 13: the central team sees explanations in kpd-returns status."""
    from kpd_returns.spec import findings as F

    open_q = F.make("implausible-value", sheet="Staffing", cell="D15", found=20, expected=15)
    explained = replace(F.make("implausible-value", sheet="Staffing", cell="E15", found=19, expected=15),
                        explanation="A recruitment drive in May.")
    rows = [_row("Calder Valley Work Partnership", "AtW-MHSS-C012", "2026-10", "on time",
                 received=dt.datetime(2026, 11, 3, 9, 15), current_file_id=7)]
    queries = {7: [open_q, explained]}
    text = io.StringIO()
    write_status(rows, AS_OF, text, "text", queries)
    assert "Queries on current returns: 1 open, 1 explained by the provider." in text.getvalue()
    words = " ".join(text.getvalue().split())  # wrapped to the width
    assert 'implausible-value at Staffing!E15, explained: "A recruitment drive in May."' in words
    out = io.StringIO()
    write_status(rows, AS_OF, out, "json", queries)
    doc = json.loads(out.getvalue())
    assert doc["schema_version"] == "1.1"
    assert (doc["returns"][0]["queries_open"], doc["returns"][0]["queries_explained"]) == (1, 1)
    assert doc["explanations"] == [{"return_type": "mmir", "period": "2026-10",
                                    "provider": "Calder Valley Work Partnership", "contract": "AtW-MHSS-C012",
                                    "code": "implausible-value", "ref": "Staffing!E15",
                                    "explanation": "A recruitment drive in May."}]
