"""One evaluator for computed fields (issue 11 item 4): kpd_returns.spec.computed, used by the
checks, the consolidated workbook and the packs."""

from __future__ import annotations

import pytest

from kpd_returns.intake.consolidated_measures import _field_value
from kpd_returns.packs.measures import contract_months
from kpd_returns.packs.specs import section_of
from kpd_returns.spec.computed import evaluate, value
from kpd_returns.spec.findings import make
from kpd_returns.spec.sheet_model import Computed

VALUES = {"a": 1.5, "b": 2.25, "c": 0.0, "d": 3.0, "blank": None}


def test_sum_ratio_scale_and_rounding():
    assert value(Computed(op="sum", of=["a", "b"]), VALUES.get) == 3.75
    assert value(Computed(op="sum", of=["a", "b"]), {"a": 0.1, "b": 0.2}.get) == 0.3  # no floating-point noise
    assert value(Computed(op="ratio", of=["a", "d"]), VALUES.get) == 0.5
    assert value(Computed(op="ratio", of=["a", "d"], scale=100), VALUES.get) == 50.0
    assert value(Computed(op="ratio", of=["b", "d"], scale=100, decimals=1), VALUES.get) == 75.0
    assert value(Computed(op="ratio", of=["d", "b"], decimals=2), VALUES.get) == 1.33


def test_a_missing_input_gives_no_value_and_a_zero_denominator_says_so():
    assert evaluate(Computed(op="sum", of=["a", "blank"]), VALUES.get).value is None
    assert evaluate(Computed(op="ratio", of=["blank", "d"]), VALUES.get).zero_denominator is False
    zero = evaluate(Computed(op="ratio", of=["a", "c"]), VALUES.get)
    assert zero.value is None and zero.zero_denominator


def test_ratio_needs_two_fields_and_decimals_are_bounded():
    with pytest.raises(ValueError, match="exactly two fields"):
        Computed(op="ratio", of=["a"])
    with pytest.raises(ValueError):
        Computed(op="sum", of=["a"], decimals=-1)


def test_the_consolidated_workbook_recomputes_with_it_and_keeps_the_stored_figure_when_a_part_is_missing():
    computed = {"total": Computed(op="sum", of=["x", "y"]), "share": Computed(op="ratio", of=["x", "total"],
                                                                                    scale=100, decimals=1)}
    fields = {"x": {"k": 1.0}, "y": {"k": 2.0}, "total": {"k": 99.0}}
    assert _field_value("total", "k", fields, computed) == 3.0
    assert _field_value("share", "k", fields, computed) == 33.3
    assert _field_value("total", "k", {"x": {"k": 1.0}, "total": {"k": 99.0}}, computed) == 99.0


def test_the_packs_fte_total_is_the_same_sum():
    staff = {"staff_senior": 4.5, "staff_front_line": 50.25, "staff_central": 10.0, "staff_employer": 6.0}
    values = [("P", "CPA 07", "2026-04", f, v) for f, v in staff.items()]
    section = section_of("kpd")
    assert contract_months(values, section)[0].measure("fte_total") == 70.75
    assert contract_months(values[:3], section)[0].measure("fte_total") is None  # one category missing: no total


def test_the_divide_by_zero_message_names_no_field_of_one_return():
    msg = make("total-divide-by-zero", sheet="Rates", cell="C5", field_label="Share satisfied", found=12,
               detail="October 2026").message
    assert msg.startswith("Rates!C5 (Share satisfied) cannot be worked out for October 2026")
    assert "FTE" not in msg and "job entries" not in msg and "Share satisfied" in msg.partition(":")[2]
