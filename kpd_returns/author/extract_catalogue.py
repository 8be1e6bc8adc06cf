"""The rule catalogue's entries for a DWP extract (spec/extract_spec.py): the checks
``checks/extract_checks.py`` makes, read from the extract's spec, so `kpd-returns rules` lists every
check kpd-returns makes on any file it accepts, not only on the returns providers fill in.

Each check's kind (every one an error today) is the message catalogue's (spec/findings.py), so the catalogue
and the findings never disagree. Each rests on the extract's layout as its spec states it (a column
DWP's layout names, its type and list), on the guidance paragraph of the column or rule, or, for
personal data, on the guidance's pseudonymous ids (an extract holds none that name a person).
"""

from __future__ import annotations

from ..spec.basis import Basis
from ..spec.extract_spec import ExtractSpec
from ..spec.findings import CATALOGUE


def _layout(spec: ExtractSpec) -> str:
    return Basis(template=f"the {spec.short_title} extract's layout, as validators/{spec.id}.toml states "
                          "DWP's columns").describe()


def extract_entries(spec: ExtractSpec, make) -> list:
    """Every check of one extract, in the order they run: the header, personal data, the month and the
    contract, each column's type, list, form, length and required cells, ids listed twice, the rules.
    ``make`` builds one catalogue row (rule_catalogue.Entry), passed in to keep one home for its shape."""
    def entry(return_id: str, code: str, checks: str, guidance: str, fields: tuple, basis: str):
        return make(return_id, code, CATALOGUE[code][0], checks, guidance, fields, basis)

    layout = _layout(spec)
    cols = tuple(f.id for f in spec.fields)
    key = spec.by_id[spec.key_column]
    key_ref = spec.guidance_ref(key.guidance)
    out = [
        entry(spec.id, "extract-column-missing", "Every column of the extract is in the header line.",
              key_ref, cols, layout),
        entry(spec.id, "extract-column-twice", "No column is in the header line twice.", key_ref, cols,
              layout),
        entry(spec.id, "extract-column-unknown", "No column is in the header line that the extract does "
              "not have.", key_ref, (), layout),
        entry(spec.id, "extract-personal-data", "No cell of any column holds a National Insurance number "
              "or an e-mail address: an extract holds pseudonymous ids only, so one rejects the whole file.",
              key_ref, cols, Basis(protection="an extract holds pseudonymous ids only; personal data never "
                                              "enters the ledger or an output").describe()),
        entry(spec.id, "extract-month-unknown", "The file's name holds the one month (YYYY-MM) the "
              "extract covers.", key_ref, (), layout),
        entry(spec.id, "extract-contract-mixed", "Every row names the same contract: an extract is for "
              "one contract.", spec.guidance_ref(spec.by_id[spec.contract_column].guidance),
              (spec.contract_column,), layout),
        entry(spec.id, "extract-duplicate-id", f"Each {key.label} is listed once.", key_ref,
              (key.id,), layout),
    ]
    for f in spec.fields:
        g = spec.guidance_ref(f.guidance)
        if f.required:
            out.append(entry(spec.id, "extract-required", f"{f.label} is given on every row.", g,
                             (f.id,), layout))
        if f.type == "date":
            out.append(entry(spec.id, "extract-not-a-date", f"{f.label} is a date (YYYY-MM-DD or "
                             "DD/MM/YYYY) from the years 2000 to 2100.", g, (f.id,), layout))
        elif f.type == "choice":
            out.append(entry(spec.id, "extract-not-in-list", f"{f.label} is one of: "
                             f"{', '.join(f.choices or [])}.", g, (f.id,), layout))
        else:
            out.append(entry(spec.id, "extract-too-long", f"{f.label} has at most {f.max_length} "
                             "characters.", g, (f.id,), layout))
            if f.pattern:
                out.append(entry(spec.id, "extract-pattern", f"{f.label} is in the form of a "
                                 "pseudonymous id.", g, (f.id,), layout))
    for rule in spec.rules:
        code = "extract-dates-out-of-order" if rule.kind == "dates_in_order" else "extract-filled-together"
        named = ((rule.params["earlier"], rule.params["later"]) if rule.kind == "dates_in_order"
                 else tuple(rule.params["fields"]))
        out.append(entry(spec.id, code, rule.description, spec.guidance_ref(rule.guidance), named,
                         layout))
    return out
