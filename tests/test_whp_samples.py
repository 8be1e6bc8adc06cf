"""The generated WHP extracts of the season (issue 22 item 6): deterministic, in the season's ledger, and
shaped as author/whp_samples.py's docstring says: the figures worked here by hand, with numpy's working-day
count and the bank holidays written out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpd_returns.author import season, whp_samples
from kpd_returns.intake.extract_store import load_extract_frame

# England and Wales bank holidays, 2024-11 .. 2027-02 (gov.uk), written out for the hand count.
HOLIDAYS = ["2024-12-25", "2024-12-26", "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26",
            "2025-08-25", "2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
            "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28", "2027-01-01"]
REFERRALS, STARTS = (s.id for s in whp_samples.extract_specs())


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return season.build_ledger(tmp_path_factory.mktemp("whp") / "ledger.sqlite")


def _wd(start, end):
    return np.busday_count(start.to_numpy(dtype="datetime64[D]"), end.to_numpy(dtype="datetime64[D]"),
                           holidays=HOLIDAYS)


def test_generated_extracts_are_deterministic_and_all_in_the_ledger(ledger):
    files = whp_samples.extract_files(season.EXTRACTS)
    assert len(files) == 3 * 24 * 2
    assert whp_samples.digest(files) == whp_samples.digest(whp_samples.extract_files(season.EXTRACTS))
    from kpd_returns.intake.ledger import Ledger
    with Ledger(ledger) as led:
        n = led.conn.execute("SELECT COUNT(*) FROM current_files WHERE return_id IN (?, ?)", (REFERRALS, STARTS))
        assert n.fetchone()[0] == 144


def test_css_2_by_hand_pennine_below_the_others_met(ledger):
    late = {}
    for contract in ("WHP-CPA-01", "WHP-CPA-02", "WHP-CPA-03"):
        r = load_extract_frame(ledger, REFERRALS, contract)
        october = r[r["referral_date"].dt.strftime("%Y-%m") == "2026-10"]
        acked = october[october["acknowledged_date"].notna()]  # the rest were made on October's last days
        wd = _wd(acked["referral_date"], acked["acknowledged_date"])
        assert ((wd <= 2) | (wd == 4)).all() and len(october) - len(acked) <= 6
        late[contract] = (int((wd == 4).sum()), len(october))
    # WHP-CPA-01: every 25th referral since 2026-08 is acknowledged 4 working days after it was made, so
    # 2 or 3 of October's 60 are late: CSS 2 at 95.0% or 96.7%, below its 99.5% (WHP 16.28).
    n_late, base = late["WHP-CPA-01"]
    assert base == 60 and n_late in (2, 3) and (base - n_late) / base < 0.995
    assert late["WHP-CPA-02"][0] == late["WHP-CPA-03"][0] == 0


def test_referrals_across_bank_holidays_are_on_time_by_working_days(ledger):
    r = load_extract_frame(ledger, REFERRALS, "WHP-CPA-01").set_index("referral_date")
    for made, acked in (("2025-12-24", "2025-12-30"), ("2026-04-02", "2026-04-08"), ("2026-08-28", "2026-09-02")):
        assert pd.Timestamp(acked) in set(r.loc[[pd.Timestamp(made)], "acknowledged_date"])
        assert np.busday_count(made, acked, holidays=HOLIDAYS) == 2  # 6, 6 and 5 calendar days


def test_every_start_is_within_15_working_days_and_recorded_within_15(ledger):
    r = load_extract_frame(ledger, REFERRALS, "WHP-CPA-03")
    done = r[r["recorded_date"].notna()]
    assert (_wd(done["referral_date"], done["start_or_fta_date"]) <= 15).all()  # CSS 1a
    assert (_wd(done["referral_date"], done["recorded_date"]) <= 15).all()  # CSS 1b


def _conversion(ledger, contract, cohorts):
    s = load_extract_frame(ledger, STARTS, contract)
    s = s[s["start_date"].dt.strftime("%Y-%m").isin(cohorts)]
    met = (s["outcome_date"] - s["start_date"]).dt.days <= 639
    return int(met.sum()), len(s)


@pytest.mark.parametrize("contract, cohorts, low, high", [
    ("WHP-CPA-02", ["2024-11", "2024-12"], 0.15, 0.19),  # under its 25% level (whpm's levels)
    ("WHP-CPA-01", ["2024-11", "2024-12"], 0.14, 0.19),  # above its 12% level
    ("WHP-CPA-03", ["2024-11", "2024-12"], 0.19, 0.25),
])
def test_matured_cohort_conversion_by_hand(ledger, contract, cohorts, low, high):
    met, base = _conversion(ledger, contract, cohorts)
    assert base > 60 and low <= met / base <= high, (met, base)
