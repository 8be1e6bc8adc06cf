"""The pinned files of the browser page: fetched once, checked against their SHA-256, cached.

``web_lock.toml`` (beside this module) pins the Pyodide runtime (the npm package's tarball) and
each wheel the validator needs in the page, each with its SHA-256. ``fetch_all`` returns the
path of each file in the cache, fetching only what the cache lacks: Pyodide from the npm
registry with urllib (proxies from the environment), the wheels with ``pip download`` of the
exact version (so pip's own index and proxy settings apply). A file whose hash differs from
the pin is refused and not kept. Offline with an empty cache, one sentence says what to do.

The cache is ``$KPD_RETURNS_WEB_CACHE``, else ``$XDG_CACHE_HOME/kpd-returns/web``, else
``~/.cache/kpd-returns/web``; copying the pinned files there by hand works too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..spec.small_files import file_sha256

LOCK_FILE = Path(__file__).with_name("web_lock.toml")
CACHE_ENV = "KPD_RETURNS_WEB_CACHE"
_TIMEOUT = 60


class WebBuildError(Exception):
    """The page cannot be built; the message is one plain sentence."""


@dataclass(frozen=True)
class Pinned:
    """One pinned file: where it comes from and its hash."""

    name: str
    version: str
    file: str
    sha256: str
    url: str = ""  # fetched with urllib (the Pyodide tarball)
    platform: str = ""  # a wheel for another platform (pip download --platform)
    python: str = ""

    @property
    def source(self) -> str:
        return self.url or f"PyPI ({self.name}=={self.version})"


@dataclass(frozen=True)
class Lock:
    pyodide: Pinned
    keep: tuple[str, ...]
    wheels: tuple[Pinned, ...]


def load_lock(path: Path = LOCK_FILE) -> Lock:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    p = data["pyodide"]
    pyodide = Pinned("pyodide", p["version"], p["file"], p["sha256"], url=p["url"])
    wheels = tuple(Pinned(w["name"], w["version"], w["file"], w["sha256"], platform=w.get("platform", ""),
                          python=w.get("python", "")) for w in data["wheel"])
    return Lock(pyodide, tuple(p["keep"]), wheels)


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kpd-returns" / "web"


def fetch_all(lock: Lock | None = None, cache: Path | None = None) -> dict[str, Path]:
    """file name -> its checked copy in the cache, for Pyodide and every wheel of the lock."""
    lock = lock or load_lock()
    cache = cache or cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WebBuildError(f"Cannot build the page: the cache folder {cache} cannot be made ({exc.strerror}).") from None
    missing = [p for p in (lock.pyodide, *lock.wheels) if not _cached(p, cache)]
    if missing:
        with tempfile.TemporaryDirectory(prefix="kpd-web-") as tmp:
            _fetch(missing, Path(tmp), cache)
    return {p.file: cache / p.file for p in (lock.pyodide, *lock.wheels)}


def _cached(p: Pinned, cache: Path) -> bool:
    path = cache / p.file
    if not path.is_file():
        return False
    try:
        if file_sha256(path) == p.sha256:
            return True
        path.unlink()  # a damaged or foreign copy: fetch it again
    except OSError as exc:
        raise WebBuildError(f"Cannot build the page: the cached copy {path} cannot be read or replaced "
                            f"({exc.strerror or exc}).") from None
    return False


def _fetch(missing: list[Pinned], tmp: Path, cache: Path) -> None:
    for p in missing:
        if p.url:
            _download(p, tmp, cache)
    pure = [p for p in missing if not p.url and not p.platform]
    if pure:
        _pip_download(pure, tmp, cache)
    for p in missing:
        if p.platform:
            _pip_download([p], tmp, cache, platform=p.platform, python=p.python)
    for p in missing:
        got = tmp / p.file
        if not got.is_file():
            raise WebBuildError(f"Cannot build the page: {p.source} did not give the pinned file {p.file}.")
        digest = file_sha256(got)
        if digest != p.sha256:
            raise WebBuildError(f"Cannot build the page: {p.file} from {p.source} has SHA-256 {digest}, not the "
                                f"{p.sha256} pinned in {LOCK_FILE.name}, so it was refused.")
        shutil.move(str(got), cache / p.file)


def _offline(pins: list[Pinned], cache: Path, reason: str) -> WebBuildError:
    what = pins[0].file if len(pins) == 1 else f"{pins[0].file} and {len(pins) - 1} other wheels"
    source = pins[0].url or "PyPI"
    return WebBuildError(f"Cannot build the page: {what} {'is' if len(pins) == 1 else 'are'} not in the cache "
                         f"{cache} and could not be fetched from {source} ({reason}); connect to the internet and run it again, or copy the files "
                         f"pinned in {LOCK_FILE.name} into that folder.")


def _download(p: Pinned, tmp: Path, cache: Path) -> None:
    try:
        with urllib.request.urlopen(p.url, timeout=_TIMEOUT) as resp, (tmp / p.file).open("wb") as out:
            shutil.copyfileobj(resp, out)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise _offline([p], cache, " ".join(str(reason).split())[:160]) from None


def _pip_download(pins: list[Pinned], tmp: Path, cache: Path, platform: str = "", python: str = "") -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--retries", "1", "--timeout", "20", "-q", "-d", str(tmp)]
    if platform:
        cmd += ["--platform", platform, "--python-version", python]
    cmd += [f"{p.name}=={p.version}" for p in pins]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _offline(pins, cache, f"pip could not run: {exc}") from None
    if run.returncode != 0:
        last = next((line.strip() for line in reversed(run.stderr.splitlines()) if line.strip()), "pip failed")
        raise _offline(pins, cache, last[:160].rstrip("."))
