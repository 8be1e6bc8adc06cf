"""Extract specs: data that is not a provider return (DWP's PRaP extracts), described like one.

An extract is one table: a header line of column names (field ids or labels) and one row per
case. Its spec is a file ``validators/<id>.toml`` that starts with an ``[extract]`` table (a return
spec starts with ``[return]``, so ``return_spec.load_all`` never sees an extract). The spec gives
the columns (id, label, type, guidance paragraph, required, choices, pattern), the key column (one
row per id), the column that names the contract, where the month comes from (the file name) and
the row rules. docs/spec-format.md "Extracts" describes the format.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field as PydField, ValidationError, model_validator

from .patterns import pattern_problem
from .resources import validators_dir
from .sheet_model import _ID, SpecError, _Model, read_spec_toml
from .small_files import SPEC_FILE_LIMIT, SmallFileError, read_small

ExtractType = Literal["text", "date", "choice"]

# The month an extract covers, in its file name: "...2026-10..." (one month, YYYY-MM).
MONTH_IN_NAME = re.compile(r"(?<!\d)(20\d\d)-(0[1-9]|1[0-2])(?!\d)")


class ExtractField(_Model):
    id: str = PydField(pattern=_ID)
    label: str
    definition: str
    type: ExtractType
    guidance: str
    required: bool = False
    choices: list[str] | None = None
    pattern: str | None = None
    max_length: int = PydField(default=100, ge=1, le=1000)

    @model_validator(mode="after")
    def _consistent(self) -> "ExtractField":
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"column '{self.id}': a choice column needs 'choices', and only a choice column has them")
        if self.pattern is not None and (problem := pattern_problem(self.pattern)):
            raise ValueError(problem)
        return self


class ExtractRule(_Model):
    """A check across the columns of one row.

    ``dates_in_order``: params { earlier = "<date column>", later = "<date column>" }: when both are
    given, ``later`` is not before ``earlier``.
    ``filled_together``: params { fields = ["<column>", ...] }: the columns are all given or all empty.
    """

    kind: Literal["dates_in_order", "filled_together"]
    params: dict[str, Any]
    guidance: str
    description: str


class ExtractSpec(_Model):
    id: str = PydField(pattern=_ID)
    title: str
    short_title: str
    guidance_source: str
    guidance_short: str
    # The column holding one pseudonymous id per row (one row per id in a file).
    key_column: str
    # The column naming the contract: every row of a file names the same one.
    contract_column: str
    # Where the month comes from: "file_name" (one YYYY-MM in the file's name).
    month_from: Literal["file_name"] = "file_name"
    fields: list[ExtractField] = PydField(min_length=1)
    rules: list[ExtractRule] = PydField(default_factory=list)
    # The generated season's profile (kpd_returns.author): opaque here.
    samples: dict[str, Any] = PydField(default_factory=dict)
    source_path: str = ""
    spec_hash: str = ""

    @model_validator(mode="after")
    def _references(self) -> "ExtractSpec":
        ids = [f.id for f in self.fields]
        if len(set(ids)) != len(ids):
            raise ValueError("a column id appears twice")
        for role in ("key_column", "contract_column"):
            if getattr(self, role) not in ids:
                raise ValueError(f"{role} names '{getattr(self, role)}', which is not a column")
        dates = {f.id for f in self.fields if f.type == "date"}
        for i, rule in enumerate(self.rules):
            named = ([rule.params.get("earlier"), rule.params.get("later")] if rule.kind == "dates_in_order"
                     else list(rule.params.get("fields") or [None]))
            pool = dates if rule.kind == "dates_in_order" else set(ids)
            if any(n not in pool for n in named):
                raise ValueError(f"rules.{i}: {rule.kind} names a column that is not "
                                 f"{'a date column' if rule.kind == 'dates_in_order' else 'in the extract'}")
        return self

    @property
    def by_id(self) -> dict[str, ExtractField]:
        return {f.id: f for f in self.fields}

    def guidance_ref(self, ref: str) -> str:
        return ref if not ref[:1].isdigit() else f"{self.guidance_short} {ref}"

    def column_for(self, name: str) -> str | None:
        """The column id a header cell names (its id or its label, whatever the case and spacing)."""
        return _names(self).get(_norm(name))


def _norm(name: Any) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().casefold()


@lru_cache(maxsize=64)
def _names_cached(spec_id: str, spec_hash: str, pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for fid, label in pairs:
        out[_norm(fid)] = fid
        out.setdefault(_norm(label), fid)
    return out


def _names(spec: ExtractSpec) -> dict[str, str]:
    return _names_cached(spec.id, spec.spec_hash, tuple((f.id, f.label) for f in spec.fields))


def _is_extract_spec(path: Path) -> bool:
    try:
        head = read_small(path, SPEC_FILE_LIMIT)[:4000].decode("utf-8", "replace")
    except (SmallFileError, OSError):
        return False
    return re.search(r"^\[extract\]", head, re.M) is not None


def load_extract_file(path: Path) -> ExtractSpec:
    data, spec_hash = read_spec_toml(path)
    body = dict(data.pop("extract", {}))
    body.update(data)
    body["source_path"], body["spec_hash"] = str(path), spec_hash
    try:
        return ExtractSpec(**body)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SpecError(f"{path.name}: key '{loc}': {first['msg'].removeprefix('Value error, ')}") from None


@lru_cache(maxsize=None)
def _load(folder: str) -> tuple[dict[str, ExtractSpec], tuple[str, ...]]:
    specs: dict[str, ExtractSpec] = {}
    problems: list[str] = []
    try:
        paths = sorted(Path(folder).glob("*.toml"))
    except OSError:
        paths = []
    for path in paths:
        if not _is_extract_spec(path):
            continue
        try:
            spec = load_extract_file(path)
        except SpecError as exc:
            problems.append(str(exc))
            continue
        specs.setdefault(spec.id, spec)
    return specs, tuple(problems)


def load_extracts(folder: str | Path | None = None) -> dict[str, ExtractSpec]:
    """The usable extract specs of the validators folder, by id (a broken one is left out)."""
    return _load(str(Path(folder) if folder else validators_dir()))[0]


def extract_problems(folder: str | Path | None = None) -> list[str]:
    """One sentence per extract spec file left out of ``load_extracts``."""
    return list(_load(str(Path(folder) if folder else validators_dir()))[1])


def recognise_header(columns: list[str], specs: dict[str, ExtractSpec] | None = None) -> ExtractSpec | None:
    """The extract whose key column the header names (by id or label), if any."""
    for spec in (specs if specs is not None else load_extracts()).values():
        if any(spec.column_for(c) == spec.key_column for c in columns):
            return spec
    return None


def month_of_name(name: str) -> str | None:
    """The one YYYY-MM month a file name holds, or None (none, or more than one)."""
    found = {m.group(0) for m in MONTH_IN_NAME.finditer(Path(name).name)}
    return found.pop() if len(found) == 1 else None
