"""Templates sent out pre-filled (issue 15 item 5): one per registered contract owing the return."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from kpd_returns.author import samples
from kpd_returns.cli.main import app
from kpd_returns.checks.validate import validate_file

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


def test_an_ended_contract_gets_none_and_names_are_masked(specs, tmp_path):
    """When a contract owes returns is decided by submissions.owed_span, as everywhere else: a contract
    whose service ended gets no template; a name with personal data is masked in the file name."""
    from kpd_returns.author.prefilled import write_prefilled
    from kpd_returns.intake.registry import registry_from_text

    register = registry_from_text(
        "provider,contract,returns,first_period,service_end\n"
        "Going Ltd,ATW-ENDED,mmir,2026-04,2026-06\n"
        "Staying Ltd,ATW-STAYS,mmir,2026-04,\n"
        "Jane AB123456C Ltd,ATW-NAMED,mmir,2026-04,\n", "providers.csv")
    names = [p.name for p in write_prefilled(specs["mmir"], register, "2026-09", tmp_path)]
    assert names == ["mmir-staying-ltd-atw-stays-2026-09.xlsx", "mmir-jane-ab-6c-ltd-atw-named-2026-09.xlsx"]
