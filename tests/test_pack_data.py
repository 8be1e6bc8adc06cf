"""The pack data adapter (kpd_returns.packs.pack_data): ledger rows -> KPI engine inputs -> PackData.

Built from hand-made rows (tests/test_pack_fixtures.py), no ledger. Guidance: AtW 7.05 (four
bases from the Service Start Date), 7.16 (cohort targets), 7.18-7.19 (tiers), KPD 9-15.
"""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace as Row

import pytest
from test_pack_fixtures import (ACME, AS_OF, CPA, CPA2, HOSTILE, LOT1, MISSING, NORTH, PERIOD, acme_counts, build_rows,
                                months)

from kpd_returns.spec.periods import month_title
from kpd_returns.packs.publication import PUBLICATION_COLUMNS, write_publication_csv, write_publication_json
from kpd_returns.packs.pack_data import (accepted_months, build_packs, kpi_counts, missing_months, period_end_month,
                                   publication, quarter_end_at_or_before, slugify, social_value_input)


@pytest.fixture(scope="module")
def packs():
    return {p.slug: p for p in build_packs(period=PERIOD, as_of=AS_OF, **build_rows())}


@pytest.fixture(scope="module")
def complete():
    return {p.slug: p for p in build_packs(period=PERIOD, as_of=AS_OF, **build_rows(missing=None))}


def line(pack, kpi, cohort, contract=LOT1):
    return next(x for c in pack.contracts if c.contract == contract for x in c.lines
                if x.kpi == kpi and x.cohort == cohort)


def test_kpi_counts_from_rows_both_cohorts_and_unusable_rows_noted():
    rows = [Row(contract="C 1", period="2026-10", month="2026-10", field=f, key=k, value=v) for f, k, v in (
        ("kpi_cases_due", "kpi3_2024", 10.0), ("kpi_within_target", "kpi3_2024", 9.0),
        ("kpi_outside_target", "kpi3_2024", 1.0), ("kpi_cases_due", "kpi3_2026", 4.0),
        ("kpi_within_target", "kpi3_2026", 4.0), ("kpi_cases_due", "kpi3_2030", 1.0),
        ("kpi_within_target", "kpi3_2030", 1.0), ("kpi_cases_due", "kpi4_2024", 2.0),
        ("kpi_within_target", "kpi4_2024", 3.0), ("kpi_outside_reasons", "kpi3_2024", "text"))]
    counts, notes = kpi_counts(rows)
    assert sorted((c.kpi, c.cohort, c.due, c.within, c.outside) for c in counts["c 1"]) == [
        (3, "2024", 10, 9, 1), (3, "2026", 4, 4, 0)]
    assert notes == ["KPI 3 cohort 2030, C 1 2026-10: unknown referral cohort, not counted.",
                     "KPI 4 cohort 2024, C 1 2026-10: 3 within target of 2 due, not counted."]


def test_missing_months_are_those_without_a_current_accepted_mmir_atw_7_05():
    returns = [Row(return_id="mmir", contract="X", period=m, verdict=v) for m, v in
               (("2026-07", "valid"), ("2026-08", "invalid"), ("2026-10", "valid-with-warnings"))]
    accepted = accepted_months(returns, "mmir")
    assert accepted == {"x": {"2026-07", "2026-10"}}
    assert missing_months(accepted["x"], "2026-06", "2026-10") == ["2026-06", "2026-08", "2026-09"]


def test_period_helpers():
    assert period_end_month("2026-27 Q2") == "2026-09" and period_end_month("2026-27 Q4") == "2027-03"
    assert period_end_month("2026-10") == "2026-10" and period_end_month("Q2") is None
    assert quarter_end_at_or_before("2026-10") == "2026-09" and quarter_end_at_or_before("2026-12") == "2026-12"
    assert slugify("<script>alert(1)</script> & Co") == "script-alert-1-script-co" and slugify("!!!") == "provider"


def test_incomplete_month_marks_the_windows_that_include_it(packs):
    acme = packs["acme-health-ltd"]
    k3 = line(acme, 3, "2024")
    assert k3.cell("in_month") == (93.3, "93.3%")  # 28 of 30 in 2026-10
    assert k3.cell("rolling_3")[0] is not None  # 2026-08..10 all received
    assert k3.cell("rolling_12") == (None, f"Incomplete: {month_title(MISSING)} missing")
    assert k3.cell("cumulative") == (None, f"Incomplete: May 2025, {month_title(MISSING)} missing")  # 2025-05 was rejected
    assert k3.tier is None and k3.tier_text == "Not rated: incomplete"
    assert k3.meets_text == "Yes where known (not known: rolling 12 months, cumulative)"
    assert acme.contracts[0].missing == ["2025-05", MISSING]
    trend = [p.month for p in k3.trend if p.incomplete]
    assert trend == [MISSING] and "Gaps where the return is missing or rejected: February 2026." in k3.chart_description()


def test_complete_windows_get_published_tiers_in_words_atw_7_18_7_19(complete):
    acme = complete["acme-health-ltd"]
    k3 = line(acme, 3, "2024")
    ms = months("2025-11", PERIOD)
    due = sum(acme_counts(m)[(3, "2024")][0] for m in ms)
    within = sum(acme_counts(m)[(3, "2024")][1] for m in ms)
    assert k3.cell("rolling_12")[0] == round(100 * within / due, 1) == 91.7
    assert (k3.tier, k3.tier_text) == (4, "4 - Good")
    k3_2026 = line(acme, 3, "2026")  # both cohorts shown once the 2026 cohort has cases (from 2026-09)
    assert k3_2026.target == 95.0 and k3_2026.cell("rolling_12") == (100.0, "100.0%")
    assert line(acme, 1, "2024").tier_text == "Not published (no tier)"
    assert line(acme, 4, "2026").cell("in_month") == (None, "No cases due")


def test_change_against_last_month_in_words(complete):
    acme = complete["acme-health-ltd"]
    assert line(acme, 1, "2024").change_text == "▲ up 2.5 points"  # 39/40 -> 40/40
    assert line(acme, 5, "2024").change_text == "▼ down 10.0 points"  # 10/10 -> 9/10
    assert line(acme, 1, "2026").change_text == "No change"
    assert line(acme, 4, "2026").change_text == "Not known: no cases due in September 2026"


def test_social_value_from_the_quarter_end_month_atw_7_16(packs):
    sv = packs["acme-health-ltd"].contracts[0].social_value
    assert (sv.quarter_end, sv.quarter) == ("2026-09", "2026-27 Q2")
    assert sv.result.achieved == (True, True, False) and sv.tier_text == "3 - Near Target"
    assert sv.score_text == "2 of 3 measures achieved (66.7%)"
    hostile = packs["script-alert-1-script-co"].contracts[0].social_value
    assert hostile.measures()[2] == ("Measure 3", "No companies over 500 employees", "Achieved")


def test_social_value_returned_without_measures_asks_for_them():
    rows = build_rows()
    rows["values"]["mmir"] = [v for v in rows["values"]["mmir"] if not (v.contract == LOT1 and v.field.startswith("sv_"))]
    acme = next(p for p in build_packs(period=PERIOD, as_of=AS_OF, **rows) if p.provider == ACME)
    sv = acme.contracts[0].social_value
    assert sv.tier_text == "Not rated: measures not returned"
    assert any(a.item.kind == "social_value" and "not all returned" in a.item.fact for a in acme.attention)
    assert social_value_input(rows["values"]["mmir"], LOT1, "2026-09") == (None, None)


def test_attention_list_from_register_findings_and_kpis(packs):
    acme = packs["acme-health-ltd"]
    facts = [(a.item.severity, a.item.fact) for a in acme.attention]
    assert facts[0] == (1, f"The MMIR for {month_title(MISSING)} is missing.")
    assert (2, "The MMIR for October 2026 was received 2 working days late.") in facts
    assert (2, "2 open errors on returns: a total that does not add up (2).") in facts
    assert [s for s, _ in facts] == sorted(s for s, _ in facts)
    assert acme.findings == {"total-mismatch": 2, "implausible-value": 1}
    north = packs["northern-works"]
    assert north.attention[0].contract == CPA2 and "3 working days late" in north.attention[0].item.fact


def test_register_limited_to_the_12_months_to_the_report_month(packs):
    periods = [r["period"] for r in packs["acme-health-ltd"].register]
    assert periods == months("2025-11", PERIOD)


def test_kpd_section_months_and_national_median_kpd_15(packs):
    [kpd] = packs["acme-health-ltd"].sections
    assert kpd.return_id == "kpd" and kpd.contracts() == [CPA]
    by = kpd.by_month(CPA)
    assert sorted(by) == months("2026-04", "2026-09")  # restated in Q2: one figure per month
    assert by["2026-04"].measure("fte_total") == 32.5 and by["2026-04"].measure("caseload_total") == 1040
    assert by["2026-04"].groups[1].title == '=HYPERLINK("http://x") <b>needs support</b>'
    assert kpd.national["2026-04"].providers == 2
    assert packs["northern-works"].contracts == [] and packs["northern-works"].sections[0].contracts() == [CPA2]


def test_provider_selection_by_name_contract_or_slug():
    rows = build_rows()
    assert [p.provider for p in build_packs(period=PERIOD, as_of=AS_OF, providers=["atw-mhss-lot1"], **rows)] == [ACME]
    assert [p.provider for p in build_packs(period=PERIOD, as_of=AS_OF, providers=["northern-works"], **rows)] == [NORTH]
    with pytest.raises(ValueError, match="No provider or contract 'Nobody'"):
        build_packs(period=PERIOD, as_of=AS_OF, providers=["Nobody"], **rows)


def test_national_pack_sums_every_contract(packs):
    nat = packs["national"]
    assert nat.is_national and nat.contracts[0].contract == "All contracts"
    k1 = next(x for x in nat.lines if x.kpi == 1 and x.cohort == "2024")
    assert k1.month_counts["2026-10"] == (45, 45)  # Acme 40 + hostile 5
    assert {p for p, _ in nat.overview} == {ACME, HOSTILE}
    assert [a["provider"] for a in nat.attention_summary] == [HOSTILE, ACME, NORTH]


def test_contract_service_start_from_the_register():
    packs = build_packs(period=PERIOD, as_of=AS_OF, service_starts={"atw-mhss-lot1": "2026-03"}, **build_rows())
    acme = next(p for p in packs if p.provider == ACME).contracts[0]
    assert acme.service_start == "2026-03" and acme.missing == []
    k3 = line(next(p for p in packs if p.provider == ACME), 3, "2024")
    assert k3.cell("cumulative")[0] is not None  # 2026-03..10 all received
    assert k3.cell("rolling_12")[1].endswith("(since start)")  # clipped at the Service Start Date (AtW 7.05)


def test_publication_rows_shape_and_files(packs, tmp_path):
    quarter, rows = publication(list(packs.values()), PERIOD)
    assert quarter == "2026-27 Q2"
    assert all(set(r) == set(PUBLICATION_COLUMNS) for r in rows)
    lot1 = [r for r in rows if r["contract_identifier"] == LOT1]
    assert [r["kpi"] for r in lot1] == ["KPI 3", "KPI 3", "KPI 4", "KPI 5", "Social Value KPI"]
    assert lot1[0]["period_covered"] == "2025-10 to 2026-09" and lot1[0]["incomplete"] is True
    assert lot1[-1]["tier_name"] == "Near Target" and lot1[-1]["reg39_rating"] == "Approaching target"
    assert all(r["contracting_authority"] == "Department for Work and Pensions" for r in rows)
    write_publication_csv(rows, tmp_path / "p.csv")
    write_publication_json(rows, tmp_path / "p.json")
    with open(tmp_path / "p.csv", newline="", encoding="utf-8") as fh:
        read = list(csv.DictReader(fh))
    assert len(read) == len(rows) and list(read[0]) == list(PUBLICATION_COLUMNS)
    hostile = [r for r in read if r["supplier"].startswith("<script>")]
    assert hostile and all(r["contract_identifier"].startswith("'=") for r in hostile)  # no formula in a spreadsheet
    assert len(json.loads((tmp_path / "p.json").read_text())) == len(rows)
