"""The planner page's widgets, made once per page (:class:`~dsr_analysis.planner.app.PlannerApp`
wires and arranges them): the controls, the outputs, the register chooser and the save form.
Each carries a stable CSS class a browser test can find."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from .fragments import model_note_html
from .labels import ASSUMPTIONS_ZH
from .settings import ASSUMPTIONS, clause_of

LABEL_STYLE = {"description_width": "168px"}
HALF_STYLE = {"description_width": "56px"}


def make_widgets(app: Any, policy: str, seed: int) -> None:
    """The controls and outputs of the page (the save form apart), as attributes of ``app``."""
    options = app._plan_options()
    app.base = w.Dropdown(options=options, value=policy, description="起始方案",
                           style={"description_width": "60px"},
                           layout=w.Layout(width="420px"))
    app.base.add_class("dsr-base-policy")
    app.compare = w.Dropdown(options=app._compare_options(options), value="",
                              description="对比方案", style={"description_width": "60px"},
                              layout=w.Layout(width="420px"),
                              tooltip="选一个方案与当前草稿并列对比，不同之处以黄色标出")
    app.compare.add_class("dsr-compare")
    app.reset = w.Button(description="重置", icon="undo",
                          tooltip="把所有数值恢复为起始方案的数值",
                          layout=w.Layout(width="80px"))
    app.reset.add_class("dsr-reset")

    app.ratio_box = w.VBox()
    app.ratios: dict[str, w.FloatSlider] = {}
    app.weights = {c: w.FloatSlider(min=0.0, max=5.0, step=0.1, description=f"{c}类",
                                     continuous_update=False, style=HALF_STYLE,
                                     readout_format=".1f", layout=w.Layout(width="205px"))
                    for c in ("A", "B", "C", "D")}
    for c, s in app.weights.items():
        s.add_class(f"dsr-weight-{c}")
    app.overlap = w.ToggleButtons(
        options=[("独立抽取", "independent"), ("轮换", "rotation"), ("年度上限", "yearly_cap")],
        style={"button_width": "82px"},
        tooltips=["每季度独立抽取，同一对象可能多次抽中", "本年度未抽过的对象优先",
                  "同一对象每年最多抽中的次数"])
    app.overlap.add_class("dsr-overlap")
    app.yearly_cap = w.IntSlider(min=1, max=8, description="每年最多抽中次数",
                                  continuous_update=False, style=LABEL_STYLE,
                                  layout=w.Layout(width="410px"))
    app.yearly_cap.add_class("dsr-yearly-cap")
    app.joint = w.FloatSlider(min=0.0, max=1.0, step=0.05, description="内部联合抽查占比",
                               readout_format=".0%", continuous_update=False, style=LABEL_STYLE,
                               layout=w.Layout(width="410px"),
                               tooltip=f"2023年方案：不低于30%（{clause_of('R5')}）")
    app.joint.add_class("dsr-internal-joint")
    app.inspector_box = w.GridBox(layout=w.Layout(
        grid_template_columns="repeat(2, 205px)", grid_gap="2px 4px"))
    app.inspectors: dict[str, w.BoundedIntText] = {}
    app.assumptions = {k: w.BoundedFloatText(min=0.0, max=92.0 if k.startswith("days")
                                              else 100.0, step=0.5,
                                              description=ASSUMPTIONS_ZH[k],
                                              style={"description_width": "250px"},
                                              layout=w.Layout(width="380px"))
                        for k in ASSUMPTIONS}
    for k, box in app.assumptions.items():
        box.add_class(f"dsr-assumption-{k}")
    app.assumption_box = w.Accordion(children=[w.VBox(list(app.assumptions.values()))],
                                      titles=("测算假设（每次检查所需人·日等）",),
                                      selected_index=None)
    app.assumption_box.add_class("dsr-assumptions")

    app.verdict = w.HTML()
    app.verdict.add_class("dsr-verdict")
    app.model_note = w.HTML(model_note_html(app.settings))
    app.model_note.add_class("dsr-model-notes")
    app.title = w.HTML()
    app.title.add_class("dsr-title")
    app.demo_banner = w.HTML()
    app.demo_banner.add_class("dsr-demo")
    app.registers_dir = w.Text(value=app.registers or "", placeholder="名录库文件夹，例如 /data/名录库",
                                layout=w.Layout(width="330px"))
    app.registers_dir.add_class("dsr-registers-dir")
    app.registers_load = w.Button(description="载入", icon="folder-open",
                                   tooltip="检查并载入该文件夹中的名录库（与命令行检查名录库的规则相同）",
                                   layout=w.Layout(width="80px"))
    app.registers_load.add_class("dsr-registers-load")
    app.registers_message = w.HTML()
    app.registers_message.add_class("dsr-registers-message")
    app.suggestion_box = w.VBox(layout=w.Layout(display="none"))
    app.suggestion_box.add_class("dsr-suggestions")
    app.gaps = w.HTML()
    app.gaps.add_class("dsr-gaps")
    app.minimums_summary = w.HTML()
    app.minimums_summary.add_class("dsr-minimums-summary")
    app.workload_summary = w.HTML()
    app.workload_summary.add_class("dsr-workload-summary")
    app.coverage_summary = w.HTML()
    app.coverage_summary.add_class("dsr-coverage-summary")
    app.timing = w.HTML()
    app.timing.add_class("dsr-timing")

    app.comparison_html = w.HTML()
    app.comparison_html.add_class("dsr-comparison-tables")
    app.export = w.Button(description="导出对比表（Excel）", icon="download",
                           layout=w.Layout(width="200px"))
    app.export.add_class("dsr-export")
    app.export_pdf = w.Button(description="导出对比说明（PDF）", icon="file",
                               layout=w.Layout(width="200px"),
                               tooltip="按公文格式写出对比说明（需几秒钟）")
    app.export_pdf.add_class("dsr-export-pdf")
    app.export_message = w.HTML()
    app.export_message.add_class("dsr-export-message")
    app.comparison_box = w.VBox([app.comparison_html,
                                  w.HBox([app.export, app.export_pdf,
                                          app.export_message])],
                                 layout=w.Layout(display="none"))
    app.comparison_box.add_class("dsr-comparison")
    app.quota_table = w.HTML()
    app.quota_table.add_class("dsr-quota-table")
    app.workload = w.HTML()
    app.workload.add_class("dsr-workload")
    app.minimums = w.HTML()
    app.minimums.add_class("dsr-minimums")
    app.coverage = w.HTML()
    app.coverage.add_class("dsr-coverage")
    app.seed = w.BoundedIntText(value=int(seed), min=0, max=2**31 - 1,
                                 description="随机种子", style={"description_width": "60px"},
                                 layout=w.Layout(width="200px"))
    app.seed.add_class("dsr-seed")
    app.simulate = w.Button(
        description=f"运行模拟校核（{app.settings.simulation.replicates} 个模拟年）",
        layout=w.Layout(width="260px"),
        tooltip="在登记册上按抽取规则模拟全年抽取，与解析估算的年度覆盖率对照")
    app.simulate.add_class("dsr-simulate")

def make_save_form(app: Any) -> None:
    """Year, name, overwrite, save and its message, as attributes of ``app``."""
    app.year = w.BoundedIntText(min=2000, max=2100, description="计划年度",
                                 style={"description_width": "70px"},
                                 layout=w.Layout(width="205px"))
    app.year.add_class("dsr-plan-year")
    app.name = w.Text(description="方案名称", placeholder="xiongan-2024",
                       style={"description_width": "70px"}, layout=w.Layout(width="205px"),
                       tooltip="保存后的方案名称（英文字母、数字和“-”）；名称中的年份须与计划年度一致")
    app.name.add_class("dsr-plan-name")
    app.overwrite = w.Checkbox(value=False, description="覆盖本编制器保存的同名草稿",
                                indent=False, layout=w.Layout(width="230px"))
    app.overwrite.add_class("dsr-overwrite")
    app.save = w.Button(description="保存方案", button_style="primary", icon="save",
                         layout=w.Layout(width="120px"))
    app.save.add_class("dsr-save")
    app.save_message = w.HTML()
    app.save_message.add_class("dsr-save-message")


__all__ = ["HALF_STYLE", "LABEL_STYLE", "make_save_form", "make_widgets"]
