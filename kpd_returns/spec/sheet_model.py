"""The field and sheet models of a return spec (validators/*.toml), and the layout rows they share.

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
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field as PydField, field_validator, model_validator
from .patterns import pattern_problem

from .constants import FIGURE_CEILING

from .basis import Basis, Limit, LimitBases, default_basis, is_error
from .small_files import SPEC_FILE_LIMIT, SmallFileError, parse_toml, read_small_text

FieldType = Literal["count", "fte", "days", "decimal", "percent", "text", "date", "choice"]
PersonalDataKind = Literal["email", "ni_number", "date_of_birth", "phone", "postcode"]
NUMERIC_TYPES = frozenset({"count", "fte", "days", "decimal", "percent"})

TITLE_ROW = 1
INSTRUCTION_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = 5

META_SHEET = "_kpd_returns_meta"

_ID = r"^[a-z][a-z0-9_]*$"
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class SpecError(Exception):
    """A specification file is missing, unreadable or malformed."""


def read_spec_toml(path: Path) -> tuple[dict[str, Any], str]:
    """A spec file's TOML and its hash (of the file's bytes), for a return or an extract spec: a regular file of
    at most 1 MB, UTF-8, nesting at most 32 deep (spec.small_files); SpecError naming the file otherwise."""
    try:
        text = read_small_text(path, SPEC_FILE_LIMIT)
        data = parse_toml(text)
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror}).") from None
    except SmallFileError as exc:
        raise SpecError(f"{path.name}: {exc}") from None
    return data, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Computed(_Model):
    """A computed field: ``sum`` of fields, or ``ratio`` of two fields (numerator, denominator),
    multiplied by ``scale`` (100 for a percentage) and rounded to ``decimals`` places when given.
    Or an aggregate of a list sheet (``list``): the ``sum`` of its ``column``, or the ``count`` of its
    started rows (rows with ``column`` filled in, when given), optionally only rows ``where`` a field
    has one of the given values. Evaluated by kpd_returns.spec.computed, for the checks, the
    consolidated workbook and the packs."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    op: Literal["sum", "ratio", "count"]
    of: list[str] = PydField(default_factory=list)
    # An aggregate: the list sheet's name (``list`` in the spec file).
    list_sheet: str | None = PydField(default=None, alias="list")
    column: str | None = None  # its field summed (sum) or filled in (count)
    where: dict[str, list[str]] = PydField(default_factory=dict)  # field id -> the values a row is kept for
    scale: float = 1.0
    decimals: int | None = PydField(default=None, ge=0, le=10)
    # A ratio whose denominator is 0 while its numerator is not: "finding" (total-divide-by-zero, the
    # provider's figures disagree) or "blank" (left empty, no finding: month-by-month flows, where this
    # month's numerator may come from last month's denominator, JOBS II 6.23).
    zero_denominator: Literal["finding", "blank"] = "finding"

    @model_validator(mode="after")
    def _ratio_has_two(self) -> "Computed":
        if self.list_sheet is not None:
            if self.of:
                raise ValueError("an aggregate of a list takes 'list' and 'column', not 'of'")
            if self.op == "ratio":
                raise ValueError("an aggregate of a list is op = \"sum\" or op = \"count\"")
            if self.op == "sum" and not self.column:
                raise ValueError("a sum of a list needs 'column': the list's field to add up")
            if any(not values for values in self.where.values()):
                raise ValueError("each 'where' field needs at least one value")
        elif self.column is not None or self.where:
            raise ValueError("'column' and 'where' go with 'list' (an aggregate of a list sheet)")
        elif self.op == "count":
            raise ValueError("op = \"count\" needs 'list': the list sheet whose rows are counted")
        elif not self.of:
            raise ValueError("a computed field needs 'of' (the fields it is worked out from) or 'list'")
        if self.op == "ratio" and len(self.of) != 2:
            raise ValueError("a ratio needs exactly two fields: [numerator, denominator]")
        if self.op != "ratio" and self.zero_denominator != "finding":
            raise ValueError("zero_denominator goes with op = \"ratio\"")
        return self

    @property
    def aggregate(self) -> bool:
        """Worked out from a list sheet's rows, not from fields at the same key."""
        return self.list_sheet is not None

    @property
    def inputs(self) -> list[str]:
        """The field ids it is worked out from: ``of``, or the list's column and ``where`` fields."""
        if self.list_sheet is None:
            return list(self.of)
        return [*([self.column] if self.column else []), *self.where]


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
    # What each limit rests on (spec/basis.py); a limit without one is a query.
    basis: LimitBases = LimitBases()

    @field_validator("pattern")
    @classmethod
    def _safe_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None and (problem := pattern_problem(pattern)):
            raise ValueError(problem)  # shapes that backtrack for hours are refused (spec.patterns)
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> "FieldSpec":
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice field needs a non-empty 'choices' list")
        if self.type != "choice" and self.choices:
            raise ValueError("'choices' is only allowed on a choice field")
        if self.computed and self.type not in NUMERIC_TYPES:
            raise ValueError("only numeric fields can be computed")
        whole = self.basis.decimals
        if self.type == "count" and not self.decimals and whole is not None and whole.kind == "none":
            # not-whole-number has no query form (spec.findings QUERY_TWINS): it would stay an error with no basis
            raise ValueError("a count's whole-number check cannot be a query: give its basis (a count cannot be "
                             "fractional), or let the count have decimal places")
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

    def limit_basis(self, limit: Limit) -> Basis | None:
        """What the limit rests on: the spec's ``basis`` for it, else the default its type implies."""
        given = getattr(self.basis, limit)
        if given is not None:
            return given
        # A limit the spec sets only replaces the type's basis when it is stricter than the type's own: a count
        # with min = 0, a percent with max = 100 or a count with decimals = 0 keep their arithmetic.
        explicit = {"min": self.min is not None and self.min > 0,
                    "max": self.max is not None and (self.type != "percent" or self.max < 100),
                    "decimals": bool(self.decimals)}.get(limit, False)
        return default_basis(self.type, limit, explicit=explicit)

    @property
    def checked_lower(self) -> float | None:
        """The lower bound the checks apply: ``lower``, and for a number never below minus
        ``FIGURE_CEILING`` (spec.constants), whatever the spec says."""
        return max(self.lower, -FIGURE_CEILING) if self.numeric else self.lower

    @property
    def checked_upper(self) -> float | None:
        """The upper bound the checks apply: ``upper``, and for a number never above ``FIGURE_CEILING``,
        the magnitude no figure in any return can reach (a count of 1e308 is an error at its cell).
        The template's own validation shows ``upper`` only, so templates are unchanged by it."""
        if not self.numeric:
            return self.upper
        return FIGURE_CEILING if self.upper is None else min(self.upper, FIGURE_CEILING)

    @property
    def max_decimals(self) -> int | None:
        """Decimal places allowed (an error beyond): counts are whole numbers; a spec's ``decimals``
        only with a basis for it (otherwise it is ``query_decimals``)."""
        if self.decimals is not None and not is_error(self.limit_basis("decimals")):
            return None
        if self.decimals is not None:
            return self.decimals
        return {"count": 0}.get(self.type)

    @property
    def query_decimals(self) -> int | None:
        """Decimal places beyond which a figure is a ``many-decimals`` query: a spec's ``decimals``
        without a basis, or ``precision``; FTE and days lost to 4 places otherwise."""
        if self.precision is not None:
            return self.precision
        if self.decimals is not None and self.max_decimals is None:
            return self.decimals
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
    # What the checks across returns read here (docs/spec-format.md, "Pack sections"): "in_month_ytd"
    # (first key in month, second year to date) or "restated_months" (months a later return restates).
    role: Literal["in_month_ytd", "restated_months"] | None = None

    @model_validator(mode="after")
    def _same_length(self) -> "ColumnSet":
        if len(self.keys) != len(self.labels):
            raise ValueError("'keys' and 'labels' must have the same length")
        if self.role == "in_month_ytd" and len(self.keys) != 2:
            raise ValueError("role 'in_month_ytd' needs two keys: the in-month figure, then the year to date")
        if self.role == "restated_months" and self.months is None:
            raise ValueError("role 'restated_months' needs 'months': the calendar month of each key")
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
    # The basis of its fields' ``required`` (a field's own basis wins) and, on a list, of its ``rows``.
    basis: LimitBases = LimitBases()
    fields: list[FieldSpec] = PydField(min_length=1)

    @field_validator("name")
    @classmethod
    def _valid_sheet_name(cls, v: str) -> str:
        if SHEET_NAME_BAD.search(v) or v.startswith("'"):
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
