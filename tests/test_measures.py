"""The measures engine (kpd_returns.packs.measures) on the KPD spec's [[pack.measures]]: the KPD measures of
the old hard-coded module, now declared in validators/kpd.toml, give the values worked out by hand."""

from __future__ import annotations

import pytest

from kpd_returns.packs import measures
from kpd_returns.packs.measures import FieldValue as KpdValue
from kpd_returns.spec.return_spec import load_all

KPD = load_all()["kpd"].pack


def provider_months(values, titles=None):
    return measures.contract_months(values, KPD, titles=titles)


def national_months(months):
    return measures.national_months(months, KPD)


def staffing(provider, month, senior, front, central, employer, days_lost, active, in_work, not_engaged, jobs,
             contract="CPA07"):
    figures = dict(staff_senior=senior, staff_front_line=front, staff_central=central, staff_employer=employer,
                   days_lost=days_lost, caseload_active=active, caseload_in_work=in_work,
                   caseload_not_engaged=not_engaged, job_entries=jobs)
    return [KpdValue(provider, contract, month, f, v) for f, v in figures.items() if v is not None]


def test_fte_total_recomputed_never_trusted_kpd_9_14_15():
    values = staffing("A", "2026-04", 2, 10.5, 3.25, 1.25, 8.5, 300, 100, 100, 42)
    values += [KpdValue("A", "CPA07", "2026-04", "fte_total", 99.0),  # typed total: ignored
               KpdValue("A", "CPA07", "2026-04", "caseload_total", 1.0),
               KpdValue("A", "CPA07", "2026-04", "job_entries_per_front_line_fte", 9.9)]
    [pm] = provider_months(values)
    assert pm.measure("fte_total") == 17.0  # 2 + 10.5 + 3.25 + 1.25
    assert pm.measure("caseload_total") == 500.0
    assert pm.measure("job_entries_per_front_line_fte") == 4.0  # 42 / 10.5
    assert pm.measure("days_lost_per_fte") == 0.5  # 8.5 / 17
    assert [pm.measure(f) for f in ("staff_senior", "staff_front_line", "staff_central", "staff_employer")] == [
        2.0, 10.5, 3.25, 1.25]
    assert pm.flags == []


def test_zero_front_line_fte_gives_none_and_month_on_month_change_kpd_15():
    values = staffing("A", "2026-04", 2, 10.5, 3.25, 1.25, 8.5, 300, 100, 100, 42)
    values += staffing("A", "2026-05", 2, 0, 3.25, 1.25, 0, 300, 100, 100, 3)
    april, may = provider_months(values)
    assert may.measure("job_entries_per_front_line_fte") is None
    assert may.measure("fte_total") == 6.5 and may.measure("days_lost_per_fte") == 0.0
    assert may.changes["fte_total"] == -10.5 and may.changes["job_entries"] == -39.0
    assert may.changes["job_entries_per_front_line_fte"] is None  # not computable in May
    assert all(v is None for v in april.changes.values())  # no previous month


def test_missing_category_leaves_total_unknown_kpd_9():
    [pm] = provider_months(staffing("D", "2026-04", 1, 4, 1, None, 2, 10, 0, 0, 1))
    assert pm.measure("staff_employer") is None and pm.measure("fte_total") is None and pm.measure("days_lost_per_fte") is None
    assert pm.measure("job_entries_per_front_line_fte") == 0.25


def test_segmentation_mix_and_conversion_kpd_18_22():
    m = "2026-04"
    values = staffing("A", m, 2, 10, 3, 1, 0, 300, 100, 100, 30) + [
        KpdValue("A", "CPA07", m, "seg1_participants", 200), KpdValue("A", "CPA07", m, "seg1_job_entries", 20),
        KpdValue("A", "CPA07", m, "seg2_participants", 100), KpdValue("A", "CPA07", m, "seg2_job_entries", 10),
        KpdValue("A", "CPA07", m, "seg3_participants", 100),  # in-work segment: participants only (KPD 22)
        KpdValue("A", "CPA07", "", "seg_title", "Job ready", key="seg1"),
        KpdValue("A", "CPA07", m, "rag1_participants", 50), KpdValue("A", "CPA07", m, "rag1_job_entries", 5),
        KpdValue("A", "CPA07", m, "rag2_participants", 0), KpdValue("A", "CPA07", m, "rag2_job_entries", 0),
    ]
    [pm] = provider_months(values, titles={("A", "CPA07"): {"seg2": "Skills", "seg3": "In work"}})
    got = [(g.key, g.title, g.share, g.conversion) for g in pm.groups if g.key.startswith("seg")]
    assert got == [("seg1", "Job ready", 50.0, 10.0), ("seg2", "Skills", 25.0, 10.0), ("seg3", "In work", 25.0, None)]
    assert [(g.key, g.share, g.conversion) for g in pm.groups if g.key.startswith("rag")] == [("rag1", 100.0, 10.0), ("rag2", 0.0, None)]


def test_medians_and_national_totals_across_three_providers_kpd_15():
    m = "2026-04"
    values = (staffing("A", m, 2, 10.5, 3.25, 1.25, 8.5, 300, 100, 100, 42)  # 4.0 per front line FTE, 17 FTE
              + staffing("B", m, 1, 10, 2, 1, 7, 200, 50, 50, 20)  # 2.0, 14 FTE
              + staffing("C", m, 3, 12, 4, 1, 20, 400, 100, 0, 60))  # 5.0, 20 FTE
    [nat] = national_months(provider_months(values))
    assert nat.month == m and nat.providers == 3
    assert nat.medians["job_entries_per_front_line_fte"] == 4.0
    assert nat.medians["fte_total"] == 17.0
    assert nat.medians["days_lost_per_fte"] == 0.5  # A 0.5, B 0.5, C 1.0
    assert nat.values["job_entries"] == 122.0 and nat.values["staff_front_line"] == 32.5
    assert nat.values["fte_total"] == 51.0 and nat.values["caseload_total"] == 1300.0
    assert nat.values["job_entries_per_front_line_fte"] == pytest.approx(122 / 32.5)  # ratio of totals, not mean
    assert nat.values["days_lost_per_fte"] == pytest.approx(35.5 / 51)


def test_medians_skip_providers_without_the_measure():
    m = "2026-04"
    values = staffing("A", m, 1, 0, 1, 1, 0, 1, 1, 1, 0) + staffing("B", m, 1, 4, 1, 1, 0, 1, 1, 1, 8)
    [nat] = national_months(provider_months(values))
    assert nat.medians["job_entries_per_front_line_fte"] == 2.0  # only B has front line staff


def test_implausible_values_flagged_from_config_kpd_15():
    [pm] = provider_months(staffing("C", "2026-04", 1, 10, 1, 1, 300, 1, 1, 1, 200))
    assert pm.flags == ["job_entries_per_front_line_fte is 20.00, above the plausible maximum of 15 (KPD 15)",
                        "days_lost_per_fte is 23.08, above the plausible maximum of 23 (KPD 10)"]


def test_tuples_accepted_and_later_value_wins_kpd_4():
    values = [("A", "CPA07", "2026-04", "job_entries", 10), ("A", "CPA07", "2026-04", "job_entries", 12.0),
              ("A", "CPA07", "2026-04", "staff_front_line", 4)]
    [pm] = provider_months(values)
    assert pm.measure("job_entries") == 12.0 and pm.measure("job_entries_per_front_line_fte") == 3.0
    with pytest.raises(ValueError, match="YYYY-MM"):
        provider_months([("A", "CPA07", "April", "job_entries", 1)])


def test_count_of_list_rows_where_a_field_has_given_values():
    from kpd_returns.spec.pack_spec import PackSpec

    section = PackSpec(title="T", label="L", guidance="g", findings_guidance="f", how_to_read=["r"], measures=[
        {"id": "responses", "label": "Responses", "count": "level"},
        {"id": "satisfied", "label": "Satisfied", "count": "level",
         "where": {"level": ["Very satisfied", "Fairly satisfied"]}},
        {"id": "share", "label": "Share", "ratio": [["satisfied"], ["responses"]], "scale": 100, "national": "ratio"}])
    rows = [("P", "C", "2026-10", "level", level, f"r{i}") for i, level in
            enumerate(["Very satisfied", "Fairly satisfied", "Very dissatisfied", ""])]
    [cm] = measures.contract_months(rows, section)
    assert cm.measure("responses") == 3.0 and cm.measure("satisfied") == 2.0
    assert cm.measure("share") == pytest.approx(200 / 3)  # parts may be earlier measures
    [nat] = measures.national_months([cm], section)
    assert nat.values["share"] == pytest.approx(200 / 3) and nat.values["responses"] == 3.0


def test_windows_add_up_parts_and_never_shorten_atw_7_05():
    values = staffing("A", "2026-04", 2, 10, 3, 1, 0, 300, 100, 100, 40)  # 4.0 per front line FTE
    values += staffing("A", "2026-05", 2, 30, 3, 1, 0, 300, 100, 100, 30)  # 1.0
    values += staffing("A", "2026-06", 2, 20, 3, 1, 0, 300, 100, 100, 50)  # 2.5
    history = {cm.month: cm for cm in provider_months(values)}
    ratio = next(m for m in KPD.measures if m.id == "job_entries_per_front_line_fte")
    jobs = next(m for m in KPD.measures if m.id == "job_entries")
    # a ratio of summed parts: 120 / 60 = 2.0, not the mean of 4.0, 1.0 and 2.5
    assert measures.window_value(history, ratio, "2026-06", "rolling_3") == 2.0
    assert measures.window_value(history, jobs, "2026-06", "rolling_3") == 120.0
    assert measures.window_value(history, jobs, "2026-06", "cumulative") == 120.0
    assert measures.window_value(history, jobs, "2026-05", "month") == 30.0
    assert measures.window_value(history, jobs, "2026-06", "rolling_12") is None  # months without figures


def test_a_target_is_met_on_its_better_side():
    from kpd_returns.spec.pack_spec import Measure

    higher = Measure(id="a", label="A", sum=["x"], target=90.0)
    lower = Measure(id="b", label="B", sum=["x"], target=5.0, direction="lower")
    assert [measures.meets_target(higher, v) for v in (89.9, 90.0, None)] == [False, True, None]
    assert [measures.meets_target(lower, v) for v in (5.0, 5.1)] == [True, False]
