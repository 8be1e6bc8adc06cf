"""A bad file in a validators folder costs only itself (issue 19 item 12).

Spec files are read only as small regular UTF-8 files nesting at most 32 deep (spec.small_files): a
pipe, a device, a 60 MB file, Latin-1 bytes or deep nesting is one sentence naming the file, and
every other return still works. A field pattern that backtracks for hours and a sample file name
that climbs out of the output folder are refused when the spec is loaded (spec.patterns). A missing
or empty validators folder is exit 2 with one sentence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_spec_errors import MMIR_SAMPLE, _folder, _run

from kpd_returns.spec.patterns import pattern_problem
from kpd_returns.spec.resources import VALIDATORS_ENV, validators_dir

LATIN1 = b'[return]\nid = "caf\xe9"\n'


def _kpd_works(folder: Path, tmp_path: Path, said: str) -> None:
    """Every other return still works, and the bad file is said once, in one sentence."""
    run = _run(folder, "validate", str(MMIR_SAMPLE), "--as-of", "2026-10-05", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count(said) == 1, run.stderr
    run = _run(folder, "rules", "kpd", "--format", "csv", cwd=tmp_path)
    assert run.returncode == 0 and "kpd,required-missing" in run.stdout, run.stderr


@pytest.mark.parametrize("name, make, said", [
    ("latin.toml", lambda p: p.write_bytes(LATIN1), "latin.toml: is not UTF-8 text (byte"),
    ("deep.toml", lambda p: p.write_text("[return]\nx = " + "[" * 3000 + "]" * 3000 + "\n"),
     "deep.toml: nests tables or lists too deeply"),
    ("dotted.toml", lambda p: p.write_text("[return]\n" + ".".join(["a"] * 200) + " = 1\n"),
     "dotted.toml: nests tables or lists too deeply"),
    ("fifo.toml", os.mkfifo, "fifo.toml: is not an ordinary file (it is a pipe)"),
    ("zero.toml", lambda p: p.symlink_to("/dev/zero"), "zero.toml: is not an ordinary file (it is a device)"),
    ("big.toml", lambda p: p.write_bytes(b"[return]\n" + b"# padding\n" * 6_000_000), "big.toml: is too big (57.2 MB"),
])
def test_a_bad_spec_file_is_one_sentence_and_the_others_work(tmp_path, name, make, said):
    folder = _folder(tmp_path, {})
    make(folder / name)
    _kpd_works(folder, tmp_path, said)


@pytest.mark.parametrize("name", ["deadlines.toml", "kpis.toml"])
def test_a_pipe_in_place_of_a_data_file_does_not_hang(tmp_path, name):
    folder = _folder(tmp_path, {})
    (folder / name).unlink()
    os.mkfifo(folder / name)
    run = _run(folder, "rules", "mmir", "--format", "csv", cwd=tmp_path)  # used to wait for ever
    assert "Traceback" not in run.stderr and f"{name}: is not an ordinary file (it is a pipe)" in run.stderr, run.stderr


@pytest.mark.parametrize("body", [
    b'x = "' + b"y" * 60_000_000 + b'"\n',  # refused by its size
    b"[[a]]\n" * 170_000,  # within the size bound: the most tables a spec file can hold
    b"x = [" + b"{}," * 345_000 + b"]\n",
])
def test_any_spec_file_costs_under_300_mb(tmp_path, body):
    folder = _folder(tmp_path, {})
    (folder / "big.toml").write_bytes(b"[return]\n" + body)
    code = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")
    env = {**os.environ, VALIDATORS_ENV: str(folder)}
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "kpd_returns.cli.main", "rules", "mmir"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300).stdout.split()
    peak_kb, rc = int(out[0]), int(out[1])
    assert rc == 0 and peak_kb < 300 * 1024, (peak_kb, rc)


NESTED = {"kpd.toml": ("pattern = '^\\d{4}-\\d{2}$'", "pattern = '^(\\d+)+$'")}


def test_a_pattern_that_backtracks_is_refused_when_the_spec_is_loaded(tmp_path):
    folder = _folder(tmp_path, NESTED)
    run = _run(folder, "rules", "kpd", cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "kpd.toml: key 'sheets.0.fields.2.pattern': the pattern repeats a part" in run.stderr
    _kpd_works_mmir = _run(folder, "validate", str(MMIR_SAMPLE), "--as-of", "2026-10-05", cwd=tmp_path)
    assert _kpd_works_mmir.returncode == 0, _kpd_works_mmir.stderr


@pytest.mark.parametrize("pattern, ok", [
    (r"^\d{4}-\d{2}$", True), (r"^[A-Z]+-\d+$", True), (r"(\d{2}-)+", True), (r"^(Q1|Q2)$", True),
    (r"(a+)+$", False), (r"(a|ab)+", False), (r"(\d{1,3}-)*", False), (r"(a*)\1+", False),
    (r"\d*\d*\d*x", False), ("x" * 201, False), ("(", False), (r"(?:(?:a)+)+", False),
])
def test_pattern_shapes(pattern, ok):
    assert (pattern_problem(pattern) is None) == ok


def test_a_sample_file_name_outside_the_output_folder_is_refused(tmp_path):
    folder = _folder(tmp_path, {"mmir.toml": ('file_name = "mmir-{provider}-{period}.xlsx"',
                                              'file_name = "../../escaped-{period}.xlsx"')})
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    run = _run(folder, "samples", "out", cwd=work)
    assert run.returncode == 0, run.stderr
    assert not list(tmp_path.glob("escaped-*")) and not list((tmp_path / "a").glob("escaped-*"))
    assert "mmir.toml: key 'samples.file_name': '../../escaped-{period}.xlsx' is not a plain file name" in run.stderr
    assert not any(p.name.startswith("mmir-") for p in (work / "out" / "returns").iterdir())


@pytest.mark.parametrize("make, said", [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "holds no return spec"),
    (lambda p: (p.mkdir(), (p / "notes.toml").write_text("x = 1\n")), "holds no return spec"),
])
@pytest.mark.parametrize("command", [["rules"], ["template", "kpd", "k.xlsx"]])
def test_a_missing_or_empty_validators_folder_is_an_error(tmp_path, make, said, command):
    folder = tmp_path / "validators"
    make(folder)
    run = _run(folder, *command, cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == "", run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and str(folder) in lines[0], run.stderr


@pytest.mark.parametrize("command, said", [(["samples", "s"], "Cannot make the samples: samples.toml: is not an "
                                                               "ordinary file (it is a pipe)."),
                                           (["demo", "--out", "d"], "Cannot run the demo: samples.toml: is not an "
                                                                    "ordinary file (it is a pipe).")])
def test_a_pipe_in_place_of_the_samples_world_is_one_sentence(tmp_path, command, said):
    folder = _folder(tmp_path, {})
    (folder / "samples.toml").unlink()
    os.mkfifo(folder / "samples.toml")
    run = _run(folder, *command, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.strip().splitlines()[-1] == said, run.stderr


@pytest.mark.parametrize("make, said", [(os.mkfifo, "is not an ordinary file (it is a pipe)."),
                                        (lambda p: p.symlink_to("/dev/zero"), "is not an ordinary file (it is a device).")])
def test_a_deadlines_option_that_is_not_a_file_is_one_sentence(tmp_path, make, said):
    make(tmp_path / "mine.toml")
    run = _run(validators_dir(), "validate", str(MMIR_SAMPLE), "--deadlines", "mine.toml", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.strip() == f"mine.toml: {said}", run.stderr
