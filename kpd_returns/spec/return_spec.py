"""Return specifications: the declarative description of each return, loaded from validators/*.toml.

The models of one return (``ReturnSpec``) and the loader. The field and sheet models are
in ``sheet_model`` (re-exported here), the period kinds in ``periods``.
"""

from __future__ import annotations

import os
import re
from functools import cached_property, lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field as PydField, ValidationError, model_validator

from .basis import HEADER, Basis, LimitBases, is_error
from .computed import aggregate_problem
from .extract_spec import extract_problems, load_extracts
from .deadlines import DEADLINES_FILE, calendar_in, calendar_problems
from .pack_spec import PackReview, PackSpec, drawing_problem
from .periods import PeriodSpec
from .return_parts import CompareMonths, KeyMeasure  # noqa: F401 - KeyMeasure is read from here too

T = TypeVar("T")
from .resources import VALIDATORS_ENV, validators_dir
from .patterns import sample_names_problem
from .small_files import SPEC_FILE_LIMIT, SmallFileError, read_small
from .sheet_model import (FIRST_DATA_ROW, HEADER_ROW, INSTRUCTION_ROW, META_SHEET, NUMERIC_TYPES, TITLE_ROW, _ID,
                          ColumnSet, Computed, FieldSpec, FieldType, PersonalDataKind, RowKey, SheetSpec, SpecError,
                          _Model, read_spec_toml)

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
    # What an error of this rule rests on (spec/basis.py). Without one the rule is a query: the
    # project's own plausibility check, whose findings are warnings a provider may explain.
    basis: Basis | None = None

    @model_validator(mode="before")
    @classmethod
    def _declared_query(cls, data: Any) -> Any:
        """``query = true`` makes any rule a query, whatever its basis: the basis becomes ``none``, so the
        one decision (spec.findings.decide) makes its findings queries in the report, the rule catalogue and
        the Checks sheet alike. A basis given with it is kept in the words of that ``none``."""
        if not isinstance(data, dict) or "query" not in data:
            return data
        data = dict(data)
        declared = data.pop("query")
        if not isinstance(declared, bool):
            raise ValueError("'query' is true or false")
        given = data.get("basis")
        if not declared and (given is None or Basis.model_validate(given).kind == "none"):
            raise ValueError("'query = false' makes the rule an error, which needs its basis (a quote with its "
                             "paragraph, arithmetic or the template)")
        if declared:
            given = data.get("basis")
            given = Basis.model_validate(given) if isinstance(given, dict) else given
            why = "the spec makes this rule a query (query = true)"
            if given is not None and given.kind != "none":
                why += f", though it rests on {given.describe()}"
            elif given is not None:
                why = given.none
            data["basis"] = Basis(none=why)
        return data

    @property
    def query(self) -> bool:
        """A rule without a basis (or with ``query = true``) is a query (spec/basis.py ``is_error``)."""
        return not is_error(self.basis)


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
    # The Cover's last step: how and when to send the return, in the return's own terms.
    cover_send: str = "Save the workbook as an Excel Workbook (.xlsx) and send it by its deadline."
    # What the personal-data check rests on: a sentence of the guidance, or the project's own protection.
    personal_data_basis: Basis = Basis(protection="MI is shared with DWP and may be published, so kpd-returns "
                                                  "keeps personal data out of every return it accepts")
    period: PeriodSpec
    header: HeaderSpec
    column_sets: dict[str, ColumnSet]
    sheets: list[SheetSpec] = PydField(min_length=1)
    rules: list[RuleSpec] = PydField(default_factory=list)
    key_measures: list[KeyMeasure] = PydField(default_factory=list)
    compare_months: list[CompareMonths] = PydField(default_factory=list)  # queries against another return type
    pack: PackSpec | None = None  # the performance packs' section for this return (spec/pack_spec.py)
    pack_review: PackReview | None = None  # the packs' review of a plan of actions (spec/pack_spec.py)
    # The sample generator's profile ([samples], docs/spec-format.md "Sample profile"): read by
    # kpd_returns.author, opaque to every earlier stage.
    samples: dict[str, Any] = PydField(default_factory=dict)
    # Set by the loader, not the file.
    source_path: str = ""
    spec_hash: str = ""

    @model_validator(mode="after")
    def _sample_names(self) -> "ReturnSpec":
        problem = sample_names_problem(self.samples)  # "../../x" must not write outside the output folder
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _review_fields(self) -> "ReturnSpec":
        review = self.pack_review
        if review is None:
            return self
        sheet = next((s for s in self.sheets if s.name == review.list_sheet and s.kind == "list"), None)
        if sheet is None:
            raise ValueError(f"@pack_review.list_sheet: '{review.list_sheet}' is not a list sheet of this return")
        ids = {f.id: f for f in sheet.fields}
        for fid in review.fields():
            if fid not in ids:
                raise ValueError(f"@pack_review: field '{fid}' is not on the '{review.list_sheet}' sheet")
        if review.done not in (ids[review.status].choices or []):
            raise ValueError(f"@pack_review.done: '{review.done}' is not one of the status field's choices")
        return self

    @model_validator(mode="after")
    def _cross_references(self) -> "ReturnSpec":
        # Each message starts with "@<key path>: " so the loader can name the key (see _format_error).
        if not is_error(self.personal_data_basis):
            raise ValueError("@personal_data_basis: the personal-data check is never a query: give its basis")
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
                if f.computed and f.computed.aggregate:
                    problem = aggregate_problem(self.sheets, sheet, f)
                    if problem:
                        key, sentence = problem
                        raise ValueError(f"@sheets.{i}.fields.{k % len(sheet.fields)}.computed.{key}: {sentence}")
                elif f.computed:
                    missing = [x for x in f.computed.of if x not in local]
                    if missing:
                        raise ValueError(
                            f"@sheets.{i}.fields.{k % len(sheet.fields)}.computed.of: computed field '{f.id}' "
                            f"refers to {missing}, not on sheet '{sheet.name}'"
                        )
        for i, c in enumerate(self.compare_months):
            if c.field not in seen_ids:
                raise ValueError(f"@compare_months.{i}.field: compare_months names '{c.field}', which is not a field")
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
        monthly = self.period.monthly or self.period.months_column_set is not None
        problem = drawing_problem(self.pack, seen_ids, None if monthly else self.period.noun) if self.pack else None
        if problem:  # a pack section that cannot be drawn is refused here, never found while drawing the packs
            raise ValueError(problem)
        return self

    # -- lookups -----------------------------------------------------------
    def memo(self, name: str, build: Callable[[ReturnSpec], T]) -> T:
        """``build(self)``, worked out once per spec and kept on it: the indexes later stages
        build from a spec (the reader's structure plan, the checks' field index)."""
        # Kept in the instance dict (the spec is frozen; this is a cache, not state), tagged with the
        # spec it belongs to: model_copy copies that dict, and a copy with other rules needs its own.
        memos = self.__dict__.get("_memos")
        if memos is None or memos["owner"] != id(self):
            memos = self.__dict__["_memos"] = {"owner": id(self)}
        if name not in memos:
            memos[name] = build(self)
        return memos[name]

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

    def required_basis(self, sheet: SheetSpec, field: FieldSpec) -> Basis | None:
        """What a required field rests on: its own basis, its sheet's, or (the header fields that say
        whose return it is and for which period) the template's; else none, a query."""
        given = field.basis.required or sheet.basis.required
        if given is not None:
            return given
        filing = {self.header.provider, self.header.contract, self.period.month_field, self.period.year_field,
                  self.period.quarter_field}
        return HEADER if field.id in filing else None

    def guidance_ref(self, ref: str) -> str:
        """'9' -> 'KPD 9'; a reference that already names its source is kept."""
        return ref if not ref[:1].isdigit() else f"{self.guidance_short} {ref}"


def _format_error(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["loc"]:
        msg = msg.removeprefix("Value error, ")  # a field's own check: its sentence is enough
    # Cross-reference checks run on the whole spec; their message carries the key path.
    located = re.match(r"Value error, @(\S+): (.*)", msg, re.S)
    if located and not first["loc"]:
        loc, msg = located[1], located[2]
    return f"{path.name}: key '{loc}': {msg}"


def load_spec_file(path: Path) -> ReturnSpec:
    """Load and check one spec file; raise SpecError naming the file and key."""
    data, spec_hash = read_spec_toml(path)
    if not isinstance(data, dict) or "return" not in data:
        raise SpecError(f"{path.name}: key 'return' is missing: a spec starts with a [return] table.")
    declared = data["return"].get("id") if isinstance(data["return"], dict) else None
    body = dict(data.pop("return"))
    body.update(data)
    body["source_path"] = str(path)
    body["spec_hash"] = spec_hash  # the file's bytes
    try:
        return ReturnSpec(**body)
    except ValidationError as exc:
        problem = SpecError(_format_error(path, exc))
        problem.declared_id = declared  # the return it meant to define: _load_folder files the problem under it
        raise problem from None


def spec_paths(folder: Path | None = None) -> list[Path]:
    folder = folder or validators_dir()
    try:
        candidates = sorted(folder.glob("*.toml"))
    except OSError:
        return []
    return [p for p in candidates if _is_return_spec(p)]


_DATA_FILES = {DEADLINES_FILE}  # read (and its problems said) on its own: spec.deadlines


def _is_return_spec(path: Path) -> bool:
    # Other data files (deadlines, KPI targets) live beside the specs. A file that cannot be read as
    # a small text file (a pipe, a device, too big, not UTF-8) counts, so the loader names it.
    if path.name in _DATA_FILES:
        return False
    try:
        head = read_small(path, SPEC_FILE_LIMIT)[:4000].decode("utf-8", "replace")
    except SmallFileError:
        return True
    except OSError:
        return False
    return re.search(r"^\[return\]", head, re.M) is not None


class _Loaded:
    """What one validators folder gave: the usable specs by id, and a sentence for each spec
    set aside (by return id, or by file name when the file does not say its id)."""

    def __init__(self) -> None:
        self.specs: dict[str, ReturnSpec] = {}
        self.problems: dict[str, str] = {}


def _folder_key(folder: str | Path | None) -> str:
    return str(Path(folder) if folder else validators_dir())


@lru_cache(maxsize=None)
def _load_folder(folder: str) -> _Loaded:
    loaded = _Loaded()
    calendar, bad_rules = calendar_in(folder), calendar_problems(folder)
    if "" in bad_rules:  # the file as a whole: said once; each return then lacks its rule
        loaded.problems[DEADLINES_FILE] = bad_rules[""]
    for path in spec_paths(Path(folder)):
        try:
            spec = load_spec_file(path)
        except SpecError as exc:
            loaded.problems[_declared_id(path, exc)] = str(exc)
            continue
        if spec.id in loaded.specs:
            loaded.problems.setdefault(spec.id + "@" + path.name,
                                       f"{path.name}: key 'return.id': '{spec.id}' is already used by another spec.")
            continue
        if spec.id in bad_rules:
            loaded.problems[spec.id] = bad_rules[spec.id]
            continue
        if spec.id not in calendar:
            loaded.problems[spec.id] = (
                f"{DEADLINES_FILE}: key '{spec.id}' is missing: every return needs a deadline rule there, or "
                f"'no_deadline = true' with a 'reason' ({path.name} defines the return '{spec.id}').")
            continue
        loaded.specs[spec.id] = spec
    return loaded


def _declared_id(path: Path, exc: SpecError) -> str:
    """The return id a spec file declares, if it could be read that far; else its file name (not read
    again: a spec file may take a second or two to parse)."""
    declared = getattr(exc, "declared_id", None)
    return declared if isinstance(declared, str) and declared else path.name


def load_all(folder: str | Path | None = None) -> dict[str, ReturnSpec]:
    """The usable return specs in the validators folder, by return id. A malformed spec file,
    or one whose return has no deadline rule, is left out (``spec_problems`` says why): one
    bad file costs only its own return."""
    loaded = _load_folder(_folder_key(folder))
    return {rid: spec for rid, spec in loaded.specs.items() if spec.source_path not in _set_aside}


def folder_problem(folder: str | Path | None = None) -> str | None:
    """The sentence for a validators folder no command can work with (missing, not a folder, or
    holding no return spec file at all), else None. A folder whose specs are all broken is not
    this: each is named by ``spec_problems``."""
    path = Path(_folder_key(folder))
    where = f"The validators folder {path}" + (f" (set by {VALIDATORS_ENV})" if folder is None
                                                and os.environ.get(VALIDATORS_ENV) else "")
    if not path.is_dir():
        return f"{where} {'is not a folder' if path.exists() else 'does not exist'}: no return type can be used."
    if not spec_paths(path):
        return (f"{where} holds no return spec (a .toml file that starts with a [return] table): no return type "
                "can be used.")
    return None


def spec_problems(folder: str | Path | None = None) -> list[str]:
    """One sentence per spec file left out of ``load_all``, naming the file and the key."""
    loaded = _load_folder(_folder_key(folder))
    return [*loaded.problems.values(),
            *(_set_aside[s.source_path] for s in loaded.specs.values() if s.source_path in _set_aside),
            *extract_problems(_folder_key(folder))]  # an extract spec ([extract]) set aside: spec.extract_spec


# Spec files a later stage found unusable (a rule kind that does not exist: kpd_returns.checks.registry),
# by source path: the sentence that says why.
_set_aside: dict[str, str] = {}


def set_aside(spec: ReturnSpec, problem: str) -> None:
    """Leave ``spec`` out of ``load_all`` from now on, for ``problem`` (one sentence)."""
    _set_aside[spec.source_path] = problem


def get_spec(return_id: str) -> ReturnSpec:
    loaded = _load_folder(_folder_key(None))
    specs = load_all()
    if return_id in specs:
        return specs[return_id]
    loose = _loosely_named(return_id, specs)
    if loose is not None:
        return loose
    broken = loaded.specs.get(return_id)
    problem = (_set_aside.get(broken.source_path) if broken else None) or loaded.problems.get(return_id) \
        or loaded.problems.get(f"{return_id}.toml")
    if problem:  # the problem itself is said once by the caller (spec_problems): name the file here
        file = problem.partition(":")[0]
        raise SpecError(f"The return type '{return_id}' is not available until {file} is fixed.")
    known = ", ".join(sorted(specs)) or "none"
    raise SpecError(f"There is no return type '{return_id}' (known: {known}).")


def _loose(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _loosely_named(typed: str, specs: dict[str, ReturnSpec]) -> ReturnSpec | None:
    """The one return type ``typed`` names when case, spaces, hyphens and underscores are set aside, by its
    id or its short title ("actionplan", "Action-Plan" and "action plan" all name ``action_plan``, as issue 21
    item 9 writes it; "atw yearly mi" names ``atw_yearly``). None when no type, or more than one, matches."""
    want = _loose(typed)
    found = {rid for rid, spec in specs.items() if want and want in (_loose(rid), _loose(spec.short_title))}
    return specs[found.pop()] if len(found) == 1 else None


def display_name(return_id: str | None) -> str:
    """The name a person reads for a return type, in every output: its spec's ``short_title``
    ("Customer Insight", "JOBS II MI"), never its id in capitals ("INSIGHT", "JOBS2"; issue 19 item 20).
    A type whose spec is not loaded keeps its id."""
    if not return_id:
        return ""
    spec = load_all().get(str(return_id)) or load_extracts().get(str(return_id))  # a return, or an extract
    return spec.short_title if spec is not None else str(return_id)


# The field and sheet models live in sheet_model; they are imported from here by every stage.
__all__ = ["Basis", "LimitBases", "FIRST_DATA_ROW", "HEADER_ROW", "INSTRUCTION_ROW", "META_SHEET", "NUMERIC_TYPES", "TITLE_ROW", "ColumnSet",
           "Computed", "FieldSpec", "FieldType", "HeaderSpec", "KeyMeasure", "PeriodSpec", "PersonalDataKind",
           "ReturnSpec", "RowKey", "RuleSpec", "SheetSpec", "SpecError", "display_name", "folder_problem", "get_spec",
           "load_all", "load_spec_file",
           "set_aside", "spec_paths", "spec_problems"]
