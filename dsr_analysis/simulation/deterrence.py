"""Deterrence: how inspection probabilities, detection and sanctions change behaviour.

Each enterprise weighs, every quarter, a private gain ``G`` from violating (lognormal across
enterprises, with quarter-to-quarter noise) against the expected sanction
``q x F``, where ``q`` = perceived probability of being inspected x probability that the
check detects the violation, and ``F`` the sanction (fine and costs, same unit as ``G``).
It violates when ``G > q x F`` (a myopic, risk-neutral firm; Becker 1968).

What the firm can know decides ``q``: the published quotas (R8) of its stratum - its unit,
category and credit class - and its own inspection history. Under ``rotation`` an object
already inspected this year is drawn again only once its stratum is exhausted, so its
perceived probability drops to (nearly) zero for the rest of the year; under ``yearly_cap``
it is zero once the cap is reached. Enforcement is state dependent (Harrington 1988): a
detected violation moves the firm down the credit classes, marks it as penalised (special
category next year, R2) and removes it from the positive list; a clean year moves it one
class back up (never above its class in the register).

The first part of this module holds the closed forms (usable alone, e.g. for a planner's
quick estimate); :func:`simulate_deterrence` runs the full stochastic model on top of the
draw engine of :mod:`dsr_analysis.simulation`, in compiled passes on counter-based random
streams (engine version 2, :data:`ENGINE_VERSION`; version 1, the first engine, is kept to
reproduce earlier results for their seed).

Engine version 2 (:func:`deterrence_chunk_v2`): each firm of each row carries its
*combination* (:func:`kernels._combo`: unit, category, positive list, class, off-site
capability and per pass whether it is eligible and already checked) and the firms per
combination are counted, so perceived probabilities and thresholds are computed once per
combination; only the firms that may violate (gain level above ``-inf``) are visited for
behaviour; a pass's draw scans the firms in blocks without branches
(:func:`kernels._collect`) and draws in its own strata only; the quarter's end visits the
drawn firms in position order. The results do not depend on these: the same random numbers
decide the same events as the firm-by-firm scan. Memory: about 35 bytes per firm and
replicate (the positions and gains of the firms that may violate included).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..categories import classify
from ..errors import ParameterError
from ..i18n import _
from ..overlap import LEVELS, OverlapRules, counted_checks, eligible_mask
from ..policy import CATEGORIES, CREDIT_CLASSES, Policy
from ..quotas import inclusion_probabilities, stratum_quota
from . import kernels
from ..distributed import as_executor
from .sampling import (
    Budget,
    NoBar,
    RegisterArrays,
    Strata,
    budget_quotas,
    build_strata,
    chunks,
    class_counts,
    default_chunk_size,
    draw_keys,
    dynamic_quotas,
    fill_rows,
    inspectors_by_unit,
    progress_bar,
    quota_table,
    replicate_seeds,
    rotation_coverage,
    save_tables,
    select_by_stratum,
    state_code,
    stratum_ids,
    yearly_coverage,
)

__all__ = [
    "GROUP_KEYS", "NATIONAL_HIT_RATE_2019", "DeterrenceJob", "DeterrenceParams",
    "DeterrenceResult", "ENGINE_VERSION", "ENGINE_VERSIONS", "build_model", "deterrence_chunk", "submit_deterrence",
    "calibrate_gain_median", "combined_probability", "detection_of", "deterrence_summary",
    "estimate_from_probabilities", "expected_hit_rate", "expected_violation_rate",
    "group_strata", "offsite_counts", "optional_factories", "params_from_mapping",
    "pooled_hit_rate", "quick_estimate", "quick_totals", "rotation_coverage",
    "simulate_deterrence", "violation_probability", "yearly_coverage",
]

#: National anchor (MEE 2019): violations found in 4.79 % of checks.
NATIONAL_HIT_RATE_2019 = 0.0479


# --------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------
def combined_probability(*probabilities) -> np.ndarray:
    """Probability of at least one of independent events: ``1 - prod(1 - p)``."""
    out = np.ones(np.broadcast(*[np.asarray(p) for p in probabilities]).shape)
    for p in probabilities:
        out = out * (1.0 - np.asarray(p, dtype=float))
    return 1.0 - out


def violation_probability(expected_sanction, gain_median: float, gain_sigma: float,
                          compliant_share: float = 0.0) -> np.ndarray:
    """Share of firms whose lognormal private gain exceeds ``expected_sanction``.

    ``(1 - c) x P(G > s)`` with ``log G ~ Normal(log gain_median, gain_sigma)`` and ``c``
    the share of firms that comply whatever the odds; ``gain_sigma = 0`` means every other
    firm has the gain ``gain_median``.
    """
    s = np.asarray(expected_sanction, dtype=float)
    if gain_sigma <= 0:
        v = (gain_median > s).astype(float)
    else:
        v = stats.lognorm.sf(s, s=gain_sigma, scale=gain_median)
    return (1.0 - compliant_share) * v


def expected_violation_rate(inspection_probability, detection_probability, sanction: float,
                            gain_median: float, gain_sigma: float,
                            compliant_share: float = 0.0) -> np.ndarray:
    """Share of firms violating in a quarter given the probability of being inspected
    (per quarter), of a check detecting a violation, and the sanction (same unit as the
    gain): ``P(G > p x d x F)``."""
    p = np.asarray(inspection_probability, dtype=float)
    d = np.asarray(detection_probability, dtype=float)
    return violation_probability(p * d * sanction, gain_median, gain_sigma, compliant_share)


def expected_hit_rate(inspection_probability, detection_probability, sanction: float,
                      gain_median: float, gain_sigma: float, objects=None,
                      compliant_share: float = 0.0) -> float:
    """Share of checks that find a violation, over groups of ``objects`` firms each
    inspected with probability ``p``: ``sum(n p d V) / sum(n p)``."""
    p = np.asarray(inspection_probability, dtype=float)
    d = np.broadcast_to(np.asarray(detection_probability, dtype=float), p.shape)
    n = np.ones_like(p) if objects is None else np.asarray(objects, dtype=float)
    v = expected_violation_rate(p, d, sanction, gain_median, gain_sigma, compliant_share)
    checks = (n * p).sum()
    return float((n * p * d * v).sum() / checks) if checks > 0 else 0.0


def calibrate_gain_median(target_hit_rate: float, inspection_probability,
                          detection_probability, sanction: float, gain_sigma: float,
                          objects=None, compliant_share: float = 0.0,
                          gain_factor=1.0) -> float:
    """Median private gain that makes :func:`expected_hit_rate` equal ``target_hit_rate``.

    ``gain_factor`` multiplies the median per group (e.g. by credit class). Solved with
    ``scipy.optimize.brentq`` on the log of the median. Raises ``ValueError``
    when the target is out of reach (above the mean detection probability).
    """
    def f(log_m: float) -> float:
        return expected_hit_rate(inspection_probability, detection_probability, sanction,
                                 np.exp(log_m) * np.asarray(gain_factor, dtype=float),
                                 gain_sigma, objects,
                                 compliant_share) - target_hit_rate

    lo, hi = np.log(sanction) - 30, np.log(sanction) + 30
    if f(lo) > 0 or f(hi) < 0:
        raise ValueError(_("hit rate {rate} cannot be reached with these detection "
                           "probabilities").format(rate=target_hit_rate))
    return float(np.exp(optimize.brentq(f, lo, hi, xtol=1e-10)))


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeterrenceParams:
    """Behaviour and enforcement parameters (money in 10,000 yuan per quarter).

    Defaults are calibrated so that the 2023 Xiong'an baseline on the sample register finds
    violations in about 4.79 % of checks (MEE 2019).
    """

    gain_median: float = field(default=0.43, metadata={
        "doc": "median private gain of violating for a quarter (10,000 yuan)", "range": (0.0, 1e6)})
    gain_sigma: float = field(default=1.2, metadata={
        "doc": "log-sd of the gain between enterprises", "range": (0.0, 10.0)})
    gain_noise: float = field(default=0.5, metadata={
        "doc": "log-sd of the gain from quarter to quarter", "range": (0.0, 10.0)})
    sanction: float = field(default=10.0, metadata={
        "doc": "fine and costs when a violation is detected (10,000 yuan)", "range": (0.0, 1e7)})
    detection_onsite: float = field(default=0.7, metadata={
        "doc": "probability an on-site check detects a violation", "range": (0.0, 1.0)})
    detection_offsite: float = field(default=0.3, metadata={
        "doc": "probability an off-site (technology) check detects a violation", "range": (0.0, 1.0)})
    gain_by_credit_class: dict[str, float] = field(
        default_factory=lambda: {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}, metadata={
            "doc": "multiplier of the median gain by the firm's credit class in the register "
                   "(riskier classes gain more from violating)", "range": (0.0, 1000.0)})
    compliant_share: float = field(default=0.5, metadata={
        "doc": "share of firms that comply whatever the odds", "range": (0.0, 1.0)})
    downgrade_steps: int = field(default=1, metadata={
        "doc": "credit classes lost per detected violation", "range": (0, 3)})
    recovery_years: int = field(default=1, metadata={
        "doc": "clean years to regain one credit class (0 = never)", "range": (0, 100)})
    remove_from_positive_list: bool = field(default=True, metadata={
        "doc": "a detected violation removes the firm from the positive list"})

    def gain_factor(self, credit_codes) -> np.ndarray:
        """Median-gain multiplier for credit codes (0 = A ... 3 = D)."""
        f = np.array([self.gain_by_credit_class.get(c, 1.0) for c in CREDIT_CLASSES])
        return f[np.asarray(credit_codes)]

    @property
    def total_sigma(self) -> float:
        """Log-sd of one firm-quarter's gain (between firms and quarter noise combined)."""
        return float(np.hypot(self.gain_sigma, self.gain_noise))


def optional_factories(cls: type) -> None:
    """Let the strict YAML builder of :mod:`dsr_analysis.policy` treat default-factory
    fields as optional: it looks at ``Field.default`` only."""
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            f.default = f.default_factory()


optional_factories(DeterrenceParams)


# --------------------------------------------------------------------------------------
# Quick estimate (closed form on the register)
# --------------------------------------------------------------------------------------
GROUP_KEYS = ["unit", "category", "positive_list", "credit_class", "offsite"]


def group_strata(classified: pd.DataFrame, policy: Policy, strata: Strata | None = None,
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """Objects grouped by (unit, category, positive list, credit class, off-site capable),
    with the stratum (unit x quota rule) of each group in each pass, shape (groups, passes)."""
    strata = strata or build_strata(policy)
    arrays = RegisterArrays.from_frame(classified, policy)
    code = ((((arrays.unit.astype(np.int64) * 3 + arrays.category) * 2 + arrays.positive) * 4
             + arrays.credit) * 2 + arrays.offsite)
    present, first, counts = np.unique(code, return_index=True, return_counts=True)
    sub = arrays.take(first)
    sids = stratum_ids(strata, sub).T  # (groups, passes)
    groups = pd.DataFrame({
        "unit": np.array(arrays.units)[sub.unit], "category": np.array(CATEGORIES)[sub.category],
        "positive_list": sub.positive, "credit_class": np.array(CREDIT_CLASSES)[sub.credit],
        "offsite": sub.offsite, "objects": counts})
    return groups, sids


def offsite_counts(groups: pd.DataFrame, sids: np.ndarray, strata: Strata,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Objects and off-site-capable objects per stratum and credit class, shape (strata, 4),
    from :func:`group_strata`."""
    credit = groups["credit_class"].map({c: i for i, c in enumerate(CREDIT_CLASSES)}).to_numpy()
    n = groups["objects"].to_numpy(float)
    off = n * groups["offsite"].to_numpy(bool)
    counts = np.zeros((strata.n, len(CREDIT_CLASSES)))
    offs = np.zeros_like(counts)
    for p in range(sids.shape[1]):
        ok = sids[:, p] >= 0
        np.add.at(counts, (sids[ok, p], credit[ok]), n[ok])
        np.add.at(offs, (sids[ok, p], credit[ok]), off[ok])
    return counts, offs


def detection_of(offsite: np.ndarray, fixed_offsite: np.ndarray, params: DeterrenceParams,
                 offsite_first: bool) -> np.ndarray:
    """Detection probability of the check an object gets: off-site where it is covered
    off-site in full or (R6) has off-site capability and off-site checks come first."""
    off = np.asarray(fixed_offsite, bool) | (np.asarray(offsite, bool) & offsite_first)
    return np.where(off, params.detection_offsite, params.detection_onsite)


def quick_estimate(classified: pd.DataFrame, policy: Policy, params: DeterrenceParams,
                   *, inspectors: pd.DataFrame | None = None, budget: Budget | None = None,
                   class_probability: np.ndarray | None = None,
                   table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Closed-form estimate per group of objects for one quarter of ``policy``.

    Every object of a stratum has the inclusion probability of its credit class
    (``probability_A..D`` of :func:`dsr_analysis.quotas.quarterly_quotas`; with an
    enforced budget, recomputed by :func:`dsr_analysis.quotas.inclusion_probabilities` for
    the cut quotas). Columns: the :data:`GROUP_KEYS`, ``objects``, ``p_quarter``
    (probability of a check in a quarter, the levels' draws combined as independent),
    ``coverage_year`` (``1 - (1 - p)^4``; rotation: ``min(1, 4p)``), ``detection``,
    ``violation_rate`` (:func:`expected_violation_rate` with the combined gain spread),
    ``violators``, ``inspections``, ``detected`` (expected, per quarter) and
    ``inspector_days``. History effects (rotation, yearly cap, between-level exclusion,
    credit downgrades) are left to :func:`simulate_deterrence`.

    ``class_probability`` (strata x 4, strata of :func:`dsr_analysis.simulation.sampling.build_strata`)
    replaces the inclusion probabilities of the quota table; ``table`` is that quota table
    (:func:`dsr_analysis.quotas.quarterly_quotas`, first quarter) when the caller has made it
    already (the planner: one quota table per slider move).
    """
    budget = budget or Budget()
    strata = build_strata(policy)
    groups, sids = group_strata(classified, policy, strata)
    if class_probability is None:
        table = quota_table(classified, policy, strata, inspectors, table=table)
        class_probability = table[[f"probability_{c}" for c in CREDIT_CLASSES]].fillna(0.0
                                                                                       ).to_numpy()
        if budget.enforce:
            counts = table[[f"population_{c}" for c in CREDIT_CLASSES]].fillna(0).to_numpy(
                np.int64)
            _, offs = offsite_counts(groups, sids, strata)
            staff = inspectors_by_unit(inspectors, policy, budget.inspector_scale)
            cap = {u: staff[u] * budget.days_per_inspector_per_quarter for u in staff}
            quota = budget_quotas(table["quota"].fillna(0).to_numpy(np.int64), strata, counts,
                                  offs, budget, cap, policy.methods.offsite_first)
            class_probability = inclusion_probabilities(counts, quota, strata.bases)
    return estimate_from_probabilities(groups, sids, strata, class_probability, params,
                                       budget, policy.methods.offsite_first,
                                       rotation=policy.draw.overlap == "rotation")


def estimate_from_probabilities(groups: pd.DataFrame, sids: np.ndarray, strata: Strata,
                                class_probability: np.ndarray, params: DeterrenceParams,
                                budget: Budget, offsite_first: bool = True,
                                rotation: bool = False) -> pd.DataFrame:
    """The closed form of :func:`quick_estimate` from given inclusion probabilities.

    ``groups`` and ``sids`` come from :func:`group_strata`; ``class_probability`` holds the
    inclusion probability lambda per stratum and credit class, shape (strata, 4). Cheap
    enough to sit inside an optimiser.
    """
    lam = np.vstack([np.asarray(class_probability, dtype=float).reshape(strata.n, -1),
                     np.zeros((1, len(CREDIT_CLASSES)))])  # index -1 -> 0
    credit = groups["credit_class"].map({c: i for i, c in enumerate(CREDIT_CLASSES)}).to_numpy()
    fixed = np.append((strata.table["method"] == "offsite_full").to_numpy(), False)
    p_pass = lam[sids, credit[:, None]]
    p = combined_probability(*[p_pass[:, i] for i in range(sids.shape[1])]) if sids.shape[1] \
        else np.zeros(len(groups))
    in_fixed = fixed[sids].any(axis=1)
    offsite = groups["offsite"].to_numpy(bool)
    d = detection_of(offsite, in_fixed, params, offsite_first)
    median = params.gain_median * params.gain_factor(credit)
    v = expected_violation_rate(p, d, params.sanction, median, params.total_sigma,
                                params.compliant_share)
    out = groups.copy()
    out["p_quarter"] = p
    out["coverage_year"] = np.minimum(1.0, 4 * p) if rotation else 1 - (1 - p) ** 4
    out["detection"] = d
    out["violation_rate"] = v
    out["violators"] = out["objects"] * v
    out["inspections"] = out["objects"] * p
    out["detected"] = out["inspections"] * d * v
    off = in_fixed | (offsite & offsite_first)
    out["inspector_days"] = out["inspections"] * np.where(
        off, budget.offsite_inspector_days, budget.onsite_inspector_days)
    return out


def quick_totals(estimate: pd.DataFrame) -> dict[str, float]:
    """Headline numbers of a :func:`quick_estimate` table (per quarter)."""
    n = estimate["objects"].sum()
    insp = estimate["inspections"].sum()
    return {
        "objects": float(n),
        "violation_rate": float(estimate["violators"].sum() / n) if n else 0.0,
        "violators": float(estimate["violators"].sum()),
        "inspections": float(insp),
        "detected": float(estimate["detected"].sum()),
        "hit_rate": float(estimate["detected"].sum() / insp) if insp else 0.0,
        "inspector_days": float(estimate["inspector_days"].sum()),
    }


# --------------------------------------------------------------------------------------
# Stochastic simulation
# --------------------------------------------------------------------------------------
#: Version of the stochastic engine, i.e. the layout of its random streams (the model is
#: the same in every version; results differ draw by draw, not in distribution).
#:
#: * ``2`` (default): every random number comes from counter-based streams (SplitMix64
#:   output of a Weyl sequence, :func:`dsr_analysis.simulation.kernels.counter_uniform`),
#:   four per replicate (keys from the replicate's ``SeedSequence``: gain levels,
#:   behaviour, draw, detection), the number of a firm addressed by (quarter, pass, firm):
#:   a firm that complies whatever the odds uses no number after the first, the violation
#:   decision uses one uniform against the normal tail (``erfc``) instead of a normal, the
#:   draw computes keys only for firms below a screening bound (exact selection, see
#:   :func:`dsr_analysis.simulation.kernels.dv2_draw`), detection only for inspected
#:   violators; each quarter is a few compiled passes over the firms.
#: * ``1``: the first engine (numpy ``Generator`` streams, one normal and one uniform per
#:   firm and pass every quarter, numpy passes); kept so that earlier results can be
#:   reproduced for their seed.
ENGINE_VERSION = 2
ENGINE_VERSIONS = (1, 2)


def check_engine_version(engine_version: int) -> None:
    """Raise :class:`ParameterError` for an unknown :data:`ENGINE_VERSION`."""
    if engine_version not in ENGINE_VERSIONS:
        raise ParameterError(_("engine_version: {value} is not one of {versions}").format(
            value=engine_version, versions=", ".join(map(str, ENGINE_VERSIONS))))


@dataclass(frozen=True)
class DeterrenceResult:
    """Results of :func:`simulate_deterrence` as tidy DataFrames.

    Attributes
    ----------
    timeline : DataFrame
        One row per replicate x quarter: ``year, quarter, t, objects, violators,
        violation_rate, inspections, onsite, offsite, detected, undetected, hit_rate,
        inspector_days, special, positive_list, mean_perceived`` (special / positive_list:
        objects in the special category / on the positive list at the start of the quarter;
        mean_perceived: mean perceived probability of detection).
    by_category : DataFrame
        One row per replicate x quarter x category: ``objects, violators, inspections,
        detected``.
    settings : dict
    """

    timeline: pd.DataFrame
    by_category: pd.DataFrame
    settings: dict

    def save(self, directory, prefix: str = "deterrence") -> list:
        """Write both tables as CSV (UTF-8) into ``directory``; returns the paths."""
        return save_tables(self, ("timeline", "by_category"), directory, prefix)


#: Register columns the deterrence model changes per replicate; the category table gives the
#: category for each of their 16 combinations (credit class x positive list x penalised).
STATE_COLUMNS = ("credit_class", "positive_list", "penalised_last_year")


def _category_table(classified: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Category code of every object for each (credit, positive list, penalised last year)
    combination, shape (objects, 16) int8, index ``credit*4 + positive*2 + penalised``,
    decided by :func:`dsr_analysis.categories.classify` itself.

    A category depends only on the columns the policy's conditions test, so ``classify``
    runs on the distinct combinations of those columns other than :data:`STATE_COLUMNS`
    (a few hundred rows for any register size) x the 16 states, and every object takes the
    row of its combination: memory is 16 bytes per object, not 16 copies of the register.
    """
    n = len(classified)
    fields = sorted({c.field for c in policy.categories.conditions} - set(STATE_COLUMNS))
    if fields:
        key = classified[fields]
        combo = key.groupby(fields, sort=False, dropna=False, observed=True).ngroup().to_numpy(
            np.int64)
        first = np.unique(combo, return_index=True)[1]  # first row of each combination
        distinct = key.iloc[first].reset_index(drop=True)
    else:
        combo = np.zeros(n, dtype=np.int64)
        distinct = pd.DataFrame(index=range(1 if n else 0))
    k = len(distinct)
    state = np.arange(16)  # credit*4 + positive*2 + penalised, as the table's columns
    frame = distinct.iloc[np.tile(np.arange(k), 16)].reset_index(drop=True)
    frame["credit_class"] = np.repeat(np.array(CREDIT_CLASSES, dtype=object)[state // 4], k)
    frame["positive_list"] = np.repeat((state // 2) % 2 == 1, k)
    frame["penalised_last_year"] = np.repeat(state % 2 == 1, k)
    both = classify(frame, policy)
    codes = both["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy(np.int8)
    table = codes.reshape(16, k).T  # (combinations, 16)
    return np.ascontiguousarray(table[combo])


@dataclass(frozen=True)
class DeterrenceModel:
    """What :func:`simulate_deterrence` fixes before the first quarter."""

    policy: Policy
    params: DeterrenceParams
    budget: Budget
    rules: OverlapRules
    strata: Strata
    arrays: RegisterArrays
    cat_table: np.ndarray
    penalised: np.ndarray
    staff: dict
    capacity: dict
    fixed: np.ndarray
    #: :func:`dsr_analysis.quotas.stratum_quota` per (stratum, class counts), filled as
    #: the engine (version 2) meets them.
    quota_cache: dict = field(default_factory=dict, compare=False, repr=False)


def build_model(classified: pd.DataFrame, policy: Policy, params: DeterrenceParams,
                inspectors: pd.DataFrame | None, budget: Budget) -> DeterrenceModel:
    """Step 1 of :func:`simulate_deterrence`: strata, category table, staff."""
    strata = build_strata(policy)
    staff = inspectors_by_unit(inspectors, policy, budget.inspector_scale)
    return DeterrenceModel(
        policy=policy, params=params, budget=budget, rules=OverlapRules.from_policy(policy),
        strata=strata, arrays=RegisterArrays.from_frame(classified, policy),
        cat_table=_category_table(classified, policy),
        penalised=classified["penalised_last_year"].to_numpy(bool),
        staff=inspectors_by_unit(inspectors, policy),
        capacity={u: staff[u] * budget.days_per_inspector_per_quarter for u in staff},
        fixed=np.append((strata.table["method"] == "offsite_full").to_numpy(), False))


@dataclass
class FirmState:
    """Per-firm state of a chunk of replicates (rows) that enforcement changes."""

    credit: np.ndarray
    positive: np.ndarray
    pen_last: np.ndarray
    pen_now: np.ndarray
    clean_years: np.ndarray
    checks: list
    log_gain: np.ndarray


def init_firms(model: DeterrenceModel, beh_g: list) -> FirmState:
    """Step 2: the register's states and each firm's gain level (behaviour stream)."""
    R, N, params = len(beh_g), model.arrays.n, model.params
    z = fill_normal(np.empty((R, N)), beh_g)
    compliant = fill_rows(np.empty((R, N)), beh_g) < params.compliant_share
    with np.errstate(divide="ignore"):
        log_median = np.log(params.gain_median * params.gain_factor(model.arrays.credit))
    log_gain = log_median[None, :] + params.gain_sigma * z
    log_gain[compliant] = -np.inf
    return FirmState(credit=np.broadcast_to(model.arrays.credit, (R, N)).astype(np.int8),
                     positive=np.broadcast_to(model.arrays.positive, (R, N)).copy(),
                     pen_last=np.broadcast_to(model.penalised, (R, N)).copy(),
                     pen_now=np.zeros((R, N), dtype=bool),
                     clean_years=np.zeros((R, N), dtype=np.int16),
                     checks=[np.zeros((R, N), dtype=np.int16) for _ in LEVELS],
                     log_gain=log_gain)


def fill_normal(out: np.ndarray, generators: list) -> np.ndarray:
    """Row ``r`` of ``out``: standard normals from ``generators[r]``."""
    for r, g in enumerate(generators):
        out[r] = g.standard_normal(out.shape[1])
    return out


def quarter_strata(model: DeterrenceModel, firms: FirmState) -> tuple[np.ndarray, np.ndarray]:
    """Categories (R, N) from the current states (:func:`classify`'s table) and the stratum
    of every firm in every pass (passes, R, N)."""
    cols = np.arange(model.arrays.n)
    cat = model.cat_table[cols, firms.credit * 4 + firms.positive * 2 + firms.pen_last]
    code = state_code(cat, firms.positive, firms.credit)
    return cat, stratum_ids(model.strata, model.arrays, code)


def quarter_quotas(model: DeterrenceModel, firms: FirmState, sid: np.ndarray) -> np.ndarray:
    """Quotas (R, strata) of the quarter: :func:`dsr_analysis.quotas.stratum_quota` on each
    replicate's stratum populations, cut to capacity when the budget is enforced."""
    S = model.strata.n
    counts = sum(class_counts(sid[p], firms.credit, S) for p in range(sid.shape[0]))
    off = sum(class_counts(sid[p], firms.credit, S, mask=model.arrays.offsite[None, :])
              for p in range(sid.shape[0]))
    quota = dynamic_quotas(model.strata, counts, model.policy, model.staff)
    return budget_quotas(quota, model.strata, counts, off, model.budget, model.capacity,
                         model.policy.methods.offsite_first)


def _eligible(model: DeterrenceModel, firms: FirmState, sid_p: np.ndarray, level: int,
              other: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Eligible members of a pass (:func:`overlap.eligible_mask`; full off-site coverage
    strata are never capped) and their counted earlier checks."""
    rules = model.rules
    member = sid_p >= 0
    counted = counted_checks(firms.checks, level, rules)
    mask = eligible_mask(counted, other, level, rules)
    full = eligible_mask(counted, other, level, rules, method="offsite_full")
    fixed = model.fixed[sid_p]
    elig = member & np.where(fixed, True if full is None else full, True if mask is None else mask)
    return elig, counted


def _lambda_of(lam: np.ndarray, sid_p: np.ndarray, credit: np.ndarray) -> np.ndarray:
    """Per firm, the lambda (R, S, 4) of its stratum and class (0 outside every stratum);
    compiled (:func:`dsr_analysis.simulation.kernels.class_lambda`)."""
    out = np.empty(sid_p.shape)
    kernels.class_lambda(np.ascontiguousarray(lam, dtype=float), sid_p,
                         np.broadcast_to(credit, sid_p.shape), out)
    return out


def perceived_probability(model: DeterrenceModel, firms: FirmState, sid: np.ndarray,
                          quota: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's probability of a check this quarter as it can know it (published quotas,
    its own history): per pass its class's lambda on the stratum's eligible firms (under
    rotation, lambda among firms not yet checked this year and, for the rest, of what the
    quota leaves over), the passes combined as independent. Returns it and whether the
    firm is in a full off-site coverage stratum."""
    S, bases = model.strata.n, model.strata.bases
    not_checked = np.ones(firms.credit.shape)
    in_fixed = np.zeros(firms.credit.shape, dtype=bool)
    for p in range(sid.shape[0]):
        elig, counted = _eligible(model, firms, sid[p], p, None)
        if model.rules.mode == "rotation":
            fresh = elig & (counted == 0)
            c0 = class_counts(sid[p], firms.credit, S, mask=fresh)
            c1 = class_counts(sid[p], firms.credit, S, mask=elig & ~fresh)
            lam0 = inclusion_probabilities(c0, quota, bases)
            lam1 = inclusion_probabilities(c1, np.maximum(quota - c0.sum(axis=-1), 0), bases)
            prob = np.where(fresh, _lambda_of(lam0, sid[p], firms.credit),
                            _lambda_of(lam1, sid[p], firms.credit))
        else:
            lam = inclusion_probabilities(class_counts(sid[p], firms.credit, S, mask=elig),
                                          quota, bases)
            prob = _lambda_of(lam, sid[p], firms.credit)
        not_checked *= 1.0 - np.where(elig, prob, 0.0)
        in_fixed |= (sid[p] >= 0) & model.fixed[sid[p]]
    return 1.0 - not_checked, in_fixed


def draw_passes(model: DeterrenceModel, firms: FirmState, sid: np.ndarray, quota: np.ndarray,
                draw_g: list) -> np.ndarray:
    """The quarter's draws, counties first then the area level (:mod:`overlap`): per pass,
    lambda on the eligible firms, Pareto keys of the replicate's uniforms, the quota's
    smallest keys. Updates the per-level checks after all passes (as in the official draw,
    a unit's earlier checks are those of earlier draws); returns the visited firms (R, N)
    (an object drawn by both levels under ``merge`` gets one joint visit)."""
    rules, S = model.rules, model.strata.n
    visited = np.zeros(firms.credit.shape, dtype=bool)
    county_drawn = None
    drawn_by_level = []
    for p in range(sid.shape[0]):
        other = county_drawn if rules.avoids(LEVELS[p]) else None
        elig, counted = _eligible(model, firms, sid[p], p, other)
        lam = inclusion_probabilities(class_counts(sid[p], firms.credit, S, mask=elig), quota,
                                      model.strata.bases)
        u = fill_rows(np.empty(firms.credit.shape), draw_g)
        rounds = counted if rules.mode == "rotation" else None
        keys = draw_keys(u, _lambda_of(lam, sid[p], firms.credit), rounds, rules)
        keys[~elig] = np.inf
        drawn = select_by_stratum(keys, sid[p], quota)
        drawn_by_level.append(drawn)
        if LEVELS[p] == "county":
            county_drawn = drawn
        visited |= drawn
    for checks, drawn in zip(firms.checks, drawn_by_level, strict=True):
        checks += drawn
    return visited


def enforce(model: DeterrenceModel, firms: FirmState, detected: np.ndarray) -> None:
    """State-dependent enforcement (Harrington 1988): downgrade, off the positive list,
    penalised (special next year, R2)."""
    params = model.params
    if params.downgrade_steps:
        firms.credit = np.where(detected, np.minimum(firms.credit + params.downgrade_steps, 3),
                                firms.credit).astype(np.int8)
    if params.remove_from_positive_list:
        firms.positive &= ~detected
    firms.pen_now |= detected


def year_end(model: DeterrenceModel, firms: FirmState) -> None:
    """A clean year earns one class back (never above the register's class); penalties of
    the year become last year's; the year's checks are cleared."""
    clean_years = np.where(~firms.pen_now, firms.clean_years + 1, 0).astype(np.int16)
    if model.params.recovery_years:
        up = (clean_years >= model.params.recovery_years) & (
            firms.credit > model.arrays.credit[None, :])
        firms.credit = np.where(up, firms.credit - 1, firms.credit).astype(np.int8)
        clean_years = np.where(up, 0, clean_years).astype(np.int16)
    firms.clean_years = clean_years
    firms.pen_last = firms.pen_now
    firms.pen_now = np.zeros_like(firms.pen_last)
    for c in firms.checks:
        c[:] = 0


TIMELINE_KEYS = ("violators", "inspections", "onsite", "offsite", "detected", "inspector_days",
                 "special", "positive_list", "mean_perceived")
CATEGORY_KEYS = ("objects", "violators", "inspections", "detected")


def simulate_quarter(model: DeterrenceModel, firms: FirmState, draw_g: list, beh_g: list,
                     tl: dict, bc: dict, sl: slice, t: int) -> None:
    """One quarter of a chunk: strata and quotas, perceived probabilities and violations,
    the draw, detection, tallies and enforcement."""
    params, budget = model.params, model.budget
    offsite_first = model.policy.methods.offsite_first
    cat, sid = quarter_strata(model, firms)
    quota = quarter_quotas(model, firms, sid)
    p_check, in_fixed = perceived_probability(model, firms, sid, quota)
    det = detection_of(model.arrays.offsite[None, :], in_fixed, params, offsite_first)
    noise = fill_normal(np.empty(firms.credit.shape), beh_g)
    threshold = np.log(np.maximum(p_check * det * params.sanction, 1e-300))
    violate = firms.log_gain + params.gain_noise * noise > threshold
    inspected = draw_passes(model, firms, sid, quota, draw_g)
    detected = violate & inspected & (fill_rows(np.empty(firms.credit.shape), beh_g) < det)
    n_off = (inspected & (in_fixed | (model.arrays.offsite[None, :] & offsite_first))).sum(1)
    n_insp = inspected.sum(axis=1)
    values = dict(violators=violate.sum(1), inspections=n_insp, offsite=n_off,
                  onsite=n_insp - n_off, detected=detected.sum(1),
                  inspector_days=(n_insp - n_off) * budget.onsite_inspector_days
                  + n_off * budget.offsite_inspector_days,
                  special=(cat == 0).sum(1), positive_list=firms.positive.sum(1),
                  mean_perceived=(p_check * det).mean(1))
    for k, v in values.items():
        tl[k][sl, t] = v
    for c in range(len(CATEGORIES)):
        in_c = cat == c
        for k, m in (("objects", in_c), ("violators", violate & in_c),
                     ("inspections", inspected & in_c), ("detected", detected & in_c)):
            bc[k][sl, t, c] = m.sum(axis=1)
    enforce(model, firms, detected)


def deterrence_chunk(model: DeterrenceModel, seeds: list, years: int, bar=None,
                     engine_version: int = ENGINE_VERSION) -> tuple[dict, dict]:
    """One chunk of replicates as a pure task: the timeline and by-category tallies of
    ``len(seeds)`` replicates (shapes (R, T) and (R, T, 3)). What a Dask worker runs.
    ``engine_version``: see :data:`ENGINE_VERSION`."""
    check_engine_version(engine_version)
    if engine_version == 2:
        return deterrence_chunk_v2(model, seeds, years, bar)
    bar = bar or NoBar()
    R, T = len(seeds), 4 * years
    tl = {k: np.zeros((R, T)) for k in TIMELINE_KEYS}
    bc = {k: np.zeros((R, T, len(CATEGORIES))) for k in CATEGORY_KEYS}
    pairs = [s.spawn(2) for s in seeds]
    draw_g = [np.random.Generator(np.random.PCG64(a)) for a, _ in pairs]
    beh_g = [np.random.Generator(np.random.PCG64(b)) for _, b in pairs]
    firms = init_firms(model, beh_g)
    sl = slice(0, R)
    for year in range(years):
        for qi in range(4):
            simulate_quarter(model, firms, draw_g, beh_g, tl, bc, sl, 4 * year + qi)
            bar.update(R)
        year_end(model, firms)
    return tl, bc


def _stream_keys(seeds: list) -> list[np.ndarray]:
    """Version 2: the four stream keys of every replicate (gain levels, behaviour, draw,
    detection), uint64 arrays of length R, from each replicate's ``SeedSequence``."""
    keys = np.array([s.generate_state(4, np.uint64) for s in seeds],
                    dtype=np.uint64).reshape(len(seeds), 4)
    return [np.ascontiguousarray(keys[:, j]) for j in range(4)]


def _quotas_v2(model: DeterrenceModel, counts: np.ndarray, offc: np.ndarray) -> np.ndarray:
    """:func:`quarter_quotas` from the counts of :func:`kernels.dv2_state`, with the
    model's cache of :func:`dsr_analysis.quotas.stratum_quota` per stratum and counts."""
    strata, policy, cache = model.strata, model.policy, model.quota_cache
    rules = {r.id: r for r in policy.quotas.rules}
    quota = np.zeros(counts.shape[:2], dtype=np.int64)
    table = strata.table
    for s, (unit, rule_id) in enumerate(zip(table["unit"], table["quota_rule"], strict=True)):
        for r in range(counts.shape[0]):
            key = (s, *counts[r, s].tolist())
            q = cache.get(key)
            if q is None:
                q = cache[key] = stratum_quota(rules[rule_id], policy, key[1:],
                                               model.staff.get(unit, 0))[0]
            quota[r, s] = q
    return budget_quotas(quota, strata, counts, offc, model.budget, model.capacity,
                         policy.methods.offsite_first)


_TAIL = kernels.tail_table()


def gain_levels(keys: np.ndarray, log_median: np.ndarray, compliant_share: float,
                gain_sigma: float) -> tuple[list, list]:
    """Version 2: per row (its gain key ``keys[r]``), the firms that may violate and their
    gain levels. Firm ``i`` complies whatever the odds when the number ``i`` of the key's
    counter stream is below ``compliant_share``; the others, in position order, take the
    successive standard normals ``z`` of numpy's ziggurat on a PCG64 seeded with the key:
    gain level ``log_median[i] + gain_sigma z`` (a firm whose level is ``-inf`` - a zero
    median - never violates and is left out). Only these firms are visited each quarter."""
    idx, gains = [], []
    for key in keys:
        may = np.flatnonzero(kernels.counter_uniforms(key, np.uint64(0), len(log_median))
                             >= compliant_share)
        z = np.random.Generator(np.random.PCG64(int(key))).standard_normal(len(may))
        g = log_median[may] + gain_sigma * z
        keep = g != -np.inf
        idx.append(may[keep])
        gains.append(g[keep])
    return idx, gains


def _gain_table(model: DeterrenceModel, k_init) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The firms that may violate and their gain levels, all rows in one table: row ``r``'s
    firms are ``idx[ptr[r]:ptr[r + 1]]`` with gains ``gain[ptr[r]:ptr[r + 1]]``."""
    params, credit = model.params, model.arrays.credit
    with np.errstate(divide="ignore"):
        log_median = np.log(params.gain_median * params.gain_factor(credit))
    idx, gain = gain_levels(k_init, log_median, float(params.compliant_share),
                            float(params.gain_sigma))
    ptr = np.zeros(len(idx) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in idx])
    return ptr, np.concatenate(idx).astype(np.int32), np.concatenate(gain)


def _draw_plan(rotation: bool, eligible, lam, quota):
    """A pass's inclusion probabilities and screening bounds (none under rotation)."""
    from .coverage import NEWTON_STEPS, SCREEN_EXTRA, SCREEN_SD

    lam = np.ascontiguousarray(lam, dtype=float)
    if rotation:
        return lam, np.ones_like(lam)
    kd = np.minimum(quota, eligible.sum(axis=-1))
    return lam, kernels.screen_plan(eligible, lam, kd, SCREEN_SD, SCREEN_EXTRA,
                                    NEWTON_STEPS)[0]


def _quarter_lambdas(rotation: bool, fresh, ec, quota, bases, plan):
    """Inclusion probabilities of a quarter: of the firms not yet checked this year and of
    the others (under rotation, the first and second round), and the draw's plan."""
    if rotation:
        lam0 = inclusion_probabilities(fresh, quota, bases)
        lam1 = inclusion_probabilities(ec - fresh, np.maximum(quota - fresh.sum(axis=-1), 0),
                                       bases)
        lam_d, tau_d = plan(ec, inclusion_probabilities(ec, quota, bases), quota)
    else:
        lam0 = lam1 = inclusion_probabilities(ec, quota, bases)
        lam_d, tau_d = plan(ec, lam0, quota)
    return lam0, lam1, lam_d, tau_d


def _record_quarter(tl: dict, bc: dict, t: int, model: DeterrenceModel, tally, viol_cat,
                    by_cat, objects_by_cat, special, positive_list, perceived, n: int) -> None:
    """Quarter ``t``'s figures into the timeline ``tl`` and the by-category tables ``bc``."""
    n_insp, n_off = tally[:, 0], tally[:, 1]
    values = dict(violators=viol_cat.sum(axis=1), inspections=n_insp, offsite=n_off,
                  onsite=n_insp - n_off, detected=tally[:, 2],
                  inspector_days=(n_insp - n_off) * model.budget.onsite_inspector_days
                  + n_off * model.budget.offsite_inspector_days,
                  special=special, positive_list=positive_list,
                  mean_perceived=perceived / n if n else np.full(len(tally), np.nan))
    for k, v in values.items():
        tl[k][:, t] = v
    bc["objects"][:, t, :] = objects_by_cat
    bc["violators"][:, t, :] = viol_cat
    bc["inspections"][:, t, :] = by_cat[:, :, 0]
    bc["detected"][:, t, :] = by_cat[:, :, 1]


def deterrence_chunk_v2(model: DeterrenceModel, seeds: list, years: int, bar=None
                        ) -> tuple[dict, dict]:
    """:func:`deterrence_chunk` of engine version 2 (:data:`ENGINE_VERSION`): the same
    model in compiled passes (:mod:`dsr_analysis.simulation.kernels`, ``dv2_*``) on
    counter-based streams. Per quarter: states, strata and counts; quotas and lambdas
    (small arrays, numpy); perceived probabilities and violations; the draw of each pass
    (counties first; the area level without what they drew under ``avoid``); inspections,
    detection, enforcement and tallies (how: see the module docstring, "Engine version 2")."""
    bar = bar or NoBar()
    arrays, params, rules, strata = model.arrays, model.params, model.rules, model.strata
    R, N, T, S = len(seeds), arrays.n, 4 * years, strata.n
    P = strata.n_passes
    k_init, k_beh, k_draw, k_det = _stream_keys(seeds)
    nc_ptr, nc_idx, nc_gain = _gain_table(model, k_init)
    credit = np.repeat(arrays.credit.astype(np.int8)[None, :], R, axis=0)  # writable copies
    positive = np.repeat(arrays.positive[None, :], R, axis=0)
    pen_last = np.repeat(model.penalised[None, :], R, axis=0)
    pen_now = np.zeros((R, N), dtype=bool)
    clean_years = np.zeros((R, N), dtype=np.int16)
    checks = np.zeros((P, R, N), dtype=np.int16)
    cat = np.empty((R, N), dtype=np.int8)
    sid = np.empty((P, R, N), dtype=np.int16)
    violate = np.zeros((R, N), dtype=bool)
    drawn = np.zeros((P, R, N), dtype=bool)
    E = 3 ** P
    M = kernels.combinations(strata.lookup.shape[1], P)
    combo = np.empty((R, N), dtype=np.int32 if M < 2 ** 31 else np.int64)
    ccount = np.zeros((R, M), dtype=np.int64)
    cat_of = (np.arange(M) // E // 16) % len(CATEGORIES)
    # A pass draws only in its own strata (the others' quotas would send it scanning again).
    in_pass = np.stack([np.isin(np.arange(S), strata.lookup[p]) for p in range(P)])
    counts, offc, ec, fresh = (np.empty((R, S, len(CREDIT_CLASSES)), dtype=np.int64)
                               for _ in range(4))
    cat_n = np.empty((R, len(CATEGORIES)), dtype=np.int64)
    pos_n = np.empty(R, dtype=np.int64)
    fixed = np.ascontiguousarray(model.fixed[:S])
    unit = np.ascontiguousarray(arrays.unit.astype(np.int64))
    offsite = np.ascontiguousarray(arrays.offsite)
    lookup, cat_table = strata.lookup, model.cat_table
    scope_all = rules.scope != "unit"
    capped = rules.capped("routine", "random")
    cap = int(rules.yearly_cap)
    rotation = rules.mode == "rotation"
    offsite_first = bool(model.policy.methods.offsite_first)
    reg_credit = np.ascontiguousarray(arrays.credit)
    recovery = int(params.recovery_years)
    off_tab = np.empty(M, dtype=bool)
    work = kernels.draw_work(N)
    kernels.dv2_offsite(lookup, fixed, E, offsite_first, off_tab)
    county = LEVELS.index("county")
    flags = (scope_all, capped, cap)
    tl = {k: np.zeros((R, T)) for k in TIMELINE_KEYS}
    bc = {k: np.zeros((R, T, len(CATEGORIES))) for k in CATEGORY_KEYS}
    d_on, d_off = float(params.detection_onsite), float(params.detection_offsite)

    plan = functools.partial(_draw_plan, rotation)
    kernels.dv2_state(cat_table, unit, lookup, offsite, credit, positive, pen_last, checks,
                      *flags, fixed, rotation, cat, sid, counts, offc, ec, fresh, cat_n, pos_n,
                      combo, ccount, False, reg_credit, pen_now, clean_years, recovery)
    for year in range(years):
        for qi in range(4):
            t = 4 * year + qi
            quota = _quotas_v2(model, counts, offc)
            special, positive_list = cat_n[:, 0].copy(), pos_n.copy()
            objects_by_cat = cat_n.copy()
            lam0, lam1, lam_d, tau_d = _quarter_lambdas(rotation, fresh, ec, quota,
                                                        strata.bases, plan)
            most = int(max(1, quota.sum(axis=1).max()))
            dlist = np.empty((P, R, most), dtype=np.int64)
            dn = np.zeros((P, R), dtype=np.int64)
            perceived = np.empty(R)
            viol_cat = np.zeros((R, len(CATEGORIES)), dtype=np.int64)
            kernels.dv2_quarter(combo, ccount, cat_of, lookup, fixed, E,
                                np.ascontiguousarray(lam0, dtype=float),
                                np.ascontiguousarray(lam1, dtype=float), offsite_first, d_on,
                                d_off, float(params.sanction), nc_ptr, nc_idx, nc_gain,
                                float(params.gain_noise), k_beh, np.uint64(t * N), _TAIL,
                                violate, perceived, viol_cat)
            kernels.dv2_draw(0, combo, ccount, lookup, E, checks, scope_all, rotation,
                             drawn[county], False, lam_d, tau_d, quota * in_pass[0], k_draw,
                             np.uint64(t * P * N), drawn, dlist, dn, work)
            for p in range(1, P):
                use_other = rules.avoids(LEVELS[p]) and p != county
                if use_other:
                    eligible = ec.copy()
                    kernels.dv2_avoided(sid, credit, checks, *flags, fixed, county, p, dlist,
                                        dn, eligible)
                    lam, tau = plan(eligible, inclusion_probabilities(eligible, quota,
                                                                      strata.bases), quota)
                elif rotation:
                    lam, tau = lam_d, tau_d
                else:
                    lam, tau = plan(ec, lam0, quota)
                kernels.dv2_draw(p, combo, ccount, lookup, E, checks, scope_all, rotation,
                                 drawn[county], use_other, lam, tau, quota * in_pass[p],
                                 k_draw,
                                 np.uint64((t * P + p) * N), drawn, dlist, dn, work)
            tally = np.zeros((R, 3), dtype=np.int64)
            by_cat = np.zeros((R, len(CATEGORIES), 2), dtype=np.int64)
            kernels.dv2_close(cat_table, unit, lookup, sid, cat, credit, positive, pen_last,
                              pen_now, checks, *flags, rotation, violate, drawn, fixed, offsite,
                              off_tab, cat_of, d_on, d_off, int(params.downgrade_steps),
                              bool(params.remove_from_positive_list), k_det, np.uint64(t * N),
                              counts, offc, ec, fresh, cat_n, pos_n, combo, ccount, tally,
                              by_cat)
            dn[:] = 0
            _record_quarter(tl, bc, t, model, tally, viol_cat, by_cat, objects_by_cat,
                            special, positive_list, perceived, N)
            bar.update(R)
        if year + 1 < years:  # the year's end and the new year's state in one pass
            kernels.dv2_state(cat_table, unit, lookup, offsite, credit, positive, pen_last,
                              checks, *flags, fixed, rotation, cat, sid, counts, offc, ec, fresh,
                              cat_n, pos_n, combo, ccount, True, reg_credit, pen_now,
                              clean_years, recovery)
    return tl, bc


@dataclass
class DeterrenceJob:
    """A deterrence simulation handed to an executor (:mod:`dsr_analysis.distributed`); :meth:`result`
    waits for its chunks and builds the tables."""

    executor: object
    model: DeterrenceModel
    futures: list
    replicates: int
    years: int
    seed: object
    bar: object
    engine_version: int = ENGINE_VERSION

    def result(self) -> DeterrenceResult:
        parts = self.executor.gather(self.futures)
        self.bar.close()
        T = 4 * self.years
        tl = {k: np.zeros((self.replicates, T)) for k in TIMELINE_KEYS}
        bc = {k: np.zeros((self.replicates, T, len(CATEGORIES))) for k in CATEGORY_KEYS}
        start = 0
        for ptl, pbc in parts:
            n = next(iter(ptl.values())).shape[0]
            for k in TIMELINE_KEYS:
                tl[k][start:start + n] = ptl[k]
            for k in CATEGORY_KEYS:
                bc[k][start:start + n] = pbc[k]
            start += n
        return deterrence_tables(self.model, tl, bc, self.replicates, self.years, self.seed,
                                 self.engine_version)


def submit_deterrence(ex, model: DeterrenceModel, *, replicates: int, years: int, seed,
                      chunk_size: int | None = None, progress: bool = False,
                      engine_version: int = ENGINE_VERSION) -> DeterrenceJob:
    """Hand a run's chunks to the executor ``ex`` (:func:`dsr_analysis.distributed.executor`): one task
    per chunk of ``chunk_size`` replicates (default :func:`default_chunk_size`);
    ``engine_version``: :data:`ENGINE_VERSION`."""
    check_engine_version(engine_version)
    seeds = replicate_seeds(seed, replicates)
    chunk_size = chunk_size or default_chunk_size(model.arrays.n)
    bar = progress_bar(replicates * 4 * years, progress, "simulate deterrence")
    shared = ex.scatter(model)
    futures = []
    for sl in chunks(replicates, chunk_size):
        if ex.distributed:
            f = ex.submit(deterrence_chunk, shared, seeds[sl], years, None, engine_version)
            ex.on_done(f, functools.partial(bar.update, (sl.stop - sl.start) * 4 * years))
        else:
            f = ex.submit(deterrence_chunk, shared, seeds[sl], years, bar, engine_version)
        futures.append(f)
    return DeterrenceJob(executor=ex, model=model, futures=futures, replicates=replicates,
                         years=years, seed=seed, bar=bar, engine_version=engine_version)


def simulate_deterrence(
    classified: pd.DataFrame,
    policy: Policy,
    params: DeterrenceParams | None = None,
    *,
    replicates: int = 50,
    years: int = 2,
    seed: int | None = 0,
    chunk_size: int | None = None,
    inspectors: pd.DataFrame | None = None,
    budget: Budget | None = None,
    progress: bool = False,
    workers: int | None = None,
    scheduler=None,
    engine_version: int = ENGINE_VERSION,
) -> DeterrenceResult:
    """Simulate firms' violations, the quarterly draws and state-dependent enforcement.

    Every quarter: (1) categories follow the current credit class, positive-list status and
    last year's penalties (:func:`classify`); (2) stratum populations and quotas are
    recomputed per replicate (:func:`dsr_analysis.quotas.stratum_quota`), cut to the
    budget if it is enforced; (3) each firm forms its perceived probability of a check
    (:func:`perceived_probability`) and violates if its gain exceeds the expected sanction;
    (4) the draw is made as in :func:`dsr_analysis.simulation.coverage.simulate_coverage` (counties
    first; lambda per class on the eligible firms; Pareto keys; overlap from
    :mod:`dsr_analysis.overlap`); (5) inspected violators are detected with the detection
    probability of their check, downgraded, marked penalised, and removed from the
    positive list.

    Each replicate has one ``SeedSequence`` child; its random streams are laid out as
    :data:`ENGINE_VERSION` ``engine_version`` says (2, the default: counter-based streams
    and compiled passes; 1: the first engine, to reproduce its results for a seed).
    Results do not depend on ``chunk_size``, ``workers`` or ``scheduler``.

    Memory: the register's arrays (about 30 bytes per object, the category table included)
    plus about 35 bytes (version 1: 120) x ``chunk_size`` x objects per worker; ``chunk_size`` defaults to
    :func:`dsr_analysis.simulation.sampling.default_chunk_size` (8 replicates at 100,000
    objects, 1 from 800,000). ``workers``: chunks at the same time, in threads (default:
    the CPUs this process may use). ``scheduler``: where the chunks run, as for
    :func:`dsr_analysis.simulation.coverage.simulate_coverage`.
    """
    if workers is not None and workers < 1:
        raise ParameterError(_("workers: {workers} must be at least 1").format(workers=workers))
    check_engine_version(engine_version)
    model = build_model(classified, policy, params or DeterrenceParams(), inspectors,
                        budget or Budget())
    with as_executor(scheduler, workers) as ex:
        job = submit_deterrence(ex, model, replicates=replicates, years=years, seed=seed,
                                chunk_size=chunk_size, progress=progress,
                                engine_version=engine_version)
        return job.result()


def deterrence_tables(model: DeterrenceModel, tl: dict, bc: dict, replicates: int, years: int,
                      seed, engine_version: int = ENGINE_VERSION) -> DeterrenceResult:
    """The tidy tables of :class:`DeterrenceResult`."""
    T, N = 4 * years, model.arrays.n
    timeline = pd.DataFrame({
        "replicate": np.repeat(np.arange(replicates), T),
        "year": np.tile(np.repeat(np.arange(1, years + 1), 4), replicates),
        "quarter": np.tile(np.arange(1, 5), replicates * years),
        "t": np.tile(np.arange(1, T + 1), replicates),
        "objects": N,
    })
    for k in ("violators", "inspections", "onsite", "offsite", "detected"):
        timeline[k] = tl[k].reshape(-1).astype(np.int64)
    timeline["violation_rate"] = timeline["violators"] / N
    timeline["undetected"] = timeline["violators"] - timeline["detected"]
    timeline["hit_rate"] = np.divide(timeline["detected"], timeline["inspections"],
                                     out=np.zeros(len(timeline)),
                                     where=timeline["inspections"] > 0)
    timeline["inspector_days"] = tl["inspector_days"].reshape(-1)
    timeline["special"] = tl["special"].reshape(-1).astype(np.int64)
    timeline["positive_list"] = tl["positive_list"].reshape(-1).astype(np.int64)
    timeline["mean_perceived"] = tl["mean_perceived"].reshape(-1)
    by_category = pd.DataFrame({
        "replicate": np.repeat(np.arange(replicates), T * 3),
        "t": np.tile(np.repeat(np.arange(1, T + 1), 3), replicates),
        "category": np.tile(CATEGORIES, replicates * T),
    })
    for k in CATEGORY_KEYS:
        by_category[k] = bc[k].reshape(-1).astype(np.int64)
    rules = model.rules
    settings = dict(replicates=replicates, years=years, seed=seed, overlap=rules.mode,
                    overlap_scope=rules.scope, between_levels=rules.between, objects=N,
                    params=dataclasses.asdict(model.params), engine_version=engine_version)
    return DeterrenceResult(timeline=timeline, by_category=by_category, settings=settings)


def deterrence_summary(result: DeterrenceResult, by: str = "year") -> pd.DataFrame:
    """Means over replicates per ``year`` (or ``t``): violation rate, violators, detected,
    undetected, inspections, hit rate (detected / inspections, pooled), inspector-days."""
    g = result.timeline.groupby(["replicate", by]).agg(
        objects=("objects", "first"), violators=("violators", "mean"),
        detected=("detected", "mean"), undetected=("undetected", "mean"),
        inspections=("inspections", "mean"), inspector_days=("inspector_days", "mean"),
        special=("special", "mean"), positive_list=("positive_list", "mean")).reset_index()
    out = g.groupby(by).agg(
        objects=("objects", "first"), violators=("violators", "mean"),
        detected=("detected", "mean"), undetected=("undetected", "mean"),
        inspections=("inspections", "mean"), inspector_days=("inspector_days", "mean"),
        special=("special", "mean"), positive_list=("positive_list", "mean")).reset_index()
    out["violation_rate"] = out["violators"] / out["objects"]
    out["hit_rate"] = out["detected"] / out["inspections"]
    return out


def pooled_hit_rate(result: DeterrenceResult) -> float:
    """Detected violations / checks over the whole run."""
    t = result.timeline
    return float(t["detected"].sum() / t["inspections"].sum()) if t["inspections"].sum() else 0.0


def params_from_mapping(data: Mapping | None) -> DeterrenceParams:
    """Build :class:`DeterrenceParams` from a plain mapping (keys checked by the caller)."""
    return DeterrenceParams(**dict(data or {}))
