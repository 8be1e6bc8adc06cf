"""Headless Chromium (Debian /usr/bin/chromium) through Playwright, shared by the browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


def missing_system(reason: str) -> None:
    """Skip, or fail under KPD_RETURNS_REQUIRE_SYSTEM=1 (CI installs every system component)."""
    if os.environ.get("KPD_RETURNS_REQUIRE_SYSTEM") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def require_chromium() -> None:
    """Chromium and the playwright package, or a skip (a failure under CI) saying which is missing."""
    missing = None if CHROMIUM.exists() else "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
    try:
        import playwright  # noqa: F401  (installed is all this asks)
    except ImportError:
        missing = missing or "the Python package 'playwright' is not installed (pip install -e '.[test]')"
    if missing:
        missing_system(missing)


def launched_browser() -> Iterator:
    """A module fixture's body: yields a launched headless Chromium, closed afterwards."""
    require_chromium()
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()
