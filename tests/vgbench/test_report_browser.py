"""The report in a real browser: headless Chromium opens it from disk (file://), a filter and a sort
are applied through the page's controls, the card count and order are checked, every thumbnail on
the page loads, nothing is requested outside the report folder and no console error is logged."""

from __future__ import annotations

import json

import pytest

from tests.vgbench.cdp import Browser, find_chromium
from tests.vgbench.conftest import CONFIG, SPLIT
from vgbench.report import build_report

pytest.importorskip("PIL")
pytest.importorskip("datasets")
pytest.importorskip("websocket", reason="websocket-client (test extra) drives Chromium")
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")

PAGE = 8
# scroll to each thumbnail in turn (they load lazily) and wait until it decodes; a missing or broken
# file rejects, a thumbnail that never loads times out
LOAD_ALL = """(async () => {
  const sizes = [];
  for (const img of document.querySelectorAll('.card img')) {
    img.scrollIntoView();
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout ' + img.src)), 20000));
    await Promise.race([img.decode(), timeout]);
    sizes.push([img.naturalWidth, img.naturalHeight]);
  }
  return sizes;
})()"""


def _score(side: dict) -> float:
    if side["iou"] is not None:
        return side["iou"]
    if side["biou"] is not None:
        return side["biou"]
    return 1.0 if "correct" in side["tags"] else 0.0


def _select(browser: Browser, element: str, value: str) -> None:
    browser.evaluate(
        f"(() => {{ const s = document.getElementById({json.dumps(element)}); s.value = {json.dumps(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )


def _state(browser: Browser) -> dict:
    return browser.evaluate(
        "({count: Number(document.getElementById('count').dataset.count),"
        " ids: [...document.querySelectorAll('.card')].map(c => c.dataset.id)})"
    )


@pytest.mark.parametrize("compare", [False, True], ids=["single", "compare"])
def test_report_in_headless_chromium(built, preds, tmp_path, compare):
    source, data = built
    out = tmp_path / "report"
    build_report(
        preds["largest-object"],
        data,
        out,
        CONFIG,
        SPLIT,
        images=source / "images",
        compare=preds["oracle-jitter"] if compare else None,
        resamples=20,
        page_size=PAGE,
        quiet=True,
    )
    text = (out / "data.js").read_text(encoding="utf-8")
    cards = json.loads(text[len("window.VGB_REPORT = ") :].rstrip().rstrip(";"))["cards"]
    n = len(cards)
    assert n > PAGE
    with Browser(CHROMIUM) as browser:
        browser.open((out / "index.html").as_uri())
        browser.wait_for("document.querySelectorAll('.card').length > 0")
        state = _state(browser)
        assert state["count"] == n
        assert state["ids"] == [c["id"] for c in cards[:PAGE]]

        # filter by an outcome: "missed target" of the first model
        _select(browser, "f-o", "missed")
        expected = [c for c in cards if "missed" in c["a"]["tags"]]
        assert expected, "the fixture must have missed targets"
        # then sort by IoU, worst first (stable in file order)
        _select(browser, "f-s", "iou_asc")
        expected.sort(key=lambda c: _score(c["a"]))
        state = _state(browser)
        assert state["count"] == len(expected)
        assert state["ids"] == [c["id"] for c in expected[:PAGE]]
        assert "o=missed" in browser.evaluate("location.hash")

        # a breakdown filter on top: only multi-target expressions
        _select(browser, "f-g", "target_type=multi")
        multi = [c for c in expected if c["g"]["target_type"] == "multi"]
        assert _state(browser)["count"] == len(multi)
        _select(browser, "f-g", "all")
        if compare:
            _select(browser, "f-q", "b_only")
            assert _state(browser)["count"] == sum(c["pair"] == "b_only" for c in expected)
            _select(browser, "f-q", "all")
        _select(browser, "f-o", "all")
        browser.evaluate("document.getElementById('next').click()")
        assert _state(browser)["ids"] == [
            c["id"] for c in sorted(cards, key=lambda c: _score(c["a"]))[PAGE : 2 * PAGE]
        ]

        # every thumbnail of the page loads (scrolled into view: they are lazy)
        sizes = browser.evaluate(LOAD_ALL)
        assert len(sizes) == PAGE * (2 if compare else 1)
        assert all(w > 0 and h > 0 and max(w, h) == 256 for w, h in sizes)
        assert browser.errors == []
        assert browser.requests
        assert all(u.startswith(("file://", "data:", "about:")) for u in browser.requests)
