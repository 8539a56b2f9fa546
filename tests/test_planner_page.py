"""The planner notebook's page (dsr_analysis.planner.page, .cache): the first screen at once
from the workspace's cache, the planner swapped in when it is made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dsr_analysis import planner
from dsr_analysis.errors import ParameterError
from dsr_analysis.paths import POLICIES_DIR
from dsr_analysis.planner.cache import cache_path, first_screen_key, read_first_screen
from dsr_analysis.planner.page import planner_page


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("DSR_WORKSPACE", str(tmp_path / "ws"))
    return tmp_path / "ws"


def test_the_first_screen_needs_no_numerical_library():
    code = ("import sys, dsr_analysis.planner.page as p; "
            "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_page_is_cached_then_shown_from_the_cache(workspace: Path, tmp_path: Path):
    save_dir = str(tmp_path / "plans")
    key = first_screen_key("xiongan-2023", "", 20240101)
    assert read_first_screen(key) is None
    cold = planner_page(save_dir=save_dir)
    assert not cold.cached
    app = cold.wait(120)
    assert cold.widget.children == (app.widget,)
    assert cache_path(key).parent == workspace / "cache" and cache_path(key).exists()
    assert cold.headline() == planner.headline(app.outcome)

    warm = planner_page(save_dir=save_dir)
    assert warm.cached
    first = warm.widget.children[0]      # the cached screen (unless the planner is made already)
    cached = read_first_screen(key)
    assert cached["headline"] == cold.headline() == warm.headline()
    html = cached["html"]
    for part in (app.verdict.value, app.minimums_summary.value, app.workload_summary.value,
                 app.coverage_summary.value, app.model_note.value, app.demo_banner.value):
        assert part and part in html
    assert getattr(first, "value", html) == html
    assert warm.wait(120).outcome is warm.outcome
    assert warm.widget.children == (warm.app.widget,)
    assert planner.headline(warm.outcome) == cached["headline"]


def test_the_cache_key_follows_the_inputs(tmp_path: Path):
    a = first_screen_key("xiongan-2023", "", 1)
    assert first_screen_key("xiongan-2023", "", 1) == a
    assert first_screen_key("xiongan-2023", "", 2) != a
    registers = tmp_path / "registers"
    registers.mkdir()
    (registers / "enterprises.csv").write_text("uscc\n", encoding="utf-8")
    b = first_screen_key("xiongan-2023", str(registers), 1)
    assert b != a
    (registers / "enterprises.csv").write_text("uscc,name\n", encoding="utf-8")
    assert first_screen_key("xiongan-2023", str(registers), 1) != b


def test_a_damaged_cache_entry_is_ignored(workspace: Path):
    key = first_screen_key("xiongan-2023", "", 7)
    path = cache_path(key)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert read_first_screen(key) is None
    path.write_text('{"html": 1, "headline": "x"}', encoding="utf-8")
    assert read_first_screen(key) is None


@pytest.mark.parametrize("kwargs, match", [
    (dict(policy="nowhere-2023"), "has no plan file"),
    (dict(seed=-1), "seed"),
    (dict(registers="/no/such/folder"), "is not a folder"),
    (dict(save_dir=str(POLICIES_DIR)), "is not written to"),
])
def test_the_page_checks_its_parameters_at_once(kwargs, match, workspace: Path):
    with pytest.raises(ParameterError, match=match):
        planner_page(**kwargs)
