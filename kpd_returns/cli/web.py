"""`kpd-returns web`: write the browser page's static site, or serve it on 127.0.0.1 for a try-out.

Exit codes: 0 the site was written (or the server was stopped with Ctrl+C); 2 it could not be
built (offline with an empty cache, a pinned file whose hash differs, a folder that cannot be
written) or served (the port is taken): one plain sentence on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..render.web_assets import WebBuildError
from ..render.web_site import build_site, server
from ..spec.constants import EXIT_UNREADABLE, EXIT_VALID


def run(out: Path, *, serve: bool = False, port: int = 8000, echo: TextIO | None = None,
        err: TextIO | None = None) -> int:
    echo = echo if echo is not None else sys.stdout
    err = err if err is not None else sys.stderr
    out = Path(out)
    if serve and (out / "index.html").is_file() and (out / "manifest.json").is_file():
        pass  # serve the site already built there
    else:
        try:
            manifest = build_site(out)
        except WebBuildError as exc:
            print(str(exc), file=err)
            return EXIT_UNREADABLE
        except OSError as exc:
            print(f"Cannot build the page: {out} cannot be written ({exc.strerror or exc}).", file=err)
            return EXIT_UNREADABLE
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"Wrote the page to {out} ({size / 1e6:.1f} MB: kpd-returns {manifest['version']}, Pyodide "
              f"{manifest['pyodide']}, {len(manifest['wheels']) + 1} wheels). Host the folder on any web server, "
              f"or try it with: kpd-returns web --out {out} --serve", file=echo)
    if not serve:
        return EXIT_VALID
    try:
        httpd = server(out, port)
    except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0-65535
        print(f"Cannot serve the page on 127.0.0.1:{port} ({exc.strerror or exc}): choose another --port.", file=err)
        return EXIT_UNREADABLE
    print(f"Serving {out} at http://127.0.0.1:{httpd.server_address[1]}/ (press Ctrl+C to stop).", file=echo, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return EXIT_VALID
