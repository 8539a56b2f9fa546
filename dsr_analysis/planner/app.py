"""The planner page (``notebooks/planner.ipynb``, served as a web page): the widgets and
their callbacks.

Only wiring lives here: every control maps one-to-one onto an argument of
:func:`~dsr_analysis.planner.outcome.plan_outcome` /
:func:`~dsr_analysis.planner.plans.build_policy` / :func:`~dsr_analysis.planner.plans.save_policy`,
and every callback calls the planner's functions and shows what they return
(:mod:`~dsr_analysis.planner.fragments` makes the HTML).

The page, for a 1366 x 768 laptop screen: a header line (the register, the plan to start
from, the plan to compare with, reset), the red 演示数据 banner while the embedded sample
register is in use; the controls on the left (with the register folder to load); on the
right, in the first screen, the verdict with a note on what each model figure assumes, what
to change when the plan is infeasible, the coverage gaps and three compact tables. Below: the
comparison, the quota table, the full tables, the quick simulation and the help. The first
screen is shown as soon as the outcome is computed; the comparison, detail tables and
suggestions follow.

Each widget carries a stable CSS class (``dsr-ratio-<rule id>``, ``dsr-weight-A``,
``dsr-inspectors-<unit>``, ``dsr-registers-dir``, ``dsr-registers-load``,
``dsr-demo-banner``, ``dsr-verdict``, ``dsr-suggestions`` …).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..draw.binding import register_line
from ..errors import DsrError, ParameterError, RegisterError
from ..paths import DEFAULT_POLICY, OUTPUTS_DIR, POLICIES_DIR
from ..policy import Policy
from ..registers import load_registers
from .cache import check_parameters
from .compare import PlanComparison, compare_outcomes
from .fragments import (coverage_summary_html, demo_banner_html, error_html, escape, frame_html,
                        gaps_html, help_html, minimums_matrix_html, percent_text, plan_prefix, register_label_html, verdict_html,
                        workload_summary_html)
from .labels import plan_label, ratio_text, rule_label
from .outcome import PlanOutcome, plan_outcome
from .plans import (build_policy, map_onto_units, plan_files, plan_from_policy,
                    plan_inputs, plans_directory, random_rules, resolve_policy, save_policy)
from .settings import RATIO_STEP, clause_of, default_assumptions, planner_settings
from .suggest import Suggestion, suggest_changes
from .widgets import HALF_STYLE, LABEL_STYLE, make_save_form, make_widgets
from .views import (comparison_document, comparison_summary, comparison_tables,
                    coverage_display, minimums_display, quota_display, workload_display,
                    write_comparison_xlsx)



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
        self.settings = planner_settings()
        self.jurisdiction = resolve_policy(policy)   # whose units the register has
        self.outcome: PlanOutcome | None = None
        self.suggestions: tuple[Suggestion, ...] = ()
        self.comparison: PlanComparison | None = None
        self.base_plan: Policy | None = None
        self._other_cache: dict[tuple, PlanOutcome] = {}
        self._quiet = False

        make_widgets(self, policy, seed)
        make_save_form(self)
        self._load_base(policy)
        self._wire()
        self._arrange()
        self._show_register()
        self.refresh()

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
        self.registers_load.on_click(self._on_registers)

    def _arrange(self) -> None:
        """The page: header, controls on the left, the verdict and tables on the right, details below."""
        def sec(text: str, tip: str = "") -> w.HTML:
            inner = f'<span title="{escape(tip)}">{escape(text)} ⓘ</span>' if tip else escape(text)
            return w.HTML(f'<div class="dsr-sec">{inner}</div>')

        controls = w.VBox([
            sec("名录库", "本单位名录库所在的文件夹（检查对象、执法人员等名录）；留空为软件自带的样本数据"),
            w.HBox([self.registers_dir, self.registers_load]), self.registers_message,
            sec("每季度抽查比例", f"依据：{clause_of('R4')}；滑块下限为 0，2023年方案的最低要求见右侧"),
            self.ratio_box,
            sec("信用风险分类权重（A 低风险 … D 高风险）",
                f"依据：{clause_of('R3')}；不同信用类别采用不同抽查比例，权重越大越易被抽中"),
            w.GridBox(list(self.weights.values()), layout=w.Layout(
                grid_template_columns="repeat(2, 205px)", grid_gap="0 4px")),
            sec("跨季度重叠控制"), w.HBox([self.overlap]), self.yearly_cap,
            sec("联合抽查", f"依据：{clause_of('R5')}"), self.joint,
            sec("可用执法人员（人）", "参加“双随机”抽查的在岗持证执法人员；保存方案时一并保存"),
            self.inspector_box, self.assumption_box,
            sec("保存方案", "保存为新的方案文件，含可用执法人员和测算假设；已发布的方案和已用于抽取的方案不能覆盖"),
            w.HBox([self.year, self.name]), w.HBox([self.overwrite, self.save]),
            self.save_message,
        ], layout=w.Layout(width="425px", min_width="425px"))
        controls.add_class("dsr-controls")
        results = w.VBox([
            self.verdict, self.model_note, self.suggestion_box, self.gaps,
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
            w.HTML(help_html(self.settings, self.settings.clauses)),
        ])
        details.add_class("dsr-details")
        header = w.HBox([self.title, self.base, self.compare, self.reset],
                        layout=w.Layout(align_items="center"))
        header.add_class("dsr-header")
        self.widget = w.VBox([header, self.demo_banner, w.HBox([controls, results]), details])
        self.widget.add_class("dsr-planner")

    def _show_register(self) -> None:
        """The register in the title (folder name; the full description as a tooltip) and the
        演示数据 banner while the embedded sample is in use."""
        self.title.value = register_label_html(self.registers, register_line(self.registers))
        banner = demo_banner_html(self.registers)
        self.demo_banner.value = banner
        self.demo_banner.layout.display = None if banner else "none"

    def load_register(self, directory: str) -> bool:
        """Check the register in ``directory`` against the plan's units (the checks and
        messages of ``dsr validate``) and, when it passes, count every plan on it (empty:
        the embedded sample). Returns whether it was loaded; the message says why not."""
        directory = directory.strip()
        if directory:
            try:
                if not Path(directory).expanduser().is_dir():
                    raise ParameterError(f"{directory} 不是文件夹")
                directory = str(Path(directory).expanduser().resolve())
                registers = load_registers(directory, units=self.jurisdiction.unit_names)
            except DsrError as exc:
                self.registers_message.value = (f'<div class="dsr-banner dsr-banner-bad">未载入：'
                                                f'{error_html(exc)}</div>')
                return False
            message = (f"已载入：检查对象 {len(registers.enterprises)} 家，执法人员 "
                       f"{len(registers.inspectors)} 人")
        else:
            message = "已改用样本数据"
        self.registers = directory or None
        self._other_cache.clear()
        self._show_register()
        self._load_base(self.base.value)
        self.refresh()
        self.registers_message.value = f'<span class="dsr-ok">{escape(message)}</span>'
        return True

    def _on_registers(self, _button: Any) -> None:
        self.load_register(self.registers_dir.value)

    def first_screen_html(self) -> str:
        """The first screen as one static HTML fragment (title, banner, verdict, notes, gaps
        and the three compact tables; the controls still to come): what a fresh page shows
        from the cache while the widgets are made (:mod:`~dsr_analysis.planner.page`)."""
        def div(widget: w.HTML, cls: str) -> str:
            return f'<div class="{cls}">{widget.value}</div>'

        return (f'<div class="dsr-planner dsr-first-screen">{self.title.value}'
                f'{self.demo_banner.value}<div style="display: flex">'
                '<div class="dsr-controls-pending" style="width: 425px; min-width: 425px; '
                'color: #666">正在载入调整控件…</div>'
                '<div style="flex: 1 1 auto; padding: 0 0 0 10px">'
                f'{div(self.verdict, "dsr-verdict")}{div(self.model_note, "dsr-model-notes")}'
                f'{div(self.gaps, "dsr-gaps")}<div style="display: flex">'
                f'{div(self.minimums_summary, "dsr-minimums-summary")}'
                '<div style="margin: 0 0 0 10px">'
                f'{div(self.workload_summary, "dsr-workload-summary")}'
                f'{div(self.coverage_summary, "dsr-coverage-summary")}</div></div></div></div></div>')

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
        for path in plan_files(POLICIES_DIR):
            out.append((self._label(path), path.stem))
            seen.add(path.resolve())
        if self.save_dir.resolve() != POLICIES_DIR.resolve():
            for path in plan_files(self.save_dir):
                if path.resolve() not in seen:
                    out.append((self._label(path), str(path)))
        return out

    @staticmethod
    def _label(path: Path) -> str:
        try:
            return plan_label(resolve_policy(path))
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

    def _resolve(self, value: str) -> Policy:
        """A plan of the lists, on the register's units (another jurisdiction's mapped)."""
        return map_onto_units(resolve_policy(value), self.jurisdiction)

    # ----------------------------------------------------------------------------------
    def _load_base(self, name: str) -> None:
        """Set every control to the values of the plan ``name`` (its saved inspectors and
        assumptions too)."""
        base = self._resolve(name)
        self._quiet = True
        try:
            self.base_plan = base
            start = plan_from_policy(base)
            sliders = []
            self.ratios = {}
            for rule in random_rules(base):
                if rule.basis == "share":
                    s = w.FloatSlider(value=rule.ratio, min=0.0, max=1.0,
                                      step=RATIO_STEP["share"], readout_format=".0%")
                else:
                    s = w.FloatSlider(value=rule.ratio, min=0.0, max=20.0,
                                      step=RATIO_STEP["per_inspector"],
                                      readout_format=".1f")
                s.description = rule_label(base, rule)
                s.tooltip = self._ratio_tip(base, rule)
                s.layout = w.Layout(width="410px")
                s.description_allow_html = False
                s.continuous_update = False
                s.style = LABEL_STYLE
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
                inputs = plan_inputs(base, self.registers, self.settings)
            except RegisterError:
                inputs = dict(inspectors_available={u.id: 0 for u in base.units},
                              assumptions=default_assumptions(self.settings))
            self.inspectors = {}
            boxes = []
            for unit in base.units:
                box = w.BoundedIntText(value=inputs["inspectors_available"][unit.id], min=0,
                                       max=100000, description=unit.name, style=HALF_STYLE,
                                       layout=w.Layout(width="205px"))
                box.add_class(f"dsr-inspectors-{unit.id}")
                box.observe(self._on_change, names="value")
                self.inspectors[unit.id] = box
                boxes.append(box)
            self.inspector_box.children = boxes
            for k, box in self.assumptions.items():
                box.value = inputs["assumptions"][k]
            source = resolve_policy(name)
            if source.planner is not None:          # a draft: keep editing it
                self.year.value = base.year
                self.name.value = source.id
            else:
                year = max(base.year, self.jurisdiction.year) + 1
                prefix = plan_prefix(base.id)
                if base is not source:              # another jurisdiction's rules, mapped
                    prefix = f"{plan_prefix(self.jurisdiction.id)}-{prefix}"
                self.year.value = year
                self.name.value = f"{prefix}-{year}"
        finally:
            self._quiet = False

    def _ratio_tip(self, policy: Policy, rule) -> str:
        ref = {(r.level, r.category, r.subset): r for r in
               resolve_policy(DEFAULT_POLICY).quotas.rules}.get(
            (rule.level, rule.category, rule.subset))
        if ref is None or ref.method != "random":
            return "2023年方案对这类对象没有抽查比例要求"
        return (f"2023年方案：每季度不低于 {ratio_text(ref, ref.ratio)}"
                f"（{clause_of(ref.rule)}）")

    def arguments(self) -> dict[str, Any]:
        """The controls' values as the keyword arguments of :func:`plan_outcome`."""
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
    def _other_outcome(self) -> tuple[PlanOutcome | None, str]:
        """The outcome of the plan chosen under 对比方案 (cached per file version) and its
        label; (None, "") when none is chosen."""
        value = self.compare.value
        if not value:
            return None, ""
        if value == "base":
            plan, label = self.base_plan, "起始方案"
            key = ("base", id(plan))
        else:
            source = resolve_policy(value)
            plan, label = self._resolve(value), source.id
            key = ("file", source.path, source.sha256)
        if key not in self._other_cache:
            inputs = plan_inputs(plan, self.registers, self.settings)
            self._other_cache[key] = plan_outcome(
                plan, **plan_from_policy(plan), seed=self.seed.value,
                registers=self.registers, **inputs)
        return self._other_cache[key], label

    def refresh(self) -> None:
        """Recompute the outcome and show it: the first screen first, then the comparison,
        the detail tables and, for an infeasible plan, what to change."""
        self.yearly_cap.layout.display = None if self.overlap.value == "yearly_cap" else "none"
        try:
            out = plan_outcome(**self.arguments())
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
        cmp = compare_outcomes(out, other, ("本方案", label)) if other is not None else None
        self.comparison = cmp
        self.verdict.value = verdict_html(out, comparison_summary(cmp) if cmp is not None else "")
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
                                          f'{error_html(compare_error)}</div>')
            self.comparison_box.layout.display = None
        else:
            self.comparison_box.layout.display = "none"
        self.quota_table.value = frame_html(quota_display(out.quotas))
        self.workload.value = frame_html(workload_display(out.workload), "结论")
        self.minimums.value = frame_html(minimums_display(out.minimums), "结论")
        self.coverage.value = frame_html(coverage_display(out.coverage))
        if not out.feasible:
            self._show_suggestions(out)

    def _show_error(self, what: str, exc: DsrError) -> None:
        self.outcome = None
        self.suggestions = ()
        self.verdict.value = (f'<div class="dsr-banner dsr-banner-bad">{escape(what)}: '
                              f'{error_html(exc)}</div>')
        for h in (self.gaps, self.minimums_summary, self.workload_summary,
                  self.coverage_summary, self.quota_table, self.workload, self.minimums,
                  self.coverage, self.timing):
            h.value = ""
        self.suggestion_box.children = []
        self.suggestion_box.layout.display = "none"
        self.comparison_box.layout.display = "none"

    def _show_comparison(self, cmp: PlanComparison) -> None:
        tables = comparison_tables(cmp)
        parts = [f'<div class="dsr-sec">方案对比：本方案 与 {escape(cmp.labels[1])}'
                 f'（黄色底为不同之处）</div><div>{escape(comparison_summary(cmp))}</div>']
        titles = {"对比摘要": "总体", "抽查任务": "每季度抽查任务", "执法力量": "执法力量（每季度）",
                  "覆盖率与违法率": "年度覆盖率与预计违法率", "最低要求": "2023年方案最低要求",
                  "方案参数": "方案参数"}
        for name, frame in tables.items():
            pct = tuple(c for c in frame.columns if c.startswith(("年度覆盖率（", "预计违法率（")))
            shown = frame
            if name == "对比摘要":
                shown = frame.copy()
                for col in shown.columns[1:-1]:
                    shown[col] = [(percent_text(v) if is_pct else v) for v, is_pct in
                                  zip(shown[col], cmp.totals["percent"], strict=True)]
            parts.append(f"<div><b>{escape(titles[name])}</b></div>"
                         + frame_html(shown, changed=frame["changed"], percent=pct))
        self.comparison_html.value = "".join(parts)
        self.comparison_box.layout.display = None

    def _show_suggestions(self, out: PlanOutcome) -> None:
        try:
            self.suggestions = suggest_changes(out, self.registers)
        except DsrError as exc:
            self.suggestion_box.children = [w.HTML(
                f'<div class="dsr-banner dsr-banner-warn">无法给出调整建议: {error_html(exc)}</div>')]
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
                          f'{i + 1}. {escape(s.message + tail)}</span>',
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

    def apply(self, suggestion: Suggestion) -> None:
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
                                  f'{error_html(exc)}</div>') + self.verdict.value
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
            plan = build_policy(
                args["base_policy"], args["ratios"], args["credit_weights"], args["overlap"],
                args["yearly_cap"], args["internal_joint_share"], year=self.year.value,
                inspectors_available=args["inspectors_available"],
                assumptions=args["assumptions"])
            path = save_policy(plan, self.name.value, self.save_dir,
                                       overwrite=self.overwrite.value,
                                       note=f"based on {plan.planner.based_on}")
        except DsrError as exc:
            self.save_message.value = (f'<div class="dsr-banner dsr-banner-bad">未保存：'
                                       f'{error_html(exc)}</div>')
            return
        except OSError as exc:
            self.save_message.value = (f'<div class="dsr-banner dsr-banner-bad">未保存：无法写入'
                                       f'{escape(exc.filename or self.save_dir)}（{escape(exc.strerror)}）</div>')
            return
        self.overwrite.value = False
        in_policies = self.save_dir.resolve() == POLICIES_DIR.resolve()
        ref = path.stem if in_policies else str(path)
        self.save_message.value = (
            f'<div class="dsr-banner dsr-banner-ok">已保存方案“{escape(path.stem)}”（{plan.year}年），'
            f'含可用执法人员和测算假设。<details class="dsr-small"><summary>批处理用法</summary>'
            f'dsr quotas --policy {escape(ref)} --quarter {plan.year}Q1</details></div>')
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
            f'<span>已导出。<a class="dsr-download" download="{escape(path.name)}" '
            f'href="data:{mime};base64,{data}">下载 {escape(path.name)}</a></span>')

    def _on_export(self, _button: Any) -> None:
        target = self._export_path(".xlsx")
        if target is None:
            return
        try:
            path = write_comparison_xlsx(self.comparison, target)
        except (DsrError, OSError) as exc:
            self.export_message.value = f'<span class="dsr-bad">未导出：{escape(exc)}</span>'
            return
        self._offer(path, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    def _on_export_pdf(self, _button: Any) -> None:
        target = self._export_path(".pdf")
        if target is None:
            return
        self.export_message.value = "<span>正在生成 PDF…</span>"
        from ..documents import write_pdf     # WeasyPrint: heavy, only when asked for

        try:
            doc = comparison_document(self.comparison, demo=self.registers is None)
            target.parent.mkdir(parents=True, exist_ok=True)
            path = write_pdf(doc, target)
        except (DsrError, OSError) as exc:
            self.export_message.value = f'<span class="dsr-bad">未导出：{escape(exc)}</span>'
            return
        self._offer(path, "application/pdf")

    def _on_simulate(self, _button: Any) -> None:
        try:
            out = plan_outcome(**self.arguments(), simulate=True)
        except DsrError as exc:
            self.coverage.value = f'<span class="dsr-bad">{error_html(exc)}</span>'
            return
        self.coverage.value = (
            f"<div>模拟 {self.settings.simulation.replicates} 个年度：年度覆盖率 解析 "
            f"{out.coverage_total:.1%}，模拟 {out.simulated_coverage_total:.1%}</div>"
            + frame_html(coverage_display(out.coverage)))


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
        Where "save" writes plans; empty = the workspace's (``$DSR_WORKSPACE/plans``, default
        ``~/dsr-workspace/plans``). Never ``parameters/policies/`` (the shipped plans).
    """
    target = check_parameters(policy, registers, seed, save_dir) or plans_directory()
    return PlannerApp(policy, registers or None, seed, target)
