"""Quarterly quotas and inclusion probabilities (R3, R4): the one owner of strata.

A **drawing stratum** is one drawing unit x one quota rule (``xiongxian/key/all``): the
objects of the unit's drawing population in the rule's category and subset. Its quota is
``ceil(ratio x population)`` (R4: quotas round up; a 25 % quota of 7 objects is 2), or
``ceil(ratio x inspectors / periods)`` for a staff-ratio rule (Guangzhou). A quota above the
population is capped and flagged.

Credit classes (R3) are **inclusion probabilities, not sub-quotas**: every eligible object of
a stratum gets a target inclusion probability ``lambda`` proportional to its credit class's
base (the policy's ``credit_risk.weights``, or its per-class target ``credit_risk.ratios``),
scaled so that the probabilities of the stratum sum to the quota; classes whose ``lambda``
would reach 1 are taken with certainty and the rest rescaled (iterative capping,
:func:`inclusion_probabilities`). The official draw then fills the quota by Pareto order
sampling (Rosén 1997), so every R4 minimum is met exactly whenever enough objects are
eligible, and every eligible object has a positive chance. A rule that is not
credit-weighted gives every object of the stratum the same ``lambda = quota / eligible``.

With per-class target ratios (Hejian, Hebei, 2022: A 5 %, B 20 %, C and D 30 %) a stratum
draws ``max(rule minimum, ceil(sum over classes of ratio x objects))`` objects, and the
ratios are raised proportionally where the category minimum needs more.

The arithmetic is written for exact replay: ``N_c`` objects per class and base ``b_c`` in
class order A, B, C, D; ``mass = ((N_A*b_A + N_B*b_B) + N_C*b_C) + N_D*b_D`` over the classes
not yet certain, ``lambda_c = (n_rest * b_c) / mass`` in IEEE-754 double arithmetic; see
``docs/reference/draws.md`` (the algorithm section).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .categories import CATEGORY_ZH
from .labels import QUOTA_METHOD_ZH as METHOD_ZH  # noqa: F401  (the name importers use)
from .i18n import _
from .labels import SUBSET_ZH
from .periods import Quarter
from .policy import CREDIT_CLASSES, Policy, QuotaRule

#: Columns of the quota table (one row per drawing stratum); then per credit class ``c``:
#: ``population_c`` (objects), ``probability_c`` (inclusion probability lambda of each of
#: them, 0 where the class is empty) and ``expected_c`` (expected draws, population x lambda).
QUOTA_COLUMNS = [
    "quarter", "unit", "unit_name", "level", "category", "subset", "stratum",
    "population", "ratio", "quota", "method", "rule", "quota_rule", "credit_weighted", "flag",
]
CLASS_COLUMNS = [f"{kind}_{c}" for kind in ("population", "probability", "expected")
                 for c in CREDIT_CLASSES]

#: Columns of :func:`class_table` (one row per stratum x credit class).
CLASS_TABLE_COLUMNS = ["quarter", "unit", "unit_name", "level", "category", "subset",
                       "stratum", "quota_rule", "method", "credit_weighted", "credit_class",
                       "population", "probability", "expected"]



def ceil_quota(exact: float | np.ndarray) -> int | np.ndarray:
    """Round a quota up (R4), ignoring binary-fraction noise (``0.1 * 30`` is 3, not 4)."""
    if np.ndim(exact):
        return np.ceil(np.round(np.asarray(exact, dtype=float), 9)).astype(np.int64)
    return int(math.ceil(round(float(exact), 9)))


# --------------------------------------------------------------------------------------
# Inclusion probabilities
# --------------------------------------------------------------------------------------
def inclusion_probabilities(counts: np.ndarray, quota: np.ndarray | float,
                            bases: Sequence[float] | np.ndarray) -> np.ndarray:
    """Target inclusion probability per credit class of a stratum (iterative capping).

    Parameters
    ----------
    counts : array (..., 4)
        Eligible objects per credit class A-D (whole numbers in the draw; expected, fractional
        counts in the planner's estimate); leading axes are independent strata (e.g.
        replicates x strata in the simulation).
    quota : number or array (...)
        Objects to draw; ``min(quota, eligible)`` is used (fractional in the optimiser).
    bases : sequence of 4 floats, or array (..., 4)
        Relative weight (or target ratio) per class, all > 0.

    Returns
    -------
    ndarray (..., 4) of float
        ``lambda_c`` with ``sum(counts * lambda) == min(quota, sum(counts))`` up to rounding,
        every ``lambda_c`` in (0, 1] for a non-empty class, 0 for an empty one. For whole
        numbers the result is bit-identical to the scalar procedure of docs/reference/draws.md (same
        operations in the same order; sums of whole numbers are exact in doubles).
    """
    nf = np.asarray(counts, dtype=float)
    b = np.broadcast_to(np.asarray(bases, dtype=float), nf.shape)
    total = nf[..., 0]
    for j in range(1, nf.shape[-1]):
        total = total + nf[..., j]
    n = np.minimum(np.asarray(quota, dtype=float), total)
    present = nf > 0
    certain = np.zeros(nf.shape, dtype=bool)
    lam = np.zeros(nf.shape)
    for _step in range(nf.shape[-1] + 1):
        free = present & ~certain
        taken = np.where(certain, nf, 0.0)
        n_rest = n - taken.sum(axis=-1)
        terms = np.where(free, nf * b, 0.0)
        mass = terms[..., 0]
        for j in range(1, terms.shape[-1]):  # left to right, as the replay sums
            mass = mass + terms[..., j]
        safe = np.where(mass > 0, mass, 1.0)
        lam = np.where(free, (n_rest[..., None] * b) / safe[..., None], 0.0)
        new = free & (lam >= 1.0)
        if not new.any():
            break
        certain |= new
    return np.where(certain, 1.0, lam)


def class_bases(policy: Policy, rule: QuotaRule) -> tuple[float, ...]:
    """Relative inclusion weight of each credit class A-D under a quota rule: equal for a
    rule that is not credit-weighted, else the policy's per-class target ratios (when given)
    or its credit weights."""
    if not rule.credit_weighted:
        return (1.0,) * len(CREDIT_CLASSES)
    cr = policy.credit_risk
    source = cr.ratios if cr.ratios else cr.weights
    return tuple(float(source[c]) for c in CREDIT_CLASSES)


def stratum_quota(rule: QuotaRule, policy: Policy, class_counts: Sequence[int],
                  inspectors: int) -> tuple[int, str]:
    """Quota of one stratum and its flag (capped at the population)."""
    population = int(sum(class_counts))
    if rule.method == "offsite_full":
        return population, ""
    minimum = rule_minimum(rule, population, inspectors)
    cr = policy.credit_risk
    if rule.credit_weighted and cr.ratios:
        periods = 4 if cr.ratios_per == "year" else 1
        wanted = sum(n * cr.ratios[c] for n, c in zip(class_counts, CREDIT_CLASSES,
                                                      strict=True)) / periods
        minimum = max(minimum, ceil_quota(wanted))
    if minimum > population:
        return population, f"capped: minimum {minimum} exceeds the population of {population}"
    return minimum, ""


def rule_minimum(rule: QuotaRule, population: int, inspectors: int) -> int:
    """The minimum of a rule for one unit and quarter (before capping), rounded up."""
    periods = 4 if rule.per == "year" else 1
    if rule.basis == "share":
        return ceil_quota(rule.ratio * population / periods)
    return ceil_quota(rule.ratio * inspectors / periods)


# --------------------------------------------------------------------------------------
# Strata
# --------------------------------------------------------------------------------------
def stratum_label(rule: QuotaRule) -> str:
    """``"{category}/{subset}"``, e.g. ``key/all`` (with the unit: ``xiongxian/key/all``)."""
    return f"{rule.category}/{rule.subset}"


def subset_mask(frame: pd.DataFrame, rule: QuotaRule) -> pd.Series:
    """Objects of ``frame`` in the rule's category and subset."""
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


def unit_rules(policy: Policy, unit_id: str) -> list[QuotaRule]:
    """The quota rules of a unit's level, in policy order (its strata, in drawing order)."""
    level = policy.unit(unit_id).level
    return [r for r in policy.quotas.rules if r.level == level]


def active_inspectors(inspectors: pd.DataFrame | None, unit_id: str | None = None) -> pd.DataFrame:
    """Active, certified inspectors (of one unit, or all)."""
    if inspectors is None or not len(inspectors):
        return pd.DataFrame(columns=["inspector_id", "unit"])
    mask = inspectors["active"] & inspectors["certified"]
    if unit_id is not None:
        mask &= inspectors["unit"] == unit_id
    return inspectors[mask]


def quarterly_quotas(
    classified: pd.DataFrame,
    policy: Policy,
    quarter: str | Quarter,
    inspectors: pd.DataFrame | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Quota table of one quarter: one row per drawing stratum (unit x quota rule).

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
        Columns :data:`QUOTA_COLUMNS` + :data:`CLASS_COLUMNS`. ``ratio`` is quota /
        population (the rule's ratio where the stratum is empty); the per-class inclusion
        probabilities are the plan's, before any exclusion at draw time (the draw record
        holds the ones actually used).
    """
    q = Quarter.parse(quarter)
    # The deciding columns as arrays, once (no pandas indexing per unit and rule).
    unit_of = classified["unit"].to_numpy()
    category = classified["category"].to_numpy()
    positive = classified["positive_list"].to_numpy(dtype=bool)
    credit = pd.Index(CREDIT_CLASSES).get_indexer(classified["credit_class"])
    rows: list[dict] = []
    for unit in policy.units:
        if units is not None and unit.id not in units:
            continue
        own = (np.ones(len(unit_of), dtype=bool) if unit.draws_from == "all"
               else unit_of == unit.id)
        n_inspectors = len(active_inspectors(inspectors, unit.id))
        for rule in unit_rules(policy, unit.id):
            if rule.basis == "per_inspector" and inspectors is None:
                raise ValueError(_("quota rule {rule} needs the inspector register").format(
                    rule=rule.id))
            mask = own & (category == rule.category)
            if rule.subset == "positive_list":
                mask &= positive
            elif rule.subset == "not_positive_list":
                mask &= ~positive
            counts = np.bincount(credit[mask], minlength=len(CREDIT_CLASSES)).tolist()
            quota, flag = stratum_quota(rule, policy, counts, n_inspectors)
            population = int(sum(counts))
            lam = inclusion_probabilities(np.array(counts), quota, class_bases(policy, rule))
            row = dict(quarter=q.label, unit=unit.id, unit_name=unit.name, level=unit.level,
                       category=rule.category, subset=rule.subset, stratum=stratum_label(rule),
                       population=population,
                       ratio=round(quota / population, 6) if population else _nominal_ratio(rule),
                       quota=int(quota), method=rule.method, rule=rule.rule,
                       quota_rule=rule.id, credit_weighted=bool(rule.credit_weighted), flag=flag)
            for j, c in enumerate(CREDIT_CLASSES):
                row[f"population_{c}"] = int(counts[j])
                row[f"probability_{c}"] = float(lam[j])
                row[f"expected_{c}"] = float(counts[j] * lam[j])
            rows.append(row)
    return pd.DataFrame(rows, columns=QUOTA_COLUMNS + CLASS_COLUMNS)


def class_table(table: pd.DataFrame) -> pd.DataFrame:
    """The quota table per stratum x credit class: population, inclusion probability and
    expected draws of each class (R3's "different ratios for different classes")."""
    keep = [c for c in CLASS_TABLE_COLUMNS[:10] if c in table.columns]
    parts = []
    for c in CREDIT_CLASSES:
        part = table[keep].copy()
        part["credit_class"] = c
        part["population"] = table[f"population_{c}"].to_numpy()
        part["probability"] = table[f"probability_{c}"].to_numpy()
        part["expected"] = table[f"expected_{c}"].to_numpy()
        parts.append(part)
    if not parts or table.empty:
        return pd.DataFrame(columns=CLASS_TABLE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    order = {s: i for i, s in enumerate(zip(table["unit"], table["quota_rule"], strict=True))}
    out["_o"] = [order[k] for k in zip(out["unit"], out["quota_rule"], strict=True)]
    out = out.sort_values(["_o", "credit_class"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)[CLASS_TABLE_COLUMNS]


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
    weighted = random[random["credit_weighted"].astype(bool)]["quota"].sum()
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
            own = active_inspectors(inspectors, unit.id)
            yearly = 4 * int(table.loc[table["unit"] == unit.id, "quota"].sum())
            target = policy.workload.min_objects_per_inspector_per_year * len(own)
            checks.append(QuotaCheck(f"{unit.id}: yearly draws vs inspectors",
                                     policy.workload.rule, yearly, target, yearly >= target))
    return checks


def quota_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Quotas per unit and category (one row per stratum; expected draws per class)."""
    cols = ["unit", "unit_name", "category", "subset", "method", "population", "quota"]
    cols += [f"expected_{c}" for c in CREDIT_CLASSES]
    return table[cols].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Order sampling: uniforms and Pareto ranking keys
# --------------------------------------------------------------------------------------
#: Bits of a ticket that make its uniform: ``m`` = the first 52 bits (13 hex digits) of the
#: SHA-256 ticket, ``U = (2m + 1) / 2**53`` - exact in IEEE-754 doubles, never 0 or 1.
UNIFORM_BITS = 52


def ticket_uniform(ticket_hex: str) -> float:
    """The uniform ``U`` of one ticket (hex SHA-256): ``(2 * int(hex[:13], 16) + 1) / 2**53``."""
    return (2 * int(ticket_hex[:13], 16) + 1) / 2**53


def ticket_uniforms(digests: Sequence[bytes]) -> np.ndarray:
    """:func:`ticket_uniform` of many 32-byte digests at once (bit-identical)."""
    if not len(digests):
        return np.zeros(0)
    head = np.frombuffer(b"".join(d[:8] for d in digests), dtype=">u8")
    m = (head >> np.uint64(64 - UNIFORM_BITS)).astype(np.int64)
    return (2 * m + 1).astype(float) * 2.0**-53


def pareto_keys(u: np.ndarray | float, lam: np.ndarray | float) -> np.ndarray:
    """Pareto ranking key (Rosén 1997) ``Q = (U / (1 - U)) / (lambda / (1 - lambda))``.

    Objects with ``lambda >= 1`` are taken with certainty: their key is 0 (they rank first).
    The quota is filled by the smallest keys. Four IEEE-754 double operations, in this order:
    ``a = U / (1 - U)``, ``b = lambda / (1 - lambda)``, ``Q = a / b``.
    """
    u = np.asarray(u, dtype=float)
    lam = np.asarray(lam, dtype=float)
    sure = lam >= 1.0
    safe = np.where(sure, 0.5, lam)
    with np.errstate(divide="ignore"):
        q = (u / (1.0 - u)) / (safe / (1.0 - safe))
    return np.where(sure, 0.0, q)


def quota_summary_zh(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`quota_summary` with Chinese headers and labels, expected draws per class to two
    decimals (for notebooks and printing)."""
    s = quota_summary(table)
    out = pd.DataFrame({
        "单位": s["unit_name"], "类别": s["category"].map(CATEGORY_ZH),
        "范围": s["subset"].map(SUBSET_ZH), "方式": s["method"].map(METHOD_ZH),
        "对象数": s["population"], "抽查数": s["quota"],
    })
    for c in CREDIT_CLASSES:
        out[f"{c}类预期抽查数"] = s[f"expected_{c}"].round(2)
    return out
