"""Fill a template by defined name and save it reproducibly: how every sample workbook is made.

A sample starts as the real template (``write_template``) and is filled the way a provider's
figures land in it: by defined name into the input cells, formulas left alone, saved with fixed
timestamps so the same values give byte-identical files."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.writer.excel import ExcelWriter

from ..spec import layout
from ..spec.constants import FIXED_TIME, ZIP_TIME
from ..spec.return_spec import ReturnSpec
from .template import header_prefill, write_template

Values = dict[str, dict[str, Any]]  # field id -> {key: value}; key "" for a form field


def _range_keys(spec: ReturnSpec, field_id: str) -> list[str]:
    """The keys of a field's cells, in the order of its defined name's range."""
    sheet, _field = spec.fields_by_id[field_id]
    if sheet.kind == "form":
        return [""]
    if sheet.kind == "grid":
        return layout.column_keys(spec, sheet)
    return [r.key for r in sheet.row_keys]


def named_cells(wb: openpyxl.Workbook, spec: ReturnSpec, field_id: str) -> dict[str, Any]:
    """key -> openpyxl cell of a field, found through the workbook's defined name."""
    dn = wb.defined_names[spec.defined_name(field_id)]
    ((sheet_name, coord),) = list(dn.destinations)
    found = wb[sheet_name][coord]
    cells = [c for row in found for c in row] if isinstance(found, tuple) else [found]
    keys = _range_keys(spec, field_id)
    if len(cells) != len(keys):
        raise ValueError(f"The defined name for '{field_id}' covers {len(cells)} cells, not {len(keys)}.")
    return dict(zip(keys, cells))


def fill_workbook(wb: openpyxl.Workbook, spec: ReturnSpec, values: Values) -> None:
    """Put values into input cells by defined name; computed cells keep their formulas."""
    for field_id, by_key in values.items():
        if spec.field(field_id).computed:
            raise ValueError(f"'{field_id}' is calculated by the template: leave its formula alone.")
        cells = named_cells(wb, spec, field_id)
        for key, value in by_key.items():
            cells[key].value = value


class _FixedTimeZip(zipfile.ZipFile):
    """openpyxl stamps each zip member with the current time or a temp file's mtime: use a fixed one."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, ZIP_TIME)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # Worksheets are written to temporary files first; their mtime must not leak in.
        self.writestr(arcname or str(filename), Path(filename).read_bytes())


def save_reproducibly(wb: openpyxl.Workbook) -> bytes:
    """Save with fixed document and zip timestamps (openpyxl's save() stamps 'now')."""
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    return buf.getvalue()


_BLANK: dict[tuple[str, str], bytes] = {}


def completed_workbook(spec: ReturnSpec, values: Values, **prefill: str | None) -> openpyxl.Workbook:
    """A template with ``values`` typed in; ``prefill`` (provider, contract, period) lands in the
    header cells exactly as `kpd-returns template --provider ... --period ...` would put it."""
    key = (spec.id, spec.spec_hash)
    if key not in _BLANK:  # writing the template is a third of the time: do it once per spec
        buf = io.BytesIO()
        write_template(spec, buf)
        _BLANK[key] = buf.getvalue()
    wb = openpyxl.load_workbook(io.BytesIO(_BLANK[key]))
    header = {fid: {"": v} for fid, v in header_prefill(spec, **prefill).items()}
    fill_workbook(wb, spec, header | values)
    return wb


