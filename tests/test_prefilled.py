"""Templates sent out pre-filled (issue 15 item 5): one per registered contract owing the return."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from kpd_returns.author import samples
from kpd_returns.cli.main import app
from kpd_returns.checks.validate import validate_file
from kpd_returns.spec.personal_data import mask_all

REGISTER = Path(__file__).resolve().parents[1] / "samples" / "providers.csv"
# What a provider still has to type: empty required cells, nothing else.
MISSING_DATA = {"required-missing", "month-missing", "social-value-missing", "caseload-management-missing",
                "required-missing-query", "social-value-missing-query"}  # the queries of issue 20


def _run(*args):
    return CliRunner().invoke(app, ["template", *args])


def test_one_locked_prefilled_template_per_owing_contract(specs, tmp_path):
    for return_id, period in (("kpd", "2026-27 Q2"), ("mmir", "2026-09")):
        spec = specs[return_id]
        result = _run(return_id, "--providers", str(REGISTER), "--period", period, "--out", str(tmp_path / return_id))
        assert result.exit_code == 0, result.output
        paths = sorted((tmp_path / return_id).iterdir())
        assert len(paths) == (5 if return_id == "kpd" else 4)
        for path in paths:
            assert path.name.startswith(f"{return_id}-") and path.name.endswith(f"-{samples._slug(period)}.xlsx")
            wb = openpyxl.load_workbook(path)
            header = {fid: samples.named_cells(wb, spec, fid)[""]
                      for fid in (spec.header.provider, spec.header.contract)}
            assert all(c.value and c.protection.locked for c in header.values())
            assert path.name == (f"{return_id}-{samples._slug(header[spec.header.provider].value)}-"
                                 f"{samples._slug(header[spec.header.contract].value)}-{samples._slug(period)}.xlsx")
            report = validate_file(path)
            codes = {f.code for f in report.findings if f.code != "submitted-late"}  # lateness depends on today
            assert codes and codes <= MISSING_DATA, codes
            prefilled = {spec.header.provider, spec.header.contract, spec.period.month_field,
                         spec.period.year_field, spec.period.quarter_field} - {None}
            assert not [f for f in report.findings if f.field in prefilled]
            assert report.period == (period if return_id == "mmir" else "2026-27 Q2")


def test_prefilled_templates_are_byte_identical_across_runs(tmp_path):
    for out in ("a", "b"):
        result = _run("kpd", "--providers", str(REGISTER), "--period", "2026-27 Q2", "--out", str(tmp_path / out))
        assert result.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)


def test_a_contract_not_yet_owing_gets_none(tmp_path):
    result = _run("mmir", "--providers", str(REGISTER), "--period", "2026-03", "--out", str(tmp_path))
    assert result.exit_code == 0 and "nothing written" in result.output
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_give_one_sentence_and_exit_2(tmp_path):
    result = _run("kpd", "--providers", str(REGISTER), "--period", "2026 Q2", "--out", str(tmp_path))
    assert result.exit_code == 2 and "2026-27 Q2" in result.output and "Traceback" not in result.output
    result = _run("kpd", "--providers", str(REGISTER), "--period", "2026-27 Q2")
    assert result.exit_code == 2 and "--out" in result.output
    result = _run("kpd", "--providers", str(tmp_path / "none.csv"), "--period", "2026-27 Q2", "--out", str(tmp_path))
    assert result.exit_code == 2 and "none.csv" in result.output


def test_template_without_a_file_or_a_register_says_what_to_give():
    result = _run("kpd")
    assert result.exit_code == 2 and "--providers" in result.output and "Traceback" not in result.output


def test_an_ended_contract_gets_none_and_a_row_with_personal_data_is_refused(specs, tmp_path):
    """When a contract owes returns is decided by submissions.owed_span, as everywhere else: a contract
    whose service ended gets no template; a row with personal data gets none either (item 9 below)."""
    from kpd_returns.author.prefilled import write_prefilled
    from kpd_returns.intake.registry import registry_from_text

    register = registry_from_text(
        "provider,contract,returns,first_period,service_end\n"
        "Going Ltd,ATW-ENDED,mmir,2026-04,2026-06\n"
        "Staying Ltd,ATW-STAYS,mmir,2026-04,\n"
        "Jane AB123456C Ltd,ATW-NAMED,mmir,2026-04,\n", "providers.csv")
    result = write_prefilled(specs["mmir"], register, "2026-09", tmp_path)
    assert [p.name for p in result.written] == ["mmir-staying-ltd-atw-stays-2026-09.xlsx"]
    assert len(result.refused) == 1 and "line 4" in result.refused[0] and "AB123456C" not in result.refused[0]


def _register(tmp_path, rows: str, name: str = "providers.csv") -> Path:
    path = tmp_path / name
    path.write_text("provider,contract,returns,first_period\n" + rows, encoding="utf-8")
    return path


def test_a_register_row_with_personal_data_is_refused_in_one_sentence(specs, tmp_path):
    """Issue 19 item 9: an NI number or e-mail in a register's provider or contract would be written into
    a locked cell, making a return that can only be rejected: that row is refused (exit 1, its file and
    line named, the value masked) and the other contracts' templates are still written."""
    register = _register(tmp_path, "Clean Ltd,ATW-CLEAN,mmir,2026-04\n"
                                   "Jane AB123456C Ltd,ATW-NAMED,mmir,2026-04\n"
                                   "Other Ltd,jane.smith@example.com,mmir,2026-04\n")
    out = tmp_path / "out"
    result = _run("mmir", "--providers", str(register), "--period", "2026-09", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "AB123456C" not in result.output and "jane.smith@example.com" not in result.output
    lines = [line for line in result.output.splitlines() if "providers.csv" in line]
    assert len(lines) == 2, result.output
    assert "line 3" in lines[0] and mask_all("AB123456C") in lines[0] and "National Insurance number" in lines[0]
    assert "line 4" in lines[1] and mask_all("jane.smith@example.com") in lines[1] and "e-mail address" in lines[1]
    assert "Wrote 1 pre-filled" in result.output
    assert [p.name for p in out.iterdir()] == ["mmir-clean-ltd-atw-clean-2026-09.xlsx"]
    # The same in a TOML register names the entry.
    toml = tmp_path / "providers.toml"
    toml.write_text('[[providers]]\nprovider = "Jane AB123456C Ltd"\ncontract = "ATW-NAMED"\nreturns = ["mmir"]\n'
                    'first_period = "2026-04"\n', encoding="utf-8")
    result = _run("mmir", "--providers", str(toml), "--period", "2026-09", "--out", str(tmp_path / "toml"))
    assert result.exit_code == 1 and "providers.toml: providers entry 1: the provider" in result.output
    assert "Wrote 0 pre-filled" in result.output and not list((tmp_path / "toml").iterdir())


def test_names_alike_after_sanitising_get_a_suffix_and_the_count_is_true(specs, tmp_path):
    """Issue 19 item 10: five contracts whose names sanitise alike each get their own file (a suffix, in
    register order), and the command counts the files it wrote."""
    contracts = ["ATW/001", "ATW-001", "ATW.001", "ATW 001", "ATW_001"]
    register = _register(tmp_path, "".join(f"Same Ltd,{c},mmir,2026-04\n" for c in contracts))
    for run in ("a", "b"):
        out = tmp_path / run
        result = _run("mmir", "--providers", str(register), "--period", "2026-09", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "Wrote 5 pre-filled" in result.output
        names = ["mmir-same-ltd-atw-001-2026-09.xlsx"] + [f"mmir-same-ltd-atw-001-2026-09-{n}.xlsx" for n in (2, 3, 4, 5)]
        assert [line.strip() for line in result.output.splitlines()[1:]] == names
        assert sorted(p.name for p in out.iterdir()) == sorted(names)
        spec = specs["mmir"]
        found = [samples.named_cells(openpyxl.load_workbook(out / n), spec, spec.header.contract)[""].value
                 for n in names]
        assert found == contracts
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)
