"""The Action Plan (validators/action_plan.toml; WHP ch.16 6-7, 9, 23, Annex A; AtW 7.06) through the command line:
the samples validate clean, an action without a target date or a measurable milestone is a query (SMART,
WHP ch.16 7: a row_condition rule at each cell)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CLEAN = SAMPLES / "returns" / "action_plan-northbridge-employment-ltd-atw-mhss-c014-2026-10.xlsx"


def kpd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_the_clean_sample_plan_validates_clean():
    run = kpd("validate", str(CLEAN))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Action Plan for October 2026" in run.stdout and "0 errors, 0 warnings" in run.stdout


def test_an_action_without_a_target_date_or_a_milestone_is_a_smart_query(tmp_path):
    wb = openpyxl.load_workbook(CLEAN)
    ws = wb["Actions"]
    headers = {ws.cell(4, c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(5, headers["Target date"]).value = None  # first action: not Timebound
    ws.cell(6, headers["Measurable milestone"]).value = None  # second action: not Measurable
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    run = kpd("validate", str(path))
    assert run.returncode == 0, run.stdout + run.stderr  # queries only: still valid, with warnings
    assert "0 errors, 2 warnings" in run.stdout
    assert "Actions!E5 (Target date, row 1): Give the action a target date" in run.stdout
    assert "Actions!F6 (Measurable milestone, row 2): Give the action a measurable milestone" in run.stdout
    assert run.stdout.count("row-condition-query") == 2 and "[WHP ch.16 7]" not in run.stdout.replace(
        "plausibility check", "")  # a query: cited as the project's plausibility check


# -- the pre-filled plan and the pack's review of it (WHP ch.16 9, 23) ----------------------------------------
MMIR_SEPT = SAMPLES / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"
REGISTER = """provider,contract,returns,region,service_start,first_period,year_start_month,profile
Northbridge Employment Ltd,AtW-MHSS-C014,mmir,england-and-wales,,2026-09,,
Northbridge Employment Ltd,AtW-MHSS-C014,action_plan,england-and-wales,,2026-08,,
"""


def _name(wb, name: str):
    """The (sheet, cell) a defined name points at."""
    dn = wb.defined_names[name]
    sheet, ref = next(iter(dn.destinations))
    return wb[sheet][ref.replace("$", "").split(":")[0]]


def _plan(tmp: Path, month: int, actions: list[tuple[str, str, str | None, str]]) -> Path:
    """The clean sample plan, for ``month`` of 2026, with these (area, action, target date, status) rows."""
    import datetime as dt

    wb = openpyxl.load_workbook(CLEAN)
    _name(wb, "ACTIONPLAN_plan_month").value = dt.datetime(2026, month, 1)
    _name(wb, "ACTIONPLAN_date_updated").value = dt.datetime(2026, month + 1, 2)
    ws = wb["Actions"]
    cols = {ws.cell(4, c).value: c for c in range(1, ws.max_column + 1)}
    for r in range(5, 5 + 40):
        for c in range(2, ws.max_column + 1):
            ws.cell(r, c).value = None
    for r, (area, action, target, status) in enumerate(actions, start=5):
        ws.cell(r, cols["Area requiring action"]).value = area
        ws.cell(r, cols["Action"]).value = action
        ws.cell(r, cols["Owner (role)"]).value = "Operations Manager"
        ws.cell(r, cols["Target date"]).value = dt.datetime.fromisoformat(target) if target else None
        ws.cell(r, cols["Measurable milestone"]).value = "KPI 3 at 90% or more in the month"
        ws.cell(r, cols["Status"]).value = status
    path = tmp / "inbox" / f"plan-2026-{month:02d}.xlsx"
    path.parent.mkdir(exist_ok=True)
    wb.save(path)
    return path


def _ledger(tmp: Path, *plans: Path) -> tuple[Path, Path]:
    import shutil

    inbox = tmp / "inbox"
    inbox.mkdir(exist_ok=True)
    shutil.copy(MMIR_SEPT, inbox / MMIR_SEPT.name)
    register = tmp / "providers.csv"
    register.write_text(REGISTER, encoding="utf-8")
    db = tmp / "ledger.sqlite"
    run = kpd("ingest", "--db", str(db), "--workers", "1", str(inbox), cwd=tmp)
    assert run.returncode == 0, run.stdout + run.stderr
    return db, register


def _attention_subjects(tmp: Path, db: Path, register: Path) -> list[str]:
    """The contract's items on the Attention sheet of the October pack, as `kpd-returns pack` writes it."""
    run = kpd("pack", "--db", str(db), "--period", "2026-10", "--out", str(tmp / "packs"), "--as-of", "2026-11-20",
              "--providers", str(register), "--format", "xlsx", cwd=tmp)
    assert run.returncode == 0, run.stdout + run.stderr
    wb = openpyxl.load_workbook(next((tmp / "packs").glob("pack-2026-10-northbridge*.xlsx")))
    ws = wb["Attention"]
    head = [c.value for c in ws[4]]
    rows = [dict(zip(head, (c.value for c in row))) for row in ws.iter_rows(min_row=5)]
    return [r["Subject"] for r in rows if r.get("Subject")]


def test_template_prefills_each_contract_s_plan_with_the_areas_of_its_attention_list(tmp_path):
    db, register = _ledger(tmp_path)
    subjects = _attention_subjects(tmp_path, db, register)
    # The known list: September's MMIR meets every target; October's is missing on 2026-11-20 (due 2026-11-04).
    assert subjects == ["MMIR for October 2026"]
    out = tmp_path / "outbox"
    run = kpd("template", "action_plan", "--providers", str(register), "--period", "2026-10", "--out", str(out),
              "--db", str(db), "--as-of", "2026-11-20", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    (path,) = out.glob("*.xlsx")
    assert path.name == "action_plan-northbridge-employment-ltd-atw-mhss-c014-2026-10.xlsx".replace("_", "-")
    assert "(1 area for attention filled in)" in run.stdout
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    areas = [ws.cell(r, 2).value for r in range(5, 5 + 40) if ws.cell(r, 2).value]
    assert areas == subjects
    assert not ws.cell(5, 2).protection.locked  # the provider may reword an area
    assert _name(wb, "ACTIONPLAN_contract").value == "AtW-MHSS-C014"
    # Without a ledger: one sentence, exit 2.
    run = kpd("template", "action_plan", "--providers", str(register), "--period", "2026-10", "--out", str(out),
              "--db", str(tmp_path / "none.sqlite"), cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.strip().startswith("There is no ledger at"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_the_next_pack_reviews_the_plan(tmp_path):
    area = "KPI 3 Submitting the Support Plan (Referred Aug 2024 to Aug 2026)"
    _plan(tmp_path, 8, [(area, "Daily check of Support Plans due.", "2026-12-31", "On track"),
                        ("Staff training", "Train two new practitioners.", "2026-12-31", "Complete")])
    _plan(tmp_path, 9, [(area, "Daily check of Support Plans due.", "2026-12-31", "Complete"),
                        ("Staff training", "Train two new practitioners.", "2026-12-31", "Complete"),
                        ("Referral volumes", "Agree a forecast with DWP.", "2026-10-15", "At risk")])
    db, register = _ledger(tmp_path)
    run = kpd("pack", "--db", str(db), "--period", "2026-10", "--out", str(tmp_path / "packs"), "--as-of",
              "2026-11-20", "--providers", str(register), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    html = next((tmp_path / "packs").glob("pack-2026-10-northbridge*.html")).read_text(encoding="utf-8")
    review = html[html.index('<h2 id="plan-review">'):html.index('<section aria-labelledby="chase">')]
    assert "Action Plan for September 2026 reviewed for AtW-MHSS-C014" in review
    assert "the last review was of the plan for August 2026" in review
    # An item for attention without an action: the missing October MMIR.
    assert ('<th scope="row" class="wrap">MMIR for October 2026</th><td>High</td><td colspan="5"><strong '
            'class="tag status-missing">No action</strong>') in review
    # Overdue: target 15 October 2026, at risk, reviewed on 20 November.
    overdue = review[review.index("Actions overdue"):]
    assert "Referral volumes" in overdue.split("</table>")[0] and "2026-10-15" in overdue.split("</table>")[0]
    # Complete since the last review: the KPI 3 action (on track in August); not the training, complete already.
    done = review[review.index("Actions complete since the last review"):].split("</table>")[0]
    assert area in done and "Staff training" not in done
    # The Excel pack has the same review on its own sheet.
    wb = openpyxl.load_workbook(next((tmp_path / "packs").glob("pack-2026-10-northbridge*.xlsx")))
    rows = list(wb["Action Plan review"].iter_rows(min_row=5, values_only=True))
    assert ("AtW-MHSS-C014", "September 2026", "Item for attention", "MMIR for October 2026", "1 - High",
            "No action in the plan", None, None, None, None) in rows
    assert [r[3] for r in rows if r[2] == "Overdue"] == ["Referral volumes"]
    assert [r[3] for r in rows if r[2] == "Complete since the last review"] == [area]


def test_a_review_naming_a_status_the_list_lacks_is_refused_at_load(tmp_path):
    """[pack_review] is checked against its list sheet when the specs load: one sentence naming file and key."""
    import os
    import shutil

    folder = tmp_path / "validators"
    shutil.copytree(ROOT / "validators", folder)
    spec = folder / "action_plan.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace('done = "Complete"', 'done = "Finished"'),
                    encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "rules", "action_plan"], capture_output=True,
                         text=True, env={**os.environ, "KPD_RETURNS_VALIDATORS": str(folder)}, timeout=300)
    assert run.returncode == 2
    assert "action_plan.toml: key 'pack_review.done': 'Finished' is not one of the status field's choices" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_return_type_is_found_however_its_name_is_written(tmp_path):
    """Issue 21 item 9 writes `template actionplan`: case, spaces, hyphens and underscores are set aside, by
    id or by display name; a name matching no type (or several) still gets the one sentence and exit 2."""
    for typed in ("actionplan", "Action Plan", "action-plan"):
        run = kpd("template", typed, str(tmp_path / f"{typed}.xlsx"))
        assert run.returncode == 0, run.stderr
        assert "Wrote the Action Plan template" in run.stdout
    assert kpd("rules", "atw yearly mi").stdout.startswith("AtW Yearly MI (")
    run = kpd("template", "plan", str(tmp_path / "x.xlsx"))
    assert run.returncode == 2 and "There is no return type 'plan'" in run.stderr
