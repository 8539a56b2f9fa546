"""The planner as a person uses it: served by Voilà, driven in headless Chromium at 1366 x 768.

Chromium is Debian's (``make sysdeps`` installs it with the CJK fonts); Playwright from PyPI
drives that executable (no browser is downloaded). The test serves a copy of
``notebooks/planner.ipynb`` whose ``save_dir`` parameter points into a temporary directory
(papermill ``prepare_only``), so nothing is written to ``parameters/policies/``. In one page:

1. the first screen of a 1366 x 768 laptop holds the verdict, the 2023 minimums, the
   inspector-days and the coverage per unit and category (element positions checked), and
   warns that the general objects the new-area level supervises directly are never drawn;
2. a draft is saved with a changed ratio and a changed inspector count (the YAML is loaded
   with ``load_policy``: its ``planner`` section holds the inspectors), the page is reset,
   and the comparison with the saved draft highlights the changed quota; the comparison is
   exported as XLSX and read back;
3. a ratio that makes the plan infeasible brings the suggestions; applying the ratio
   suggestion makes the plan feasible;
4. the draft is loaded back as the plan to start from: its ratio and inspector count return;
   a name whose year differs from the plan's year is refused; a second save needs the
   overwrite box;
5. the red 演示数据 banner shows while the embedded sample is in use; a folder that is not a
   register is refused with the register check's message; the bureau's own register (written
   with ``tests/bureau.py``) is loaded from the page and the banner vanishes.

Screenshots: ``outputs/planner-e2e-first-screen.png``, ``-comparison.png``,
``-suggestions.png``, ``-loaded.png``, ``-own-register.png``, and the whole page ``outputs/planner-e2e.png``.
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
from bureau import make_bureau_registers

from dsr_analysis.paths import OUTPUTS_DIR, PROJECT_ROOT
from dsr_analysis.policy import load_policy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NOTEBOOK = PROJECT_ROOT / "notebooks" / "planner.ipynb"
SCREENSHOT = OUTPUTS_DIR / "planner-e2e.png"
RULE = "county-general-other"   # the 3 % rule for general objects off the positive list (R4)
SCREEN = {"width": 1366, "height": 768}


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


def serve(notebook: Path, cwd: Path, *args: str):
    """Start Voilà on ``notebook`` on a free localhost port; returns (process, url, log)."""
    port = _free_port()
    voila_bin = Path(sys.executable).with_name("voila")
    log_path = cwd / f"voila-{port}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(voila_bin), str(notebook), f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1",
         "--show_tracebacks=True", *args],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError("voila exited:\n" + log_path.read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                stop(proc, log)
                raise AssertionError("voila did not answer within 60 s:\n"
                                     + log_path.read_text()) from None
            time.sleep(0.3)
    return proc, f"http://127.0.0.1:{port}/", log


def stop(proc: subprocess.Popen, log) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    log.close()


@pytest.fixture
def voila(tmp_path: Path, monkeypatch):
    """Voilà serving the planner with save_dir = tmp_path/plans (and a workspace of its own:
    no cached first screen); yields (url, save_dir)."""
    monkeypatch.setenv("DSR_WORKSPACE", str(tmp_path / "workspace"))
    save_dir = tmp_path / "plans"
    served = tmp_path / "planner.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(served), parameters={"save_dir": str(save_dir)},
                               prepare_only=True, kernel_name="python3", progress_bar=False)
    proc, url, log = serve(served, tmp_path)
    try:
        yield url, save_dir
    finally:
        stop(proc, log)


def _inside_first_screen(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    assert box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"], (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= SCREEN["width"], (selector, box)
    return box


def _press(page, selector: str, key: str, times: int) -> None:
    page.locator(f"{selector} .noUi-handle").focus()
    for _ in range(times):
        page.keyboard.press(key)


def test_planner_in_browser(voila, tmp_path: Path):
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright

    chromium = _chromium()
    url, save_dir = voila
    OUTPUTS_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport=SCREEN, accept_downloads=True)
            page.goto(url, timeout=90_000)
            verdict = page.locator(".dsr-verdict")
            expect(verdict).to_contain_text("方案可行", timeout=90_000)
            expect(page.locator(".dsr-controls")).to_be_visible(timeout=90_000)

            # 1. The first screen: verdict, minimums, inspector-days, coverage; the gap warning.
            verdict_box = _inside_first_screen(page, ".dsr-verdict")
            assert verdict_box["y"] < 120, verdict_box           # the verdict is at the top
            _inside_first_screen(page, ".dsr-minimums-summary table")
            _inside_first_screen(page, ".dsr-workload-summary table")
            _inside_first_screen(page, ".dsr-coverage-summary table")
            _inside_first_screen(page, ".dsr-gaps")
            minimums = page.locator(".dsr-minimums-summary")
            expect(minimums).to_contain_text("2023年方案最低要求（20/20 项达标）")
            expect(verdict).to_contain_text("预计违法企业比例")
            gaps = page.locator(".dsr-gaps")
            expect(gaps).to_contain_text("新区本级直管的一般监管对象")
            expect(gaps).to_contain_text("年度覆盖率 0.0%")
            zero = page.locator(".dsr-coverage-summary td.dsr-bad", has_text="0.0%")
            expect(zero).to_have_count(1)
            text = page.locator(".dsr-planner").first.inner_text()
            for developer_word in ("parameters/", "dsr_analysis", "Voilà", ".yaml", "R4"):
                assert developer_word not in text.split("说明（各项数字")[0], developer_word
            page.screenshot(path=str(OUTPUTS_DIR / "planner-e2e-first-screen.png"))

            # 2. Save a draft with a changed ratio and inspector count, reset, compare.
            slider = page.locator(f".dsr-ratio-{RULE}")
            readout = slider.locator(".widget-readout")
            _press(page, f".dsr-ratio-{RULE}", "ArrowRight", 1)
            expect(readout).to_have_text("4%", timeout=15_000)
            box = page.locator(".dsr-inspectors-xiongxian input")
            box.fill("36")
            box.press("Enter")
            staff = page.locator(".dsr-workload-summary tr", has_text="雄县").locator("td").nth(1)
            expect(staff).to_have_text("36", timeout=15_000)
            name = page.locator(".dsr-plan-name input")
            expect(name).to_have_value("xiongan-2024")
            page.locator("button.dsr-save").click()
            message = page.locator(".dsr-save-message")
            expect(message).to_contain_text("已保存", timeout=15_000)
            saved = save_dir / "xiongan-2024.yaml"
            plan = load_policy(saved)
            assert (plan.id, plan.year) == ("xiongan-2024", 2024)
            assert {r.id: r.ratio for r in plan.quotas.rules}[RULE] == pytest.approx(0.04)
            assert plan.planner.inspectors["xiongxian"] == 36
            assert plan.planner.based_on == "xiongan-2023"

            page.locator("button.dsr-reset").click()
            expect(readout).to_have_text("3%", timeout=15_000)
            expect(box).to_have_value("34")
            page.locator(".dsr-compare select").select_option(
                label="河北雄安新区2024年草稿（xiongan-2024）")
            comparison = page.locator(".dsr-comparison")
            expect(comparison).to_contain_text("方案对比：本方案 与 xiongan-2024", timeout=20_000)
            expect(verdict).to_contain_text("与“xiongan-2024”相比：每季度抽查数 3 处不同")
            # 雄县's 3 % quota is ceil(3 % x 767) = 24, the draft's 4 % is 31: highlighted.
            row = comparison.locator("tr", has_text="雄县").filter(has_text="除正面清单外").first
            expect(row.locator("td.dsr-changed", has_text="31")).to_have_count(1)
            expect(row.locator("td.dsr-changed", has_text="24")).to_have_count(1)
            unchanged = comparison.locator("tr", has_text="雄县").filter(has_text="重点监管对象").first
            expect(unchanged.locator("td.dsr-changed")).to_have_count(0)
            page.locator("button.dsr-export").click()
            link = page.locator("a.dsr-download")
            expect(link).to_be_visible(timeout=20_000)
            with page.expect_download() as download:
                link.click()
            xlsx = tmp_path / "comparison.xlsx"
            download.value.save_as(xlsx)
            sheet = load_workbook(xlsx)["抽查任务"]
            rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
            changed = [r for r in rows if r[0] == "雄县" and r[2] == "除正面清单外"][0]
            assert changed[5] == 31 and changed[7] == 24 and changed[8] == -7
            comparison.locator(".dsr-sec").first.evaluate("e => e.scrollIntoView()")
            page.screenshot(path=str(OUTPUTS_DIR / "planner-e2e-comparison.png"))
            page.locator(".dsr-compare select").select_option(label="不对比")
            expect(comparison).to_be_hidden(timeout=15_000)
            page.locator(".dsr-header").scroll_into_view_if_needed()

            # 3. Infeasible: the suggestions; applying the ratio one makes the plan feasible.
            _press(page, f".dsr-ratio-{RULE}", "ArrowRight", 5)
            expect(readout).to_have_text("8%", timeout=15_000)
            expect(verdict).to_contain_text("方案不可行", timeout=15_000)
            expect(verdict).to_contain_text("雄县")
            suggestions = page.locator(".dsr-suggestions")
            expect(suggestions).to_contain_text("调整建议", timeout=30_000)
            expect(suggestions).to_contain_text("雄县执法人员增至")
            expect(suggestions).to_contain_text("“县级·一般(除正面清单外)”的比例由 8% 降至")
            _inside_first_screen(page, ".dsr-suggestions")
            page.screenshot(path=str(OUTPUTS_DIR / "planner-e2e-suggestions.png"))
            page.locator("button.dsr-apply-ratio").first.click()
            expect(verdict).to_contain_text("方案可行", timeout=15_000)
            expect(suggestions).to_be_hidden()
            applied = float(readout.inner_text().strip().rstrip("%")) / 100
            assert 0.03 < applied < 0.08

            # 4. Load the draft back: its ratio and inspector count return.
            page.locator(".dsr-base-policy select").select_option(
                label="河北雄安新区2024年草稿（xiongan-2024）")
            expect(readout).to_have_text("4%", timeout=20_000)
            expect(box).to_have_value("36")
            expect(name).to_have_value("xiongan-2024")
            expect(page.locator(".dsr-plan-year input")).to_have_value("2024")
            digest = hashlib.sha256(saved.read_bytes()).hexdigest()
            name.fill("xiongan-2025")
            name.press("Enter")
            page.locator("button.dsr-save").click()
            expect(message).to_contain_text("年份 2025 与计划年度 2024 不一致", timeout=15_000)
            name.fill("xiongan-2024")
            name.press("Enter")
            page.locator("button.dsr-save").click()
            expect(message).to_contain_text("已存在", timeout=15_000)
            assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest
            page.locator(".dsr-overwrite input").check()
            box.fill("38")
            box.press("Enter")
            expect(staff).to_have_text("38", timeout=15_000)
            page.locator("button.dsr-save").click()
            expect(message).to_contain_text("已保存", timeout=15_000)
            assert load_policy(saved).planner.inspectors["xiongxian"] == 38
            page.screenshot(path=str(OUTPUTS_DIR / "planner-e2e-loaded.png"))

            # 5. The bureau's own register: a folder that is not a register is refused with the
            #    register check's message and the 演示数据 banner stays; a real one is loaded,
            #    the banner vanishes and the title names the folder.
            banner = page.locator(".dsr-demo-banner")
            expect(banner).to_be_visible()
            folder = page.locator(".dsr-registers-dir input")
            reg_message = page.locator(".dsr-registers-message")
            broken = tmp_path / "broken"
            broken.mkdir()
            (broken / "enterprises.csv").write_text("uscc,name\nX,Y\n", encoding="utf-8")
            folder.fill(str(broken))
            page.locator("button.dsr-registers-load").click()
            expect(reg_message).to_contain_text("未载入", timeout=20_000)
            expect(banner).to_be_visible()
            registers = make_bureau_registers(tmp_path / "registers")
            folder.fill(str(registers))
            page.locator("button.dsr-registers-load").click()
            expect(reg_message).to_contain_text("已载入：检查对象 111 家", timeout=30_000)
            expect(banner).to_have_count(0)
            expect(page.locator(".dsr-register")).to_have_text("名录库：registers")
            # the sample's 303 general objects of the new-area level are gone: the bureau's
            # register holds 雄县's firms only
            expect(page.locator(".dsr-gaps")).not_to_contain_text("303 家", timeout=30_000)
            coverage_rows = page.locator(".dsr-coverage-summary tr", has_text="新区本级")
            expect(coverage_rows.locator("td.dsr-na")).to_have_count(5)
            page.locator(".dsr-header").scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUTS_DIR / "planner-e2e-own-register.png"))

            page.set_viewport_size({"width": SCREEN["width"], "height": 3400})
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
