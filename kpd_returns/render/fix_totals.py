"""A copy of a return with every computed field's formula restored (`validate --fix-totals`).

A provider who types a number over a total (FTE total, total caseload, job
entries per front line FTE) breaks the template's formula. This writes a copy in
which every computed cell holds the template's formula again, built by the same
function the template writer uses (``spec.formulas.computed_formula``), so the two
cannot drift. Input cells are not touched. The copy asks the spreadsheet program
to recalculate on opening.

Only a recognised return whose layout is intact can be fixed: with rows or
columns moved, putting formulas "where the template has them" would overwrite
the provider's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..spec import layout
from ..spec.findings import STRUCTURE_CODES, _cell_order
from ..spec.formulas import computed_formula
from ..spec.model import FileReport
from ..spec.personal_data import mask_all
from ._zipmask import masked_copy
from ._xlsx import CopyError, check_target, load_full, mask_cells, original_times, save_deterministic
from ..spec.return_spec import get_spec

__all__ = ["CopyError", "FixResult", "fix_totals"]


@dataclass(frozen=True)
class FixResult:
    cells: tuple[str, ...]  # every computed cell written, as refs (Staffing!P5)
    changed: tuple[str, ...]  # those whose content was not already the formula
    # Text cells whose personal data the copy holds masked (every copy kpd-returns writes masks it), as refs:
    # the command says so, as the copy no longer holds what the provider typed there (issue 19 item 19).
    masked: tuple[str, ...] = ()


def _same_formula(value, formula: str) -> bool:
    return isinstance(value, str) and value.replace(" ", "").upper() == formula.replace(" ", "").upper()


def fix_totals(source: str | Path, report: FileReport, out: str | Path, spec=None) -> FixResult:
    """Write ``out``: ``source`` with its computed fields' formulas restored.

    Raises CopyError (one plain sentence) when the file cannot be fixed.
    """
    source, out = Path(source), Path(out)
    label = mask_all(report.name or source.name)
    if report.verdict == "unreadable":
        raise CopyError(f"Cannot fix the totals of {label}: the file could not be read.")
    if spec is None and report.return_id:
        spec = get_spec(report.return_id)
    if spec is None:
        raise CopyError(f"Cannot fix the totals of {label}: it is not a recognised return.")
    structural = [f for f in report.findings if f.code in STRUCTURE_CODES]
    if structural:
        raise CopyError(f"Cannot fix the totals of {label}: its layout differs from the template "
                        f"({structural[0].code}), so the formulas' cells are not known.")
    check_target(source, out, label)
    wb = load_full(source, label)
    created, modified = original_times(source, wb)
    index = layout.slot_index(spec)
    written: list[str] = []
    changed: list[str] = []
    for sheet in spec.sheets:
        if sheet.name not in wb.sheetnames:
            raise CopyError(f"Cannot fix the totals of {label}: the sheet '{sheet.name}' is missing.")
        ws = wb[sheet.name]
        for slot in layout.slots(spec, sheet):
            field = spec.field(slot.field)
            if not field.computed:
                continue
            formula = computed_formula(spec, field.id, slot.key, index)
            formula = formula if formula.startswith("=") else "=" + formula
            cell = ws[slot.cell]
            if not _same_formula(cell.value, formula):
                changed.append(slot.ref)
            cell.value = formula
            written.append(slot.ref)
    # like every copy kpd-returns writes: personal data masked, so it can travel by e-mail
    masked = sorted(mask_cells(wb), key=lambda sc: (sc[0], _cell_order(sc[1])))
    wb.calculation.fullCalcOnLoad = True  # cached results are gone: recalculate on opening
    try:
        save_deterministic(wb, out, created, modified, lambda data: masked_copy(data, label))
    except OSError as exc:
        raise CopyError(f"The fixed copy of {label} could not be written to {out} ({exc.strerror or exc}).") from None
    return FixResult(tuple(written), tuple(changed),
                     tuple((f"'{s}'" if " " in s else s) + f"!{c}" for s, c in masked))
