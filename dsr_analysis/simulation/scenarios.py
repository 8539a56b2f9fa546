"""Scenarios: a policy plus changes to its numbers, a register, a budget and behaviour.

A scenario file in ``parameters/scenarios/`` is YAML with the top-level keys ``id, name,
description, policy, register, overrides, simulation, budget, deterrence`` (the last four
optional). It is loaded as strictly as a policy (unknown / missing keys, wrong types and
out-of-range values are :class:`~dsr_analysis.errors.ParameterError` naming file and key).

The same top-level keys are the parameters of the simulation notebooks, so a production
run is ``papermill notebooks/coverage.ipynb out.ipynb -f parameters/scenarios/X.yaml``.

``overrides`` changes the numbers of the policy (quota ratios by rule id, credit weights,
credit weighting on/off, overlap control, yearly cap, between-levels rule); the result is
a modified :class:`~dsr_analysis.policy.Policy` built with ``dataclasses.replace``, so the
simulation uses exactly the code paths of the real plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from ..categories import classify
from ..config import build, read_regular, read_yaml
from ..export import write_csv
from ..overlap import OverlapRules
from .deterrence import (
    DeterrenceJob,
    DeterrenceParams,
    DeterrenceResult,
    build_model,
    estimate_from_probabilities,
    group_strata,
    offsite_counts,
    optional_factories,
    pooled_hit_rate,
    quick_estimate,
    quick_totals,
    submit_deterrence,
)
from ..distributed import as_executor
from .national import NationalJob, NationalResult, national_headline, submit_national
from ..errors import InfeasibleError, ParameterError
from ..i18n import _
from ..paths import PARAMETERS_DIR, PROJECT_ROOT
from ..policy import CREDIT_CLASSES, Policy, load_policy
from ..quotas import inclusion_probabilities, quarterly_quotas, quota_checks
from ..registers import load_registers
from ..sample import national_registers, synthetic_enterprises
from .sampling import (
    Budget,
    Strata,
    build_strata,
    inspectors_by_unit,
    stratum_costs,
)
from .coverage import (CoverageJob, CoverageResult, build_layout, coverage_summary,
                       submit_coverage)

SCENARIOS_DIR = PARAMETERS_DIR / "scenarios"


@dataclass(frozen=True)
class RegisterSpec:
    source: Literal["sample", "synthetic", "national"] = field(metadata={
        "doc": "sample = the embedded sample register; synthetic = synthetic_enterprises(size); "
               "national = the synthetic national register national_registers(size, seed) "
               "(for a policy whose units are named by a hierarchy)"})
    size: int = field(default=3000, metadata={
        "doc": "objects of a synthetic or national register", "range": (1, 50_000_000)})
    seed: int = field(default=20230101, metadata={
        "doc": "seed of a synthetic register", "range": (0, 2**63 - 1)})


@dataclass(frozen=True)
class Overrides:
    ratios: dict[str, float] | None = field(default=None, metadata={
        "doc": "quota rule id -> new ratio", "range": (0.0, 1000.0)})
    credit_weights: dict[str, float] | None = field(default=None, metadata={
        "doc": "credit class A-D -> sampling weight", "range": (0.0, 100.0)})
    credit_weighted: bool | None = field(default=None, metadata={
        "doc": "switch credit weighting of every random quota rule on or off"})
    overlap: Literal["independent", "rotation", "yearly_cap"] | None = field(
        default=None, metadata={"doc": "overlap control across quarters"})
    yearly_cap: int | None = field(default=None, metadata={
        "doc": "at most this many inspections of one object a year", "range": (1, 52)})
    between_levels: Literal["avoid", "merge"] | None = field(default=None, metadata={
        "doc": "object drawn by both levels in a quarter: avoid or merge"})


@dataclass(frozen=True)
class SimulationSpec:
    replicates: int = field(default=200, metadata={"doc": "replicates", "range": (1, 10**7)})
    years: int = field(default=2, metadata={"doc": "simulated years", "range": (1, 100)})
    seed: int = field(default=2023, metadata={"doc": "seed of the SeedSequence",
                                              "range": (0, 2**63 - 1)})
    chunk_size: int | None = field(default=None, metadata={
        "doc": "replicates per chunk (memory only, the results do not change; default: about "
               "800,000 replicate-objects per chunk)", "range": (1, 10**6)})


@dataclass(frozen=True)
class Scenario:
    """A simulation scenario (see the module docstring)."""

    id: str = field(metadata={"doc": "scenario identifier"})
    name: str = field(metadata={"doc": "Chinese title"})
    description: str = field(metadata={"doc": "what the scenario changes and why"})
    policy: str = field(metadata={"doc": "policy file or name in parameters/policies/"})
    register: RegisterSpec = field(metadata={"doc": "register simulated"})
    overrides: Overrides = field(default_factory=Overrides, metadata={
        "doc": "changes to the policy's numbers"})
    simulation: SimulationSpec = field(default_factory=SimulationSpec, metadata={
        "doc": "replicates, years, seed"})
    budget: Budget = field(default_factory=Budget, metadata={"doc": "inspector capacity"})
    deterrence: DeterrenceParams = field(default_factory=DeterrenceParams, metadata={
        "doc": "behaviour parameters"})
    path: str = field(default="", metadata={"doc": "file it was loaded from", "internal": True})


optional_factories(Scenario)


def scenario_from_mapping(data: Mapping[str, Any], source: str = "<parameters>") -> Scenario:
    """Build and check a :class:`Scenario` from a mapping (a YAML document, or the
    parameters of a notebook); ``source`` names it in error messages."""
    scenario = build(Scenario, dict(data), source, "", error=ParameterError)
    scenario = dataclasses.replace(scenario, path=source)
    scenario_policy(scenario)  # checks overrides against the policy
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file; a bare name (``baseline-2023``) is looked up in
    ``parameters/scenarios/``."""
    path = Path(path)
    if not path.exists() and not path.suffix and (SCENARIOS_DIR / f"{path}.yaml").exists():
        path = SCENARIOS_DIR / f"{path}.yaml"
    raw = read_regular(path, "scenario file", ParameterError)
    data = read_yaml(raw, str(path), ParameterError)  # strict: duplicate keys, bounded nesting
    if not isinstance(data, dict):
        raise ParameterError(_("{file}: top level: expected a mapping").format(file=path))
    return scenario_from_mapping(data, str(path))


def list_scenarios() -> list[Path]:
    """Scenario files shipped in ``parameters/scenarios/``."""
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain mapping of a scenario (the YAML form, also the notebook parameters)."""
    def conv(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {f.name: conv(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                    if not f.metadata.get("internal") and getattr(obj, f.name) is not None}
        if isinstance(obj, tuple):
            return [conv(v) for v in obj]
        if isinstance(obj, dict):
            return {k: conv(v) for k, v in obj.items()}
        return obj

    return conv(scenario)


def with_simulation(scenario: Scenario, **changes: Any) -> Scenario:
    """The scenario with other replicates / years / seed / chunk_size."""
    return dataclasses.replace(scenario,
                               simulation=dataclasses.replace(scenario.simulation, **changes))


def scenario_policy(scenario: Scenario, base: Policy | None = None) -> Policy:
    """The scenario's policy: the base policy with the overrides applied. A relative
    policy path that does not exist from the working directory is taken from the project
    root (so a notebook running in ``notebooks/`` finds ``parameters/…``)."""
    policy = base or load_policy(_policy_path(scenario.policy))
    o = scenario.overrides
    where = scenario.path or "<parameters>"
    rules = list(policy.quotas.rules)
    if o.ratios:
        ids = {r.id for r in rules}
        for rid in o.ratios:
            if rid not in ids:
                raise ParameterError(_("{file}: key 'overrides.ratios.{rule}': unknown quota "
                                       "rule (rules of {policy}: {rules})").format(
                    file=where, rule=rid, policy=policy.id, rules=", ".join(sorted(ids))))
        for i, r in enumerate(rules):
            if r.id in o.ratios:
                if r.basis == "share" and o.ratios[r.id] > 1:
                    raise ParameterError(_("{file}: key 'overrides.ratios.{rule}': a share "
                                           "must be within [0, 1], got {value}").format(
                        file=where, rule=r.id, value=o.ratios[r.id]))
                rules[i] = dataclasses.replace(r, ratio=float(o.ratios[r.id]))
    if o.credit_weighted is not None:
        rules = [dataclasses.replace(r, credit_weighted=o.credit_weighted)
                 if r.method == "random" else r for r in rules]
    credit = policy.credit_risk
    if o.credit_weights is not None:
        if set(o.credit_weights) != set(CREDIT_CLASSES):
            raise ParameterError(_("{file}: key 'overrides.credit_weights': must give a "
                                   "weight for each of A, B, C, D, got {value}").format(
                file=where, value=sorted(o.credit_weights)))
        credit = dataclasses.replace(credit, weights=dict(o.credit_weights))
    draw = policy.draw
    for name in ("overlap", "yearly_cap", "between_levels"):
        value = getattr(o, name)
        if value is not None:
            draw = dataclasses.replace(draw, **{name: value})
    return dataclasses.replace(policy, quotas=dataclasses.replace(policy.quotas, rules=tuple(rules)),
                               credit_risk=credit, draw=draw)


def _policy_path(name: str) -> str:
    path = Path(name)
    if path.suffix and not path.is_absolute() and not path.exists() \
            and (PROJECT_ROOT / path).exists():
        return str(PROJECT_ROOT / path)
    return name


def _sample_inspector_counts() -> dict[str, int]:
    inspectors = load_registers(None).inspectors
    ok = inspectors[inspectors["active"] & inspectors["certified"]]
    return ok.groupby("unit").size().to_dict()


def register_label(scenario: Scenario) -> str:
    """Which register a scenario runs on, as its notebook prints it (Chinese): a simulation
    never runs on a bureau's own register, and says so."""
    spec = scenario.register
    if spec.source == "sample":
        return "名录库：样本数据（演示）"
    kind = "全国合成数据" if spec.source == "national" else "合成数据"
    return f"名录库：{kind}（{spec.size} 个检查对象，随机种子 {spec.seed}，演示）"


def scenario_register(scenario: Scenario, policy: Policy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Classified register and inspector register of the scenario.

    A national register (a policy with a hierarchy) is returned unclassified: its
    jurisdictions classify their own parts (:mod:`.national`). A synthetic register gets the sample's active, certified inspectors per unit scaled by
    ``size / 3000`` (one row per inspector; only ``unit``, ``active``, ``certified``).
    """
    hierarchical = policy.hierarchy is not None
    if hierarchical != (scenario.register.source == "national"):
        where = scenario.path or "<parameters>"
        raise ParameterError(
            _("{file}: key 'register.source': {source} with policy {policy}: a policy whose "
              "units are named by a hierarchy takes the national register (source: national), "
              "and only such a policy does").format(
                file=where, source=repr(scenario.register.source), policy=policy.id))
    if hierarchical:
        regs = national_registers(scenario.register.size, seed=scenario.register.seed,
                                  within=policy.hierarchy.within or None)
        return regs["enterprises"], regs["inspectors"]
    if scenario.register.source == "sample":
        registers = load_registers(None, units=policy.unit_names)
        return classify(registers.enterprises, policy), registers.inspectors
    enterprises = synthetic_enterprises(scenario.register.size, scenario.register.seed)
    counts = _sample_inspector_counts()
    scale = scenario.register.size / 3000
    units = [u for u, n in counts.items() for _ in range(max(1, int(round(n * scale))))]
    inspectors = pd.DataFrame({"unit": units, "active": True, "certified": True})
    return classify(enterprises, policy), inspectors


# --------------------------------------------------------------------------------------
# Running scenarios
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioRun:
    """Results of one scenario: coverage and deterrence simulations and headline numbers."""

    scenario: Scenario
    policy: Policy
    coverage: CoverageResult | None
    deterrence: DeterrenceResult | None
    headline: dict[str, Any]
    national: NationalResult | None = None

    def save(self, directory) -> list:
        """CSV files ``<id>-coverage-*.csv``, ``<id>-deterrence-*.csv``, ``<id>-headline.csv``
        (a national run: ``<id>-national-*.csv``)."""
        directory = Path(directory)
        paths = []
        if self.national is not None:
            paths += self.national.save(directory, f"{self.scenario.id}-national")
        if self.coverage is not None:
            paths += self.coverage.save(directory, f"{self.scenario.id}-coverage")
        if self.deterrence is not None:
            paths += self.deterrence.save(directory, f"{self.scenario.id}-deterrence")
        path = directory / f"{self.scenario.id}-headline.csv"
        write_csv(pd.DataFrame([self.headline]), path)
        return paths + [path]


@dataclass
class ScenarioJob:
    """A scenario handed to an executor (:mod:`dsr_analysis.distributed`): its coverage and deterrence
    chunks run as tasks; :meth:`result` waits for them and adds the headline numbers."""

    scenario: Scenario
    policy: Policy
    classified: pd.DataFrame
    inspectors: pd.DataFrame
    coverage: CoverageJob | None
    deterrence: DeterrenceJob | None
    national: NationalJob | None = None

    def result(self) -> ScenarioRun:
        if self.national is not None:
            nat = self.national.result()
            headline = {"scenario": self.scenario.id, "name": self.scenario.name,
                        **national_headline(nat, self.policy)}
            return ScenarioRun(scenario=self.scenario, policy=self.policy, coverage=None,
                               deterrence=None, headline=headline, national=nat)
        cov = self.coverage.result() if self.coverage is not None else None
        det = self.deterrence.result() if self.deterrence is not None else None
        return ScenarioRun(scenario=self.scenario, policy=self.policy, coverage=cov,
                           deterrence=det,
                           headline=headline_numbers(self.scenario, self.policy,
                                                     self.classified, self.inspectors, cov,
                                                     det))


def submit_scenario(ex, scenario: Scenario, *, coverage: bool = True, deterrence: bool = True,
                    progress: bool = False, registers: tuple | None = None) -> ScenarioJob:
    """Build a scenario's policy, register, layout and model here and hand its chunks to the
    executor ``ex`` (a national scenario: its jurisdictions' tasks, :mod:`.national`).
    ``registers``: the scenario's (register, inspectors) if already made."""
    policy = scenario_policy(scenario)
    classified, inspectors = registers or scenario_register(scenario, policy)
    sim = scenario.simulation
    if policy.hierarchy is not None:
        nat = submit_national(ex, policy, classified, inspectors, scenario.deterrence,
                              replicates=sim.replicates, years=sim.years, seed=sim.seed,
                              chunk_size=sim.chunk_size, budget=scenario.budget,
                              coverage=coverage, deterrence=deterrence, progress=progress)
        return ScenarioJob(scenario=scenario, policy=policy, classified=classified,
                           inspectors=inspectors, coverage=None, deterrence=None,
                           national=nat)
    cov = det = None
    if coverage:
        layout = build_layout(classified, policy, inspectors, scenario.budget)
        cov = submit_coverage(ex, layout, OverlapRules.from_policy(policy),
                              replicates=sim.replicates, years=sim.years, seed=sim.seed,
                              chunk_size=sim.chunk_size, budget=scenario.budget,
                              progress=progress)
    if deterrence:
        model = build_model(classified, policy, scenario.deterrence, inspectors,
                            scenario.budget)
        det = submit_deterrence(ex, model, replicates=sim.replicates, years=sim.years,
                                seed=sim.seed, chunk_size=sim.chunk_size, progress=progress)
    return ScenarioJob(scenario=scenario, policy=policy, classified=classified,
                       inspectors=inspectors, coverage=cov, deterrence=det)


def run_scenario(scenario: Scenario, *, coverage: bool = True, deterrence: bool = True,
                 progress: bool = False, scheduler=None) -> ScenarioRun:
    """Simulate a scenario: coverage (fixed register) and deterrence (firms respond).

    ``scheduler``: where the chunks run (:func:`dsr_analysis.distributed.resolve_scheduler`; default in
    this process); the results are the same wherever they run."""
    with as_executor(scheduler) as ex:
        return submit_scenario(ex, scenario, coverage=coverage, deterrence=deterrence,
                               progress=progress).result()


def headline_numbers(scenario: Scenario, policy: Policy, classified: pd.DataFrame,
                     inspectors: pd.DataFrame, cov: CoverageResult | None,
                     det: DeterrenceResult | None) -> dict[str, Any]:
    """The headline numbers of a scenario run (one row of :func:`compare`)."""
    table = quarterly_quotas(classified, policy, f"{policy.year}Q1", inspectors)
    credit_share = next(c for c in quota_checks(table, policy) if c.rule == policy.credit_risk.rule)
    headline: dict[str, Any] = {"scenario": scenario.id, "name": scenario.name,
                                "objects": len(classified),
                                "credit_share": credit_share.value,
                                "credit_share_met": bool(credit_share.met)}
    if cov is not None:
        by = coverage_summary(cov, by=["category"]).set_index("category")
        for cat in by.index:
            headline[f"coverage_{cat}"] = float(by.loc[cat, "coverage"])
        tot = cov.coverage.groupby(["replicate", "year"])[["objects", "covered"]].sum()
        headline["coverage_all"] = float((tot["covered"] / tot["objects"]).mean())
        headline["quota_attainment_min"] = float(cov.quotas["attainment_min"].min())
        w = cov.workload.groupby(["replicate", "year", "quarter"])[
            ["onsite", "offsite", "inspector_days", "capacity_days"]].sum()
        headline["inspections_per_quarter"] = float((w["onsite"] + w["offsite"]).mean())
        headline["inspector_days_per_quarter"] = float(w["inspector_days"].mean())
        headline["capacity_days_per_quarter"] = float(w["capacity_days"].mean())
    if det is not None:
        last = det.timeline[det.timeline["year"] == det.timeline["year"].max()]
        headline["violation_rate_last_year"] = float(last["violation_rate"].mean())
        headline["detected_per_quarter"] = float(det.timeline["detected"].mean())
        headline["undetected_per_quarter"] = float(det.timeline["undetected"].mean())
        headline["hit_rate"] = pooled_hit_rate(det)
    return headline


def compare(scenarios: Sequence[Scenario | str | Path], *, replicates: int | None = None,
            years: int | None = None, progress: bool = False, scheduler=None
            ) -> tuple[pd.DataFrame, list]:
    """Run several scenarios (optionally at another size) and return their headline
    numbers side by side (one row per scenario) and the runs.

    ``scheduler``: where the chunks run (:func:`dsr_analysis.distributed.resolve_scheduler`); on a Dask
    cluster every scenario's chunks are submitted before any result is awaited, so the
    cluster works on all of them at once. The results are the same wherever they run."""
    chosen = []
    for s in scenarios:
        sc = s if isinstance(s, Scenario) else load_scenario(s)
        changes = {k: v for k, v in (("replicates", replicates), ("years", years))
                   if v is not None}
        if changes:
            sc = with_simulation(sc, **changes)
        chosen.append(sc)
    with as_executor(scheduler) as ex:
        jobs = [submit_scenario(ex, sc, progress=progress) for sc in chosen]
        runs = [job.result() for job in jobs]
    return pd.DataFrame([r.headline for r in runs]), runs


def comparison_parameters(scenario_files: Sequence[str], replicates: int, years: int,
                          steepness: Sequence[float]) -> list[Scenario]:
    """Check the parameters of the scenario-comparison notebook and load its scenarios.

    Raises :class:`ParameterError` naming the parameter, the value and what is valid.
    """
    if not isinstance(scenario_files, (list, tuple)) or not scenario_files:
        raise ParameterError(_("scenario_files: expected a non-empty list, got {value}").format(
            value=repr(scenario_files)))
    for pname, value, lo in (("replicates", replicates, 1), ("years", years, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise ParameterError(_("{name}: expected a whole number >= {low}, got {value}").format(
                name=pname, low=lo, value=repr(value)))
    if not isinstance(steepness, (list, tuple)) or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0 for s in steepness):
        raise ParameterError(_("sweep_steepness: expected a list of positive numbers, "
                               "got {value}").format(value=repr(steepness)))
    return [load_scenario(s) for s in scenario_files]


# --------------------------------------------------------------------------------------
# Sweep over credit-class weights
# --------------------------------------------------------------------------------------
def steep_weights(steepness: float) -> dict[str, float]:
    """Credit weights ``A: 1, B: s, C: s^2, D: s^3`` (s = 1: no differentiation)."""
    return {c: float(steepness ** i) for i, c in enumerate(CREDIT_CLASSES)}


def sweep_credit_weights(scenario: Scenario, steepness: Sequence[float], *,
                         simulate: bool = True, progress: bool = False,
                         scheduler=None) -> pd.DataFrame:
    """Run ``scenario`` with credit weights :func:`steep_weights` for each steepness.

    Returns one row per steepness x credit class: the weights, the quarterly draw ratio of
    the class (expected draws / objects of the class in random strata, from the quota
    table's inclusion probabilities), the yearly coverage of the class
    (simulated), and the scenario's expected violation rate (closed form, per quarter) and
    simulated violation rate, hit rate and inspector-days.

    ``scheduler``: where the simulations' chunks run (every steepness submitted at once on
    a Dask cluster); the results are the same wherever they run.
    """
    points = []
    base_policy = scenario_policy(scenario)
    national = base_policy.hierarchy is not None
    registers = scenario_register(scenario, base_policy)  # the weights change no object
    if national and not simulate:
        raise ParameterError(_("sweep_credit_weights: a national scenario is swept by "
                               "simulation only (simulate=True)"))
    with as_executor(scheduler) as ex:
        for s in steepness:
            sc = dataclasses.replace(scenario, overrides=dataclasses.replace(
                scenario.overrides, credit_weights=steep_weights(s), credit_weighted=True))
            policy = scenario_policy(sc)
            if national:
                est, rnd = None, None
            else:
                classified, inspectors = registers
                est = _estimate(classified, policy, sc, inspectors)
                table = quarterly_quotas(classified, policy, f"{policy.year}Q1", inspectors)
                rnd = table[table["method"] == "random"]
            job = submit_scenario(ex, sc, progress=progress, registers=registers) \
                if simulate else None
            points.append((s, est, rnd, job))
        runs = [job.result() if job is not None else None for *_, job in points]
    rows = []
    for (s, est, rnd, _job), run in zip(points, runs, strict=True):
        if run is not None and run.national is not None:
            nat = run.national
            rnd = nat.quotas[nat.quotas["method"] == "random"]
            cov = nat.coverage.groupby(["credit_class", "replicate", "year"])[
                ["objects", "covered"]].sum()
            cov = (cov["covered"] / cov["objects"]).groupby("credit_class").mean().rename(
                "coverage").to_frame()
            est = {"violation_rate": np.nan, "inspector_days": np.nan}
        elif run is not None:
            cov = coverage_summary(run.coverage, by=["credit_class"]).set_index("credit_class")
        else:
            cov = None
        for c in CREDIT_CLASSES:
            pop_c = rnd[f"population_{c}"].sum()
            row = {"steepness": float(s), "credit_class": c, "weight": steep_weights(s)[c],
                   "draw_ratio": float(rnd[f"expected_{c}"].sum() / pop_c) if pop_c else 0.0,
                   "expected_violation_rate": est["violation_rate"],
                   "expected_inspector_days": est["inspector_days"]}
            if run is not None:
                row["coverage"] = float(cov.loc[c, "coverage"]) if c in cov.index else np.nan
                row["violation_rate"] = run.headline["violation_rate_last_year"]
                row["hit_rate"] = run.headline["hit_rate"]
                row["inspector_days"] = run.headline["inspector_days_per_quarter"]
            rows.append(row)
    return pd.DataFrame(rows)


def _estimate(classified, policy, scenario, inspectors) -> dict[str, float]:
    return quick_totals(quick_estimate(classified, policy, scenario.deterrence,
                                       inspectors=inspectors, budget=scenario.budget))


# --------------------------------------------------------------------------------------
# Optimisation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Optimum:
    """Result of :func:`optimise_ratios`.

    Attributes
    ----------
    policy : Policy
        The base policy with the optimal ratios and credit weights.
    ratios : dict
        Quota rule id -> ratio (rounded to 0.001, never below the base policy's).
    weights : dict
        Credit class -> weight (rounded to 0.01).
    base, optimum : dict
        Expected (closed form) violations, violation rate, inspections and inspector-days
        per quarter of the base policy and of the optimum (after rounding, with the real
        integer quotas).
    budget_days : float
        Inspector-days per quarter available.
    minimums_met : bool
        Every quota of the optimum is at least the quota of the base policy, for every unit,
        rule and quarter (so every minimum of the base plan is met), and the credit-risk share
        (R3) is met.
    message : str
        scipy's message.
    """

    policy: Policy
    ratios: dict[str, float]
    weights: dict[str, float]
    base: dict[str, float]
    optimum: dict[str, float]
    budget_days: float
    minimums_met: bool
    message: str

    def table(self) -> pd.DataFrame:
        """Base and optimum side by side."""
        return pd.DataFrame({"base": self.base, "optimum": self.optimum})


def continuous_probabilities(strata: Strata, counts: np.ndarray, policy: Policy,
                             ratios: Mapping[str, float], weights: Mapping[str, float],
                             staff: Mapping[str, int] | None = None) -> np.ndarray:
    """Inclusion probability per stratum and credit class, shape (strata, 4), with unrounded
    quotas (smooth in ratios and weights): ``ratio x objects`` (or ``ratio x inspectors``)
    per period, capped at the stratum, shared by
    :func:`dsr_analysis.quotas.inclusion_probabilities` (fractional quota) with the class weights
    (equal weights for a rule that is not credit-weighted)."""
    rules = {r.id: r for r in policy.quotas.rules}
    w = np.array([weights[c] for c in CREDIT_CLASSES], dtype=float)
    quota = np.zeros(strata.n)
    bases = np.ones((strata.n, len(CREDIT_CLASSES)))
    for s, (unit, rule_id) in enumerate(zip(strata.table["unit"], strata.table["quota_rule"],
                                            strict=True)):
        rule = rules[rule_id]
        total = counts[s].sum()
        periods = 4 if rule.per == "year" else 1
        if rule.method == "offsite_full":
            quota[s] = total
            continue
        base = ratios[rule_id] * (total if rule.basis == "share" else (staff or {}).get(unit, 0))
        quota[s] = min(base / periods, total)
        if rule.credit_weighted:
            bases[s] = w
    return inclusion_probabilities(counts, quota, bases)


def optimise_ratios(scenario: Scenario, *, budget_days: float | None = None,
                    optimise_weights: bool = True, scheduler=None) -> Optimum:
    """Ratios (and credit weights) minimising expected violations within a budget.

    Decision variables: the ratio of every random, share-based quota rule (bounded below by
    the scenario policy's ratio, so every minimum of the plan stays met, and above by 1) and,
    if ``optimise_weights``, the log credit weights of A, C and D relative to B. Objective:
    expected violators per quarter from the closed form
    (:func:`dsr_analysis.simulation.deterrence.estimate_from_probabilities`, unrounded quotas).
    Constraint: every unit's expected inspector-days per quarter within its capacity
    (active certified inspectors x days of the scenario's budget), or, if ``budget_days``
    is given, the total within ``budget_days``. Solved with
    ``scipy.optimize.minimize(method="SLSQP")``; the answer is rounded and checked with the
    real integer quotas of :func:`dsr_analysis.quotas.quarterly_quotas`.

    ``scheduler``: where the objective's finite-difference evaluations run (SLSQP's
    ``workers``: each gradient's evaluations as one batch of Dask tasks); the same points
    are evaluated wherever they run, so the optimum is the same.
    """
    with as_executor(scheduler) as ex:
        return _optimise(scenario, budget_days, optimise_weights,
                         dask_map(ex) if ex.distributed else None)


def dask_map(ex):
    """A map-like callable ``workers(fun, iterable)`` (scipy's ``workers``) running each
    call as a task of the executor ``ex``, results in order."""
    def workers(fun, iterable):
        return ex.gather([ex.submit(fun, x) for x in iterable])
    return workers


def _optimise(scenario: Scenario, budget_days: float | None, optimise_weights: bool,
              workers) -> Optimum:
    base_policy = scenario_policy(scenario)
    if base_policy.hierarchy is not None:
        raise ParameterError(_("optimise_ratios: scenario {scenario} is national; the "
                               "optimiser takes a policy that lists its units").format(
            scenario=scenario.id))
    classified, inspectors = scenario_register(scenario, base_policy)
    strata = build_strata(base_policy)
    groups, sids = group_strata(classified, base_policy, strata)
    counts, offs = offsite_counts(groups, sids, strata)
    params, budget = scenario.deterrence, scenario.budget
    # Inspector-days of one draw of each stratum x class (its share of off-site capable).
    share = np.divide(offs, counts, out=np.zeros_like(counts), where=counts > 0)
    costs = stratum_costs(strata, share.T, budget, base_policy.methods.offsite_first).T
    staff = inspectors_by_unit(inspectors, base_policy, budget.inspector_scale)
    quota_staff = inspectors_by_unit(inspectors, base_policy)
    if budget_days is None:
        capacity = np.array([staff[u.id] * budget.days_per_inspector_per_quarter
                             for u in base_policy.units])
    else:
        capacity = np.array([float(budget_days)])
    unit_of = strata.table["unit"].map({u.id: i for i, u in enumerate(base_policy.units)})
    unit_matrix = np.zeros((len(base_policy.units), strata.n))
    unit_matrix[unit_of.to_numpy(), np.arange(strata.n)] = 1.0
    if budget_days is not None:
        unit_matrix = unit_matrix.sum(axis=0, keepdims=True)
    budget_days = float(capacity.sum())
    free_rules = [r for r in base_policy.quotas.rules
                  if r.method == "random" and r.basis == "share"]
    lower = np.array([r.ratio for r in free_rules])
    base_weights = dict(base_policy.credit_risk.weights)
    free_classes = [c for c in CREDIT_CLASSES if c != "B"] if optimise_weights else []

    def unpack(x):
        ratios = {r.id: r.ratio for r in base_policy.quotas.rules}
        ratios.update({r.id: float(v) for r, v in zip(free_rules, x[:len(free_rules)], strict=True)})
        weights = dict(base_weights)
        if free_classes:
            weights["B"] = 1.0
            weights.update({c: float(np.exp(v)) for c, v in
                            zip(free_classes, x[len(free_rules):], strict=True)})
        return ratios, weights

    def evaluate(x):
        ratios, weights = unpack(x)
        lam = continuous_probabilities(strata, counts, base_policy, ratios, weights, quota_staff)
        est = estimate_from_probabilities(groups, sids, strata, lam, params, budget,
                                          base_policy.methods.offsite_first)
        return est["violators"].sum(), unit_matrix @ (lam * counts * costs).sum(axis=1)

    scale_b = base_weights.get("B", 1.0) or 1.0
    x0 = np.concatenate([lower, [np.log(max(base_weights[c], 1e-3) / scale_b)
                                 for c in free_classes]])
    v0, d0 = evaluate(x0)
    bounds = [(lo, 1.0) for lo in lower] + [(-5.0, 5.0)] * len(free_classes)
    res = optimize.minimize(
        lambda x: evaluate(x)[0] / max(v0, 1e-9), x0, method="SLSQP", bounds=bounds,
        constraints=[{"type": "ineq", "fun": lambda x: (capacity - evaluate(x)[1])
                      / max(budget_days, 1e-9)}],
        options={"maxiter": 200, "ftol": 1e-9, **({"workers": workers} if workers else {})})
    slack = capacity - evaluate(res.x)[1]
    if (slack < -1e-6 * max(budget_days, 1.0)).any():
        need = evaluate(x0)[1]
        names = ([u.id for u in base_policy.units] if len(capacity) > 1 else ["all units"])
        worst = int(np.argmin(capacity - need))
        raise InfeasibleError(
            _("scenario {scenario}: the minimum ratios of {policy} need {need} inspector-days "
              "per quarter at {unit} but {available} are available; no ratios within the budget "
              "meet every minimum").format(
                scenario=scenario.id, policy=base_policy.id, need=f"{need[worst]:.0f}",
                unit=names[worst], available=f"{capacity[worst]:.0f}"))
    ratios, weights = unpack(res.x)
    ratios = {k: max(round(v, 3), lo) for (k, v), lo in zip(
        ((r.id, ratios[r.id]) for r in free_rules), lower, strict=True)}
    weights = {c: round(w, 2) for c, w in weights.items()}
    opt_scenario = dataclasses.replace(scenario, overrides=dataclasses.replace(
        scenario.overrides, ratios={**(scenario.overrides.ratios or {}), **ratios},
        credit_weights=weights))
    opt_policy = scenario_policy(opt_scenario)
    base_est = _estimate(classified, base_policy, scenario, inspectors)
    opt_est = _estimate(classified, opt_policy, opt_scenario, inspectors)
    ok = True
    for q in range(1, 5):
        a = quarterly_quotas(classified, base_policy, f"{base_policy.year}Q{q}", inspectors)
        b = quarterly_quotas(classified, opt_policy, f"{base_policy.year}Q{q}", inspectors)
        ga = a.groupby(["unit", "quota_rule"])["quota"].sum()
        gb = b.groupby(["unit", "quota_rule"])["quota"].sum()
        ok &= bool((gb >= ga).all())
        ok &= all(c.met for c in quota_checks(b, opt_policy) if c.rule == opt_policy.credit_risk.rule)
    return Optimum(policy=opt_policy, ratios=ratios, weights=weights, base=base_est,
                   optimum=opt_est, budget_days=float(budget_days), minimums_met=ok,
                   message=str(res.message))
