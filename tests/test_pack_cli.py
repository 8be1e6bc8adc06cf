"""`kpd-returns pack` and write_packs(): from a real SQLite ledger to the files, names, exit codes."""

from __future__ import annotations

import csv
import json

import pytest
from test_pack_fixtures import AS_OF, MISSING, PERIOD, ledger_from_rows
from typer.testing import CliRunner

from kpd_returns.cli.main import app
from kpd_returns.spec.periods import month_title
from kpd_returns.packs.build import PackUsageError, load_packs, write_packs

SLUGS = ["script-alert-1-script-co", "acme-health-ltd", "northern-works", "national"]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return ledger_from_rows(tmp_path_factory.mktemp("ledger") / "kpd-ledger.sqlite")


def test_write_packs_names_and_publication(ledger, tmp_path):
    paths = write_packs(ledger, tmp_path, PERIOD, as_of=AS_OF)
    names = [p.name for p in paths]
    assert names == [f"pack-{PERIOD}-{s}.{ext}" for s in SLUGS for ext in ("xlsx", "html")] + [
        "publication-2026-27-Q2.csv", "publication-2026-27-Q2.json"]
    with open(tmp_path / "publication-2026-27-Q2.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["supplier"] for r in rows} == {"Acme Health Ltd", "<script>alert(1)</script> & Co"}
    assert {r["quarter"] for r in rows} == {"2026-27 Q2"}
    assert json.loads((tmp_path / "publication-2026-27-Q2.json").read_text())[0]["contracting_authority"] == \
        "Department for Work and Pensions"
    assert not list(tmp_path.glob(".*.tmp"))


def test_same_ledger_same_bytes(ledger, tmp_path):
    a = write_packs(ledger, tmp_path / "a", PERIOD, as_of=AS_OF)
    b = write_packs(ledger, tmp_path / "b", PERIOD, as_of=AS_OF)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_provider_selection_and_format(ledger, tmp_path):
    paths = write_packs(ledger, tmp_path, PERIOD, providers=["ATW-MHSS-LOT1"], formats=("html",), as_of=AS_OF)
    assert [p.name for p in paths] == [f"pack-{PERIOD}-acme-health-ltd.html"]
    with pytest.raises(ValueError, match="No provider or contract 'Nobody'"):
        write_packs(ledger, tmp_path, PERIOD, providers=["Nobody"], as_of=AS_OF)
    with pytest.raises(PackUsageError, match="--format 'pdf'"):
        write_packs(ledger, tmp_path, PERIOD, formats=("pdf",), as_of=AS_OF)


def test_register_adds_missing_months_and_service_start(ledger, tmp_path):
    register = tmp_path / "providers.csv"
    register.write_text("provider,contract,returns,region,service_start\n"
                        "Acme Health Ltd,ATW-MHSS-LOT1,mmir,england-and-wales,2024-08\n", encoding="utf-8")
    (acme,) = load_packs(ledger, PERIOD, providers=["Acme Health Ltd"], as_of=AS_OF, register=register)
    assert [r["status"] for r in acme.register if r["period"] == MISSING] == ["missing"]
    assert acme.attention[0].item.fact == f"The MMIR for {month_title(MISSING)} is missing."
    assert acme.contracts[0].service_start == "2024-08"


def test_cli_pack_command(ledger, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["pack", "--period", PERIOD, "--out", str(tmp_path), "--db", str(ledger),
                                 "--as-of", AS_OF.isoformat(), "--provider", "northern works", "--format", "xlsx",
                                 "--marking", "OFFICIAL"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(tmp_path / f"pack-{PERIOD}-northern-works.xlsx"),
                                          f"1 file written to {tmp_path}."]


@pytest.mark.parametrize("args, message", [
    (["--period", "2026-13"], "--period '2026-13' is not a month"),
    (["--period", PERIOD, "--as-of", "20/11/2026"], "--as-of '20/11/2026' is not a date"),
    (["--period", PERIOD, "--provider", "Nobody"], "No provider or contract 'Nobody'"),
    (["--period", PERIOD, "--all", "--provider", "Acme Health Ltd"], "Give --provider or --all, not both."),
])
def test_cli_pack_refuses_with_exit_2(ledger, tmp_path, args, message):
    result = CliRunner().invoke(app, ["pack", "--out", str(tmp_path), "--db", str(ledger), *args])
    assert result.exit_code == 2 and message in result.output


def test_cli_pack_without_a_ledger(tmp_path):
    result = CliRunner().invoke(app, ["pack", "--period", PERIOD, "--out", str(tmp_path), "--db",
                                      str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2 and "There is no ledger at" in result.output
