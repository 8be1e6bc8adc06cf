"""The naive pipeline: what a capable analyst would write first, for comparison.

Per file: ``openpyxl.load_workbook`` (default mode), a pandas DataFrame of the
main table (KPD: Staffing; MMIR: Volumes; any other type: its Header sheet as one row) with the
header fields as columns, one
pandera ``validate`` call (lazy, so every failure is collected), then the frame is
appended to a list. At the end one consolidated workbook is written with pandas
``to_excel`` (its default engine, openpyxl), one sheet per return type.

It checks less than kpd-returns does (one table per file, types and ranges only:
no totals, periods, cross-sheet rules or structure), so the comparison favours it.

    python benchmarks/naive.py OUT.xlsx FILE...
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pandera.pandas as pa

MONTHS = ["April", "May", "June", "July", "August", "September", "October", "November", "December",
          "January", "February", "March"]

# Where things are in the template (row 4 headers, data from row 5; Header form values in column B).
TABLES = {
    "kpd": {"sheet": "Staffing", "rows": 12, "columns": ["Measure", "Guidance", *MONTHS],
            "header": {"cpa": 5, "provider": 6, "contract_year": 7, "quarter": 8}},
    "mmir": {"sheet": "Volumes", "rows": 14, "columns": ["Measure", "Guidance", "In month", "Year to date"],
             "header": {"provider": 5, "contract": 6, "reporting_month": 7}},
}


def _number(**kw):
    return pa.Column(float, pa.Check.ge(0), nullable=True, **kw)


SCHEMAS = {
    "kpd": pa.DataFrameSchema(
        {"file": pa.Column(str), "provider": pa.Column(str), "cpa": pa.Column(str),
         "contract_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
         "quarter": pa.Column(str, pa.Check.isin(["Q1", "Q2", "Q3", "Q4"])),
         "Measure": pa.Column(str), **{m: _number() for m in MONTHS}},
        strict=False),
    "mmir": pa.DataFrameSchema(
        {"file": pa.Column(str), "provider": pa.Column(str), "contract": pa.Column(str),
         "reporting_month": pa.Column("datetime64[us]", nullable=False, coerce=True),
         "Measure": pa.Column(str), "In month": _number(), "Year to date": _number()},
        strict=False),
}


# Any other return type: the analyst's first script reads its Header sheet (labels in column A,
# values in column B, from row 5) into one row and checks that the provider is there.
OTHER_SCHEMA = pa.DataFrameSchema({"file": pa.Column(str), "Provider": pa.Column(str)}, strict=False)


def read_one(path: str | Path) -> tuple[str, pd.DataFrame]:
    wb = openpyxl.load_workbook(path)
    kind = "kpd" if "Staffing" in wb.sheetnames else "mmir" if "Volumes" in wb.sheetnames else "other"
    if kind == "other":
        header = wb["Header"] if "Header" in wb.sheetnames else wb.worksheets[0]
        row = {str(a): b for a, b in header.iter_rows(min_row=5, max_col=2, values_only=True) if a is not None}
        df = pd.DataFrame([row])
        df["file"] = Path(path).name
        wb.close()
        return kind, df
    t = TABLES[kind]
    ws = wb[t["sheet"]]
    rows = []
    for row in ws.iter_rows(min_row=5, max_row=4 + t["rows"], max_col=len(t["columns"]), values_only=True):
        # Formula cells come back as "=SUM(...)" in default mode: the analyst blanks them.
        rows.append([None if isinstance(v, str) and v.startswith("=") else v for v in row])
    df = pd.DataFrame(rows, columns=t["columns"])
    header = wb["Header"]
    for name, r in t["header"].items():
        df[name] = header.cell(row=r, column=2).value
    df["file"] = Path(path).name
    # Numbers as floats where they are numbers; anything else (text) is left for the schema to reject.
    for col in t["columns"][2:]:
        if all(v is None or isinstance(v, (int, float)) for v in df[col]):
            df[col] = df[col].astype(float)
    wb.close()
    return kind, df


def run(paths: list[str | Path], out_xlsx: str | Path) -> dict:
    frames: dict[str, list[pd.DataFrame]] = {"kpd": [], "mmir": [], "other": []}
    failed = []
    for path in paths:
        kind, df = read_one(path)
        try:
            SCHEMAS.get(kind, OTHER_SCHEMA).validate(df, lazy=True)
        except pa.errors.SchemaErrors as exc:
            failed.append((Path(path).name, len(exc.failure_cases)))
        frames[kind].append(df)
    with pd.ExcelWriter(out_xlsx, engine="openpyxl") as writer:
        for kind, dfs in frames.items():
            if dfs:
                sheet = TABLES[kind]["sheet"] if kind in TABLES else "Other returns"
                pd.concat(dfs, ignore_index=True).to_excel(writer, sheet_name=sheet, index=False)
    return {"files": len(paths), "files_failing_schema": len(failed), "failed": failed}


if __name__ == "__main__":
    result = run(sys.argv[2:], sys.argv[1])
    print(f"{result['files']} files, {result['files_failing_schema']} failing the schema")
