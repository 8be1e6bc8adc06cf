"""What an error rests on, and the one place where a check's severity is decided.

Every check that can refuse a return (a rule, and every limit of a field: required, bounds,
decimal places, length, list membership, pattern, a list's rows) declares its ``basis``:

* ``quote``: a sentence of the guidance, verbatim, with its ``paragraph`` ("AtW 7.25");
  tests/test_basis.py finds each quote in that paragraph of docs/guidance/;
* ``arithmetic``: a count cannot be negative or fractional, a total is the sum of its parts,
  within a clock cannot exceed due (the words say which);
* ``template``: the cell cannot be read (a word in a number cell, a renamed sheet, a moved label);
* ``protection``: a protection of kpd-returns' own (personal data, a length cap that keeps a
  workbook readable), with its reason.

A check with none of these is a query (``none = "why"`` says so on purpose): ``is_error`` below
is the only test of severity, and ``query_code`` turns an error's code into its query twin.
Field limits that the type implies (a count is whole and not negative, a percentage lies between
0 and 100, a cell reads from its list) have their basis here, so a spec states only the others.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from .constants import years_text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)  # unknown keys refused, as every spec table

BasisKind = Literal["quote", "arithmetic", "template", "protection", "none"]
_KINDS: tuple[BasisKind, ...] = ("quote", "arithmetic", "template", "protection", "none")
Limit = Literal["required", "min", "max", "decimals", "max_length", "choices", "pattern", "rows"]


class Basis(_Model):
    """Exactly one of ``quote`` (with ``paragraph``), ``arithmetic``, ``template``, ``protection``
    or ``none`` (a query on purpose, with the reason the guidance does not support an error)."""

    quote: str | None = None
    paragraph: str | None = None
    arithmetic: str | None = None
    template: str | None = None
    protection: str | None = None
    none: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Basis":
        given = [k for k in _KINDS if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a basis needs exactly one of quote, arithmetic, template, protection or none")
        if (self.quote is None) != (self.paragraph is None):
            raise ValueError("a quote needs its paragraph (\"AtW 7.25\"), and a paragraph goes with a quote")
        return self

    @property
    def kind(self) -> BasisKind:
        return next(k for k in _KINDS if getattr(self, k))

    @property
    def words(self) -> str:
        """The quote or the reason."""
        return getattr(self, self.kind)

    def label(self) -> str:
        """The basis in a few words: the paragraph of a quote, else its kind."""
        if self.kind == "quote":
            return str(self.paragraph)
        return _LABELS[self.kind]

    def cite(self) -> str:
        """The basis as a report shows it beside a finding: the paragraph of a quote, else the kind and why."""
        if self.kind == "quote":
            return str(self.paragraph)
        return f"{_LABELS[self.kind]}: {self.words}"

    def said(self) -> str:
        """The basis as the end of a sentence of the Checks sheet: the quote in quotation marks, else why."""
        return f'"{self.quote}"' if self.kind == "quote" else self.words.rstrip(".") + "."

    def describe(self) -> str:
        """The basis in full, for the rule catalogue and the Checks sheet."""
        if self.kind == "quote":
            return f'{self.paragraph}: "{self.quote}"'
        if self.kind == "none":
            return f"none: a query, {self.words}"
        return self.cite()


_LABELS = {"arithmetic": "arithmetic", "template": "the template", "protection": "kpd-returns' own protection",
           "none": "plausibility check"}


class LimitBases(_Model):
    """A field's (or, for ``required``, a sheet's) basis for each of its limits; a limit not named
    here takes the default its type implies (``default_basis``), or none: a query."""

    required: Basis | None = None
    min: Basis | None = None
    max: Basis | None = None
    decimals: Basis | None = None
    max_length: Basis | None = None
    choices: Basis | None = None
    pattern: Basis | None = None
    rows: Basis | None = None

    @model_validator(mode="after")
    def _readable(self) -> "LimitBases":
        # A list's entries, a coded form and a list's rows are how the template is read: never a query.
        for limit in ("choices", "pattern", "rows"):
            given = getattr(self, limit)
            if given is not None and given.kind == "none":
                raise ValueError(f"'{limit}' is how the template is read, so it cannot be a query: give its basis")
        return self


def is_error(basis: Basis | None) -> bool:
    """The one rule of severity: a check is an error only when it has a basis."""
    return basis is not None and basis.kind != "none"


COUNT_SIGN = Basis(arithmetic="a count, a time or a share of people cannot be negative")
COUNT_WHOLE = Basis(arithmetic="a count cannot be fractional")
PERCENT_RANGE = Basis(arithmetic="a percentage lies between 0 and 100")
LIST_CHOICE = Basis(template="the cell reads only the entries of its list: any other text cannot be counted")
PATTERN = Basis(template="the cell can be read only in the form its definition gives")
LENGTH = Basis(protection="a length cap keeps the consolidated workbook and the packs readable")
HEADER = Basis(template="the return cannot be filed without it: it says whose return it is and for which period")
UNREADABLE = Basis(template="the cell cannot be read: a word in a number or date cell, or a changed layout")
# Limits every return has, whatever its spec says (spec.constants FIGURE_CEILING and PLAUSIBLE_YEARS;
# issue 19 items 4 and 5): kpd-returns' own protections, so one cell cannot break every later run.
CEILING = Basis(protection="no figure in a return reaches 1,000,000,000 in size: a larger one would overflow "
                           "the totals and the ledger")
PLAUSIBLE_DATE = Basis(protection=f"a date outside the years {years_text()} cannot belong to a return, and "
                                  "would break the working-day counts")


def default_basis(field_type: str, limit: Limit, *, explicit: bool) -> Basis | None:
    """The basis a field's type gives a limit the spec did not explain. ``explicit``: the spec set
    the limit itself (``min``, ``max``, ``decimals``), so the type's default does not apply."""
    numeric = field_type in ("count", "fte", "days", "decimal", "percent")
    if limit == "min" and numeric and not explicit:
        return PERCENT_RANGE if field_type == "percent" else COUNT_SIGN
    if limit == "max" and field_type == "percent" and not explicit:
        return PERCENT_RANGE
    if limit == "decimals" and field_type == "count" and not explicit:
        return COUNT_WHOLE
    return {"max_length": LENGTH, "choices": LIST_CHOICE, "pattern": PATTERN}.get(limit)
