"""Locate the data folders (validators/, templates/) whether installed or run from source.

The wheel carries them under ``kpd_returns/_data``; a source checkout (or an
editable install) keeps them at the top of the repository.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .. import __version__

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # kpd_returns/, from kpd_returns/spec/


@lru_cache(maxsize=None)  # asked for every spec lookup; the installation does not move while running
def data_dir(name: str) -> Path:
    """Return the folder ``name`` ("validators" or "templates")."""
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"The kpd-returns data folder '{name}' is missing from {_PACKAGE_DIR}: reinstall the package."
    )


# A validators folder of one's own (trying out a new return spec, or a test): the folder's path.
VALIDATORS_ENV = "KPD_RETURNS_VALIDATORS"


def validators_dir() -> Path:
    """The spec folder: $KPD_RETURNS_VALIDATORS when set, else the packaged validators/."""
    override = os.environ.get(VALIDATORS_ENV)
    if override:
        return Path(override)
    return data_dir("validators")


def templates_dir() -> Path:
    return data_dir("templates")


def installed_version() -> str:
    """The version of the installed distribution (what pip installed), else the source tree's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kpd-returns")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return __version__
