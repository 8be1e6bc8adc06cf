"""Findings are data: one small record per problem, and one catalogue of messages.

Every finding has a stable ``code`` from ``CATALOGUE``, a severity, where it is
(sheet and cell, e.g. ``Staffing!D12``), which field, a message in GOV.UK style
(what is wrong, then how to fix it) and the guidance paragraph behind the rule.
Messages are formatted from the catalogue only, so wording stays in one place.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, replace
from pathlib import PurePath
from typing import Any, Literal

from .basis import Basis, is_error
from .personal_data import mask_all
from .return_spec import load_all

Severity = Literal["error", "warning"]

# Two kinds of finding. An error breaks a rule of the guidance and must be corrected. A query
# is the project's own plausibility check: unusual but may be right, so a warning the provider
# may explain; each query's message says so, and the README's "Decisions where the guidance is
# silent" gives its tolerance. Other warnings (a typed-over total that is right, a late
# submission, a check that could not run) come from the guidance or the template and are not queries.
QUERY_CODES = frozenset({"segments-not-reconciled", "many-decimals", "implausible-value", "keyed-row-unused",
                         "ytd-discontinuity", "kpd-restatement", "sum-above-limit-query",
                         "date-outside-period", "explanation-unmatched", "ytd-list-mismatch",
                         "months-sum-mismatch"})
# In counts of findings by code (ledger.finding_counts, the packs' attention list), a query the
# provider explained is counted under this prefix and its code, apart from the open ones.
EXPLAINED_PREFIX = "explained:"
QUERY_PREFIX = "Query (a plausibility check by kpd-returns, not a rule of the guidance): "

# code -> (severity, level, message template). ``level`` orders the report:
# file problems first, then structure, then cell-level findings (as GOV.UK Notify
# shows upload problems). Templates take named placeholders filled by the check.
CATALOGUE: dict[str, tuple[Severity, str, str]] = {
    # -- the file cannot be read or used (exit code 2) -------------------------
    "file-not-found": ("error", "file", "The file {file} does not exist. Check the path and try again."),
    "file-empty": ("error", "file", "The file {file} is empty. Save the return again from Excel and resend it."),
    "file-not-workbook": ("error", "file", "The file {file} is not an Excel workbook ({detail}). Write a new template with {new_template} and copy your figures into it."),
    "file-csv": ("error", "file", "The file {file} is a CSV text file renamed as a workbook. Write a new template with {new_template} and copy your figures into it."),
    "file-corrupt": ("error", "file", "The file {file} is damaged and cannot be opened ({detail}). Save the file again and resend it."),
    "file-encrypted": ("error", "file", "The file {file} is protected with a password, so it cannot be read. Remove the password (File > Info > Protect Workbook) and resend it."),
    "file-legacy-xls": ("error", "file", "The file {file} is an old Excel 97-2003 (.xls) workbook. Write a new template with {new_template} and copy your figures into it."),
    "file-macros": ("error", "file", "The file {file} contains macros, which are not accepted. Save the return as an Excel Workbook (.xlsx) without macros."),
    "file-too-large": ("error", "file", "The file {file} is too large to be a return ({detail}). Remove anything added beyond the template and resend it."),
    "file-hostile-xml": ("error", "file", "The file {file} contains XML that is not allowed in a return ({detail}). Save the return again from Excel and resend it."),
    # A file kpd-returns itself could not read (no permission, a link that loops or leads nowhere, a folder
    # it may not open): not the provider's fault, so no "resend it".
    "file-unreadable": ("error", "file", "The file {file} could not be read: {detail}. It was not checked; make it readable (or put the file itself in place of the link) and run again."),
    "file-check-failed": ("error", "file", "The file {file} could not be checked because of an unexpected problem ({detail}). Save the return again from Excel and resend it; if this happens again, send the file to the team that runs kpd-returns."),
    # -- the workbook is not our return, or its layout was changed --------------
    "not-a-return": ("error", "structure", "The file {file} is not a kpd-returns template: {detail}. Write a new template with {new_template} and copy your figures into it."),
    "template-superseded": ("error", "structure", "This return uses template version {found}, which has been replaced by version {expected}. Write a new template with {new_template} and copy your figures into it."),
    "template-unknown-version": ("error", "structure", "This return says it is template version {found}, which kpd-returns does not know (current version {expected}). Write a new template with {new_template} and copy your figures into it."),
    "sheet-duplicate": ("error", "structure", "The workbook has {detail}: Excel does not allow two sheets with the same name, whatever their case, and kpd-returns cannot tell which holds your figures. Write a new template with {new_template} and copy your figures into it."),
    "sheet-missing": ("error", "structure", "The sheet '{sheet}' is missing or has been renamed. Do not rename or delete sheets: write a new template with {new_template} and copy your figures into it."),
    "defined-name-missing": ("error", "structure", "The defined name {detail} for '{field}' is missing. Do not delete named ranges: write a new template with {new_template} and copy your figures into it."),
    "defined-name-moved": ("error", "structure", "The named range for '{field}' points to {found}, not {expected}: rows or columns have been moved, added or deleted. Type into the input cells only: write a new template with {new_template} and copy your figures into it."),
    "label-changed": ("error", "structure", "The label in {sheet}!{cell} says '{found}' but should say '{expected}': the layout has been changed. Type into the input cells only: write a new template with {new_template} and copy your figures into it."),
    # -- cell values -------------------------------------------------------------
    "required-missing": ("error", "cell", "Enter {field} in {ref}: it is required."),
    "not-a-number": ("error", "cell", "Enter a number in {ref} ({field}): it contains '{found}'. Type digits only, with a full stop for decimals and no units."),
    "not-whole-number": ("error", "cell", "Enter a whole number in {ref} ({field}): it contains {found}."),
    "too-many-decimals": ("error", "cell", "Round {ref} ({field}) to {expected} decimal places: it contains {found}."),
    "many-decimals": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}) has more than {expected} decimal places: it contains {found}. The guidance sets no precision, so check the figure is what you meant and round it to {expected} places."),
    "caseload-management-missing": ("error", "cell", "Complete the caseload management part of the return: neither {detail} has any figures. Complete the segmentation or the RAG rating tables, or both if you use both."),
    "cohort-before-start": ("error", "cell", "{ref} ({field}, {detail}) is {found}, but this return is for {on}, before that cohort's first referrals in {expected}: none of its cases can be due yet. Enter these cases under the cohort they were referred in."),
    "listed-late-on-time": ("error", "cell", "{ref} ({field}) is {found}, within {expected} of {detail}, so this case was on time, but it is listed as returned late. Correct the dates, or take the case off the list and out of the late count."),
    # -- the Explanations sheet (kpd_returns.checks.explanations) ----------------------
    "explanation-unmatched": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): the explanation in {ref}: {detail}. Check the query code and cell against this report, or delete the row."),
    "explanation-of-error": ("warning", "cell", "The explanation in {ref} names {found} at {expected}, which is an error: an error must be corrected, it cannot be explained. Correct the figure and delete the row."),
    "sheet-not-checked": ("warning", "cell", "Could not check the cells of the {sheet} sheet{detail}: its layout has been changed (see the layout problems above). Once the layout is restored, these checks run."),
    "check-not-run": ("warning", "cell", "Could not check {detail}: {field} in {ref} is missing or not valid. Once it is right, these checks run."),
    "below-minimum": ("error", "cell", "{ref} ({field}) must be {expected} or more: it contains {found}."),
    "above-maximum": ("error", "cell", "{ref} ({field}) must be {expected} or less: it contains {found}."),
    "not-a-date": ("error", "cell", "Enter a date in {ref} ({field}), for example 31/10/2026: it contains '{found}'."),
    "date-out-of-range": ("error", "cell", "Enter a date from the years {expected} in {ref} ({field}): it contains {found}, which no return can mean. Check the year."),
    "not-in-list": ("error", "cell", "Choose {field} in {ref} from the list ({expected}): it contains '{found}'."),
    "pattern-mismatch": ("error", "cell", "Enter {field} in {ref} in the form {expected}: it contains '{found}'."),
    "text-too-long": ("error", "cell", "Shorten {ref} ({field}) to {expected} characters or fewer: it has {found}."),
    "month-after-period": ("error", "cell", "Leave {ref} ({field}, {detail}) empty: that month is after the period this return covers ({period})."),
    "period-invalid": ("error", "cell", "Enter {field} in {ref} as two consecutive years, for example {expected}: it contains '{found}'."),
    "month-missing": ("error", "cell", "Enter {field} for {detail} in {ref}: the month is within the period this return covers ({period})."),
    # -- totals ----------------------------------------------------------------
    "total-mismatch": ("error", "cell", "{ref} ({field}) holds the typed number {found}, but its inputs add up to {expected}. Delete the number so the formula fills it in, or run {fix_totals} to write a copy with every formula restored."),
    "total-typed-over": ("warning", "cell", "{ref} ({field}) holds a typed number instead of its formula. The number is right, but restore the formula so it stays right, or run {fix_totals} to write a copy with every formula restored."),
    "total-divide-by-zero": ("error", "cell", "{ref} ({field}) cannot be worked out for {detail}: the figure it is divided by is 0 while the figure divided is {found}. Check the figures {field} is worked out from there."),
    "total-out-of-range": ("error", "cell", "{ref} ({field}) cannot be worked out for {detail}: the figures it is worked out from give {found}, beyond {expected}, which no figure in a return can reach. Check those figures."),
    # -- consistency rules ------------------------------------------------------
    "ytd-below-in-month": ("error", "cell", "{ref} ({field}, {detail}) is {found}, less than the in-month figure {expected}. A to-date figure includes the month, so it cannot be smaller."),
    "parts-not-equal-total": ("error", "cell", "{ref} ({field}): cases within plus outside target come to {found}, but cases due are {expected}. Correct the figures so they add up."),
    "reasons-missing": ("error", "cell", "Give the reasons in {ref} for the {found} cases outside target ({detail})."),
    "detail-rows-mismatch": ("error", "cell", "{ref} ({field}) says {expected} but the {detail} sheet lists {found}. Make them agree: list one row for each one counted, or correct the number."),
    "breakdown-mismatch": ("error", "cell", "{detail} add up to {found}, but {field} in {ref} is {expected}. Correct the breakdown so it adds up."),
    "segments-not-reconciled": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): out-of-work segment participants for {detail} add up to {found}, but the out-of-work caseload (actively engaged plus not currently engaged) is {expected}, outside the {tolerance} tolerance. The guidance lets you segment your caseload your own way (KPD 17-21): if the figures are right, explain it on the Explanations sheet (the query code, its cell and a sentence); if not, correct them."),
    "job-entries-above-participants": ("error", "cell", "{ref} ({field}) is {found}, more than the {expected} participants in that row. Job entries cannot exceed participants."),
    "in-work-job-entries": ("error", "cell", "Leave {ref} ({field}) empty: segment {detail} is an in-work segment, which records participants only."),
    "keyed-row-incomplete": ("error", "cell", "{detail}. Complete {ref} ({field})."),
    "keyed-row-unused": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {detail} has a title in {ref} but no figures. Enter its figures or clear the title."),
    "rows-below-list": ("error", "cell", "{ref} is below the {expected} rows of the {sheet} list, so what is typed there is not read. Add rows with a new template: write one with {new_template}, copy every row into its list, and tell DWP if a month has more rows than the list holds."),
    "list-row-incomplete": ("error", "cell", "Complete {ref} ({field}): the rest of row {detail} is filled in."),
    # A spec's own condition on one row (checks/rules/row_condition): the spec's sentence says what to do.
    "row-condition": ("error", "cell", "{ref} ({field}{detail}): {rule_message}"),
    "dates-out-of-order": ("error", "cell", "{ref} ({field}) is {on}, before {detail} ({before}). Check the dates."),
    "social-value-missing": ("error", "cell", "Enter {field} in {ref}: the Social Value measures are due in the last month of each quarter ({detail})."),
    "implausible-value": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}) is {found}, above the plausible maximum of {expected}. Check the figure is right; if it is, explain it on the Explanations sheet (the query code, its cell and a sentence)."),
    # Generic comparisons (checks/rules/sum_not_above, dates_in_period): an error where the guidance says it, a query otherwise.
    "sum-above-limit": ("error", "cell", "{detail} come to {found} in {ref}, more than the {limit} ({expected}). They cannot be more: correct the figures."),
    "sum-above-limit-query": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {detail} come to {found} in {ref}, more than the {limit} ({expected}). Check the figures; if they are right, explain it on the Explanations sheet (the query code, its cell and a sentence)."),
    "date-outside-period": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}) is {on}, outside the period this return covers ({detail}). Check the date; if it is right, explain it on the Explanations sheet (the query code, its cell and a sentence)."),
    # -- extracts: one table, a row per case (spec/extract_spec.py, checks/extract_checks.py) --------
    "extract-unknown": ("error", "file", "The file {file} is not an extract kpd-returns knows: its header line names none of {expected}. Send the extract with its header line as DWP writes it."),
    "extract-month-unknown": ("error", "structure", "The name of the file {file} does not say which month the extract covers ({detail}). Name it with the month as YYYY-MM, for example {expected}, and send it again."),
    "extract-column-missing": ("error", "structure", "The file {file} has no column {field} ({detail}), which the {extract} extract needs. Add the column, named in the header line, and send the file again."),
    "extract-column-twice": ("error", "structure", "The file {file} has the column {field} twice ({found}): kpd-returns cannot tell which to use. Remove one of them and send the file again."),
    "extract-column-unknown": ("error", "structure", "The file {file} has a column '{found}' that the {extract} extract does not have, so kpd-returns cannot tell what it holds. Remove the column, or add it to the extract's spec if DWP's layout has changed."),
    "extract-contract-mixed": ("error", "structure", "The file {file} names {found} in its column {field}: an extract is for one contract. Split it into one file per contract and send them again."),
    "extract-personal-data": ("error", "cell", "Row {row} of {file}, column {field}, looks like it contains {detail} ({found}). An extract holds pseudonymous ids only, so the whole file is rejected: remove the personal data and send it again."),
    "extract-not-a-date": ("error", "cell", "Row {row} of {file}, column {field}: '{found}' is not a date from the years 2000 to 2100. Write dates as {expected} (or DD/MM/YYYY)."),
    "extract-required": ("error", "cell", "Row {row} of {file}, column {field}, is empty: every row needs it."),
    "extract-not-in-list": ("error", "cell", "Row {row} of {file}, column {field}: '{found}' is not one of {expected}."),
    "extract-pattern": ("error", "cell", "Row {row} of {file}, column {field}: '{found}' is not in the form of a pseudonymous id ({expected})."),
    "extract-too-long": ("error", "cell", "Row {row} of {file}, column {field}: it has {found} characters, more than the {expected} the column allows."),
    "extract-duplicate-id": ("error", "cell", "Row {row} of {file}, column {field}: the id {found} is on an earlier row too. List each id once."),
    "extract-dates-out-of-order": ("error", "cell", "Row {row} of {file}: {field} ({found}) is before {detail} ({expected}). Check the dates."),
    "extract-filled-together": ("error", "cell", "Row {row} of {file}: {detail} are given together or not at all; {field} is empty."),
    "extract-more-rows": ("error", "cell", "{found} more rows of {file} have the same problem in column {field} ({detail}); the first are listed above."),
    # -- personal data ----------------------------------------------------------
    "personal-data": ("error", "cell", "{ref} ({field}) looks like it contains {detail} ({found}). MI must be anonymised: remove personal data and use your own anonymised references."),
    # -- lateness ---------------------------------------------------------------
    "submitted-late": ("warning", "file", "This return was submitted {detail}, after its deadline of {deadline}."),
    # -- batch intake (kpd_returns.intake.inbox) ----------------------------------------
    "no-workbook-attached": ("error", "file", "The e-mail {file} has no workbook attached{detail}. Attach the completed return as an Excel Workbook (.xlsx) and send it again."),
    "email-too-large": ("error", "file", "The e-mail {file} is too large to read ({detail}). Send the return as an Excel Workbook (.xlsx) attached to an e-mail of its own."),
    "email-unreadable": ("error", "file", "The e-mail {file} cannot be read ({detail}). Forward the return again as an attachment to a new e-mail."),
    # -- cross-return checks (kpd_returns.checks.cross_checks): warnings, because the
    #    mistake may be in the earlier return rather than this one -------------------
    "ytd-discontinuity": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}, year to date) is {found}, but {detail} makes {expected}. Check this return and the earlier one, and resubmit whichever is wrong."),
    "months-sum-mismatch": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}) is {found}, but {detail} add up to {expected}. Check this return and those returns, and resubmit whichever is wrong."),
    "ytd-list-mismatch": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}, year to date) is {found}, but the {detail} sheets of this contract year's {months} of returns list {expected} cases. Check the total and each month's list, and resubmit whichever return is wrong."),
    "kpd-restatement": ("warning", "cell", "Query (a plausibility check by kpd-returns, not a rule of the guidance): {ref} ({field}, {detail}) is {found}, but the {previous} return reported {expected} for that month{others}. If you have corrected the figure, explain it on the Explanations sheet (the query code, its cell and a sentence); if not, correct it."),
}

# A check without a basis (spec/basis.py) gives the query twin of its error code: the same problem,
# worded as a question the provider may answer on the Explanations sheet. An error without a twin
# here cannot be a query: a spec that leaves such a check without a basis is refused when it is loaded
# (spec.basis for field limits, checks.registry for rules).
_EXPLAIN = "if it is right, explain it on the Explanations sheet (the query code, its cell and a sentence)."
QUERY_TWINS: dict[str, tuple[str, str]] = {
    "too-many-decimals": ("many-decimals", ""),  # written out above
    "required-missing": ("required-missing-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is empty. Enter it if you can; if it is empty on purpose, explain it on the Explanations sheet (the query code, its cell and a sentence)."),
    "below-minimum": ("below-minimum-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is {{found}}, less than {{expected}}. Check the figure; {_EXPLAIN}"),
    "above-maximum": ("above-maximum-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is {{found}}, more than {{expected}}. Check the figure; {_EXPLAIN}"),
    "text-too-long": ("text-too-long-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) has {{found}} characters, more than {{expected}}. Check nothing was pasted in by mistake; {_EXPLAIN}"),
    "list-row-incomplete": ("list-row-incomplete-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is empty, but the rest of row {{detail}} is filled in. Complete it if you can; {_EXPLAIN}"),
    "detail-rows-mismatch": ("detail-rows-mismatch-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) says {{expected}} but the {{detail}} sheet lists {{found}}. Check the number and the list; {_EXPLAIN}"),
    "social-value-missing": ("social-value-missing-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is empty in the last month of a quarter ({{detail}}). DWP reports Social Value quarterly (AtW 7.17-7.18): enter it here if you report it on this return; {_EXPLAIN}"),
    "listed-late-on-time": ("listed-late-on-time-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is {{found}}, within {{expected}} of {{detail}}, yet the case is listed as returned late. Check the dates and the list; {_EXPLAIN}"),
    "job-entries-above-participants": ("job-entries-above-participants-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is {{found}}, more than the {{expected}} participants in that row at the month end. Job entries may include people who have since left the group: check the figures; {_EXPLAIN}"),
    "sum-above-limit": ("sum-above-limit-query", ""),  # written out above
    # Any rule may be a query (``query = true``, or no basis): each rule kind's error has its query form,
    # except a computed total's (the template's own arithmetic: computed_totals always needs its basis).
    "month-after-period": ("month-after-period-query", f"{QUERY_PREFIX}{{ref}} ({{field}}, {{detail}}) has a figure, but that month is after the period this return covers ({{period}}). Check it belongs to this return; {_EXPLAIN}"),
    "month-missing": ("month-missing-query", f"{QUERY_PREFIX}{{ref}} ({{field}}, {{detail}}) is empty, but the month is within the period this return covers ({{period}}). Enter it if you can; {_EXPLAIN}"),
    "keyed-row-incomplete": ("keyed-row-incomplete-query", f"{QUERY_PREFIX}{{detail}}, but {{ref}} ({{field}}) is empty. Complete it if you can; {_EXPLAIN}"),
    "caseload-management-missing": ("caseload-management-missing-query", f"{QUERY_PREFIX}neither {{detail}} has any figures. Complete one of them if you can; {_EXPLAIN}"),
    "in-work-job-entries": ("in-work-job-entries-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) has a figure, but segment {{detail}} is an in-work segment, which usually records participants only. Check the figure; {_EXPLAIN}"),
    "ytd-below-in-month": ("ytd-below-in-month-query", f"{QUERY_PREFIX}{{ref}} ({{field}}, {{detail}}) is {{found}}, less than the in-month figure {{expected}}. Check both figures; {_EXPLAIN}"),
    "parts-not-equal-total": ("parts-not-equal-total-query", f"{QUERY_PREFIX}{{ref}} ({{field}}): its parts come to {{found}}, but the total is {{expected}}. Check the figures; {_EXPLAIN}"),
    "cohort-before-start": ("cohort-before-start-query", f"{QUERY_PREFIX}{{ref}} ({{field}}, {{detail}}) is {{found}}, but this return is for {{on}}, before that cohort's first referrals in {{expected}}. Check the cohort of these cases; {_EXPLAIN}"),
    "reasons-missing": ("reasons-missing-query", f"{QUERY_PREFIX}{{ref}} is empty, but {{detail}} has {{found}} outside target. Give the reasons if you can; {_EXPLAIN}"),
    "breakdown-mismatch": ("breakdown-mismatch-query", f"{QUERY_PREFIX}{{detail}} add up to {{found}}, but {{field}} in {{ref}} is {{expected}}. Check the breakdown; {_EXPLAIN}"),
    "dates-out-of-order": ("dates-out-of-order-query", f"{QUERY_PREFIX}{{ref}} ({{field}}) is {{on}}, before {{detail}} ({{before}}). Check the dates; {_EXPLAIN}"),
    "row-condition": ("row-condition-query", f"{QUERY_PREFIX}{{ref}} ({{field}}{{detail}}): {{rule_message}} {_EXPLAIN[:1].upper()}{_EXPLAIN[1:]}"),
}
for _code, (_twin, _text) in QUERY_TWINS.items():
    if _twin not in CATALOGUE:
        CATALOGUE[_twin] = ("warning", "cell", _text)
QUERY_CODES = QUERY_CODES | {twin for twin, _ in QUERY_TWINS.values()}


def decide(code: str, basis: "Basis | None", guidance: str) -> tuple[str, str]:
    """The one place severity is decided: an error code with a basis stays an error, cited to its basis;
    without one it is its query twin, cited as a plausibility check. Other codes are left as they are."""
    if CATALOGUE[code][0] != "error":
        return code, guidance
    if is_error(basis):
        return code, basis.cite()
    return query_code(code), "plausibility check"


def query_code(code: str) -> str:
    """The code a check without a basis gives in place of ``code`` (itself when it is no error)."""
    twin = QUERY_TWINS.get(code)
    return twin[0] if twin else code


LEVEL_ORDER = {"file": 0, "structure": 1, "cell": 2}
# A file that cannot be read, or holds no return at all, "could not be used" (exit code 2).
UNREADABLE_CODES = frozenset(
    {c for c, (_, lvl, _) in CATALOGUE.items() if lvl == "file" and c != "submitted-late"} | {"not-a-return"})
STRUCTURE_CODES = frozenset(c for c, (_, lvl, _) in CATALOGUE.items() if lvl == "structure")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    guidance: str = ""
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None  # field id
    field_label: str | None = None
    found: str | None = None  # personal data in it masked (findings.make masks every quoted value)
    expected: str | None = None
    explanation: str | None = None  # a query the provider explained on the Explanations sheet

    @property
    def status(self) -> str | None:
        """'explained' or 'open' for a query; None for any other finding."""
        if self.code not in QUERY_CODES:
            return None
        return "explained" if self.explanation else "open"

    @property
    def level(self) -> str:
        return CATALOGUE[self.code][1]

    @property
    def ref(self) -> str:
        if not self.sheet:
            return ""
        name = f"'{self.sheet}'" if " " in self.sheet else self.sheet
        return f"{name}!{self.cell}" if self.cell else name

    def sort_key(self) -> tuple:
        return (
            0 if self.severity == "error" else 1,
            LEVEL_ORDER[self.level],
            self.sheet or "",
            _cell_order(self.cell),
            self.code,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ref"] = self.ref
        d["status"] = self.status
        return d


def _cell_order(cell: str | None) -> tuple[int, int]:
    if not cell:
        return (0, 0)
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return (int(digits or 0), col)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def make(code: str, *, guidance: str = "", sheet: str | None = None, cell: str | None = None,
         field: str | None = None, field_label: str | None = None, found: Any = None,
         expected: Any = None, **extra: Any) -> Finding:
    """Build a finding from the catalogue. Unknown codes are a programming error."""
    severity, _level, template = CATALOGUE[code]
    ref = ""
    if sheet:
        ref = (f"'{sheet}'" if " " in sheet else sheet) + (f"!{cell}" if cell else "")
    hint_file, return_type = extra.pop("hint_file", None), extra.pop("return_type", None)
    basis = extra.pop("basis", None)
    values = _Blank(ref=ref, sheet=sheet or "", cell=cell or "", field=field_label or field or "",
                    found=_fmt(found), expected=_fmt(expected), **{k: _fmt(v) for k, v in extra.items()},
                    fix_totals=fix_totals_command(hint_file), new_template=new_template_command(return_type, hint_file))
    # The message is masked as a whole too: a value reaching it by another route (a file name in
    # {file}, a sender in {detail}) is caught here, so no check can forget to mask what it quotes.
    message = _masked(template.format_map(values) + _saying(severity, basis))
    return Finding(
        code=code, severity=severity, message=message, guidance=guidance, sheet=sheet, cell=cell,
        field=field, field_label=field_label,
        found=None if found is None else _fmt(found),
        expected=None if expected is None else _fmt(expected),
    )


def _saying(severity: str, basis: "Basis | None") -> str:
    """An error that rests on a sentence of the guidance quotes it, so the provider can read what it rests on."""
    if severity != "error" or basis is None or basis.kind != "quote":
        return ""
    return f' The guidance says: "{basis.quote}" ({basis.paragraph}).'


def _masked(text: str) -> str:
    return mask_all(text)


# -- hints that are commands ---------------------------------------------------------------
# A hint that tells the user to run kpd-returns is a whole command they can paste, followed
# by a space and a word (never by a full stop or comma that would be pasted with it). The check that finds the problem does not know the
# file's path, so the command names RETURN.xlsx; with_file() puts the path as given on the
# command line (or found in the inbox) in its place once the report knows it.
PLACEHOLDER_FILE = "RETURN.xlsx"


def _sibling(path: str, suffix: str) -> str:
    p = PurePath(path)
    return str(p.with_name(f"{p.stem}{suffix}.xlsx"))


def fix_totals_command(path: str | None = None) -> str:
    path = path or PLACEHOLDER_FILE
    return f"kpd-returns validate {shlex.quote(path)} --fix-totals {shlex.quote(_sibling(path, '-fixed'))}"


def new_template_command(return_type: str | None, path: str | None = None) -> str:
    """Writes a blank template of the return's type beside the file. With the type unknown, both commands."""
    target = shlex.quote(_sibling(path or PLACEHOLDER_FILE, "-new"))
    if return_type:
        return f"kpd-returns template {return_type} {target}"
    # Every return type the specs define, so a new spec file needs no change here.
    specs = load_all()
    return " or ".join(f"kpd-returns template {rid} {target} ({specs[rid].short_title})" for rid in sorted(specs))


def with_file(finding: Finding, path: str, return_type: str | None, was: str | None = None) -> Finding:
    """The finding with its command hint naming the file at ``path`` (and the return type, when known)
    instead of ``was`` (RETURN.xlsx when None)."""
    message = finding.message
    # The untyped hint first: it holds the typed one ("kpd-returns template kpd ...") within it.
    for placeholder, actual in ((fix_totals_command(was), fix_totals_command(path)),
                                (new_template_command(None, was), new_template_command(return_type, path)),
                                (new_template_command(return_type, was), new_template_command(return_type, path))):
        message = message.replace(placeholder, actual)
    # The path is the user's own, but it may name a person: masked like every other quoted value.
    return finding if message == finding.message else replace(finding, message=_masked(message))


def _fmt(value: Any) -> str:
    """A value as quoted in a finding, with any personal data in it masked (whatever the field type)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return _masked(str(value))
