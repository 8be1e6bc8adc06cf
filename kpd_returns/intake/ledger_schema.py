"""The ledger's SQLite schema: the migrations that create and upgrade it, applied in order by
intake.ledger.Ledger.

Tables
    ``files``          one row per distinct file received (``sha256`` UNIQUE):
                       where it came from (name, path, e-mail, sender), when it was
                       submitted and how we know (``submitted_source``), what it is
                       (return, template version, provider, contract, period) and
                       the verdict, deadline and lateness.
    ``findings``       the findings of each file (``origin`` 'validator', or
                       'cross-check' for the cross-return checks, which are
                       recomputed whenever a return of the same contract arrives).
    ``file_values``    the figures in long form: field, key, month, value_num or value_text, and the
                       period each figure covers (schema 6): its kind (``month``, ``contract_quarter``
                       or ``contract_year``, spec.periods' kinds), label ("2026-10", "2026-27 Q2",
                       "2025-26") and first and last months. A figure in a month column covers that
                       month; any other figure covers its return's period.
    ``extract_columns`` the rows of an accepted extract (a PRaP table, spec/extract_spec.py), one
                       compressed column per row of this table (intake.extract_store).

Views
    ``valid_files``    files that can be used (verdict valid or valid-with-warnings).
    ``current_files``  the CURRENT return per (return_id, contract, period): the
                       latest valid submission by intake.supersession's rule (received
                       time, then SHA-256; never the order files were read in).
                       Computed by a query, never stored, so it cannot go stale.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable

from ..spec.periods import value_period


# Each step is applied once, in order, in its own transaction. Never edit a step
# that has been released: add a new one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "files, findings and values", """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);
CREATE TABLE files (
    id                INTEGER PRIMARY KEY,
    sha256            TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,          -- original file name (attachment name for e-mails)
    source_path       TEXT NOT NULL,          -- the file found in the inbox (the e-mail for attachments)
    source_email      TEXT,                   -- the e-mail's file name, if it came as an attachment
    sender            TEXT,                   -- the e-mail's From address
    received_at       TEXT,                   -- submission time, UK local ISO; 'YYYY-MM-DD' if only the date is known
    submitted_source  TEXT,                   -- workbook, email, file-modified, option
    return_id         TEXT,
    template_version  TEXT,
    provider          TEXT,
    contract          TEXT,
    contract_key      TEXT,                   -- contract normalised for matching (case and spaces)
    period            TEXT,
    period_end        TEXT,
    verdict           TEXT NOT NULL CHECK (verdict IN ('valid', 'valid-with-warnings', 'invalid', 'unreadable')),
    late_working_days INTEGER,
    deadline          TEXT,
    region            TEXT,
    size_bytes        INTEGER,
    ingested_at       TEXT NOT NULL           -- for the record only: never printed in outputs
);
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    origin      TEXT NOT NULL DEFAULT 'validator' CHECK (origin IN ('validator', 'cross-check')),
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
    sheet       TEXT,
    cell        TEXT,
    field       TEXT,
    field_label TEXT,
    found       TEXT,
    expected    TEXT,
    message     TEXT NOT NULL,
    guidance    TEXT
);
CREATE TABLE file_values (
    file_id    INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    return_id  TEXT NOT NULL,
    field      TEXT NOT NULL,
    key        TEXT NOT NULL,
    month      TEXT NOT NULL,                 -- 'YYYY-MM' for month columns, '' otherwise
    value_num  REAL,
    value_text TEXT
);
"""),
    (2, "indexes and the current-return views", """
CREATE INDEX files_return_contract_period ON files(return_id, contract_key, period);
CREATE INDEX findings_file ON findings(file_id);
CREATE INDEX file_values_file ON file_values(file_id);
CREATE VIEW valid_files AS
    SELECT * FROM files
    WHERE verdict IN ('valid', 'valid-with-warnings')
      AND return_id IS NOT NULL AND contract_key IS NOT NULL AND period IS NOT NULL;
CREATE VIEW current_files AS
    SELECT * FROM (
        SELECT v.*, ROW_NUMBER() OVER (
            PARTITION BY v.return_id, v.contract_key, v.period
            ORDER BY v.received_at DESC, v.id DESC) AS rank_in_period
        FROM valid_files v)
    WHERE rank_in_period = 1;
"""),
    (3, "the providers registers given to commands, as loaded", """
CREATE TABLE registers (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,                  -- the file's name as given (providers.csv)
    sha256    TEXT NOT NULL,
    content   TEXT NOT NULL,                  -- the text as loaded, so later commands use the same register
    stored_at TEXT NOT NULL
);
"""),
    (4, "a query's explanation from the template's Explanations sheet", """
ALTER TABLE findings ADD COLUMN explanation TEXT;
CREATE TABLE explanations (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    row     INTEGER NOT NULL,                 -- the row of the return's Explanations sheet
    code    TEXT NOT NULL,                    -- a cross-return query's code, explained once the ledger finds it
    cell    TEXT NOT NULL,
    text    TEXT NOT NULL
);
"""),
    # intake.supersession's rule, spelled out: at the same received time, by SHA-256, not by id (the
    # order files happened to be read in, which made the current return depend on it; issue 19 item 18).
    (5, "the current return does not depend on the order files were read in", """
DROP VIEW current_files;
CREATE VIEW current_files AS
    SELECT * FROM (
        SELECT v.*, ROW_NUMBER() OVER (
            PARTITION BY v.return_id, v.contract_key, v.period
            ORDER BY COALESCE(v.received_at, '') DESC, v.sha256 DESC) AS rank_in_period
        FROM valid_files v)
    WHERE rank_in_period = 1;
"""),
    # Every figure carries its period (issue 21 item 5): a quarterly or yearly return's figures had no
    # month, so the consolidated workbook and the packs could not place them. A figure in a month column
    # covers that month here; the others are filled by _value_periods, below, from their file's period.
    (6, "each figure's period and the months it covers", """
ALTER TABLE file_values ADD COLUMN period_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE file_values ADD COLUMN period TEXT NOT NULL DEFAULT '';
ALTER TABLE file_values ADD COLUMN first_month TEXT NOT NULL DEFAULT '';
ALTER TABLE file_values ADD COLUMN last_month TEXT NOT NULL DEFAULT '';
UPDATE file_values SET period_kind = 'month', period = month, first_month = month, last_month = month
    WHERE month != '';
"""),
    # An extract (10^6 referral rows) stored column by column: one compressed blob per column, written
    # and read in one step each (intake.extract_store), not a million rows of file_values.
    (7, "the rows of accepted extracts, column by column", """
CREATE TABLE extract_columns (
    file_id  INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,                -- the column's place in the extract spec
    field    TEXT NOT NULL,                   -- the column's id
    encoding TEXT NOT NULL CHECK (encoding IN ('days-int64-zlib', 'json-zlib')),
    n_rows   INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (file_id, field)
);
"""),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _value_periods(conn: sqlite3.Connection) -> None:
    """Migration 6's figures without a month: each takes its file's period (spec.periods.value_period,
    the kind told from the label and the period's last day, as no kind was stored before)."""
    files = conn.execute("SELECT DISTINCT f.id, f.period, f.period_end FROM file_values v JOIN files f "
                         "ON f.id = v.file_id WHERE v.month = '' ORDER BY f.id").fetchall()
    for file_id, label, end in files:
        try:
            last = dt.date.fromisoformat(str(end)[:10]) if end else None
        except ValueError:
            last = None
        found = value_period("", None, label, last)
        conn.execute("UPDATE file_values SET period_kind = ?, period = ?, first_month = ?, last_month = ? "
                     "WHERE file_id = ? AND month = ''", (*found, file_id))


# Steps that fill data as well as change the schema: run after the step's SQL, in its transaction.
BACKFILLS: dict[int, Callable[[sqlite3.Connection], None]] = {6: _value_periods}


def _statements(sql: str) -> list[str]:
    """Split a script into statements (a ';' inside a comment or string does not end one)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
