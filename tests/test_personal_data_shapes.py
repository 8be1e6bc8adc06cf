"""The scanner against the table of personal data shapes (tests/data/hostile_table.toml, issue 10 item 2):
every positive shape is found as its kind and masked so that none of its raw part survives; every
negative shape (case references, dates of returns, FTE figures, CPA names...) is left alone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from kpd_returns.spec.personal_data import KIND_IDS, KINDS, find_all, mask_all, normalise, scan

TABLE = tomllib.loads((Path(__file__).parent / "data" / "hostile_table.toml").read_text(encoding="utf-8"))
SHAPES = TABLE["personal_data"]
DETAIL = {k.id: k.detail for k in KINDS}


def test_the_table_is_big_enough():
    assert len(SHAPES["positive"]) >= 40 and len(SHAPES["negative"]) >= 40
    assert {case["kind"] for case in SHAPES["positive"]} == set(KIND_IDS)


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalise(text)[0]).lower()


@pytest.mark.parametrize("case", SHAPES["positive"], ids=lambda c: c["text"].encode("unicode_escape").decode())
def test_positive_shapes_are_found_and_masked(case):
    kinds = [m.kind for m in find_all(case["text"])]
    assert case["kind"] in kinds
    masked = mask_all(case["text"])
    assert case["raw"] not in masked
    if len(_compact(case["raw"])) >= 5:  # not in any spacing either
        assert _compact(case["raw"]) not in _compact(masked)
    assert mask_all(masked) == masked  # masking twice changes nothing
    assert DETAIL[case["kind"]] in [kind for kind, _m in scan(case["text"])]


@pytest.mark.parametrize("text", SHAPES["negative"])
def test_negative_shapes_are_not_flagged(text):
    assert scan(text) == []
    assert mask_all(text) == text


@pytest.mark.parametrize("case", SHAPES["relaxed"], ids=lambda c: c["text"])
def test_a_field_may_skip_kinds_but_the_rest_are_still_found(case):
    assert scan(case["text"], case["skip"]) == []
    assert scan(case["text"] + " jane.doe@example.com", case["skip"]) != []


def test_masking_keeps_the_text_around_the_match():
    text = "Called\u00a0on 07700\u00a0900123 about AB-12-34-56-C, see SW1A\u00a0\u00a01AA."
    assert mask_all(text) == "Called\u00a0on 07***\u00a0***123 about AB-**-**-*6-C, see SW**\u00a0\u00a0***."


@pytest.mark.parametrize("case", SHAPES["positive"], ids=lambda c: c["text"].encode("unicode_escape").decode())
def test_a_cut_at_any_length_keeps_no_part_of_an_item_issue19_item6(case):
    """``cut`` masks the whole text, then cuts: at every length, the result is a prefix of the masked
    text (a masked item is left out whole where it would be cut), and holds no raw part of the item."""
    from kpd_returns.spec.personal_data import cut

    masked = mask_all(case["text"])
    for limit in range(len(case["text"]) + 2):
        shown = cut(case["text"], limit)
        assert len(shown) <= limit and masked.startswith(shown)
        assert case["raw"] not in shown
        assert not [m for m in find_all(shown) if m.kind == case["kind"]]
