"""KPI engine (kpd_returns.packs.kpis): every expected value below is worked out by hand."""

from __future__ import annotations

import csv
import json

import pytest

from kpd_returns.packs.kpis import (
    KpiConfigError, MonthKpiCounts, SocialValueInput, kpi_window, kpi_windows, load_kpi_config, social_value_kpi,
    trend, window_months,
)
from kpd_returns.packs.publication import (
    PUBLICATION_COLUMNS, publication_rows, quarter_label, write_publication_csv, write_publication_json,
)


@pytest.fixture(scope="module")
def cfg():
    return load_kpi_config()


def mk(month, kpi, cohort, due, within):
    return MonthKpiCounts(month, kpi, cohort, due, within, due - within)


# ---------------------------------------------------------------- configuration
def test_config_targets_and_published_kpis_atw_7_16_7_18(cfg):
    assert {k.id: (k.targets["2024"], k.targets["2026"]) for k in cfg.kpis} == {
        1: (99.0, 99.0), 2: (96.0, 96.0), 3: (90.0, 95.0), 4: (90.0, 95.0), 5: (90.0, 95.0)}
    assert [k.id for k in cfg.kpis if k.published] == [3, 4, 5]
    assert all(k.guidance == "AtW 7.16" for k in cfg.kpis)
    assert cfg.contracting_authority == "Department for Work and Pensions"
    assert cfg.service_start() == cfg.default_service_start == "2024-08"


def test_reg39_mapping_procurement_regulations_2024(cfg):
    assert [cfg.reg39_rating(t) for t in (4, 3, 2, 1)] == [
        "Good", "Approaching target", "Requires improvement", "Inadequate"]
    assert [cfg.tier_name(t) for t in (4, 3, 2, 1)] == ["Good", "Near Target", "Needs Improvement", "Inadequate"]
    assert cfg.reg39_rating(None) is None


def test_malformed_config_names_file_and_key(tmp_path):
    bad = tmp_path / "kpis.toml"
    text = open(load_kpi_config().source_path, encoding="utf-8").read()
    bad.write_text(text.replace("near_target = 87.5", 'near_target = "high"'), encoding="utf-8")
    with pytest.raises(KpiConfigError, match=r"^kpis\.toml: key 'tiers\.2024\.near_target': .*number"):
        load_kpi_config(bad)
    bad.write_text("contracting_authority = [", encoding="utf-8")
    with pytest.raises(KpiConfigError, match="kpis.toml: is not valid TOML"):
        load_kpi_config(bad)
    with pytest.raises(KpiConfigError, match="cannot be read"):
        load_kpi_config(tmp_path / "nope.toml")


def test_contract_service_start_from_config(tmp_path):
    text = open(load_kpi_config().source_path, encoding="utf-8").read()
    text += '\n[contracts."LOT2"]\nsupplier = "Acme Ltd"\nservice_start = "2026-10"\ntmpls = { headline = 12.5 }\n'
    p = tmp_path / "kpis.toml"
    p.write_text(text, encoding="utf-8")
    cfg = load_kpi_config(p)
    assert cfg.service_start("LOT2") == "2026-10" and cfg.service_start("OTHER") == "2024-08"
    assert cfg.contracts["LOT2"].tmpls == {"headline": 12.5}



def test_configured_start_follows_the_spec_that_names_the_config_not_a_return_id(monkeypatch):
    """A contract's Service Start Date comes from the KPI config a spec's [pack.kpis] names: any return
    whose spec names it gets it, a return without [pack.kpis] never does (issue 11 item 1)."""
    from kpd_returns.spec import kpi_config
    from kpd_returns.spec.return_spec import load_all

    read: list[str] = []
    config = kpi_config.default_config().model_copy(
        update={"contracts": {"lot2": kpi_config.ContractSettings(service_start="2026-10")}})
    monkeypatch.setattr(kpi_config, "config_named", lambda name: read.append(name) or config)
    with_kpis = kpi_config.kpi_spec()
    without = next(s for s in load_all().values() if s.pack is None or s.pack.kpis is None)
    assert kpi_config.configured_start(with_kpis, "LOT2") == "2026-10"
    assert kpi_config.configured_start(with_kpis, "OTHER") is None
    assert kpi_config.configured_start(without, "LOT2") is None
    # another return naming a config of its own is read from that file, whatever its id
    renamed = without.model_copy(update={"id": "quarterly", "pack": with_kpis.pack.model_copy(
        update={"kpis": with_kpis.pack.kpis.model_copy(update={"config": "other-kpis.toml"})})})
    assert kpi_config.configured_start(renamed, "lot2") == "2026-10"
    assert read == [with_kpis.pack.kpis.config, with_kpis.pack.kpis.config, "other-kpis.toml"]

# ---------------------------------------------------------------- windows (AtW 7.05)
def test_rolling_3_spans_contract_year_boundary_atw_7_05(cfg):
    counts = [mk("2027-02", 3, "2026", 50, 0),  # outside the window
              mk("2027-03", 3, "2026", 10, 9), mk("2027-04", 3, "2026", 20, 19), mk("2027-05", 3, "2026", 30, 27)]
    r = kpi_window(counts, 3, "2026", "2027-05", "rolling_3", config=cfg)
    assert r.months == ["2027-03", "2027-04", "2027-05"]
    assert (r.due, r.within) == (60, 55)
    assert r.percentage == 91.7  # 55 / 60 = 91.666...
    assert r.target == 95.0 and r.meets_target is False and r.gap == 3.3
    assert r.incomplete is False and r.partial_since_start is False
    assert r.tier is None  # tiers only on the rolling 12-month basis (AtW 7.18)
    m = kpi_window(counts, 3, "2026", "2027-05", "in_month", config=cfg)
    assert (m.months, m.percentage) == (["2027-05"], 90.0)


def test_window_with_missing_month_is_incomplete_atw_7_05(cfg):
    counts = [mk("2027-03", 3, "2026", 10, 9), mk("2027-05", 3, "2026", 30, 27)]
    r = kpi_window(counts, 3, "2026", "2027-05", "rolling_3", missing_months={"2027-04"}, config=cfg)
    assert r.incomplete is True and r.missing_months == ["2027-04"]
    assert r.percentage is None and r.meets_target is None and r.gap is None
    assert (r.due, r.within) == (40, 36)  # the months received, for information only
    # the in-month window for May is not affected by April being missing
    may = kpi_window(counts, 3, "2026", "2027-05", "in_month", missing_months={"2027-04"}, config=cfg)
    assert may.percentage == 90.0


def test_both_cohorts_have_their_own_targets_atw_7_16(cfg):
    counts = [mk("2026-10", 3, "2024", 100, 92), mk("2026-10", 3, "2026", 100, 92),
              mk("2026-10", 1, "2024", 100, 99), mk("2026-10", 1, "2026", 100, 98)]
    old = kpi_window(counts, 3, "2024", "2026-10", "in_month", config=cfg)
    new = kpi_window(counts, 3, "2026", "2026-10", "in_month", config=cfg)
    assert (old.percentage, old.target, old.meets_target, old.gap) == (92.0, 90.0, True, 0.0)
    assert (new.percentage, new.target, new.meets_target, new.gap) == (92.0, 95.0, False, 3.0)
    both = kpi_window(counts, 3, "all", "2026-10", "in_month", config=cfg)
    assert (both.due, both.within, both.percentage, both.target, both.meets_target) == (200, 184, 92.0, None, None)
    k1 = kpi_window(counts, 1, "all", "2026-10", "in_month", config=cfg)  # same 99% target for both cohorts
    assert (k1.percentage, k1.target, k1.meets_target, k1.gap) == (98.5, 99.0, False, 0.5)


def test_ratio_of_summed_counts_not_average_of_percentages_atw_7_05(cfg):
    counts = [mk("2026-11", 4, "2024", 2, 1), mk("2026-12", 4, "2024", 100, 99)]
    r = kpi_window(counts, 4, "2024", "2026-12", "rolling_3", config=cfg)
    # months: 50% and 99%; their average would be 74.5, the ratio is 100 / 102 = 98.04
    assert r.percentage == 98.0 and r.meets_target is True


def test_cumulative_from_service_start_and_partial_rolling_12_atw_7_05(cfg):
    counts = [mk("2026-09", 5, "2024", 1000, 0),  # before the Service Start Date: never counted
              mk("2026-10", 5, "2024", 10, 10), mk("2026-11", 5, "2024", 10, 8),
              mk("2026-12", 5, "2024", 10, 9), mk("2027-01", 5, "2024", 10, 9)]
    cum = kpi_window(counts, 5, "2024", "2027-01", "cumulative", service_start="2026-10", config=cfg)
    assert cum.months == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert (cum.due, cum.within, cum.percentage, cum.partial_since_start) == (40, 36, 90.0, False)
    r12 = kpi_window(counts, 5, "2024", "2027-01", "rolling_12", service_start="2026-10", config=cfg)
    assert r12.months == cum.months and r12.partial_since_start is True
    assert (r12.percentage, r12.tier, r12.tier_name, r12.reg39_rating) == (90.0, 4, "Good", "Good")
    with pytest.raises(ValueError, match="before the Service Start Date"):
        window_months("2026-09", "in_month", "2026-10")


def test_no_cases_due_gives_no_percentage(cfg):
    r = kpi_window([mk("2026-10", 5, "2026", 0, 0)], 5, "2026", "2026-10", "rolling_12", config=cfg)
    assert (r.due, r.percentage, r.meets_target, r.tier, r.incomplete) == (0, None, None, None, False)


def test_kpi_windows_covers_every_kpi_cohort_and_window(cfg):
    res = kpi_windows([mk("2026-10", 3, "2024", 10, 9)], "2026-10", config=cfg)
    assert len(res) == 5 * 3 * 4
    assert [(r.cohort, r.window) for r in res[:5]] == [
        ("2024", "in_month"), ("2024", "rolling_3"), ("2024", "rolling_12"), ("2024", "cumulative"),
        ("2026", "in_month")]


def test_bad_inputs_are_refused(cfg):
    with pytest.raises(ValueError, match="appears twice"):
        kpi_window([mk("2026-10", 3, "2024", 1, 1)] * 2, 3, "2024", "2026-10", "in_month", config=cfg)
    with pytest.raises(ValueError, match="unknown cohort '2025'"):
        kpi_window([mk("2026-10", 3, "2025", 1, 1)], 3, "2024", "2026-10", "in_month", config=cfg)
    with pytest.raises(ValueError, match="YYYY-MM"):
        window_months("2026-13", "in_month", "2024-08")
    with pytest.raises(ValueError, match="11 within target of 10 due"):
        kpi_window([mk("2026-10", 3, "2024", 10, 11)], 3, "2024", "2026-10", "in_month", config=cfg)


# ---------------------------------------------------------------- Cabinet Office tiers (AtW 7.19)
TIER_CASES = [  # (within, due, shown percentage, tier for cohort 2024, tier for cohort 2026)
    (950, 1000, 95.0, 4, 4), (949, 1000, 94.9, 4, 3), (925, 1000, 92.5, 4, 3), (924, 1000, 92.4, 4, 2),
    (900, 1000, 90.0, 4, 2), (899, 1000, 89.9, 3, 1), (875, 1000, 87.5, 3, 1), (874, 1000, 87.4, 2, 1),
    (850, 1000, 85.0, 2, 1), (849, 1000, 84.9, 1, 1),
    (8995, 10000, 90.0, 4, 2), (8994, 10000, 89.9, 3, 1),  # 89.95 rounds half up to 90.0; 89.94 to 89.9
    (9495, 10000, 95.0, 4, 4), (9494, 10000, 94.9, 4, 3), (1749, 2000, 87.5, 3, 1), (1849, 2000, 92.5, 4, 3),
]


@pytest.mark.parametrize("within,due,shown,tier_2024,tier_2026", TIER_CASES)
def test_tier_boundaries_atw_7_19(cfg, within, due, shown, tier_2024, tier_2026):
    for cohort, tier in (("2024", tier_2024), ("2026", tier_2026)):
        r = kpi_window([mk("2026-12", 3, cohort, due, within)], 3, cohort, "2026-12", "rolling_12", config=cfg)
        assert r.percentage == shown
        assert r.tier == tier, (cohort, shown)
        assert r.tier_name == cfg.tier_name(tier) and r.reg39_rating == cfg.reg39_rating(tier)
        assert r.meets_target is (shown >= r.target)


def test_no_tier_for_unpublished_kpi_or_mixed_cohorts_atw_7_18(cfg):
    counts = [mk("2026-12", 1, "2024", 100, 100), mk("2026-12", 3, "2024", 10, 10), mk("2026-12", 3, "2026", 10, 10)]
    assert kpi_window(counts, 1, "2024", "2026-12", "rolling_12", config=cfg).tier is None
    assert kpi_window(counts, 3, "all", "2026-12", "rolling_12", config=cfg).tier is None


# ---------------------------------------------------------------- Social Value KPI (AtW 7.16, 7.19)
@pytest.mark.parametrize("sv,count,pct,tier,rating", [
    (SocialValueInput(100, 100, 2, 100), 3, 100.0, 4, "Good"),
    (SocialValueInput(100, 100, 2, 50), 2, 66.7, 3, "Approaching target"),
    (SocialValueInput(100, 80, 2, 50), 1, 33.3, 2, "Requires improvement"),
    (SocialValueInput(99.9, 0, 3, 0), 0, 0.0, 1, "Inadequate"),
    (SocialValueInput(100, 100, 0, None), 3, 100.0, 4, "Good"),  # no company over 500: measure 3 achieved
    (SocialValueInput(50, 50, 0, None), 1, 33.3, 2, "Requires improvement"),
])
def test_social_value_score_and_tier_atw_7_16_7_19(cfg, sv, count, pct, tier, rating):
    r = social_value_kpi(sv, cfg)
    assert (r.achieved_count, r.percentage, r.tier, r.reg39_rating, r.incomplete) == (count, pct, tier, rating, False)


def test_social_value_incomplete_when_not_returned_atw_7_16(cfg):
    r = social_value_kpi(SocialValueInput(100, None, 4, None), cfg)
    assert r.incomplete and r.missing == ["measure2_pct", "measure3_pct"] and r.percentage is None and r.tier is None


# ---------------------------------------------------------------- trend
def test_trend_arrows_over_last_12_months_atw_7_20(cfg):
    counts = [mk(f"2026-{m:02d}", 3, "2024", 10, w) for m, w in ((1, 5), (2, 8), (3, 8), (4, 6))]
    pts = trend(counts, 3, "2024", "2026-05", missing_months={"2026-05"}, config=cfg)
    assert len(pts) == 12 and pts[0].month == "2025-06" and pts[-1].month == "2026-05"
    tail = [(p.month, p.percentage, p.change) for p in pts[-5:]]
    assert tail == [("2026-01", 50.0, None), ("2026-02", 80.0, "up"), ("2026-03", 80.0, "flat"),
                    ("2026-04", 60.0, "down"), ("2026-05", None, None)]
    # 2025-12 had no cases due, so 2026-01 has no arrow; 2026-05 is missing
    assert pts[0].percentage is None and pts[-1].incomplete
    short = trend(counts, 3, "2024", "2026-02", service_start="2026-01", config=cfg)
    assert [(p.month, p.change) for p in short] == [("2026-01", None), ("2026-02", "up")]


# ---------------------------------------------------------------- publication (AtW 7.17-7.18, reg. 39)
def test_quarter_label_contract_year():
    assert [quarter_label(m) for m in ("2026-06", "2026-09", "2026-12", "2027-03")] == [
        "2026-27 Q1", "2026-27 Q2", "2026-27 Q3", "2026-27 Q4"]
    with pytest.raises(ValueError, match="not the last month"):
        quarter_label("2026-08")


def _publication(cfg, **kw):
    counts = [mk(f"2025-{m:02d}", 3, "2024", 100, 90) for m in range(10, 13)]
    counts += [mk(f"2026-{m:02d}", 3, "2024", 100, 88) for m in range(1, 10)]  # 300 + 900 due, 270 + 792 within
    counts += [mk("2026-09", 3, "2026", 20, 19), mk("2026-09", 5, "2026", 10, 10)]
    return publication_rows("ATW-LOT1", "Acme Ltd", counts, "2026-09", config=cfg,
                            social_value=SocialValueInput(100, 100, 1, 50), **kw)


def test_publication_rows_shape_atw_7_17_7_18(cfg):
    rows = _publication(cfg)
    assert all(set(r) == set(PUBLICATION_COLUMNS) for r in rows)
    assert [(r["kpi"], r["cohort"]) for r in rows] == [
        ("KPI 3", "2024"), ("KPI 3", "2026"), ("KPI 4", "all"), ("KPI 5", "2026"), ("Social Value KPI", "all")]
    k3 = rows[0]
    assert k3 == {
        "contracting_authority": "Department for Work and Pensions", "contract_identifier": "ATW-LOT1",
        "supplier": "Acme Ltd", "kpi": "KPI 3", "kpi_name": "Submitting the Support Plan", "cohort": "2024",
        "cohort_label": "Referred Aug 2024 to Aug 2026", "period_covered": "2025-10 to 2026-09",
        "quarter": "2026-27 Q2", "percentage": 88.5, "tier": 3, "tier_name": "Near Target",  # 1062 / 1200
        "reg39_rating": "Approaching target", "incomplete": False, "note": ""}
    assert (rows[1]["percentage"], rows[1]["tier"]) == (95.0, 4)
    assert (rows[2]["percentage"], rows[2]["note"]) == (None, "No cases due in the period")
    sv = rows[-1]
    assert (sv["period_covered"], sv["percentage"], sv["tier"], sv["reg39_rating"]) == (
        "2026-07 to 2026-09", 66.7, 3, "Approaching target")


def test_publication_marks_incomplete_windows_atw_7_05(cfg):
    rows = _publication(cfg, missing_months={"2026-02"})
    k3 = rows[0]
    assert (k3["percentage"], k3["tier"], k3["incomplete"]) == (None, None, True)
    assert k3["note"] == "Returns missing or rejected: 2026-02"


def test_publication_files_are_deterministic(cfg, tmp_path):
    rows = _publication(cfg)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_publication_csv(rows, a)
    write_publication_csv(rows, b)
    assert a.read_bytes() == b.read_bytes()
    raw = a.read_bytes()
    assert raw.count(b"\r\n") == len(rows) + 1 and b"\r\r" not in raw
    with open(a, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert tuple(table[0]) == PUBLICATION_COLUMNS
    assert table[1][PUBLICATION_COLUMNS.index("percentage")] == "88.5"
    assert table[3][PUBLICATION_COLUMNS.index("percentage")] == ""
    assert table[1][PUBLICATION_COLUMNS.index("incomplete")] == "false"
    j = tmp_path / "p.json"
    write_publication_json(rows, j)
    text = j.read_text(encoding="utf-8")
    assert text.endswith("]\n") and "\r" not in text
    data = json.loads(text)
    assert data[0]["percentage"] == 88.5 and list(data[0]) == sorted(PUBLICATION_COLUMNS)


def test_publication_csv_neutralises_formula_text(cfg, tmp_path):
    rows = publication_rows("ATW-LOT1", "=HYPERLINK(1)", [], "2026-09", config=cfg)
    p = tmp_path / "x.csv"
    write_publication_csv(rows, p)
    assert "'=HYPERLINK(1)" in p.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="no supplier"):
        publication_rows("UNKNOWN", None, [], "2026-09", config=cfg)
