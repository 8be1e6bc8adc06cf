"""Shared test fixtures. Keep this small: add a fixture only when more than one test file needs it."""

from __future__ import annotations

import pytest

from kpd_returns.spec import get_spec


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes tens of seconds (builds a wheel and a virtual environment)")


@pytest.fixture(scope="session")
def specs():
    """The packaged return specs, by return id."""
    return {"kpd": get_spec("kpd"), "mmir": get_spec("mmir")}
