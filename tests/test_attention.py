"""Attention items and Action Plan prompts (kpd_returns.packs.attention): AtW 7.06, 7.22; WHP ch.16 Annex A."""

from __future__ import annotations

import pytest

from kpd_returns.packs.attention import ACTION_PLAN_SECTION, attention_items
from kpd_returns.packs.kpis import MonthKpiCounts, SocialValueInput, kpi_windows, load_kpi_config, social_value_kpi

MONTHS = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]  # 12 months to 2026-10


@pytest.fixture(scope="module")
def cfg():
    return load_kpi_config()


def counts_below_target():
    c = [MonthKpiCounts(m, 3, "2024", 100, 84, 16) for m in MONTHS]  # 84.0% every month: tier 1 (< 85)
    c += [MonthKpiCounts(m, 1, "2024", 100, 97 if m == "2026-10" else 100, 3 if m == "2026-10" else 0) for m in MONTHS]
    return c


def test_provider_below_target_items_in_severity_order_atw_7_06_7_22(cfg):
    windows = kpi_windows(counts_below_target(), "2026-10", config=cfg)
    items = attention_items(
        "Acme Ltd", windows=windows, config=cfg,
        social_value=social_value_kpi(SocialValueInput(50, 50, 1, 50), cfg),
        returns=[("mmir", "2026-10", "accepted", 2), ("mmir", "2026-09", "accepted", 0)],
        findings={"total-mismatch": 3, "implausible-value": 1, "required-missing": 0})
    assert [(i.severity, i.kind) for i in items] == [
        (1, "tier"), (1, "kpi_target"), (1, "social_value"), (2, "return"), (2, "findings"),
        (3, "kpi_target"), (3, "findings")]
    tier, k3, sv, late, errors, k1, warnings = items
    subject = "KPI 3 Submitting the Support Plan (Referred Aug 2024 to Aug 2026)"
    assert tier.fact == (f"{subject} is in tier 1 Inadequate on the rolling 12 months November 2025 to October 2026 (84.0%): "
                         "it would be published as 'Inadequate'.")
    assert tier.prompt.startswith("Consider what it would take to reach 85% (Needs Improvement) on the rolling 12")
    assert tier.guidance == "AtW 7.18-7.19"
    assert k3.fact.startswith(f"{subject} is below its 90% target: 84.0% in month (6.0 points below); "
                              "84.0% rolling 3 months (6.0 points below); 84.0% rolling 12 months (6.0 points below)")
    assert k3.prompt.startswith("Consider what is delaying Support Plans beyond 31 days")
    assert k3.prompt.endswith("set a dated improvement action in the Action Plan.")
    assert k3.guidance == "AtW 7.16; AtW 7.05"
    # KPI 1: 97% in month (2 points below 99%) but 99.0% rolling 3 and 99.75% rolling 12: in month only
    assert k1.fact == ("KPI 1 Acknowledging the referral (Referred Aug 2024 to Aug 2026) is below its 99% target: "
                       "97.0% in month (2.0 points below).")
    assert sv.fact.startswith("Social Value: Improve Health and Wellbeing: 0 of 3 measures achieved (0.0%), tier 1")
    assert late.fact == "The MMIR for October 2026 was received 2 working days late." and late.guidance == "AtW 7.24"
    assert errors.fact == "3 open errors on returns: a total that does not add up (3)."
    assert warnings.fact == "1 open warning on returns: an implausibly high figure (1)."
    assert all(i.provider == "Acme Ltd" and i.prompt.startswith("Consider") for i in items)
    assert items[0].to_dict()["action_plan_section"] == ACTION_PLAN_SECTION == "Specific Areas Requiring Action"
    assert items[0].to_dict()["severity_label"] == "high"


def test_cohort_2026_tier_2_and_stricter_target_atw_7_19(cfg):
    counts = [MonthKpiCounts(m, 4, "2026", 50, 46, 4) for m in MONTHS]  # 92.0%: meets 90, not 95
    items = attention_items("Acme Ltd", windows=kpi_windows(counts, "2026-10", config=cfg), config=cfg)
    assert [(i.severity, i.kind) for i in items] == [(1, "kpi_target"), (2, "tier")]
    assert "below its 95% target" in items[0].fact and "(3.0 points below)" in items[0].fact
    assert "tier 2 Needs Improvement" in items[1].fact and "'Requires improvement'" in items[1].fact
    assert "reach 92.5% (Near Target)" in items[1].prompt


def test_missing_and_rejected_returns_come_first_atw_7_24(cfg):
    items = attention_items("Acme Ltd", config=cfg, returns=[
        ("mmir", "2026-09", "Rejected", None), ("kpd", "2026-27 Q1", "missing", None),
        ("mmir", "2026-08", "accepted", None)])
    assert [(i.severity, i.subject) for i in items] == [(1, "KPD return for 2026-27 Q1"), (1, "MMIR for September 2026")]
    assert items[0].guidance == "KPD intro 4" and items[1].guidance == "AtW 7.24"
    assert "rejected" in items[1].fact and items[1].prompt.startswith("Consider what caused the MMIR for September 2026")


def test_on_target_provider_and_incomplete_windows_need_no_kpi_items_atw_7_05(cfg):
    counts = [MonthKpiCounts(m, 3, "2024", 10, 10, 0) for m in MONTHS]
    ok = kpi_windows(counts, "2026-10", config=cfg)
    assert attention_items("Acme Ltd", windows=ok, config=cfg) == []
    bad = [MonthKpiCounts(m, 3, "2024", 10, 1, 9) for m in MONTHS]
    gap = kpi_windows(bad, "2026-10", missing_months=set(MONTHS), config=cfg)
    assert attention_items("Acme Ltd", windows=gap, config=cfg) == []  # every window incomplete


def test_social_value_not_returned_is_flagged_atw_7_16(cfg):
    sv = social_value_kpi(SocialValueInput(None, 100, 0, None), cfg)
    [item] = attention_items("Acme Ltd", social_value=sv, config=cfg)
    assert (item.severity, item.kind) == (2, "social_value") and "measure1_pct" in item.fact
    assert attention_items("Acme Ltd", social_value=social_value_kpi(SocialValueInput(100, 100, 0, None), cfg),
                           config=cfg) == []
