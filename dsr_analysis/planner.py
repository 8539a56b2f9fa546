"""The annual-plan planner: what a changed plan costs and what it buys (R3, R4, R5).

Every output of the interactive planner (``notebooks/planner.ipynb``, widgets in
:mod:`dsr_analysis.planner_ui`) is computed here by pure functions whose arguments are the
widgets' values one-to-one, so the planner cannot drift from a test or a batch run:

* :func:`build_policy` — the tuned plan as a :class:`~dsr_analysis.policy.Policy`
  (``dataclasses.replace`` on the plan it starts from), with the inspectors and the cost of a
  check it assumed (the policy's optional ``planner`` section, :class:`PlannerInputs`);
* :func:`plan_outcome` — the quarterly quota table per unit, inspector-days needed against
  available with a feasibility verdict, every minimum of the 2023 plan met or not, the
  coverage gaps and a coverage and deterrence estimate, as a frozen :class:`PlanOutcome`;
* :func:`suggest_changes` — when a plan is infeasible, the smallest changes that make it
  feasible: the inspectors each unit needs at today's ratios, or the largest ratio of a rule
  that fits today's inspectors;
* :func:`compare_outcomes` — two plans side by side (quotas, inspector-days, coverage,
  deterrence, minimums, the controls), every difference flagged; :func:`write_comparison_xlsx`
  writes it as a workbook;
* :func:`map_onto_units` — the rules of another jurisdiction's plan (Chizhou, Guangzhou) on the
  units of the register's jurisdiction, or a Chinese message saying why they cannot be;
* :func:`save_policy` — writes the plan as a policy YAML that :func:`load_policy` accepts and
  the batch commands use (``dsr quotas --policy xiongan-2024``); never overwrites silently,
  never overwrites a published plan or one a draw was made under, and keeps the year in the
  name and the plan's year the same.

Planning assumptions that no rule sets (inspector-days per check, working days, deterrence
parameters, where the 2023 plan states each rule) live in ``parameters/planner.yaml``
(:class:`PlannerSettings`); the page may change the cost of a check, and a saved draft keeps
what it used.

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
``coverage_warning_below``), credit classes never drawn and minimums the draw would miss are
listed as coverage gaps. On request (``simulate=True``) a seeded simulation of the year's
draws on the register itself (:func:`dsr_analysis.simulation.coverage.simulate_coverage`) is
shown next to the analytic figure. :func:`yearly_coverage` keeps the one-stratum closed forms.

Deterrence uses the closed form of :mod:`dsr_analysis.simulation.deterrence`
(:func:`~dsr_analysis.simulation.deterrence.quick_estimate`: a firm violates in a quarter when its
lognormal private gain exceeds probability of a check x detection x sanction), with the
behaviour parameters of the simulation scenario named in ``parameters/planner.yaml``. It
shows the expected share of firms violating per quarter, the share of would-be violators the
plan deters, and the share of checks expected to find a violation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .categories import CATEGORY_ZH, classify
from .config import build, read_yaml
from .draw.ledger import DEFAULT_LEDGER, drawn_under
from .errors import DsrError, ParameterError, PolicyError
from .overlap import OverlapRules
from .paths import DEFAULT_POLICY, PARAMETERS_DIR, POLICIES_DIR
from .policy import (CREDIT_CLASSES, PlannerInputs, Policy, list_policies, load_policy,
                     policy_to_dict)
from .quotas import METHOD_ZH, SUBSET_ZH, credit_share, quarterly_quotas
from .registers import Registers, load_registers
from .simulation.analytic import AnalyticResult, achieved_minimum, analytic_year, group_objects
from .simulation.coverage import Budget, inspectors_by_unit, simulate_coverage
from .simulation.deterrence import DeterrenceParams, quick_estimate
from .simulation.scenarios import load_scenario

PLANNER_SETTINGS = PARAMETERS_DIR / "planner.yaml"
OVERLAP_MODES = ("independent", "rotation", "yearly_cap")
OVERLAP_ZH = {"independent": "各季度独立抽取", "rotation": "轮换（先抽未抽过的）",
              "yearly_cap": "年度次数上限"}
LEVEL_ZH = {"area": "新区本级", "county": "县级"}
QUARTERS_PER_YEAR = 4
#: The cost of a check the page may change and a draft saves (keys of ``assumptions``).
ASSUMPTIONS = ("days_per_inspector_per_quarter", "onsite_inspector_days",
               "offsite_inspector_days", "joint_extra_inspector_days")
ASSUMPTIONS_ZH = {"days_per_inspector_per_quarter": "每名执法人员每季度可用于抽查的人·日",
                  "onsite_inspector_days": "每次现场检查所需人·日",
                  "offsite_inspector_days": "每次非现场检查所需人·日",
                  "joint_extra_inspector_days": "每次内部联合检查另需人·日"}
#: Slider steps of a rule's ratio: suggestions are on this grid, so a suggestion applied to the
#: slider is exactly the value that was checked.
RATIO_STEP = {"share": 0.01, "per_inspector": 0.1}


class PlanExistsError(ParameterError):
    """A plan would overwrite an existing policy file it may not (or without being told to)."""


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
    clauses: dict[str, str] = _f(
        "rule id -> the clause of the 2023 plan that sets it (cited by the page's help)")
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


_SETTINGS: dict[tuple, PlannerSettings] = {}


def _default_settings() -> PlannerSettings:
    stat = PLANNER_SETTINGS.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    if key not in _SETTINGS:
        _SETTINGS[key] = load_planner_settings()
    return _SETTINGS[key]


def planner_settings() -> PlannerSettings:
    """``parameters/planner.yaml``, loaded once per version of the file."""
    return _default_settings()


def default_assumptions(settings: PlannerSettings | None = None) -> dict[str, float]:
    """The cost of a check from ``parameters/planner.yaml`` (its scenario's budget and the
    extra day of an internal joint check): the start values of the page's assumptions."""
    settings = settings or _default_settings()
    b = settings.budget
    return dict(days_per_inspector_per_quarter=float(b.days_per_inspector_per_quarter),
                onsite_inspector_days=float(b.onsite_inspector_days),
                offsite_inspector_days=float(b.offsite_inspector_days),
                joint_extra_inspector_days=float(settings.joint_extra_inspector_days))


def _check_assumptions(assumptions: Mapping[str, float]) -> dict[str, float]:
    if set(assumptions) != set(ASSUMPTIONS):
        raise ParameterError(f"assumptions: give exactly {', '.join(ASSUMPTIONS)} "
                             f"(got {', '.join(map(str, assumptions)) or 'none'})")
    out = {}
    for k in ASSUMPTIONS:
        v = _number(assumptions[k], f"assumptions['{k}']")
        hi = 92.0 if k == "days_per_inspector_per_quarter" else 100.0
        if not 0.0 <= v <= hi:
            raise ParameterError(f"assumptions['{k}']: {v!r} is out of range [0, {hi:g}]")
        out[k] = v
    return out


def _budget(assumptions: Mapping[str, float], settings: PlannerSettings) -> Budget:
    return dataclasses.replace(
        settings.budget, enforce=False,
        days_per_inspector_per_quarter=assumptions["days_per_inspector_per_quarter"],
        onsite_inspector_days=assumptions["onsite_inspector_days"],
        offsite_inspector_days=assumptions["offsite_inspector_days"])


def clause_of(rule: str, settings: PlannerSettings | None = None) -> str:
    """The clause of the 2023 plan that sets rule ``rule`` (empty when none is listed)."""
    return (settings or _default_settings()).clauses.get(rule, "")


# --------------------------------------------------------------------------------------
# Plans: files, labels, other jurisdictions
# --------------------------------------------------------------------------------------
_POLICY_CACHE: dict[tuple, Policy] = {}
_PREPARED_CACHE: dict[tuple, _Prepared] = {}
_REGISTER_CACHE: dict[tuple, Registers] = {}


def base_policy_names() -> list[str]:
    """Names of the policy files a plan can start from (``parameters/policies/*.yaml``)."""
    return [p.stem for p in list_policies()]


def plan_files(directory: str | Path) -> list[Path]:
    """The policy files of ``directory`` (sorted; none when it does not exist)."""
    directory = Path(directory)
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


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


def plan_label(policy: Policy) -> str:
    """A short Chinese label of a plan for a list: place, year and its file name
    (``河北雄安新区2023年方案（xiongan-2023）``; a draft saved by the planner says 草稿)."""
    m = re.match(r"^(.*?)(?:管理委员会)?(?:市)?生态环境局", policy.name or "")
    place = m.group(1) if m and m.group(1) else (policy.name or policy.id)[:12]
    kind = "草稿" if policy.planner is not None else "方案"
    return f"{place}{policy.year}年{kind}（{policy.id}）"


def map_onto_units(plan: Policy, jurisdiction: Policy) -> Policy:
    """The rules of ``plan`` on the units of ``jurisdiction`` (the register's units).

    A plan written for other units (Chizhou's, Guangzhou's) keeps its rules - quotas per level
    and category, credit weights, overlap control, joint checks, staffing - and takes the
    jurisdiction's units: each rule applies to the jurisdiction's units of its level (the
    area level's rules to 新区本级, the county rules to each county) and who draws from whom
    is the jurisdiction's (新区本级 draws from every object). Its title becomes the
    jurisdiction's; ``planner.based_on`` keeps where it came from once saved.

    Raises :class:`~dsr_analysis.errors.ParameterError`, in Chinese, when it cannot be done:
    a rule for a level the jurisdiction has no unit of, or a category condition that names
    the plan's own units.
    """
    if [u.id for u in plan.units] == [u.id for u in jurisdiction.units]:
        return plan
    problems = []
    levels = {u.level for u in jurisdiction.units}
    for r in plan.quotas.rules:
        if r.level not in levels:
            problems.append(f"规则“{rule_label(plan, r)}”针对{LEVEL_ZH[r.level]}单位，"
                            f"而本登记册的单位（{'、'.join(jurisdiction.unit_names.values())}）"
                            f"中没有{LEVEL_ZH[r.level]}单位")
    for c in plan.categories.conditions:
        if c.field == "unit":
            problems.append(f"分类条件“{c.label}”按所属单位划分，而所列单位不在本登记册中")
    if problems:
        raise ParameterError(f"方案“{plan_label(plan)}”的抽查规则不能用于本登记册：" + "；".join(problems))
    authority = jurisdiction.authority()
    name = f"{authority}{plan.year}年“双随机、一公开”抽查计划（参照{_place(plan)}规则）"
    return dataclasses.replace(plan, units=jurisdiction.units, name=name, path="", sha256="")


def _place(policy: Policy) -> str:
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
    inspectors_available: Mapping[str, int] | None = None,
    assumptions: Mapping[str, float] | None = None,
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
        Year of the new plan; the (first) year in the plan's title changes with it.
    inspectors_available, assumptions : mapping, optional
        Inspectors per unit and the cost of a check (:data:`ASSUMPTIONS`) the plan was made
        with; given, they become the plan's ``planner`` section (:class:`PlannerInputs`),
        saved with it. ``assumptions`` defaults to ``parameters/planner.yaml``'s.
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
        changes["name"] = base.name.replace(str(base.year), str(year), 1)
    if inspectors_available is not None:
        _check_inspectors(base, inspectors_available)
        a = _check_assumptions(assumptions if assumptions is not None else default_assumptions())
        changes["planner"] = PlannerInputs(
            based_on=base.planner.based_on if base.planner is not None else base.id,
            inspectors={u.id: int(inspectors_available[u.id]) for u in base.units}, **a)
    elif assumptions is not None:
        raise ParameterError(f"{where}: assumptions are saved with the inspectors: give "
                             "inspectors_available too")
    return dataclasses.replace(base, **changes)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{where}: expected a finite number, got {value!r}")
    return value


def _check_inspectors(plan: Policy, inspectors_available: Mapping[str, int]) -> None:
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


def plan_from_policy(policy: Policy) -> dict[str, Any]:
    """The planner's rule controls that reproduce ``policy`` (its widgets' start values)."""
    return dict(
        ratios={r.id: r.ratio for r in random_rules(policy)},
        credit_weights=dict(policy.credit_risk.weights),
        overlap=policy.draw.overlap,
        yearly_cap=policy.draw.yearly_cap,
        internal_joint_share=policy.joint.internal_min_share,
    )


def plan_inputs(policy: Policy, registers: Registers | str | Path | None = None,
                settings: PlannerSettings | None = None) -> dict[str, Any]:
    """The inspectors and the cost of a check to plan ``policy`` with: what a draft saved
    (its ``planner`` section) or, for a plan without one, the register's active certified
    inspectors and ``parameters/planner.yaml``'s assumptions. A saved count for a unit the
    plan no longer has is dropped; a unit without one gets the register's count.

    Returns ``dict(inspectors_available=..., assumptions=...)`` (keyword arguments of
    :func:`plan_outcome`)."""
    settings = settings or _default_settings()
    counts = default_inspectors(policy, registers, settings)
    saved = policy.planner
    if saved is None:
        return dict(inspectors_available=counts, assumptions=default_assumptions(settings))
    inspectors = {u.id: int(saved.inspectors.get(u.id, counts[u.id])) for u in policy.units}
    assumptions = {k: float(getattr(saved, k)) for k in ASSUMPTIONS}
    return dict(inspectors_available=inspectors, assumptions=assumptions)


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
        The tuned plan (what "save" writes, with the inspectors and assumptions below).
    quotas : DataFrame
        Quota table of one quarter (:func:`~dsr_analysis.quotas.quarterly_quotas` columns:
        one row per stratum, per credit class its objects, inclusion probability and expected
        draws); the same every quarter of the year with an unchanged register.
    quota_table : DataFrame
        Quotas per unit, category and subset with the expected draws and the inclusion
        probability of each credit class (Chinese headers).
    workload : DataFrame
        Per unit and quarter: checks on-site / off-site (expected draws achieved, on average
        over the quarters), internal joint checks, inspector-days needed and available
        (``days_borrowable``: the counties' spare days the area level may use), tasks per
        inspector, feasible (bool), ``reason`` (Chinese, empty when feasible).
    feasible : bool
        Every unit can staff its quarter.
    warning : str
        Why the plan is infeasible (empty when feasible), in Chinese.
    minimums : DataFrame
        Every minimum of the 2023 plan: ``rule``, ``unit`` (Chinese name, 全部 / 各级 for the
        plan as a whole), ``unit_id`` (empty for those), ``check``, ``requirement``,
        ``plan``, ``met`` (bool), ``value`` (the plan's figure, short), ``clause`` (where the
        2023 plan sets it), ``shortfall`` (the quota is enough but the stratum runs out after
        the overlap exclusions); for the R4 quota rules also ``need`` (objects the 2023
        ratio requires), ``quota`` and ``expected`` (expected draws the stratum achieves in
        its worst quarter).
    all_minimums_met : bool
    coverage : DataFrame
        Per own unit and category: objects, analytic yearly coverage (and the simulated one,
        NaN unless ``simulate``), draws per object a year, expected violation rate per
        quarter, deterred share.
    gaps : DataFrame
        Coverage gaps (:func:`coverage_gaps`, :data:`GAP_COLUMNS`): groups of objects never
        drawn or drawn below ``coverage_warning_below`` a year, credit classes with inclusion
        probability 0 in a stratum that holds objects of the class, and minimums the draw
        would miss because the stratum runs out (``draw_shortfall``); ``message`` says it in
        Chinese.
    analytic : AnalyticResult
        The analytic estimate behind ``coverage``, ``workload`` and the R4 verdicts
        (:func:`dsr_analysis.simulation.analytic.analytic_year`).
    coverage_total, simulated_coverage_total : float
        Share of all objects inspected at least once a year (analytic / simulated, NaN
        unless simulated).
    violation_rate : float
        Expected share of firms violating in a quarter
        (:func:`dsr_analysis.simulation.deterrence.quick_estimate`).
    deterrence_total : float
        Share of the firms that would violate without any check that the plan deters.
    hit_rate : float
        Expected share of checks that find a violation.
    inspectors : dict
        Unit id -> inspectors available the outcome was computed with.
    assumptions : dict
        The cost of a check (:data:`ASSUMPTIONS`) it was computed with.
    reference : Policy
        The plan whose minimums were checked (the Xiong'an 2023 plan by default).
    simulated : bool
        Whether the simulated coverage was computed.
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
    inspectors: dict = field(default_factory=dict)
    assumptions: dict = field(default_factory=dict)
    reference: Policy | None = None
    simulated: bool = False
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
    assumptions: Mapping[str, float] | None = None,
    simulate: bool = False,
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
        Seed of the quick simulated coverage check (used with ``simulate``).
    registers : Registers, directory or None
        Register directory (None or '' = the embedded sample).
    assumptions : mapping, optional
        The cost of a check (:data:`ASSUMPTIONS`: inspector-days per inspector and quarter,
        per on-site and off-site check, extra per internal joint check); default
        ``parameters/planner.yaml``'s (:func:`default_assumptions`).
    simulate : bool
        Also run the seeded quick simulation of the year (``simulated_coverage``); off by
        default: the analytic estimate follows the draw and is what the verdicts use.
    settings : PlannerSettings, optional
        Planning assumptions (default: ``parameters/planner.yaml``).
    reference : policy, optional
        The plan whose minimums are checked (default: the Xiong'an 2023 plan).
    """
    start = time.perf_counter()
    settings = settings or _default_settings()
    assumptions = _check_assumptions(assumptions if assumptions is not None
                                     else default_assumptions(settings))
    plan = build_policy(base_policy, ratios, credit_weights, overlap, yearly_cap,
                        internal_joint_share)
    ref = resolve_policy(reference if reference is not None else DEFAULT_POLICY)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed: {seed!r} is not a whole number >= 0")
    _check_inspectors(plan, inspectors_available)
    inspectors = {u.id: int(inspectors_available[u.id]) for u in plan.units}
    plan = dataclasses.replace(plan, planner=PlannerInputs(
        based_on=plan.planner.based_on if plan.planner is not None else plan.id,
        inspectors=inspectors, **assumptions))
    budget = _budget(assumptions, settings)

    prepared = _prepare(registers, plan)
    table = quarterly_quotas(prepared.classified, plan, f"{plan.year}Q1",
                             prepared.registers.inspectors)
    est = analytic_year(prepared.groups, plan, table, OverlapRules.from_policy(plan))
    workload = _capacity(plan, _unit_load(plan, est, assumptions), inspectors, assumptions)
    feasible = bool(workload["feasible"].all())
    warning = "" if feasible else "; ".join(
        f"{r.unit_name}: {r.reason}" for r in workload.itertuples() if not r.feasible)
    minimums = _minimums(plan, table, ref, est, settings)
    gaps = pd.concat([coverage_gaps(est, table, plan, settings.coverage_warning_below),
                      draw_shortfalls(minimums)], ignore_index=True)

    # Deterrence: the closed form of dsr_analysis.simulation.deterrence on the tuned plan (per quarter).
    dest = quick_estimate(prepared.classified, plan, settings.deterrence,
                          inspectors=prepared.registers.inspectors, budget=budget)
    would = 1.0 - settings.deterrence.compliant_share      # violators without any check
    deter = dest.groupby(["unit", "category"])[["violators"]].sum()

    g = est.groups
    n = g["n"].to_numpy()
    frame = g.assign(coverage=g["coverage"] * n, draws=g["draws"] * n)
    per = frame.groupby(["unit", "category"], sort=False)[["n", "coverage", "draws"]].sum()
    if simulate:
        sim = simulate_coverage(prepared.classified, plan,
                                replicates=settings.simulation.replicates, seed=int(seed),
                                inspectors=prepared.registers.inspectors, budget=budget)
        sim_cov = sim.coverage.groupby(["unit", "category"])[["covered"]].sum() \
            / settings.simulation.replicates
        per = per.join(sim_cov.rename(columns={"covered": "simulated"})).fillna(
            {"simulated": 0.0})
    else:
        per["simulated"] = np.nan
    per = per.join(deter)
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
        simulated_coverage_total=(float(per["simulated"].sum() / total) if simulate
                                  else float("nan")),
        violation_rate=violation_rate,
        deterrence_total=float(_deterred(violation_rate, would)),
        hit_rate=float(dest["detected"].sum() / inspections) if inspections else 0.0,
        inspectors=inspectors, assumptions=assumptions, reference=ref, simulated=bool(simulate),
        elapsed=time.perf_counter() - start,
    )


def _deterred(violation_rate, would_violate: float):
    """Share of the firms that would violate without checks that the plan deters."""
    if would_violate <= 0:
        return violation_rate * 0.0
    return 1.0 - violation_rate / would_violate


# --------------------------------------------------------------------------------------
# Inspector-days: the load of a plan, then the capacity that carries it
# --------------------------------------------------------------------------------------
def _unit_load(policy: Policy, est: AnalyticResult, assumptions: Mapping[str, float]
               ) -> pd.DataFrame:
    """Checks and inspector-days per unit and quarter (no capacity yet).

    The checks of a stratum are the draws the analytic estimate expects it to achieve
    (``min(quota, eligible)``, the mean over the quarters); they are split on-site / off-site
    by the expected draws of its groups (off-site: full off-site coverage, or objects with
    off-site capability when ``methods.offsite_first``)."""
    s = est.strata
    off_by_row = _offsite_share_by_row(policy, est)
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
        joint = math.ceil(round(share * p["random"], 9))   # R5 counts the drawn checks
        days = (onsite * assumptions["onsite_inspector_days"]
                + p["offsite"] * assumptions["offsite_inspector_days"]
                + joint * assumptions["joint_extra_inspector_days"])
        rows.append(dict(unit=unit.id, unit_name=unit.name, level=unit.level, onsite=onsite,
                         offsite=p["offsite"], joint=joint, days_needed=days))
    return pd.DataFrame(rows)


def _offsite_share_by_row(policy: Policy, est: AnalyticResult) -> dict[int, float]:
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


def _capacity(policy: Policy, load: pd.DataFrame, inspectors: Mapping[str, int],
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


# --------------------------------------------------------------------------------------
# Minimums of the 2023 plan
# --------------------------------------------------------------------------------------
MINIMUM_COLUMNS = ["rule", "unit", "unit_id", "check", "requirement", "plan", "met", "value",
                   "clause", "shortfall", "need", "quota", "expected"]


def _minimums(policy: Policy, table: pd.DataFrame, reference: Policy,
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
                need = math.ceil(round(ref.ratio * population, 9))
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


# --------------------------------------------------------------------------------------
# Coverage gaps
# --------------------------------------------------------------------------------------
GAP_COLUMNS = ["kind", "unit", "unit_name", "category", "subset", "credit_class", "objects",
               "coverage", "drawing_unit", "reason", "message"]
GAP_KIND_ZH = {"no_coverage": "全年抽不到", "low_coverage": "年度覆盖率低",
               "zero_probability": "抽中概率为零", "draw_shortfall": "可抽对象不足"}


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
    reached = np.zeros(len(g), dtype=np.int64)
    reached[m["group"].to_numpy(dtype=np.int64)] = 1
    rows_m = m["row"].to_numpy(dtype=np.int64)
    live_m = (m["method"].to_numpy() == "offsite_full") | (quota[rows_m] > 0)
    live = np.zeros(len(g), dtype=np.int64)
    live[m["group"].to_numpy(dtype=np.int64)[live_m]] = 1
    frame = pd.DataFrame({"unit": g["unit"].to_numpy(), "category": g["category"].to_numpy(),
                          "positive_list": g["positive_list"].to_numpy(dtype=bool),
                          "credit_class": g["credit_class"].to_numpy(),
                          "n": g["n"].to_numpy(dtype=float),
                          "covered": (g["coverage"] * g["n"]).to_numpy(dtype=float),
                          "reached": reached, "live": live})
    area_units = {u.id for u in policy.units if u.level == "area"}
    levels = [["unit", "category"], ["unit", "category", "positive_list"],
              ["unit", "category", "positive_list", "credit_class"]]
    flagged: set[tuple] = set()
    rows = []
    for cols in levels:
        agg = frame.groupby(cols, sort=True)[["n", "covered", "reached", "live"]].sum()
        for key, n, covered, n_reached, n_live in zip(
                agg.index, agg["n"], agg["covered"], agg["reached"], agg["live"], strict=True):
            key = key if isinstance(key, tuple) else (key,)
            if key[:2] in flagged or key[:3] in flagged or n <= 0:
                continue
            cov = float(covered / n)
            if cov > 1e-12 and cov >= below:
                continue
            flagged.add(key)
            unit, category = key[0], key[1]
            subset = "all" if len(key) < 3 else (
                "positive_list" if key[2] else "not_positive_list")
            credit = "all" if len(key) < 4 else key[3]
            if n_reached == 0:
                reason = "本计划没有任何单位的抽查规则覆盖这些对象"
            elif n_live == 0:
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
                             credit_class=credit, objects=int(n), coverage=cov,
                             drawing_unit="", reason=reason,
                             message=f"{who}的{what} {int(n)} 家: 年度覆盖率 {cov:.1%}, "
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


def draw_shortfalls(minimums: pd.DataFrame) -> pd.DataFrame:
    """The minimums the draw would miss although the quota reaches them: the stratum runs out
    of eligible objects after the overlap exclusions (under ``avoid`` the objects its county
    drew this quarter, or a yearly cap). Columns :data:`GAP_COLUMNS`, kind ``draw_shortfall``."""
    rows = []
    for r in minimums[minimums["shortfall"].astype(bool)].itertuples(index=False):
        detail = r.plan.split("; ", 1)[1] if "; " in r.plan else r.plan
        rows.append(dict(kind="draw_shortfall", unit=r.unit_id, unit_name=r.unit,
                         category="", subset="", credit_class="all", objects=int(r.need),
                         coverage=float("nan"), drawing_unit=r.unit_id,
                         reason="可抽对象不足",
                         message=f"{r.unit}抽查{r.check}: 2023年方案要求每季度至少 "
                                 f"{int(r.need)} 家, {detail}"))
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


# --------------------------------------------------------------------------------------
# What to change: the smallest changes that make an infeasible plan feasible
# --------------------------------------------------------------------------------------
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
        cap = _capacity(policy, load, {**inspectors, unit: n}, assumptions)
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
        cap = _capacity(plan, frame, counts, assumptions)
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
    prepared = _prepare(registers, plan)
    ref_rules = {(r.level, r.category, r.subset): r for r in (outcome.reference or plan).quotas.rules}
    rules_overlap = OverlapRules.from_policy(plan)
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
            table = quarterly_quotas(prepared.classified, trial, f"{trial.year}Q1",
                                     prepared.registers.inspectors)
            est = analytic_year(prepared.groups, trial, table, rules_overlap)
            cap = _capacity(trial, _unit_load(trial, est, assumptions), inspectors, assumptions)
            ok = cap.set_index("unit")["feasible"]
            return bool(ok[list(targets)].all()), ok

        candidates = []
        table = outcome.quotas
        offsite_share = _offsite_share_by_row(plan, outcome.analytic)
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


# --------------------------------------------------------------------------------------
# Plans side by side
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanComparison:
    """Two plans side by side (:func:`compare_outcomes`): ``other`` (the plan compared with,
    e.g. the 2023 plan or last week's draft) and ``current`` (the draft on the page).

    Every frame has the other plan's value, the current one's and ``changed`` (bool); the
    frames of :func:`comparison_tables` say it in Chinese.

    Attributes
    ----------
    current, other : PlanOutcome
    labels : (str, str)
        How the current and the other plan are called (``本方案``, ``xiongan-2023``).
    quotas : DataFrame
        Per unit x category x subset: ``population``, ``quota`` of each (``_other`` /
        ``_current``), ``change`` (current - other).
    workload : DataFrame
        Per unit: inspectors, inspector-days needed and available (own + borrowable),
        feasible.
    coverage : DataFrame
        Per own unit x category: analytic yearly coverage and expected violation rate.
    totals : DataFrame
        The plan as a whole: feasibility, minimums met, checks, inspector-days, coverage,
        violation rate, deterred share, hit rate (``indicator``, ``other``, ``current``,
        ``change`` as text, ``changed``).
    minimums : DataFrame
        Every 2023 minimum: requirement, each plan's figure and verdict.
    controls : DataFrame
        Every control of the page: ratios, weights, overlap, joint share, inspectors, the
        cost of a check.
    """

    current: PlanOutcome
    other: PlanOutcome
    labels: tuple[str, str]
    quotas: pd.DataFrame
    workload: pd.DataFrame
    coverage: pd.DataFrame
    totals: pd.DataFrame
    minimums: pd.DataFrame
    controls: pd.DataFrame

    @property
    def changed_quotas(self) -> int:
        """Strata whose quarterly quota differs."""
        return int(self.quotas["changed"].sum())

    def summary(self) -> str:
        """One Chinese line: how the current plan differs from the other."""
        cur, oth = self.current, self.other
        days = cur.workload["days_needed"].sum() - oth.workload["days_needed"].sum()
        cov = (cur.coverage_total - oth.coverage_total) * 100
        vio = (cur.violation_rate - oth.violation_rate) * 100
        parts = [f"每季度抽查数 {self.changed_quotas} 处不同",
                 f"需要人·日 {days:+.0f}",
                 f"年度覆盖率 {cov:+.1f} 个百分点",
                 f"预计违法率 {vio:+.1f} 个百分点"]
        met_c, met_o = int(cur.minimums["met"].sum()), int(oth.minimums["met"].sum())
        if met_c != met_o:
            parts.append(f"最低要求达标 {met_o}→{met_c} 项")
        if cur.feasible != oth.feasible:
            parts.append("可行性 " + ("不可行→可行" if cur.feasible else "可行→不可行"))
        return f"与“{self.labels[1]}”相比：" + "，".join(parts)


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _changed(a, b, tol: float = 1e-9) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return False
        if math.isnan(a) or math.isnan(b):
            return True
        return abs(a - b) > tol
    return a != b


def compare_outcomes(current: PlanOutcome, other: PlanOutcome,
                     labels: tuple[str, str] = ("本方案", "对比方案")) -> PlanComparison:
    """The current plan against another, every table aligned and every difference flagged.

    Strata are matched by unit, category and subset (two plans may name their rules
    differently); a stratum one plan lacks shows NaN there. Both outcomes must be on the
    same units (map another jurisdiction's plan first, :func:`map_onto_units`)."""
    if [u.id for u in current.policy.units] != [u.id for u in other.policy.units]:
        raise ParameterError("两个方案的单位不同，不能对比；请先将方案对应到本登记册的单位")
    policy = current.policy
    names = policy.unit_names
    nan = float("nan")

    def strata(o: PlanOutcome) -> dict[tuple, dict]:
        out: dict[tuple, dict] = {}
        t = o.quotas
        for unit, cat, sub, pop, quota, method in zip(
                t["unit"], t["category"], t["subset"], t["population"], t["quota"],
                t["method"], strict=True):
            r = out.setdefault((unit, cat, sub), dict(population=0, quota=0, method=method))
            r["population"] += int(pop)
            r["quota"] += int(quota)
        return out

    so, sc = strata(other), strata(current)
    units = {u.id: i for i, u in enumerate(policy.units)}
    cats = {c: i for i, c in enumerate(("special", "key", "general"))}
    subs = {"all": 0, "positive_list": 1, "not_positive_list": 2}
    rows = []
    for key in sorted(set(so) | set(sc), key=lambda k: (units.get(k[0], 99), cats.get(k[1], 9),
                                                         subs.get(k[2], 9))):
        a, b = so.get(key), sc.get(key)
        qa = float(a["quota"]) if a else nan
        qb = float(b["quota"]) if b else nan
        rows.append(dict(unit=key[0], unit_name=names.get(key[0], key[0]), category=key[1],
                         subset=key[2], population_other=float(a["population"]) if a else nan,
                         quota_other=qa,
                         population_current=float(b["population"]) if b else nan,
                         quota_current=qb, method=(b or a)["method"], change=qb - qa,
                         changed=_changed(qa, qb)))
    q = pd.DataFrame(rows)

    wcols = ["inspectors", "days_needed", "days_available", "days_borrowable", "feasible"]
    w = _align(other.workload, current.workload, ["unit"], wcols)
    w.insert(1, "unit_name", w["unit"].map(names))
    w["changed"] = [any(_changed(_num(r[f"{c}_other"]), _num(r[f"{c}_current"]))
                        for c in wcols) for r in w.to_dict("records")]

    ccols = ["objects", "coverage", "violation_rate"]
    c = _align(other.coverage, current.coverage, ["unit", "category"], ccols)
    c.insert(1, "unit_name", c["unit"].map(names))
    c["changed"] = [_changed(round(_num(r["coverage_other"]), 4),
                             round(_num(r["coverage_current"]), 4))
                    or _changed(round(_num(r["violation_rate_other"]), 4),
                                round(_num(r["violation_rate_current"]), 4))
                    for r in c.to_dict("records")]

    def totals(o: PlanOutcome) -> dict[str, Any]:
        wl = o.workload
        return {"可行性": "可行" if o.feasible else "不可行",
                "2023年方案最低要求达标": f"{int(o.minimums['met'].sum())}/{len(o.minimums)}",
                "每季度现场检查（次）": round(float(wl["onsite"].sum()), 1),
                "每季度非现场检查（次）": round(float(wl["offsite"].sum()), 1),
                "每季度内部联合检查（次）": int(wl["joint"].sum()),
                "每季度需要人·日": round(float(wl["days_needed"].sum()), 1),
                "每季度可用人·日": round(float(wl["days_available"].sum()), 1),
                "年度覆盖率": o.coverage_total,
                "预计违法企业比例（每季度）": o.violation_rate,
                "被威慑比例": o.deterrence_total,
                "检查发现违法率": o.hit_rate,
                "覆盖缺口（项）": len(o.gaps)}

    to, tc = totals(other), totals(current)
    t = pd.DataFrame({"indicator": list(to), "other": list(to.values()),
                      "current": [tc[k] for k in to]})
    t["percent"] = t["indicator"].isin(PERCENT_TOTALS)
    t["changed"] = [_changed(round(a, 4), round(b, 4)) if isinstance(a, float) else a != b
                    for a, b in zip(t["other"], t["current"], strict=True)]

    m = _align(other.minimums, current.minimums, ["rule", "unit", "check", "requirement"],
               ["plan", "met", "clause"])
    m["clause"] = [b if isinstance(b, str) else a
                   for a, b in zip(m["clause_other"], m["clause_current"], strict=True)]
    m["changed"] = [(a != b) or (x != y) for a, b, x, y in zip(
        m["plan_other"], m["plan_current"], m["met_other"], m["met_current"], strict=True)]

    ctl = _align(pd.DataFrame(_controls(other.policy, other), columns=["control", "v"]),
                 pd.DataFrame(_controls(policy, current), columns=["control", "v"]),
                 ["control"], ["v"]).rename(columns={"v_other": "other", "v_current": "current"})
    ctl["changed"] = [a != b for a, b in zip(ctl["other"].fillna("—"), ctl["current"].fillna("—"),
                                             strict=True)]
    return PlanComparison(current=current, other=other, labels=tuple(labels), quotas=q,
                          workload=w, coverage=c, totals=t, minimums=m, controls=ctl)


#: Indicators of :attr:`PlanComparison.totals` that are shares.
PERCENT_TOTALS = ("年度覆盖率", "预计违法企业比例（每季度）", "被威慑比例", "检查发现违法率")


def _align(other: pd.DataFrame, current: pd.DataFrame, key: list[str], cols: list[str]
           ) -> pd.DataFrame:
    """Rows of two tables matched on ``key``, ``cols`` suffixed ``_other`` / ``_current``
    (None where a table lacks the row); in the current table's order, then the rows only
    the other has."""
    def index(frame: pd.DataFrame) -> dict[tuple, dict]:
        records = frame[key + cols].to_dict("records")
        return {tuple(r[k] for k in key): r for r in records}

    a, b = index(other), index(current)
    order = list(b) + [k for k in a if k not in b]
    rows = []
    for k in order:
        row = dict(zip(key, k, strict=True))
        for col in cols:
            row[f"{col}_other"] = a[k][col] if k in a else None
            row[f"{col}_current"] = b[k][col] if k in b else None
        rows.append(row)
    return pd.DataFrame(rows, columns=key + [f"{c}_{s}" for c in cols for s in ("other", "current")])


def _controls(policy: Policy, outcome: PlanOutcome) -> list[tuple[str, str]]:
    """Every control of the page for ``policy`` as (label, value text)."""
    out = [(f"每季度抽查比例：{rule_label(policy, r)}", ratio_text(r, r.ratio))
           for r in random_rules(policy)]
    out += [(f"信用风险分类权重：{c}类", f"{policy.credit_risk.weights[c]:g}")
            for c in CREDIT_CLASSES]
    out.append(("跨季度重叠控制", OVERLAP_ZH[policy.draw.overlap]
                + (f"（每年最多 {policy.draw.yearly_cap} 次）"
                   if policy.draw.overlap == "yearly_cap" else "")))
    out.append(("内部联合抽查占比", f"{policy.joint.internal_min_share:.0%}"))
    out += [(f"可用执法人员：{u.name}", f"{outcome.inspectors.get(u.id, 0)} 人")
            for u in policy.units]
    out += [(ASSUMPTIONS_ZH[k], f"{outcome.assumptions[k]:g}") for k in ASSUMPTIONS]
    return out


def comparison_tables(cmp: PlanComparison) -> dict[str, pd.DataFrame]:
    """The comparison as Chinese tables (sheet name -> frame with a ``changed`` column, the
    flag the page highlights and the workbook fills), numbers as numbers."""
    a, b = cmp.labels[1], cmp.labels[0]       # other, current
    q = cmp.quotas
    quotas = pd.DataFrame({
        "单位": q["unit_name"], "类别": q["category"].map(CATEGORY_ZH),
        "范围": q["subset"].map(SUBSET_ZH), "方式": q["method"].map(METHOD_ZH),
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
    totals = pd.DataFrame({"指标": t["indicator"], a: t["other"], b: t["current"],
                           "changed": t["changed"]})
    m = cmp.minimums
    minimums = pd.DataFrame({
        "依据": m["clause"].fillna(""), "单位": m["unit"], "检查项": m["check"],
        "2023年要求": m["requirement"], f"{a}": m["plan_other"],
        f"结论（{a}）": m["met_other"].map({True: "达标", False: "未达标"}),
        f"{b}": m["plan_current"],
        f"结论（{b}）": m["met_current"].map({True: "达标", False: "未达标"}),
        "changed": m["changed"]})
    ctl = cmp.controls
    controls = pd.DataFrame({"参数": ctl["control"], a: ctl["other"].fillna("—"),
                             b: ctl["current"].fillna("—"), "changed": ctl["changed"]})
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
        percent_rows = (frame["指标"].isin(PERCENT_TOTALS).to_numpy()
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
        ws.freeze_panes = "A5"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        book.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def comparison_document(cmp: PlanComparison, today: dt.date | None = None,
                        demo: bool = False):
    """The comparison as an official document (:class:`~dsr_analysis.documents.OfficialDocument`,
    GB/T 9704 layout): the one-line summary, then every table of :func:`comparison_tables`
    with a column 不同 marking the rows that differ (minimums and controls: only those).
    Write it with :func:`dsr_analysis.documents.write_pdf` or ``write_docx``; ``demo`` marks
    every page 演示数据 (the embedded sample register)."""
    from .documents import Heading, OfficialDocument, Paragraph, Table

    today = today or dt.date.today()
    policy = cmp.current.policy
    tables = comparison_tables(cmp)
    numbers = "一二三四五六七八九十"
    titles = {"对比摘要": "总体情况", "抽查任务": "每季度抽查任务", "执法力量": "执法力量（每季度）",
              "覆盖率与违法率": "年度覆盖率与预计违法率", "最低要求": "2023年方案最低要求（有不同的项目）",
              "方案参数": "方案参数（有不同的项目）"}
    blocks: list = [Paragraph(f"本说明对比{cmp.labels[0]}与{cmp.labels[1]}。{cmp.summary()}。"
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
        for cat in ("special", "key", "general"):
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


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(2\d{3})(?!\d)")


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


def check_plan_name(name: str, year: int) -> str:
    """The file name a plan is saved under, checked (Chinese messages): letters, digits,
    ``-``, ``_`` and ``.``; a year in the name must be the plan's year (``xiongan-2025`` is
    not a 2024 plan). Returns the name without a trailing ``.yaml``."""
    name = str(name).strip()
    if name.endswith(".yaml"):
        name = name[: -len(".yaml")]
    if not _NAME.match(name):
        raise ParameterError(f"方案名称“{name}”不可用：只能用英文字母、数字和“-”“_”“.”，"
                             "并以字母或数字开头（例如 xiongan-2024）")
    years = {int(y) for y in _YEAR_IN_NAME.findall(name) if 2000 <= int(y) <= 2100}
    if years and years != {int(year)}:
        shown = "、".join(str(y) for y in sorted(years))
        raise ParameterError(f"方案名称“{name}”中的年份 {shown} 与计划年度 {year} 不一致；"
                             f"请改名称或计划年度")
    return name


def save_policy(
    policy: Policy,
    name: str,
    directory: str | Path = POLICIES_DIR,
    overwrite: bool = False,
    note: str = "",
    ledgers: Sequence[str | Path] | None = None,
) -> Path:
    """Write ``policy`` as ``<directory>/<name>.yaml`` (its id becomes ``name``).

    The name is checked by :func:`check_plan_name` (a year in it must be the plan's). The file
    is written to a temporary name, loaded back with :func:`load_policy` (so a file the loader
    would reject is never left behind), then moved into place. An existing file is replaced
    only with ``overwrite=True`` (otherwise :class:`PlanExistsError`) and only when it is a
    draft the planner saved (it has a ``planner`` section): a published plan (the 2023 plan,
    Chizhou's, Guangzhou's) is never replaced. Nor is a file that a draw or commitment of one
    of ``ledgers`` (default: the outputs' ledger) was made under: its draws must keep
    replaying from it. Every refusal is a Chinese message.
    """
    name = check_plan_name(name, policy.year)
    directory = Path(directory)
    target = directory / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise PlanExistsError(f"方案“{name}”已存在，未保存；请另取名称，或确认覆盖已有文件后再保存")
    if target.exists():
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        for ledger in (ledgers if ledgers is not None else [DEFAULT_LEDGER]):
            used = drawn_under(ledger, sha)
            if used is not None:
                raise PlanExistsError(
                    f"方案“{name}”已用于{used.quarter}的抽取（抽取记录第 {used.seq} 条），不能覆盖；"
                    "请另取方案名称保存")
        try:
            existing = load_policy(target)
        except PolicyError:
            existing = None
        if existing is None or existing.planner is None:
            raise PlanExistsError(f"方案“{name}”是已发布的方案（不是本编制器保存的草稿），不能覆盖；"
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
                raise PlanExistsError(f"方案“{name}”已存在，未保存；请另取名称，或确认覆盖已有"
                                      "文件后再保存") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


__all__ = [
    "ASSUMPTIONS", "DsrError", "PlanComparison", "PlanExistsError", "PlanOutcome",
    "PlannerSettings", "Suggestion", "base_policy_names", "build_policy", "check_plan_name",
    "clause_of", "compare_outcomes", "comparison_document", "comparison_tables", "coverage_display", "coverage_gaps",
    "coverage_matrix", "default_assumptions", "default_inspectors", "draw_shortfalls",
    "gaps_display", "load_planner_settings", "map_onto_units", "minimums_display",
    "plan_files", "plan_from_policy", "plan_inputs", "plan_label", "plan_outcome",
    "planner_settings",
    "quota_display", "random_rules", "ratio_text", "resolve_policy", "rule_label",
    "save_policy", "suggest_changes", "workload_display", "write_comparison_xlsx",
    "yearly_coverage",
]
