"""Figures with Chinese labels, and the CJK font that makes them render.

:func:`use_cjk_font` registers Noto Sans CJK SC, shipped as an ``.otf`` file by the
``mplfonts`` package (a dependency in ``pyproject.toml``), with matplotlib's font manager,
so Chinese text renders on a fresh machine without system fonts. Every plotting function
calls it, returns a :class:`matplotlib.figure.Figure` and leaves saving and closing to the
caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

from .i18n import _
from .labels import CATEGORY_ZH, CREDIT_CLASS_ZH

#: File name of the font inside the mplfonts package.
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"

#: The labels of the figures: the regime's terms (:mod:`dsr_analysis.labels`); unit names
#: come from the policy (``Policy.unit_names``), never from here.
CATEGORY_LABEL = CATEGORY_ZH
CREDIT_LABEL = CREDIT_CLASS_ZH
_COLORS = ["#1f5aa6", "#d9822b", "#3a9a5b", "#c23b3b", "#7a5aa6", "#6b6b6b"]


def cjk_font_path() -> Path:
    """Path of Noto Sans CJK SC inside the installed ``mplfonts`` package."""
    import mplfonts

    path = Path(mplfonts.__file__).resolve().parent / "fonts" / CJK_FONT_FILE
    if not path.exists():  # pragma: no cover - depends on the installed package
        raise FileNotFoundError(_("{path} not found: reinstall the 'mplfonts' package").format(
            path=path))
    return path


def use_cjk_font() -> str:
    """Register Noto Sans CJK SC with matplotlib and make it the default sans-serif font.

    Also sets ``axes.unicode_minus = False`` (the CJK font has no U+2212 minus glyph).
    Idempotent. Returns the font's family name.
    """
    path = cjk_font_path()
    name = font_manager.FontProperties(fname=str(path)).get_name()
    if name not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    rcParams["font.family"] = "sans-serif"
    rest = [f for f in rcParams["font.sans-serif"] if f != name]
    rcParams["font.sans-serif"] = [name, *rest]
    rcParams["axes.unicode_minus"] = False
    return name


def _fig(width: float = 7.5, height: float = 4.2) -> tuple[Figure, plt.Axes]:
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    return fig, ax


def save(fig: Figure, path: str | Path) -> Path:
    """Save a figure as PNG (parents created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------
def plot_coverage(summary: pd.DataFrame, title: str = "年度覆盖率（至少检查一次的对象占比）"
                  ) -> Figure:
    """Bars of yearly coverage by category x credit class, with the 5-95 % range.

    ``summary`` is :func:`dsr_analysis.simulation.coverage_summary` by
    ``["category", "credit_class"]``.
    """
    fig, ax = _fig()
    cats = [c for c in CATEGORY_LABEL if c in set(summary["category"])]
    classes = [c for c in CREDIT_LABEL if c in set(summary["credit_class"])]
    width = 0.8 / max(len(classes), 1)
    for j, cls in enumerate(classes):
        sub = summary[summary["credit_class"] == cls].set_index("category").reindex(cats)
        x = np.arange(len(cats)) + (j - (len(classes) - 1) / 2) * width
        err = np.vstack([sub["coverage"] - sub["coverage_p05"], sub["coverage_p95"] - sub["coverage"]])
        ax.bar(x, sub["coverage"], width, yerr=np.nan_to_num(err), capsize=2,
               color=_COLORS[j % len(_COLORS)], label=CREDIT_LABEL[cls])
    ax.set_xticks(np.arange(len(cats)), [CATEGORY_LABEL[c] for c in cats])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("覆盖率")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(title)
    ax.legend(title="信用风险分类", fontsize=8, ncol=4, loc="upper center",
              bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    return fig


def plot_coverage_check(table: pd.DataFrame) -> Figure:
    """Simulated yearly coverage of strata against the closed form ``1 - (1 - n/N)^4``.

    ``table`` has columns ``closed_form`` and ``simulated`` (one row per stratum).
    """
    fig, ax = _fig(5.2, 4.6)
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, label="y = x")
    ax.scatter(table["closed_form"], table["simulated"], s=22, color=_COLORS[0],
               label="抽查层（单位×类别×信用等级）")
    ax.set_xlabel("解析值 1-(1-n/N)^4")
    ax.set_ylabel("模拟值")
    ax.set_title("模拟覆盖率与解析公式对照")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_visits(visits: pd.DataFrame) -> Figure:
    """Distribution of inspections per object and year, by category."""
    fig, ax = _fig()
    cats = [c for c in CATEGORY_LABEL if c in set(visits["category"])]
    levels = list(dict.fromkeys(visits["inspections"]))
    width = 0.8 / max(len(cats), 1)
    for j, cat in enumerate(cats):
        sub = visits[visits["category"] == cat].set_index("inspections").reindex(levels)
        x = np.arange(len(levels)) + (j - (len(cats) - 1) / 2) * width
        ax.bar(x, sub["share"].fillna(0), width, color=_COLORS[j], label=CATEGORY_LABEL[cat])
    ax.set_xticks(np.arange(len(levels)), levels)
    ax.set_xlabel("每个对象年内被检查次数")
    ax.set_ylabel("对象占比")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("年内检查次数分布")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_workload(summary: pd.DataFrame, unit_names: Mapping[str, str] | None = None) -> Figure:
    """Inspector-days per quarter and unit against capacity
    (:func:`dsr_analysis.simulation.workload_summary`); ``unit_names``: the policy's
    (``Policy.unit_names``), units not named shown by their id."""
    names = dict(unit_names or {})
    fig, ax = _fig()
    x = np.arange(len(summary))
    ax.bar(x - 0.2, summary["inspector_days"], 0.4, color=_COLORS[0], label="所需人·日")
    ax.bar(x + 0.2, summary["capacity_days"], 0.4, color=_COLORS[2], label="可用人·日")
    ax.set_xticks(x, [names.get(u, u) for u in summary["unit"]])
    ax.set_ylabel("人·日 / 季度")
    ax.set_title("执法力量需求与供给（每季度）")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Deterrence
# --------------------------------------------------------------------------------------
def plot_violation_timeline(timeline: pd.DataFrame, label: str | None = None,
                            ax: plt.Axes | None = None) -> Figure:
    """Violation rate per quarter: mean over replicates and 5-95 % band."""
    if ax is None:
        fig, ax = _fig()
    else:
        use_cjk_font()
        fig = ax.figure
    g = timeline.groupby("t")["violation_rate"]
    mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
    line = ax.plot(mean.index, mean.values, marker="o", ms=3, label=label or "违法率（均值）")
    ax.fill_between(mean.index, lo.values, hi.values, alpha=0.2, color=line[0].get_color())
    ax.set_xlabel("季度")
    ax.set_ylabel("违法企业占比")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("违法率随时间变化（阴影：5%–95%）")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_detection(timeline: pd.DataFrame) -> Figure:
    """Detected and undetected violations per quarter (means over replicates), and the
    hit rate (share of checks finding a violation) on a second axis."""
    fig, ax = _fig()
    g = timeline.groupby("t")[["detected", "undetected", "inspections"]].mean()
    ax.bar(g.index, g["detected"], color=_COLORS[3], label="查处的违法")
    ax.bar(g.index, g["undetected"], bottom=g["detected"], color="#bbbbbb", label="未被发现的违法")
    ax.set_xlabel("季度")
    ax.set_ylabel("违法企业数（每季度）")
    ax2 = ax.twinx()
    ax2.plot(g.index, g["detected"] / g["inspections"], color=_COLORS[0], marker="o", ms=3,
             label="检查发现率")
    ax2.axhline(0.0479, color=_COLORS[0], ls="--", lw=1, label="全国2019年：4.79%")
    ax2.set_ylabel("检查发现问题的比例")
    ax2.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax2.set_ylim(0, max(0.1, float((g["detected"] / g["inspections"]).max()) * 1.3))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, ncol=4, loc="upper center",
              bbox_to_anchor=(0.5, -0.14))
    ax.set_title("查处与未被发现的违法、检查发现率")
    fig.tight_layout()
    return fig


def plot_violation_curve(probability: np.ndarray, rates: dict[str, np.ndarray]) -> Figure:
    """Closed-form violation rate against the quarterly inspection probability."""
    fig, ax = _fig()
    for j, (label, v) in enumerate(rates.items()):
        ax.plot(probability, v, color=_COLORS[j % len(_COLORS)], label=label)
    ax.set_xlabel("季度被抽中概率")
    ax.set_ylabel("违法企业占比（解析）")
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("威慑曲线：抽查概率与违法率")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------
def plot_scenarios(headline: pd.DataFrame) -> Figure:
    """Side-by-side comparison of scenarios: coverage, violation rate, inspector-days."""
    use_cjk_font()
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), dpi=110)
    names = headline["name"].tolist()
    y = np.arange(len(names))
    panels = [("coverage_all", "年度覆盖率（全部对象）", True),
              ("violation_rate_last_year", "违法率（末年均值）", True),
              ("inspector_days_per_quarter", "所需人·日 / 季度", False)]
    for ax, (col, title, pct) in zip(axes, panels, strict=True):
        ax.barh(y, headline[col], color=[_COLORS[i % len(_COLORS)] for i in range(len(names))])
        ax.set_title(title)
        ax.set_yticks(y, names if ax is axes[0] else [""] * len(names))
        ax.invert_yaxis()
        if pct:
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if "capacity_days_per_quarter" in headline:
        axes[2].scatter(headline["capacity_days_per_quarter"], y, marker="|", s=300,
                        color="black", label="可用人·日")
        axes[2].legend(fontsize=8)
    fig.suptitle("方案对比")
    fig.tight_layout()
    return fig


def plot_sweep(sweep: pd.DataFrame) -> Figure:
    """Credit-weight sweep: draw ratio per credit class and the violation rate."""
    use_cjk_font()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for j, cls in enumerate(c for c in CREDIT_LABEL if c in set(sweep["credit_class"])):
        sub = sweep[sweep["credit_class"] == cls]
        ax1.plot(sub["steepness"], sub["draw_ratio"], marker="o", color=_COLORS[j],
                 label=CREDIT_LABEL[cls])
    ax1.set_xlabel("权重陡度 s（A:B:C:D = 1:s:s²:s³）")
    ax1.set_ylabel("季度抽查比例")
    ax1.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax1.set_title("各信用等级的抽查比例")
    ax1.legend(fontsize=8)
    one = sweep.drop_duplicates("steepness")
    ax2.plot(one["steepness"], one["expected_violation_rate"], marker="o", color=_COLORS[0],
             label="解析估计")
    if "violation_rate" in one:
        ax2.plot(one["steepness"], one["violation_rate"], marker="s", color=_COLORS[3],
                 label="模拟（末年）")
    ax2.set_xlabel("权重陡度 s")
    ax2.set_ylabel("违法企业占比")
    ax2.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax2.set_title("信用权重与违法率")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig
