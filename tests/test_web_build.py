"""`kpd-returns web` without the network (issue 23): pinned files are checked against their SHA-256,
offline with an empty cache is one sentence, the package's own wheel is deterministic and complete,
and --serve serves the folder on 127.0.0.1 with the page's Content-Security-Policy.
The site itself, in Chromium, is tested by tests/test_web_browser.py."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from kpd_returns.render.web_assets import Lock, Pinned, WebBuildError, fetch_all, load_lock
from kpd_returns.render.web_site import CSP, package_wheel

ROOT = Path(__file__).resolve().parents[1]


def _offline_env(cache: Path) -> dict[str, str]:
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens, so every fetch fails at once
    return {**os.environ, "KPD_RETURNS_WEB_CACHE": str(cache), "HTTPS_PROXY": closed, "https_proxy": closed,
            "HTTP_PROXY": closed, "http_proxy": closed, "NO_PROXY": "", "no_proxy": "",
            "PIP_INDEX_URL": f"{closed}/simple", "PIP_EXTRA_INDEX_URL": "", "PIP_FIND_LINKS": "", "PIP_NO_INDEX": "1"}


def test_offline_with_an_empty_cache_is_one_sentence_and_writes_nothing(tmp_path):
    run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "web", "--out", str(tmp_path / "site")], capture_output=True, text=True,
                         timeout=120, env=_offline_env(tmp_path / "empty-cache"))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert lines[0].startswith("Cannot build the page: pyodide-314.0.8.tgz is not in the cache")
    assert "connect to the internet" in lines[0] and lines[0].endswith(".")
    assert not (tmp_path / "site" / "index.html").exists()


def _local(tmp_path: Path, name: str, data: bytes, sha: str | None = None) -> Pinned:
    src = tmp_path / "source" / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    return Pinned("pyodide", "1", name, sha or hashlib.sha256(data).hexdigest(), url=src.as_uri())


def test_a_fetched_file_whose_hash_differs_from_the_pin_is_refused_and_not_kept(tmp_path):
    lock = Lock(_local(tmp_path, "runtime.tgz", b"not what was pinned", sha="0" * 64), (), ())
    with pytest.raises(WebBuildError, match=r"runtime\.tgz .* has SHA-256 [0-9a-f]{64}, not the 0{64} pinned .*refused"):
        fetch_all(lock, tmp_path / "cache")
    assert not (tmp_path / "cache" / "runtime.tgz").exists()


def test_a_damaged_copy_in_the_cache_is_fetched_again(tmp_path):
    pin = _local(tmp_path, "runtime.tgz", b"the pinned bytes")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "runtime.tgz").write_bytes(b"damaged")
    got = fetch_all(Lock(pin, (), ()), cache)
    assert got["runtime.tgz"].read_bytes() == b"the pinned bytes"
    (tmp_path / "source" / "runtime.tgz").unlink()  # now offline: the good copy in the cache is enough
    assert fetch_all(Lock(pin, (), ()), cache)["runtime.tgz"].read_bytes() == b"the pinned bytes"


def test_the_lock_pins_the_versions_of_constraints_txt():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    lock = load_lock()
    for wheel in lock.wheels:
        key = re.sub(r"[-_.]+", "-", wheel.name).lower()
        if key != "tzdata":  # not a dependency of the command line: only the page needs it (zoneinfo)
            assert pins[key] == wheel.version, wheel.name
        assert re.fullmatch(r"[0-9a-f]{64}", wheel.sha256)
    assert "pandas" not in {w.name for w in lock.wheels} and "numpy" not in {w.name for w in lock.wheels}


def test_the_package_wheel_is_byte_identical_and_carries_the_code_and_data(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    name = package_wheel(tmp_path / "a")
    assert package_wheel(tmp_path / "b") == name
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    names = zipfile.ZipFile(tmp_path / "a" / name).namelist()
    assert "kpd_returns/render/web_check.py" in names and "kpd_returns/checks/field_limits.py" in names
    assert any(n.startswith("kpd_returns/_data/validators/") and n.endswith(".toml") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_the_csp_allows_no_other_origin():
    sources = [token for directive in CSP.split(";") for token in directive.split()[1:]]
    assert set(sources) <= {"'self'", "'none'", "'wasm-unsafe-eval'", "data:"}
    assert "'unsafe-eval'" not in sources and "'unsafe-inline'" not in sources
    page = (ROOT / "templates" / "web" / "index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="Content-Security-Policy" content="{{CSP}}">' in page


def test_serve_serves_a_built_folder_on_localhost_with_the_policy(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><title>t</title>", encoding="utf-8")
    (site / "manifest.json").write_text("{}", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "kpd_returns.cli.main", "web", "--out", str(site), "--serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "index.html", timeout=10) as resp:
            assert resp.read().startswith(b"<!DOCTYPE html>")
            assert resp.headers["Content-Security-Policy"].startswith(CSP)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_serve_on_a_taken_port_is_one_sentence(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        site = tmp_path / "site"
        site.mkdir()
        (site / "index.html").write_text("x", encoding="utf-8")
        (site / "manifest.json").write_text("{}", encoding="utf-8")
        run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "web", "--out", str(site), "--serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().startswith(f"Cannot serve the page on 127.0.0.1:{port}")
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_folder_holding_other_files_is_not_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "web", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.strip().endswith("already holds other files; choose an empty folder or the folder of an "
                                       "earlier site.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_what_the_page_runs_gives_the_command_lines_json(tmp_path, monkeypatch):
    """kpd_returns.render.web_check, as the page calls it, here with the plain field engine the browser has."""
    import json
    import shutil

    from kpd_returns.checks.fields import ENGINE_VARIABLE
    from kpd_returns.render.web_check import check, warm

    monkeypatch.setenv(ENGINE_VARIABLE, "python")
    assert "MMIR" in warm()
    sample = ROOT / "samples" / "mistakes" / "mistake-personal-data.xlsx"
    shutil.copyfile(sample, tmp_path / sample.name)
    got = json.loads(check(str(tmp_path), sample.name, "scotland", "2026-11-20", str(tmp_path / "out")))
    cli = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", "--format", "json", "--as-of",
                          "2026-11-20", "--region", "scotland", sample.name], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert got["json"] == cli.stdout
    assert got["report"] == json.loads(cli.stdout)
    assert got["summary"] == got["text"].splitlines()[0]
    assert "QQ123456C" not in got["text"] and "QQ*****6C" in got["json"]  # masked as the reports mask it
    assert Path(got["annotated"]).name == "mistake-personal-data.annotated.xlsx"
    assert Path(got["annotated"]).parent == tmp_path / "out"
    assert got["json_name"] == "mistake-personal-data.report.json"
