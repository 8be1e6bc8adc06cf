"""A contract's profile in the providers register: the number a contract is profiled to
deliver each period (JOBS II 6.10: "monthly percentage-based expectations towards
achievement of the required number of starts"), set by DWP per contract, not by the provider.

The register's optional ``profile`` column holds either one whole number for every period
(``25``) or a number per period (``2026-10=20;2026-11=25``, or a TOML table
``profile = { "2026-10" = 20 }``). Which measure it profiles is the return spec's business;
the register only says how many.
"""

from __future__ import annotations

import re

_WHOLE = re.compile(r"^\d+$")

Profile = int | dict[str, int] | None


def parse_profile(text: str, is_period) -> Profile:
    """The profile in ``text``; ``is_period(label)`` says whether a label is a period some return
    uses. ValueError with a plain sentence for anything else."""
    text = text.strip()
    if not text:
        return None
    if "=" not in text:
        if not _WHOLE.match(text):
            raise ValueError(f"'{text}' is not a whole number of starts, or periods with numbers (2026-10=20;2026-11=25).")
        return int(text)
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        label, _, number = (x.strip() for x in part.partition("="))
        if not is_period(label) or not _WHOLE.match(number):
            raise ValueError(f"'{part}' is not a period and a whole number (for example 2026-10=20).")
        out[label] = int(number)
    return out


def profile_for(profile: Profile, period: str) -> int | None:
    """The profiled number for one period: the one number, the period's own, or None if not profiled."""
    if isinstance(profile, dict):
        return profile.get(period)
    return profile
