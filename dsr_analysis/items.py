"""Inspection items (随机抽查事项清单, R1): which items apply to which objects, and the
warnings about items that can never be used.

An item applies to an object when its ``applies_to`` holds the object's industry or
:data:`~dsr_analysis.schema.ALL_INDUSTRIES` (``全部``; the register also reads 全部行业 and
所有行业 as it). The draw's staffing (:mod:`dsr_analysis.draw.staffing`) matches items by
this rule, on the item table its record stores.

:func:`item_warnings` finds what silently breaks a quarter's staffing: an item that matches
no enterprise any unit draws from (a misspelt industry, a GB/T 4754 name cut in two), and a
unit with objects of a category it must draw (a positive quota in the policy, R4) to which no
item applies - a drawn task needs an item, so such a draw cannot be staffed. They are
warnings, not errors: the registers are valid, and ``dsr validate`` prints them and exits 0.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

from .categories import CATEGORY_ZH, classify
from .errors import Problem
from .i18n import _
from .periods import Quarter
from .policy import Policy
from .quotas import drawing_population, quarterly_quotas, subset_mask, unit_rules
from .registers import Registers
from .schema import ALL_INDUSTRIES

#: Industries named in a message at most.
SHOWN_INDUSTRIES = 5


def item_applies(applies_to: Collection[str], industry: str) -> bool:
    """Whether an item of scope ``applies_to`` applies to an object of ``industry``."""
    return ALL_INDUSTRIES in applies_to or industry in applies_to


def _listed(names: Iterable[str]) -> str:
    names = sorted(set(names))
    shown = "、".join(f"“{n}”" for n in names[:SHOWN_INDUSTRIES])
    return shown + (_(" and {n} more").format(n=len(names) - SHOWN_INDUSTRIES)
                    if len(names) > SHOWN_INDUSTRIES else "")


def _near(names: Collection[str], industries: Collection[str]) -> list[str]:
    """Industries of the register that contain one of ``names`` or are contained in one
    (e.g. 电线 for 电线、电缆制造): likely what the item meant."""
    return sorted({i for i in industries for n in names if n and (n in i or i in n)})


def item_warnings(registers: Registers, policy: Policy,
                  quarter: str | Quarter | None = None) -> list[Problem]:
    """Warnings about the item register against the enterprises and the policy.

    Parameters
    ----------
    registers : Registers
        Validated registers.
    policy : Policy
        Its units (who draws from which objects) and quota rules (which categories a unit
        must draw).
    quarter : str or Quarter, optional
        Quarter of the quotas (default: the first of the policy's year).

    Returns
    -------
    list of Problem
        ``file:row:column: message`` warnings, items first (row = the item's row in the
        item register), then one per unit and category with objects no item applies to.
    """
    q = Quarter.parse(quarter) if quarter is not None else Quarter.parse(f"{policy.year}Q1")
    items = registers.items
    source = registers.sources.get("items", "items")
    rows = registers.rows.get("items", np.zeros(len(items), dtype=np.int64))
    classified = classify(registers.enterprises, policy)
    if any(u.draws_from == "all" for u in policy.units):
        reachable = classified["industry"]
    else:
        reachable = classified.loc[classified["unit"].isin([u.id for u in policy.units]),
                                   "industry"]
    industries = set(reachable.unique().tolist())
    warnings = []
    column = items.attrs.get("headers", {}).get("applies_to", "applies_to")
    for i, item in enumerate(items.itertuples(index=False)):
        scope = set(item.applies_to)
        if (ALL_INDUSTRIES in scope and industries) or scope & industries:
            continue
        near = _near(scope, industries)
        hint = _("; the register has {names}").format(names=_listed(near)) if near else ""
        warnings.append(Problem(
            source, int(rows[i]), column,
            _("item {item} ({name}) matches no enterprise of any unit: no enterprise any unit "
              "draws from has the industry {industries}{hint}").format(
                  item=item.item_id, name=item.name, industries=_listed(scope), hint=hint)))
    warnings.extend(_units_without_items(classified, registers, policy, q, source))
    return warnings


def _units_without_items(classified: pd.DataFrame, registers: Registers, policy: Policy,
                         q: Quarter, source: str) -> list[Problem]:
    """A warning per unit and category with a positive quota whose objects (some or all)
    have no applicable item of their own business (items without a partner department:
    those an ordinary task gets)."""
    own = registers.items[registers.items["department"] == ""]
    scopes = [set(s) for s in own["applies_to"]]
    covers_all = any(ALL_INDUSTRIES in s for s in scopes)
    covered = set().union(*scopes) if scopes else set()
    quotas = quarterly_quotas(classified, policy, q, registers.inspectors)
    warnings = []
    column = registers.items.attrs.get("headers", {}).get("applies_to", "applies_to")
    for unit in policy.units:
        population = drawing_population(classified, policy, unit.id)
        mine = quotas[(quotas["unit"] == unit.id) & (quotas["quota"] > 0)]
        for category in dict.fromkeys(mine["category"]):
            strata = set(mine.loc[mine["category"] == category, "quota_rule"])
            mask = np.zeros(len(population), dtype=bool)
            for rule in unit_rules(policy, unit.id):
                if rule.id in strata:
                    mask |= subset_mask(population, rule).to_numpy()
            objects = population[mask]
            if covers_all or not len(objects):
                continue
            lacking = objects[~objects["industry"].isin(covered)]
            if not len(lacking):
                continue
            quota = int(mine.loc[mine["category"] == category, "quota"].sum())
            message = (_("unit {unit} ({unit_name}) must draw {quota} {category_zh} "
                         "({category}) objects in {quarter}, but no item applies to any of its "
                         "{objects} {category} objects (industries {industries}): a drawn task "
                         "needs an item, so such a draw cannot be staffed; add an item for these "
                         "industries or 全部") if len(lacking) == len(objects) else
                       _("unit {unit} ({unit_name}) must draw {quota} {category_zh} "
                         "({category}) objects in {quarter}, but no item applies to {lacking} of "
                         "its {objects} {category} objects (industries {industries}): a drawn "
                         "task needs an item, so such a draw cannot be staffed; add an item for "
                         "these industries or 全部"))
            warnings.append(Problem(
                source, 0, column,
                message.format(unit=unit.id, unit_name=unit.name, quota=quota,
                               category_zh=CATEGORY_ZH.get(category, category), category=category,
                               quarter=q.label, quarter_zh=q.label_zh, objects=len(objects),
                               lacking=len(lacking),
                               industries=_listed(lacking["industry"]))))
    return warnings
