"""Regenerate docs/pack-screenshot.png: the demo's national HTML pack in headless Chromium.

    python tests/tools/pack_screenshot.py [OUT.png]

Runs `kpd-returns demo` into a temporary folder, opens its packs/pack-<month>-national.html in
/usr/bin/chromium through Playwright with a fixed viewport (1280 x 1600, scale 1, no animation) and
saves the top of the page, so the README shows what the demo writes (issue 19 item 20: the old
picture showed another set of returns). The same inputs and browser give the same picture.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 1600}


def national_pack(folder: Path) -> Path:
    from typer.testing import CliRunner

    from kpd_returns.cli.main import app

    result = CliRunner().invoke(app, ["demo", "--out", str(folder), "--workers", "1"])
    if result.exit_code != 0:
        raise SystemExit(f"kpd-returns demo failed:\n{result.output}")
    (path,) = sorted((folder / "packs").glob("pack-*-national.html"))
    return path


def screenshot(html: Path, out: Path) -> Path:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--font-render-hinting=none", "--disable-lcd-text"])
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1, reduced_motion="reduce")
        page.goto(html.as_uri())
        page.screenshot(path=str(out), animations="disabled", caret="hide")
        browser.close()
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "pack-screenshot.png"
    with tempfile.TemporaryDirectory() as tmp:
        screenshot(national_pack(Path(tmp) / "demo"), out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
