"""Quarterly quotas (R3, R4): how many objects each unit draws from each stratum.

A stratum is (drawing unit, category, subset, credit class). For each quota rule of the
policy the unit's minimum for the category is ``ceil(ratio x population)`` (R4: quotas round
up; a 25 % quota of 7 objects is 2), or ``ceil(ratio x inspectors / periods)`` for a
staff-ratio rule (Guangzhou). Where the rule is credit-weighted (R3), that minimum is shared
out across credit classes in proportion to ``population x weight`` (largest remainders, no
class above its population), so the category minimum is met exactly and riskier classes are
drawn at higher ratios. Empty strata get 0; a quota above its population is capped and
flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .periods import Quarter
from .policy import CREDIT_CLASSES, Policy, QuotaRule

QUOTA_COLUMNS = [
    "quarter", "unit", "unit_name", "level", "category", "subset", "credit_class",
    "population", "ratio", "quota", "method", "rule", "quota_rule", "flag",
]

METHOD_ZH = {"random": "随机抽取", "offsite_full": "非现场全覆盖"}
SUBSET_ZH = {"all": "全部", "positive_list": "正面清单", "not_positive_list": "除正面清单外"}


def allocate(total: int, populations: Sequence[int], weights: Sequence[float]) -> np.ndarray:
    """Share ``total`` draws across classes in proportion to population x weight.

    No class gets more than its population (the excess flows to the others); integer shares
    by largest remainder, ties to the class with the larger weight, then the later class
    (D before A). ``total`` must not exceed ``sum(populations)``.

    Returns
    -------
    numpy.ndarray of int
    """
    pop = np.asarray(populations, dtype=float)
    w = np.asarray(weights, dtype=float) * (pop > 0)
    if total <= 0 or pop.sum() == 0:
        return np.zeros(len(pop), dtype=int)
    if total > pop.sum():
        raise ValueError(f"cannot allocate {total} draws over {int(pop.sum())} objects")
    if w.sum() == 0:  # every weight zero: fall back to proportional shares
        w = (pop > 0).astype(float)
    capped = np.zeros(len(pop), dtype=bool)
    ideal = np.zeros(len(pop))
    remaining = float(total)
    while True:
        free = ~capped
        mass = (pop * w)[free].sum()
        ideal[free] = remaining * (pop * w)[free] / mass if mass > 0 else 0.0
        over = free & (ideal > pop)
        if not over.any():
            break
        ideal[over] = pop[over]
        capped |= over
        remaining = total - ideal[capped].sum()
    base = np.floor(ideal + 1e-9).astype(int)
    base = np.minimum(base, pop.astype(int))
    left = total - int(base.sum())
    order = sorted(
        range(len(pop)),
        key=lambda i: (-(ideal[i] - base[i]), -w[i], -i),
    )
    for i in order:
        if left == 0:
            break
        if base[i] < pop[i]:
            base[i] += 1
            left -= 1
    return base


def _subset_mask(frame: pd.DataFrame, rule: QuotaRule) -> pd.Series:
    mask = frame["category"] == rule.category
    if rule.subset == "positive_list":
        mask &= frame["positive_list"]
    elif rule.subset == "not_positive_list":
        mask &= ~frame["positive_list"]
    return mask


def drawing_population(classified: pd.DataFrame, policy: Policy, unit_id: str) -> pd.DataFrame:
    """Objects a unit draws from: all objects (``draws_from: all``) or its own."""
    unit = policy.unit(unit_id)
    if unit.draws_from == "all":
        return classified
    return classified[classified["unit"] == unit_id]


def rule_minimum(rule: QuotaRule, population: int, inspectors: int) -> int:
    """The unrounded-up minimum of a rule for one unit and quarter (before capping)."""
    periods = 4 if rule.per == "year" else 1
    if rule.basis == "share":
        exact = rule.ratio * population / periods
    else:
        exact = rule.ratio * inspectors / periods
    # Guard against binary fractions such as 0.1 * 30 = 3.0000000000000004.
    return int(math.ceil(round(exact, 9)))


def quarterly_quotas(
    classified: pd.DataFrame,
    policy: Policy,
    quarter: str | Quarter,
    inspectors: pd.DataFrame | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Quota table of one quarter.

    Parameters
    ----------
    classified : DataFrame
        Enterprise register with ``category`` (see :func:`dsr_analysis.categories.classify`).
    policy : Policy
    quarter : str or Quarter
        ``2023Q1``.
    inspectors : DataFrame, optional
        Inspector register; needed for staff-ratio rules (active, certified inspectors of
        the unit).
    units : sequence of str, optional
        Restrict to these drawing units (default: all units of the policy).

    Returns
    -------
    DataFrame
        One row per unit x quota rule x credit class (or ``all`` where the rule is not
        credit-weighted), columns :data:`QUOTA_COLUMNS`. ``ratio`` is the effective
        share of the stratum drawn (quota / population; the rule's ratio where the
        stratum is empty).
    """
    q = Quarter.parse(quarter)
    weights = [policy.credit_risk.weights[c] for c in CREDIT_CLASSES]
    rows: list[dict] = []
    for unit in policy.units:
        if units is not None and unit.id not in units:
            continue
        pop_frame = drawing_population(classified, policy, unit.id)
        n_inspectors = 0
        if inspectors is not None and len(inspectors):
            own = inspectors[(inspectors["unit"] == unit.id) & inspectors["active"]
                             & inspectors["certified"]]
            n_inspectors = len(own)
        for rule in policy.quotas.rules:
            if rule.level != unit.level:
                continue
            sub = pop_frame[_subset_mask(pop_frame, rule)]
            population = len(sub)
            if rule.basis == "per_inspector" and inspectors is None:
                raise ValueError(f"quota rule {rule.id} needs the inspector register")
            if rule.method == "offsite_full":
                minimum = population
            else:
                minimum = rule_minimum(rule, population, n_inspectors)
            flag = ""
            if minimum > population:
                flag = f"capped: minimum {minimum} exceeds the population of {population}"
                minimum = population
            base = dict(quarter=q.label, unit=unit.id, unit_name=unit.name, level=unit.level,
                        category=rule.category, subset=rule.subset, method=rule.method,
                        rule=rule.rule, quota_rule=rule.id, flag=flag)
            if rule.credit_weighted:
                counts = sub["credit_class"].value_counts()
                pops = [int(counts.get(c, 0)) for c in CREDIT_CLASSES]
                shares = allocate(minimum, pops, weights)
                for c, p, s in zip(CREDIT_CLASSES, pops, shares, strict=True):
                    rows.append({**base, "credit_class": c, "population": p,
                                 "ratio": round(s / p, 6) if p else _nominal_ratio(rule),
                                 "quota": int(s)})
            else:
                rows.append({**base, "credit_class": "all", "population": population,
                             "ratio": round(minimum / population, 6) if population
                             else _nominal_ratio(rule),
                             "quota": int(minimum)})
    table = pd.DataFrame(rows, columns=QUOTA_COLUMNS)
    return table


def _nominal_ratio(rule: QuotaRule) -> float:
    if rule.method == "offsite_full":
        return 1.0
    return rule.ratio if rule.basis == "share" else 0.0


@dataclass(frozen=True)
class QuotaCheck:
    """A plan-level check on a quota table.

    Attributes
    ----------
    check : str
        What is checked.
    rule : str
        Rule id.
    value : float
        Measured value.
    target : float
        Required value.
    met : bool
    """

    check: str
    rule: str
    value: float
    target: float
    met: bool


def credit_share(table: pd.DataFrame, policy: Policy) -> float:
    """Share of random draws that use the credit-risk classes (R3).

    Full off-site coverage of the positive list is not a random draw and is not counted;
    a quarter with no random draws has share 1.0.
    """
    random = table[table["method"] == "random"]
    total = random["quota"].sum()
    if total == 0:
        return 1.0
    weighted = random[random["credit_class"] != "all"]["quota"].sum()
    return float(weighted / total)


def quota_checks(
    table: pd.DataFrame, policy: Policy, inspectors: pd.DataFrame | None = None
) -> list[QuotaCheck]:
    """Plan-level checks on a quarter's quota table: credit-risk share (R3) and, where the
    policy has one, the yearly workload per inspector."""
    share = credit_share(table, policy)
    checks = [QuotaCheck("credit-risk share of random draws", policy.credit_risk.rule,
                         share, policy.credit_risk.min_share,
                         share + 1e-12 >= policy.credit_risk.min_share)]
    if policy.workload is not None and inspectors is not None:
        for unit in policy.units:
            own = inspectors[(inspectors["unit"] == unit.id) & inspectors["active"]
                             & inspectors["certified"]]
            yearly = 4 * int(table.loc[table["unit"] == unit.id, "quota"].sum())
            target = policy.workload.min_objects_per_inspector_per_year * len(own)
            checks.append(QuotaCheck(f"{unit.id}: yearly draws vs inspectors",
                                     policy.workload.rule, yearly, target, yearly >= target))
    return checks


def quota_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Quotas per unit and category (credit classes summed)."""
    return (table.groupby(["unit", "unit_name", "category", "subset", "method"], sort=False)
            [["population", "quota"]].sum().reset_index())
