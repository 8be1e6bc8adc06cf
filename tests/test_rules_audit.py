"""Every rule true to the guidance (issue 13): each check cites the paragraph that says it, or
is a query, the project's own plausibility check, marked as such and listed with its
tolerance in the README's "Decisions where the guidance is silent"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpd_returns.spec.findings import CATALOGUE, QUERY_CODES, QUERY_PREFIX
from kpd_returns.spec.return_spec import load_all

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SPECS = load_all()
# A paragraph of the guidance: "KPD intro 4", "KPD 20", "AtW 7.25".
PARAGRAPH = re.compile(r"^(KPD intro [1-5]|KPD (1[0-9]|2[0-3]|[1-9])|AtW 7\.(0[1-9]|[1-2][0-9]|3[0-5])|JOBS II 6\.(0[1-9]|[1-2][0-9]|3[0-6])|WHP ch\.16 ([1-9]|[1-5][0-9]|60|Annex A))$")
# Warnings that are not queries: the guidance or the template says them.
GUIDANCE_WARNINGS = {"total-typed-over", "submitted-late", "check-not-run", "sheet-not-checked",
                     "explanation-of-error"}


@pytest.mark.parametrize("spec_id, n", [(s, n) for s in sorted(SPECS) for n in range(len(SPECS[s].rules))])
def test_each_rule_cites_its_paragraph_or_is_a_marked_query(spec_id, n):
    spec = SPECS[spec_id]
    r = spec.rules[n]
    ref = spec.guidance_ref(r.guidance)
    if r.query:
        assert ref == "plausibility check" and r.description.startswith("Query"), (r.kind, ref)
    else:
        assert PARAGRAPH.match(ref), (r.kind, ref)


def test_each_field_cites_its_paragraph():
    bad = [(s.id, f.id, s.guidance_ref(f.guidance)) for s in SPECS.values() for sh in s.sheets
           for f in sh.expanded_fields if not PARAGRAPH.match(s.guidance_ref(f.guidance))]
    assert bad == []


def test_every_warning_is_a_query_or_said_by_the_guidance():
    warnings = {code for code, (severity, _level, _t) in CATALOGUE.items() if severity == "warning"}
    assert warnings - QUERY_CODES == GUIDANCE_WARNINGS
    assert QUERY_CODES <= warnings


@pytest.mark.parametrize("code", sorted(QUERY_CODES))
def test_each_query_says_it_is_a_plausibility_check_and_the_readme_lists_it(code):
    assert CATALOGUE[code][2].startswith(QUERY_PREFIX)
    decisions = README.split("## Decisions where the guidance is silent", 1)[1]
    line = next((ln for ln in decisions.split("\n  * ")[1:] if f"`{code}`" in ln), None)
    assert line is not None, f"README does not list the query {code}"
    assert re.search(r"\*\*[^*]+\*\*", line), f"README gives no tolerance for {code}"
