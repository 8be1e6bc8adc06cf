"""Generated Work and Health Programme extracts (PRaP referrals, starts and outcomes) for the season.

The contracts and their rates are data (validators/season.toml ``[[extracts]]``); the two extract specs
are found by their columns (the one with ``referral_date``, the one with ``start_date``), never by id.
Everything is deterministic: the only randomness is a numpy generator seeded from the contract's
``seed``, and every rate is applied exactly (the first round(rate x n) cases of a group, in id order).

Each contract refers ``referrals`` people on working days spread over each month from ``first`` to
``last`` (2024-11 .. 2026-10). A referral is acknowledged 0-2 working days later, starts (or fails to
attend, one in ``fta_every``) 3-12 working days after the referral, and is recorded on PRaP 0-2
working days after that, never beyond 15 working days of the referral: every CSS is met unless the
contract says ``late_acks``. Working days are England and Wales' (bank holidays skipped), so some
referrals straddle a bank holiday; on top, each contract has one referral made on each of
2025-12-24 (acknowledged 2025-12-30: 2 working days across Christmas, Boxing Day and a weekend),
2026-04-02 (before Good Friday; acknowledged 2026-04-08, after Easter Monday) and 2026-08-28 (before
the August bank holiday; acknowledged 2026-09-02): on time (CSS 2), though 4 to 6 calendar days later.

Worked figures (the tests recompute them):

* WHP-CPA-01 (below CSS 2): from 2026-08 every 25th referral of a month (1 in 25 = 4%) is acknowledged
  4 working days after the referral, so CSS 2 in 2026-10 is 96% (< 99.5%). Matured cohorts convert
  about 17%: ``conversion`` by customer group (disability 13%, early_entry 17%, ltu 19%).
* WHP-CPA-02 (a maturing cohort under its level): cohorts up to 2024-12 convert 17% (all groups);
  later cohorts ``conversion`` (27-29%).
* WHP-CPA-03: conversion about 22%, every CSS met, no levels.

A participant who converts has earnings from 60-240 days after the start, the £1,000 milestone 30-60
days later, the £2,000 milestone 30-60 days after that, and the outcome between 300 and 600 days after
the start (within 639); one in ``self_employed_every`` converters is self-employed, with a claim 10-40
days after the outcome (within 700). Of those who do not convert, one in three has earnings (a PI)
and no outcome.

A month's extract lists the rows with any date in that month, each as it stood at the month's end
(later dates empty): a referral made late in a month appears again the next month, started.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
from typing import Any

import numpy as np
import pandas as pd

from ..spec.extract_spec import ExtractSpec, load_extracts
from ..spec.periods import month_at, month_index
from ..spec.workdays import is_working_day

GROUPS = ("disability", "early_entry", "ltu")
BOUNDARY_REFERRALS = (("2025-12-24", 2), ("2026-04-02", 2), ("2026-08-28", 2))  # (referral, working days to ack)


def extract_specs() -> tuple[ExtractSpec | None, ExtractSpec | None]:
    """(the referrals spec, the starts and outcomes spec), found by their columns."""
    specs = load_extracts().values()
    referrals = next((s for s in specs if "referral_date" in s.by_id), None)
    starts = next((s for s in specs if "start_date" in s.by_id and "referral_date" not in s.by_id), None)
    return referrals, starts


class _Calendar:
    """Working days as positions, so offsets are array arithmetic."""

    def __init__(self, first: dt.date, last: dt.date):
        days = pd.date_range(first, last, freq="D")
        self.days = np.array([d for d in days.date if is_working_day(d)], dtype="datetime64[D]")

    def index(self, dates: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.days, dates.astype("datetime64[D]"))

    def at(self, positions: np.ndarray) -> np.ndarray:
        return self.days[np.clip(positions, 0, len(self.days) - 1)]


def _months(first: str, last: str) -> list[str]:
    return [month_at(i) for i in range(month_index(first), month_index(last) + 1)]


def _month_end(month: str) -> np.datetime64:
    y, m = int(month[:4]), int(month[5:])
    return np.datetime64(dt.date(y, m, calendar.monthrange(y, m)[1]))


def _exact(n: int, rate: float) -> np.ndarray:
    """A boolean mask with round(rate x n) leading trues: a rate applied exactly, in id order."""
    out = np.zeros(n, dtype=bool)
    out[: int(round(rate * n))] = True
    return out


def truth(c: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every referral, every participant) of one contract, with every date as it eventually is."""
    rng = np.random.default_rng(int(c["seed"]))
    months = _months(c["first"], c["last"])
    cal = _Calendar(dt.date.fromisoformat(months[0] + "-01"), dt.date(2028, 12, 31))
    per_month = int(c["referrals"])
    rows = []
    for month in months:
        start = np.datetime64(month + "-01")
        lo, hi = cal.index(np.array([start]))[0], cal.index(np.array([_month_end(month) + 1]))[0]
        rows.append(cal.days[np.sort(rng.integers(lo, hi, per_month))])
    referral = np.concatenate(rows)
    boundary = np.array([np.datetime64(d) for d, _k in BOUNDARY_REFERRALS])
    referral = np.concatenate([referral, boundary[(boundary >= np.datetime64(months[0] + "-01"))
                                                  & (boundary <= _month_end(months[-1]))]])
    n, n_boundary = len(referral), len(referral) - sum(len(r) for r in rows)
    pos = cal.index(referral)
    ack_gap = rng.integers(0, 3, n)
    late = c.get("late_acks")
    if late:
        in_late = referral >= np.datetime64(late["from"] + "-01")
        order = np.cumsum(in_late) * in_late  # 1, 2, ... within the late months
        ack_gap = np.where(in_late & (order % int(late["every"]) == 0), int(late["working_days"]), ack_gap)
    ack_gap[n - n_boundary:] = [k for d, k in BOUNDARY_REFERRALS][:n_boundary]
    start_gap = rng.integers(3, 13, n)
    record_gap = np.minimum(rng.integers(0, 3, n), 15 - start_gap)
    fta = (np.arange(n) % int(c["fta_every"])) == int(c["fta_every"]) - 1
    number = int(c["number"])
    ids = np.array([f"R{number:02d}{i:06d}" for i in range(1, n + 1)], dtype=object)
    group = np.array(GROUPS, dtype=object)[np.arange(n) % 3]
    dda = np.where(np.arange(n) % int(c["dda_every"]) == 0, c["dda"], None)
    start_day = cal.at(pos + start_gap)
    referrals = pd.DataFrame({
        "referral_id": ids, "cpa": c["contract"], "dda": dda, "customer_group": group,
        "referral_date": referral.astype("datetime64[ns]"),
        "acknowledged_date": cal.at(pos + ack_gap).astype("datetime64[ns]"),
        "start_or_fta": np.where(fta, "fta", "start"),
        "start_or_fta_date": start_day.astype("datetime64[ns]"),
        "recorded_date": cal.at(pos + start_gap + record_gap).astype("datetime64[ns]")})
    return referrals, _participants(c, referrals[~fta].reset_index(drop=True), rng)


def _participants(c: dict[str, Any], started: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(started)
    start = started["start_or_fta_date"].to_numpy(dtype="datetime64[D]")
    cohort = start.astype("datetime64[M]").astype(str)
    converts = np.zeros(n, dtype=bool)
    early = c.get("early_cohorts", {})
    for month in np.unique(cohort):
        for g in GROUPS:
            idx = np.flatnonzero((cohort == month) & (started["customer_group"].to_numpy() == g))
            rate = early["conversion"] if early and month <= early["until"] else c["conversion"][g]
            converts[idx] = _exact(len(idx), rate)
    days = lambda lo, hi: rng.integers(lo, hi + 1, n).astype("timedelta64[D]")  # noqa: E731
    earnings = start + days(60, 240)
    m1000, outcome_gap = earnings + days(30, 60), days(300, 600)
    m2000 = m1000 + days(30, 60)
    outcome = np.maximum(start + outcome_gap, m2000)
    outcome = np.minimum(outcome, start + np.timedelta64(639, "D"))
    m2000 = np.minimum(m2000, outcome)
    m1000 = np.minimum(m1000, m2000)
    earnings = np.minimum(earnings, m1000)
    some_earnings = converts | (np.arange(n) % 3 == 0)
    self_employed = converts & (np.cumsum(converts) % int(c["self_employed_every"]) == 0)
    claim = np.minimum(outcome + days(10, 40), start + np.timedelta64(700, "D"))
    nat = np.datetime64("NaT")
    pick = lambda keep, values: np.where(keep, values, nat).astype("datetime64[ns]")  # noqa: E731
    return pd.DataFrame({
        "participant_id": ("P" + started["referral_id"].str[1:]).to_numpy(dtype=object),
        "cpa": c["contract"], "dda": started["dda"].to_numpy(dtype=object),
        "customer_group": started["customer_group"].to_numpy(dtype=object),
        "start_date": start.astype("datetime64[ns]"),
        "employment": np.where(converts, np.where(self_employed, "self_employed", "employed"), None),
        "earnings_start_date": pick(some_earnings, earnings),
        "milestone_1000_date": pick(converts, m1000), "milestone_2000_date": pick(converts, m2000),
        "outcome_date": pick(converts, outcome), "claim_date": pick(self_employed, claim)})


def month_extract(frame: pd.DataFrame, dates: list[str], month: str,
                  blank_together: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows with any of ``dates`` in ``month``, as they stood at its end (later dates empty).
    ``blank_together``: columns emptied with the first date of ``dates``'s last ... (a start's kind with its date)."""
    start, end = np.datetime64(month + "-01", "ns"), np.datetime64(_month_end(month), "ns")
    values = frame[dates]
    any_in = ((values >= start) & (values <= end)).any(axis=1)
    out = frame[any_in].copy()
    for col in dates:
        out[col] = out[col].where(out[col] <= end)
    for col, date_col in blank_together:
        out[col] = out[col].where(out[date_col].notna(), None)
    if "employment" in out:
        out["employment"] = out["employment"].where(out["earnings_start_date"].notna(), None)
    return out.reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The extract as DWP would send it: a header line of column ids, dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, date_format="%Y-%m-%d", lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def extract_files(contracts: list[dict[str, Any]]) -> list[tuple[str, str, str, bytes]]:
    """(name, contract, month, CSV bytes) of every monthly extract of every contract, in a fixed order."""
    referrals_spec, starts_spec = extract_specs()
    out = []
    for c in contracts:
        referrals, participants = truth(c)
        for month in _months(c["first"], c["last"]):
            for spec, frame, dates, together in (
                    (referrals_spec, referrals, ["referral_date", "acknowledged_date", "start_or_fta_date",
                                                 "recorded_date"], (("start_or_fta", "start_or_fta_date"),)),
                    (starts_spec, participants, ["start_date", "earnings_start_date", "milestone_1000_date",
                                                 "milestone_2000_date", "outcome_date", "claim_date"], ())):
                if spec is None:
                    continue
                rows = month_extract(frame, dates, month, together)
                name = f"{spec.id}_{c['contract']}_{month}.csv"
                out.append((name, c["contract"], month, csv_bytes(rows[[f.id for f in spec.fields]])))
    return out


def digest(files: list[tuple[str, str, str, bytes]]) -> str:
    """One SHA-256 over every generated file (for the determinism test)."""
    h = hashlib.sha256()
    for name, _c, _m, data in files:
        h.update(name.encode() + b"\0" + data)
    return h.hexdigest()
