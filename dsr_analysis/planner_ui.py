"""Widgets of the annual-plan planner (``notebooks/planner.ipynb``, served with Voilà).

Only wiring lives here: every control maps one-to-one onto an argument of
:func:`dsr_analysis.planner.plan_outcome` / :func:`~dsr_analysis.planner.build_policy` /
:func:`~dsr_analysis.planner.save_policy`, and every callback calls those functions and
shows what they return. Each widget carries a stable CSS class (``dsr-ratio-<rule id>``,
``dsr-weight-A``, ``dsr-inspectors-<unit>``, ``dsr-verdict``, ``dsr-gaps``, ``dsr-quota-table``,
``dsr-save`` …) so a browser test, or a person's style sheet, can find it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

from . import planner
from .categories import CATEGORY_ZH
from .errors import DsrError, ParameterError, RegisterError
from .paths import POLICIES_DIR
from .quotas import SUBSET_ZH

_STYLE = {"description_width": "150px"}
_WIDE = {"width": "460px"}
_CSS = """
<style>
.dsr-planner table.dsr-table {border-collapse: collapse; font-size: 13px; margin: 4px 0 12px 0;}
.dsr-planner table.dsr-table th, .dsr-planner table.dsr-table td
  {border: 1px solid #ccc; padding: 2px 6px; text-align: right;}
.dsr-planner table.dsr-table th {background: #f2f2f2;}
.dsr-planner .dsr-ok {color: #17661d; font-weight: bold;}
.dsr-planner .dsr-bad {color: #b00020; font-weight: bold;}
.dsr-planner .dsr-banner-ok {background: #e6f4e6; border-left: 6px solid #2e7d32; padding: 6px 10px;}
.dsr-planner .dsr-banner-bad {background: #fdecea; border-left: 6px solid #c62828; padding: 6px 10px;}
.dsr-planner .dsr-banner-warn {background: #fff4e5; border-left: 6px solid #ef6c00; padding: 6px 10px;}
</style>
"""


def _table(frame: pd.DataFrame, verdict_column: str | None = None) -> str:
    """A DataFrame as an HTML table, verdict cells coloured."""
    text = frame.to_html(index=False, escape=True, classes="dsr-table", border=0)
    if verdict_column is not None:
        for good in ("可行", "达标"):
            text = text.replace(f"<td>{good}</td>", f'<td class="dsr-ok">{good}</td>')
        for bad in ("不可行", "未达标"):
            text = text.replace(f"<td>{bad}</td>", f'<td class="dsr-bad">{bad}</td>')
    return text


def _error_text(exc: DsrError, lines: int = 4) -> str:
    """An error for the page: register errors shortened to their first problems."""
    if isinstance(exc, RegisterError):
        shown = "\n".join(str(p) for p in exc.problems[:lines])
        more = len(exc.problems) - lines
        text = (f"登记册与方案不符 ({len(exc.problems)} 个问题), 例如:\n{shown}"
                + (f"\n… 另有 {more} 个问题" if more > 0 else ""))
    else:
        text = str(exc)
    return html.escape(text).replace("\n", "<br>")


def _gap_list(outcome: planner.PlanOutcome) -> str:
    """The coverage gaps as a short warning list (empty when there are none)."""
    lines = planner.gaps_display(outcome.gaps)
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return (f'<div class="dsr-banner-warn"><b>⚠ 覆盖缺口 ({len(lines)} 项)</b>'
            f'<ul style="margin: 2px 0 0 0;">{items}</ul></div>')


def _rule_label(policy, rule) -> str:
    level = "新区本级" if rule.level == "area" else "县级"
    units = [u.name for u in policy.units if u.level == rule.level]
    if rule.level == "area" and len(units) == 1:
        level = units[0]
    subset = "" if rule.subset == "all" else f"·{SUBSET_ZH[rule.subset]}"
    return f"{level}·{CATEGORY_ZH[rule.category].replace('监管对象', '')}{subset}"


def _plan_prefix(policy_id: str) -> str:
    return re.sub(r"-?\d{4}$", "", policy_id) or policy_id


class PlannerApp:
    """The planner's widget tree and its callbacks.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The root widget (display it).
    outcome : PlanOutcome or None
        What the outputs show now.
    """

    def __init__(self, policy: str, registers: str | None, seed: int, save_dir: str | Path):
        self.registers = registers or None
        self.save_dir = Path(save_dir)
        self.outcome: planner.PlanOutcome | None = None
        self._quiet = False

        self.base = w.Dropdown(options=planner.base_policy_names(), value=policy,
                               description="起始方案", style=_STYLE,
                               layout=w.Layout(width="380px"))
        self.base.add_class("dsr-base-policy")
        self.ratio_box = w.VBox()
        self.weights = {c: w.FloatSlider(min=0.0, max=5.0, step=0.1, description=f"{c}类权重",
                                         continuous_update=False, style=_STYLE,
                                         readout_format=".1f", layout=w.Layout(**_WIDE))
                        for c in ("A", "B", "C", "D")}
        for c, s in self.weights.items():
            s.add_class(f"dsr-weight-{c}")
        self.overlap = w.ToggleButtons(
            options=[("独立抽取", "independent"), ("轮换", "rotation"), ("年度上限", "yearly_cap")],
            style={"button_width": "100px"},
            tooltips=["每季度独立抽取, 同一对象可能多次抽中", "本年度未抽过的对象优先",
                      "同一对象每年最多抽中的次数"])
        self.overlap.add_class("dsr-overlap")
        self.yearly_cap = w.IntSlider(min=1, max=8, description="每年最多抽中次数",
                                      continuous_update=False, style=_STYLE,
                                      layout=w.Layout(**_WIDE))
        self.yearly_cap.add_class("dsr-yearly-cap")
        self.joint = w.FloatSlider(min=0.0, max=1.0, step=0.05, description="内部联合抽查占比",
                                   readout_format=".0%", continuous_update=False, style=_STYLE,
                                   layout=w.Layout(**_WIDE))
        self.joint.add_class("dsr-internal-joint")
        self.inspector_box = w.VBox()
        self.inspectors: dict[str, w.BoundedIntText] = {}
        self.seed = w.BoundedIntText(value=int(seed), min=0, max=2**31 - 1,
                                     description="随机种子", style=_STYLE)
        self.seed.add_class("dsr-seed")

        self.timing = w.HTML()
        self.timing.add_class("dsr-timing")
        self.verdict = w.HTML()
        self.verdict.add_class("dsr-verdict")
        self.summary = w.HTML()
        self.summary.add_class("dsr-summary")
        self.gaps = w.HTML()
        self.gaps.add_class("dsr-gaps")
        self.quota_table = w.HTML()
        self.quota_table.add_class("dsr-quota-table")
        self.workload = w.HTML()
        self.workload.add_class("dsr-workload")
        self.minimums = w.HTML()
        self.minimums.add_class("dsr-minimums")
        self.coverage = w.HTML()
        self.coverage.add_class("dsr-coverage")

        self.year = w.BoundedIntText(min=2000, max=2100, description="计划年度", style=_STYLE)
        self.year.add_class("dsr-plan-year")
        self.name = w.Text(description="方案文件名", placeholder="xiongan-2024", style=_STYLE)
        self.name.add_class("dsr-plan-name")
        self.overwrite = w.Checkbox(value=False, description="覆盖已有文件", indent=False)
        self.overwrite.add_class("dsr-overwrite")
        self.save = w.Button(description="保存方案", button_style="primary", icon="save")
        self.save.add_class("dsr-save")
        self.save_message = w.HTML()
        self.save_message.add_class("dsr-save-message")

        self._load_base(policy)
        for widget in [*self.weights.values(), self.overlap, self.yearly_cap, self.joint,
                       self.seed]:
            widget.observe(self._on_change, names="value")
        self.base.observe(self._on_base, names="value")
        self.year.observe(self._on_year, names="value")
        self.save.on_click(self._on_save)

        controls = w.VBox([
            w.HTML("<b>起始方案</b>"), self.base,
            w.HTML("<b>每季度抽查比例 (R4)</b>"), self.ratio_box,
            w.HTML("<b>信用风险分类权重 (R3)</b>"), *self.weights.values(),
            w.HTML("<b>跨季度重叠控制</b>"), self.overlap, self.yearly_cap,
            w.HTML("<b>联合抽查 (R5)</b>"), self.joint,
            w.HTML("<b>可用执法人员 (人)</b>"), self.inspector_box,
            w.HTML("<b>快速模拟</b>"), self.seed,
            w.HTML("<hr><b>保存为新方案</b>"), self.year, self.name, self.overwrite,
            self.save, self.save_message,
        ], layout=w.Layout(width="500px", min_width="500px"))
        outputs = w.VBox([
            self.verdict, self.summary, self.gaps, self.timing,
            w.HTML("<h4>每季度抽查任务 (各单位, R3/R4)</h4>"), self.quota_table,
            w.HTML("<h4>执法力量: 需要 vs 可用 (每季度)</h4>"), self.workload,
            w.HTML("<h4>2023年方案最低要求 (R3/R4/R5)</h4>"), self.minimums,
            w.HTML("<h4>年度覆盖率与威慑率 (估算)</h4>"), self.coverage,
        ], layout=w.Layout(flex="1 1 auto", padding="0 0 0 16px"))
        self.widget = w.VBox([
            w.HTML(_CSS + "<h2>年度“双随机”抽查计划编制器</h2>"),
            w.HBox([controls, outputs]),
        ])
        self.widget.add_class("dsr-planner")
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """Display as the widget tree; the text form is stable (no model ids, no timings)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"年度抽查计划编制器 (起始方案 {self.base.value})"
        return bundle

    # ----------------------------------------------------------------------------------
    def _load_base(self, name: str) -> None:
        """Set every control to the values of the policy ``name``."""
        self._quiet = True
        try:
            base = planner.resolve_policy(name)
            start = planner.plan_from_policy(base)
            sliders = []
            self.ratios: dict[str, w.FloatSlider] = {}
            for rule in planner.random_rules(base):
                if rule.basis == "share":
                    s = w.FloatSlider(value=rule.ratio, min=0.0, max=1.0, step=0.01,
                                      readout_format=".0%")
                else:
                    s = w.FloatSlider(value=rule.ratio, min=0.0, max=20.0, step=0.1,
                                      readout_format=".1f")
                s.description = _rule_label(base, rule)
                s.layout = w.Layout(**_WIDE)
                s.description_allow_html = False
                s.continuous_update = False
                s.style = _STYLE
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
                counts = planner.default_inspectors(base, self.registers)
            except RegisterError:
                counts = {u.id: 0 for u in base.units}
            self.inspectors = {}
            boxes = []
            for unit in base.units:
                box = w.BoundedIntText(value=counts[unit.id], min=0, max=100000,
                                       description=unit.name, style=_STYLE)
                box.add_class(f"dsr-inspectors-{unit.id}")
                box.observe(self._on_change, names="value")
                self.inspectors[unit.id] = box
                boxes.append(box)
            self.inspector_box.children = boxes
            self.year.value = base.year + 1
            self.name.value = f"{_plan_prefix(base.id)}-{base.year + 1}"
        finally:
            self._quiet = False

    def arguments(self) -> dict[str, Any]:
        """The controls' values as the keyword arguments of :func:`planner.plan_outcome`."""
        return dict(
            base_policy=self.base.value,
            ratios={k: s.value for k, s in self.ratios.items()},
            credit_weights={c: s.value for c, s in self.weights.items()},
            overlap=self.overlap.value,
            yearly_cap=self.yearly_cap.value,
            internal_joint_share=self.joint.value,
            inspectors_available={k: b.value for k, b in self.inspectors.items()},
            seed=self.seed.value,
            registers=self.registers,
        )

    def refresh(self) -> None:
        """Recompute the outcome and show it."""
        self.yearly_cap.disabled = self.overlap.value != "yearly_cap"
        try:
            out = planner.plan_outcome(**self.arguments())
        except DsrError as exc:
            self.outcome = None
            self.verdict.value = (f'<div class="dsr-banner-bad">无法计算: '
                                  f'{_error_text(exc)}</div>')
            for h in (self.summary, self.gaps, self.quota_table, self.workload, self.minimums,
                      self.coverage):
                h.value = ""
            return
        self.outcome = out
        if out.feasible:
            self.verdict.value = ('<div class="dsr-banner-ok"><b>可行</b>: 各单位执法力量足以完成'
                                  '每季度抽查任务</div>')
        else:
            self.verdict.value = (f'<div class="dsr-banner-bad"><b>⚠ 不可行</b>: '
                                  f'{html.escape(out.warning)}</div>')
        failed = out.minimums[~out.minimums["met"]]
        mins = ('<span class="dsr-ok">2023年方案最低要求全部达标</span>' if out.all_minimums_met
                else f'<span class="dsr-bad">{len(failed)} 项未达到2023年方案最低要求</span>')
        self.summary.value = (
            f"<p>{mins} · 年度覆盖率 {out.coverage_total:.1%} (模拟 "
            f"{out.simulated_coverage_total:.1%}) · 威慑率 {out.deterrence_total:.1%}</p>")
        self.gaps.value = _gap_list(out)
        self.timing.value = f"<small>更新用时 {out.elapsed * 1000:.0f} 毫秒</small>"
        self.quota_table.value = _table(out.quota_table)
        self.workload.value = _table(planner.workload_display(out.workload), "结论")
        self.minimums.value = _table(planner.minimums_display(out.minimums), "结论")
        self.coverage.value = _table(planner.coverage_display(out.coverage))

    # ----------------------------------------------------------------------------------
    def _on_change(self, _change: dict) -> None:
        if not self._quiet:
            self.refresh()

    def _on_base(self, change: dict) -> None:
        try:
            self._load_base(change["new"])
        except DsrError as exc:
            self.verdict.value = (f'<div class="dsr-banner-bad">无法读取方案: '
                                  f'{_error_text(exc)}</div>')
            return
        self.refresh()

    def _on_year(self, change: dict) -> None:
        self.name.value = f"{_plan_prefix(self.base.value)}-{change['new']}"

    def _on_save(self, _button: Any) -> None:
        args = self.arguments()
        try:
            plan = planner.build_policy(
                args["base_policy"], args["ratios"], args["credit_weights"], args["overlap"],
                args["yearly_cap"], args["internal_joint_share"], year=self.year.value)
            path = planner.save_policy(plan, self.name.value, self.save_dir,
                                       overwrite=self.overwrite.value,
                                       note=f"based on {args['base_policy']}")
        except planner.PlanExistsError:
            self.save_message.value = (
                f'<div class="dsr-banner-warn">文件 {html.escape(self.name.value)}.yaml 已存在，'
                '未保存。请换一个文件名，或勾选“覆盖已有文件”后再保存。</div>')
            return
        except DsrError as exc:
            self.save_message.value = (f'<div class="dsr-banner-bad">未保存: '
                                       f'{_error_text(exc)}</div>')
            return
        self.overwrite.value = False
        in_policies = self.save_dir.resolve() == POLICIES_DIR.resolve()
        ref = path.stem if in_policies else str(path)
        self.save_message.value = (
            f'<div class="dsr-banner-ok">已保存: {html.escape(str(path))}<br>'
            f'批处理: <code>dsr quotas --policy {html.escape(ref)} '
            f'--quarter {plan.year}Q1</code></div>')
        if in_policies:
            current = self.base.value
            self._quiet = True
            try:
                self.base.options = planner.base_policy_names()
                self.base.value = current
            finally:
                self._quiet = False


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
        Name of the plan to start from (a file in ``parameters/policies/``).
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
            raise ParameterError(f"parameter '{name}': expected text, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"parameter 'seed': {seed!r} is not a whole number >= 0")
    if policy not in planner.base_policy_names():
        raise ParameterError(f"parameter 'policy': no file '{policy}.yaml' in {POLICIES_DIR} "
                             f"(available: {', '.join(planner.base_policy_names())})")
    if registers and not Path(registers).is_dir():
        raise ParameterError(f"parameter 'registers': {registers} is not a directory")
    return PlannerApp(policy, registers or None, seed, Path(save_dir) if save_dir else POLICIES_DIR)
