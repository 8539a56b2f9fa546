"""What to change: the smallest changes that make an infeasible plan feasible.

Each candidate is checked with the outcome's own steps
(:func:`~dsr_analysis.planner.outcome.plan_quotas`,
:func:`~dsr_analysis.planner.outcome.analytic_estimate`,
:func:`~dsr_analysis.planner.outcome.plan_workload`): more inspectors at today's ratios, or the
largest ratio of a rule (on the slider's grid) that fits today's inspectors.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..policy import Policy
from ..registers import Registers
from .feasibility import capacity, offsite_share_by_row
from .labels import ratio_text, rule_label
from .outcome import PlanOutcome, analytic_estimate, plan_quotas, plan_workload
from .plans import prepare_register, random_rules
from .settings import RATIO_STEP


@dataclass(frozen=True)
class Suggestion:
    """One change that makes (part of) an infeasible plan feasible (:func:`suggest_changes`).

    Attributes
    ----------
    kind : {'inspectors', 'ratio'}
        Set the inspectors of some units, or one rule's ratio.
    inspectors : dict
        Unit id -> the new number of inspectors (``inspectors``; only the units it changes).
    rule : str
        Quota rule id (``ratio``).
    ratio, current : float
        The largest ratio of ``rule`` that fits today's inspectors, and today's (``ratio``).
    fixes : tuple of str
        Units the change makes feasible.
    feasible : bool
        The whole plan is feasible after the change (every unit).
    below_minimum : bool
        The ratio is below the 2023 plan's minimum for the rule: that minimum would then fail.
    message : str
        The change in Chinese.
    """

    kind: str
    message: str
    fixes: tuple[str, ...]
    feasible: bool
    inspectors: dict = field(default_factory=dict)
    rule: str = ""
    ratio: float = float("nan")
    current: float = float("nan")
    below_minimum: bool = False


def _inspectors_needed(policy: Policy, load: pd.DataFrame, inspectors: Mapping[str, int],
                       assumptions: Mapping[str, float], unit: str) -> int | None:
    """The fewest inspectors ``unit`` needs (others unchanged) to be feasible, or None."""
    def ok(n: int) -> bool:
        cap = capacity(policy, load, {**inspectors, unit: n}, assumptions)
        return bool(cap.loc[cap["unit"] == unit, "feasible"].iloc[0])

    lo = int(inspectors[unit])
    if ok(lo):
        return lo
    hi = max(lo, 1)
    while not ok(hi):
        hi *= 2
        if hi > 1_000_000:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def suggest_changes(outcome: PlanOutcome, registers: Registers | str | Path | None = None, *,
                    ratio_rules: int = 2) -> tuple[Suggestion, ...]:
    """The smallest changes that make an infeasible plan feasible (empty when it is).

    * **Inspectors at today's ratios**: for every unit that cannot staff its quarter, the
      fewest inspectors that make it feasible (the days it needs, the tasks per inspector
      and the team size all met; the area level counts the counties' spare days and pooled
      inspectors as :func:`plan_outcome` does); with more than one such unit also all of them
      at once.
    * **The largest ratio that fits today's inspectors**: for each level with infeasible
      units, the ``ratio_rules`` rules of that level whose largest feasible ratio (on the
      slider's grid, :data:`RATIO_STEP`) is the smallest cut, rules that stay at or above the
      2023 minimum first. A ratio is shared by every unit of its level, so it must make all
      of them feasible. Each candidate is checked with the same quota table, analytic
      estimate and capacity as :func:`plan_outcome`.

    ``registers`` must be the register ``outcome`` was computed on (None: the sample).
    """
    if outcome.feasible:
        return ()
    plan, assumptions = outcome.policy, outcome.assumptions
    inspectors = dict(outcome.inspectors)
    load = outcome.workload[["unit", "unit_name", "level", "onsite", "offsite", "joint",
                             "days_needed"]]
    bad = [r.unit for r in outcome.workload.itertuples() if not r.feasible]
    names = plan.unit_names
    out: list[Suggestion] = []

    def all_feasible(counts: Mapping[str, int], frame: pd.DataFrame = load) -> pd.Series:
        cap = capacity(plan, frame, counts, assumptions)
        return cap.set_index("unit")["feasible"]

    needed = {}
    for unit in bad:
        n = _inspectors_needed(plan, load, inspectors, assumptions, unit)
        if n is None:
            continue
        needed[unit] = n
        after = all_feasible({**inspectors, unit: n})
        out.append(Suggestion(
            kind="inspectors", inspectors={unit: n}, fixes=(unit,), feasible=bool(after.all()),
            message=f"{names[unit]}执法人员增至 {n} 人（现有 {inspectors[unit]} 人，"
                    f"增加 {n - inspectors[unit]} 人）"))
    if len(needed) > 1:
        counts = {**inspectors, **needed}
        for _ in range(100):      # the area level's pool and borrowing can move: settle
            after = all_feasible(counts)
            if after.all():
                break
            for unit in after.index[~after.to_numpy()]:
                n = _inspectors_needed(plan, load, counts, assumptions, unit)
                if n is not None:
                    counts[unit] = n
        changed = {u: counts[u] for u in counts if counts[u] != inspectors[u]}
        after = all_feasible(counts)
        out.append(Suggestion(
            kind="inspectors", inspectors=changed,
            fixes=tuple(u for u in bad if after[u]), feasible=bool(after.all()),
            message="执法人员同时增至：" + "，".join(
                f"{names[u]} {n} 人（+{n - inspectors[u]}）" for u, n in changed.items())))
    out += _ratio_suggestions(outcome, registers, bad, ratio_rules)
    return tuple(out)


def _ratio_suggestions(outcome: PlanOutcome, registers, bad: Sequence[str], keep: int
                       ) -> list[Suggestion]:
    plan, assumptions, inspectors = outcome.policy, outcome.assumptions, outcome.inspectors
    level_of = {u.id: u.level for u in plan.units}
    names = plan.unit_names
    prepared = prepare_register(registers, plan)
    ref_rules = {(r.level, r.category, r.subset): r for r in (outcome.reference or plan).quotas.rules}
    out = []
    for level in ("county", "area"):
        targets = [u for u in bad if level_of[u] == level]
        if not targets:
            continue
        wl = outcome.workload.set_index("unit")

        def feasible_at(rule, value: float, targets=targets) -> tuple[bool, pd.Series]:
            trial = dataclasses.replace(plan, quotas=dataclasses.replace(plan.quotas, rules=tuple(
                dataclasses.replace(r, ratio=value) if r.id == rule.id else r
                for r in plan.quotas.rules)))
            table = plan_quotas(prepared, trial)
            cap = plan_workload(trial, analytic_estimate(prepared, trial, table), inspectors,
                                assumptions)
            ok = cap.set_index("unit")["feasible"]
            return bool(ok[list(targets)].all()), ok

        candidates = []
        table = outcome.quotas
        offsite_share = offsite_share_by_row(plan, outcome.analytic)
        for rule in random_rules(plan):
            if rule.level != level or rule.ratio <= 0:
                continue
            mine = table[(table["quota_rule"] == rule.id) & table["unit"].isin(targets)]
            if mine.empty or mine["quota"].sum() <= 0:
                continue
            estimate = _ratio_estimate(rule, mine, wl, targets, assumptions, plan,
                                       offsite_share)
            ref = ref_rules.get((rule.level, rule.category, rule.subset))
            floor = ref.ratio if ref is not None and ref.method == "random" else 0.0
            below = estimate + 1e-12 < floor
            candidates.append((below, (rule.ratio - estimate) / rule.ratio, rule, estimate))
        candidates.sort(key=lambda c: (c[0], c[1]))
        found = 0
        for _, _, rule, estimate in candidates:
            if found >= keep:
                break
            value, ok = _largest_feasible(rule, estimate, feasible_at)
            if value is None:
                continue
            found += 1
            ref = ref_rules.get((rule.level, rule.category, rule.subset))
            floor = ref.ratio if ref is not None and ref.method == "random" else 0.0
            below = value + 1e-12 < floor
            units = [names[u] for u in targets]
            others = [names[u] for u in bad if level_of[u] != level]
            message = (f"“{rule_label(plan, rule)}”的比例由 {ratio_text(rule, rule.ratio)} 降至 "
                       f"{ratio_text(rule, value)}（现有人员下的最大可行值，使"
                       f"{'、'.join(units)}可行）")
            if below:
                message += f"；低于2023年方案要求的 {ratio_text(rule, floor)}，该项最低要求将不达标"
            if others:
                message += f"；{'、'.join(others)}仍需另行调整"
            out.append(Suggestion(kind="ratio", rule=rule.id, ratio=value, current=rule.ratio,
                                  fixes=tuple(targets), feasible=bool(ok.all()),
                                  below_minimum=below, message=message))
    return out


def _ratio_estimate(rule, mine: pd.DataFrame, wl: pd.DataFrame, targets: Sequence[str],
                    assumptions: Mapping[str, float], plan: Policy,
                    offsite_share: Mapping[int, float]) -> float:
    """A first guess of the largest feasible ratio: the checks each target unit must shed
    (its missing days at the cost of one of this rule's checks, or its excess on-site tasks),
    taken from this rule's quota; the most demanding unit decides."""
    joint = plan.joint.internal_min_share * assumptions["joint_extra_inspector_days"]
    best = rule.ratio
    for unit in targets:
        row = mine[mine["unit"] == unit]
        if row.empty:
            continue
        quota, population = float(row["quota"].sum()), float(row["population"].sum())
        off = offsite_share.get(int(row.index[0]), 0.0)
        per_check = (off * assumptions["offsite_inspector_days"]
                     + (1 - off) * assumptions["onsite_inspector_days"] + joint)
        w = wl.loc[unit]
        excess = w["days_needed"] - w["days_available"] - w["days_borrowable"]
        shed = max(excess, 0.0) / max(per_check, 1e-9)
        if w["tasks_per_inspector"] > w["max_tasks"] and off < 1:
            extra = (w["tasks_per_inspector"] - w["max_tasks"]) * max(w["team_pool"], 1) \
                / plan.staffing.min_inspectors_per_task / (1 - off)
            shed = max(shed, extra)
        left = max(quota - shed, 0.0)
        ratio = rule.ratio * left / quota if quota > 0 else rule.ratio
        if rule.basis == "share" and population > 0:
            ratio = min(ratio, left / population)
        best = min(best, ratio)
    return max(best, 0.0)


def _largest_feasible(rule, estimate: float,
                      feasible_at: Callable[[Any, float], tuple[bool, pd.Series]]
                      ) -> tuple[float | None, pd.Series | None]:
    """The largest ratio on the slider's grid below ``rule.ratio`` at which ``feasible_at``
    holds, searched from ``estimate`` (galloping, then bisection); None if even 0 fails."""
    step = RATIO_STEP[rule.basis]
    top = int(math.floor(round(rule.ratio / step, 9)))       # grid index of today's ratio
    if abs(top * step - rule.ratio) < 1e-9:
        top -= 1                                              # today's ratio is infeasible
    if top < 0:
        return None, None
    cache: dict[int, tuple[bool, pd.Series]] = {}

    def test(i: int) -> bool:
        if i not in cache:
            cache[i] = feasible_at(rule, round(i * step, 6))
        return cache[i][0]

    i = min(max(int(math.floor(round(estimate / step, 9))), 0), top)
    if test(i):
        lo, hi, gap = i, top + 1, 1         # lo feasible, hi infeasible (top + 1 = today's)
        while lo + gap < hi and test(lo + gap):
            lo, gap = lo + gap, gap * 2
        hi = min(hi, lo + gap)
    else:
        hi, gap = i, 1
        lo = None
        while hi - gap >= 0:
            if test(hi - gap):
                lo = hi - gap
                break
            hi, gap = hi - gap, gap * 2
        if lo is None:
            if hi == 0 or not test(0):
                return None, None
            lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if test(mid):
            lo = mid
        else:
            hi = mid
    return round(lo * step, 6), cache[lo][1]


__all__ = ["Suggestion", "suggest_changes"]
