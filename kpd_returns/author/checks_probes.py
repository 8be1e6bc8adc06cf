"""The Checks sheet's building blocks, as the author modules use them.

They live in ``kpd_returns.checks.probes`` so that each rule kind's module (checks.rules.<kind>) can
write its own formula twin beside its check; the author modules take them from here.
"""

from __future__ import annotations

from ..checks.probes import (FORMULA_COL, HEADERS, LABEL_COL, MAX_FORMULA_LENGTH, MONTHS_CELL,  # noqa: F401
                             NONE_POS, POS_COL, REF_COL, SHEET_NAME, VALIDATED_ONLY, VALUE_COL, _EPS, Check,
                             Context, Plan, Probe, Refs, blank, count_name, filled, lit, quoted, ref_text)
