"""Feasibility: the inspector-days a plan needs against those its units have, and every
minimum of the 2023 plan met or not.

:func:`unit_load` counts the checks and inspector-days per unit and quarter from the analytic
estimate; :func:`capacity` sets them against the inspectors (the area level may borrow the
counties' spare days and pool their inspectors); :func:`plan_minimums` checks every minimum
of the reference plan (R3, R4, R5), an R4 minimum met only when the stratum also keeps enough
eligible objects for the draw to reach it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..labels import CATEGORY_ZH, SUBSET_ZH
from ..policy import Policy
from ..quotas import ceil_quota, credit_share
from ..simulation.analytic import AnalyticResult, achieved_minimum
from .settings import PlannerSettings

def unit_load(policy: Policy, est: AnalyticResult, assumptions: Mapping[str, float]
               ) -> pd.DataFrame:
    """Checks and inspector-days per unit and quarter (no capacity yet).

    The checks of a stratum are the draws the analytic estimate expects it to achieve
    (``min(quota, eligible)``, the mean over the quarters); they are split on-site / off-site
    by the expected draws of its groups (off-site: full off-site coverage, or objects with
    off-site capability when ``methods.offsite_first``)."""
    s = est.strata
    off_by_row = offsite_share_by_row(policy, est)
    per: dict[str, dict[str, float]] = {u.id: dict(checks=0.0, offsite=0.0, random=0.0)
                                         for u in policy.units}
    if len(s):
        drawn = s.groupby("row", sort=True)["drawn"].sum() / est.quarters
        first = s.drop_duplicates("row").set_index("row")
        for row, checks in drawn.items():
            unit, method = first.at[row, "unit"], first.at[row, "method"]
            p = per[unit]
            p["checks"] += float(checks)
            p["offsite"] += float(checks) * off_by_row.get(int(row), 0.0)
            if method == "random":
                p["random"] += float(checks)
    share = policy.joint.internal_min_share
    rows = []
    for unit in policy.units:
        p = per[unit.id]
        onsite = p["checks"] - p["offsite"]
        joint = ceil_quota(share * p["random"])   # R5 counts the drawn checks
        days = (onsite * assumptions["onsite_inspector_days"]
                + p["offsite"] * assumptions["offsite_inspector_days"]
                + joint * assumptions["joint_extra_inspector_days"])
        rows.append(dict(unit=unit.id, unit_name=unit.name, level=unit.level, onsite=onsite,
                         offsite=p["offsite"], joint=joint, days_needed=days))
    return pd.DataFrame(rows)


def offsite_share_by_row(policy: Policy, est: AnalyticResult) -> dict[int, float]:
    """Quota-table row -> expected share of its draws that are off-site checks (full off-site
    coverage, or objects with off-site capability when ``methods.offsite_first``)."""
    m = est.membership
    if not len(m):
        return {}
    offsite = (m["method"].to_numpy() == "offsite_full") | (
        policy.methods.offsite_first & m["offsite_capable"].to_numpy(dtype=bool))
    rows = m["row"].to_numpy(dtype=np.int64)
    draws = m["draws"].to_numpy(dtype=float)
    size = int(rows.max()) + 1
    total = np.bincount(rows, weights=draws, minlength=size)
    off = np.bincount(rows, weights=np.where(offsite, draws, 0.0), minlength=size)
    share = np.divide(off, total, out=np.zeros(size), where=total > 0)
    return dict(enumerate(share.tolist()))


def capacity(policy: Policy, load: pd.DataFrame, inspectors: Mapping[str, int],
              assumptions: Mapping[str, float]) -> pd.DataFrame:
    """The load of each unit against its inspectors: days available (and, for the area
    level when it may draw inspectors across units, the counties' spare days and the pooled
    inspectors), tasks per inspector, feasible and why not (Chinese)."""
    team = policy.staffing.min_inspectors_per_task
    max_tasks = policy.staffing.max_tasks_per_inspector_per_quarter
    cap_off = policy.staffing.max_offsite_tasks_per_inspector_per_quarter
    max_off = cap_off if cap_off is not None else math.inf
    per_inspector = assumptions["days_per_inspector_per_quarter"]
    rows = [dict(r) for r in load.to_dict("records")]
    for r in rows:
        n = int(inspectors[r["unit"]])
        r["inspectors"] = n
        r["days_available"] = n * per_inspector
        r["days_borrowable"] = 0.0
        r["team_pool"] = n
        r["tasks_per_inspector"] = _per(r["onsite"] * team, n)
        r["offsite_per_inspector"] = _per(r["offsite"], n)
        r["max_tasks"] = max_tasks
        r["max_offsite_tasks"] = max_off
    if policy.draw.area_inspectors_across_units:
        # The area level may borrow the counties' spare days, and its teams come from the
        # pooled inspectors of the whole area: task loads and team size are checked on the pool.
        spare = sum(max(r["days_available"] - r["days_needed"], 0.0) for r in rows
                    if r["level"] == "county")
        pool = sum(r["inspectors"] for r in rows)
        onsite_all = sum(r["onsite"] for r in rows)
        offsite_all = sum(r["offsite"] for r in rows)
        for r in rows:
            if r["level"] == "area":
                r["days_borrowable"] = float(spare)
                r["tasks_per_inspector"] = _per(onsite_all * team, pool)
                r["offsite_per_inspector"] = _per(offsite_all, pool)
                r["team_pool"] = pool
    for r in rows:
        have = r["days_available"] + r["days_borrowable"]
        why = []
        if r["days_needed"] > have + 1e-9:
            why.append(f"需要 {r['days_needed']:.0f} 人·日, 可用 {have:.0f} 人·日, "
                       f"缺 {r['days_needed'] - have:.0f} 人·日")
        if r["tasks_per_inspector"] > max_tasks + 1e-9:
            why.append(f"人均现场任务 {r['tasks_per_inspector']:.1f} 项, 超过每季度上限 "
                       f"{max_tasks} 项")
        if r["offsite_per_inspector"] > max_off + 1e-9:
            why.append(f"人均非现场任务 {r['offsite_per_inspector']:.1f} 项, 超过每季度上限 "
                       f"{max_off:.0f} 项")
        if r["onsite"] > 1e-9 and r["team_pool"] < team:
            why.append(f"执法人员 {r['inspectors']} 人, 每项现场任务至少 {team} 人")
        r["feasible"] = not why
        r["reason"] = "; ".join(why)
    return pd.DataFrame(rows)


def _per(amount: float, n: int) -> float:
    if n:
        return amount / n
    return math.inf if amount > 1e-9 else 0.0


MINIMUM_COLUMNS = ["rule", "unit", "unit_id", "check", "requirement", "plan", "met", "value",
                   "clause", "shortfall", "need", "quota", "expected"]


def plan_minimums(policy: Policy, table: pd.DataFrame, reference: Policy,
              est: AnalyticResult, settings: PlannerSettings) -> pd.DataFrame:
    """Every minimum of the reference (2023) plan against the tuned plan.

    An R4 minimum is met when the plan has the rule, its quota reaches
    ``ceil(2023 ratio x population)`` and the stratum has enough eligible objects, after the
    overlap exclusions (yearly cap, the counties' draws under ``avoid``), for the draw to
    achieve it: the analytic estimate's expected draws reach the need in every quarter."""
    rows = []
    cr = policy.credit_risk
    weights = list((cr.ratios or cr.weights).values())
    differentiated = max(weights) > min(weights)
    share = credit_share(table, policy) if differentiated else 0.0
    nan = float("nan")
    clauses = settings.clauses
    ref_cr = reference.credit_risk
    rows.append(dict(rule=ref_cr.rule, unit="全部", unit_id="", check="运用信用风险分类的抽查占比",
                     requirement=f"≥ {ref_cr.min_share:.0%}",
                     plan=f"{share:.0%}" + ("" if differentiated else " (各类权重相同, 未区分)"),
                     met=bool(share + 1e-12 >= ref_cr.min_share),
                     value=f"{share:.0%}" if differentiated else "未区分",
                     clause=clauses.get(ref_cr.rule, ""), shortfall=False,
                     need=nan, quota=nan, expected=nan))
    rules = {(r.level, r.category, r.subset): r for r in policy.quotas.rules}
    strata = {(u, r): (int(p), int(q)) for u, r, p, q in zip(
        table["unit"], table["quota_rule"], table["population"], table["quota"], strict=True)}
    worst = {(r.unit, r.quota_rule): r for r in achieved_minimum(est).itertuples(index=False)}
    random_by_unit = table[table["method"] == "random"].groupby("unit")["quota"].sum().to_dict()
    for ref in reference.quotas.rules:
        label = f"{CATEGORY_ZH[ref.category]}" + (
            f" ({SUBSET_ZH[ref.subset]})" if ref.subset != "all" else "")
        mine = rules.get((ref.level, ref.category, ref.subset))
        for unit in (u for u in policy.units if u.level == ref.level):
            population, quota = strata.get((unit.id, mine.id), (0, 0)) if mine else (0, 0)
            w = worst.get((unit.id, mine.id)) if mine else None
            expected = float(w.drawn_min) if w is not None else 0.0
            shortfall = False
            if ref.method == "offsite_full":
                requirement = "每季度非现场全覆盖"
                met = mine is not None and mine.method == "offsite_full"
                plan = f"{quota}/{population}" + (" 非现场" if met else " (非全覆盖)")
                value = "全覆盖" if met else "未全覆盖"
                need = population
            else:
                need = ceil_quota(ref.ratio * population)
                requirement = f"每季度 ≥ {ref.ratio:.0%} (≥ {need} 家)"
                ratio = quota / population if population else 0.0
                quota_ok = mine is not None and quota >= need and (
                    mine.ratio + 1e-12 >= ref.ratio or mine.basis != "share")
                enough = expected + 1e-6 >= need
                met = quota_ok and enough
                plan = f"{quota}/{population} ({ratio:.1%})" if mine is not None else "无此项规则"
                value = f"{ratio:.0%}" if mine is not None else "无规则"
                if population == 0 and mine is not None:
                    value = "无对象"
                if mine is not None and quota_ok and not enough:
                    shortfall = True
                    value = "可抽不足"
                    plan += (f"; 扣除已抽和受限对象后第{int(w.quarter_min)}季度预计只有 "
                             f"{w.eligible_min:.1f} 家可抽, 预计抽中 {expected:.1f} 家, "
                             f"不足 {need} 家")
            rows.append(dict(rule=ref.rule, unit=unit.name, unit_id=unit.id, check=label,
                             requirement=requirement, plan=plan, met=bool(met), value=value,
                             clause=clauses.get(ref.rule, ""), shortfall=shortfall,
                             need=float(need), quota=float(quota),
                             expected=expected if mine is not None else nan))
    joint = reference.joint
    rows.append(dict(rule=joint.rule, unit="各级", unit_id="", check="内部联合抽查占比",
                     requirement=f"≥ {joint.internal_min_share:.0%}",
                     plan=f"{policy.joint.internal_min_share:.0%}",
                     met=bool(policy.joint.internal_min_share + 1e-12
                              >= joint.internal_min_share),
                     value=f"{policy.joint.internal_min_share:.0%}",
                     clause=clauses.get(joint.rule, ""), shortfall=False,
                     need=nan, quota=nan, expected=nan))
    need = joint.inter_departmental_per_quarter
    for unit in policy.units:
        random_checks = int(random_by_unit.get(unit.id, 0))
        planned = min(policy.joint.inter_departmental_per_quarter, random_checks)
        rows.append(dict(rule=joint.rule, unit=unit.name, unit_id=unit.id, check="部门联合抽查",
                         requirement=f"每季度 ≥ {need} 次",
                         plan=f"{planned} 次" + ("" if random_checks else " (无随机抽查)"),
                         met=bool(planned >= need), value=f"{planned} 次",
                         clause=clauses.get(joint.rule, ""), shortfall=False,
                         need=nan, quota=nan, expected=nan))
    return pd.DataFrame(rows, columns=MINIMUM_COLUMNS)


__all__ = ["MINIMUM_COLUMNS", "capacity", "offsite_share_by_row", "plan_minimums", "unit_load"]
