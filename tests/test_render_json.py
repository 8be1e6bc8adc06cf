"""The JSON report: versioned, deterministic, and valid against docs/report-schema.json."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from kpd_returns.spec import findings as F
from kpd_returns.spec.model import FileReport
from kpd_returns.render.json_report import SCHEMA_ID, SCHEMA_VERSION, dumps, report_dict, write_json

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "report-schema.json"


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


# -- a small structural checker, used when jsonschema is not installed --------
_TYPES = {"object": dict, "array": list, "string": str, "null": type(None), "boolean": bool}


def _is_type(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def structural_errors(value, schema: dict, root: dict, path: str = "$") -> list[str]:
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return structural_errors(value, target, root, path)
    errs = []
    if "const" in schema and value != schema["const"]:
        errs.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            return errs + [f"{path}: {value!r} is not {types}"]
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            errs.append(f"{path}: too short")
    if isinstance(value, int) and not isinstance(value, bool) and "minimum" in schema and value < schema["minimum"]:
        errs.append(f"{path}: below minimum")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errs.append(f"{path}: missing {key}")
        for key, item in value.items():
            if key in props:
                errs += structural_errors(item, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{path}: unexpected key {key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errs += structural_errors(item, schema["items"], root, f"{path}[{i}]")
    return errs


def schema_errors(document: dict) -> list[str]:
    schema = load_schema()
    try:
        import jsonschema
    except ImportError:
        return structural_errors(document, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# -- reports -------------------------------------------------------------------

def sample_reports() -> list[FileReport]:
    return [
        FileReport(
            path="returns/northbridge.xlsx", name="northbridge.xlsx", sha256="ab" * 32, return_id="mmir",
            version="1.0", provider="Northbridge Employment Ltd", contract="AtW-MHSS-07", period="2026-10",
            deadline=dt.datetime(2026, 11, 4, 23, 59), submitted=dt.datetime(2026, 11, 20),
            submitted_source="workbook", late_working_days=12,
            findings=[
                F.make("implausible-value", sheet="Volumes", cell="C5", field="referrals",
                       field_label="Referrals", found=9999.0, expected=500, guidance="AtW 7.25"),
                F.make("submitted-late", detail="on 20 November 2026", expected="Wed 4 November 2026 23:59"),
                F.make("not-a-number", sheet="Late reworks", cell="B5", field="reference",
                       field_label="Reference", found="n/a", guidance="AtW 7.25"),
            ],
        ),
        FileReport(path="bad.xlsx", name="bad.xlsx", findings=[F.make("file-corrupt", file="bad.xlsx", detail="x")]),
        FileReport(path="ok.xlsx", name="ok.xlsx", sha256="cd" * 32, return_id="kpd", version="1.0",
                   period="2026-27 Q2", provider="P", contract="CPA 1"),
    ]


def test_schema_file_is_a_valid_draft_2020_12_schema():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema"]["const"] == SCHEMA_ID
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)


def test_report_validates_against_the_schema():
    document = json.loads(dumps(sample_reports()))
    assert schema_errors(document) == []
    assert structural_errors(document, load_schema(), load_schema()) == []


def test_structural_checker_catches_mistakes():
    document = report_dict(sample_reports())
    document["files"][0]["verdict"] = "fine"
    del document["files"][1]["counts"]
    document["files"][2]["extra"] = 1
    errs = structural_errors(json.loads(json.dumps(document)), load_schema(), load_schema())
    assert len(errs) == 3
    assert schema_errors(json.loads(json.dumps(document)))


def test_top_level_and_file_shape():
    document = json.loads(dumps(sample_reports()))
    assert list(document) == ["schema", "schema_version", "valid", "exit_code", "counts", "skipped", "files"]
    assert document["schema"] == "kpd-returns/validation-report"
    assert document["schema_version"] == SCHEMA_VERSION == "2.1"
    assert document["valid"] is False and document["exit_code"] == 2
    assert document["counts"] == {"files": 3, "valid": 1, "valid_with_warnings": 0, "invalid": 1, "unreadable": 1,
                                  "errors": 2, "warnings": 2, "skipped": 0}
    first = document["files"][0]
    assert first["file"] == "returns/northbridge.xlsx"
    assert first["verdict"] == "invalid" and first["exit_code"] == 1
    assert first["counts"] == {"errors": 1, "warnings": 2, "explained": 0}
    assert first["deadline"] == "2026-11-04T23:59:00"
    assert first["submitted"] == "2026-11-20T00:00:00" and first["submitted_source"] == "workbook"
    assert first["late_working_days"] == 12
    # errors first, then by level (file before cells)
    assert [f["code"] for f in first["findings"]] == ["not-a-number", "submitted-late", "implausible-value"]
    nan = first["findings"][0]
    assert nan["ref"] == "'Late reworks'!B5" and nan["sheet"] == "Late reworks" and nan["cell"] == "B5"
    assert nan["found"] == "n/a" and nan["field_label"] == "Reference"
    late = first["findings"][1]
    assert late["sheet"] is None and late["cell"] is None and late["ref"] is None
    bad = document["files"][1]
    assert bad["verdict"] == "unreadable" and bad["exit_code"] == 2 and bad["sha256"] is None
    assert document["files"][2]["findings"] == [] and document["files"][2]["verdict"] == "valid"


def test_deterministic_and_free_of_run_timestamps():
    a, b = dumps(sample_reports()), dumps(sample_reports())
    assert a == b
    today = dt.date.today().isoformat()
    assert today not in a
    buf = io.StringIO()
    write_json(sample_reports(), buf)
    assert buf.getvalue() == a and a.endswith("\n")


def test_findings_sorted_whatever_the_input_order():
    reports = sample_reports()
    reports[0].findings.reverse()
    assert dumps(reports) == dumps(sample_reports())


def test_as_of_time_fills_submitted_and_says_so():
    r = FileReport(path="a.xlsx", name="a.xlsx", return_id="mmir", period="2026-10",
                   deadline=dt.datetime(2026, 11, 4, 23, 59), late_working_days=3,
                   submitted=dt.datetime(2026, 11, 9), submitted_source="as-of")
    document = report_dict([r])
    entry = document["files"][0]
    assert entry["submitted"] == "2026-11-09T00:00:00" and entry["as_of"] == "2026-11-09"
    assert entry["submitted_source"] == "as-of" and entry["late_working_days"] == 3
    assert schema_errors(json.loads(json.dumps(document))) == []
    first = report_dict(sample_reports())["files"][0]
    assert first["as_of"] is None and first["submitted"] == "2026-11-20T00:00:00"


def test_a_valid_batch_says_so_at_the_top_and_lists_what_it_skipped():
    ok = sample_reports()[2]
    document = json.loads(dumps([ok], skipped=["inbox/README.md"]))
    assert document["valid"] is True and document["exit_code"] == 0
    assert document["counts"]["files"] == 1 and document["counts"]["skipped"] == 1
    assert document["skipped"] == ["inbox/README.md"]
    assert schema_errors(document) == []


def test_schema_checks_use_jsonschema():
    """jsonschema is a test dependency: the schema is checked by a real validator, not only the fallback."""
    import jsonschema  # noqa: F401
