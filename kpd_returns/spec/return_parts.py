"""Two tables of a return spec beside its sheets: ``[[key_measures]]`` (the consolidated workbook's
providers x months sheets) and ``[[compare_months]]`` (a query across return types)."""

from __future__ import annotations

from pydantic import ConfigDict, Field as PydField, model_validator

from .sheet_model import _ID, _Model


class KeyMeasure(_Model):
    """A measure the consolidated workbook lays out providers x months: the sum of ``parts``.

    Each part is [field id, key]; an empty key means every month column (a KPD grid)."""

    slug: str = PydField(pattern=_ID)
    sheet: str = PydField(min_length=1, max_length=31)
    title: str
    parts: list[tuple[str, str]] = PydField(min_length=1)
    flow: bool = True  # a flow adds up across months (a Total column); a stock does not
    # An average the return states (JOBS II 6.17's working days): one part, and neither providers nor
    # months are added up (no totals row, no Total column).
    average: bool = False
    number_format: str = "#,##0"
    note: str = ""

    @model_validator(mode="after")
    def _one_average(self) -> "KeyMeasure":
        if self.average and len(self.parts) != 1:
            raise ValueError(f"key measure '{self.slug}': an average is one part, never a sum of parts")
        return self


class CompareMonths(_Model):
    """A query across return types (docs/spec-format.md, "Checks across returns"): this return's figure
    ``field`` at ``key`` against the same contract's returns of type ``return`` for the months this
    return's period covers, their ``sum`` ([field, key]) added up; compared once every month has one."""

    model_config = ConfigDict(populate_by_name=True)

    field: str
    key: str = ""
    return_id: str = PydField(alias="return", pattern=_ID)
    sum: tuple[str, str]
    guidance: str
    description: str
