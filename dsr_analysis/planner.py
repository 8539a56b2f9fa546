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

Coverage is analytic (:mod:`dsr_analysis.simulation.analytic`): a deterministic recursion over the
quarters on groups of objects (own unit x category x positive list x credit class x off-site
capability) that follows the official draw - counties first, then the area level
(:func:`dsr_analysis.overlap.drawing_order`); exclusions first (the yearly cap on the checks
that count under ``draw.overlap_scope``, and under ``avoid`` what the county drew this
quarter), then the inclusion probability of each credit class on the expected eligible
objects (:func:`dsr_analysis.quotas.inclusion_probabilities`), then the quota filled from the
eligible objects (under rotation the least-checked first). It gives the yearly coverage and
draws per object of every group and the draws every stratum achieves each quarter: an R4
minimum counts as met only when the quota reaches the 2023 requirement *and* the stratum
keeps enough eligible objects to draw it. Groups left unchecked (or below
``coverage_warning_below``) and credit classes never drawn are listed as coverage gaps. A
seeded simulation of the year's draws on the register itself
(:func:`dsr_analysis.simulation.coverage.simulate_coverage`) is shown next to the analytic figure.
:func:`yearly_coverage` keeps the one-stratum closed forms (independent, rotation, yearly cap).

Deterrence uses the closed form of :mod:`dsr_analysis.simulation.deterrence`
(:func:`~dsr_analysis.simulation.deterrence.quick_estimate`: a firm violates in a quarter when its
lognormal private gain exceeds probability of a check x detection x sanction), with the
behaviour parameters of the simulation scenario named in ``parameters/planner.yaml``. It
shows the expected share of firms violating per quarter, the share of would-be violators the
plan deters, and the share of checks expected to find a violation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .simulation.analytic import AnalyticResult, achieved_minimum, analytic_year, group_objects
from .categories import CATEGORY_ZH, classify
from .config import build, read_yaml
from .errors import DsrError, ParameterError
from .draw.ledger import DEFAULT_LEDGER, drawn_under
from .paths import DEFAULT_POLICY, PARAMETERS_DIR, POLICIES_DIR
from .policy import CREDIT_CLASSES, Policy, list_policies, load_policy, policy_to_dict
from .simulation.deterrence import DeterrenceParams, quick_estimate
from .overlap import OverlapRules
from .quotas import METHOD_ZH, SUBSET_ZH, credit_share, quarterly_quotas
from .registers import Registers, load_registers
from .simulation.scenarios import load_scenario
from .simulation.coverage import Budget, inspectors_by_unit, simulate_coverage

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
    coverage_warning_below: float = _f(
        "groups of objects whose analytic yearly coverage is below this share are listed as "
        "coverage gaps (as are groups never drawn)", 0.0, 1.0)
    budget: Budget | None = field(default=None, metadata={
        "doc": "the scenario's budget, enforce off", "internal": True})
    deterrence: DeterrenceParams | None = field(default=None, metadata={
        "doc": "the scenario's deterrence parameters", "internal": True})


def load_planner_settings(path: str | Path | None = None) -> PlannerSettings:
    """Load the planner's assumptions (strict: unknown / missing keys, ranges)."""
    path = Path(path) if path is not None else PLANNER_SETTINGS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read planner settings ({exc.strerror})") from exc
    data = read_yaml(text, str(path), ParameterError)
    settings = build(PlannerSettings, data, str(path), "", ParameterError)
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
    groups = group_objects(classified)
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
        Quota table of one quarter (:func:`~dsr_analysis.quotas.quarterly_quotas` columns:
        one row per stratum, per credit class its objects, inclusion probability and expected
        draws); the same every quarter of the year with an unchanged register.
    quota_table : DataFrame
        Quotas per unit, category and subset with the expected draws and the inclusion
        probability of each credit class (Chinese headers).
    workload : DataFrame
        Per unit and quarter: checks on-site / off-site (expected draws achieved, on average
        over the quarters), internal joint checks, inspector-days needed and available, tasks
        per inspector, feasible (bool).
    feasible : bool
        Every unit can staff its quarter.
    warning : str
        Why the plan is infeasible (empty when feasible), in Chinese.
    minimums : DataFrame
        Every minimum of the 2023 plan: rule, unit, requirement, plan value, met (bool); for
        the R4 quota rules also ``need`` (objects the 2023 ratio requires), ``quota`` and
        ``expected`` (expected draws the stratum achieves in its worst quarter, after the
        overlap exclusions).
    all_minimums_met : bool
    coverage : DataFrame
        Per own unit and category: objects, analytic and simulated yearly coverage, draws
        per object a year, expected violation rate per quarter, deterred share.
    gaps : DataFrame
        Coverage gaps (:func:`coverage_gaps`): groups of objects never drawn or drawn below
        ``coverage_warning_below`` a year, and credit classes with inclusion probability 0 in
        a stratum that holds objects of the class; ``message`` says it in Chinese.
    analytic : AnalyticResult
        The analytic estimate behind ``coverage``, ``workload`` and the R4 verdicts
        (:func:`dsr_analysis.simulation.analytic.analytic_year`).
    coverage_total, simulated_coverage_total : float
        Share of all objects inspected at least once a year (analytic / simulated).
    violation_rate : float
        Expected share of firms violating in a quarter
        (:func:`dsr_analysis.simulation.deterrence.quick_estimate`).
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
    gaps: pd.DataFrame
    analytic: AnalyticResult
    coverage_total: float
    simulated_coverage_total: float
    violation_rate: float
    deterrence_total: float
    hit_rate: float
    elapsed: float = 0.0

    @property
    def gap_warning(self) -> str:
        """The coverage gaps as one Chinese sentence (empty when there are none)."""
        if self.gaps.empty:
            return ""
        return "; ".join(self.gaps["message"])

    def headline(self) -> str:
        """Headline numbers as text (Chinese), deterministic for given inputs."""
        w = self.workload
        met = int(self.minimums["met"].sum())
        groups = self.gaps[self.gaps["kind"] != "zero_probability"]
        classes = self.gaps[self.gaps["kind"] == "zero_probability"]
        if self.gaps.empty:
            gap_line = "覆盖缺口: 无"
        else:
            parts = []
            if len(groups):
                parts.append(f"{len(groups)} 组对象 (共 {int(groups['objects'].sum())} 家) "
                             f"全年抽不到或年度覆盖率过低")
            if len(classes):
                parts.append(f"{len(classes)} 个抽查范围中有信用类别的抽中概率为 0")
            shown = list(self.gaps["message"][:2])
            more = len(self.gaps) - len(shown)
            gap_line = ("覆盖缺口: " + ", ".join(parts) + " — " + "; ".join(shown)
                        + (f"; 等另 {more} 项" if more > 0 else ""))
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
            gap_line,
            f"威慑: 预计违法企业比例 {self.violation_rate:.1%} (每季度), 被威慑比例 "
            f"{self.deterrence_total:.1%}, 检查发现违法率 {self.hit_rate:.1%}",
        ]
        return "\n".join(lines)


def _workload(policy: Policy, est: AnalyticResult, inspectors_available: Mapping[str, int],
              settings: PlannerSettings) -> pd.DataFrame:
    """Checks and inspector-days per unit and quarter against capacity.

    The checks of a stratum are the draws the analytic estimate expects it to achieve
    (``min(quota, eligible)``, the mean over the quarters); they are split on-site / off-site
    by the expected draws of its groups (off-site: full off-site coverage, or objects with
    off-site capability when ``methods.offsite_first``)."""
    budget = settings.budget
    m = est.membership
    offsite = (m["method"] == "offsite_full") | (policy.methods.offsite_first
                                                 & m["offsite_capable"].astype(bool))
    by_row = m.assign(off=np.where(offsite, m["draws"], 0.0)).groupby("row")[["draws", "off"]].sum()
    ratio = np.divide(by_row["off"], by_row["draws"], out=np.zeros(len(by_row)),
                      where=by_row["draws"].to_numpy() > 0)
    off_share = dict(zip(by_row.index, ratio, strict=True))
    s = est.strata
    if s.empty:
        per = pd.DataFrame(columns=["checks", "offsite", "random"], dtype=float)
    else:
        frame = (s.groupby("row", sort=True)[["unit", "method"]].first()
                 .join(s.groupby("row", sort=True)["drawn"].sum() / est.quarters))
        frame["offsite"] = frame["drawn"] * frame.index.map(off_share).fillna(0.0)
        frame["random"] = np.where(frame["method"] == "random", frame["drawn"], 0.0)
        per = frame.rename(columns={"drawn": "checks"}).groupby("unit")[
            ["checks", "offsite", "random"]].sum()
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




def _minimums(policy: Policy, table: pd.DataFrame, reference: Policy,
              est: AnalyticResult) -> pd.DataFrame:
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
    rows.append(dict(rule=reference.credit_risk.rule, unit="全部", check="运用信用风险分类的抽查占比",
                     requirement=f"≥ {reference.credit_risk.min_share:.0%}",
                     plan=f"{share:.0%}" + ("" if differentiated else " (各类权重相同, 未区分)"),
                     met=bool(share + 1e-12 >= reference.credit_risk.min_share),
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
            if ref.method == "offsite_full":
                requirement = "每季度非现场全覆盖"
                met = mine is not None and mine.method == "offsite_full"
                plan = f"{quota}/{population}" + (" 非现场" if met else " (非全覆盖)")
                need = population
            else:
                need = math.ceil(round(ref.ratio * population, 9))
                requirement = f"每季度 ≥ {ref.ratio:.0%} (≥ {need} 家)"
                ratio = quota / population if population else 0.0
                quota_ok = mine is not None and quota >= need and (
                    mine.ratio + 1e-12 >= ref.ratio or mine.basis != "share")
                enough = expected + 1e-6 >= need
                met = quota_ok and enough
                plan = f"{quota}/{population} ({ratio:.1%})" if mine is not None else "无此项规则"
                if mine is not None and quota_ok and not enough:
                    plan += (f"; 扣除已抽和受限对象后第{int(w.quarter_min)}季度预计只有 "
                             f"{w.eligible_min:.1f} 家可抽, 预计抽中 {expected:.1f} 家, "
                             f"不足 {need} 家")
            rows.append(dict(rule=ref.rule, unit=unit.name, check=label,
                             requirement=requirement, plan=plan, met=bool(met), need=float(need),
                             quota=float(quota), expected=expected if mine is not None else nan))
    rows.append(dict(rule=reference.joint.rule, unit="各级", check="内部联合抽查占比",
                     requirement=f"≥ {reference.joint.internal_min_share:.0%}",
                     plan=f"{policy.joint.internal_min_share:.0%}",
                     met=bool(policy.joint.internal_min_share + 1e-12
                              >= reference.joint.internal_min_share),
                     need=nan, quota=nan, expected=nan))
    need = reference.joint.inter_departmental_per_quarter
    for unit in policy.units:
        random_checks = int(random_by_unit.get(unit.id, 0))
        planned = min(policy.joint.inter_departmental_per_quarter, random_checks)
        rows.append(dict(rule=reference.joint.rule, unit=unit.name, check="部门联合抽查",
                         requirement=f"每季度 ≥ {need} 次",
                         plan=f"{planned} 次" + ("" if random_checks else " (无随机抽查)"),
                         met=bool(planned >= need), need=nan, quota=nan, expected=nan))
    return pd.DataFrame(rows, columns=["rule", "unit", "check", "requirement", "plan", "met",
                                       "need", "quota", "expected"])


# --------------------------------------------------------------------------------------
# Coverage gaps
# --------------------------------------------------------------------------------------
GAP_COLUMNS = ["kind", "unit", "unit_name", "category", "subset", "credit_class", "objects",
               "coverage", "drawing_unit", "reason", "message"]
GAP_KIND_ZH = {"no_coverage": "全年抽不到", "low_coverage": "年度覆盖率低",
               "zero_probability": "抽中概率为零"}


def coverage_gaps(est: AnalyticResult, table: pd.DataFrame, policy: Policy,
                  below: float) -> pd.DataFrame:
    """Groups of objects the plan leaves (almost) unchecked, and credit classes it never draws.

    * ``no_coverage`` / ``low_coverage``: objects (by own unit x category, then split by the
      positive list, then by credit class where only a part is affected) whose analytic
      yearly coverage is 0 or below ``below``; ``reason`` says why (no rule of any unit
      draws from them, a quota of 0, or a low ratio);
    * ``zero_probability``: a stratum (drawing unit x rule) holding objects of a credit class
      whose inclusion probability is 0 (a weight of 0, or a quota of 0: then one row for the
      stratum, ``credit_class`` ``all``).

    Columns :data:`GAP_COLUMNS`; ``coverage`` is NaN for ``zero_probability`` rows and
    ``drawing_unit`` empty for the others.
    """
    g = est.groups
    m = est.membership
    quota = table["quota"].to_numpy()
    reached = np.zeros(len(g), dtype=bool)
    reached[m["group"].to_numpy(dtype=np.int64)] = True
    live_m = m[(m["method"] == "offsite_full") | (quota[m["row"].to_numpy(dtype=np.int64)] > 0)]
    live = np.zeros(len(g), dtype=bool)
    live[live_m["group"].to_numpy(dtype=np.int64)] = True
    frame = g.assign(covered=g["coverage"] * g["n"], reached=reached, live=live)
    area_units = {u.id for u in policy.units if u.level == "area"}
    levels = [["unit", "category"], ["unit", "category", "positive_list"],
              ["unit", "category", "positive_list", "credit_class"]]
    flagged: set[tuple] = set()
    rows = []
    for cols in levels:
        agg = frame.groupby(cols, sort=True).agg(
            n=("n", "sum"), covered=("covered", "sum"), reached=("reached", "all"),
            some_reached=("reached", "any"), live=("live", "any"))
        for key, r in agg.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            if key[:2] in flagged or key[:3] in flagged or r["n"] <= 0:
                continue
            cov = float(r["covered"] / r["n"])
            if cov > 1e-12 and cov >= below:
                continue
            flagged.add(key)
            unit, category = key[0], key[1]
            subset = "all" if len(key) < 3 else (
                "positive_list" if key[2] else "not_positive_list")
            credit = "all" if len(key) < 4 else key[3]
            if not r["some_reached"]:
                reason = "本计划没有任何单位的抽查规则覆盖这些对象"
            elif not r["live"]:
                reason = "所在抽查范围的每季度抽查数为 0"
            elif cov <= 1e-12:
                reason = "抽中概率为 0"
            else:
                reason = f"年度覆盖率低于 {below:.0%}"
            name = policy.unit_names.get(unit, unit)
            who = f"{name}直管" if unit in area_units else name
            what = CATEGORY_ZH[category] + (
                "" if subset == "all" else f" ({SUBSET_ZH[subset]})") + (
                "" if credit == "all" else f" {credit}类")
            rows.append(dict(kind="no_coverage" if cov <= 1e-12 else "low_coverage",
                             unit=unit, unit_name=name, category=category, subset=subset,
                             credit_class=credit, objects=int(r["n"]), coverage=cov,
                             drawing_unit="", reason=reason,
                             message=f"{who}的{what} {int(r['n'])} 家: 年度覆盖率 {cov:.1%}, "
                                     f"{reason}"))
    for t in table.itertuples(index=False):
        if t.method != "random" or t.population <= 0:
            continue
        what = CATEGORY_ZH[t.category] + (
            "" if t.subset == "all" else f" ({SUBSET_ZH[t.subset]})")
        if t.quota <= 0:
            rows.append(dict(kind="zero_probability", unit=t.unit, unit_name=t.unit_name,
                             category=t.category, subset=t.subset, credit_class="all",
                             objects=int(t.population), coverage=float("nan"),
                             drawing_unit=t.unit, reason="每季度抽查数为 0",
                             message=f"{t.unit_name}抽查{what}: 每季度抽查数为 0, "
                                     f"{int(t.population)} 家的抽中概率均为 0"))
            continue
        for c in CREDIT_CLASSES:
            n_c = int(getattr(t, f"population_{c}"))
            if n_c > 0 and getattr(t, f"probability_{c}") <= 0:
                rows.append(dict(kind="zero_probability", unit=t.unit, unit_name=t.unit_name,
                                 category=t.category, subset=t.subset, credit_class=c,
                                 objects=n_c, coverage=float("nan"), drawing_unit=t.unit,
                                 reason=f"{c}类权重为 0",
                                 message=f"{t.unit_name}抽查{what}: {c}类 {n_c} 家的抽中概率为 0 "
                                         f"({c}类权重为 0)"))
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


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
    est = analytic_year(prepared.groups, plan, table, OverlapRules.from_policy(plan))
    workload = _workload(plan, est, inspectors_available, settings)
    feasible = bool(workload["feasible"].all())
    warning = "" if feasible else "; ".join(
        f"{r.unit_name}: {r.reason}" for r in workload.itertuples() if not r.feasible)
    minimums = _minimums(plan, table, ref, est)
    gaps = coverage_gaps(est, table, plan, settings.coverage_warning_below)

    # Deterrence: the closed form of dsr_analysis.simulation.deterrence on the tuned plan (per quarter).
    dest = quick_estimate(prepared.classified, plan, settings.deterrence,
                          inspectors=prepared.registers.inspectors, budget=settings.budget)
    would = 1.0 - settings.deterrence.compliant_share      # violators without any check
    deter = dest.groupby(["unit", "category"])[["objects", "violators", "detected",
                                                  "inspections"]].sum()
    sim = simulate_coverage(prepared.classified, plan, replicates=settings.simulation.replicates,
                            seed=int(seed), inspectors=prepared.registers.inspectors,
                            budget=settings.budget)
    sim_cov = sim.coverage.groupby(["unit", "category"])[["covered"]].sum() \
        / settings.simulation.replicates

    g = est.groups
    n = g["n"].to_numpy()
    frame = g.assign(coverage=g["coverage"] * n, draws=g["draws"] * n)
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
    violation_rate = float(dest["violators"].sum() / dest["objects"].sum())
    inspections = float(dest["inspections"].sum())
    total = float(n.sum()) or 1.0
    return PlanOutcome(
        policy=plan, quotas=table, quota_table=quota_display(table), workload=workload,
        feasible=feasible, warning=warning, minimums=minimums,
        all_minimums_met=bool(minimums["met"].all()), coverage=coverage, gaps=gaps,
        analytic=est,
        coverage_total=float(frame["coverage"].sum() / total),
        simulated_coverage_total=float(per["simulated"].sum() / total),
        violation_rate=violation_rate,
        deterrence_total=float(_deterred(violation_rate, would)),
        hit_rate=float(dest["detected"].sum() / inspections) if inspections else 0.0,
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
    """Quarterly quotas per unit, category and subset; per credit class the expected draws,
    the class's objects and its inclusion probability (R3: a different ratio per class)."""
    share = np.divide(table["quota"].to_numpy(float), table["population"].to_numpy(float),
                      out=np.zeros(len(table)), where=table["population"].to_numpy() > 0)
    out = {
        "单位": table["unit_name"].to_numpy(), "类别": table["category"].map(CATEGORY_ZH).to_numpy(),
        "范围": table["subset"].map(SUBSET_ZH).to_numpy(),
        "方式": table["method"].map(METHOD_ZH).to_numpy(),
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
    ledgers: Sequence[str | Path] | None = None,
) -> Path:
    """Write ``policy`` as ``<directory>/<name>.yaml`` (its id becomes ``name``).

    The file is written to a temporary name, loaded back with :func:`load_policy` (so a file
    the loader would reject is never left behind), then moved into place. An existing file
    is replaced only with ``overwrite=True``; otherwise :class:`PlanExistsError`. A file
    that a draw or commitment of one of ``ledgers`` (default: the outputs' ledger) was made
    under is never replaced: its draws must keep replaying from it.
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
    if target.exists():
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        for ledger in (ledgers if ledgers is not None else [DEFAULT_LEDGER]):
            used = drawn_under(ledger, sha)
            if used is not None:
                raise PlanExistsError(
                    f"方案“{name}”已用于{used.quarter}的抽取（抽取记录第 {used.seq} 条），不能覆盖；"
                    "请另取方案名称保存")
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
    "build_policy", "coverage_display", "coverage_gaps", "default_inspectors", "gaps_display",
    "load_planner_settings", "minimums_display", "plan_from_policy", "plan_outcome",
    "quota_display", "random_rules", "resolve_policy", "save_policy", "workload_display",
    "yearly_coverage",
]
