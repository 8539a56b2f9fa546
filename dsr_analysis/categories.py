"""Categories (R2): special / key / general from the policy's conditions.

Every condition is a vectorised test on one enterprise column. Where several categories'
conditions hold, the policy's ``precedence`` decides (the plan's conflict rule: special and
general designations win over key). ``category_reason`` names the deciding condition, its
rule id, and any designation it overrode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .policy import CATEGORIES, Condition, Policy

from .labels import CATEGORY_ZH  # noqa: F401  (the name importers use)


def condition_mask(enterprises: pd.DataFrame, cond: Condition) -> np.ndarray:
    """Boolean array: which enterprises meet ``cond``."""
    col = enterprises[cond.field]
    if cond.op == "is_true":
        return col.astype(bool).to_numpy()
    if cond.op == "is_false":
        return ~col.astype(bool).to_numpy()
    if cond.op == "in":
        return col.isin(list(cond.value)).to_numpy()
    if cond.op == "ge":
        return (col >= cond.value).to_numpy()
    if cond.op == "le":
        return (col <= cond.value).to_numpy()
    if cond.op == "eq":
        return (col == cond.value).to_numpy()
    raise ValueError(cond.op)  # pragma: no cover - the loader rejects other ops


def _describe(cond: Condition) -> str:
    return f"{cond.label} ({cond.id}, {cond.rule})"


def classify(enterprises: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Assign a category to every enterprise.

    Parameters
    ----------
    enterprises : DataFrame
        Validated enterprise register.
    policy : Policy
        Supplies the conditions, their precedence and the default category.

    Returns
    -------
    DataFrame
        A copy with ``category`` (special / key / general) and ``category_reason``.
    """
    n = len(enterprises)
    cats = policy.categories
    # First matching condition per category (in file order) and its description.
    first: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for category in CATEGORIES:
        met = np.zeros(n, dtype=bool)
        reason = np.full(n, "", dtype=object)
        for cond in (c for c in cats.conditions if c.category == category):
            mask = condition_mask(enterprises, cond) & ~met
            reason[mask] = _describe(cond)
            met |= mask
        first[category] = (met, reason)

    category = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    decided = np.zeros(n, dtype=bool)
    for cat in cats.precedence:
        met, why = first[cat]
        take = met & ~decided
        category[take] = cat
        reason[take] = np.char.add(f"{cat}: ", why[take].astype(str)).astype(object) if take.any() else reason[take]
        decided |= take
    rest = ~decided
    category[rest] = cats.default
    reason[rest] = f"{cats.default}: no designating condition met (default, {cats.rule})"
    # Name what the conflict rule overrode.
    for cat in CATEGORIES:
        met, why = first[cat]
        overridden = met & (category != cat)
        if overridden.any():
            suffix = np.char.add(f"; overrides {cat}: ", why[overridden].astype(str))
            reason[overridden] = np.char.add(
                reason[overridden].astype(str), np.char.add(suffix, f" [{cats.rule} conflict rule]")
            ).astype(object)
    out = enterprises.copy()
    out["category"] = category
    out["category_reason"] = reason
    return out
