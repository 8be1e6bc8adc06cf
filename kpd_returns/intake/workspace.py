"""The working folder's memory: which ledger a command uses, and which providers register.

One rule for every command (``ingest``, ``status``, ``consolidate``, ``pack``):

* **The ledger.** ``--db PATH`` when given. Otherwise ``consolidate`` keeps its ledger in
  its output folder (``DIR/ledger.sqlite``), and ``ingest``, ``status`` and ``pack`` use the
  ledger the last ``consolidate`` or ``ingest`` run in this working folder used, which
  those two record in ``.kpd-returns.toml`` here; with no such record, ``./kpd-ledger.sqlite``.
  So ``kpd-returns consolidate inbox --out run`` followed by a bare ``kpd-returns status``
  reads ``run/ledger.sqlite``. The environment variable ``KPD_RETURNS_PROJECT_FILE`` moves
  the record elsewhere (the tests use it to keep the checkout clean).
* **The providers register.** A register given with ``--providers`` is stored in the
  ledger (its text, name and SHA-256, as loaded); a later command given none uses the one
  stored last, and says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from ..spec.constants import DEFAULT_LEDGER
from ..spec.small_files import KB, SmallFileError, parse_toml, read_small_text, write_small
from .ledger import Ledger, LedgerError
from .registry import RegistryError, read_register_text, registry_from_text

PROJECT_FILE = ".kpd-returns.toml"
# The record is one line; anything bigger is not ours. It is read and written only as a small regular
# file: a symbolic link, a pipe or a device there is never followed, waited on or read (issue 19 item 11).
PROJECT_FILE_LIMIT = 64 * KB


class ProjectFileError(LedgerError):
    """The project file is there but is not a small regular file kpd-returns wrote (one sentence)."""


def project_file() -> Path:
    return Path(os.environ.get("KPD_RETURNS_PROJECT_FILE") or PROJECT_FILE)


def recorded_ledger() -> Path | None:
    """The ledger recorded for this working folder, or None (no record, or a record that cannot be read
    as text). ProjectFileError when the name is taken by something other than a small regular file."""
    path = project_file()
    try:
        doc = parse_toml(read_small_text(path, PROJECT_FILE_LIMIT, follow_links=False), max_depth=4)
    except SmallFileError as exc:
        if "TOML" in str(exc) or "UTF-8" in str(exc):  # a record damaged by hand: as if there were none
            return None
        raise ProjectFileError(f"The project file {path} {exc} Remove it, or give the ledger with --db.") from None
    except OSError:
        return None
    ledger = doc.get("ledger")
    return Path(ledger) if isinstance(ledger, str) and ledger else None


def ledger_for(db: Path | None, err: TextIO | None = None) -> Path:
    """``--db`` if given, else the recorded ledger (saying so on ``err``), else ./kpd-ledger.sqlite."""
    if db:
        return Path(db)
    recorded = recorded_ledger()
    if recorded is not None:
        if err is not None:
            print(f"Using the ledger {recorded} (the last one used in this folder, recorded in {project_file()}).",
                  file=err)
        return recorded
    return Path(DEFAULT_LEDGER)


def remember_ledger(path: Path) -> None:
    """Record ``path`` as this folder's ledger; a folder we cannot write to just keeps no record.
    The record replaces whatever has its name (a symbolic link is replaced, its target left alone)."""
    target = Path(path)
    try:
        shown = target.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        shown = str(target.resolve())
    text = ("# Written by kpd-returns: the ledger that status, ingest and pack use when given no --db.\n"
            f"ledger = {_toml_string(shown)}\n")
    try:
        write_small(project_file(), text.encode("utf-8"))
    except OSError:
        pass


def _toml_string(text: str) -> str:
    return '"' + "".join(c if c not in '"\\' and c.isprintable() else f"\\u{ord(c):04x}" for c in text) + '"'


def register_for(ledger_path: Path, given: Path | None, err: TextIO | None = None):
    """The providers register to use, and its file name: the one given (stored in the ledger), else the
    one the ledger stored last (said on ``err``), else (None, None)."""
    if given is not None:
        text = read_register_text(given)  # a small regular file only (intake.registry)
        register = registry_from_text(text, Path(given).name)  # checked before it is stored
        with Ledger(ledger_path) as ledger:
            ledger.store_register(Path(given).name, text)
        return register, Path(given).name
    if not Path(ledger_path).exists():
        return None, None
    with Ledger(ledger_path) as ledger:
        stored = ledger.latest_register()
    if stored is None:
        return None, None
    if err is not None:
        print(f"Using the providers register {stored.name} stored in the ledger on {stored.stored_at[:10]} "
              f"(SHA-256 {stored.sha256[:12]}); give --providers to use another.", file=err)
    try:
        return registry_from_text(stored.content, stored.name), stored.name
    except RegistryError as exc:
        raise RegistryError(f"The providers register stored in the ledger cannot be used: {exc}") from None
