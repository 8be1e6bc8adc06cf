"""The built wheel works on its own: installed into a fresh virtual environment, the
command runs from another folder and finds its specs inside the installation."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    # Without PYTHONPATH, so the source tree cannot stand in for the installed package.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv of its own (no system or outer site-packages) with the wheel built from this checkout
    installed as a user would, its dependencies from the package index at the versions constraints.txt
    pins (the ones the suite itself runs with, so pip's cache usually has them).

    Not `--system-site-packages`: inside a virtual environment sys.executable's venv is built on
    the base interpreter, which does not have the outer venv's packages, and outside one the
    system's packages would stand in for dependencies the wheel failed to declare."""
    tmp = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-q", "-w", tmp / "dist", ROOT], cwd=tmp)
    (wheel,) = sorted((tmp / "dist").glob("kpd_returns-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "kpd_returns/_data/validators/kpd.toml" in names and "kpd_returns/_data/validators/mmir.toml" in names
    _run([sys.executable, "-m", "venv", tmp / "venv"], cwd=tmp)
    bin_dir = tmp / "venv" / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", wheel], cwd=tmp,
         timeout=900)
    return tmp, bin_dir


def test_installed_command_writes_a_template(venv):
    tmp, bin_dir = venv
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    _run([bin_dir / "kpd-returns", "template", "mmir", "out.xlsx", "--period", "2026-10"], cwd=elsewhere)
    out = elsewhere / "out.xlsx"
    assert out.is_file() and zipfile.is_zipfile(out)
    assert "xl/workbook.xml" in zipfile.ZipFile(out).namelist()


def test_the_venv_sees_only_its_own_packages(venv):
    """typer (a dependency) comes from the venv's own site-packages: the wheel declared it and pip installed it."""
    tmp, bin_dir = venv
    code = ("import sys, sysconfig, typer, openpyxl; print(sysconfig.get_paths()['purelib']); "
            "print(typer.__file__); print(openpyxl.__file__); print(sys.prefix != sys.base_prefix)")
    site, typer_file, openpyxl_file, in_venv = _run([bin_dir / "python", "-c", code], cwd=tmp).stdout.splitlines()
    assert in_venv == "True"
    assert Path(typer_file).resolve().is_relative_to(Path(site).resolve())
    assert Path(openpyxl_file).resolve().is_relative_to(Path(site).resolve())
    version = _run([bin_dir / "kpd-returns", "--version"], cwd=tmp).stdout.strip()
    assert version.startswith("kpd-returns ")


def test_installed_package_uses_its_own_data(venv):
    tmp, bin_dir = venv
    code = ("import kpd_returns, sysconfig; from kpd_returns.spec.resources import validators_dir; "
            "print(validators_dir()); print(kpd_returns.__file__); print(sysconfig.get_paths()['purelib'])")
    lines = _run([bin_dir / "python", "-c", code], cwd=tmp).stdout.splitlines()
    validators, package, site_packages = (Path(x).resolve() for x in lines)
    assert validators.is_relative_to(site_packages) and package.is_relative_to(site_packages)
    assert validators == site_packages / "kpd_returns" / "_data" / "validators"
    assert not validators.is_relative_to(ROOT)
    assert (validators / "kpd.toml").is_file()
