"""A return with only a [samples] profile (no Python) gets sample figures drawn from the profile
(docs/spec-format.md, "Sample profile"); profile expressions cannot run arbitrary code."""

from __future__ import annotations

import pytest

from kpd_returns.author.sample_engine import profile_values
from kpd_returns.author.sample_expr import ProfileError, evaluate
from kpd_returns.author.sample_world import Provider
from kpd_returns.spec.return_spec import get_spec

WHO = Provider("Example Ltd", "EXL", {"mmir": ("C-1",)}, {"size": 3})


def _profile_spec(**profile):
    """The MMIR spec with a profile drawn by the engine: stands in for a third return's spec file."""
    return get_spec("mmir").model_copy(update={"samples": profile})


def test_a_profile_alone_draws_the_figures_growth_rows_and_derived_values():
    spec = _profile_spec(
        periods=["2026-04", "2026-05"], file_name="x-{provider}-{period}.xlsx",
        data={"reasons": ["Reason A", "Reason B"]},
        start={"level": "randint(100, 200)"},
        step={"level": "int(level * 1.1)"},
        rows={"Rework reasons": "size"},
        fields={"referrals": "this['level'] if key == 'in_month' else None", "reworks": "size if key == 'in_month' else None",
                "rework_case_ref": "f'{code}-{row:03d}'", "rework_reason": "choice(reasons)",
                "date_submitted": "working_day_after(period_end, 2)"})
    april, may = (profile_values(spec, WHO, "C-1", p) for p in ("2026-04", "2026-05"))
    assert may["referrals"]["in_month"] == int(april["referrals"]["in_month"] * 1.1)  # grows month on month
    assert list(may["rework_case_ref"].values()) == ["EXL-001", "EXL-002", "EXL-003"]  # row count from a trait
    assert set(may["rework_reason"].values()) <= {"Reason A", "Reason B"}
    assert str(may["date_submitted"][""]) == "2026-06-02"  # 2nd working day of June 2026
    assert profile_values(spec, WHO, "C-1", "2026-05") == may  # seeded: the same every time


def test_profile_mistakes_name_the_key_and_refuse_code():
    spec = _profile_spec(periods=["2026-04"], fields={"referrals": "1 / 0"})
    with pytest.raises(ProfileError, match="samples.fields.referrals: ZeroDivisionError"):
        profile_values(spec, WHO, "C-1", "2026-04")
    for hostile in ("__import__('os')", "().__class__", "open('x')"):
        with pytest.raises(ProfileError):
            evaluate(hostile, {})


def test_nested_comprehensions_draw_in_the_written_order_and_counters_persist():
    calls = []
    scope = {"n": 0, "draw": lambda tag: calls.append(tag) or tag,
             "tick": lambda: scope.__setitem__("n", scope["n"] + 1) or scope["n"]}
    out = evaluate("[(draw(k), [draw(j) for j in [k + 'x']], tick()) for k in ['a', 'b']]", scope)
    assert calls == ["a", "ax", "b", "bx"] and [t for *_, t in out] == [1, 2] and scope["n"] == 2


def test_the_samples_command_names_a_broken_profile_in_one_sentence(monkeypatch, tmp_path, capsys):
    from kpd_returns.author import samples

    broken = _profile_spec(periods=["2026-04"], file_name="x-{provider}-{period}.xlsx", fields={"referrals": "1 / 0"})
    monkeypatch.setattr(samples, "sample_specs", lambda: [broken])
    monkeypatch.setattr(samples, "PROVIDERS", (WHO,))
    assert samples.cli_samples(tmp_path / "out", progress=False) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "samples.fields.referrals: ZeroDivisionError" in err
