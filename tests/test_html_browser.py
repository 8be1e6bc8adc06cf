"""The HTML packs in real headless Chromium (Debian /usr/bin/chromium) through Playwright:
no console errors, no request but the file itself, zero axe-core WCAG 2.1 A/AA violations,
the skip link first in keyboard order, and an A4 print layout that does not overflow.

Writes a screenshot of a provider pack to tests/artifacts/pack-screenshot.png (and to
docs/pack-screenshot.png for the README when that file is not there yet).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from chromium_helper import launched_browser
from test_pack_fixtures import AS_OF, PERIOD, ledger_from_rows

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    from kpd_returns.packs.build import write_packs

    tmp = tmp_path_factory.mktemp("browser")
    ledger = ledger_from_rows(tmp / "ledger.sqlite", missing=None)
    paths = write_packs(ledger, tmp / "out", PERIOD, formats=("html",), as_of=AS_OF)
    html = [p for p in paths if p.suffix == ".html"]
    assert len(html) == 4
    return html


def _open(browser, path: Path, **kw):
    page = browser.new_page(**kw)
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


def test_no_requests_no_console_errors_and_no_axe_violations(browser, packs):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for path in packs:
        page, requests, errors = _open(browser, path)
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
        violations = results.response["violations"]
        if violations:
            print(results.generate_report())
        assert violations == [], f"{path.name}: {results.generate_snapshot()}"
        assert requests == [path.as_uri()], f"{path.name} made requests: {requests}"
        assert errors == [], f"{path.name}: console errors {errors}"
        page.close()


def test_keyboard_skip_link_comes_first_and_moves_focus_to_main(browser, packs):
    page, _, _ = _open(browser, packs[0])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect(); return [r.top, r.height]; })()")
    assert box[0] >= 0 and box[1] > 0  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    page.keyboard.press("Tab")  # then on through the page's own links and regions
    assert page.evaluate("document.activeElement.tagName") in ("A", "DIV", "SUMMARY")
    page.close()


def test_print_layout_fits_a4_width(browser, packs):
    for path in packs:
        page, _, _ = _open(browser, path, viewport={"width": 703, "height": 1000})  # 186 mm: A4 less margins
        page.emulate_media(media="print")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path.name} is {overflow}px wider than an A4 page when printed"
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        page.close()


def test_screenshot_of_a_provider_pack(browser, packs):
    path = next(p for p in packs if "acme" in p.name)
    page, _, _ = _open(browser, path, viewport={"width": 1200, "height": 1900})
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "pack-screenshot.png"
    page.screenshot(path=str(shot))
    page.close()
    assert shot.stat().st_size > 20_000
    docs = ROOT / "docs" / "pack-screenshot.png"
    if not docs.exists():
        shutil.copyfile(shot, docs)


@pytest.fixture(scope="module")
def season_packs(tmp_path_factory):
    """Every HTML pack of the generated real season (kpd_returns/author/season.py), issue 12."""
    from kpd_returns.author import season
    from kpd_returns.packs.build import write_packs

    tmp = tmp_path_factory.mktemp("season-browser")
    ledger = season.build_ledger(tmp / "ledger.sqlite")
    paths = write_packs(ledger, tmp / "out", season.REPORT_MONTH, formats=("html",), as_of=season.AS_OF,
                        register=season.register(), whp=season.whp_register())
    return [p for p in paths if p.suffix == ".html"]


def test_season_packs_pass_axe_and_fit_a4(browser, season_packs):
    assert len(season_packs) == 12  # eleven providers (three with WHP contracts only) and the national overview
    test_no_requests_no_console_errors_and_no_axe_violations(browser, season_packs)
    test_print_layout_fits_a4_width(browser, season_packs)


def test_national_attention_list_is_on_the_first_screen(browser, season_packs):
    path = next(p for p in season_packs if p.name.endswith("-national.html"))
    page, _, _ = _open(browser, path, viewport={"width": 1280, "height": 900})
    top = page.evaluate("document.getElementById('attention').getBoundingClientRect().top")
    first_row = page.evaluate("document.querySelector('#attention ~ div table tbody tr').getBoundingClientRect().top")
    page.close()
    assert 0 < top < first_row < 900


def test_the_rule_catalogue_page_has_no_axe_violations(browser, tmp_path):
    """The catalogue a central team publishes to providers (kpd-returns rules --format html)."""
    from axe_playwright_python.sync_playwright import Axe

    from kpd_returns.author import rule_catalogue as rc
    from kpd_returns.spec.return_spec import load_all

    specs = load_all()
    path = tmp_path / "rules.html"
    path.write_text(rc.as_html(specs, [e for s in sorted(specs) for e in rc.entries(specs[s])]), encoding="utf-8")
    page, requests, errors = _open(browser, path)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
    assert results.response["violations"] == [], results.generate_snapshot()
    assert requests == [path.as_uri()] and errors == []
    page.close()
