"""The browser page (`kpd-returns web`, issue 23) in real headless Chromium through Playwright: every
committed sample and mistake gives, through the page, the report `kpd-returns validate --format json`
gives (the same verdicts, codes, cells and messages, and a byte-identical JSON download); the hostile
files end in the command line's sentence and the page stays usable; no request leaves after the
checker has loaded; axe finds 0 WCAG 2.1 A/AA violations.

The site is built once for the module (`kpd-returns web --out`, which needs the network or a filled
cache the first time) and served from 127.0.0.1 in a thread.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from chromium_helper import launched_browser, missing_system

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AS_OF = "2026-11-20"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SAMPLES = sorted((ROOT / "samples" / "returns").glob("*.xlsx")) + sorted((ROOT / "samples" / "mistakes").glob("*.xlsx"))

# The JSON download is compared byte for byte for a valid return, one with errors and one that cannot be used.
JSON_DOWNLOADS = ("kpd-northbridge-employment-ltd-cpa-07-2026-27-q2.xlsx", "mistake-personal-data.xlsx",
                  "mistake-wrong-version.xlsx")

pytestmark = pytest.mark.system


_missing = missing_system


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("web") / "site"
    run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "web", "--out", str(out)], capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        _missing(f"the page could not be built: {run.stderr.strip()}")
    return out


@pytest.fixture(scope="module")
def served(site):
    from kpd_returns.render.web_site import serve_in_thread

    httpd, url = serve_in_thread(site)
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


class Page:
    """The page, loaded and ready, recording every request and console error after that."""

    def __init__(self, browser, url: str, **context):
        self.context = browser.new_context(accept_downloads=True, **context)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        start = time.perf_counter()
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector("body[data-ready=true]", timeout=180_000)
        self.ready_seconds = time.perf_counter() - start
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.fill("#as-of", AS_OF)
        self.checked = 0

    def check(self, paths: list[Path]) -> list:
        """Choose the files; wait for their reports; the section of each, in order."""
        from playwright.sync_api import expect

        self.page.set_input_files("#files", [str(p) for p in paths])
        sections = self.page.locator("section.file-report")
        expect(sections).to_have_count(self.checked + len(paths))
        expect(self.page.locator('section.file-report[data-state="waiting"]')).to_have_count(0, timeout=300_000)
        out = [sections.nth(i) for i in range(self.checked, self.checked + len(paths))]
        self.checked += len(paths)
        return out

    def close(self) -> None:
        self.context.close()


def shown(section) -> dict:
    """What a section shows: the file's name, verdict and (code, cell, message) of each finding."""
    rows = section.locator("tr[data-code]")
    return {
        "name": section.locator("h2").inner_text(),
        "verdict": section.locator("[data-verdict]").get_attribute("data-verdict"),
        "findings": [(rows.nth(i).get_attribute("data-code"), rows.nth(i).get_attribute("data-cell") or None,
                      rows.nth(i).locator(".message").inner_text()) for i in range(rows.count())],
    }


def by_sheet_order(file: dict) -> list[tuple]:
    """The command line's findings in the page's order: grouped by sheet, in order of first appearance."""
    sheets: dict = {}
    for f in file["findings"]:
        sheets.setdefault(f["sheet"] or "", []).append((f["code"], f["cell"], f["message"]))
    return [row for rows in sheets.values() for row in rows]


def cli_reports(paths: list[Path], *options: str) -> dict[str, tuple[dict, str]]:
    """name -> (file report, the JSON one `validate` writes for that file alone), run where the file is."""
    out = {}
    for p in paths:
        run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", "--format", "json", "--as-of",
                              AS_OF, *options, p.name],
                             capture_output=True, text=True, timeout=300, cwd=p.parent)
        assert run.returncode in (0, 1, 2), run.stderr
        out[p.name] = (json.loads(run.stdout)["files"][0], run.stdout)
    return out


def test_every_sample_and_mistake_gives_the_command_lines_report_and_nothing_is_sent(browser, served, tmp_path):
    expected = cli_reports(SAMPLES)
    page = Page(browser, served)
    try:
        start = time.perf_counter()
        sections = page.check(SAMPLES)
        per_file = (time.perf_counter() - start) / len(SAMPLES)
        for path, section in zip(SAMPLES, sections):
            file, text = expected[path.name]
            got = shown(section)
            assert got["name"] == file["name"]
            assert got["verdict"] == file["verdict"], path.name
            assert got["findings"] == by_sheet_order(file), path.name
            if path.name in JSON_DOWNLOADS:  # Chromium stops a page's downloads after a burst of them: a few here
                with page.page.expect_download() as info:
                    section.get_by_text("Download the report (JSON)").click()
                assert Path(info.value.path()).read_text(encoding="utf-8") == text, path.name
                assert info.value.suggested_filename == path.stem + ".report.json"
        with page.page.expect_download() as info:
            sections[-1].get_by_text("Download the annotated copy").click()
        copy = tmp_path / "page.annotated.xlsx"
        info.value.save_as(copy)
        assert zipfile.ZipFile(copy).testzip() is None
        assert page.requests == [], f"requests after load: {page.requests}"
        assert page.errors == [], page.errors
        print(f"ready in {page.ready_seconds:.1f} s; {per_file:.2f} s a file")
    finally:
        page.close()


def test_the_annotated_copy_is_the_command_lines(browser, served, tmp_path):
    sample = ROOT / "samples" / "mistakes" / "mistake-negative-count.xlsx"
    subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "validate", "--as-of", AS_OF, "--annotate", str(tmp_path / "cli.xlsx"), sample.name],
                   capture_output=True, text=True, timeout=300, cwd=sample.parent)
    page = Page(browser, served)
    try:
        (section,) = page.check([sample])
        with page.page.expect_download() as info:
            section.get_by_text("Download the annotated copy").click()
        assert info.value.suggested_filename == "mistake-negative-count.annotated.xlsx"
        assert Path(info.value.path()).read_bytes() == (tmp_path / "cli.xlsx").read_bytes()
        assert page.requests == []
    finally:
        page.close()


def test_an_explained_query_and_another_region_as_on_the_command_line(browser, served, tmp_path):
    from test_checks_explanations import ODD, WHY, explain
    from test_checks_helpers import build, kpd_cells

    from kpd_returns.checks.validate import validate_file

    probe = validate_file(build("kpd", kpd_cells("Q1", **ODD)), name="probe.xlsx")
    ref = next(f.ref for f in probe.findings if f.code == "implausible-value")
    explained = tmp_path / "explained.xlsx"
    explained.write_bytes(build("kpd", kpd_cells("Q1", **ODD), edit=explain(("implausible-value", ref, WHY))))
    files = [explained, ROOT / "samples" / "mistakes" / "mistake-late.xlsx"]
    expected = cli_reports(files, "--region", "scotland")
    page = Page(browser, served)
    try:
        page.page.select_option("#region", "scotland")
        sections = page.check(files)
        for path, section in zip(files, sections):
            file, _ = expected[path.name]
            got = shown(section)
            assert (got["verdict"], got["findings"]) == (file["verdict"], by_sheet_order(file)), path.name
        assert f"Explained: {WHY}" in sections[0].inner_text()
        assert expected["mistake-late.xlsx"][0]["late_working_days"] > 0
        assert section.locator(".verdict").inner_text().endswith("(from the workbook's Date submitted)")
        assert page.requests == []
    finally:
        page.close()


def _hostile(folder: Path) -> list[Path]:
    """A zip bomb, a corrupt file, a workbook that is not a return, a 60 MB file and a 10 MB return."""
    import openpyxl
    from test_hostile_inputs import build

    bomb = build("zip-bomb", folder)
    corrupt = build("truncated", folder)
    other = folder / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B2"] = "Monthly budget", 12
    wb.save(other)
    big = folder / "big-return.xlsx"
    src = ROOT / "samples" / "returns" / "mmir-northbridge-employment-ltd-2026-09.xlsx"
    with zipfile.ZipFile(src) as s, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as d:
        for info in s.infolist():
            d.writestr(info, s.read(info.filename))
        d.writestr(zipfile.ZipInfo("xl/media/padding.bin"), random.Random(23).randbytes(10 << 20), zipfile.ZIP_STORED)
    assert big.stat().st_size > 10 << 20
    too_large = folder / "too-large.xlsx"  # over the reader's 50 MB cap: refused by its size, never read
    with too_large.open("wb") as fh:
        fh.truncate(60 << 20)
    return [bomb, corrupt, other, too_large, big]


def test_hostile_files_end_in_the_command_lines_sentence_and_the_page_stays_usable(browser, served, tmp_path):
    files = _hostile(tmp_path)
    expected = cli_reports(files)
    page = Page(browser, served)
    try:
        sections = page.check(files)
        for path, section in zip(files, sections):
            file, _ = expected[path.name]
            got = shown(section)
            assert (got["verdict"], got["findings"]) == (file["verdict"], by_sheet_order(file)), path.name
        assert [shown(s)["verdict"] for s in sections[:4]] == ["unreadable"] * 4
        assert shown(sections[3])["findings"][0][0] == "file-too-large"
        assert len(shown(sections[2])["findings"]) == 1  # one sentence, as on the command line
        (after,) = page.check([SAMPLES[0]])  # still usable
        assert shown(after)["verdict"] == cli_reports([SAMPLES[0]])[SAMPLES[0].name][0]["verdict"]
        assert page.requests == []
    finally:
        page.close()


def test_no_axe_violations_with_reports_shown(browser, served):
    from axe_playwright_python.sync_playwright import Axe

    # axe is injected as a script, which the page's own policy forbids: this page alone runs without it.
    page = Page(browser, served, bypass_csp=True)
    try:
        page.check([ROOT / "samples" / "mistakes" / "mistake-negative-count.xlsx",
                    ROOT / "samples" / "mistakes" / "mistake-late.xlsx"])
        results = Axe().run(page.page, options={"runOnly": {"type": "tag", "values": WCAG},
                                                "resultTypes": ["violations"]})
        assert results.response["violations"] == [], results.generate_report()
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "web-page.png"), full_page=True)
        if not (ROOT / "docs" / "web-page.png").exists():  # the README's picture, made once
            page.page.screenshot(path=str(ROOT / "docs" / "web-page.png"), full_page=True)
    finally:
        page.close()


def test_the_site_is_byte_identical_when_built_again_and_within_40_mb(site, tmp_path):
    again = tmp_path / "again"
    run = subprocess.run([sys.executable, "-m", "kpd_returns.cli.main", "web", "--out", str(again)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((site / f).read_bytes() == (again / f).read_bytes() for f in files)
    assert sum((site / f).stat().st_size for f in files) <= 40e6


def test_the_pages_policy_is_in_force(browser, served):
    """The Content-Security-Policy of the page is the one the build writes, and the browser enforces it:
    a request to another origin is refused before it is made."""
    from kpd_returns.render.web_site import CSP

    page = Page(browser, served)
    try:
        meta = page.page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert meta == CSP
        with pytest.raises(Exception, match="Failed to fetch"):
            page.page.evaluate("fetch('https://example.org/x')")
        assert any("violates the following Content Security Policy directive: \"connect-src 'self'\"" in e
                   for e in page.errors), page.errors
        assert not any("example.org" in u for u in page.requests)
    finally:
        page.close()
