"""The WHP sections of the HTML packs in headless Chromium: zero axe-core WCAG 2.1 A/AA violations, no request
but the file itself, and an A4 print layout that does not overflow (the checks of test_html_browser)."""

from __future__ import annotations

import pytest
from chromium_helper import launched_browser
from cli_run import project_file, run_cli
from test_html_browser import test_no_requests_no_console_errors_and_no_axe_violations as passes_axe
from test_html_browser import test_print_layout_fits_a4_width as fits_a4
from test_whp_pack import REGISTER, write_inbox

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


@pytest.fixture(scope="module")
def whp_packs(tmp_path_factory):
    work = tmp_path_factory.mktemp("whp-browser")
    write_inbox(work / "inbox")
    (work / "whp.toml").write_text(REGISTER, encoding="utf-8")
    proc = run_cli("consolidate", "inbox", "--out", "out", "--whp", "whp.toml", "--as-of", "2026-11-20",
                   "--period", "2026-10", "--workers", "1", cwd=work, **project_file(work))
    assert proc.returncode == 0, proc.stderr
    paths = sorted((work / "out" / "packs").glob("*.html"))
    assert [p.name for p in paths] == ["pack-2026-10-national.html", "pack-2026-10-whp-cpa-01.html"]
    assert all('id="whp"' in p.read_text(encoding="utf-8") for p in paths)
    return paths


def test_whp_packs_pass_axe_and_fit_a4(browser, whp_packs):
    passes_axe(browser, whp_packs)
    fits_a4(browser, whp_packs)
