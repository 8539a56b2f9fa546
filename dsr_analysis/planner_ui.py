"""Widgets of the annual-plan planner (``notebooks/planner.ipynb``, served with Voilà).

Only wiring lives here: every control maps one-to-one onto an argument of
:func:`dsr_analysis.planner.plan_outcome` / :func:`~dsr_analysis.planner.build_policy` /
:func:`~dsr_analysis.planner.save_policy`, and every callback calls the planner's functions
and shows what they return. Every value that reaches the page's HTML is escaped.

The page, for a 1366 x 768 laptop screen: a header line (the plan to start from, the plan to
compare with, reset); the controls on the left; on the right, in the first screen, the
verdict (feasible or not, the minimums met, coverage, violation rate, deterrence, the
difference to the compared plan), what to change when the plan is infeasible (each with an
"apply" button), the coverage gaps, and three compact tables - the 2023 minimums per unit,
inspector-days needed against available per unit, yearly coverage per unit and category.
Below: the comparison (highlighted differences, Excel export), the quota table, the full
tables, the quick simulation and the help, which cites the plan's clauses.

Each widget carries a stable CSS class (``dsr-ratio-<rule id>``, ``dsr-weight-A``,
``dsr-inspectors-<unit>``, ``dsr-verdict``, ``dsr-suggestions``, ``dsr-gaps``,
``dsr-minimums-summary``, ``dsr-workload-summary``, ``dsr-coverage-summary``,
``dsr-compare``, ``dsr-comparison``, ``dsr-quota-table``, ``dsr-save`` …) so a browser test,
or a person's style sheet, can find it.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

from . import planner
from .categories import CATEGORY_ZH
from .draw.binding import register_line
from .errors import DsrError, ParameterError, PolicyError, RegisterError
from .paths import OUTPUTS_DIR, POLICIES_DIR

_CSS = """
<style>
.dsr-planner {font-size: 13px;}
.dsr-planner .widget-html-content {line-height: 1.45;}
.dsr-planner .dsr-header .widget-html-content {line-height: 32px;}
.dsr-planner .widget-label, .dsr-planner .widget-readout {font-size: 13px;}
.dsr-planner h3 {margin: 0 12px 0 0; font-size: 17px; line-height: 32px; white-space: nowrap;}
.dsr-planner h3 .dsr-register {font-size: 12px; font-weight: normal; color: #555;}
.dsr-planner .dsr-sec {font-weight: bold; margin: 6px 0 0 0; border-bottom: 1px solid #ddd;}
.dsr-planner .dsr-sec span[title], .dsr-planner th[title], .dsr-planner td[title] {cursor: help;}
.dsr-planner table.dsr-table {border-collapse: collapse; font-size: 12.5px; margin: 2px 0 8px 0;}
.dsr-planner table.dsr-table th, .dsr-planner table.dsr-table td
  {border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap;
   line-height: 1.35;}
.dsr-planner table.dsr-table th {background: #f2f2f2; text-align: center;}
.dsr-planner table.dsr-table td.dsr-label {text-align: left;}
.dsr-planner table.dsr-table td.dsr-ok, .dsr-planner .dsr-ok {color: #17661d; font-weight: bold;}
.dsr-planner table.dsr-table td.dsr-bad, .dsr-planner .dsr-bad {color: #b00020; font-weight: bold;}
.dsr-planner table.dsr-table td.dsr-na {color: #999; text-align: center;}
.dsr-planner .dsr-changed {background: #fff2cc !important;}
.dsr-planner .dsr-banner {padding: 5px 10px; margin: 0 0 4px 0; line-height: 1.5;}
.dsr-planner .dsr-banner-ok {background: #e6f4e6; border-left: 6px solid #2e7d32;}
.dsr-planner .dsr-banner-bad {background: #fdecea; border-left: 6px solid #c62828;}
.dsr-planner .dsr-banner-warn {background: #fff4e5; border-left: 6px solid #ef6c00;}
.dsr-planner .dsr-big {font-size: 17px; font-weight: bold; margin-right: 8px;}
.dsr-planner .dsr-compare-line {color: #5d4037;}
.dsr-planner .dsr-small {color: #666; font-size: 12px;}
.dsr-planner ul.dsr-list {margin: 0; padding-left: 18px;}
.dsr-planner details summary {cursor: pointer;}
.dsr-planner .dsr-suggestions .widget-button {height: 24px; line-height: 22px;}
</style>
"""
_LABEL = {"description_width": "168px"}
_HALF = {"description_width": "56px"}


# --------------------------------------------------------------------------------------
# HTML helpers (every value escaped)
# --------------------------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(text: Any, cls: str = "", title: str = "", tag: str = "td", span: int = 1) -> str:
    attrs = (f' class="{_e(cls)}"' if cls else "") + (f' title="{_e(title)}"' if title else "") \
        + (f' colspan="{span}"' if span > 1 else "")
    return f"<{tag}{attrs}>{_e(text)}</{tag}>"


def _html_table(header: list[Any], rows: list[list[str]], cls: str = "") -> str:
    """A table from a header (text, or (text, tooltip)) and rows of ready cells."""
    head = "".join(_cell(h[0], title=h[1], tag="th") if isinstance(h, tuple)
                   else _cell(h, tag="th") for h in header)
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return f'<table class="dsr-table {_e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _table(frame: pd.DataFrame, verdict_column: str | None = None,
           changed: pd.Series | None = None, percent: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table (escaped), verdict cells coloured, changed rows' cells
    that differ marked ``dsr-changed``."""
    cols = [c for c in frame.columns if c != "changed"]
    flags = list(changed) if changed is not None else [False] * len(frame)
    labels = {"单位", "所属单位", "类别", "范围", "方式", "检查项", "依据", "参数", "指标", "2023年要求"}
    rows = []
    for r, is_changed in zip(frame[cols].itertuples(index=False, name=None), flags,
                             strict=True):
        cells = []
        for c, v in zip(cols, r, strict=True):
            if isinstance(v, float) and math.isnan(v):
                text = "—"
            elif v is None:
                text = "—"
            elif c in percent and isinstance(v, (int, float)):
                text = f"{v:.1%}"
            elif isinstance(v, float):
                text = f"{v:g}" if abs(v) >= 1000 or float(v).is_integer() else f"{v:.1f}"
            else:
                text = str(v)
            cls = ""
            if c == verdict_column or c.startswith("结论"):
                cls = {"可行": "dsr-ok", "达标": "dsr-ok", "不可行": "dsr-bad",
                       "未达标": "dsr-bad"}.get(text, "")
            if isinstance(v, str) and c in labels:
                cls = (cls + " dsr-label").strip()
            if is_changed:
                cls = (cls + " dsr-changed").strip()
            cells.append(_cell(text, cls))
        rows.append(cells)
    return _html_table(cols, rows)


def _error_text(exc: DsrError, lines: int = 4) -> str:
    """An error for the page, in Chinese; the technical detail (in English, from the
    register and policy checks) folded away under 详细信息."""
    if isinstance(exc, RegisterError):
        first = exc.problems[0] if exc.problems else None
        where = (f"第一处：文件 {Path(first.file).name} 第 {first.row} 行“{first.column}”列"
                 if first is not None else "")
        summary = f"登记册与方案不符（共 {len(exc.problems)} 处问题）。{where}"
        detail = "\n".join(str(p) for p in exc.problems[:lines])
        if len(exc.problems) > lines:
            detail += f"\n… 另有 {len(exc.problems) - lines} 处"
    elif isinstance(exc, PolicyError):
        summary = "方案文件有误，无法读取"
        detail = str(exc)
    else:
        return _e(str(exc)).replace("\n", "<br>")
    return (f"{_e(summary)}<details><summary>详细信息</summary>"
            f"<pre style='white-space: pre-wrap'>{_e(detail)}</pre></details>")


def _pct(v: float) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _plan_prefix(policy_id: str) -> str:
    return re.sub(r"-?\d{4}$", "", policy_id) or policy_id


# --------------------------------------------------------------------------------------
# The first screen's tables
# --------------------------------------------------------------------------------------
def verdict_html(out: planner.PlanOutcome, compare_line: str = "") -> str:
    """The verdict banner: feasible or not (why), the minimums met, coverage, violation rate
    and deterrence, and the difference to a compared plan."""
    met = int(out.minimums["met"].sum())
    total = len(out.minimums)
    if out.feasible:
        head = ('<span class="dsr-big">✔ 方案可行</span>'
                '<span>各单位执法力量足以完成每季度抽查任务</span>')
        cls = "dsr-banner-ok"
    else:
        head = ('<span class="dsr-big">✘ 方案不可行</span>'
                f'<span>{_e(out.warning)}</span>')
        cls = "dsr-banner-bad"
    mins = (f'<span class="{"dsr-ok" if out.all_minimums_met else "dsr-bad"}">'
            f'2023年方案最低要求 {met}/{total} 项达标</span>')
    figures = (f'{mins} · 年度覆盖率 <b>{out.coverage_total:.1%}</b>'
               f' · 预计违法企业比例 <b>{out.violation_rate:.1%}</b>（每季度）'
               f' · 被威慑比例 <b>{out.deterrence_total:.1%}</b>'
               f' · 检查发现违法率 {out.hit_rate:.1%}')
    line = (f'<div class="dsr-compare-line dsr-compare-summary">{_e(compare_line)}</div>'
            if compare_line else "")
    return f'<div class="dsr-banner {cls}">{head}<div>{figures}</div>{line}</div>'


def minimums_matrix_html(out: planner.PlanOutcome,
                         other: planner.PlanOutcome | None = None) -> str:
    """Every 2023 minimum as a compact matrix: one row per check, one column per unit; a
    check of the plan as a whole spans the units. Each cell's tooltip gives the requirement
    and the plan's figure, each row's the clause of the plan; cells whose verdict or figure
    differs from ``other`` are highlighted."""
    m = out.minimums
    units = list(out.policy.units)
    before = {}
    if other is not None:
        before = {(r["rule"], r["unit"], r["check"]): (r["met"], r["value"])
                  for r in other.minimums.to_dict("records")}
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in m.to_dict("records"):
        groups.setdefault((r["rule"], r["check"]), []).append(r)
    rows = []
    for (_rule, check), part in groups.items():
        reqs = "；".join(f"{r['unit']}：{r['requirement']}" for r in part)
        clause = part[0]["clause"]
        label_tip = (f"依据：{clause}。" if clause else "") + reqs
        label = check.replace(" (", "（").replace(")", "）")
        cells = [_cell(label, "dsr-label", label_tip)]
        if all(r["unit_id"] == "" for r in part):
            r = part[0]
            cls = "dsr-ok" if r["met"] else "dsr-bad"
            if before and before.get((r["rule"], r["unit"], r["check"])) != (r["met"], r["value"]):
                cls += " dsr-changed"
            cells.append(_cell(f"{'✔' if r['met'] else '✘'} {r['value']}", cls,
                               f"要求 {r['requirement']}；本计划 {r['plan']}", span=len(units)))
        else:
            by_unit = {r["unit_id"]: r for r in part}
            for u in units:
                r = by_unit.get(u.id)
                if r is None:
                    cells.append(_cell("—", "dsr-na", f"{u.name}无此项要求"))
                    continue
                cls = "dsr-ok" if r["met"] else "dsr-bad"
                if before and before.get((r["rule"], r["unit"], r["check"])) != (r["met"],
                                                                                 r["value"]):
                    cls += " dsr-changed"
                cells.append(_cell(f"{'✔' if r['met'] else '✘'} {r['value']}", cls,
                                   f"{r['unit']}：要求 {r['requirement']}；本计划 {r['plan']}"))
        rows.append(cells)
    met = int(m["met"].sum())
    head = (f'<div class="dsr-sec"><span title="对照《2023年“双随机、一公开”监管工作实施方案》'
            f'的各项最低要求；将鼠标停在单元格上可看要求和本计划的数字">2023年方案最低要求'
            f'（{met}/{len(m)} 项达标）ⓘ</span></div>')
    return head + _html_table(["检查项"] + [u.name for u in units], rows)


def workload_summary_html(out: planner.PlanOutcome,
                          other: planner.PlanOutcome | None = None) -> str:
    """Inspector-days needed against available per unit and quarter, with the verdict."""
    wl = out.workload
    prev = other.workload.set_index("unit") if other is not None else None
    rows = []
    for r in wl.itertuples():
        have = r.days_available + r.days_borrowable
        tip = f"本单位 {r.inspectors} 人 × 每人每季度 {out.assumptions['days_per_inspector_per_quarter']:g} 人·日"
        if r.days_borrowable > 0:
            tip += f"，另可借调县级富余 {r.days_borrowable:.0f} 人·日"
        changed = ""
        if prev is not None and r.unit in prev.index:
            p = prev.loc[r.unit]
            if (round(p["days_needed"]) != round(r.days_needed) or p["inspectors"] != r.inspectors
                    or bool(p["feasible"]) != bool(r.feasible)):
                changed = " dsr-changed"
                tip += f"；对比方案：需要 {p['days_needed']:.0f}，执法人员 {p['inspectors']} 人"
        verdict = "可行" if r.feasible else "不可行"
        rows.append([_cell(r.unit_name, "dsr-label"), _cell(r.inspectors, changed.strip()),
                     _cell(f"{r.days_needed:.0f}", changed.strip(),
                           f"现场 {r.onsite:.0f} 次、非现场 {r.offsite:.0f} 次、内部联合 {r.joint} 次"),
                     _cell(f"{have:.0f}", "", tip),
                     _cell(verdict, ("dsr-ok" if r.feasible else "dsr-bad") + changed,
                           r.reason or "可行")])
    head = ('<div class="dsr-sec"><span title="每季度所需人·日 = 现场检查 × 每次人·日 + 非现场检查 × '
            '每次人·日 + 内部联合检查 × 另需人·日；可用 = 执法人员 × 每人每季度人·日'
            '（新区本级可借调县级富余人·日）">执法力量（每季度）ⓘ</span></div>')
    return head + _html_table(["单位", "执法人员", "需要人·日", "可用人·日", "结论"], rows)


def coverage_summary_html(out: planner.PlanOutcome, below: float,
                          other: planner.PlanOutcome | None = None) -> str:
    """Yearly coverage per unit (rows) and category (columns), with each unit's total and
    expected violation rate; cells below ``below`` are red, cells that differ from
    ``other`` highlighted."""
    cm = planner.coverage_matrix(out)
    prev = planner.coverage_matrix(other).set_index("unit") if other is not None else None
    rows = []
    for r in cm.to_dict("records"):
        cells = [_cell(r["unit_name"], "dsr-label")]
        for cat in ("special", "key", "general", "total", "violation_rate"):
            v = r[cat]
            if isinstance(v, float) and math.isnan(v):
                cells.append(_cell("—", "dsr-na", "无此类对象"))
                continue
            cls = ""
            if cat in ("special", "key", "general", "total") and v < below:
                cls = "dsr-bad"
            n = r.get(f"{cat}_objects", r["objects"])
            what = CATEGORY_ZH.get(cat, "全部对象")
            tip = (f"{r['unit_name']}{what} {n} 家：一年内至少抽查一次的比例 {v:.1%}"
                   if cat != "violation_rate" else
                   f"{r['unit_name']}：预计每季度违法企业比例 {v:.1%}")
            if prev is not None and r["unit"] in prev.index:
                pv = prev.at[r["unit"], cat]
                if not (isinstance(pv, float) and math.isnan(pv)) and abs(pv - v) > 5e-4:
                    cls = (cls + " dsr-changed").strip()
                    tip += f"；对比方案 {pv:.1%}"
            cells.append(_cell(f"{v:.1%}", cls, tip))
        rows.append(cells)
    head = ('<div class="dsr-sec"><span title="年度覆盖率：一年内至少被抽查一次的对象所占比例'
            '（按抽取规则逐季递推的解析估算，县级先抽、新区本级后抽）；预计违法率：每季度违法企业的'
            f'预计比例。低于 {below:.0%} 的标红。">年度覆盖率与预计违法率 ⓘ</span></div>')
    return head + _html_table(["所属单位", "特殊", "重点", "一般", "合计",
                               ("违法率", "预计每季度违法企业比例")], rows)


def gaps_html(out: planner.PlanOutcome, below: float, shown: int = 2) -> str:
    """The coverage gaps as a warning: the first ``shown`` lines, the rest folded."""
    lines = planner.gaps_display(out.gaps)
    if not lines:
        return ""
    items = [f"<li>{_e(line)}</li>" for line in lines]
    more = ""
    if len(items) > shown:
        more = (f"<details><summary>另有 {len(items) - shown} 项</summary>"
                f'<ul class="dsr-list">{"".join(items[shown:])}</ul></details>')
    tip = (f"年度覆盖率为 0 或低于 {below:.0%} 的对象组、抽中概率为 0 的信用类别、"
           "因可抽对象不足而达不到的最低要求")
    return (f'<div class="dsr-banner dsr-banner-warn"><b title="{_e(tip)}">⚠ 覆盖缺口'
            f'（{len(lines)} 项）</b><ul class="dsr-list">{"".join(items[:shown])}</ul>{more}</div>')


_HELP = """
<details class="dsr-help-body"><summary><b>说明（各项数字的含义和依据）</b></summary>
<ul class="dsr-list">
<li><b>方案可行</b>：每个单位每季度所需人·日不超过可用人·日（新区本级可借调县级富余），人均现场任务和
非现场任务不超过上限，每项现场任务至少有规定人数的执法人员。</li>
<li><b>2023年方案最低要求</b>：{r4}：新区本级每季度至少抽查10%的重点和特殊监管对象，县级每季度至少
抽查25%的重点、50%的特殊监管对象，正面清单企业每季度非现场全覆盖，其余一般监管对象每季度至少3%；
{r3}：运用信用风险分类的抽查不低于80%（各类权重相同视为未区分）；{r5}：内部联合抽查不低于30%，
各级每季度至少1次部门联合抽查。配额够但扣除已抽对象后可抽对象不足的，也算未达标。</li>
<li><b>年度覆盖率</b>：一年内至少被抽查一次的对象所占比例，按抽取规则逐季递推估算（县级先抽、新区本级
后抽；同一季度被县级抽中的对象新区本级不再抽取）。可在下方运行模拟校核。</li>
<li><b>预计违法率、被威慑比例</b>：按仿真情景的行为参数估算；被威慑比例指不检查时会违法、因抽查而守法的企业
所占比例。</li>
<li><b>覆盖缺口</b>：全年抽不到或年度覆盖率低于 {below:.0%} 的对象组、抽中概率为 0 的信用类别、
因可抽对象不足而达不到的最低要求。</li>
<li><b>调整建议</b>：方案不可行时，给出现有比例下各单位需要的执法人员，或现有人员下某项比例的最大可行值；
点“应用”即改为该值。</li>
<li><b>保存</b>：保存的方案含可用执法人员和测算假设；名称中的年份须与计划年度一致；已发布的方案和已用于抽取的
方案不能覆盖。</li>
</ul></details>
"""


# --------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------
class PlannerApp:
    """The planner's widget tree and its callbacks.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The root widget (display it).
    outcome : PlanOutcome or None
        What the outputs show now.
    suggestions : tuple of Suggestion
        What to change (empty when the plan is feasible).
    comparison : PlanComparison or None
        The comparison with the plan chosen under 对比方案.
    """

    def __init__(self, policy: str, registers: str | None, seed: int, save_dir: str | Path):
        self.registers = registers or None
        self.save_dir = Path(save_dir)
        self.settings = planner.planner_settings()
        self.jurisdiction = planner.resolve_policy(policy)   # whose units the register has
        self.outcome: planner.PlanOutcome | None = None
        self.suggestions: tuple[planner.Suggestion, ...] = ()
        self.comparison: planner.PlanComparison | None = None
        self.base_plan: planner.Policy | None = None
        self._other_cache: dict[tuple, planner.PlanOutcome] = {}
        self._quiet = False

        self._make_widgets(policy, seed)
        self._make_save_form()
        self._load_base(policy)
        self._wire()
        self._arrange()
        self.refresh()

    def _make_widgets(self, policy: str, seed: int) -> None:
        """The controls and outputs of the page (the save form apart)."""
        options = self._plan_options()
        self.base = w.Dropdown(options=options, value=policy, description="起始方案",
                               style={"description_width": "60px"},
                               layout=w.Layout(width="420px"))
        self.base.add_class("dsr-base-policy")
        self.compare = w.Dropdown(options=self._compare_options(options), value="",
                                  description="对比方案", style={"description_width": "60px"},
                                  layout=w.Layout(width="420px"),
                                  tooltip="选一个方案与当前草稿并列对比，不同之处以黄色标出")
        self.compare.add_class("dsr-compare")
        self.reset = w.Button(description="重置", icon="undo",
                              tooltip="把所有数值恢复为起始方案的数值",
                              layout=w.Layout(width="80px"))
        self.reset.add_class("dsr-reset")

        self.ratio_box = w.VBox()
        self.ratios: dict[str, w.FloatSlider] = {}
        self.weights = {c: w.FloatSlider(min=0.0, max=5.0, step=0.1, description=f"{c}类",
                                         continuous_update=False, style=_HALF,
                                         readout_format=".1f", layout=w.Layout(width="205px"))
                        for c in ("A", "B", "C", "D")}
        for c, s in self.weights.items():
            s.add_class(f"dsr-weight-{c}")
        self.overlap = w.ToggleButtons(
            options=[("独立抽取", "independent"), ("轮换", "rotation"), ("年度上限", "yearly_cap")],
            style={"button_width": "82px"},
            tooltips=["每季度独立抽取，同一对象可能多次抽中", "本年度未抽过的对象优先",
                      "同一对象每年最多抽中的次数"])
        self.overlap.add_class("dsr-overlap")
        self.yearly_cap = w.IntSlider(min=1, max=8, description="每年最多抽中次数",
                                      continuous_update=False, style=_LABEL,
                                      layout=w.Layout(width="410px"))
        self.yearly_cap.add_class("dsr-yearly-cap")
        self.joint = w.FloatSlider(min=0.0, max=1.0, step=0.05, description="内部联合抽查占比",
                                   readout_format=".0%", continuous_update=False, style=_LABEL,
                                   layout=w.Layout(width="410px"),
                                   tooltip=f"2023年方案：不低于30%（{planner.clause_of('R5')}）")
        self.joint.add_class("dsr-internal-joint")
        self.inspector_box = w.GridBox(layout=w.Layout(
            grid_template_columns="repeat(2, 205px)", grid_gap="2px 4px"))
        self.inspectors: dict[str, w.BoundedIntText] = {}
        self.assumptions = {k: w.BoundedFloatText(min=0.0, max=92.0 if k.startswith("days")
                                                  else 100.0, step=0.5,
                                                  description=planner.ASSUMPTIONS_ZH[k],
                                                  style={"description_width": "250px"},
                                                  layout=w.Layout(width="380px"))
                            for k in planner.ASSUMPTIONS}
        for k, box in self.assumptions.items():
            box.add_class(f"dsr-assumption-{k}")
        self.assumption_box = w.Accordion(children=[w.VBox(list(self.assumptions.values()))],
                                          titles=("测算假设（每次检查所需人·日等）",),
                                          selected_index=None)
        self.assumption_box.add_class("dsr-assumptions")

        self.verdict = w.HTML()
        self.verdict.add_class("dsr-verdict")
        self.suggestion_box = w.VBox(layout=w.Layout(display="none"))
        self.suggestion_box.add_class("dsr-suggestions")
        self.gaps = w.HTML()
        self.gaps.add_class("dsr-gaps")
        self.minimums_summary = w.HTML()
        self.minimums_summary.add_class("dsr-minimums-summary")
        self.workload_summary = w.HTML()
        self.workload_summary.add_class("dsr-workload-summary")
        self.coverage_summary = w.HTML()
        self.coverage_summary.add_class("dsr-coverage-summary")
        self.timing = w.HTML()
        self.timing.add_class("dsr-timing")

        self.comparison_html = w.HTML()
        self.comparison_html.add_class("dsr-comparison-tables")
        self.export = w.Button(description="导出对比表（Excel）", icon="download",
                               layout=w.Layout(width="200px"))
        self.export.add_class("dsr-export")
        self.export_pdf = w.Button(description="导出对比说明（PDF）", icon="file",
                                   layout=w.Layout(width="200px"),
                                   tooltip="按公文格式写出对比说明（需几秒钟）")
        self.export_pdf.add_class("dsr-export-pdf")
        self.export_message = w.HTML()
        self.export_message.add_class("dsr-export-message")
        self.comparison_box = w.VBox([self.comparison_html,
                                      w.HBox([self.export, self.export_pdf,
                                              self.export_message])],
                                     layout=w.Layout(display="none"))
        self.comparison_box.add_class("dsr-comparison")
        self.quota_table = w.HTML()
        self.quota_table.add_class("dsr-quota-table")
        self.workload = w.HTML()
        self.workload.add_class("dsr-workload")
        self.minimums = w.HTML()
        self.minimums.add_class("dsr-minimums")
        self.coverage = w.HTML()
        self.coverage.add_class("dsr-coverage")
        self.seed = w.BoundedIntText(value=int(seed), min=0, max=2**31 - 1,
                                     description="随机种子", style={"description_width": "60px"},
                                     layout=w.Layout(width="200px"))
        self.seed.add_class("dsr-seed")
        self.simulate = w.Button(
            description=f"运行模拟校核（{self.settings.simulation.replicates} 个模拟年）",
            layout=w.Layout(width="260px"),
            tooltip="在登记册上按抽取规则模拟全年抽取，与解析估算的年度覆盖率对照")
        self.simulate.add_class("dsr-simulate")

    def _make_save_form(self) -> None:
        """Year, name, overwrite, save and its message."""
        self.year = w.BoundedIntText(min=2000, max=2100, description="计划年度",
                                     style={"description_width": "70px"},
                                     layout=w.Layout(width="205px"))
        self.year.add_class("dsr-plan-year")
        self.name = w.Text(description="方案名称", placeholder="xiongan-2024",
                           style={"description_width": "70px"}, layout=w.Layout(width="205px"),
                           tooltip="保存后的方案名称（英文字母、数字和“-”）；名称中的年份须与计划年度一致")
        self.name.add_class("dsr-plan-name")
        self.overwrite = w.Checkbox(value=False, description="覆盖本编制器保存的同名草稿",
                                    indent=False, layout=w.Layout(width="230px"))
        self.overwrite.add_class("dsr-overwrite")
        self.save = w.Button(description="保存方案", button_style="primary", icon="save",
                             layout=w.Layout(width="120px"))
        self.save.add_class("dsr-save")
        self.save_message = w.HTML()
        self.save_message.add_class("dsr-save-message")

    def _wire(self) -> None:
        """What each control does when it changes or is clicked."""
        for widget in [*self.weights.values(), self.overlap, self.yearly_cap, self.joint,
                       *self.assumptions.values()]:
            widget.observe(self._on_change, names="value")
        self.base.observe(self._on_base, names="value")
        self.compare.observe(self._on_compare, names="value")
        self.year.observe(self._on_year, names="value")
        self.save.on_click(self._on_save)
        self.reset.on_click(self._on_reset)
        self.export.on_click(self._on_export)
        self.export_pdf.on_click(self._on_export_pdf)
        self.simulate.on_click(self._on_simulate)

    def _arrange(self) -> None:
        """The page: header, controls on the left, the verdict and tables on the right, details below."""
        def sec(text: str, tip: str = "") -> w.HTML:
            inner = f'<span title="{_e(tip)}">{_e(text)} ⓘ</span>' if tip else _e(text)
            return w.HTML(f'<div class="dsr-sec">{inner}</div>')

        controls = w.VBox([
            sec("每季度抽查比例", f"依据：{planner.clause_of('R4')}；滑块下限为 0，2023年方案的最低要求见右侧"),
            self.ratio_box,
            sec("信用风险分类权重（A 低风险 … D 高风险）",
                f"依据：{planner.clause_of('R3')}；不同信用类别采用不同抽查比例，权重越大越易被抽中"),
            w.GridBox(list(self.weights.values()), layout=w.Layout(
                grid_template_columns="repeat(2, 205px)", grid_gap="0 4px")),
            sec("跨季度重叠控制"), w.HBox([self.overlap]), self.yearly_cap,
            sec("联合抽查", f"依据：{planner.clause_of('R5')}"), self.joint,
            sec("可用执法人员（人）", "参加“双随机”抽查的在岗持证执法人员；保存方案时一并保存"),
            self.inspector_box, self.assumption_box,
            sec("保存方案", "保存为新的方案文件，含可用执法人员和测算假设；已发布的方案和已用于抽取的方案不能覆盖"),
            w.HBox([self.year, self.name]), w.HBox([self.overwrite, self.save]),
            self.save_message,
        ], layout=w.Layout(width="425px", min_width="425px"))
        controls.add_class("dsr-controls")
        results = w.VBox([
            self.verdict, self.suggestion_box, self.gaps,
            w.HBox([self.minimums_summary,
                    w.VBox([self.workload_summary, self.coverage_summary],
                           layout=w.Layout(margin="0 0 0 10px"))]),
            self.timing,
        ], layout=w.Layout(flex="1 1 auto", padding="0 0 0 10px"))
        results.add_class("dsr-results")
        details = w.VBox([
            self.comparison_box,
            w.HTML('<div class="dsr-sec">每季度抽查任务（各单位各类对象；各信用类别的预计抽查数、对象数和抽中概率）</div>'),
            self.quota_table,
            w.HTML('<div class="dsr-sec">执法力量明细（每季度）</div>'), self.workload,
            w.HTML('<div class="dsr-sec">2023年方案最低要求明细</div>'), self.minimums,
            w.HTML('<div class="dsr-sec">年度覆盖率与威慑（估算）</div>'),
            w.HBox([self.simulate, self.seed]), self.coverage,
            w.HTML(_HELP.format(r3=_e(planner.clause_of("R3")), r4=_e(planner.clause_of("R4")),
                                r5=_e(planner.clause_of("R5")),
                                below=self.settings.coverage_warning_below)),
        ])
        details.add_class("dsr-details")
        # which register the plans count on (the folder's name; the full path as a tooltip)
        full = register_line(self.registers)
        shown = f"名录库：{Path(self.registers).name}" if self.registers else full
        header = w.HBox([w.HTML(_CSS + "<h3>年度“双随机”抽查计划编制器 <small class="
                                f'"dsr-register" title="{_e(full)}">{_e(shown)}</small></h3>'),
                         self.base,
                         self.compare, self.reset], layout=w.Layout(align_items="center"))
        header.add_class("dsr-header")
        self.widget = w.VBox([header, w.HBox([controls, results]), details])
        self.widget.add_class("dsr-planner")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """Display as the widget tree; the text form is stable (no model ids, no timings)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"年度抽查计划编制器 (起始方案 {self.base.value})"
        return bundle

    # ----------------------------------------------------------------------------------
    # Plans to start from and to compare with
    # ----------------------------------------------------------------------------------
    def _plan_options(self) -> list[tuple[str, str]]:
        """(label, value) of every plan: the shipped ones by name, the drafts of ``save_dir``
        (when elsewhere) by path."""
        out = []
        seen = set()
        for path in planner.plan_files(POLICIES_DIR):
            out.append((self._label(path), path.stem))
            seen.add(path.resolve())
        if self.save_dir.resolve() != POLICIES_DIR.resolve():
            for path in planner.plan_files(self.save_dir):
                if path.resolve() not in seen:
                    out.append((self._label(path), str(path)))
        return out

    @staticmethod
    def _label(path: Path) -> str:
        try:
            return planner.plan_label(planner.resolve_policy(path))
        except DsrError:
            return f"{path.stem}（无法读取）"

    def _compare_options(self, options: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [("不对比", ""), ("起始方案（未修改）", "base")] + list(options)

    def _refresh_options(self) -> None:
        options = self._plan_options()
        self._quiet = True
        try:
            current, compared = self.base.value, self.compare.value
            self.base.options = options
            self.base.value = current
            self.compare.options = self._compare_options(options)
            self.compare.value = compared if compared in dict(
                (v, k) for k, v in self.compare.options) else ""
        finally:
            self._quiet = False

    def _resolve(self, value: str) -> planner.Policy:
        """A plan of the lists, on the register's units (another jurisdiction's mapped)."""
        return planner.map_onto_units(planner.resolve_policy(value), self.jurisdiction)

    # ----------------------------------------------------------------------------------
    def _load_base(self, name: str) -> None:
        """Set every control to the values of the plan ``name`` (its saved inspectors and
        assumptions too)."""
        base = self._resolve(name)
        self._quiet = True
        try:
            self.base_plan = base
            start = planner.plan_from_policy(base)
            sliders = []
            self.ratios = {}
            for rule in planner.random_rules(base):
                if rule.basis == "share":
                    s = w.FloatSlider(value=rule.ratio, min=0.0, max=1.0,
                                      step=planner.RATIO_STEP["share"], readout_format=".0%")
                else:
                    s = w.FloatSlider(value=rule.ratio, min=0.0, max=20.0,
                                      step=planner.RATIO_STEP["per_inspector"],
                                      readout_format=".1f")
                s.description = planner.rule_label(base, rule)
                s.tooltip = self._ratio_tip(base, rule)
                s.layout = w.Layout(width="410px")
                s.description_allow_html = False
                s.continuous_update = False
                s.style = _LABEL
                s.add_class(f"dsr-ratio-{rule.id}")
                s.observe(self._on_change, names="value")
                self.ratios[rule.id] = s
                sliders.append(s)
            self.ratio_box.children = sliders
            for c, s in self.weights.items():
                s.value = start["credit_weights"][c]
            self.overlap.value = start["overlap"]
            self.yearly_cap.value = start["yearly_cap"]
            self.joint.value = start["internal_joint_share"]
            try:
                inputs = planner.plan_inputs(base, self.registers, self.settings)
            except RegisterError:
                inputs = dict(inspectors_available={u.id: 0 for u in base.units},
                              assumptions=planner.default_assumptions(self.settings))
            self.inspectors = {}
            boxes = []
            for unit in base.units:
                box = w.BoundedIntText(value=inputs["inspectors_available"][unit.id], min=0,
                                       max=100000, description=unit.name, style=_HALF,
                                       layout=w.Layout(width="205px"))
                box.add_class(f"dsr-inspectors-{unit.id}")
                box.observe(self._on_change, names="value")
                self.inspectors[unit.id] = box
                boxes.append(box)
            self.inspector_box.children = boxes
            for k, box in self.assumptions.items():
                box.value = inputs["assumptions"][k]
            source = planner.resolve_policy(name)
            if source.planner is not None:          # a draft: keep editing it
                self.year.value = base.year
                self.name.value = source.id
            else:
                year = max(base.year, self.jurisdiction.year) + 1
                prefix = _plan_prefix(base.id)
                if base is not source:              # another jurisdiction's rules, mapped
                    prefix = f"{_plan_prefix(self.jurisdiction.id)}-{prefix}"
                self.year.value = year
                self.name.value = f"{prefix}-{year}"
        finally:
            self._quiet = False

    def _ratio_tip(self, policy: planner.Policy, rule) -> str:
        ref = {(r.level, r.category, r.subset): r for r in
               planner.resolve_policy(planner.DEFAULT_POLICY).quotas.rules}.get(
            (rule.level, rule.category, rule.subset))
        if ref is None or ref.method != "random":
            return "2023年方案对这类对象没有抽查比例要求"
        return (f"2023年方案：每季度不低于 {planner.ratio_text(ref, ref.ratio)}"
                f"（{planner.clause_of(ref.rule)}）")

    def arguments(self) -> dict[str, Any]:
        """The controls' values as the keyword arguments of :func:`planner.plan_outcome`."""
        return dict(
            base_policy=self.base_plan,
            ratios={k: s.value for k, s in self.ratios.items()},
            credit_weights={c: s.value for c, s in self.weights.items()},
            overlap=self.overlap.value,
            yearly_cap=self.yearly_cap.value,
            internal_joint_share=self.joint.value,
            inspectors_available={k: b.value for k, b in self.inspectors.items()},
            seed=self.seed.value,
            registers=self.registers,
            assumptions={k: b.value for k, b in self.assumptions.items()},
        )

    # ----------------------------------------------------------------------------------
    def _other_outcome(self) -> tuple[planner.PlanOutcome | None, str]:
        """The outcome of the plan chosen under 对比方案 (cached per file version) and its
        label; (None, "") when none is chosen."""
        value = self.compare.value
        if not value:
            return None, ""
        if value == "base":
            plan, label = self.base_plan, "起始方案"
            key = ("base", id(plan))
        else:
            source = planner.resolve_policy(value)
            plan, label = self._resolve(value), source.id
            key = ("file", source.path, source.sha256)
        if key not in self._other_cache:
            inputs = planner.plan_inputs(plan, self.registers, self.settings)
            self._other_cache[key] = planner.plan_outcome(
                plan, **planner.plan_from_policy(plan), seed=self.seed.value,
                registers=self.registers, **inputs)
        return self._other_cache[key], label

    def refresh(self) -> None:
        """Recompute the outcome and show it: the first screen first, then the comparison,
        the detail tables and, for an infeasible plan, what to change."""
        self.yearly_cap.layout.display = None if self.overlap.value == "yearly_cap" else "none"
        try:
            out = planner.plan_outcome(**self.arguments())
        except DsrError as exc:
            self._show_error("无法计算", exc)
            return
        self.outcome = out
        below = self.settings.coverage_warning_below
        other, label, compare_error = None, "", None
        try:
            other, label = self._other_outcome()
        except DsrError as exc:
            compare_error = exc
        cmp = planner.compare_outcomes(out, other, ("本方案", label)) if other is not None else None
        self.comparison = cmp
        self.verdict.value = verdict_html(out, cmp.summary() if cmp is not None else "")
        if not out.feasible:
            self.suggestion_box.children = [w.HTML(
                '<div class="dsr-banner dsr-banner-warn">正在计算调整建议…</div>')]
            self.suggestion_box.layout.display = None
        else:
            self.suggestions = ()
            self.suggestion_box.children = []
            self.suggestion_box.layout.display = "none"
        self.gaps.value = gaps_html(out, below)
        self.minimums_summary.value = minimums_matrix_html(out, other)
        self.workload_summary.value = workload_summary_html(out, other)
        self.coverage_summary.value = coverage_summary_html(out, below, other)
        self.timing.value = (f'<span class="dsr-small">更新用时 {out.elapsed * 1000:.0f} 毫秒'
                             '（不含页面显示）</span>')
        if cmp is not None:
            self._show_comparison(cmp)
        elif compare_error is not None:
            self.comparison_html.value = (f'<div class="dsr-banner dsr-banner-bad">无法对比：'
                                          f'{_error_text(compare_error)}</div>')
            self.comparison_box.layout.display = None
        else:
            self.comparison_box.layout.display = "none"
        self.quota_table.value = _table(out.quota_table)
        self.workload.value = _table(planner.workload_display(out.workload), "结论")
        self.minimums.value = _table(planner.minimums_display(out.minimums), "结论")
        self.coverage.value = _table(planner.coverage_display(out.coverage))
        if not out.feasible:
            self._show_suggestions(out)

    def _show_error(self, what: str, exc: DsrError) -> None:
        self.outcome = None
        self.suggestions = ()
        self.verdict.value = (f'<div class="dsr-banner dsr-banner-bad">{_e(what)}: '
                              f'{_error_text(exc)}</div>')
        for h in (self.gaps, self.minimums_summary, self.workload_summary,
                  self.coverage_summary, self.quota_table, self.workload, self.minimums,
                  self.coverage, self.timing):
            h.value = ""
        self.suggestion_box.children = []
        self.suggestion_box.layout.display = "none"
        self.comparison_box.layout.display = "none"

    def _show_comparison(self, cmp: planner.PlanComparison) -> None:
        tables = planner.comparison_tables(cmp)
        parts = [f'<div class="dsr-sec">方案对比：本方案 与 {_e(cmp.labels[1])}'
                 f'（黄色底为不同之处）</div><div>{_e(cmp.summary())}</div>']
        titles = {"对比摘要": "总体", "抽查任务": "每季度抽查任务", "执法力量": "执法力量（每季度）",
                  "覆盖率与违法率": "年度覆盖率与预计违法率", "最低要求": "2023年方案最低要求",
                  "方案参数": "方案参数"}
        for name, frame in tables.items():
            pct = tuple(c for c in frame.columns if c.startswith(("年度覆盖率（", "预计违法率（")))
            shown = frame
            if name == "对比摘要":
                shown = frame.copy()
                for col in shown.columns[1:-1]:
                    shown[col] = [(_pct(v) if is_pct else v) for v, is_pct in
                                  zip(shown[col], cmp.totals["percent"], strict=True)]
            parts.append(f"<div><b>{_e(titles[name])}</b></div>"
                         + _table(shown, changed=frame["changed"], percent=pct))
        self.comparison_html.value = "".join(parts)
        self.comparison_box.layout.display = None

    def _show_suggestions(self, out: planner.PlanOutcome) -> None:
        try:
            self.suggestions = planner.suggest_changes(out, self.registers)
        except DsrError as exc:
            self.suggestion_box.children = [w.HTML(
                f'<div class="dsr-banner dsr-banner-warn">无法给出调整建议: {_error_text(exc)}</div>')]
            return
        if not self.suggestions:
            self.suggestion_box.children = [w.HTML(
                '<div class="dsr-banner dsr-banner-warn">没有找到只改一项就能使方案可行的调整；'
                '请同时调整人员和比例</div>')]
            return
        rows = [w.HTML('<div class="dsr-sec" style="border:0">调整建议（任选其一；点“应用”即改为该值）</div>')]
        for i, s in enumerate(self.suggestions):
            tail = "" if s.feasible else "（其余单位仍不可行）"
            text = w.HTML(f'<span class="{"dsr-bad" if s.below_minimum else ""}">'
                          f'{i + 1}. {_e(s.message + tail)}</span>',
                          layout=w.Layout(flex="1 1 auto"))
            button = w.Button(description="应用", layout=w.Layout(width="60px"),
                              tooltip="把控件改为这一建议的数值")
            button.add_class("dsr-apply")
            button.add_class(f"dsr-apply-{s.kind}")
            button.on_click(lambda _b, s=s: self.apply(s))
            row = w.HBox([button, text], layout=w.Layout(align_items="center"))
            row.add_class("dsr-suggestion")
            rows.append(row)
        box = w.VBox(rows)
        box.add_class("dsr-banner")
        box.add_class("dsr-banner-warn")
        self.suggestion_box.children = [box]

    def apply(self, suggestion: planner.Suggestion) -> None:
        """Set the controls to a suggestion's values and recompute once."""
        self._quiet = True
        try:
            for unit, n in suggestion.inspectors.items():
                self.inspectors[unit].value = int(n)
            if suggestion.kind == "ratio":
                self.ratios[suggestion.rule].value = suggestion.ratio
        finally:
            self._quiet = False
        self.refresh()

    # ----------------------------------------------------------------------------------
    def _on_change(self, _change: dict) -> None:
        if not self._quiet:
            self.refresh()

    def _on_base(self, change: dict) -> None:
        if self._quiet:
            return
        try:
            self._load_base(change["new"])
        except DsrError as exc:
            # Keep the plan in use (and say why the chosen one cannot be used).
            self._quiet = True
            try:
                self.base.value = change["old"]
            finally:
                self._quiet = False
            self.refresh()
            self.verdict.value = (f'<div class="dsr-banner dsr-banner-bad">无法使用所选方案：'
                                  f'{_error_text(exc)}</div>') + self.verdict.value
            return
        self.refresh()

    def _on_compare(self, _change: dict) -> None:
        if not self._quiet:
            self.refresh()

    def _on_reset(self, _button: Any) -> None:
        try:
            self._load_base(self.base.value)
        except DsrError as exc:
            self._show_error("无法使用这个方案", exc)
            return
        self.save_message.value = ""
        self.refresh()

    def _on_year(self, change: dict) -> None:
        if self._quiet:
            return
        self.name.value = re.sub(r"\d{4}$", str(change["new"]), self.name.value) \
            if re.search(r"\d{4}$", self.name.value) else f"{self.name.value}-{change['new']}"

    def _on_save(self, _button: Any) -> None:
        args = self.arguments()
        try:
            plan = planner.build_policy(
                args["base_policy"], args["ratios"], args["credit_weights"], args["overlap"],
                args["yearly_cap"], args["internal_joint_share"], year=self.year.value,
                inspectors_available=args["inspectors_available"],
                assumptions=args["assumptions"])
            path = planner.save_policy(plan, self.name.value, self.save_dir,
                                       overwrite=self.overwrite.value,
                                       note=f"based on {plan.planner.based_on}")
        except DsrError as exc:
            self.save_message.value = (f'<div class="dsr-banner dsr-banner-bad">未保存：'
                                       f'{_error_text(exc)}</div>')
            return
        except OSError as exc:
            self.save_message.value = (f'<div class="dsr-banner dsr-banner-bad">未保存：无法写入'
                                       f'{_e(exc.filename or self.save_dir)}（{_e(exc.strerror)}）</div>')
            return
        self.overwrite.value = False
        in_policies = self.save_dir.resolve() == POLICIES_DIR.resolve()
        ref = path.stem if in_policies else str(path)
        self.save_message.value = (
            f'<div class="dsr-banner dsr-banner-ok">已保存方案“{_e(path.stem)}”（{plan.year}年），'
            f'含可用执法人员和测算假设。<details class="dsr-small"><summary>批处理用法</summary>'
            f'dsr quotas --policy {_e(ref)} --quarter {plan.year}Q1</details></div>')
        self._other_cache.clear()
        self._refresh_options()

    def _export_path(self, suffix: str) -> Path | None:
        cmp = self.comparison
        if cmp is None:
            return None
        other = re.sub(r"[^A-Za-z0-9._-]", "_", cmp.other.policy.id)
        return OUTPUTS_DIR / "planner" / f"comparison-draft-vs-{other}{suffix}"

    def _offer(self, path: Path, mime: str) -> None:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        self.export_message.value = (
            f'<span>已导出。<a class="dsr-download" download="{_e(path.name)}" '
            f'href="data:{mime};base64,{data}">下载 {_e(path.name)}</a></span>')

    def _on_export(self, _button: Any) -> None:
        target = self._export_path(".xlsx")
        if target is None:
            return
        try:
            path = planner.write_comparison_xlsx(self.comparison, target)
        except (DsrError, OSError) as exc:
            self.export_message.value = f'<span class="dsr-bad">未导出：{_e(exc)}</span>'
            return
        self._offer(path, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def _on_export_pdf(self, _button: Any) -> None:
        target = self._export_path(".pdf")
        if target is None:
            return
        self.export_message.value = "<span>正在生成 PDF…</span>"
        from .documents import write_pdf     # WeasyPrint: heavy, only when asked for

        try:
            doc = planner.comparison_document(self.comparison, demo=self.registers is None)
            target.parent.mkdir(parents=True, exist_ok=True)
            path = write_pdf(doc, target)
        except (DsrError, OSError) as exc:
            self.export_message.value = f'<span class="dsr-bad">未导出：{_e(exc)}</span>'
            return
        self._offer(path, "application/pdf")

    def _on_simulate(self, _button: Any) -> None:
        try:
            out = planner.plan_outcome(**self.arguments(), simulate=True)
        except DsrError as exc:
            self.coverage.value = f'<span class="dsr-bad">{_error_text(exc)}</span>'
            return
        self.coverage.value = (
            f"<div>模拟 {self.settings.simulation.replicates} 个年度：年度覆盖率 解析 "
            f"{out.coverage_total:.1%}，模拟 {out.simulated_coverage_total:.1%}</div>"
            + _table(planner.coverage_display(out.coverage)))


def build_planner(
    policy: str = "xiongan-2023",
    registers: str = "",
    seed: int = 20240101,
    save_dir: str = "",
) -> PlannerApp:
    """Build the planner (validated notebook parameters in, widget tree out).

    Parameters
    ----------
    policy : str
        Name of the plan to start from (a file in ``parameters/policies/``); its units are
        those of the register (a plan of another jurisdiction chosen later is mapped onto them).
    registers : str
        Register directory; empty = the embedded synthetic sample.
    seed : int
        Seed of the quick simulated coverage check.
    save_dir : str
        Where "save" writes plans; empty = ``parameters/policies/``.
    """
    for name, value, kind in (("policy", policy, str), ("registers", registers, str),
                              ("save_dir", save_dir, str)):
        if not isinstance(value, kind):
            raise ParameterError(f"参数 {name}：应为文字，实为 {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"参数 seed：{seed!r} 不是大于等于 0 的整数")
    if policy not in planner.base_policy_names():
        raise ParameterError(f"参数 policy：{POLICIES_DIR} 中没有方案文件 {policy}.yaml"
                             f"（可选：{'、'.join(planner.base_policy_names())}）")
    if registers and not Path(registers).is_dir():
        raise ParameterError(f"参数 registers：{registers} 不是目录")
    return PlannerApp(policy, registers or None, seed, Path(save_dir) if save_dir else POLICIES_DIR)
