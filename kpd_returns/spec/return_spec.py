"""Return specifications: the declarative description of each return, loaded from validators/*.toml.

One TOML file describes one return type. Everything else (the blank template,
extraction, validation, consolidation and packs) is driven by these models, so a
new return type is a new spec file, not new code.

Layout convention shared by the template writer and the reader (see ``Layout``):
row 1 holds the sheet title, row 2 a one-line instruction, row 4 the table
header and data starts on row 5. Column A always holds a locked label.

* ``form``: one field per row; A = label, B = value, C = guidance reference.
* ``grid``: one field per row, one column per key of a column set
  (months April..March, or in month / year to date); A = label,
  B = guidance reference, C onwards = values.
* ``list``: one field per column; rows are either fixed (``rows``: each with a
  key and a locked label in column A) or free (``max_rows``, column A numbered).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field as PydField, ValidationError, field_validator, model_validator

from .resources import validators_dir

FieldType = Literal["count", "fte", "days", "decimal", "percent", "text", "date", "choice"]
PersonalDataKind = Literal["email", "ni_number", "date_of_birth", "phone", "postcode"]
NUMERIC_TYPES = frozenset({"count", "fte", "days", "decimal", "percent"})

TITLE_ROW = 1
INSTRUCTION_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = 5

META_SHEET = "_kpd_returns_meta"

_ID = r"^[a-z][a-z0-9_]*$"
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class SpecError(Exception):
    """A specification file is missing, unreadable or malformed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Computed(_Model):
    """A computed field: ``sum`` of fields, or ``ratio`` of two fields (numerator, denominator)."""

    op: Literal["sum", "ratio"]
    of: list[str] = PydField(min_length=1)

    @model_validator(mode="after")
    def _ratio_has_two(self) -> "Computed":
        if self.op == "ratio" and len(self.of) != 2:
            raise ValueError("a ratio needs exactly two fields: [numerator, denominator]")
        return self


class FieldSpec(_Model):
    # "{n}" marks the place of the repeat number in a repeated block.
    id: str = PydField(pattern=r"^[a-z][a-z0-9_]*(\{n\}[a-z0-9_]*)?$")
    label: str
    definition: str
    type: FieldType
    guidance: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    # Decimal places beyond which a figure is queried (a warning), not rejected: the
    # guidance sets no precision for FTE or days lost (KPD 4-8, 10); a third of a post is 0.333.
    precision: int | None = None
    choices: list[str] | None = None
    pattern: str | None = None
    max_length: int = 1000
    computed: Computed | None = None
    # Every text cell is scanned for personal data (checks.personal_data); a field may only
    # relax WHICH kinds are looked for (a provider's name is not checked for postcodes), never
    # switch the scan off. Kinds: email, ni_number, date_of_birth, phone, postcode.
    personal_data_skip: list[PersonalDataKind] = PydField(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "FieldSpec":
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice field needs a non-empty 'choices' list")
        if self.type != "choice" and self.choices:
            raise ValueError("'choices' is only allowed on a choice field")
        if self.computed and self.type not in NUMERIC_TYPES:
            raise ValueError("only numeric fields can be computed")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def lower(self) -> float | None:
        """Lower bound: numbers are never negative unless the spec says so."""
        if self.min is not None:
            return self.min
        return 0.0 if self.numeric else None

    @property
    def upper(self) -> float | None:
        if self.max is not None:
            return self.max
        return 100.0 if self.type == "percent" else None

    @property
    def max_decimals(self) -> int | None:
        """Decimal places allowed (an error beyond): counts are whole numbers; FTE has no
        limit in the guidance (KPD 4-8), so none here (see ``query_decimals``)."""
        if self.decimals is not None:
            return self.decimals
        return {"count": 0}.get(self.type)

    @property
    def query_decimals(self) -> int | None:
        """Decimal places beyond which a figure is a ``many-decimals`` query: FTE and days
        lost to 4 places unless the spec sets ``precision`` (or a hard ``decimals``)."""
        if self.precision is not None:
            return self.precision
        if self.max_decimals is not None:
            return None
        return {"fte": 4, "days": 4}.get(self.type)

    @property
    def checks_personal_data(self) -> bool:
        """Text is always scanned (see ``personal_data_skip``)."""
        return self.type == "text"


class RowKey(_Model):
    key: str = PydField(pattern=_ID)
    label: str


class ColumnSet(_Model):
    keys: list[str] = PydField(min_length=1)
    labels: list[str] = PydField(min_length=1)
    # For month columns: the calendar month of each key (4 = April). Used to map
    # a column to a real month and to tell which months are after the period.
    months: list[int] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> "ColumnSet":
        if len(self.keys) != len(self.labels):
            raise ValueError("'keys' and 'labels' must have the same length")
        if self.months is not None and len(self.months) != len(self.keys):
            raise ValueError("'months' must have one entry per key")
        return self


class SheetSpec(_Model):
    name: str = PydField(min_length=1, max_length=31)
    title: str
    kind: Literal["form", "grid", "list"]
    guidance: str
    description: str = ""
    columns: str | None = None  # grid: the column set's name
    rows: list[RowKey] | None = None  # list: fixed rows
    max_rows: int | None = None  # list: free rows
    row_label: str = "Row"  # list: header of column A
    repeat: int = 1  # the block of fields repeats n times with {n} substituted
    optional: bool = False  # a whole sheet that may be left empty (e.g. quarterly)
    fields: list[FieldSpec] = PydField(min_length=1)

    @field_validator("name")
    @classmethod
    def _valid_sheet_name(cls, v: str) -> str:
        if _SHEET_NAME_BAD.search(v) or v.startswith("'"):
            raise ValueError("a sheet name cannot contain [ ] : * ? / \\")
        return v

    @model_validator(mode="after")
    def _kind_needs(self) -> "SheetSpec":
        if self.kind == "grid" and not self.columns:
            raise ValueError("a grid sheet needs 'columns' (the name of a column set)")
        if self.kind == "list" and bool(self.rows) == bool(self.max_rows):
            raise ValueError("a list sheet needs exactly one of 'rows' (fixed) or 'max_rows' (free)")
        if self.kind != "list" and (self.rows or self.max_rows):
            raise ValueError("'rows' and 'max_rows' belong to list sheets only")
        templated = ["{n}" in f.id for f in self.fields]
        if self.repeat > 1 and not all(templated):
            raise ValueError("every field id of a repeated block needs '{n}'")
        if self.repeat == 1 and any(templated):
            raise ValueError("'{n}' in a field id needs 'repeat' greater than 1")
        return self

    @cached_property
    def expanded_fields(self) -> list[FieldSpec]:
        """The fields in sheet order, repeated blocks expanded ({n} -> 1..repeat)."""
        if self.repeat == 1:
            return list(self.fields)
        out = []
        for n in range(1, self.repeat + 1):
            for f in self.fields:
                # Copies of fields already validated: model_copy skips re-validation (built every run).
                update = {key: getattr(f, key).replace("{n}", str(n)) for key in ("id", "label", "definition")}
                if f.computed is not None:
                    update["computed"] = f.computed.model_copy(
                        update={"of": [x.replace("{n}", str(n)) for x in f.computed.of]})
                out.append(f.model_copy(update=update))
        return out

    @cached_property  # built once: free lists have hundreds of rows and every layout lookup asks
    def row_keys(self) -> list[RowKey]:
        if self.rows:
            return list(self.rows)
        return [RowKey(key=f"row{i}", label=str(i)) for i in range(1, (self.max_rows or 0) + 1)]


class PeriodSpec(_Model):
    """How the reporting period is read from the header.

    ``month``: one date field gives the reporting month (MMIR).
    ``contract_quarter``: a contract year ("2026-27") and a quarter ("Q1".."Q4");
    quarters count from ``year_start_month`` (April for the KPD return, KPD 16).
    """

    kind: Literal["month", "contract_quarter"]
    month_field: str | None = None
    year_field: str | None = None
    quarter_field: str | None = None
    year_start_month: int = PydField(default=4, ge=1, le=12)
    months_column_set: str | None = None  # grid columns that are calendar months


class HeaderSpec(_Model):
    """Which header fields play which part (all on form sheets)."""

    provider: str
    contract: str
    submitted: str
    contact: str | None = None


class RuleSpec(_Model):
    """A consistency rule: a named check kind with its parameters (see kpd_returns.checks)."""

    kind: str = PydField(pattern=_ID)
    guidance: str
    description: str
    params: dict[str, Any] = PydField(default_factory=dict)
    # A query is the project's own plausibility check, not a rule of the guidance: its
    # findings are warnings a provider may explain (README, "Decisions where the guidance is silent").
    query: bool = False


class KeyMeasure(_Model):
    """A measure the consolidated workbook lays out providers x months: the sum of ``parts``.

    Each part is [field id, key]; an empty key means every month column (a KPD grid)."""

    slug: str = PydField(pattern=_ID)
    sheet: str = PydField(min_length=1, max_length=31)
    title: str
    parts: list[tuple[str, str]] = PydField(min_length=1)
    flow: bool = True  # a flow adds up across months (a Total column); a stock does not
    number_format: str = "#,##0"
    note: str = ""


class ReturnSpec(_Model):
    id: str = PydField(pattern=_ID)
    title: str
    short_title: str
    version: str
    superseded_versions: list[str] = PydField(default_factory=list)
    name_prefix: str = PydField(pattern=r"^[A-Z][A-Z0-9]*$")
    guidance_source: str
    guidance_short: str
    # The paragraph that requires the return's own template: cited by structure findings.
    template_guidance: str = ""
    period: PeriodSpec
    header: HeaderSpec
    column_sets: dict[str, ColumnSet]
    sheets: list[SheetSpec] = PydField(min_length=1)
    rules: list[RuleSpec] = PydField(default_factory=list)
    key_measures: list[KeyMeasure] = PydField(default_factory=list)
    # The sample generator's profile ([samples], docs/spec-format.md "Sample profile"): read by
    # kpd_returns.author, opaque to every earlier stage.
    samples: dict[str, Any] = PydField(default_factory=dict)
    # Set by the loader, not the file.
    source_path: str = ""
    spec_hash: str = ""

    @model_validator(mode="after")
    def _cross_references(self) -> "ReturnSpec":
        # Each message starts with "@<key path>: " so the loader can name the key (see _format_error).
        seen_sheets: set[str] = set()
        seen_ids: set[str] = set()
        for i, sheet in enumerate(self.sheets):
            if sheet.name in seen_sheets:
                raise ValueError(f"@sheets.{i}.name: sheet name '{sheet.name}' appears twice")
            if sheet.name == META_SHEET:
                raise ValueError(f"@sheets.{i}.name: sheet name '{META_SHEET}' is reserved")
            seen_sheets.add(sheet.name)
            if sheet.kind == "grid" and sheet.columns not in self.column_sets:
                raise ValueError(f"@sheets.{i}.columns: sheet '{sheet.name}' uses unknown column set '{sheet.columns}'")
            for k, f in enumerate(sheet.expanded_fields):
                if f.id in seen_ids:
                    raise ValueError(f"@sheets.{i}.fields.{k % len(sheet.fields)}.id: field id '{f.id}' appears twice")
                seen_ids.add(f.id)
        for i, sheet in enumerate(self.sheets):
            local = {f.id for f in sheet.expanded_fields}
            for k, f in enumerate(sheet.expanded_fields):
                if f.computed:
                    missing = [x for x in f.computed.of if x not in local]
                    if missing:
                        raise ValueError(
                            f"@sheets.{i}.fields.{k % len(sheet.fields)}.computed.of: computed field '{f.id}' "
                            f"refers to {missing}, not on sheet '{sheet.name}'"
                        )
        for m in self.key_measures:
            unknown = [fid for fid, _ in m.parts if fid not in seen_ids]
            if unknown:
                raise ValueError(f"key measure '{m.slug}' uses unknown fields {unknown}")
        form_ids = {f.id for s in self.sheets if s.kind == "form" for f in s.expanded_fields}
        for role, fid in self.header.model_dump().items():
            if fid and fid not in form_ids:
                raise ValueError(f"@header.{role}: header.{role} names '{fid}', which is not a field on a form sheet")
        for key in ("month_field", "year_field", "quarter_field"):
            fid = getattr(self.period, key)
            if fid and fid not in form_ids:
                raise ValueError(f"@period.{key}: period names '{fid}', which is not a field on a form sheet")
        return self

    # -- lookups -----------------------------------------------------------
    @cached_property
    def fields_by_id(self) -> dict[str, tuple[SheetSpec, FieldSpec]]:
        return {f.id: (s, f) for s in self.sheets for f in s.expanded_fields}

    def sheet(self, name: str) -> SheetSpec:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)

    def field(self, field_id: str) -> FieldSpec:
        return self.fields_by_id[field_id][1]

    def defined_name(self, field_id: str) -> str:
        """The workbook defined name of a field: the contract between template and reader."""
        return f"{self.name_prefix}_{field_id}"

    def guidance_ref(self, ref: str) -> str:
        """'9' -> 'KPD 9'; a reference that already names its source is kept."""
        return ref if not ref[:1].isdigit() else f"{self.guidance_short} {ref}"


def _format_error(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    # Cross-reference checks run on the whole spec; their message carries the key path.
    located = re.match(r"Value error, @(\S+): (.*)", msg, re.S)
    if located and not first["loc"]:
        loc, msg = located[1], located[2]
    return f"{path.name}: key '{loc}': {msg}"


def load_spec_file(path: Path) -> ReturnSpec:
    """Load and check one spec file; raise SpecError naming the file and key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path.name}: is not valid TOML ({exc}).") from None
    if not isinstance(data, dict) or "return" not in data:
        raise SpecError(f"{path.name}: key 'return' is missing: a spec starts with a [return] table.")
    body = dict(data.pop("return"))
    body.update(data)
    body["source_path"] = str(path)
    body["spec_hash"] = hashlib.sha256(raw).hexdigest()[:16]
    try:
        return ReturnSpec(**body)
    except ValidationError as exc:
        raise SpecError(_format_error(path, exc)) from None


def spec_paths(folder: Path | None = None) -> list[Path]:
    folder = folder or validators_dir()
    return sorted(p for p in folder.glob("*.toml") if _is_return_spec(p))


def _is_return_spec(path: Path) -> bool:
    # Other data files (deadlines, KPI targets) live beside the specs.
    try:
        head = path.read_text(encoding="utf-8")[:4000]
    except OSError:
        return False
    return re.search(r"^\[return\]", head, re.M) is not None


@lru_cache(maxsize=None)
def load_all(folder: str | None = None) -> dict[str, ReturnSpec]:
    """All return specs in the validators folder, by return id."""
    specs: dict[str, ReturnSpec] = {}
    for path in spec_paths(Path(folder) if folder else None):
        spec = load_spec_file(path)
        if spec.id in specs:
            raise SpecError(f"{path.name}: return id '{spec.id}' is already used by another spec.")
        specs[spec.id] = spec
    return specs


def get_spec(return_id: str) -> ReturnSpec:
    specs = load_all()
    try:
        return specs[return_id]
    except KeyError:
        known = ", ".join(sorted(specs)) or "none"
        raise SpecError(f"There is no return type '{return_id}' (known: {known}).") from None
