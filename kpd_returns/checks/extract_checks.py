"""Check an extract (spec/extract_spec.py) column by column, and build its report.

Each check works on whole columns (pandas string and datetime operations), never a Python loop over
rows: a million referrals are checked in seconds. A problem is named at its row (the file's own line
number: the header is row 1) and column, with the column's guidance paragraph; the first
``MAX_LISTED`` rows of each problem in each column are listed and the rest counted in one more finding.

What is checked, in order: the header (every column of the spec present, none twice; an unknown
column is a warning and is not read), personal data in every column (an NI number or an e-mail
address anywhere rejects the whole file: an extract holds pseudonymous ids only), the month (in the
file name), the contract (one per file, from the spec's contract column), each column's type, list,
form and length, a required column's empty cells, ids listed twice, and the spec's row rules. An
extract with no error is accepted and its typed rows (dates as datetime64, text as str or None) go to
the ledger with its report (``FileReport.table``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd

from ..spec import findings as F
from ..spec.extract_spec import ExtractSpec, month_of_name
from ..spec.findings import Finding
from ..spec.model import FileReport
from ..spec.personal_data import scan
from ..spec.personal_data_shapes import NINO

MAX_LISTED = 10
# The problem in a few words, for the finding that counts the rows beyond MAX_LISTED.
_PROBLEM = {"extract-personal-data": "personal data", "extract-not-a-date": "not a date",
            "extract-required": "empty", "extract-not-in-list": "not in the list", "extract-pattern": "not an id",
            "extract-too-long": "too long", "extract-duplicate-id": "an id listed twice",
            "extract-dates-out-of-order": "dates out of order", "extract-filled-together": "given alone"}
_ISO = "%Y-%m-%d"
_UK = "%d/%m/%Y"


def _letter(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class _Findings:
    """Findings of one file: rows listed up to MAX_LISTED per (code, column), the rest counted."""

    def __init__(self, spec: ExtractSpec, name: str, sheet: str | None, positions: dict[str, int]):
        self.spec, self.name, self.sheet, self.positions = spec, name, sheet or name, positions
        self.items: list[Finding] = []

    def file(self, code: str, **kw: Any) -> None:
        self.items.append(F.make(code, file=self.name, extract=self.spec.short_title, **kw))

    def rows(self, code: str, column: str, mask: Any, found: Any = None, *, guidance: str = "",
             label: str | None = None, **kw: Any) -> None:
        """One finding per row where ``mask`` is true (``found``: the column of values to quote)."""
        where = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(where):
            return
        letter = _letter(self.positions.get(column, 0))
        field = self.spec.by_id.get(column)
        label = label or (f"{column} ({field.label})" if field else column)
        guidance = guidance or (self.spec.guidance_ref(field.guidance) if field else "")
        values = None if found is None else np.asarray(found, dtype=object)
        per_row = {k: np.asarray(v, dtype=object) for k, v in kw.items() if isinstance(v, (pd.Series, np.ndarray))}
        fixed = {k: v for k, v in kw.items() if k not in per_row}
        for i in where[:MAX_LISTED]:
            row = int(i) + 2
            self.items.append(F.make(code, guidance=guidance, sheet=self.sheet, cell=f"{letter}{row}", field=column,
                                     field_label=label, row=row, file=self.name,
                                     found=None if values is None else values[i],
                                     **fixed, **{k: v[i] for k, v in per_row.items()}))
        if len(where) > MAX_LISTED:
            self.items.append(F.make("extract-more-rows", guidance=guidance, sheet=self.sheet, field=column,
                                     field_label=label, file=self.name, found=f"{len(where) - MAX_LISTED:,}",
                                     detail=_PROBLEM[code]))


def _personal_data(col: pd.Series) -> tuple[np.ndarray, list[str], list[str]]:
    """(rows holding personal data, what each looks like, its masked rendering) for one column of text.

    Worked out on the column's distinct values (a contract, a group or a date repeats), joined into one
    text for a single regex pass: ASCII text with no NI number and no '@' holds neither kind. Otherwise
    each distinct value takes the full scan (which normalises look-alike characters first)."""
    values = [v for v in pd.unique(col.to_numpy(dtype=object)) if isinstance(v, str)]
    joined = "\n".join(values)
    if joined.isascii() and "@" not in joined and NINO.search(joined) is None:
        return np.array([], dtype=np.int64), [], []
    found: dict[str, tuple[str, str]] = {}
    for v in values:
        if v.isascii() and "@" not in v and NINO.search(v) is None:
            continue
        kinds = [(d, m) for d, m in scan(v) if d in ("a National Insurance number", "an e-mail address")]
        if kinds:
            found[v] = kinds[0]
    if not found:
        return np.array([], dtype=np.int64), [], []
    rows = np.flatnonzero(col.isin(list(found)).to_numpy())
    pick = [found[col.iat[i]] for i in rows[:MAX_LISTED + 1]]
    return rows, [k for k, _m in pick], [m for _k, m in pick]


def check_extract(raw: pd.DataFrame, spec: ExtractSpec, *, path: str, name: str, sha256: str | None,
                  sheet: str | None = None) -> FileReport:
    """The report of one extract (``raw``: every cell as text, columns as the header names them)."""
    report = FileReport(path=path, name=name, sha256=sha256, return_id=spec.id)
    columns = [str(c) for c in raw.columns]
    positions: dict[str, int] = {}
    out = _Findings(spec, name, sheet, positions)
    n = len(raw)

    # Personal data first, in every column (one the spec does not know too).
    for j, col in enumerate(columns):
        positions.setdefault(col, j)
        rows, kinds, masked = _personal_data(raw.iloc[:, j])
        if len(rows):
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            fid = spec.column_for(col) or col
            positions[fid] = j
            out.rows("extract-personal-data", fid, mask, found=_at(rows, masked, n),
                     label=col, detail=kinds[0])

    for j, col in enumerate(columns):  # the header line is row 1, and a name may be personal data too
        header = [(d, m) for d, m in scan(col) if d in ("a National Insurance number", "an e-mail address")]
        if header:
            out.items.append(F.make("extract-personal-data", sheet=out.sheet, cell=f"{_letter(j)}1", row=1,
                                    file=name, field=_letter(j), detail=header[0][0], found=header[0][1]))

    # The header.
    mapping: dict[str, int] = {}
    for j, col in enumerate(columns):
        fid = spec.column_for(col)
        if fid is None:
            out.file("extract-column-unknown", found=col)
        elif fid in mapping:
            out.file("extract-column-twice", field=fid, found=f"'{columns[mapping[fid]]}' and '{col}'")
        else:
            mapping[fid] = j
            positions[fid] = j
    for f in spec.fields:
        if f.id not in mapping:
            out.file("extract-column-missing", field=f.id, detail=f.label, guidance=spec.guidance_ref(f.guidance))

    # The month and the contract.
    month = month_of_name(name)
    if month is None:
        out.file("extract-month-unknown", detail="none, or more than one", expected=f"{spec.id}_2026-10.csv")
    typed: dict[str, pd.Series] = {}
    for f in spec.fields:
        if f.id in mapping:
            typed[f.id] = _typed_column(raw.iloc[:, mapping[f.id]], f, out)
    if spec.contract_column in typed:
        names = sorted(typed[spec.contract_column].dropna().unique().tolist())
        if len(names) > 1:
            out.file("extract-contract-mixed", field=spec.contract_column,
                     found=", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else ""))
        report.contract = names[0] if len(names) == 1 else None
    if spec.key_column in typed:
        key = typed[spec.key_column]
        out.rows("extract-duplicate-id", spec.key_column, key.duplicated(keep="first") & key.notna(), found=key)
    given = {fid: raw.iloc[:, j].notna().to_numpy() for fid, j in mapping.items()}  # typed or not
    _rules(spec, typed, given, out)

    if month is not None:
        year, mon = int(month[:4]), int(month[5:])
        report.period, report.period_end = month, dt.date(year, mon, calendar.monthrange(year, mon)[1])
    report.findings = out.items
    if not any(f.severity == "error" for f in out.items) and len(typed) == len(spec.fields):
        report.table = pd.DataFrame({f.id: typed[f.id] for f in spec.fields}).reset_index(drop=True)
    return report


def _at(rows: np.ndarray, values: list[str], n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[rows] = values
    return out


def _typed_column(col: pd.Series, field: Any, out: _Findings) -> pd.Series:
    """The column typed (dates datetime64, text str or None), its problems found: on whole columns, and
    per distinct value where a check needs Python (a length, a list, an id's form)."""
    text = pd.Series(col.to_numpy(dtype=object), dtype=object)
    empty = text.isna().to_numpy()  # the reader gives an empty cell as None (read.table)
    if field.required:
        out.rows("extract-required", field.id, empty)
    if field.type == "date":
        parsed = pd.to_datetime(text.where(~empty), format=_ISO, errors="coerce")
        retry = parsed.isna().to_numpy() & ~empty
        if retry.any():
            parsed = parsed.where(~retry, pd.to_datetime(text.where(retry), format=_UK, errors="coerce"))
        years = parsed.dt.year
        bad = ~empty & (parsed.isna() | (years < 2000) | (years > 2100)).to_numpy()
        out.rows("extract-not-a-date", field.id, bad, found=col, expected="YYYY-MM-DD")
        return parsed.where(~bad).astype("datetime64[ns]")
    value = text.where(~empty, None)
    distinct = [v for v in pd.unique(value.to_numpy()) if v is not None]
    if field.type == "choice":
        canonical = {c.casefold(): c for c in field.choices}
        named = {v: canonical.get(str(v).casefold()) for v in distinct}
        bad = ~empty & ~value.isin([v for v, c in named.items() if c is not None]).to_numpy()
        out.rows("extract-not-in-list", field.id, bad, found=col, expected=", ".join(field.choices))
        return value.map(named).where(~bad, None).astype(object)
    long_values = [v for v in distinct if len(v) > field.max_length]
    too_long = value.isin(long_values).to_numpy() if long_values else np.zeros(len(value), dtype=bool)
    if too_long.any():
        out.rows("extract-too-long", field.id, too_long, found=value.str.len(), expected=field.max_length)
    if field.pattern:
        form = re.compile(field.pattern)
        wrong = [v for v in distinct if form.fullmatch(v) is None and len(v) <= field.max_length]
        bad = value.isin(wrong).to_numpy() if wrong else np.zeros(len(value), dtype=bool)
        out.rows("extract-pattern", field.id, bad, found=col, expected=field.pattern)
    return value.astype(object)


def _rules(spec: ExtractSpec, typed: dict[str, pd.Series], given: dict[str, np.ndarray], out: _Findings) -> None:
    """The row rules; a cell that is given but not valid (a bad date: found already) counts as given."""
    for rule in spec.rules:
        guidance = spec.guidance_ref(rule.guidance)
        if rule.kind == "dates_in_order":
            a, b = rule.params["earlier"], rule.params["later"]
            if a not in typed or b not in typed:
                continue
            bad = (typed[b] < typed[a]).to_numpy()
            if bad.any():  # the dates in words only where a row is wrong
                out.rows("extract-dates-out-of-order", b, bad, found=typed[b].dt.strftime(_ISO), guidance=guidance,
                         detail=f"{a} ({spec.by_id[a].label})", expected=typed[a].dt.strftime(_ISO))
        else:
            names = [x for x in rule.params["fields"] if x in typed]
            if len(names) < 2:
                continue
            filled = pd.DataFrame({x: given[x] for x in names})
            count = filled.sum(axis=1)
            partial = (count > 0) & (count < len(names))
            for x in names:
                out.rows("extract-filled-together", x, (partial & ~filled[x]).to_numpy(), guidance=guidance,
                         detail=" and ".join(names))
