"""The planner's tables and texts for readers (Chinese): every display table of an outcome,
its headline, the comparison's tables, summary, workbook and official document. The
outcome and comparison hold data with English keys; the labels are applied here."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..labels import CATEGORY_ZH, QUOTA_METHOD_ZH, SUBSET_ZH
from ..policy import CREDIT_CLASSES
from .compare import PlanComparison
from .labels import (ASSUMPTIONS_ZH, FEASIBLE_ZH, GAP_KIND_ZH, OVERLAP_ZH, TOTALS_ZH, ratio_text,
                     rule_label)
from .outcome import CATEGORY_ORDER, PlanOutcome


def quota_display(table: pd.DataFrame) -> pd.DataFrame:
    """Quarterly quotas per unit, category and subset; per credit class the expected draws,
    the class's objects and its inclusion probability (R3: a different ratio per class)."""
    share = np.divide(table["quota"].to_numpy(float), table["population"].to_numpy(float),
                      out=np.zeros(len(table)), where=table["population"].to_numpy() > 0)
    out = {
        "单位": table["unit_name"].to_numpy(), "类别": table["category"].map(CATEGORY_ZH).to_numpy(),
        "范围": table["subset"].map(SUBSET_ZH).to_numpy(),
        "方式": table["method"].map(QUOTA_METHOD_ZH).to_numpy(),
        "对象数": table["population"].to_numpy(), "每季度抽查数": table["quota"].to_numpy(),
        "抽查比例": [f"{v:.1%}" for v in share],
    }
    for c in CREDIT_CLASSES:
        out[f"{c}类 预计抽查/对象数 (比例)"] = [
            "—" if n == 0 else f"{e:.1f}/{n} ({p:.1%})"
            for e, n, p in zip(table[f"expected_{c}"], table[f"population_{c}"],
                               table[f"probability_{c}"], strict=True)]
    return pd.DataFrame(out)


def gaps_display(gaps: pd.DataFrame) -> list[str]:
    """The coverage gaps as short Chinese warnings, one per line."""
    return [f"{GAP_KIND_ZH[k]}: {msg}" for k, msg in zip(gaps["kind"], gaps["message"],
                                                         strict=True)]


def workload_display(workload: pd.DataFrame) -> pd.DataFrame:
    """Inspector-days per unit and quarter (Chinese headers)."""
    return pd.DataFrame({
        "单位": workload["unit_name"],
        "现场检查": workload["onsite"].round().astype(int),
        "非现场检查": workload["offsite"].round().astype(int),
        "内部联合检查": workload["joint"],
        "执法人员": workload["inspectors"],
        "需要人·日": workload["days_needed"].round().astype(int),
        "可用人·日": workload["days_available"].round().astype(int),
        "可借调人·日": workload["days_borrowable"].round().astype(int),
        "人均任务": workload["tasks_per_inspector"].map(
            lambda v: "∞" if not math.isfinite(v) else f"{v:.1f}"),
        "结论": workload["feasible"].map({True: "可行", False: "不可行"}),
    })


def minimums_display(minimums: pd.DataFrame) -> pd.DataFrame:
    """Every 2023 minimum, one row each, with the clause of the plan that sets it."""
    return pd.DataFrame({
        "依据": minimums["clause"], "单位": minimums["unit"], "检查项": minimums["check"],
        "2023年要求": minimums["requirement"], "本计划": minimums["plan"],
        "结论": minimums["met"].map({True: "达标", False: "未达标"}),
    })


def coverage_display(coverage: pd.DataFrame) -> pd.DataFrame:
    """Yearly coverage and deterrence per own unit and category (Chinese headers); the
    simulated column only when it was computed."""
    out = {
        "所属单位": coverage["unit_name"], "类别": coverage["category"].map(CATEGORY_ZH),
        "对象数": coverage["objects"],
        "年覆盖率(解析)": coverage["coverage"].map(lambda v: f"{v:.1%}"),
    }
    if coverage["simulated_coverage"].notna().any():
        out["年覆盖率(模拟)"] = coverage["simulated_coverage"].map(lambda v: f"{v:.1%}")
    out.update({
        "每家年均抽中次数": coverage["draws_per_object"].map(lambda v: f"{v:.2f}"),
        "预计违法率(每季度)": coverage["violation_rate"].map(lambda v: f"{v:.1%}"),
        "被威慑比例": coverage["deterred"].map(lambda v: f"{v:.1%}"),
    })
    return pd.DataFrame(out)




def comparison_tables(cmp: PlanComparison) -> dict[str, pd.DataFrame]:
    """The comparison as Chinese tables (sheet name -> frame with a ``changed`` column, the
    flag the page highlights and the workbook fills), numbers as numbers."""
    a, b = cmp.labels[1], cmp.labels[0]       # other, current
    q = cmp.quotas
    quotas = pd.DataFrame({
        "单位": q["unit_name"], "类别": q["category"].map(CATEGORY_ZH),
        "范围": q["subset"].map(SUBSET_ZH), "方式": q["method"].map(QUOTA_METHOD_ZH),
        f"对象数（{a}）": q["population_other"], f"每季度抽查数（{a}）": q["quota_other"],
        f"对象数（{b}）": q["population_current"], f"每季度抽查数（{b}）": q["quota_current"],
        "变化": q["change"], "changed": q["changed"]})
    w = cmp.workload
    workload = pd.DataFrame({
        "单位": w["unit_name"],
        f"执法人员（{a}）": w["inspectors_other"], f"执法人员（{b}）": w["inspectors_current"],
        f"需要人·日（{a}）": w["days_needed_other"].round(1),
        f"需要人·日（{b}）": w["days_needed_current"].round(1),
        f"可用人·日（{a}）": (w["days_available_other"] + w["days_borrowable_other"]).round(1),
        f"可用人·日（{b}）": (w["days_available_current"]
                              + w["days_borrowable_current"]).round(1),
        f"结论（{a}）": w["feasible_other"].map({True: "可行", False: "不可行"}),
        f"结论（{b}）": w["feasible_current"].map({True: "可行", False: "不可行"}),
        "changed": w["changed"]})
    c = cmp.coverage
    coverage = pd.DataFrame({
        "所属单位": c["unit_name"], "类别": c["category"].map(CATEGORY_ZH),
        "对象数": c["objects_current"].fillna(c["objects_other"]),
        f"年度覆盖率（{a}）": c["coverage_other"], f"年度覆盖率（{b}）": c["coverage_current"],
        f"预计违法率（{a}）": c["violation_rate_other"],
        f"预计违法率（{b}）": c["violation_rate_current"], "changed": c["changed"]})
    t = cmp.totals
    def total(v):
        return FEASIBLE_ZH[v] if isinstance(v, (bool, np.bool_)) else v

    totals = pd.DataFrame({"指标": t["indicator"].map(TOTALS_ZH), a: t["other"].map(total),
                           b: t["current"].map(total), "changed": t["changed"]})
    m = cmp.minimums
    minimums = pd.DataFrame({
        "依据": m["clause"].fillna(""), "单位": m["unit"], "检查项": m["check"],
        "2023年要求": m["requirement"], f"{a}": m["plan_other"],
        f"结论（{a}）": m["met_other"].map({True: "达标", False: "未达标"}),
        f"{b}": m["plan_current"],
        f"结论（{b}）": m["met_current"].map({True: "达标", False: "未达标"}),
        "changed": m["changed"]})
    ctl = cmp.controls
    rules = {r.id: (cmp.other.policy, r) for r in cmp.other.policy.quotas.rules}
    rules |= {r.id: (cmp.current.policy, r) for r in cmp.current.policy.quotas.rules}
    names = {**cmp.other.policy.unit_names, **cmp.current.policy.unit_names}
    controls = pd.DataFrame({
        "参数": [_control_label(k, key, rules, names) for k, key in zip(ctl["kind"], ctl["key"],
                                                                      strict=True)],
        a: [_control_text(k, key, v, rules) for k, key, v in zip(ctl["kind"], ctl["key"],
                                                                 ctl["other"], strict=True)],
        b: [_control_text(k, key, v, rules) for k, key, v in zip(ctl["kind"], ctl["key"],
                                                                 ctl["current"], strict=True)],
        "changed": ctl["changed"]})
    return {"对比摘要": totals, "抽查任务": quotas, "执法力量": workload,
            "覆盖率与违法率": coverage, "最低要求": minimums, "方案参数": controls}


def _percent_columns(frame: pd.DataFrame) -> list[str]:
    """Columns of a :func:`comparison_tables` frame holding shares (shown as percentages)."""
    return [c for c in frame.columns if c.startswith(("年度覆盖率（", "预计违法率（"))]


def write_comparison_xlsx(cmp: PlanComparison, path: str | Path,
                          today: dt.date | None = None) -> Path:
    """Write the comparison as a workbook (one sheet per table of
    :func:`comparison_tables`, differences filled yellow), atomically.

    Text cells are always text: a value starting with ``=``, ``+``, ``-`` or ``@`` is written
    as a string, never as a formula. Shares are numbers formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from ..documents.layout import write_atomically
    from ..documents.xlsx import a4_landscape

    path = Path(path)
    today = today or dt.date.today()
    tables = comparison_tables(cmp)
    book = Workbook()
    book.remove(book.active)
    fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
    bold = Font(bold=True)
    title = (f"抽查计划对比：{cmp.labels[0]}（{cmp.current.policy.id}）与 "
             f"{cmp.labels[1]}（{cmp.other.policy.id}）")
    for sheet_name, frame in tables.items():
        ws = book.create_sheet(sheet_name)
        pct = set(_percent_columns(frame))
        if sheet_name == "对比摘要":
            pct |= {c for c in frame.columns if c not in ("指标", "changed")}
        _text_cell(ws.cell(row=1, column=1), title).font = Font(bold=True, size=13)
        _text_cell(ws.cell(row=2, column=1),
                   f"生成日期：{today.year}年{today.month}月{today.day}日；"
                   f"黄色底为两方案不同之处")
        cols = [c for c in frame.columns if c != "changed"]
        for j, col in enumerate(cols, start=1):
            cell = _text_cell(ws.cell(row=4, column=j), col)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[cell.column_letter].width = max(10, min(40, 2 * len(col) + 2))
        percent_rows = (cmp.totals["percent"].to_numpy()
                        if sheet_name == "对比摘要" else None)
        for i, (_, r) in enumerate(frame.iterrows(), start=5):
            for j, col in enumerate(cols, start=1):
                v = r[col]
                cell = ws.cell(row=i, column=j)
                if isinstance(v, (bool, np.bool_)):
                    _text_cell(cell, "是" if v else "否")
                elif isinstance(v, (int, float, np.integer, np.floating)) and not (
                        isinstance(v, float) and math.isnan(v)):
                    cell.value = float(v) if isinstance(v, (float, np.floating)) else int(v)
                    is_pct = col in pct and (percent_rows is None or percent_rows[i - 5])
                    cell.number_format = "0.0%" if is_pct else (
                        "0" if float(v).is_integer() else "0.0")
                elif v is None or (isinstance(v, float) and math.isnan(v)):
                    _text_cell(cell, "—")
                else:
                    _text_cell(cell, str(v))
                if bool(r["changed"]):
                    cell.fill = fill
        a4_landscape(ws, 5)
    return write_atomically(path, lambda tmp: book.save(str(tmp)))


def comparison_document(cmp: PlanComparison, today: dt.date | None = None,
                        demo: bool = False):
    """The comparison as an official document (:class:`~dsr_analysis.documents.OfficialDocument`,
    GB/T 9704 layout): the one-line summary, then every table of :func:`comparison_tables`
    with a column 不同 marking the rows that differ (minimums and controls: only those).
    Write it with :func:`dsr_analysis.documents.write_pdf` or ``write_docx``; ``demo`` marks
    every page 演示数据 (the embedded sample register)."""
    from ..documents import Heading, OfficialDocument, Paragraph, Table

    today = today or dt.date.today()
    policy = cmp.current.policy
    tables = comparison_tables(cmp)
    numbers = "一二三四五六七八九十"
    titles = {"对比摘要": "总体情况", "抽查任务": "每季度抽查任务", "执法力量": "执法力量（每季度）",
              "覆盖率与违法率": "年度覆盖率与预计违法率", "最低要求": "2023年方案最低要求（有不同的项目）",
              "方案参数": "方案参数（有不同的项目）"}
    blocks: list = [Paragraph(f"本说明对比{cmp.labels[0]}与{cmp.labels[1]}。{comparison_summary(cmp)}。"
                              "表中“不同”一栏标“是”的行两方案不同。")]
    for i, (name, frame) in enumerate(tables.items()):
        if name in ("最低要求", "方案参数"):
            frame = frame[frame["changed"]]
        shown = frame.drop(columns="changed").assign(不同=["是" if c else "" for c in frame["changed"]])
        percent = tuple(_percent_columns(shown))
        if name == "对比摘要":
            pct = cmp.totals["percent"].to_numpy()
            for col in shown.columns[1:-1]:
                shown[col] = [f"{v:.1%}" if p else v for v, p in zip(shown[col], pct, strict=True)]
        blocks.append(Heading(f"{numbers[i]}、{titles[name]}", level=1))
        if shown.empty:
            blocks.append(Paragraph("两方案相同。"))
        else:
            right = tuple(shown.columns[1:-1]) if name == "对比摘要" else ()
            blocks.append(Table(shown.reset_index(drop=True), percent=percent, right=right))
    return OfficialDocument(
        title=f"{policy.year}年“双随机、一公开”抽查计划方案对比说明", issuer=policy.authority(),
        date=today, blocks=tuple(blocks), demo=demo)


def _text_cell(cell, text: str):
    """Put ``text`` in ``cell`` as a string, never a formula (= + - @ stay text)."""
    cell.value = text
    cell.data_type = "s"
    return cell


def coverage_matrix(outcome: PlanOutcome) -> pd.DataFrame:
    """Yearly coverage per own unit (rows) and category (columns), with every unit's total
    and expected violation rate: the page's compact coverage table. Cells are shares
    (NaN where a unit has no object of the category)."""
    nan = float("nan")
    cells: dict[tuple[str, str], dict] = {(r["unit"], r["category"]): r
                                          for r in outcome.coverage.to_dict("records")}
    rows = []
    for unit in outcome.policy.units:
        row: dict[str, Any] = {"unit": unit.id, "unit_name": unit.name}
        n = covered = violators = 0.0
        for cat in CATEGORY_ORDER:
            r = cells.get((unit.id, cat))
            row[cat] = float(r["coverage"]) if r else nan
            row[f"{cat}_objects"] = int(r["objects"]) if r else 0
            if r:
                n += r["objects"]
                covered += r["coverage"] * r["objects"]
                violators += r["violation_rate"] * r["objects"]
        row["objects"] = int(n)
        row["total"] = covered / n if n else nan
        row["violation_rate"] = violators / n if n else nan
        rows.append(row)
    return pd.DataFrame(rows)


def headline(outcome: PlanOutcome) -> str:
    """A plan's headline numbers as text (Chinese), deterministic for given inputs."""
    self = outcome
    w = self.workload
    met = int(self.minimums["met"].sum())
    groups = self.gaps[self.gaps["kind"].isin(("no_coverage", "low_coverage"))]
    classes = self.gaps[self.gaps["kind"] == "zero_probability"]
    short = self.gaps[self.gaps["kind"] == "draw_shortfall"]
    if self.gaps.empty:
        gap_line = "覆盖缺口: 无"
    else:
        parts = []
        if len(groups):
            parts.append(f"{len(groups)} 组对象 (共 {int(groups['objects'].sum())} 家) "
                         f"全年抽不到或年度覆盖率过低")
        if len(classes):
            parts.append(f"{len(classes)} 个抽查范围中有信用类别的抽中概率为 0")
        if len(short):
            parts.append(f"{len(short)} 项最低要求因可抽对象不足而达不到")
        shown = list(self.gaps["message"][:2])
        more = len(self.gaps) - len(shown)
        gap_line = ("覆盖缺口: " + ", ".join(parts) + " — " + "; ".join(shown)
                    + (f"; 等另 {more} 项" if more > 0 else ""))
    cover = f"年度覆盖率 (至少检查一次): 解析 {self.coverage_total:.1%}"
    if self.simulated:
        cover += f", 模拟 {self.simulated_coverage_total:.1%}"
    lines = [
        f"计划: {self.policy.id} ({self.policy.year}年), 抽查重叠控制: "
        f"{OVERLAP_ZH[self.policy.draw.overlap]}",
        f"每季度检查: 现场 {w['onsite'].sum():.0f} 次, 非现场 {w['offsite'].sum():.0f} 次, "
        f"内部联合 {w['joint'].sum():.0f} 次",
        f"执法力量: 需要 {w['days_needed'].sum():.0f} 人·日 / 可用 "
        f"{w['days_available'].sum():.0f} 人·日 (每季度)",
        "可行性: 可行" if self.feasible else f"可行性: 不可行 — {self.warning}",
        f"2023年方案最低要求: {met}/{len(self.minimums)} 项达标"
        + ("" if self.all_minimums_met else " (有未达标项)"),
        cover,
        gap_line,
        f"威慑: 预计违法企业比例 {self.violation_rate:.1%} (每季度), 被威慑比例 "
        f"{self.deterrence_total:.1%}, 检查发现违法率 {self.hit_rate:.1%}",
    ]
    return "\n".join(lines)


def comparison_summary(cmp: PlanComparison) -> str:
    """One Chinese line: how the current plan differs from the other."""
    cur, oth = cmp.current, cmp.other
    days = cur.workload["days_needed"].sum() - oth.workload["days_needed"].sum()
    cov = (cur.coverage_total - oth.coverage_total) * 100
    vio = (cur.violation_rate - oth.violation_rate) * 100
    parts = [f"每季度抽查数 {cmp.changed_quotas} 处不同",
             f"需要人·日 {days:+.0f}",
             f"年度覆盖率 {cov:+.1f} 个百分点",
             f"预计违法率 {vio:+.1f} 个百分点"]
    met_c, met_o = int(cur.minimums["met"].sum()), int(oth.minimums["met"].sum())
    if met_c != met_o:
        parts.append(f"最低要求达标 {met_o}→{met_c} 项")
    if cur.feasible != oth.feasible:
        parts.append("可行性 " + ("不可行→可行" if cur.feasible else "可行→不可行"))
    return f"与“{cmp.labels[1]}”相比：" + "，".join(parts)


def _control_label(kind: str, key: str, rules: dict, names: dict) -> str:
    if kind == "ratio":
        policy, rule = rules[key]
        return f"每季度抽查比例：{rule_label(policy, rule)}"
    return {"weight": f"信用风险分类权重：{key}类", "overlap": "跨季度重叠控制",
            "joint": "内部联合抽查占比", "inspectors": f"可用执法人员：{names.get(key, key)}",
            "assumption": ASSUMPTIONS_ZH.get(key, key)}[kind]


def _control_text(kind: str, key: str, value: Any, rules: dict) -> str:
    """A control's value as the page shows it (— where a plan lacks the control)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "ratio":
        return ratio_text(rules[key][1], value)
    if kind == "overlap":
        mode, cap = value
        return OVERLAP_ZH[mode] + (f"（每年最多 {cap} 次）" if cap is not None else "")
    if kind == "joint":
        return f"{value:.0%}"
    if kind == "inspectors":
        return f"{value} 人"
    return f"{value:g}"


__all__ = ["comparison_document", "comparison_summary", "comparison_tables", "coverage_display",
           "coverage_matrix", "gaps_display", "headline", "minimums_display", "quota_display",
           "workload_display", "write_comparison_xlsx"]
