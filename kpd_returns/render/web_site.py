"""`kpd-returns web`: the static site providers check their returns with, in their own browser.

The site is one page (templates/web/: the page, its script, the Web Worker that runs the
validator, and the packs' stylesheet), the Pyodide runtime, the wheels of web_lock.toml
(web_assets fetches and checks them) and a wheel of this very package, made here from the
installed code and data (so the page runs exactly the code of the command line). Any static
web server can host the folder; ``serve`` shows it on 127.0.0.1 for a try-out.

The same inputs give a byte-identical site: the package's wheel has fixed dates and order.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import tarfile
import threading
import zipfile
from pathlib import Path

from .. import __version__
from ..spec.resources import data_dir
from .web_assets import Lock, WebBuildError, fetch_all, load_lock

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # kpd_returns/
PAGE_FILES = ("index.html", "app.js", "worker.js", "web.css")
# The page's own policy (also a <meta> in index.html): nothing from any other origin, no inline
# script; Pyodide compiles WebAssembly, which needs 'wasm-unsafe-eval' (not 'unsafe-eval').
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; "
       "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'")
_FIXED_DATE = (2026, 1, 1, 0, 0, 0)


def build_site(out: Path, lock: Lock | None = None, cache: Path | None = None) -> dict:
    """Write the site to ``out`` (emptied of an earlier site first); return its manifest."""
    lock = lock or load_lock()
    files = fetch_all(lock, cache)  # first: offline with an empty cache stops before anything is written
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WebBuildError(f"Cannot build the page: {out} is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise WebBuildError(f"Cannot build the page: {out} already holds other files; choose an empty folder or "
                            f"the folder of an earlier site.")
    for sub in ("pyodide", "wheels"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "pyodide").mkdir(parents=True, exist_ok=True)
    (out / "wheels").mkdir(exist_ok=True)
    _unpack_pyodide(files[lock.pyodide.file], out / "pyodide", lock.keep)
    wheels = []
    for w in lock.wheels:
        shutil.copyfile(files[w.file], out / "wheels" / w.file)
        wheels.append(w.file)
    own = package_wheel(out / "wheels")
    page = data_dir("templates") / "web"
    for name in PAGE_FILES:
        text = (page / name).read_text(encoding="utf-8")
        (out / name).write_text(text.replace("{{CSP}}", CSP).replace("{{VERSION}}", __version__), encoding="utf-8")
    shutil.copyfile(data_dir("templates") / "pack.css", out / "pack.css")
    manifest = {"version": __version__, "pyodide": lock.pyodide.version, "wheels": wheels, "package": own}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _unpack_pyodide(tgz: Path, target: Path, keep: tuple[str, ...]) -> None:
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for name in keep:
                member = tar.getmember(f"package/{name}")
                src = tar.extractfile(member)
                if src is None:
                    raise KeyError(name)
                with src, (target / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise WebBuildError(f"Cannot build the page: {tgz.name} lacks a file the page needs ({exc}).") from None


def _package_files() -> list[tuple[str, Path]]:
    """(name in the wheel, file) for the package's code and its data (validators/, templates/)."""
    out = []
    for path in sorted(PACKAGE_DIR.rglob("*")):
        rel = path.relative_to(PACKAGE_DIR.parent)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc" or rel.parts[1] == "_data":
            continue
        out.append((rel.as_posix(), path))
    for name in ("validators", "templates"):
        root = data_dir(name)
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out.append((f"kpd_returns/_data/{name}/{path.relative_to(root).as_posix()}", path))
    return out


def package_wheel(folder: Path) -> str:
    """Write kpd-returns as a wheel (pure Python, fixed dates) to ``folder``; return its file name."""
    name = f"kpd_returns-{__version__}-py3-none-any.whl"
    info = f"kpd_returns-{__version__}.dist-info"
    meta = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: kpd-returns\nVersion: {__version__}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: kpd-returns web\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    entries = _package_files()
    record = "".join(f"{arc},,\n" for arc, _ in entries) + "".join(f"{arc},,\n" for arc in meta) + f"{info}/RECORD,,\n"
    meta[f"{info}/RECORD"] = record
    with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, path in entries:
            zf.writestr(zipfile.ZipInfo(arc, _FIXED_DATE), path.read_bytes(), zipfile.ZIP_DEFLATED)
        for arc, text in meta.items():
            zf.writestr(zipfile.ZipInfo(arc, _FIXED_DATE), text, zipfile.ZIP_DEFLATED)
    return name


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json",
                      ".whl": "application/zip", ".zip": "application/zip"}

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP + "; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the standard library's name
        pass


def server(site: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A server of ``site`` on 127.0.0.1 (port 0: any free port), not yet serving."""
    handler = functools.partial(_Handler, directory=str(site))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve_in_thread(site: Path, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``site`` from a daemon thread; (server, its address). Call server.shutdown() to stop."""
    httpd = server(site, port)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"
