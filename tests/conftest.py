"""Shared test fixtures. Keep this small: add a fixture only when more than one test file needs it."""

from __future__ import annotations

import os

import pytest

from kpd_returns.spec.return_spec import get_spec


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes tens of seconds (builds a wheel and a virtual environment)")
    # consolidate and ingest record the working folder's ledger in ./.kpd-returns.toml: keep that
    # record out of the checkout (subprocesses inherit the variable).
    import tempfile

    os.environ["KPD_RETURNS_PROJECT_FILE"] = os.path.join(tempfile.mkdtemp(prefix="kpd-project-"),
                                                          ".kpd-returns.toml")


@pytest.fixture(scope="session")
def specs():
    """The packaged return specs, by return id."""
    return {"kpd": get_spec("kpd"), "mmir": get_spec("mmir")}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Under CI (KPD_RETURNS_REQUIRE_SYSTEM=1) a system test that skips is a failure:
    .ci/run installs LibreOffice and Chromium, so a skip means something is broken."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("system") and os.environ.get("KPD_RETURNS_REQUIRE_SYSTEM") == "1":
        report.outcome = "failed"
        report.longrepr = f"system test skipped under KPD_RETURNS_REQUIRE_SYSTEM=1: {report.longrepr}"


@pytest.fixture(autouse=True)
def _own_project_file(tmp_path_factory, monkeypatch):
    """Each test has its own working-folder record, so no test finds another's ledger."""
    monkeypatch.setenv("KPD_RETURNS_PROJECT_FILE", str(tmp_path_factory.mktemp("project") / ".kpd-returns.toml"))
