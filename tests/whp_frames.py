"""Hand-built WHP extract frames (field ids of /work/coord/TEAM.md) whose figures the WHP tests work out by hand.

Referrals, England and Wales, around May 2026 (May Day Mon 4 May and the spring bank holiday Mon 25 May are not
working days). The referral date is day 0. The 15th working day after each referral:
R1 Thu 23 Apr -> Fri 15 May; R2 Fri 24 Apr -> Mon 18 May (Fri 15 May without May Day); R3 Thu 7 May -> Fri 29 May;
R4 Fri 8 May -> Mon 1 Jun (Fri 29 May without the spring holiday: the boundary case, in June's base, not May's);
R5 Tue 14 Apr -> Wed 6 May; R6 Mon 11 May -> Tue 2 Jun; R7 Mon 20 Apr -> Tue 12 May; R8 Thu 30 Apr -> Fri 22 May.
The 2nd working day: R3 Mon 11 May, R4 Tue 12 May, R6 Wed 13 May, R8 Tue 5 May (May Day skipped); the rest in April.
"""

from __future__ import annotations

import pandas as pd

D = pd.Timestamp
NAT = pd.NaT

# id: (referral, acknowledged, start or FTA, recorded)
REFERRALS = {
    "R1": ("2026-04-23", "2026-04-24", "2026-05-15", "2026-05-15"),
    "R2": ("2026-04-24", "2026-04-28", "2026-05-18", "2026-05-19"),  # recorded on day 16: CSS 1b missed
    "R3": ("2026-05-07", "2026-05-13", None, None),  # acknowledged on day 4: CSS 2 missed; no start: CSS 1a missed
    "R4": ("2026-05-08", "2026-05-12", "2026-06-01", "2026-06-01"),  # started on day 15 (Mon 1 Jun): met, in June
    "R5": ("2026-04-14", "2026-04-15", None, None),  # no start: CSS 1a missed, in backlog, and over 25 days
    "R6": ("2026-05-11", "2026-05-11", "2026-05-13", "2026-05-13"),
    "R7": ("2026-04-20", "2026-04-21", "2026-04-30", "2026-04-30"),  # done before May: not held in May
    "R8": ("2026-04-30", "2026-05-05", "2026-05-21", "2026-05-22"),  # acknowledged Tue 5 May = day 2 (May Day)
}


def referrals_frame(rows: dict = REFERRALS) -> pd.DataFrame:
    ids = list(rows)
    col = lambda i: pd.to_datetime([rows[r][i] for r in ids])  # noqa: E731
    return pd.DataFrame({"referral_id": ids, "cpa": "WHP-CPA-01", "dda": None, "customer_group": "ltu",
                         "referral_date": col(0), "acknowledged_date": col(1),
                         "start_or_fta": ["start" if rows[r][2] else None for r in ids],
                         "start_or_fta_date": col(2), "recorded_date": col(3)})


# id: (start, group, dda, employment, earnings, £1,000, £2,000, outcome, claim)
STARTS = {
    "P1": ("2024-12-02", "disability", "Greater Manchester", "employed", "2025-01-15", "2025-04-01", None,
           "2026-09-02", None),  # outcome on day 639: converted
    "P2": ("2024-12-02", "ltu", None, "employed", None, None, None, "2026-09-03", None),  # day 640: not
    "P3": ("2024-12-10", "early_entry", "Greater Manchester", "self_employed", "2025-02-01", None, None,
           "2025-12-01", "2026-10-15"),  # claim on day 674: converted
    "P4": ("2024-12-15", "ltu", None, "self_employed", "2025-03-01", None, None, "2025-11-01", None),  # no claim
    "P5": ("2024-12-20", "ltu", None, "employed", None, None, None, None, None),
    "P6": ("2024-11-15", "ltu", None, "employed", "2024-12-01", "2025-02-01", "2025-04-01", "2025-06-01", None),
    "P7": ("2025-01-06", "ltu", None, "employed", "2025-03-10", "2025-06-01", None, None, None),
    "P8": ("2025-01-20", "disability", None, "employed", None, None, None, None, None),
    "P9": ("2026-09-14", "ltu", None, "employed", "2026-10-20", None, None, None, None),
}


def starts_frame(rows: dict = STARTS) -> pd.DataFrame:
    ids = list(rows)
    col = lambda i: pd.to_datetime([rows[r][i] for r in ids])  # noqa: E731
    return pd.DataFrame({"participant_id": ids, "cpa": "WHP-CPA-01", "dda": [rows[r][2] for r in ids],
                         "customer_group": [rows[r][1] for r in ids], "start_date": col(0),
                         "employment": [rows[r][3] for r in ids], "earnings_start_date": col(4),
                         "milestone_1000_date": col(5), "milestone_2000_date": col(6), "outcome_date": col(7),
                         "claim_date": col(8)})
