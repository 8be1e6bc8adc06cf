"""The browser step of the benchmark (`run.py --browser`, issue 23): the page `kpd-returns web` writes,
in headless Chromium on this machine.

* ``site_mb``: the built site's size (target: at most 40 MB);
* ``first_report_seconds``: from opening the page in a fresh browser context (an empty cache: a
  provider's first visit) with one return chosen at once, to its report on screen (target 20 s);
* ``seconds`` / ``files``: the further returns, chosen together once the first is shown, to their
  last report: ``ms_per_file`` is the time per further return (target 2 s);
* ``requests_after_load``: requests made after the checker had loaded (must be 0).
"""

from __future__ import annotations

import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
TARGETS = {"browser_first_report_seconds": ("first_report_seconds", "<= 20"),
           "browser_seconds_per_further_return": ("seconds_per_return", "<= 2"),
           "browser_site_mb": ("site_mb", "<= 40")}


def measure(files: list[str], work: Path, further: int = 10) -> dict:
    from playwright.sync_api import expect, sync_playwright

    from kpd_returns.render.web_site import build_site, serve_in_thread

    t0 = time.perf_counter()
    site = work / "site"
    build_site(site)
    build_seconds = time.perf_counter() - t0
    site_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
    httpd, url = serve_in_thread(site)
    rest = files[1:1 + further]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"])
            context = browser.new_context()
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url, wait_until="load")
            page.set_input_files("#files", [files[0]])  # queued until the checker is ready
            expect(page.locator('section.file-report[data-state="done"]')).to_have_count(1, timeout=300_000)
            first = time.perf_counter() - start
            requests: list[str] = []
            context.on("request", lambda r: requests.append(r.url))
            start = time.perf_counter()
            if rest:
                page.set_input_files("#files", rest)
                expect(page.locator('section.file-report[data-state="waiting"]')).to_have_count(0, timeout=600_000)
            seconds = time.perf_counter() - start
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return {"status": "ok", "seconds": seconds, "files": len(rest), "site_mb": round(site_mb, 1),
            "build_seconds": build_seconds, "first_report_seconds": first,
            "seconds_per_return": seconds / len(rest) if rest else None, "requests_after_load": len(requests)}


def targets(step: dict | None) -> dict[str, dict]:
    """The browser step's three targets, in the shape of run.py's ratios."""
    out = {}
    for name, (key, target) in TARGETS.items():
        value = step.get(key) if step and step.get("status") == "ok" else None
        out[name] = {"value": value, "target": target, "meaning": f"browser page: {key.replace('_', ' ')}"}
    return out
