"""Which submission supersedes which: one rule for consolidate (is a rejected file still open?),
status and the packs (which return is current; when the first valid one came).

Files of the same return type, contract and period are ordered by:

1. when they were submitted (the e-mail's Date, else the return's Date submitted; a file with
   neither counts as the oldest);
2. at the same time, a valid return after a rejected one: it is taken to be the correction (a
   provider who sends a corrected return the same day writes the same Date submitted);
3. at the same time and verdict, by the file's SHA-256: arbitrary, but the same whatever order
   the files were read in, so no outcome depends on file order (issue 19 item 18).

The later file supersedes the earlier. The file's ledger id (the order it was read in) never
takes part. ``order_key`` is the rule for rows in Python; ``later_sql`` and ``order_by_sql`` are
the same rule for the ledger's queries, and the ``current_files`` view (ledger_schema migration
5) spells it out as they do.
"""

from __future__ import annotations

from ..spec.model import VALID_VERDICTS

_VALID_SQL = "(" + ", ".join(f"'{v}'" for v in VALID_VERDICTS) + ")"


def order_key(received_text: str | None, verdict: str | None, sha256: str | None) -> tuple[str, bool, str]:
    """The rule as a sort key (later sorts higher): for ``max`` and ``sorted`` over ledger rows."""
    return (received_text or "", verdict in VALID_VERDICTS, sha256 or "")


def row_key(row) -> tuple[str, bool, str]:
    """``order_key`` of a ledger ReturnRow."""
    return order_key(row.received_text, row.verdict, row.sha256)


def _terms(alias: str) -> tuple[str, str, str]:
    return (f"COALESCE({alias}.received_at, '')", f"({alias}.verdict IN {_VALID_SQL})", f"{alias}.sha256")


def later_sql(later: str, earlier: str) -> str:
    """An SQL condition: the file aliased ``later`` supersedes the file aliased ``earlier``."""
    return f"({', '.join(_terms(later))}) > ({', '.join(_terms(earlier))})"


def order_by_sql(alias: str, descending: bool = False) -> str:
    """ORDER BY terms putting files in the rule's order (latest first if ``descending``)."""
    suffix = " DESC" if descending else ""
    return ", ".join(t + suffix for t in _terms(alias))
