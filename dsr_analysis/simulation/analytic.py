"""The analytic form of the drawing design: the planner's expected coverage (R3, R4, R6).

A deterministic recursion over the quarters of a year that follows the official draw step by
step, on **groups** of objects instead of objects (no loop over objects; loops over quarters,
units, strata, rounds and the four credit classes only):

* units draw in :func:`dsr_analysis.overlap.drawing_order` (the counties, then the area level);
  a unit's strata are the rows of the quota table (:func:`dsr_analysis.quotas.quarterly_quotas`);
* every group carries a **state distribution**: the share of its objects with ``i`` checks by
  its county and ``j`` checks by the area level earlier this year, and whether its county drew
  it this quarter (``d``). The county's checks of the current quarter are added when the
  quarter ends: as in :func:`dsr_analysis.draw.draw_quarter`, a unit's earlier checks are those
  of earlier draws, so the area level does not count what its county drew in the same draw
  (it only excludes it under ``avoid``);
* **exclusions come first** (:class:`~dsr_analysis.overlap.OverlapRules`): the yearly cap
  excludes states whose counted checks (scope ``unit``: the drawing level's own; scope
  ``all_levels``: both levels') reach the cap (never for full off-site coverage); ``avoid``
  excludes, from the area level's strata, the share of each group its county drew this
  quarter (``d = 1``); ``merge`` excludes nothing;
* the **inclusion probability** ``lambda`` of each credit class is
  :func:`dsr_analysis.quotas.inclusion_probabilities` on the stratum's *expected* eligible
  objects per class (fractional counts are passed exactly enough, see
  :func:`dsr_analysis.quotas.inclusion_probabilities` on fractional counts), with the class bases
  :func:`dsr_analysis.quotas.class_bases`;
* the draw fills ``min(quota, eligible)``: without rotation every eligible object of class
  ``c`` is drawn with probability ``lambda_c``; under **rotation** the quota goes to the
  rounds (earlier checks that count) in order, a round that cannot be taken whole gets what is
  left, shared as Pareto order sampling shares it: odds ``t x lambda_c / (1 - lambda_c)`` with
  one ``t`` per round so the round's expected draws equal what is left (objects with
  ``lambda = 1`` first; objects of a class with ``lambda = 0`` only when the others are
  exhausted, as their Pareto key is infinite).

Outputs (:class:`AnalyticResult`): per group the yearly coverage (share drawn at least once by
any unit), expected draws per object (county, area, total) and per stratum and quarter the
expected eligible objects, the expected draws achieved and the ``lambda`` used, so the planner
can tell a minimum the draw would miss because a stratum runs out after the exclusions.

The recursion is exact in its bookkeeping; its approximations are (1) ``lambda`` is computed
on expected rather than realised eligible counts and (2) Pareto sampling's inclusion
probabilities are taken as their large-stratum limit. Both are small for strata of more than
a handful of objects; ``tests/test_planner.py`` compares the result with the coverage engine
(:func:`dsr_analysis.simulation.coverage.simulate_coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..overlap import LEVEL_CODE, OverlapRules, drawing_order
from ..policy import CREDIT_CLASSES, Policy
from ..quotas import (class_bases, drawing_population, inclusion_probabilities, subset_mask,
                     unit_rules)

QUARTERS_PER_YEAR = 4

#: Columns a group table must have (one row per group of interchangeable objects).
GROUP_COLUMNS = ["unit", "category", "positive_list", "credit_class", "offsite_capable", "n"]


_TINY = 1e-12


def group_objects(classified: pd.DataFrame) -> pd.DataFrame:
    """Groups of a classified register: own unit x category x positive list x credit class x
    off-site capability, with the number of objects ``n`` (sorted, index 0..G-1)."""
    cols = GROUP_COLUMNS[:-1]
    keys = classified[cols].astype({"positive_list": bool, "offsite_capable": bool})
    return keys.groupby(cols, sort=True).size().rename("n").reset_index()


def pareto_share(mass: np.ndarray, lam: np.ndarray, n: float) -> np.ndarray:
    """Probability per class that an object of a round is drawn when ``n`` (< the round's
    objects) draws are left for it, under Pareto order sampling with targets ``lam``.

    ``mass``: expected objects of the round per class. Certain objects (``lam >= 1``, key 0)
    first, then the others with odds ``t x lam / (1 - lam)`` for the ``t`` that makes the
    expected draws ``n`` (Newton's method from below; the function is concave), then objects
    with ``lam = 0`` (infinite key) share what remains.
    """
    mass = np.asarray(mass, dtype=float)
    lam = np.asarray(lam, dtype=float)
    p = np.zeros_like(mass)
    has = mass > _TINY
    sure = has & (lam >= 1.0)
    c = float(mass[sure].sum())
    if c >= n:
        p[sure] = n / c if c > 0 else 0.0
        return p
    p[sure] = 1.0
    rest = n - c
    free = has & (lam > 0.0) & (lam < 1.0)
    f_mass = float(mass[free].sum())
    if f_mass <= rest:
        p[free] = 1.0
        rest -= f_mass
        zero = has & (lam <= 0.0)
        z = float(mass[zero].sum())
        if z > 0:
            p[zero] = min(1.0, rest / z)
        return p
    m = mass[free]
    o = lam[free] / (1.0 - lam[free])
    t = rest / float((m * o).sum())         # a lower bound: x / (1 + x) <= x
    for _ in range(100):
        x = t * o
        val = float((m * x / (1.0 + x)).sum())
        gap = rest - val
        if gap <= 1e-13 * max(rest, 1.0):
            break
        t += gap / float((m * o / (1.0 + x) ** 2).sum())
    x = t * o
    p[free] = x / (1.0 + x)
    return p


def fill_quota(mass_rc: np.ndarray, lam: np.ndarray, quota: float, rotation: bool
               ) -> np.ndarray:
    """Draw probability per (round, class) of a stratum's eligible objects.

    ``mass_rc``: expected eligible objects per rotation round (earlier checks that count) and
    credit class; ``lam``: the stratum's inclusion probabilities per class. Fills
    ``min(quota, eligible)`` draws: without rotation every round alike with ``lam``; under
    rotation round by round, the first round that cannot be taken whole sharing what is left
    (:func:`pareto_share`).
    """
    rounds = mass_rc.shape[0]
    prob = np.zeros_like(mass_rc)
    total = float(mass_rc.sum())
    remaining = min(float(quota), total)
    if remaining <= _TINY:
        return prob
    if not rotation:
        share = pareto_share(mass_rc.sum(axis=0), lam, remaining) if (
            (lam <= 0) & (mass_rc.sum(axis=0) > _TINY)).any() else np.asarray(lam, dtype=float)
        prob[:] = share
        return prob
    for r in range(rounds):
        m = mass_rc[r]
        tot = float(m.sum())
        if tot <= _TINY:
            continue
        if tot <= remaining * (1 + 1e-12):
            prob[r] = np.where(m > _TINY, 1.0, 0.0)
            remaining -= tot
            if remaining <= _TINY:
                break
            continue
        prob[r] = pareto_share(m, lam, remaining)
        break
    return prob


@dataclass(frozen=True)
class AnalyticResult:
    """The analytic estimate of one year of draws.

    Attributes
    ----------
    groups : DataFrame
        The input groups with ``coverage`` (share of the group's objects drawn at least once in
        the year by any unit), ``draws`` (expected draws per object and year, every unit's
        tasks counted: a merged joint visit is two draws), ``draws_county``, ``draws_area``.
    strata : DataFrame
        One row per quarter (1..4) x stratum (in drawing order): ``row`` (quota-table row), ``unit``,
        ``unit_name``, ``level``, ``quota_rule``, ``stratum``, ``category``, ``subset``,
        ``method``, ``population``, ``quota``, ``eligible`` (expected eligible objects after
        the exclusions), ``drawn`` (expected draws achieved, ``min(quota, eligible)``; all
        eligible for full off-site coverage), ``eligible_A..D`` and ``probability_A..D``
        (``lambda`` used at draw time).
    membership : DataFrame
        One row per stratum x group: ``row`` (quota-table row), ``unit`` (drawing unit),
        ``level``, ``method``, ``group``, ``n``, ``offsite_capable``, ``draws`` (expected
        draws of the group's objects in the stratum over the year, all objects together).
    quarters : int
    """

    groups: pd.DataFrame
    strata: pd.DataFrame
    membership: pd.DataFrame
    quarters: int


def stratum_membership(groups: pd.DataFrame, policy: Policy, table: pd.DataFrame
                       ) -> pd.DataFrame:
    """Which groups each quota-table row (unit x quota rule) draws from.

    The stratum rules of :mod:`dsr_analysis.quotas` (:func:`~dsr_analysis.quotas.drawing_population`,
    :func:`~dsr_analysis.quotas.subset_mask`) applied to the group table. Returns one row per
    (table row, group): ``row``, ``unit``, ``level``, ``method``, ``group``, ``n``,
    ``offsite_capable``.
    """
    index = {key: i for i, key in enumerate(zip(table["unit"], table["quota_rule"], strict=True))}
    frame = groups.reset_index(drop=True)
    parts = []
    for unit in policy.units:
        pop = drawing_population(frame, policy, unit.id)
        for rule in unit_rules(policy, unit.id):
            row = index.get((unit.id, rule.id))
            if row is None:
                continue
            g = pop.index[subset_mask(pop, rule).to_numpy()].to_numpy()
            parts.append(pd.DataFrame({"row": row, "unit": unit.id, "level": unit.level,
                                       "method": rule.method, "group": g}))
    m = (pd.concat(parts, ignore_index=True) if parts
         else pd.DataFrame(columns=["row", "unit", "level", "method", "group"]))
    m["group"] = m["group"].astype(np.int64)
    m["n"] = frame["n"].to_numpy()[m["group"]]
    m["offsite_capable"] = frame["offsite_capable"].to_numpy(dtype=bool)[m["group"]]
    return m


def analytic_year(groups: pd.DataFrame, policy: Policy, table: pd.DataFrame,
                  rules: OverlapRules | None = None, quarters: int = QUARTERS_PER_YEAR
                  ) -> AnalyticResult:
    """Expected coverage and draws of a year of quarterly draws (the recursion above).

    Parameters
    ----------
    groups : DataFrame
        Groups of objects (:data:`GROUP_COLUMNS`, e.g. from :func:`group_objects`).
    policy : Policy
        Units, quota rules (credit bases) and, by default, the overlap rules.
    table : DataFrame
        Quota table of one quarter (:func:`dsr_analysis.quotas.quarterly_quotas` on the same
        register); used for every quarter.
    rules : OverlapRules, optional
        Overlap settings (default :meth:`OverlapRules.from_policy`).
    quarters : int
        Quarters of the year (4).
    """
    rules = rules or OverlapRules.from_policy(policy)
    groups = groups.reset_index(drop=True)
    n = groups["n"].to_numpy(dtype=float)
    cls = groups["credit_class"].map({c: i for i, c in enumerate(CREDIT_CLASSES)}
                                     ).to_numpy(dtype=np.int64)
    membership = stratum_membership(groups, policy, table)
    strata = analytic_strata(policy, table, membership, rules, quarters)
    S = quarters + 1                                   # 0..quarters checks per level
    pi = np.zeros((len(groups), S, S, 2))
    pi[:, 0, 0, 0] = 1.0
    draws = np.zeros((2, len(groups)))
    member_draws = {s["row"]: np.zeros(len(s["groups"])) for s in strata}
    out_rows = []
    for q in range(quarters):
        for s in strata:
            gi = s["groups"]
            moved, e_c, lam, drawn = expected_stratum_draw(s, pi[gi], n[gi], cls[gi],
                                                           rules.mode == "rotation")
            per_group = moved.sum(axis=(1, 2, 3))
            draws[LEVEL_CODE[s["level"]], gi] += per_group
            member_draws[s["row"]] += per_group * n[gi]
            pi[gi] = _after_draw(pi[gi], moved, s["level"])
            out_rows.append(_stratum_row(table.iloc[s["row"]], s, q + 1, e_c, lam, drawn))
        # Quarter ends: the county's draws of this quarter become earlier checks.
        pi[:, 1:, :, 0] += pi[:, :-1, :, 1]
        pi[:, -1, :, 0] += pi[:, -1, :, 1]
        pi[..., 1] = 0.0

    result = groups.copy()
    result["coverage"] = np.clip(1.0 - pi[:, 0, 0, 0], 0.0, 1.0)
    result["draws_county"] = draws[LEVEL_CODE["county"]]
    result["draws_area"] = draws[LEVEL_CODE["area"]]
    result["draws"] = draws.sum(axis=0)
    membership = membership.copy()
    membership["draws"] = 0.0
    for r, grp in membership.groupby("row", sort=False):
        if r in member_draws:
            membership.loc[grp.index, "draws"] = member_draws[r]
    return AnalyticResult(groups=result, strata=pd.DataFrame(out_rows), membership=membership,
                          quarters=quarters)


def analytic_strata(policy: Policy, table: pd.DataFrame, membership: pd.DataFrame,
                    rules: OverlapRules, quarters: int = QUARTERS_PER_YEAR) -> list[dict]:
    """The quota table's strata in drawing order (:func:`dsr_analysis.overlap.drawing_order`),
    each with its groups, which states (county checks, area checks, drawn by the county this
    quarter) are eligible under the overlap rules, and the rotation round of each state."""
    S = quarters + 1
    c1 = np.arange(S)[:, None, None]
    c2 = np.arange(S)[None, :, None]
    dd = np.arange(2)[None, None, :]
    counted = {"county": np.broadcast_to(c1, (S, S, 2)), "area": np.broadcast_to(c2, (S, S, 2))}
    if rules.scope == "all_levels":
        both = np.broadcast_to(c1 + c2, (S, S, 2))
        counted = {"county": both, "area": both}
    n_rounds = 2 * quarters + 1
    rule_of = {r.id: r for r in policy.quotas.rules}
    order = drawing_order(policy)
    rows_of: dict[str, list[int]] = {u: [] for u in order}
    for i, u in enumerate(table["unit"]):
        if u in rows_of:
            rows_of[u].append(i)
    by_row = {r: grp["group"].to_numpy() for r, grp in membership.groupby("row", sort=False)}
    level_of = {u.id: u.level for u in policy.units}
    strata = []
    for u in order:
        for r in rows_of[u]:
            rec = table.iloc[r]
            rule = rule_of[rec["quota_rule"]]
            level = level_of[u]
            elig = np.ones((S, S, 2), dtype=bool)
            if rules.capped("routine", rule.method):
                elig &= counted[level] < rules.yearly_cap
            if rules.avoids(level):
                elig &= np.broadcast_to(dd == 0, (S, S, 2))
            rnd = (counted[level] if rules.mode == "rotation"
                   else np.zeros((S, S, 2), dtype=np.int64))
            strata.append(dict(row=r, unit=u, level=level, method=rule.method,
                               quota=float(rec["quota"]), bases=class_bases(policy, rule),
                               groups=by_row.get(r, np.zeros(0, dtype=np.int64)),
                               eligible=elig, rounds=np.minimum(rnd, n_rounds - 1),
                               n_rounds=n_rounds))
    return strata


def expected_stratum_draw(s: dict, P: np.ndarray, n: np.ndarray, cls: np.ndarray,
                          rotation: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One stratum's draw in expectation: the share of each group's state moved by the draw,
    the expected eligible objects per class, lambda per class and the expected draws.

    ``P``: the stratum's groups' state distributions; ``n``, ``cls``: their sizes and classes.
    """
    n_rounds = s["n_rounds"]
    w = n[:, None, None, None] * P * s["eligible"][None]
    idx = s["rounds"][None] * 4 + cls[:, None, None, None]
    mass_rc = np.bincount(np.broadcast_to(idx, w.shape).ravel(), weights=w.ravel(),
                          minlength=n_rounds * 4).reshape(n_rounds, 4)
    e_c = mass_rc.sum(axis=0)
    eligible = float(e_c.sum())
    if s["method"] == "offsite_full":
        lam = np.where(e_c > _TINY, 1.0, 0.0)
        prob = np.where(mass_rc > _TINY, 1.0, 0.0)
        drawn = eligible
    else:
        lam = inclusion_probabilities(e_c, s["quota"], s["bases"])
        prob = fill_quota(mass_rc, lam, s["quota"], rotation)
        drawn = min(s["quota"], eligible)
    p_state = prob[s["rounds"][None], cls[:, None, None, None]] * s["eligible"][None]
    return P * p_state, e_c, lam, drawn


def _after_draw(P: np.ndarray, moved: np.ndarray, level: str) -> np.ndarray:
    """Group states after a stratum's draw: a county draw marks "drawn by its county this
    quarter"; an area draw adds one area check."""
    new = P - moved
    if level == "county":
        new[..., 1] += moved[..., 0]           # drawn by its county this quarter
        new[..., 1] += moved[..., 1]           # (a second county stratum: still drawn)
    else:
        new[:, :, 1:, :] += moved[:, :, :-1, :]
        new[:, :, -1, :] += moved[:, :, -1, :]
    return new


def _stratum_row(rec: pd.Series, s: dict, quarter: int, e_c: np.ndarray, lam: np.ndarray,
                 drawn: float) -> dict:
    row = dict(quarter=quarter, row=s["row"], unit=s["unit"], unit_name=rec["unit_name"],
               level=s["level"], quota_rule=rec["quota_rule"], stratum=rec["stratum"],
               category=rec["category"], subset=rec["subset"], method=s["method"],
               population=int(rec["population"]), quota=int(rec["quota"]),
               eligible=float(e_c.sum()), drawn=drawn)
    for j, c in enumerate(CREDIT_CLASSES):
        row[f"eligible_{c}"] = float(e_c[j])
    for j, c in enumerate(CREDIT_CLASSES):
        row[f"probability_{c}"] = float(lam[j])
    return row


def achieved_minimum(result: AnalyticResult) -> pd.DataFrame:
    """Per stratum (unit x quota rule): the quota and the smallest expected draws achieved in
    any quarter (``drawn_min``), with the quarter it happens in."""
    s = result.strata
    if s.empty:
        return pd.DataFrame(columns=["unit", "quota_rule", "quota", "drawn_min",
                                     "eligible_min", "quarter_min"])
    idx = s.groupby(["unit", "quota_rule"], sort=False)["drawn"].idxmin()
    worst = s.loc[idx, ["unit", "quota_rule", "quota", "drawn", "eligible", "quarter"]]
    return worst.rename(columns={"drawn": "drawn_min", "eligible": "eligible_min",
                                 "quarter": "quarter_min"}).reset_index(drop=True)


__all__ = ["AnalyticResult", "GROUP_COLUMNS", "achieved_minimum", "analytic_year",
           "fill_quota", "group_objects", "pareto_share",
           "stratum_membership"]
