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
draw engine of :mod:`dsr_analysis.simulation`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .categories import classify
from .policy import CATEGORIES, CREDIT_CLASSES, Policy
from .simulation import (
    save_tables,
    Budget,
    RegisterArrays,
    Strata,
    apply_budget,
    build_strata,
    chunks,
    dynamic_quotas,
    fill_rows,
    inspectors_by_unit,
    progress_bar,
    replicate_seeds,
    select_by_stratum,
    state_code,
    static_quotas,
    stratum_costs,
    stratum_ids,
)

#: National anchor (MEE 2019): violations found in 4.79 % of checks.
NATIONAL_HIT_RATE_2019 = 0.0479


# --------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------
def yearly_coverage(quota, population, quarters: int = 4) -> np.ndarray:
    """Share of a stratum inspected at least once in a year under independent quarterly
    simple random sampling of ``quota`` out of ``population``: ``1 - (1 - n/N)^quarters``."""
    n = np.asarray(quota, dtype=float)
    N = np.asarray(population, dtype=float)
    share = np.divide(n, N, out=np.zeros(np.broadcast(n, N).shape), where=N > 0)
    return 1.0 - (1.0 - np.clip(share, 0.0, 1.0)) ** quarters


def rotation_coverage(quota, population, quarters: int = 4) -> np.ndarray:
    """Yearly coverage under rotation (no object drawn twice before all were drawn):
    ``min(1, quarters x n/N)``."""
    n = np.asarray(quota, dtype=float)
    N = np.asarray(population, dtype=float)
    share = np.divide(n, N, out=np.zeros(np.broadcast(n, N).shape), where=N > 0)
    return np.minimum(1.0, quarters * share)


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
        raise ValueError(f"hit rate {target_hit_rate} cannot be reached with these "
                         "detection probabilities")
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

    gain_median: float = field(default=0.63, metadata={
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


def _optional_factories(cls: type) -> None:
    """Let the strict YAML builder (``policy._build``) treat default-factory fields as
    optional: it looks at ``Field.default`` only."""
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            f.default = f.default_factory()


_optional_factories(DeterrenceParams)


# --------------------------------------------------------------------------------------
# Quick estimate (closed form on the register)
# --------------------------------------------------------------------------------------
GROUP_KEYS = ["unit", "category", "positive_list", "credit_class", "offsite"]


def group_strata(classified: pd.DataFrame, policy: Policy, strata: Strata | None = None,
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """Objects grouped by (unit, category, positive list, credit class, off-site capable),
    with the stratum of each group in each pass (array of shape (groups, passes))."""
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


def detection_of(offsite: np.ndarray, fixed_offsite: np.ndarray, params: DeterrenceParams,
                 offsite_first: bool) -> np.ndarray:
    """Detection probability of the check an object gets: off-site where it is covered
    off-site in full or (R6) has off-site capability and off-site checks come first."""
    off = np.asarray(fixed_offsite, bool) | (np.asarray(offsite, bool) & offsite_first)
    return np.where(off, params.detection_offsite, params.detection_onsite)


def quick_estimate(classified: pd.DataFrame, policy: Policy, params: DeterrenceParams,
                   *, inspectors: pd.DataFrame | None = None, budget: Budget | None = None,
                   stratum_probability: np.ndarray | None = None) -> pd.DataFrame:
    """Closed-form estimate per group of objects for one quarter of ``policy``.

    Columns: the :data:`GROUP_KEYS`, ``objects``, ``p_quarter`` (probability of a check in
    a quarter, independent draws of the passes combined), ``coverage_year``
    (``1 - (1 - p)^4``; rotation: ``min(1, 4p)``), ``detection``, ``violation_rate``
    (:func:`expected_violation_rate` with the combined gain spread), ``violators``,
    ``inspections``, ``detected`` (expected, per quarter) and ``inspector_days``.
    History effects (rotation, yearly cap, credit downgrades) are left to
    :func:`simulate_deterrence`.

    ``stratum_probability`` (one value per stratum of :func:`build_strata`) replaces the
    probabilities from the policy's quotas (used by the optimiser).
    """
    budget = budget or Budget()
    strata = build_strata(policy)
    groups, sids = group_strata(classified, policy, strata)
    if stratum_probability is None:
        quota = static_quotas(classified, policy, strata, inspectors)
        pop = np.zeros(strata.n)
        for p in range(sids.shape[1]):
            ok = sids[:, p] >= 0
            np.add.at(pop, sids[ok, p], groups["objects"].to_numpy()[ok])
        if budget.enforce:
            off_share = _offsite_share(groups, sids, strata)
            costs = stratum_costs(strata, off_share, budget, policy.methods.offsite_first)
            staff = inspectors_by_unit(inspectors, policy, budget.inspector_scale)
            cap = {u: staff[u] * budget.days_per_inspector_per_quarter for u in staff}
            quota, _ = apply_budget(quota, strata, costs, cap)
        stratum_probability = np.divide(quota, pop, out=np.zeros(strata.n), where=pop > 0)
    return estimate_from_probabilities(groups, sids, strata, stratum_probability, params,
                                       budget, policy.methods.offsite_first,
                                       rotation=policy.draw.overlap == "rotation")


def estimate_from_probabilities(groups: pd.DataFrame, sids: np.ndarray, strata: Strata,
                                stratum_probability: np.ndarray, params: DeterrenceParams,
                                budget: Budget, offsite_first: bool = True,
                                rotation: bool = False) -> pd.DataFrame:
    """The closed form of :func:`quick_estimate` from given stratum draw probabilities.

    ``groups`` and ``sids`` come from :func:`group_strata`; ``stratum_probability`` holds one
    probability per stratum (quota / population). Cheap enough to sit inside an optimiser.
    """
    prob = np.append(np.asarray(stratum_probability, dtype=float), 0.0)  # index -1 -> 0
    fixed = np.append((strata.table["method"] == "offsite_full").to_numpy(), False)
    p_pass = prob[sids]
    p = combined_probability(*[p_pass[:, i] for i in range(sids.shape[1])]) if sids.shape[1] \
        else np.zeros(len(groups))
    in_fixed = fixed[sids].any(axis=1)
    offsite = groups["offsite"].to_numpy(bool)
    d = detection_of(offsite, in_fixed, params, offsite_first)
    credit = groups["credit_class"].map({c: i for i, c in enumerate(CREDIT_CLASSES)}).to_numpy()
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


def _offsite_share(groups: pd.DataFrame, sids: np.ndarray, strata: Strata) -> np.ndarray:
    pop = np.zeros(strata.n)
    off = np.zeros(strata.n)
    n = groups["objects"].to_numpy()
    o = groups["offsite"].to_numpy()
    for p in range(sids.shape[1]):
        ok = sids[:, p] >= 0
        np.add.at(pop, sids[ok, p], n[ok])
        np.add.at(off, sids[ok, p], (n * o)[ok])
    return np.divide(off, pop, out=np.zeros(strata.n), where=pop > 0)


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


def _category_table(classified: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Category code of every object for each (credit, positive list, penalised last year)
    combination, shape (objects, 16), index ``credit*4 + positive*2 + penalised``, decided
    by :func:`dsr_analysis.categories.classify` itself."""
    n = len(classified)
    parts = []
    for credit in CREDIT_CLASSES:
        for pos in (False, True):
            for pen in (False, True):
                f = classified.drop(columns=["category", "category_reason"], errors="ignore")
                f = f.assign(credit_class=credit, positive_list=pos, penalised_last_year=pen)
                parts.append(f)
    both = classify(pd.concat(parts, ignore_index=True), policy)
    codes = both["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy(np.int8)
    return codes.reshape(16, n).T.copy()


def simulate_deterrence(
    classified: pd.DataFrame,
    policy: Policy,
    params: DeterrenceParams | None = None,
    *,
    replicates: int = 50,
    years: int = 2,
    seed: int | None = 0,
    chunk_size: int = 50,
    inspectors: pd.DataFrame | None = None,
    budget: Budget | None = None,
    progress: bool = False,
) -> DeterrenceResult:
    """Simulate firms' violations, the quarterly draws and state-dependent enforcement.

    Every quarter: (1) categories follow the current credit class, positive-list status and
    last year's penalties (:func:`classify`); (2) strata populations and quotas are
    recomputed per replicate (:func:`dsr_analysis.simulation.dynamic_quotas`), cut to the
    budget if it is enforced; (3) each firm forms its perceived probability of detection
    from its stratum's quota and its own history and violates if its gain exceeds the
    expected sanction; (4) the draw is made (same overlap control as
    :func:`dsr_analysis.simulation.simulate_coverage`); (5) inspected violators are
    detected with the detection probability of their check, downgraded, marked penalised,
    and removed from the positive list.

    Each replicate has one ``SeedSequence`` child, split into a draw stream and a behaviour
    stream; results do not depend on ``chunk_size``.
    """
    params = params or DeterrenceParams()
    budget = budget or Budget()
    strata = build_strata(policy)
    arrays = RegisterArrays.from_frame(classified, policy)
    N = arrays.n
    nS = strata.n
    P = strata.n_passes
    cat_table = _category_table(classified, policy)
    pen0 = classified["penalised_last_year"].to_numpy(bool)
    staff = inspectors_by_unit(inspectors, policy, budget.inspector_scale)
    capacity = {u: staff[u] * budget.days_per_inspector_per_quarter for u in staff}
    fixed_s = np.append((strata.table["method"] == "offsite_full").to_numpy(), False)
    overlap = policy.draw.overlap
    cap = policy.draw.yearly_cap
    avoid = policy.draw.between_levels == "avoid"
    offsite_first = policy.methods.offsite_first
    T = 4 * years
    cols = np.arange(N)

    seeds = replicate_seeds(seed, replicates)
    tl = {k: np.zeros((replicates, T)) for k in (
        "violators", "inspections", "onsite", "offsite", "detected", "inspector_days",
        "special", "positive_list", "mean_perceived")}
    bc = {k: np.zeros((replicates, T, 3)) for k in ("objects", "violators", "inspections",
                                                     "detected")}
    bar = progress_bar(replicates * T, progress, "simulate deterrence")
    for sl in chunks(replicates, chunk_size):
        pairs = [s.spawn(2) for s in seeds[sl]]
        draw_g = [np.random.Generator(np.random.PCG64(a)) for a, _ in pairs]
        beh_g = [np.random.Generator(np.random.PCG64(b)) for _, b in pairs]
        R = len(draw_g)
        rows = np.arange(R)[:, None]
        credit = np.broadcast_to(arrays.credit, (R, N)).astype(np.int8)
        positive = np.broadcast_to(arrays.positive, (R, N)).copy()
        pen_last = np.broadcast_to(pen0, (R, N)).copy()
        pen_now = np.zeros((R, N), dtype=bool)
        clean_years = np.zeros((R, N), dtype=np.int16)
        count_year = np.zeros((R, N), dtype=np.int16)
        z = np.empty((R, N))
        for r, g in enumerate(beh_g):
            z[r] = g.standard_normal(N)
        compliant = np.empty((R, N), dtype=bool)
        for r, g in enumerate(beh_g):
            compliant[r] = g.random(N) < params.compliant_share
        with np.errstate(divide="ignore"):
            log_median = np.log(params.gain_median * params.gain_factor(arrays.credit))
        log_gain = log_median[None, :] + params.gain_sigma * z
        log_gain[compliant] = -np.inf
        for year in range(years):
            for qi in range(4):
                t = 4 * year + qi
                cat = cat_table[cols, credit * 4 + positive * 2 + pen_last]
                code = state_code(cat, positive, credit)
                sid = np.stack([strata.lookup[p][arrays.unit[None, :], code] for p in range(P)])
                flat_sid = np.where(sid >= 0, rows * nS + sid, -1)
                pop = np.zeros(R * nS)
                off_pop = np.zeros(R * nS)
                for p in range(P):
                    ok = flat_sid[p] >= 0
                    pop += np.bincount(flat_sid[p][ok], minlength=R * nS)
                    off_pop += np.bincount(flat_sid[p][ok],
                                           weights=np.broadcast_to(arrays.offsite, (R, N))[ok],
                                           minlength=R * nS)
                pop = pop.reshape(R, nS)
                quota = dynamic_quotas(strata, pop, policy, staff)
                if budget.enforce:
                    off_share = np.divide(off_pop.reshape(R, nS), pop, out=np.zeros((R, nS)),
                                          where=pop > 0)
                    costs = stratum_costs(strata, off_share, budget, offsite_first)
                    quota, _ = apply_budget(quota, strata, costs, capacity)
                seen = count_year > 0
                capped = count_year >= cap if overlap == "yearly_cap" else None
                # Perceived probability of a check, pass by pass (before the draw).
                in_fixed = np.zeros((R, N), dtype=bool)
                not_checked = np.ones((R, N))
                for p in range(P):
                    member = sid[p] >= 0
                    fs = np.where(member, flat_sid[p], 0)
                    elig = member.copy()
                    if capped is not None:
                        elig &= ~capped
                    prim = elig & ~seen if overlap == "rotation" else elig
                    sec = elig & seen if overlap == "rotation" else np.zeros_like(elig)
                    n1 = np.bincount(fs[prim], minlength=R * nS)
                    n2 = np.bincount(fs[sec], minlength=R * nS)
                    k = quota.reshape(-1).astype(float)
                    r1 = np.clip(np.divide(k, n1, out=np.zeros_like(k), where=n1 > 0), 0, 1)
                    r2 = np.clip(np.divide(k - n1, n2, out=np.zeros_like(k), where=n2 > 0), 0, 1)
                    prob = np.where(prim, r1[fs], np.where(sec, r2[fs], 0.0))
                    not_checked *= 1.0 - prob
                    in_fixed |= member & fixed_s[sid[p]]
                p_check = 1.0 - not_checked
                det = detection_of(arrays.offsite[None, :], in_fixed, params, offsite_first)
                perceived = p_check * det
                noise = np.empty((R, N))
                for r, g in enumerate(beh_g):
                    noise[r] = g.standard_normal(N)
                violate = (log_gain + params.gain_noise * noise
                           > np.log(np.maximum(perceived * params.sanction, 1e-300)))
                # The draw.
                inspected = np.zeros((R, N), dtype=bool)
                for p in range(P):
                    keys = fill_rows(np.empty((R, N)), draw_g)
                    if overlap == "rotation":
                        keys += seen
                    if capped is not None:
                        keys[capped] = np.inf
                    if avoid:
                        keys[inspected] = np.inf
                    inspected |= select_by_stratum(keys, sid[p], quota)
                u = np.empty((R, N))
                for r, g in enumerate(beh_g):
                    u[r] = g.random(N)
                detected = violate & inspected & (u < det)
                off_check = inspected & (in_fixed | (arrays.offsite[None, :] & offsite_first))
                n_off = off_check.sum(axis=1)
                n_insp = inspected.sum(axis=1)
                tl["violators"][sl, t] = violate.sum(axis=1)
                tl["inspections"][sl, t] = n_insp
                tl["offsite"][sl, t] = n_off
                tl["onsite"][sl, t] = n_insp - n_off
                tl["detected"][sl, t] = detected.sum(axis=1)
                tl["inspector_days"][sl, t] = ((n_insp - n_off) * budget.onsite_inspector_days
                                               + n_off * budget.offsite_inspector_days)
                tl["special"][sl, t] = (cat == 0).sum(axis=1)
                tl["positive_list"][sl, t] = positive.sum(axis=1)
                tl["mean_perceived"][sl, t] = perceived.mean(axis=1)
                for c in range(3):
                    in_c = cat == c
                    bc["objects"][sl, t, c] = in_c.sum(axis=1)
                    bc["violators"][sl, t, c] = (violate & in_c).sum(axis=1)
                    bc["inspections"][sl, t, c] = (inspected & in_c).sum(axis=1)
                    bc["detected"][sl, t, c] = (detected & in_c).sum(axis=1)
                # State-dependent enforcement (Harrington 1988).
                if params.downgrade_steps:
                    credit = np.where(detected, np.minimum(credit + params.downgrade_steps, 3),
                                      credit).astype(np.int8)
                if params.remove_from_positive_list:
                    positive &= ~detected
                pen_now |= detected
                count_year += inspected
                bar.update(R)
            # Year end: a clean year earns one class back (not above the register's class).
            clean = ~pen_now
            clean_years = np.where(clean, clean_years + 1, 0).astype(np.int16)
            if params.recovery_years:
                up = (clean_years >= params.recovery_years) & (credit > arrays.credit[None, :])
                credit = np.where(up, credit - 1, credit).astype(np.int8)
                clean_years = np.where(up, 0, clean_years).astype(np.int16)
            pen_last = pen_now
            pen_now = np.zeros((R, N), dtype=bool)
            count_year[:] = 0
    bar.close()

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
    for k in ("objects", "violators", "inspections", "detected"):
        by_category[k] = bc[k].reshape(-1).astype(np.int64)
    settings = dict(replicates=replicates, years=years, seed=seed, overlap=overlap,
                    between_levels=policy.draw.between_levels, objects=N,
                    params=dataclasses.asdict(params))
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
