"""The planner as a person uses it: served by Voilà, driven in headless Chromium.

Chromium is Debian's (``make sysdeps`` installs it with the CJK fonts); Playwright from PyPI
drives that executable (no browser is downloaded). The test serves a copy of
``notebooks/planner.ipynb`` whose ``save_dir`` parameter points into a temporary directory
(papermill ``prepare_only``), so nothing is written to ``parameters/policies/``. It moves a
ratio slider with the keyboard, checks that the quota table and the feasibility verdict
change, saves the plan, loads the YAML with ``load_policy``, checks that a second save is
refused until "overwrite" is ticked, and leaves a screenshot in ``outputs/planner-e2e.png``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import papermill
import pytest

from dsr_analysis.paths import OUTPUTS_DIR, PROJECT_ROOT
from dsr_analysis.policy import load_policy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NOTEBOOK = PROJECT_ROOT / "notebooks" / "planner.ipynb"
SCREENSHOT = OUTPUTS_DIR / "planner-e2e.png"
RULE = "county-general-other"   # the 3 % rule for general objects off the positive list (R4)
STEPS = 4                       # arrow-key presses on its slider (step 1 %)


def _chromium() -> Path:
    """Debian's Chromium; installed here (as ``make sysdeps`` does) when missing and root."""
    if not CHROMIUM.exists() and os.geteuid() == 0:
        subprocess.run(["make", "-C", str(PROJECT_ROOT), "sysdeps"], check=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip("BROWSER TEST NOT RUN: /usr/bin/chromium is missing and this user is not "
                    "root; run `sudo make sysdeps` (Debian chromium, fonts-noto-cjk)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def voila(tmp_path: Path):
    """Voilà serving the planner with save_dir = tmp_path/plans; yields (url, save_dir)."""
    save_dir = tmp_path / "plans"
    served = tmp_path / "planner.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(served), parameters={"save_dir": str(save_dir)},
                               prepare_only=True, kernel_name="python3", progress_bar=False)
    port = _free_port()
    voila_bin = Path(sys.executable).with_name("voila")
    log = (tmp_path / "voila.log").open("wb")
    proc = subprocess.Popen(
        [str(voila_bin), str(served), f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1",
         "--show_tracebacks=True"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError("voila exited:\n" + (tmp_path / "voila.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("voila did not answer within 60 s:\n"
                                         + (tmp_path / "voila.log").read_text()) from None
                time.sleep(0.3)
        yield url, save_dir
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def test_planner_in_browser(voila, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    chromium = _chromium()
    url, save_dir = voila
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2600})
            page.goto(url, timeout=60_000)
            quota = page.locator(".dsr-quota-table table")
            verdict = page.locator(".dsr-verdict")
            expect(quota).to_be_visible(timeout=60_000)
            expect(verdict).to_contain_text("可行")
            quota_before = quota.inner_text()
            verdict_before = verdict.inner_text()
            assert "不可行" not in verdict_before, verdict_before

            slider = page.locator(f".dsr-ratio-{RULE}")
            readout = slider.locator(".widget-readout")
            start = float(readout.inner_text().strip().rstrip("%")) / 100
            slider.locator(".noUi-handle").focus()
            for _ in range(STEPS):
                page.keyboard.press("ArrowRight")
            expected = round(start + STEPS * 0.01, 2)
            expect(readout).to_have_text(f"{expected:.0%}", timeout=15_000)
            expect(quota).not_to_have_text(quota_before, timeout=15_000)
            expect(verdict).to_contain_text("不可行", timeout=15_000)

            name = page.locator(".dsr-plan-name input")
            name.fill("xiongan-2024")
            name.press("Enter")
            page.locator("button.dsr-save").click()
            message = page.locator(".dsr-save-message")
            expect(message).to_contain_text("已保存", timeout=15_000)
            saved = save_dir / "xiongan-2024.yaml"
            plan = load_policy(saved)
            ratios = {r.id: r.ratio for r in plan.quotas.rules}
            assert ratios[RULE] == pytest.approx(expected)
            assert (plan.id, plan.year) == ("xiongan-2024", 2024)
            digest = hashlib.sha256(saved.read_bytes()).hexdigest()

            # A second save under the same name is refused until "overwrite" is ticked.
            page.locator("button.dsr-save").click()
            expect(message).to_contain_text("已存在", timeout=15_000)
            assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
            page.locator(".dsr-overwrite input").check()
            page.locator(".dsr-internal-joint .noUi-handle").focus()
            page.keyboard.press("ArrowRight")
            expect(page.locator(".dsr-internal-joint .widget-readout")).to_have_text("35%")
            page.locator("button.dsr-save").click()
            expect(message).to_contain_text("已保存", timeout=15_000)
            assert load_policy(saved).joint.internal_min_share == pytest.approx(0.35)

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
