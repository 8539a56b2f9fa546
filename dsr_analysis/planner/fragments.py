"""The planner page's HTML pieces: its style sheet, the first screen's verdict and compact
tables, the coverage gaps, the 演示数据 banner, the notes under each model figure and the help.
Every value that reaches the page's HTML is escaped.

Each piece carries a stable CSS class (``dsr-verdict``, ``dsr-demo-banner``,
``dsr-model-note``, ``dsr-minimums-summary`` …) so a browser test, or a person's style
sheet, can find it.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DsrError, PolicyError, RegisterError
from ..labels import CATEGORY_ZH
from .outcome import PlanOutcome
from .settings import PlannerSettings
from .views import coverage_matrix, gaps_display

CSS = """
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
.dsr-planner .dsr-demo-banner {background: #c62828; color: #fff; font-weight: bold; padding: 4px 10px;
  margin: 0 0 4px 0;}
.dsr-planner .dsr-model-note {color: #555; font-size: 12px; margin-top: 2px;}
</style>
"""


# --------------------------------------------------------------------------------------
# HTML helpers (every value escaped)
# --------------------------------------------------------------------------------------
def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(text: Any, cls: str = "", title: str = "", tag: str = "td", span: int = 1) -> str:
    attrs = (f' class="{escape(cls)}"' if cls else "") + (f' title="{escape(title)}"' if title else "") \
        + (f' colspan="{span}"' if span > 1 else "")
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def _html_table(header: list[Any], rows: list[list[str]], cls: str = "") -> str:
    """A table from a header (text, or (text, tooltip)) and rows of ready cells."""
    head = "".join(_cell(h[0], title=h[1], tag="th") if isinstance(h, tuple)
                   else _cell(h, tag="th") for h in header)
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return f'<table class="dsr-table {escape(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def frame_html(frame: pd.DataFrame, verdict_column: str | None = None,
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


def error_html(exc: DsrError, lines: int = 4) -> str:
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
        return escape(str(exc)).replace("\n", "<br>")
    return (f"{escape(summary)}<details><summary>详细信息</summary>"
            f"<pre style='white-space: pre-wrap'>{escape(detail)}</pre></details>")


def percent_text(v: float) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def plan_prefix(policy_id: str) -> str:
    return re.sub(r"-?\d{4}$", "", policy_id) or policy_id


# --------------------------------------------------------------------------------------
# The first screen's tables
# --------------------------------------------------------------------------------------
def verdict_html(out: PlanOutcome, compare_line: str = "") -> str:
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
                f'<span>{escape(out.warning)}</span>')
        cls = "dsr-banner-bad"
    mins = (f'<span class="{"dsr-ok" if out.all_minimums_met else "dsr-bad"}">'
            f'2023年方案最低要求 {met}/{total} 项达标</span>')
    figures = (f'{mins} · 年度覆盖率 <b>{out.coverage_total:.1%}</b>'
               f' · 预计违法企业比例 <b>{out.violation_rate:.1%}</b>（每季度）'
               f' · 被威慑比例 <b>{out.deterrence_total:.1%}</b>'
               f' · 检查发现违法率 {out.hit_rate:.1%}')
    line = (f'<div class="dsr-compare-line dsr-compare-summary">{escape(compare_line)}</div>'
            if compare_line else "")
    return f'<div class="dsr-banner {cls}">{head}<div>{figures}</div>{line}</div>'


def minimums_matrix_html(out: PlanOutcome,
                         other: PlanOutcome | None = None) -> str:
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


def workload_summary_html(out: PlanOutcome,
                          other: PlanOutcome | None = None) -> str:
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


def coverage_summary_html(out: PlanOutcome, below: float,
                          other: PlanOutcome | None = None) -> str:
    """Yearly coverage per unit (rows) and category (columns), with each unit's total and
    expected violation rate; cells below ``below`` are red, cells that differ from
    ``other`` highlighted."""
    cm = coverage_matrix(out)
    prev = coverage_matrix(other).set_index("unit") if other is not None else None
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


def gaps_html(out: PlanOutcome, below: float, shown: int = 2) -> str:
    """The coverage gaps as a warning: the first ``shown`` lines, the rest folded."""
    lines = gaps_display(out.gaps)
    if not lines:
        return ""
    items = [f"<li>{escape(line)}</li>" for line in lines]
    more = ""
    if len(items) > shown:
        more = (f"<details><summary>另有 {len(items) - shown} 项</summary>"
                f'<ul class="dsr-list">{"".join(items[shown:])}</ul></details>')
    tip = (f"年度覆盖率为 0 或低于 {below:.0%} 的对象组、抽中概率为 0 的信用类别、"
           "因可抽对象不足而达不到的最低要求")
    return (f'<div class="dsr-banner dsr-banner-warn"><b title="{escape(tip)}">⚠ 覆盖缺口'
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
<li><b>预计违法率、被威慑比例</b>：按{scenario}的行为参数估算（企业在被抽中概率×发现概率×处罚低于违法收益时违法）；被威慑比例指不检查时会违法、因抽查而守法的企业
所占比例。</li>
<li><b>覆盖缺口</b>：全年抽不到或年度覆盖率低于 {below:.0%} 的对象组、抽中概率为 0 的信用类别、
因可抽对象不足而达不到的最低要求。</li>
<li><b>调整建议</b>：方案不可行时，给出现有比例下各单位需要的执法人员，或现有人员下某项比例的最大可行值；
点“应用”即改为该值。</li>
<li><b>保存</b>：保存的方案含可用执法人员和测算假设；名称中的年份须与计划年度一致；已发布的方案和已用于抽取的
方案不能覆盖。</li>
</ul></details>
"""


def help_html(settings: PlannerSettings, clauses: dict[str, str]) -> str:
    """The page's help (what each figure means and what it rests on), citing the clauses of
    the 2023 plan."""
    return _HELP.format(r3=escape(clauses.get("R3", "")), r4=escape(clauses.get("R4", "")),
                        r5=escape(clauses.get("R5", "")), below=settings.coverage_warning_below,
                        scenario=escape(f"仿真情景“{settings.scenario_name or settings.scenario}”"))


def demo_banner_html(registers: str | None) -> str:
    """The red 演示数据 banner while the embedded sample register is in use (empty otherwise)."""
    if registers:
        return ""
    return ('<div class="dsr-demo-banner">演示数据：当前使用软件自带的样本名录库，数字不代表任何真实单位；'
            '请在下方“名录库”中填写本单位名录库所在的文件夹并载入。</div>')


def model_note_html(settings: PlannerSettings) -> str:
    """One line under each model figure: what it assumes and where its parameters come from."""
    d = settings.deterrence
    where = f"仿真情景“{settings.scenario_name or settings.scenario}”"
    coverage = ("年度覆盖率：按本计划的抽取规则逐季递推的解析估算（县级先抽、新区本级后抽），"
                "假定名录库全年不变；不是实际抽查结果。")
    deterrence = (f"预计违法企业比例、被威慑比例、检查发现违法率：行为模型估算，假定企业在“被抽中概率 × "
                  f"发现概率 × 处罚（{d.sanction:g} 万元）”低于其违法收益时违法，不检查也守法的企业占 "
                  f"{d.compliant_share:.0%}，现场检查发现概率 {d.detection_onsite:.0%}、非现场 "
                  f"{d.detection_offsite:.0%}；参数取自{where}，不是统计数据。")
    return (f'<div class="dsr-model-note dsr-model-note-coverage">ⓘ {escape(coverage)}</div>'
            f'<div class="dsr-model-note dsr-model-note-deterrence">ⓘ {escape(deterrence)}</div>')


def register_label_html(registers: str | None, full: str) -> str:
    """The page title with the register the plans are counted on (its folder's name; the
    full description as a tooltip)."""
    shown = f"名录库：{Path(registers).name}" if registers else full
    return (CSS + '<h3>年度“双随机”抽查计划编制器 <small class="dsr-register" '
            f'title="{escape(full)}">{escape(shown)}</small></h3>')


__all__ = ["CSS", "coverage_summary_html", "demo_banner_html", "error_html", "escape",
           "frame_html", "gaps_html", "help_html", "minimums_matrix_html", "model_note_html",
           "percent_text", "plan_prefix", "register_label_html", "verdict_html",
           "workload_summary_html"]
