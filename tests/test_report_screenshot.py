"""A rendered report opens in a real browser with Chinese text legible.

Debian's Chromium (``make sysdeps`` installs it with ``fonts-noto-cjk``), driven headless by
Playwright's Python package (never ``playwright install``). The test renders the evaluation
report (Chinese text, tables and a matplotlib figure), loads the HTML, and checks through the
DevTools protocol which platform font Chromium actually used for the Chinese heading - a CJK
font, not a fallback drawing empty boxes - that Chinese glyphs have a non-zero width, and that
the figure image decoded. The screenshot is saved as ``outputs/screenshots/evaluation-2023Q1.png``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dsr_analysis.paths import OUTPUTS_DIR, PROJECT_ROOT
from dsr_analysis.render import render

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> Path:
    """Debian's Chromium; installed (as ``make sysdeps`` does) when missing and root."""
    if not CHROMIUM.exists() and os.geteuid() == 0:
        subprocess.run(["make", "-C", str(PROJECT_ROOT), "sysdeps"], check=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip("BROWSER TEST NOT RUN: /usr/bin/chromium is missing and this user is not "
                    "root; run `sudo make sysdeps` (Debian chromium, fonts-noto-cjk)")
    return CHROMIUM


def test_evaluation_report_renders_chinese_in_chromium(tmp_path):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    summary = render("2023Q1", ["xiongan"], ["evaluation"], tmp_path, workers=1)
    page_path = summary.rendered[0].html
    shot = OUTPUTS_DIR / "screenshots" / "evaluation-2023Q1.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(shot), full_page=True)
            # Platform fonts Chromium used to draw the Chinese heading.
            cdp = page.context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
            heading = page.locator("h1.dsr-title", has_text="考核评估情况的通报").first
            assert heading.count() == 1
            node = cdp.send("DOM.querySelector", {"nodeId": root,
                                                  "selector": "h1.dsr-title"})["nodeId"]
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            cjk = [f for f in fonts if "CJK" in f["familyName"] or "Han" in f["familyName"]]
            assert cjk, f"no CJK font drew the heading: {fonts}"
            assert sum(f["glyphCount"] for f in cjk) >= 8
            # Chinese glyphs take space: each character about one em wide, like a real glyph.
            widths = page.evaluate("""() => {
                const span = document.createElement('span');
                span.style.fontSize = '20px';
                span.textContent = '考核评估通报';
                document.body.appendChild(span);
                const w = span.getBoundingClientRect().width;
                span.remove();
                return w;
            }""")
            assert 6 * 20 * 0.8 <= widths <= 6 * 20 * 1.2
            # The matplotlib figure is an image that decoded.
            sizes = page.evaluate("() => Array.from(document.images).map(i => i.naturalWidth)")
            assert sizes and all(w > 300 for w in sizes)
            text = page.inner_text("body")
            assert "各项指标完成情况" in text and "雄县" in text
        finally:
            browser.close()
    assert shot.stat().st_size > 50_000
