"""The CJK font is found by matplotlib and Chinese text renders without missing glyphs."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from dsr_analysis import plotting  # noqa: E402
from dsr_analysis.simulation.scenarios import compare  # noqa: E402
from dsr_analysis.simulation.coverage import coverage_summary, workload_summary  # noqa: E402

TEXT = "特殊监管对象 重点监管对象 一般监管对象 信用风险分类 覆盖率 −5% 人·日"


def _render(fig) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return [str(w.message) for w in caught]


def test_cjk_font_is_registered_and_found():
    name = plotting.use_cjk_font()
    assert name == "Noto Sans CJK SC"
    found = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]),
                                  fallback_to_default=False)
    # The packaged font, or the same family installed by the system (fonts-noto-cjk).
    assert font_manager.get_font(found).family_name == name
    assert plotting.use_cjk_font() == name  # idempotent
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_chinese_text_renders_without_missing_glyphs():
    plotting.use_cjk_font()
    fig, ax = plt.subplots()
    ax.set_title(TEXT)
    ax.set_xlabel("季度")
    ax.plot([-1, 0, 1], [1, -2, 3])
    messages = _render(fig)
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages


def test_without_the_font_glyphs_would_be_missing():
    """The check above can fail: DejaVu Sans alone lacks the Chinese glyphs."""
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title(TEXT)
        messages = _render(fig)
    assert any("missing from font" in m or "Glyph" in m for m in messages)


@pytest.fixture(scope="module")
def runs():
    return compare(["baseline-2023", "rotation"], replicates=3, years=1)


def test_every_figure_renders_cleanly(runs):
    headline, results = runs
    run = results[0]
    figures = [
        plotting.plot_coverage(coverage_summary(run.coverage, by=["category", "credit_class"])),
        plotting.plot_visits(run.coverage.visits),
        plotting.plot_workload(workload_summary(run.coverage), run.policy.unit_names),
        plotting.plot_violation_timeline(run.deterrence.timeline),
        plotting.plot_detection(run.deterrence.timeline),
        plotting.plot_scenarios(headline),
    ]
    for fig in figures:
        messages = _render(fig)
        assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages


def test_the_workload_figure_names_the_units_as_the_policy_does(runs):
    """Unit names come from the policy, not from a table of one jurisdiction's names."""
    run = runs[1][0]
    summary = workload_summary(run.coverage)
    fig = plotting.plot_workload(summary, {u: f"单位{i}" for i, u in enumerate(summary["unit"])})
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == [f"单位{i}" for i in range(len(summary))]
    assert [t.get_text() for t in plotting.plot_workload(summary).axes[0].get_xticklabels()] \
        == list(summary["unit"])
