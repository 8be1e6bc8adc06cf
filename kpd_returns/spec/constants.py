"""The constants every stage shares, each defined once: exit codes, defaults, and the fixed time
that makes written files byte-identical from run to run.

Kept free of imports beyond the standard library so the quickest command can load it.
"""

from __future__ import annotations

import datetime as dt

# Exit codes of every command (also in the README and --help): the worst over all files.
EXIT_VALID = 0  # no errors (warnings allowed); a command that ran to the end
EXIT_ERRORS = 1  # at least one file has errors (or a consolidate left a problem open)
EXIT_UNREADABLE = 2  # at least one file could not be read or used, an option or setting was wrong (a date outside
#                     PLAUSIBLE_YEARS, KPD_LEDGER_WAIT not 0 to 86400 seconds), or the command cannot run
EXIT_CLOSED_PIPE = 141  # stdout was closed by the reader (`| head`): 128 + SIGPIPE, as a shell reports it

# The document time written into every generated workbook (templates, samples, the consolidated
# workbook, annotated copies of files that record none) and into its zip entries: a real clock would
# make each run's bytes differ.
FIXED_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)
ZIP_TIME = (FIXED_TIME.year, FIXED_TIME.month, FIXED_TIME.day, FIXED_TIME.hour, FIXED_TIME.minute,
            FIXED_TIME.second)

# The UK division whose bank holidays count when neither the register nor --region says otherwise.
DEFAULT_REGION = "england-and-wales"

# The ledger a command uses in the working folder when neither --db nor the folder's record names one,
# and the ledger's name inside a consolidate output folder.
DEFAULT_LEDGER = "kpd-ledger.sqlite"
LEDGER_NAME = "ledger.sqlite"

# The years a return can mean (issue 19): a date in a return, a submission time, a period or an
# as-of date outside them is not a slip of the calendar but a mistake (a finding at the cell, or one
# sentence), and working-day arithmetic looks no further (spec.workdays). From before any contract
# under the guidance to far beyond any contract let today.
PLAUSIBLE_YEARS = (2000, 2100)  # first and last year, both included


def plausible_year(year: int) -> bool:
    """Whether ``year`` is one a return can mean (``PLAUSIBLE_YEARS``)."""
    return PLAUSIBLE_YEARS[0] <= year <= PLAUSIBLE_YEARS[1]


def years_text() -> str:
    """'2000 to 2100', for sentences."""
    return f"{PLAUSIBLE_YEARS[0]} to {PLAUSIBLE_YEARS[1]}"


# The largest magnitude any figure in a return may have (issue 19): part of every numeric field's
# limits as the checks apply them (spec.sheet_model ``FieldSpec.checked_upper`` and ``checked_lower``),
# so a count of 1e308 is an error at its cell, and no sum, ratio or pack total built from stored
# figures can overflow to infinity. A billion is far beyond any provider's referrals, staff, days or
# cases in a month or a year.
FIGURE_CEILING = 1_000_000_000.0
