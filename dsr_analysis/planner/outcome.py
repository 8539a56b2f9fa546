"""The outcome of a plan: what it costs and what it buys, for one set of control values.

:func:`plan_outcome` is the page's one call per control change, in named steps, each a
function of its own that :mod:`~dsr_analysis.planner.suggest` reuses:

1. :func:`tuned_plan` — the plan with the page's values, its inspectors and cost of a check;
2. :func:`~dsr_analysis.planner.plans.prepare_register` — the register, classified (cached);
3. :func:`plan_quotas` — the quota table of a quarter, made **once** and handed to every
   later step (the deterrence estimate included);
4. :func:`analytic_estimate` — the year's draws, quarter by quarter, on groups of objects;
5. :func:`plan_workload` — inspector-days needed against available, the verdict;
6. :func:`~dsr_analysis.planner.feasibility.plan_minimums` — the 2023 minimums;
7. :func:`plan_gaps` — groups left unchecked, classes never drawn, minimums the draw misses;
8. :func:`plan_deterrence` — the closed-form behaviour model on the same quota table;
9. :func:`simulated_coverage` — on request, the seeded simulation of the year's draws;
10. :func:`coverage_by_unit` — coverage and deterrence per own unit and category.

Coverage is analytic (:mod:`dsr_analysis.simulation.analytic`): a deterministic recursion over
the quarters that follows the official draw (counties first, then the area level; exclusions,
then the inclusion probability of each credit class, then the quota filled from the eligible
objects). Deterrence uses the closed form of :mod:`dsr_analysis.simulation.deterrence` with
the behaviour parameters of the scenario named in ``parameters/planner.yaml``. A
:class:`PlanOutcome` holds data (English columns); the Chinese tables are
:mod:`~dsr_analysis.planner.views`'.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..i18n import _
from ..overlap import OverlapRules
from ..paths import DEFAULT_POLICY
from ..policy import PlannerInputs, Policy
from ..quotas import quarterly_quotas
from ..registers import Registers
from ..simulation.analytic import AnalyticResult, analytic_year
from ..simulation.coverage import Budget, simulate_coverage
from ..simulation.deterrence import quick_estimate
from .coverage import coverage_gaps, draw_shortfalls
from .feasibility import capacity, plan_minimums, unit_load
from .plans import PreparedRegister, build_policy, check_inspectors, prepare_register, resolve_policy
from .settings import (PlannerSettings, check_assumptions, default_assumptions, planner_settings,
                       scenario_budget)

CATEGORY_ORDER = ("special", "key", "general")


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


# --------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------
def tuned_plan(base_policy: str | Path | Policy, ratios: Mapping[str, float],
               credit_weights: Mapping[str, float], overlap: str, yearly_cap: int,
               internal_joint_share: float, inspectors_available: Mapping[str, int],
               assumptions: Mapping[str, float]) -> tuple[Policy, dict[str, int]]:
    """Step 1: the plan with the page's values and its ``planner`` section (inspectors per
    unit, the cost of a check ``assumptions``, checked), and the inspectors per unit."""
    plan = build_policy(base_policy, ratios, credit_weights, overlap, yearly_cap,
                        internal_joint_share)
    check_inspectors(plan, inspectors_available)
    inspectors = {u.id: int(inspectors_available[u.id]) for u in plan.units}
    plan = dataclasses.replace(plan, planner=PlannerInputs(
        based_on=plan.planner.based_on if plan.planner is not None else plan.id,
        inspectors=inspectors, **assumptions))
    return plan, inspectors


def plan_quotas(prepared: PreparedRegister, plan: Policy) -> pd.DataFrame:
    """Step 3: the quota table of the plan's first quarter
    (:func:`dsr_analysis.quotas.quarterly_quotas`), the same every quarter of the year with
    an unchanged register; every later step takes it."""
    return quarterly_quotas(prepared.classified, plan, f"{plan.year}Q1",
                            prepared.registers.inspectors)


def analytic_estimate(prepared: PreparedRegister, plan: Policy, table: pd.DataFrame
                      ) -> AnalyticResult:
    """Step 4: the year's draws on the groups of objects
    (:func:`dsr_analysis.simulation.analytic.analytic_year`)."""
    return analytic_year(prepared.groups, plan, table, OverlapRules.from_policy(plan))


def plan_workload(plan: Policy, est: AnalyticResult, inspectors: Mapping[str, int],
                  assumptions: Mapping[str, float]) -> pd.DataFrame:
    """Step 5: checks and inspector-days per unit and quarter against the inspectors
    (:func:`~dsr_analysis.planner.feasibility.capacity` columns, ``feasible`` per unit)."""
    return capacity(plan, unit_load(plan, est, assumptions), inspectors, assumptions)


def workload_warning(workload: pd.DataFrame) -> str:
    """Why a plan is infeasible, unit by unit (empty when it is feasible)."""
    return "; ".join(f"{r.unit_name}: {r.reason}" for r in workload.itertuples()
                     if not r.feasible)


def plan_gaps(est: AnalyticResult, table: pd.DataFrame, plan: Policy, minimums: pd.DataFrame,
              settings: PlannerSettings) -> pd.DataFrame:
    """Step 7: the coverage gaps and the minimums the draw would miss."""
    return pd.concat([coverage_gaps(est, table, plan, settings.coverage_warning_below),
                      draw_shortfalls(minimums)], ignore_index=True)


def plan_deterrence(prepared: PreparedRegister, plan: Policy, table: pd.DataFrame,
                    settings: PlannerSettings, budget: Budget) -> pd.DataFrame:
    """Step 8: the closed-form deterrence estimate per group of objects for a quarter
    (:func:`dsr_analysis.simulation.deterrence.quick_estimate`) on the step-3 quota table."""
    return quick_estimate(prepared.classified, plan, settings.deterrence,
                          inspectors=prepared.registers.inspectors, budget=budget, table=table)


def simulated_coverage(prepared: PreparedRegister, plan: Policy, seed: int,
                       settings: PlannerSettings, budget: Budget) -> pd.Series:
    """Step 9 (on request): objects covered per own unit and category, the mean over the
    seeded simulated years (:func:`dsr_analysis.simulation.coverage.simulate_coverage`)."""
    replicates = settings.simulation.replicates
    sim = simulate_coverage(prepared.classified, plan, replicates=replicates, seed=int(seed),
                            inspectors=prepared.registers.inspectors, budget=budget)
    return sim.coverage.groupby(["unit", "category"])["covered"].sum() / replicates


def coverage_by_unit(plan: Policy, est: AnalyticResult, deterrence: pd.DataFrame,
                     would_violate: float, simulated: pd.Series | None = None) -> pd.DataFrame:
    """Step 10: per own unit and category the objects, the analytic (and simulated) yearly
    coverage, draws per object, the expected violation rate a quarter and the deterred share."""
    g = est.groups
    n = g["n"].to_numpy()
    frame = g.assign(coverage=g["coverage"] * n, draws=g["draws"] * n)
    per = frame.groupby(["unit", "category"], sort=False)[["n", "coverage", "draws"]].sum()
    if simulated is not None:
        per = per.join(simulated.rename("simulated")).fillna({"simulated": 0.0})
    else:
        per["simulated"] = np.nan
    per = per.join(deterrence.groupby(["unit", "category"])[["violators"]].sum())
    order = {u.id: i for i, u in enumerate(plan.units)}
    per = per.reset_index()
    per = per.assign(o1=per["unit"].map(order), o2=per["category"].map(
        {c: i for i, c in enumerate(CATEGORY_ORDER)})).sort_values(["o1", "o2"])
    return pd.DataFrame({
        "unit": per["unit"], "unit_name": per["unit"].map(plan.unit_names),
        "category": per["category"], "objects": per["n"],
        "coverage": per["coverage"] / per["n"], "simulated_coverage": per["simulated"] / per["n"],
        "draws_per_object": per["draws"] / per["n"],
        "violation_rate": per["violators"] / per["n"],
        "deterred": deterred_share(per["violators"] / per["n"], would_violate),
    }).reset_index(drop=True)


def deterred_share(violation_rate, would_violate: float):
    """Share of the firms that would violate without checks that the plan deters."""
    if would_violate <= 0:
        return violation_rate * 0.0
    return 1.0 - violation_rate / would_violate


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(_("seed: {value!r} is not a whole number >= 0").format(value=seed))
    return int(seed)


# --------------------------------------------------------------------------------------
# The outcome
# --------------------------------------------------------------------------------------
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
        As for :func:`~dsr_analysis.planner.plans.build_policy`.
    inspectors_available : mapping
        Unit id -> inspectors available for double-random checks (every unit of the plan).
    seed : int
        Seed of the quick simulated coverage check (used with ``simulate``).
    registers : Registers, directory or None
        Register directory (None or '' = the embedded sample).
    assumptions : mapping, optional
        The cost of a check (:data:`~dsr_analysis.planner.settings.ASSUMPTIONS`); default
        ``parameters/planner.yaml``'s.
    simulate : bool
        Also run the seeded quick simulation of the year (``simulated_coverage``).
    settings : PlannerSettings, optional
        Planning assumptions (default: ``parameters/planner.yaml``).
    reference : policy, optional
        The plan whose minimums are checked (default: the Xiong'an 2023 plan).
    """
    start = time.perf_counter()
    settings = settings or planner_settings()
    assumptions = check_assumptions(assumptions if assumptions is not None
                                    else default_assumptions(settings))
    plan, inspectors = tuned_plan(base_policy, ratios, credit_weights, overlap, yearly_cap,
                                  internal_joint_share, inspectors_available, assumptions)
    ref = resolve_policy(reference if reference is not None else DEFAULT_POLICY)
    seed = _check_seed(seed)
    budget = scenario_budget(assumptions, settings)
    prepared = prepare_register(registers, plan)
    table = plan_quotas(prepared, plan)
    est = analytic_estimate(prepared, plan, table)
    workload = plan_workload(plan, est, inspectors, assumptions)
    minimums = plan_minimums(plan, table, ref, est, settings)
    gaps = plan_gaps(est, table, plan, minimums, settings)
    dest = plan_deterrence(prepared, plan, table, settings, budget)
    would = 1.0 - settings.deterrence.compliant_share      # violators without any check
    sim = simulated_coverage(prepared, plan, seed, settings, budget) if simulate else None
    coverage = coverage_by_unit(plan, est, dest, would, sim)
    total = float(coverage["objects"].sum()) or 1.0
    violation_rate = float(dest["violators"].sum() / dest["objects"].sum())
    inspections = float(dest["inspections"].sum())
    return PlanOutcome(
        policy=plan, quotas=table, workload=workload,
        feasible=bool(workload["feasible"].all()), warning=workload_warning(workload),
        minimums=minimums, all_minimums_met=bool(minimums["met"].all()), coverage=coverage,
        gaps=gaps, analytic=est,
        coverage_total=float((coverage["coverage"] * coverage["objects"]).sum() / total),
        simulated_coverage_total=(
            float((coverage["simulated_coverage"] * coverage["objects"]).sum() / total)
            if sim is not None else float("nan")),
        violation_rate=violation_rate,
        deterrence_total=float(deterred_share(violation_rate, would)),
        hit_rate=float(dest["detected"].sum() / inspections) if inspections else 0.0,
        inspectors=inspectors, assumptions=assumptions, reference=ref, simulated=bool(simulate),
        elapsed=time.perf_counter() - start,
    )


__all__ = ["PlanOutcome", "analytic_estimate", "coverage_by_unit", "deterred_share",
           "plan_deterrence", "plan_gaps", "plan_outcome", "plan_quotas", "plan_workload",
           "simulated_coverage", "tuned_plan", "workload_warning"]
