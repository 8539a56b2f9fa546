"""Coverage: the closed forms of a stratum's yearly coverage under each overlap control, the
coverage gaps a plan leaves, and the coverage per unit and category the page shows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..i18n import _
from ..labels import CATEGORY_ZH, SUBSET_ZH
from ..policy import CREDIT_CLASSES, Policy
from ..simulation.analytic import AnalyticResult
from .settings import OVERLAP_MODES, QUARTERS_PER_YEAR

def overlap_coverage(
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
        raise ParameterError(_("overlap: {value!r} is not one of {modes}").format(
            value=overlap, modes=", ".join(OVERLAP_MODES)))
    cap = int(yearly_cap)
    share = np.zeros((cap + 1,) + p.shape)   # share of objects with 0..cap draws
    share[0] = 1.0
    draws = np.zeros_like(p)
    for _quarter in range(quarters):
        eligible = share[:cap].sum(axis=0)
        q = np.divide(p, eligible, out=np.zeros_like(p), where=eligible > 0)
        q = np.minimum(q, 1.0)
        moved = share[:cap] * q
        share[:cap] -= moved
        share[1:] += moved
        draws += q * eligible
    return 1.0 - share[0], draws


GAP_COLUMNS = ["kind", "unit", "unit_name", "category", "subset", "credit_class", "objects",
               "coverage", "drawing_unit", "reason", "message"]


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


__all__ = ["GAP_COLUMNS", "coverage_gaps", "draw_shortfalls",
           "overlap_coverage"]
