"""Extracts in the ledger: an accepted extract's rows, stored column by column, and read back as a frame.

An extract (spec/extract_spec.py) is recorded like any return: its ``files`` row (name, SHA-256,
sender, received time, return id = the extract's id, contract, period = its month, verdict) and its
findings are the audit trail. Its rows go in ``extract_columns``: one row per column, the column
compressed (zlib) in one blob: dates as int64 days since 1970-01-01 (``days-int64-zlib``; a missing
date is NaT's integer), text as a JSON list of strings and nulls (``json-zlib``). Ten columns of a
million referrals are ten inserts, not ten million.

``load_extract_frame(ledger, return_id, contract)`` is what the WHP computations read: the current
(latest accepted) extract of each month of that contract (the ledger's ``current_files`` view),
joined in month order, one row per id, the row of the latest month winning (a referral appears again
in the month it starts or is recorded, with its dates filled in).
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..spec.extract_spec import ExtractSpec, load_extracts
from ..spec.model import contract_key

if TYPE_CHECKING:
    from .ledger import Ledger

_NAT = np.iinfo(np.int64).min


def store_frame(conn: sqlite3.Connection, file_id: int, frame: Any) -> None:
    """Insert a checked extract's columns (in spec order: dates as datetime64, text as object); the
    caller holds the transaction."""
    rows = []
    for position, fid in enumerate(frame.columns):
        col = frame[fid]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            days = col.to_numpy(dtype="datetime64[D]").view(np.int64)
            blob, encoding = zlib.compress(days.astype("<i8").tobytes(), 1), "days-int64-zlib"
        else:
            values = col.where(col.notna(), None).tolist()
            blob, encoding = zlib.compress(json.dumps(values, ensure_ascii=False).encode("utf-8"), 1), "json-zlib"
        rows.append((file_id, position, fid, encoding, len(col), blob))
    conn.executemany("INSERT INTO extract_columns (file_id, position, field, encoding, n_rows, data) "
                     "VALUES (?, ?, ?, ?, ?, ?)", rows)


def read_frame(conn: sqlite3.Connection, file_id: int) -> pd.DataFrame:
    """One stored extract, its columns in spec order."""
    data: dict[str, Any] = {}
    for row in conn.execute("SELECT field, encoding, data FROM extract_columns WHERE file_id = ? ORDER BY position",
                            (file_id,)):
        raw = zlib.decompress(row["data"] if isinstance(row, sqlite3.Row) else row[2])
        field, encoding = (row["field"], row["encoding"]) if isinstance(row, sqlite3.Row) else (row[0], row[1])
        if encoding == "days-int64-zlib":
            data[field] = np.frombuffer(raw, dtype="<i8").astype(np.int64).view("datetime64[D]").astype(
                "datetime64[ns]")
        else:
            data[field] = pd.array(json.loads(raw.decode("utf-8")), dtype=object)
    return pd.DataFrame(data)


def empty_frame(spec: ExtractSpec) -> pd.DataFrame:
    return pd.DataFrame({f.id: pd.Series([], dtype="datetime64[ns]" if f.type == "date" else object)
                         for f in spec.fields})


def load_extract_frame(ledger: "Ledger | str | Path", return_id: str, contract: str) -> pd.DataFrame:
    """Every row of one contract's extracts of type ``return_id``, as one frame (see the module notes).

    ``ledger`` is an open ``intake.ledger.Ledger`` (as the packs hold one), or a ledger's path, opened
    and closed here. Columns are the extract spec's column ids, in spec order; dates are
    ``datetime64[ns]`` (NaT when empty), text is ``object`` (None when empty); rows are sorted by the key
    column. A contract with no accepted extract gives an empty frame with those columns. An unknown
    ``return_id`` raises ``KeyError`` naming it."""
    spec = load_extracts().get(return_id)
    if spec is None:
        raise KeyError(f"There is no extract type '{return_id}' (known: {', '.join(sorted(load_extracts())) or 'none'}).")
    if isinstance(ledger, (str, Path)):
        # Imported here: intake.ledger imports this module (to store an extract's columns).
        from .ledger import Ledger
        with Ledger(ledger) as opened:
            return load_extract_frame(opened, return_id, contract)
    conn = ledger.conn
    files = conn.execute("SELECT id FROM current_files WHERE return_id = ? AND contract_key = ? ORDER BY period, id",
                         (return_id, contract_key(contract))).fetchall()
    frames = [read_frame(conn, r[0]) for r in files]
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return empty_frame(spec)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame = frame.drop_duplicates(spec.key_column, keep="last")
    return frame.sort_values(spec.key_column, kind="stable").reset_index(drop=True)[[f.id for f in spec.fields]]
