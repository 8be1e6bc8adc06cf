"""The HTML pack (kpd_returns.packs.pack_html) and its SVG charts (kpd_returns.packs.svg_charts), without a browser:
escaping of provider text, no external resource, accessible structure, print, determinism."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from test_pack_fixtures import AS_OF, PERIOD, build_rows

from kpd_returns.packs.pack_data import build_packs
from kpd_returns.packs.pack_html import css_string, render
from kpd_returns.packs.svg_charts import Series, line_chart, y_range


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict]]:
    p = Tags()
    p.feed(html)
    return p.tags


@pytest.fixture(scope="module")
def pages():
    packs = build_packs(period=PERIOD, as_of=AS_OF, marking='OFFICIAL-SENSITIVE "quoted"; }', **build_rows())
    return {p.slug: render(p) for p in packs}


def test_hostile_provider_text_is_escaped(pages):
    html = pages["script-alert-1-script-co"]
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;.xlsx" in html
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)" in html
    assert "&lt;b&gt;needs support&lt;/b&gt;" in pages["acme-health-ltd"]  # a provider's segment title
    assert "onerror=" not in "".join(f"{k}=" for _, a in parse(html) for k in a)


def test_no_external_resource_or_script(pages):
    for html in pages.values():
        tags = parse(html)
        assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object", "embed", "img")]
        refs = [a.get(k) or "" for _, a in tags for k in ("src", "href", "xlink:href", "action") if k in a]
        assert refs and all(r.startswith("#") for r in refs)
        assert not re.search(r"url\(|@import", html)
        assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_accessible_structure(pages):
    for slug, html in pages.items():
        tags = parse(html)
        names = [t for t, _ in tags]
        assert tags[0] == ("html", {"lang": "en"})
        first_link = next(a for t, a in tags if t == "a")
        assert first_link == {"class": "skip-link", "href": "#main-content"}
        assert all(t in names for t in ("header", "nav", "main", "footer"))
        assert ("main", {"id": "main-content", "tabindex": "-1"}) in tags
        assert names.count("table") == names.count("caption")
        assert all(a.get("scope") in ("col", "row") for t, a in tags if t == "th")
        svgs = [a for t, a in tags if t == "svg"]
        assert svgs and all(a["role"] == "img" for a in svgs)
        for a in svgs:
            title_id, desc_id = a["aria-labelledby"].split()
            assert f'<title id="{title_id}">' in html and f'<desc id="{desc_id}">' in html
        ids = [a["id"] for _, a in tags if "id" in a]
        assert len(ids) == len(set(ids)), slug
        assert all(f"#{a['href'][1:]}" == a["href"] and a["href"][1:] in ids for t, a in tags if t == "a")
        assert html.count("Figures for this chart") == len(svgs)  # each chart has its data table


def test_marking_top_and_bottom_and_a4_print(pages):
    html = pages["acme-health-ltd"]
    assert html.count('<p class="marking">OFFICIAL-SENSITIVE &#34;quoted&#34;; }</p>') == 2
    assert "@page { size: A4;" in html and "@media print" in html
    assert css_string('A "b"; }') == '"A \\000022b\\000022\\00003b \\00007d"'
    marking = css_string('OFFICIAL-SENSITIVE "quoted"; }')
    assert f"@top-center {{ content: {marking};" in html and f"@bottom-center {{ content: {marking};" in html


def test_tiers_and_changes_in_words_not_colour_alone():
    pack = next(p for p in build_packs(period=PERIOD, as_of=AS_OF, **build_rows(missing=None))
                if p.slug == "acme-health-ltd")
    html = render(pack)
    assert '<span class="tag tier-4">4 - Good</span>' in html
    assert "▲ up 2.5 points" in html and "▼ down 10.0 points" in html
    assert "Incomplete: May 2025 missing" in html  # cumulative includes the rejected month


def test_output_is_deterministic_and_dated_by_as_of_only():
    a = [render(p) for p in build_packs(period=PERIOD, as_of=AS_OF, **build_rows())]
    b = [render(p) for p in build_packs(period=PERIOD, as_of=AS_OF, **build_rows())]
    assert a == b
    assert all(re.findall(r"20\d\d-\d\d-\d\d", h) for h in a)
    assert "2026-11-20" in a[0]


def test_svg_gaps_markers_and_zoomed_axis():
    months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    svg = line_chart("c1", months, [Series("In-month %", [90.0, None, 95.0, 96.0, None]),
                                     Series("Target 95%", [95.0] * 5, target=True)], title="T <x>", desc="D & d")
    assert svg.startswith('<svg class="chart" role="img" aria-labelledby="c1-title c1-desc"')
    assert "<title id=\"c1-title\">T &lt;x&gt;</title>" in svg
    data_path = re.findall(r'<path d="([^"]+)" fill="none" stroke="#1d70b8"', svg)[0]
    assert data_path.count("M") == 2 and data_path.count("L") == 1  # a lone point, a gap, then a segment
    assert svg.count("<circle") == 3 + 1  # three points and the legend marker
    assert "The vertical axis starts at 80%, not zero." in svg
    assert y_range([20.0, 99.0], True) == (0.0, 100.0, 20.0) and y_range([3.2, 7.9], False)[1] >= 7.9
    assert line_chart("c1", months, [Series("a", [1.0] * 5)], title="t", desc="d", percent=False) == \
        line_chart("c1", months, [Series("a", [1.0] * 5)], title="t", desc="d", percent=False)
