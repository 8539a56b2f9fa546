"""The planner's labels: the Chinese words of its own terms (overlap modes, the cost of a
check, gap kinds, the indicators and controls of a comparison) and the short labels of plans,
rules and ratios. The regime's terms (levels, categories, subsets, methods) are those of
:mod:`dsr_analysis.labels`."""

from __future__ import annotations

import re

from ..labels import CATEGORY_ZH, LEVEL_ZH, SUBSET_ZH
from ..policy import Policy

OVERLAP_ZH = {"independent": "各季度独立抽取", "rotation": "轮换（先抽未抽过的）",
              "yearly_cap": "年度次数上限"}


ASSUMPTIONS_ZH = {"days_per_inspector_per_quarter": "每名执法人员每季度可用于抽查的人·日",
                  "onsite_inspector_days": "每次现场检查所需人·日",
                  "offsite_inspector_days": "每次非现场检查所需人·日",
                  "joint_extra_inspector_days": "每次内部联合检查另需人·日"}


GAP_KIND_ZH = {"no_coverage": "全年抽不到", "low_coverage": "年度覆盖率低",
               "zero_probability": "抽中概率为零", "draw_shortfall": "可抽对象不足"}


def plan_label(policy: Policy) -> str:
    """A short Chinese label of a plan for a list: place, year and its file name
    (``河北雄安新区2023年方案（xiongan-2023）``; a draft saved by the planner says 草稿)."""
    m = re.match(r"^(.*?)(?:管理委员会)?(?:市)?生态环境局", policy.name or "")
    place = m.group(1) if m and m.group(1) else (policy.name or policy.id)[:12]
    kind = "草稿" if policy.planner is not None else "方案"
    return f"{place}{policy.year}年{kind}（{policy.id}）"


def place_of(policy: Policy) -> str:
    m = re.match(r"^(.*?)(?:管理委员会)?生态环境局", policy.name or "")
    return m.group(1) if m and m.group(1) else policy.id


def rule_label(policy: Policy, rule) -> str:
    """A quota rule in a planner's words: level, category and subset
    (``县级·一般(除正面清单外)``; ``新区本级·重点`` where the level has a single unit)."""
    level = LEVEL_ZH[rule.level]
    units = [u.name for u in policy.units if u.level == rule.level]
    if rule.level == "area" and len(units) == 1:
        level = units[0]
    subset = "" if rule.subset == "all" else f"({SUBSET_ZH[rule.subset]})"
    return f"{level}·{CATEGORY_ZH[rule.category].replace('监管对象', '')}{subset}"


def ratio_text(rule, value: float) -> str:
    """A rule's ratio as a planner reads it (``25%`` a quarter, or ``2.5 家/人·年``)."""
    if rule.basis == "share":
        return f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.1%}"
    per = "年" if rule.per == "year" else "季度"
    return f"{value:g} 家/人·{per}"


#: The indicators of a comparison's totals (:attr:`PlanComparison.totals`, English keys).
TOTALS_ZH = {"feasible": "可行性", "minimums_met": "2023年方案最低要求达标",
             "onsite": "每季度现场检查（次）", "offsite": "每季度非现场检查（次）",
             "joint": "每季度内部联合检查（次）", "days_needed": "每季度需要人·日",
             "days_available": "每季度可用人·日", "coverage": "年度覆盖率",
             "violation_rate": "预计违法企业比例（每季度）", "deterred": "被威慑比例",
             "hit_rate": "检查发现违法率", "gaps": "覆盖缺口（项）"}
FEASIBLE_ZH = {True: "可行", False: "不可行"}
MET_ZH = {True: "达标", False: "未达标"}


__all__ = ["ASSUMPTIONS_ZH", "FEASIBLE_ZH", "GAP_KIND_ZH", "LEVEL_ZH", "MET_ZH", "OVERLAP_ZH",
           "TOTALS_ZH", "place_of", "plan_label", "ratio_text", "rule_label"]
