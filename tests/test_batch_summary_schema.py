"""summary.json: valid against docs/batch-summary-schema.json, and it lists the late and missing returns."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import jsonschema
import pytest

from kpd_returns.cli.batch import run_consolidate, run_status
from kpd_returns.intake.consolidate import SUMMARY_SCHEMA_VERSION
from test_consolidate_gen import InboxBuilder, Provider, small_inbox

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "batch-summary-schema.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("summary")
    exp = small_inbox(base / "inbox")
    # One provider sends October late (12 November: the deadline was 4 November) and one sends nothing.
    more = InboxBuilder(base / "more")
    late = Provider(3, "Late Provider Ltd", "file")
    more.deliver(late, "mmir", "2026-10", more.workbook("mmir", "2026-10", late, submitted=dt.date(2026, 11, 12)),
                 more.name("mmir", "2026-10", late), "accepted with warnings")
    with exp.providers_csv.open("a", encoding="utf-8") as fh:
        fh.write(f"{late.name},{late.mmir_contract},mmir,england-and-wales\n")
        fh.write("Silent Provider Ltd,AtW-T-99,mmir,england-and-wales\n")
    buf = io.StringIO()
    run_consolidate([base / "inbox", base / "more"], out_dir=base / "out", providers=exp.providers_csv,
                    periods=["2026-10"], as_of="2026-11-27", workers="1", progress=False, out=buf, err=buf,
                    packs=False)
    return base, exp, json.loads((base / "out" / "summary.json").read_text(encoding="utf-8"))


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"].endswith(f":{SUMMARY_SCHEMA_VERSION}")


def test_a_real_summary_validates(run):
    _base, _exp, summary = run
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(summary)]
    assert errors == []
    assert summary["schema_version"] == SUMMARY_SCHEMA_VERSION == "1.3"


def test_the_summary_lists_the_late_and_missing_returns_as_status_does(run):
    base, exp, summary = run
    listed = summary["late_and_missing"]
    # October with its contract year to date: the silent provider owes April to October.
    assert [(r["status"], r["provider"], r["period"]) for r in listed] == [
        ("late", "Late Provider Ltd", "2026-10")] + [
        ("missing", "Silent Provider Ltd", f"2026-{m:02d}") for m in range(4, 11)]
    assert listed[0]["late_working_days"] == 6  # 5, 6, 9, 10, 11, 12 November
    buf = io.StringIO()
    assert run_status(db=base / "out" / "ledger.sqlite", providers=exp.providers_csv, as_of="2026-11-27",
                      fmt="json", out=buf, err=buf) == 0
    status = json.loads(buf.getvalue())["returns"]  # every period: consolidate's scope is within it
    # status 1.1 adds each return's queries open and explained; summary.json lists the register's columns.
    assert listed == [{k: v for k, v in r.items() if not k.startswith("queries_")} for r in status
                      if r["status"] in ("late", "missing") and r["period"] <= "2026-10" and r["return_type"] == "mmir"]
    late = [r for r in listed if r["status"] == "late"]
    assert all(r["late_working_days"] >= 1 and r["received"] for r in late)
    assert all(r["received"] is None and r["late_working_days"] is None for r in listed if r["status"] == "missing")


def test_the_schema_refuses_a_summary_without_the_list(run):
    _base, _exp, summary = run
    broken = {k: v for k, v in summary.items() if k != "late_and_missing"}
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(broken)
