"""Reading and writing the small text files kpd-returns keeps or is given (spec files, the deadline
calendar, a providers register, the project file): only as bounded, regular files.

A file name can point at anything: a symbolic link to another file, a FIFO that never ends (a read
waits for ever), ``/dev/zero`` (a read never ends and fills the memory), or a file of gigabytes. So:

* ``read_small`` opens without waiting (``O_NONBLOCK``, so a FIFO cannot hang the open), checks
  with ``fstat`` on the open file that it is a regular file, and reads at most ``limit`` bytes (one
  more tells a file that is too big). With ``follow_links=False`` (the project file) a symbolic
  link is refused too (``O_NOFOLLOW``).
* ``write_small`` writes a whole file to a temporary file in the same folder and renames it over
  the name (``os.replace``): a reader never sees half a file, and a symbolic link at that name is
  replaced by the file, never followed to overwrite its target.
* ``parse_toml`` turns TOML text into data, refusing nesting deeper than ``max_depth`` (the
  parser would otherwise end in a RecursionError, and a deep structure costs every later step).

Every problem is a ``SmallFileError``: one plain sentence without the file's name, which the
caller puts after the name (``"kpd.toml: " + str(exc)``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import tomllib
from pathlib import Path
from typing import Any

KB, MB = 1024, 1024 * 1024
TOML_MAX_DEPTH = 32  # the packaged specs nest at most 6 deep
# A spec, the deadline calendar, the KPI targets or the samples' world: the largest packaged one is
# 52 KB. 1 MB keeps the worst spec's load near 100 MB of memory and a few seconds (a 60 MB spec took 612 MB).
SPEC_FILE_LIMIT = 1 * MB


class SmallFileError(Exception):
    """A file that cannot be used: the sentence says why (the caller names the file)."""


def read_small(path: str | Path, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; SmallFileError otherwise.
    An OSError (missing file, no permission) is raised as it is: the caller says it its own way."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if not follow_links and os.path.islink(path):  # O_NOFOLLOW's ELOOP
            raise SmallFileError("is a symbolic link: kpd-returns reads it only as an ordinary file.") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SmallFileError(f"is not an ordinary file (it is {_kind(info.st_mode)}).")
        if info.st_size > limit:
            raise SmallFileError(f"is too big ({_size(info.st_size)}; the most kpd-returns reads is {_size(limit)}).")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 * MB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while being read
            raise SmallFileError(f"is too big (the most kpd-returns reads is {_size(limit)}).")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_small_text(path: str | Path, limit: int, *, follow_links: bool = True, bom: bool = False) -> str:
    """``read_small`` decoded as UTF-8 (``bom``: a leading byte-order mark is dropped)."""
    raw = read_small(path, limit, follow_links=follow_links)
    try:
        return raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        raise SmallFileError(f"is not UTF-8 text (byte {exc.start + 1} cannot be read as UTF-8): save it as "
                             "UTF-8.") from None


def load_toml_file(path: str | Path, limit: int = SPEC_FILE_LIMIT, *, max_depth: int = TOML_MAX_DEPTH) -> dict[str, Any]:
    """A small regular UTF-8 TOML file as data (``read_small`` and ``parse_toml``)."""
    return parse_toml(read_small_text(path, limit), max_depth=max_depth)


def write_small(path: str | Path, data: bytes, *, into_devices: bool = False) -> None:
    """Write ``data`` as the whole of ``path``: a temporary file in the same folder, then a rename.
    ``into_devices``: a name that is (or links to) a device is written into, not replaced (an output
    the user pointed at /dev/stdout or /dev/full); otherwise whatever has the name is replaced."""
    target = Path(path)
    if into_devices and _is_device(target):
        with open(target, "wb") as fh:
            fh.write(data)
        return
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
        os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary write would leave it (mkstemp makes it private)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename in (None, tmp):  # a full disk: name the file, not the temporary
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        raise


def parse_toml(text: str, *, max_depth: int = TOML_MAX_DEPTH) -> dict[str, Any]:
    """TOML text as data; SmallFileError for text that is not TOML or nests deeper than ``max_depth``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SmallFileError(f"is not valid TOML ({exc}).") from None
    except RecursionError:
        raise SmallFileError(f"nests tables or lists too deeply (the most is {max_depth} levels).") from None
    if depth(data) > max_depth:
        raise SmallFileError(f"nests tables or lists too deeply (the most is {max_depth} levels).")
    return data


def depth(value: Any) -> int:
    """How deeply tables and lists nest in ``value`` (a plain value is 0), worked out without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _is_device(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read a block at a time (OSError as it comes)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def not_ordinary(path: str | Path) -> str | None:
    """Why ``path`` (followed through links) is no file to read: "it is not an ordinary file (it is a
    pipe)" for a pipe, a device or a socket, which an open would wait on or read without end; None for
    an ordinary file, a folder, or a path that cannot be looked at (the caller's own reading says why)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return f"it is not an ordinary file (it is {_kind(mode)})"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{max(1, round(n / KB))} KB"
