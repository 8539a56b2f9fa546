"""The annual-plan planner: what a changed plan costs and what it buys (R3, R4, R5).

Every output of the interactive planner (``notebooks/planner.ipynb``, widgets in
:mod:`dsr_analysis.planner_ui`) is computed here by pure functions whose arguments are the
widgets' values one-to-one, so the planner cannot drift from a test or a batch run:

* :func:`build_policy` — the tuned plan as a :class:`~dsr_analysis.policy.Policy`
  (``dataclasses.replace`` on the plan it starts from);
* :func:`plan_outcome` — the quarterly quota table per unit, inspector-days needed against
  available with a feasibility verdict, every minimum of the 2023 plan met or not, and a
  quick coverage and deterrence estimate, as a frozen :class:`PlanOutcome`;
* :func:`save_policy` — writes the plan as a policy YAML that :func:`load_policy` accepts and
  the batch commands use (``dsr quotas --policy xiongan-2024``); never overwrites silently.

Planning assumptions that no rule sets (inspector-days per check, working days, deterrence
parameters) live in ``parameters/planner.yaml`` (:class:`PlannerSettings`).

Coverage is analytic per stratum, with ``p`` the quarterly inclusion probability
(quota / population) and four quarters:

* independent draws: ``1 - (1 - p)^4`` covered at least once a year;
* rotation (objects drawn least often by the unit come first): ``min(1, 4p)``;
* yearly cap ``c`` (no object drawn more than ``c`` times a year): a recursion over the
  share of objects with 0..c visits, each quarter's draw spread over the objects still
  below the cap — exact for ``c = 1`` (= rotation) and tending to the independent formula
  as ``c`` grows; a cap that binds loses the draws it forbids.

An object is covered when any unit drawing from it (its county, and the new-area level,
which draws from every object) inspects it; levels are combined as independent. A seeded
simulation of the year's draws on the register itself (object by object, the overlap
control and the between-levels rule applied exactly) is shown next to the analytic figure.

Deterrence uses the closed form of :mod:`dsr_analysis.deterrence`
(:func:`~dsr_analysis.deterrence.quick_estimate`: a firm violates in a quarter when its
lognormal private gain exceeds probability of a check x detection x sanction), with the
behaviour parameters of the simulation scenario named in ``parameters/planner.yaml``. It
shows the expected share of firms violating per quarter, the share of would-be violators the
plan deters, and the share of checks expected to find a violation.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .categories import CATEGORY_ZH, classify
from .errors import DsrError, ParameterError, PolicyError
from .paths import DEFAULT_POLICY, PARAMETERS_DIR, POLICIES_DIR
from .policy import CREDIT_CLASSES, Policy, _build, list_policies, load_policy, policy_to_dict
from .quotas import METHOD_ZH, SUBSET_ZH, credit_share, quarterly_quotas
from .registers import Registers, load_registers
from .deterrence import DeterrenceParams, quick_estimate
from .scenarios import load_scenario
from .simulation import Budget, inspectors_by_unit, simulate_coverage

PLANNER_SETTINGS = PARAMETERS_DIR / "planner.yaml"
OVERLAP_MODES = ("independent", "rotation", "yearly_cap")
OVERLAP_ZH = {"independent": "各季度独立抽取", "rotation": "轮换（先抽未抽过的）",
              "yearly_cap": "年度次数上限"}
LEVEL_ZH = {"area": "新区本级", "county": "县级"}
QUARTERS_PER_YEAR = 4


class PlanExistsError(ParameterError):
    """A plan would overwrite an existing policy file without being told to."""


# --------------------------------------------------------------------------------------
# Planning assumptions (parameters/planner.yaml)
# --------------------------------------------------------------------------------------
def _f(doc: str, lo: float | None = None, hi: float | None = None) -> Any:
    return field(metadata={"doc": doc, "range": (lo, hi)})


@dataclass(frozen=True)
class SimulationAssumptions:
    replicates: int = _f("simulated years behind the quick coverage check", 1, 10000)


@dataclass(frozen=True)
class PlannerSettings:
    """Planning assumptions of the planner (``parameters/planner.yaml``).

    ``budget`` (inspector-days per check and per inspector) and ``deterrence`` (behaviour
    model) are those of a simulation scenario (``parameters/scenarios/``), so the planner
    and the simulation notebooks cost a check and model a firm the same way. The planner
    never cuts quotas to the budget (``enforce`` is off): it shows the shortfall instead.
    """

    scenario: str = _f("scenario in parameters/scenarios/ whose budget and deterrence "
                       "parameters the planner uses")
    joint_extra_inspector_days: float = _f(
        "extra inspector-days an internal joint check adds (a second business line, R5)", 0.0, 100.0)
    simulation: SimulationAssumptions = _f("quick simulated coverage check")
    budget: Budget | None = field(default=None, metadata={
        "doc": "the scenario's budget, enforce off", "internal": True})
    deterrence: DeterrenceParams | None = field(default=None, metadata={
        "doc": "the scenario's deterrence parameters", "internal": True})


def load_planner_settings(path: str | Path | None = None) -> PlannerSettings:
    """Load the planner's assumptions (strict: unknown / missing keys, ranges)."""
    path = Path(path) if path is not None else PLANNER_SETTINGS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read planner settings ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    try:
        settings = _build(PlannerSettings, data, str(path), "")
    except PolicyError as exc:
        raise ParameterError(str(exc)) from exc
    scenario = load_scenario(settings.scenario)
    return dataclasses.replace(settings, budget=dataclasses.replace(scenario.budget, enforce=False),
                               deterrence=scenario.deterrence)


# --------------------------------------------------------------------------------------
# Caches: policies by file state, registers and classification by register + categories
# --------------------------------------------------------------------------------------
_POLICY_CACHE: dict[tuple, Policy] = {}
_PREPARED_CACHE: dict[tuple, _Prepared] = {}
_REGISTER_CACHE: dict[tuple, Registers] = {}


def base_policy_names() -> list[str]:
    """Names of the policy files a plan can start from (``parameters/policies/*.yaml``)."""
    return [p.stem for p in list_policies()]


def resolve_policy(base_policy: str | Path | Policy) -> Policy:
    """A Policy from a name in ``parameters/policies/``, a path, or a Policy (cached by the
    file's path, size and modification time)."""
    if isinstance(base_policy, Policy):
        return base_policy
    path = Path(base_policy)
    if not path.exists() and not path.suffix and (POLICIES_DIR / f"{path}.yaml").exists():
        path = POLICIES_DIR / f"{path}.yaml"
    try:
        stat = path.stat()
    except OSError:
        return load_policy(path)  # raises PolicyError naming the file
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _POLICY_CACHE:
        _POLICY_CACHE[key] = load_policy(path)
    return _POLICY_CACHE[key]


@dataclass(frozen=True)
class _Prepared:
    registers: Registers
    classified: pd.DataFrame
    groups: pd.DataFrame          # unit, category, positive_list, credit_class, offsite_capable, n


def _registers_key(registers: Registers | str | Path | None) -> tuple:
    if registers is None or registers == "":
        return ("sample",)
    if isinstance(registers, Registers):
        return ("object", id(registers))
    return ("dir", str(Path(registers).resolve()))


def _prepare(registers: Registers | str | Path | None, policy: Policy) -> _Prepared:
    """Registers, classification and strata counts, cached: a slider change never
    re-reads or re-classifies the register."""
    units = tuple(sorted(policy.unit_names.items()))
    key = (_registers_key(registers), units, policy.categories)
    hit = _PREPARED_CACHE.get(key)
    if hit is not None:
        return hit
    if isinstance(registers, Registers):
        reg = registers
    else:
        rkey = (_registers_key(registers), units)
        if rkey not in _REGISTER_CACHE:
            _REGISTER_CACHE[rkey] = load_registers(registers or None, units=policy.unit_names)
        reg = _REGISTER_CACHE[rkey]
    classified = classify(reg.enterprises, policy)
    cols = ["unit", "category", "positive_list", "credit_class", "offsite_capable"]
    keys = classified[cols].astype({"positive_list": bool, "offsite_capable": bool})
    groups = keys.groupby(cols, sort=True).size().rename("n").reset_index()
    prepared = _Prepared(reg, classified, groups)
    # A Registers object passed in stays referenced by the cache, so its id is not reused.
    _PREPARED_CACHE[key] = prepared
    return prepared


def default_inspectors(policy: Policy, registers: Registers | str | Path | None,
                       settings: PlannerSettings | None = None) -> dict[str, int]:
    """Active, certified inspectors of each unit (x ``budget.inspector_scale``), as the
    simulation engine counts them: the planner's starting value for "inspectors available"."""
    settings = settings or _default_settings()
    reg = _prepare(registers, policy).registers
    return inspectors_by_unit(reg.inspectors, policy, settings.budget.inspector_scale)


def random_rules(policy: Policy) -> list:
    """Quota rules whose ratio a planner can tune (random draws; full off-site coverage of
    the positive list has no ratio)."""
    return [r for r in policy.quotas.rules if r.method == "random"]


# --------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------
def build_policy(
    base_policy: str | Path | Policy,
    ratios: Mapping[str, float],
    credit_weights: Mapping[str, float],
    overlap: str,
    yearly_cap: int,
    internal_joint_share: float,
    *,
    year: int | None = None,
) -> Policy:
    """The tuned plan: the base policy with the planner's values (``dataclasses.replace``).

    Parameters
    ----------
    base_policy : name, path or Policy
        The plan it starts from (a file in ``parameters/policies/``).
    ratios : mapping
        Quota rule id -> ratio (share of objects per quarter, or objects per inspector for a
        staff-ratio rule). Rules not named keep the base ratio.
    credit_weights : mapping
        Credit class A-D -> relative sampling weight (R3).
    overlap : {'independent', 'rotation', 'yearly_cap'}
        Overlap control across quarters.
    yearly_cap : int
        At most this many random draws of one object a year (used with ``yearly_cap``).
    internal_joint_share : float
        Planned share of internal joint inspections (R5), written as the plan's minimum.
    year : int, optional
        Year of the new plan; the year in the plan's title changes with it.
    """
    base = resolve_policy(base_policy)
    where = f"plan based on {base.id}"
    rules = {r.id: r for r in base.quotas.rules}
    tunable = [r.id for r in random_rules(base)]
    new_rules = []
    for name in ratios:
        if name not in rules:
            raise ParameterError(f"{where}: ratios: unknown quota rule '{name}' "
                                 f"(rules of {base.id}: {', '.join(tunable)})")
        if rules[name].method != "random":
            raise ParameterError(f"{where}: ratios: rule '{name}' is full off-site coverage "
                                 "and has no ratio to tune")
    for r in base.quotas.rules:
        if r.id in ratios:
            value = _number(ratios[r.id], f"{where}: ratios['{r.id}']")
            hi = 1.0 if r.basis == "share" else 1000.0
            if not 0.0 <= value <= hi:
                raise ParameterError(f"{where}: ratios['{r.id}']: {value!r} is out of range "
                                     f"[0, {hi:g}]")
            r = dataclasses.replace(r, ratio=value)
        new_rules.append(r)
    if set(credit_weights) != set(CREDIT_CLASSES):
        raise ParameterError(f"{where}: credit_weights: give a weight for each of A, B, C, D "
                             f"(got {', '.join(map(str, credit_weights)) or 'none'})")
    weights = {}
    for c in CREDIT_CLASSES:
        w = _number(credit_weights[c], f"{where}: credit_weights['{c}']")
        if not 0.0 <= w <= 100.0:
            raise ParameterError(f"{where}: credit_weights['{c}']: {w!r} is out of range [0, 100]")
        weights[c] = w
    if overlap not in OVERLAP_MODES:
        raise ParameterError(f"{where}: overlap: {overlap!r} is not one of "
                             f"{', '.join(OVERLAP_MODES)}")
    if isinstance(yearly_cap, bool) or not isinstance(yearly_cap, (int, np.integer)) \
            or not 1 <= yearly_cap <= 52:
        raise ParameterError(f"{where}: yearly_cap: {yearly_cap!r} is not a whole number in [1, 52]")
    share = _number(internal_joint_share, f"{where}: internal_joint_share")
    if not 0.0 <= share <= 1.0:
        raise ParameterError(f"{where}: internal_joint_share: {share!r} is out of range [0, 1]")
    changes: dict[str, Any] = dict(
        quotas=dataclasses.replace(base.quotas, rules=tuple(new_rules)),
        credit_risk=dataclasses.replace(base.credit_risk, weights=weights),
        draw=dataclasses.replace(base.draw, overlap=overlap, yearly_cap=int(yearly_cap)),
        joint=dataclasses.replace(base.joint, internal_min_share=share),
        path="", sha256="",
    )
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)) \
                or not 2000 <= year <= 2100:
            raise ParameterError(f"{where}: year: {year!r} is not a year in [2000, 2100]")
        changes["year"] = int(year)
        changes["name"] = base.name.replace(str(base.year), str(year))
    return dataclasses.replace(base, **changes)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{where}: expected a finite number, got {value!r}")
    return value


def plan_from_policy(policy: Policy) -> dict[str, Any]:
    """The planner's control values that reproduce ``policy`` (its widgets' start values)."""
    return dict(
        ratios={r.id: r.ratio for r in random_rules(policy)},
        credit_weights=dict(policy.credit_risk.weights),
        overlap=policy.draw.overlap,
        yearly_cap=policy.draw.yearly_cap,
        internal_joint_share=policy.joint.internal_min_share,
    )


# --------------------------------------------------------------------------------------
# Coverage and deterrence (closed forms)
# --------------------------------------------------------------------------------------
def yearly_coverage(
    p: np.ndarray | float, overlap: str, yearly_cap: int = 1, quarters: int = QUARTERS_PER_YEAR
) -> tuple[np.ndarray, np.ndarray]:
    """Share of a stratum's objects drawn at least once in a year, and draws per object.

    Parameters
    ----------
    p : array
        Quarterly inclusion probability of an object (quota / population), in [0, 1].
    overlap : {'independent', 'rotation', 'yearly_cap'}
    yearly_cap : int
        Cap on draws of one object a year (``yearly_cap`` only).

    Returns
    -------
    coverage, draws : arrays shaped like ``p``
        ``draws`` is below ``quarters x p`` where a cap binds (the forbidden draws are lost).
    """
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    if overlap == "independent":
        return 1.0 - (1.0 - p) ** quarters, quarters * p
    if overlap == "rotation":
        return np.minimum(1.0, quarters * p), quarters * p
    if overlap != "yearly_cap":
        raise ParameterError(f"overlap: {overlap!r} is not one of {', '.join(OVERLAP_MODES)}")
    cap = int(yearly_cap)
    share = np.zeros((cap + 1,) + p.shape)   # share of objects with 0..cap draws
    share[0] = 1.0
    draws = np.zeros_like(p)
    for _ in range(quarters):
        eligible = share[:cap].sum(axis=0)
        q = np.divide(p, eligible, out=np.zeros_like(p), where=eligible > 0)
        q = np.minimum(q, 1.0)
        moved = share[:cap] * q
        share[:cap] -= moved
        share[1:] += moved
        draws += q * eligible
    return 1.0 - share[0], draws


# --------------------------------------------------------------------------------------
# Outcome
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanOutcome:
    """Everything the planner shows for one set of control values.

    Attributes
    ----------
    policy : Policy
        The tuned plan (what "save" writes).
    quotas : DataFrame
        Quota table of one quarter (:func:`~dsr_analysis.quotas.quarterly_quotas` columns);
        the same every quarter of the year with an unchanged register.
    quota_table : DataFrame
        Quotas per unit, category and subset with the credit-class split (Chinese headers).
    workload : DataFrame
        Per unit and quarter: checks on-site / off-site, internal joint checks, inspector-days
        needed and available, tasks per inspector, feasible (bool).
    feasible : bool
        Every unit can staff its quarter.
    warning : str
        Why the plan is infeasible (empty when feasible), in Chinese.
    minimums : DataFrame
        Every minimum of the 2023 plan: rule, unit, requirement, plan value, met (bool).
    all_minimums_met : bool
    coverage : DataFrame
        Per own unit and category: objects, analytic and simulated yearly coverage, draws
        per object a year, expected violation rate per quarter, deterred share.
    coverage_total, simulated_coverage_total : float
        Share of all objects inspected at least once a year (analytic / simulated).
    violation_rate : float
        Expected share of firms violating in a quarter
        (:func:`dsr_analysis.deterrence.quick_estimate`).
    deterrence_total : float
        Share of the firms that would violate without any check that the plan deters.
    hit_rate : float
        Expected share of checks that find a violation.
    elapsed : float
        Seconds the computation took.
    """

    policy: Policy
    quotas: pd.DataFrame
    quota_table: pd.DataFrame
    workload: pd.DataFrame
    feasible: bool
    warning: str
    minimums: pd.DataFrame
    all_minimums_met: bool
    coverage: pd.DataFrame
    coverage_total: float
    simulated_coverage_total: float
    violation_rate: float
    deterrence_total: float
    hit_rate: float
    elapsed: float = 0.0

    def headline(self) -> str:
        """Headline numbers as text (Chinese), deterministic for given inputs."""
        w = self.workload
        met = int(self.minimums["met"].sum())
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
            f"年度覆盖率 (至少检查一次): 解析 {self.coverage_total:.1%}, 模拟 "
            f"{self.simulated_coverage_total:.1%}",
            f"威慑: 预计违法企业比例 {self.violation_rate:.1%} (每季度), 被威慑比例 "
            f"{self.deterrence_total:.1%}, 检查发现违法率 {self.hit_rate:.1%}",
        ]
        return "\n".join(lines)


def _membership(prepared: _Prepared, policy: Policy, table: pd.DataFrame) -> pd.DataFrame:
    """One row per (drawing unit, strata group): the quota-table row the group falls in
    and its quarterly inclusion probability."""
    g = prepared.groups
    rows = []
    table_index = {key: i for i, key in enumerate(zip(
        table["unit"], table["quota_rule"], table["credit_class"], strict=True))}
    for unit in policy.units:
        own = (np.ones(len(g), bool) if unit.draws_from == "all"
               else (g["unit"] == unit.id).to_numpy())
        for rule in policy.quotas.rules:
            if rule.level != unit.level:
                continue
            mask = own & (g["category"] == rule.category).to_numpy()
            if rule.subset == "positive_list":
                mask &= g["positive_list"].to_numpy()
            elif rule.subset == "not_positive_list":
                mask &= ~g["positive_list"].to_numpy()
            for gi in np.flatnonzero(mask):
                cls = g["credit_class"].iat[gi] if rule.credit_weighted else "all"
                ti = table_index[(unit.id, rule.id, cls)]
                rows.append((unit.id, unit.level, gi, ti, rule.method))
    m = pd.DataFrame(rows, columns=["drawing_unit", "level", "group", "row", "method"])
    pop = table["population"].to_numpy()[m["row"]]
    quota = table["quota"].to_numpy()[m["row"]]
    m["p"] = np.divide(quota, pop, out=np.zeros(len(m)), where=pop > 0)
    m["n"] = g["n"].to_numpy()[m["group"]]
    m["offsite_capable"] = g["offsite_capable"].to_numpy()[m["group"]]
    return m


def _workload(policy: Policy, m: pd.DataFrame, inspectors_available: Mapping[str, int],
              settings: PlannerSettings) -> pd.DataFrame:
    """Checks and inspector-days per unit and quarter against capacity."""
    budget = settings.budget
    checks = m["p"] * m["n"]
    offsite = (m["method"] == "offsite_full") | (policy.methods.offsite_first & m["offsite_capable"])
    m = m.assign(checks=checks, offsite=np.where(offsite, checks, 0.0),
                 random=np.where(m["method"] == "random", checks, 0.0))
    per = m.groupby("drawing_unit")[["checks", "offsite", "random"]].sum()
    team = policy.staffing.min_inspectors_per_task
    share = policy.joint.internal_min_share
    max_offsite = policy.staffing.max_offsite_tasks_per_inspector_per_quarter
    rows = []
    for unit in policy.units:
        s = per.loc[unit.id] if unit.id in per.index else pd.Series(
            {"checks": 0.0, "offsite": 0.0, "random": 0.0})
        onsite = float(s["checks"] - s["offsite"])
        offsite_n = float(s["offsite"])
        joint = math.ceil(round(share * s["random"], 9))   # R5 counts the drawn checks
        days = (onsite * budget.onsite_inspector_days + offsite_n * budget.offsite_inspector_days
                + joint * settings.joint_extra_inspector_days)
        n_ins = int(inspectors_available[unit.id])
        available = n_ins * budget.days_per_inspector_per_quarter
        tasks = onsite * team / n_ins if n_ins else (math.inf if onsite > 0 else 0.0)
        desk = offsite_n / n_ins if n_ins else (math.inf if offsite_n > 0 else 0.0)
        rows.append(dict(unit=unit.id, unit_name=unit.name, level=unit.level,
                         onsite=onsite, offsite=offsite_n, joint=joint,
                         inspectors=n_ins, days_needed=days, days_available=available,
                         tasks_per_inspector=tasks, offsite_per_inspector=desk,
                         max_tasks=policy.staffing.max_tasks_per_inspector_per_quarter,
                         max_offsite_tasks=max_offsite if max_offsite is not None else math.inf))
    wl = pd.DataFrame(rows)
    # The area level may draw inspectors across the new area: county spare capacity helps it.
    spare = np.maximum(wl["days_available"] - wl["days_needed"], 0.0)
    wl["days_borrowable"] = 0.0
    wl["team_pool"] = wl["inspectors"]
    if policy.draw.area_inspectors_across_units:
        # ... and its teams come from the pooled inspectors of the whole area: task loads
        # and team size are checked on the pool.
        county = wl["level"] == "county"
        area = wl["level"] == "area"
        wl.loc[area, "days_borrowable"] = float(spare[county].sum())
        pool = int(wl["inspectors"].sum())
        onsite_all, offsite_all = float(wl["onsite"].sum()), float(wl["offsite"].sum())
        wl.loc[area, "tasks_per_inspector"] = (onsite_all * team / pool if pool
                                               else (math.inf if onsite_all > 0 else 0.0))
        wl.loc[area, "offsite_per_inspector"] = (offsite_all / pool if pool
                                                 else (math.inf if offsite_all > 0 else 0.0))
        wl.loc[area, "team_pool"] = pool
    short = wl["days_needed"] > wl["days_available"] + wl["days_borrowable"] + 1e-9
    overloaded = wl["tasks_per_inspector"] > wl["max_tasks"] + 1e-9
    desk_overloaded = wl["offsite_per_inspector"] > wl["max_offsite_tasks"] + 1e-9
    understaffed = (wl["onsite"] > 0) & (wl["team_pool"] < team)
    wl["feasible"] = ~(short | overloaded | desk_overloaded | understaffed)
    wl["reason"] = ""
    for i in wl.index:
        why = []
        if short[i]:
            have = wl.at[i, "days_available"] + wl.at[i, "days_borrowable"]
            why.append(f"需要 {wl.at[i, 'days_needed']:.0f} 人·日, 可用 {have:.0f} 人·日, "
                       f"缺 {wl.at[i, 'days_needed'] - have:.0f} 人·日")
        if overloaded[i]:
            why.append(f"人均现场任务 {wl.at[i, 'tasks_per_inspector']:.1f} 项, 超过每季度上限 "
                       f"{wl.at[i, 'max_tasks']} 项")
        if desk_overloaded[i]:
            why.append(f"人均非现场任务 {wl.at[i, 'offsite_per_inspector']:.1f} 项, 超过每季度上限 "
                       f"{wl.at[i, 'max_offsite_tasks']:.0f} 项")
        if understaffed[i]:
            why.append(f"执法人员 {wl.at[i, 'inspectors']} 人, 每项现场任务至少 {team} 人")
        wl.at[i, "reason"] = "; ".join(why)
    return wl


def _minimums(policy: Policy, table: pd.DataFrame, reference: Policy) -> pd.DataFrame:
    """Every minimum of the reference (2023) plan against the tuned plan."""
    rows = []
    weights = list(policy.credit_risk.weights.values())
    differentiated = max(weights) > min(weights)
    share = credit_share(table, policy) if differentiated else 0.0
    rows.append(dict(rule=reference.credit_risk.rule, unit="全部", check="运用信用风险分类的抽查占比",
                     requirement=f"≥ {reference.credit_risk.min_share:.0%}",
                     plan=f"{share:.0%}" + ("" if differentiated else " (各类权重相同, 未区分)"),
                     met=bool(share + 1e-12 >= reference.credit_risk.min_share)))
    rules = {(r.level, r.category, r.subset): r for r in policy.quotas.rules}
    grouped = table.groupby(["unit", "category", "subset"])[["population", "quota"]].sum()
    sums = {k: tuple(v) for k, v in zip(grouped.index, grouped.to_numpy(), strict=True)}
    random_by_unit = table[table["method"] == "random"].groupby("unit")["quota"].sum().to_dict()
    for ref in reference.quotas.rules:
        label = f"{CATEGORY_ZH[ref.category]}" + (
            f" ({SUBSET_ZH[ref.subset]})" if ref.subset != "all" else "")
        mine = rules.get((ref.level, ref.category, ref.subset))
        for unit in (u for u in policy.units if u.level == ref.level):
            population, quota = (int(v) for v in sums.get(
                (unit.id, ref.category, ref.subset), (0, 0)))
            if ref.method == "offsite_full":
                requirement = "每季度非现场全覆盖"
                met = mine is not None and mine.method == "offsite_full"
                plan = f"{quota}/{population}" + (" 非现场" if met else " (非全覆盖)")
            else:
                need = math.ceil(round(ref.ratio * population, 9))
                requirement = f"每季度 ≥ {ref.ratio:.0%} (≥ {need} 家)"
                ratio = quota / population if population else 0.0
                met = mine is not None and quota >= need and (
                    mine.ratio + 1e-12 >= ref.ratio or mine.basis != "share")
                plan = f"{quota}/{population} ({ratio:.1%})" if mine is not None else "无此项规则"
            rows.append(dict(rule=ref.rule, unit=unit.name, check=label,
                             requirement=requirement, plan=plan, met=bool(met)))
    rows.append(dict(rule=reference.joint.rule, unit="各级", check="内部联合抽查占比",
                     requirement=f"≥ {reference.joint.internal_min_share:.0%}",
                     plan=f"{policy.joint.internal_min_share:.0%}",
                     met=bool(policy.joint.internal_min_share + 1e-12
                              >= reference.joint.internal_min_share)))
    need = reference.joint.inter_departmental_per_quarter
    for unit in policy.units:
        random_checks = int(random_by_unit.get(unit.id, 0))
        planned = min(policy.joint.inter_departmental_per_quarter, random_checks)
        rows.append(dict(rule=reference.joint.rule, unit=unit.name, check="部门联合抽查",
                         requirement=f"每季度 ≥ {need} 次",
                         plan=f"{planned} 次" + ("" if random_checks else " (无随机抽查)"),
                         met=bool(planned >= need)))
    return pd.DataFrame(rows, columns=["rule", "unit", "check", "requirement", "plan", "met"])


def group_coverage(policy: Policy, m: pd.DataFrame, n_groups: int,
                   quarters: int = QUARTERS_PER_YEAR) -> tuple[np.ndarray, np.ndarray]:
    """Analytic yearly coverage and draws per object of every strata group.

    A deterministic recursion over the share of each group's objects with 0, 1, … draws so
    far this year. Each quarter the drawing units draw in the policy's order (area level
    first); a stratum's quota is spread evenly over its eligible objects:

    * ``independent``: every object, ``q = quota / population`` (``1 - (1 - q)^4`` a year);
    * ``rotation``: objects not yet drawn this year (by any unit) first, the rest only to
      make up the quota (``min(1, 4q)`` for one unit);
    * ``yearly_cap``: objects below the cap only; a quota the cap forbids is lost.

    Objects drawn by two levels in one quarter are counted as two draws (the simulation
    applies the between-levels rule exactly). Returns ``coverage`` and ``draws`` per group.
    """
    overlap = policy.draw.overlap
    cap = policy.draw.yearly_cap if overlap == "yearly_cap" else 1
    share = np.zeros((n_groups, cap + 1))   # share of objects with 0..cap draws (cap = "≥ cap")
    share[:, 0] = 1.0
    draws = np.zeros(n_groups)
    order = {u.id: i for i, u in enumerate(policy.units)}
    m = m.assign(o=m["drawing_unit"].map(order)).sort_values(["o", "row"], kind="stable")
    strata = [(grp["group"].to_numpy(), grp["n"].to_numpy(float), grp["p"].iat[0])
              for _, grp in m.groupby(["o", "row"], sort=True)]
    for _ in range(quarters):
        for g, n, p in strata:
            quota = p * n.sum()
            if quota <= 0:
                continue
            f = share[g]
            if overlap == "independent":
                q = np.full((len(g), cap + 1), min(p, 1.0))
            elif overlap == "rotation":
                fresh = float((n * f[:, 0]).sum())
                q0 = min(1.0, quota / fresh) if fresh > 0 else 0.0
                rest = float((n * f[:, 1:].sum(axis=1)).sum())
                q1 = min(1.0, max(0.0, quota - fresh) / rest) if rest > 0 else 0.0
                q = np.column_stack([np.full(len(g), q0), np.full((len(g), cap), q1)])
            else:
                eligible = float((n * f[:, :cap].sum(axis=1)).sum())
                qe = min(1.0, quota / eligible) if eligible > 0 else 0.0
                q = np.column_stack([np.full((len(g), cap), qe), np.zeros(len(g))])
            moved = f * q
            draws[g] += moved.sum(axis=1)
            new = f - moved
            new[:, 1:] += moved[:, :-1]
            new[:, -1] += moved[:, -1]          # the top state absorbs (≥ cap, or ≥ 1)
            share[g] = new
    return 1.0 - share[:, 0], draws


def plan_outcome(
    base_policy: str | Path | Policy,
    ratios: Mapping[str, float],
    credit_weights: Mapping[str, float],
    overlap: str,
    yearly_cap: int,
    internal_joint_share: float,
    inspectors_available: Mapping[str, int],
    seed: int,
    registers: Registers | str | Path | None = None,
    *,
    settings: PlannerSettings | None = None,
    reference: str | Path | Policy | None = None,
) -> PlanOutcome:
    """What a plan costs and buys: the planner's one call per control change.

    Parameters
    ----------
    base_policy, ratios, credit_weights, overlap, yearly_cap, internal_joint_share
        As for :func:`build_policy`.
    inspectors_available : mapping
        Unit id -> inspectors available for double-random checks (every unit of the plan).
    seed : int
        Seed of the quick simulated coverage check.
    registers : Registers, directory or None
        Register directory (None or '' = the embedded sample).
    settings : PlannerSettings, optional
        Planning assumptions (default: ``parameters/planner.yaml``).
    reference : policy, optional
        The plan whose minimums are checked (default: the Xiong'an 2023 plan).
    """
    start = time.perf_counter()
    plan = build_policy(base_policy, ratios, credit_weights, overlap, yearly_cap,
                        internal_joint_share)
    settings = settings or _default_settings()
    ref = resolve_policy(reference if reference is not None else DEFAULT_POLICY)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed: {seed!r} is not a whole number >= 0")
    missing = [u.id for u in plan.units if u.id not in inspectors_available]
    unknown = [k for k in inspectors_available if k not in plan.unit_names]
    if missing or unknown:
        raise ParameterError(
            "inspectors_available: " + (f"missing unit(s) {', '.join(missing)}" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"unknown unit(s) {', '.join(unknown)}" if unknown else "")
            + f" (units of {plan.id}: {', '.join(plan.unit_names)})")
    for k, v in inspectors_available.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ParameterError(f"inspectors_available['{k}']: {v!r} is not a whole number >= 0")

    prepared = _prepare(registers, plan)
    table = quarterly_quotas(prepared.classified, plan, f"{plan.year}Q1",
                             prepared.registers.inspectors)
    m = _membership(prepared, plan, table)
    workload = _workload(plan, m, inspectors_available, settings)
    feasible = bool(workload["feasible"].all())
    warning = "" if feasible else "; ".join(
        f"{r.unit_name}: {r.reason}" for r in workload.itertuples() if not r.feasible)
    minimums = _minimums(plan, table, ref)

    g = prepared.groups
    cov, draws = group_coverage(plan, m, len(g))
    # Deterrence: the closed form of dsr_analysis.deterrence on the tuned plan (per quarter).
    est = quick_estimate(prepared.classified, plan, settings.deterrence,
                         inspectors=prepared.registers.inspectors, budget=settings.budget)
    would = 1.0 - settings.deterrence.compliant_share      # violators without any check
    deter = est.groupby(["unit", "category"])[["objects", "violators", "detected",
                                                 "inspections"]].sum()
    sim = simulate_coverage(prepared.classified, plan, replicates=settings.simulation.replicates,
                            seed=int(seed), inspectors=prepared.registers.inspectors,
                            budget=settings.budget)
    sim_cov = sim.coverage.groupby(["unit", "category"])[["covered"]].sum() \
        / settings.simulation.replicates

    n = g["n"].to_numpy()
    frame = g.assign(coverage=cov * n, draws=draws * n)
    per = frame.groupby(["unit", "category"], sort=False)[["n", "coverage", "draws"]].sum()
    per = per.join(sim_cov.rename(columns={"covered": "simulated"})).fillna({"simulated": 0.0})
    per = per.join(deter[["violators"]])
    order = {u.id: i for i, u in enumerate(plan.units)}
    per = per.reset_index()
    per = per.assign(o1=per["unit"].map(order), o2=per["category"].map(
        {c: i for i, c in enumerate(("special", "key", "general"))})).sort_values(["o1", "o2"])
    coverage = pd.DataFrame({
        "unit": per["unit"], "unit_name": per["unit"].map(plan.unit_names),
        "category": per["category"], "objects": per["n"],
        "coverage": per["coverage"] / per["n"], "simulated_coverage": per["simulated"] / per["n"],
        "draws_per_object": per["draws"] / per["n"],
        "violation_rate": per["violators"] / per["n"],
        "deterred": _deterred(per["violators"] / per["n"], would),
    }).reset_index(drop=True)
    violation_rate = float(est["violators"].sum() / est["objects"].sum())
    inspections = float(est["inspections"].sum())
    total = float(n.sum()) or 1.0
    return PlanOutcome(
        policy=plan, quotas=table, quota_table=quota_display(table), workload=workload,
        feasible=feasible, warning=warning, minimums=minimums,
        all_minimums_met=bool(minimums["met"].all()), coverage=coverage,
        coverage_total=float(frame["coverage"].sum() / total),
        simulated_coverage_total=float(per["simulated"].sum() / total),
        violation_rate=violation_rate,
        deterrence_total=float(_deterred(violation_rate, would)),
        hit_rate=float(est["detected"].sum() / inspections) if inspections else 0.0,
        elapsed=time.perf_counter() - start,
    )


def _deterred(violation_rate, would_violate: float):
    """Share of the firms that would violate without checks that the plan deters."""
    if would_violate <= 0:
        return violation_rate * 0.0
    return 1.0 - violation_rate / would_violate


_SETTINGS: dict[tuple, PlannerSettings] = {}


def _default_settings() -> PlannerSettings:
    stat = PLANNER_SETTINGS.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    if key not in _SETTINGS:
        _SETTINGS[key] = load_planner_settings()
    return _SETTINGS[key]


# --------------------------------------------------------------------------------------
# Tables for readers (Chinese headers)
# --------------------------------------------------------------------------------------
def quota_display(table: pd.DataFrame) -> pd.DataFrame:
    """Quarterly quotas per unit, category and subset, with the credit-class split."""
    keys = ["unit", "unit_name", "category", "subset", "method"]
    total = table.groupby(keys, sort=False)[["population", "quota"]].sum()
    split = table[table["credit_class"] != "all"].pivot_table(
        index=keys, columns="credit_class", values="quota", aggfunc="sum")
    out = total.join(split).reset_index()
    for c in CREDIT_CLASSES:
        if c not in out:
            out[c] = np.nan
        out[c] = out[c].map(lambda v: "—" if pd.isna(v) else str(int(v)))
    out["share"] = np.where(out["population"] > 0, out["quota"] / out["population"].clip(lower=1),
                            0.0)
    return pd.DataFrame({
        "单位": out["unit_name"], "类别": out["category"].map(CATEGORY_ZH),
        "范围": out["subset"].map(SUBSET_ZH), "方式": out["method"].map(METHOD_ZH),
        "对象数": out["population"], "每季度抽查数": out["quota"],
        "抽查比例": out["share"].map(lambda v: f"{v:.1%}"),
        **{f"{c}类": out[c] for c in CREDIT_CLASSES},
    })


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
    return pd.DataFrame({
        "规则": minimums["rule"], "单位": minimums["unit"], "检查项": minimums["check"],
        "2023年要求": minimums["requirement"], "本计划": minimums["plan"],
        "结论": minimums["met"].map({True: "达标", False: "未达标"}),
    })


def coverage_display(coverage: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "所属单位": coverage["unit_name"], "类别": coverage["category"].map(CATEGORY_ZH),
        "对象数": coverage["objects"],
        "年覆盖率(解析)": coverage["coverage"].map(lambda v: f"{v:.1%}"),
        "年覆盖率(模拟)": coverage["simulated_coverage"].map(lambda v: f"{v:.1%}"),
        "每家年均抽中次数": coverage["draws_per_object"].map(lambda v: f"{v:.2f}"),
        "预计违法率(每季度)": coverage["violation_rate"].map(lambda v: f"{v:.1%}"),
        "被威慑比例": coverage["deterred"].map(lambda v: f"{v:.1%}"),
    })


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class _PolicyDumper(yaml.SafeDumper):
    """Writes a policy as the hand-written files look: one line per rule or condition."""


def _is_leaf(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, (dict, list)) for v in value)
    return not isinstance(value, dict)


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = all(_is_leaf(v) for v in data.values()) and len(data) > 1
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                     flow_style=all(_is_leaf(v) for v in data))


_PolicyDumper.add_representer(dict, _represent_dict)
_PolicyDumper.add_representer(list, _represent_list)


def save_policy(
    policy: Policy,
    name: str,
    directory: str | Path = POLICIES_DIR,
    overwrite: bool = False,
    note: str = "",
) -> Path:
    """Write ``policy`` as ``<directory>/<name>.yaml`` (its id becomes ``name``).

    The file is written to a temporary name, loaded back with :func:`load_policy` (so a file
    the loader would reject is never left behind), then moved into place. An existing file
    is replaced only with ``overwrite=True``; otherwise :class:`PlanExistsError`.
    """
    name = str(name).strip()
    if name.endswith(".yaml"):
        name = name[: -len(".yaml")]
    if not _NAME.match(name):
        raise ParameterError(f"plan name {name!r}: use letters, digits, '-', '_' or '.', "
                             "starting with a letter or digit (e.g. xiongan-2024)")
    directory = Path(directory)
    target = directory / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise PlanExistsError(f"{target}: a policy file of this name exists; choose another "
                              "name or confirm overwrite")
    policy = dataclasses.replace(policy, id=name)
    header = (f"# {policy.name}\n# Saved by the planner (notebooks/planner.ipynb)"
              + (f"; {note}" if note else "") + ".\n")
    text = header + yaml.dump(policy_to_dict(policy), Dumper=_PolicyDumper, allow_unicode=True,
                              sort_keys=False, width=1000, default_flow_style=False)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.yaml.{os.getpid()}.tmp"
    try:
        tmp.write_text(text, encoding="utf-8")
        load_policy(tmp)
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise PlanExistsError(f"{target}: a policy file of this name exists; choose "
                                      "another name or confirm overwrite") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


__all__ = [
    "DsrError", "PlanExistsError", "PlanOutcome", "PlannerSettings", "base_policy_names",
    "build_policy", "coverage_display", "default_inspectors",
    "load_planner_settings", "minimums_display", "plan_from_policy", "plan_outcome",
    "quota_display", "random_rules", "resolve_policy", "save_policy", "workload_display",
    "yearly_coverage",
]
