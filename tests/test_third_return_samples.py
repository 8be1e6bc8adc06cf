"""A third return type with a [samples] profile gets samples, mistakes, a place in the season and in
the demo's register with no Python change (issue 11): a copy of the MMIR spec under another id, in a
throwaway validators folder, with a contract in the samples' world and in the season."""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path

import pytest

from kpd_returns.spec import resources

THIRD = "thirdret"


@pytest.fixture
def third_return(tmp_path, monkeypatch):
    real = resources.validators_dir()
    folder = tmp_path / "validators"
    shutil.copytree(real, folder)
    spec = (real / "mmir.toml").read_text(encoding="utf-8")
    spec = re.sub(r'(?m)^id = "mmir"$', f'id = "{THIRD}"', spec, count=1)
    spec = re.sub(r'(?m)^name_prefix = "MMIR"$', 'name_prefix = "THIRD"', spec, count=1)
    spec = spec.replace('file_name = "mmir-', f'file_name = "{THIRD}-').replace('file = "mistake-', 'file = "third-')
    (folder / f"{THIRD}.toml").write_text(spec, encoding="utf-8")
    deadlines = (folder / "deadlines.toml").read_text(encoding="utf-8")
    (folder / "deadlines.toml").write_text(deadlines + f'\n[{THIRD}]\nkind = "nth_working_day_after_period"\nn = 3\n',
                                           encoding="utf-8")
    world = (folder / "samples.toml").read_text(encoding="utf-8")
    assert 'contracts = {kpd = ["CPA 07", "CPA 08"], mmir = ["AtW-MHSS-C014"], ' in world
    world = world.replace('contracts = {kpd = ["CPA 07", "CPA 08"], mmir = ["AtW-MHSS-C014"], ',
                          f'contracts = {{kpd = ["CPA 07", "CPA 08"], mmir = ["AtW-MHSS-C014"], {THIRD} = ["T-1"], ')
    (folder / "samples.toml").write_text(world, encoding="utf-8")
    season = (folder / "season.toml").read_text(encoding="utf-8")
    head, values = season.split("[values]\n")
    found = re.search(r"(?ms)^mmir = (.*?''')$", values)
    # the third return's expression beside the MMIR's, inside [values] (tables such as [[extracts]] follow it)
    values = values[:found.end()] + f"\n{THIRD} = {found[1]}" + values[found.end():]
    season = (head + f'[[contracts]]\nprovider = "Northbridge Employment Ltd"\ncontract = "T-1"\nreturns = "{THIRD}"\n'
              f'first = "2026-09"\nlast = "2026-10"\nvars = {{ due = 3, within = 3 }}\n\n[values]\n{values}')
    (folder / "season.toml").write_text(season, encoding="utf-8")

    # The specs, deadlines and register are cached per folder; the sample world is not keyed by one.
    monkeypatch.setenv(resources.VALIDATORS_ENV, str(folder))
    from kpd_returns.author import sample_world

    def clear():
        sample_world.world.cache_clear()
    clear()
    yield folder
    monkeypatch.undo()  # then the real validators again, for the modules that read them at import
    clear()
    from kpd_returns.author import samples, season
    importlib.reload(samples)
    importlib.reload(season)


def test_a_third_profile_gets_clean_and_mistaken_samples_a_season_and_a_register_row(third_return, tmp_path):
    from kpd_returns.author import samples, season
    from kpd_returns.checks.validate import validate_paths
    from kpd_returns.spec.return_spec import get_spec

    importlib.reload(samples)
    spec = get_spec(THIRD)
    clean = {n: b for n, b in samples.clean_returns().items() if n.startswith(f"{THIRD}-")}
    assert len(clean) == len(spec.samples["periods"])  # one provider holds one contract
    name = f"{THIRD}-northbridge-employment-ltd-2026-09.xlsx"
    path = tmp_path / name
    path.write_bytes(samples.save_reproducibly(clean[name]()))
    wrong = [m for m in samples.mistakes() if m.name.startswith("third-") and m.expected[0]["code"] == "below-minimum"]
    assert wrong, "the third return's mistakes come from its profile"
    bad = tmp_path / wrong[0].name
    bad.write_bytes(samples.save_reproducibly(wrong[0].build()))
    good_report, bad_report = validate_paths([path, bad], workers=1)
    assert good_report.return_id == THIRD and good_report.verdict == "valid", good_report.findings
    assert [f.code for f in bad_report.findings] == ["below-minimum"]
    assert f",T-1,{THIRD}," in samples.register_csv()

    season = importlib.reload(season)
    files = [r for r in season.reports() if r.return_id == THIRD]
    assert [r.period for r in files] == ["2026-09", "2026-10"]
    assert f"T-1,{THIRD}," in season.register_csv()
