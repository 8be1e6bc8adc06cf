"""The constants every stage shares, each defined once: exit codes, defaults, and the fixed time
that makes written files byte-identical from run to run.

Kept free of imports beyond the standard library so the quickest command can load it.
"""

from __future__ import annotations

import datetime as dt

# Exit codes of every command (also in the README and --help): the worst over all files.
EXIT_VALID = 0  # no errors (warnings allowed); a command that ran to the end
EXIT_ERRORS = 1  # at least one file has errors (or a consolidate left a problem open)
EXIT_UNREADABLE = 2  # at least one file could not be read or used, an option was wrong, or the command cannot run
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
