"""The state every check shares for one file: where each field's cells are, their raw and
parsed values, and one way to add a finding at a cell.

``FileCheck`` is a plain, picklable record (no workbook object). Its ``data.cells`` is
*sparse*: only cells that hold a value or a formula are located; any other slot is
blank. ``data.values`` holds the parsed value of every cell that passed its type check;
cells later found invalid (bounds, personal data, a month after the period...) are added
to ``bad`` and are then no longer a usable value (``FileCheck.value``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..spec import findings as F
from ..spec import layout
from ..spec.basis import Basis
from ..spec.findings import Finding
from ..spec.model import ReturnData
from ..spec.periods import month_title
from ..spec.return_spec import FieldSpec, ReturnSpec, RuleSpec, SheetSpec
from ..read.values import is_blank

Key = tuple[str, str]  # (field id, column key / row key / "" for a form field)
_RULE = Basis(none="the basis of the rule being run")  # marks "no basis given: the running rule's"


@dataclass
class SpecIndex:
    """Cell positions of one spec, worked out once per process."""

    spec: ReturnSpec
    slots: dict[Key, layout.Slot]
    order: dict[Key, int]  # reading order of every slot, for stable output
    by_position: dict[str, dict[tuple[int, int], Key]]  # sheet -> (row, col) -> slot key
    sheet_of: dict[str, SheetSpec]  # field id -> its sheet
    field_of: dict[str, FieldSpec]  # field id -> field
    keys: dict[str, list[str]]  # sheet name -> its keys (grid columns, list rows, [""] for a form)
    key_labels: dict[tuple[str, str], str]  # (sheet, key) -> column or row label
    sheet_of_name: dict[str, SheetSpec]  # sheet name -> sheet


def spec_index(spec: ReturnSpec) -> SpecIndex:
    """The index of ``spec``, built once and kept on the spec."""
    return spec.memo("checks.spec_index", _build_index)


def _build_index(spec: ReturnSpec) -> SpecIndex:
    slots: dict[Key, layout.Slot] = {}
    by_position: dict[str, dict[tuple[int, int], Key]] = {}
    keys: dict[str, list[str]] = {}
    key_labels: dict[tuple[str, str], str] = {}
    for sheet in spec.sheets:
        positions = by_position.setdefault(sheet.name, {})
        for slot in layout.slots(spec, sheet):
            slots[(slot.field, slot.key)] = slot
            positions[(slot.row, slot.col)] = (slot.field, slot.key)
        if sheet.kind == "grid":
            cs = spec.column_sets[sheet.columns]
            keys[sheet.name] = list(cs.keys)
            key_labels.update({(sheet.name, k): lab for k, lab in zip(cs.keys, cs.labels)})
        elif sheet.kind == "list":
            keys[sheet.name] = [r.key for r in sheet.row_keys]
            key_labels.update({(sheet.name, r.key): r.label for r in sheet.row_keys})
        else:
            keys[sheet.name] = [""]
    idx = SpecIndex(
        spec=spec, slots=slots, order={k: i for i, k in enumerate(slots)}, by_position=by_position,
        sheet_of={f.id: s for s in spec.sheets for f in s.expanded_fields},
        field_of={f.id: f for s in spec.sheets for f in s.expanded_fields},
        keys=keys, key_labels=key_labels, sheet_of_name={s.name: s for s in spec.sheets},
    )
    return idx


@dataclass
class FileCheck:
    """One recognised return being checked."""

    spec: ReturnSpec
    data: ReturnData
    findings: list[Finding] = field(default_factory=list)
    bad: set[Key] = field(default_factory=set)
    computed: dict[Key, float] = field(default_factory=dict)  # recomputed totals (never cached values)
    zero_denominator: set[Key] = field(default_factory=set)  # ratios whose denominator is 0
    unreadable_sheets: frozenset[str] = frozenset()  # layout changed: not read, their checks not run
    not_run: list[str] = field(default_factory=list)  # per rule skipped, each unreadable sheet it reads
    rule: RuleSpec | None = None  # the rule being run (checks.registry.run_rules): its basis decides severity
    # List sheet -> the first cell typed below its last row (checks.lists.check_rows_below).
    rows_below: dict[str, str] = field(default_factory=dict)
    _started: dict[str, list[str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.idx = spec_index(self.spec)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("idx", None)  # rebuilt from the spec, once per process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.idx = spec_index(self.spec)

    def started_rows(self, sheet_name: str) -> list[str]:
        """Row keys of a list sheet with at least one filled cell, in sheet order."""
        if self._started is None:
            started: dict[str, set[str]] = {}
            for loc in self.data.cells.values():
                if not is_blank(loc.raw):
                    started.setdefault(loc.sheet, set()).add(loc.key)
            self._started = {name: [k for k in keys if k in started.get(name, ())]
                             for name, keys in self.idx.keys.items()}
        return self._started[sheet_name]

    # -- reading cells ---------------------------------------------------------
    def filled(self, fid: str, key: str) -> bool:
        """The cell holds something (a value, or text that is not a valid value)."""
        loc = self.data.cells.get((fid, key))
        return loc is not None and not is_blank(loc.raw)

    def typed(self, fid: str, key: str) -> bool:
        """The cell holds a typed value, not a formula."""
        loc = self.data.cells.get((fid, key))
        return loc is not None and loc.formula is None and not is_blank(loc.raw)

    def value(self, fid: str, key: str) -> Any:
        """The usable value: parsed and valid, or recomputed for a computed field; else None."""
        if self.idx.field_of[fid].computed is not None:
            return self.computed.get((fid, key))
        if (fid, key) in self.bad:
            return None
        return self.data.values.get((fid, key))

    # -- periods and months ------------------------------------------------------
    def month_of(self, key: str) -> str | None:
        return self.data.month_of_key.get(key)

    def in_period(self, key: str) -> bool:
        month, end = self.month_of(key), self.data.period_end
        return month is not None and end is not None and month <= f"{end:%Y-%m}"

    def after_period(self, key: str) -> bool:
        month, end = self.month_of(key), self.data.period_end
        return month is not None and end is not None and month > f"{end:%Y-%m}"

    def month_label(self, key: str) -> str:
        month = self.month_of(key)
        return key if month is None else month_title(month)

    def place(self, sheet: str, key: str) -> str:
        """Where a key is, in words: "row 3" on a list, the month of a grid's month column, else its label."""
        if self.idx.sheet_of_name[sheet].kind == "list":
            return f"row {self.key_label(sheet, key)}"
        month = self.month_of(key)
        return month_title(month) if month is not None else self.key_label(sheet, key)

    def key_label(self, sheet: str, key: str) -> str:
        return self.idx.key_labels.get((sheet, key), key)

    # -- findings ----------------------------------------------------------------
    def add(self, code: str, fid: str, key: str, *, guidance: str, found: Any = None,
            expected: Any = None, invalid: bool = False, basis: Basis | None = _RULE, **extra: Any) -> Finding:
        """Add a finding at the cell of (fid, key); ``invalid`` also makes the cell unusable.

        An error code's severity comes from its ``basis`` (by default the running rule's), through the
        one decision, spec.findings.decide: with a basis it stays an error cited to it; without one it
        becomes its query twin, cited as a plausibility check, and the cell stays usable."""
        if basis is _RULE:
            basis = self.rule.basis if self.rule is not None else _RULE
        if basis is not _RULE:
            code, guidance = F.decide(code, basis, guidance)
            invalid = invalid and F.CATALOGUE[code][0] == "error"  # a query leaves the cell usable
            extra["basis"] = basis  # an error quoting the guidance says the sentence (findings.make)
        slot = self.idx.slots[(fid, key)]
        f = self.idx.field_of[fid]
        finding = F.make(code, guidance=self.spec.guidance_ref(guidance), sheet=slot.sheet, cell=slot.cell,
                         field=fid, field_label=f.label, found=found, expected=expected,
                         period=self.data.period or "", **extra)
        self.findings.append(finding)
        if invalid:
            self.bad.add((fid, key))
        return finding


def number_text(value: float) -> str:
    """A number as typed: 12, 2.675 (the shortest repr, never rounded); beyond 10^15, as Excel shows
    it (1e+308), never a run of hundreds of digits."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def date_text(value: dt.date) -> str:
    """GOV.UK style: 3 October 2026."""
    return f"{value.day} {value:%B %Y}"
