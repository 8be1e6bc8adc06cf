"""Issue 11 item 1 for what a Performance Manager sees: packs, consolidated sheets, cross-return checks and
the rule catalogue's deadline paragraph come from the specs, not from Python that names a return."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kpd_returns.author import rule_catalogue as rc
from kpd_returns.spec import deadlines
from kpd_returns.spec.return_spec import load_all

ROOT = Path(__file__).resolve().parents[1]
SPECS = load_all()


# ---------------------------------------------------------------- item 5: the deadline paragraph
def test_the_deadline_paragraph_is_the_deadline_rules_own_guidance():
    for spec in SPECS.values():
        rule = deadlines.load_deadlines()[spec.id]
        late = next(e for e in rc.entries(spec) if e.code == "submitted-late")
        assert rule.guidance and late.guidance == rule.guidance == deadlines.deadline_guidance(spec.id)
    assert deadlines.deadline_guidance("mmir") == "AtW 7.24"  # AtW 7.24: MI due by the Reporting Date
    assert deadlines.deadline_guidance("no-such-return") == ""


def test_a_deadline_rule_with_guidance_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text('[x]\nkind = "calendar_days_after_period"\ndays = 7\nguidance = 7\n', encoding="utf-8")
    with pytest.raises(deadlines.DeadlineError, match=r"d.toml: key 'x.guidance' must be text"):
        deadlines.load_deadlines(path)
