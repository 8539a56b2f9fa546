"""Two plans side by side: quotas, inspector-days, coverage, deterrence, the minimums and
the controls, aligned and every difference flagged. The frames have English keys and raw
values; :func:`dsr_analysis.planner.views.comparison_tables` says them in Chinese."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ParameterError
from ..policy import CREDIT_CLASSES, Policy
from .outcome import CATEGORY_ORDER, PlanOutcome
from .plans import random_rules
from .settings import ASSUMPTIONS

#: Indicators of :attr:`PlanComparison.totals` that are shares.
PERCENT_TOTALS = ("coverage", "violation_rate", "deterred", "hit_rate")


@dataclass(frozen=True)
class PlanComparison:
    """Two plans side by side (:func:`compare_outcomes`): ``other`` (the plan compared with,
    e.g. the 2023 plan or last week's draft) and ``current`` (the draft on the page).

    Every frame has the other plan's value, the current one's and ``changed`` (bool); the
    frames of :func:`comparison_tables` say it in Chinese.

    Attributes
    ----------
    current, other : PlanOutcome
    labels : (str, str)
        How the current and the other plan are called (``本方案``, ``xiongan-2023``).
    quotas : DataFrame
        Per unit x category x subset: ``population``, ``quota`` of each (``_other`` /
        ``_current``), ``change`` (current - other).
    workload : DataFrame
        Per unit: inspectors, inspector-days needed and available (own + borrowable),
        feasible.
    coverage : DataFrame
        Per own unit x category: analytic yearly coverage and expected violation rate.
    totals : DataFrame
        The plan as a whole: feasibility, minimums met, checks, inspector-days, coverage,
        violation rate, deterred share, hit rate (``indicator``, ``other``, ``current``,
        ``change`` as text, ``changed``).
    minimums : DataFrame
        Every 2023 minimum: requirement, each plan's figure and verdict.
    controls : DataFrame
        Every control of the page: ratios, weights, overlap, joint share, inspectors, the
        cost of a check.
    """

    current: PlanOutcome
    other: PlanOutcome
    labels: tuple[str, str]
    quotas: pd.DataFrame
    workload: pd.DataFrame
    coverage: pd.DataFrame
    totals: pd.DataFrame
    minimums: pd.DataFrame
    controls: pd.DataFrame

    @property
    def changed_quotas(self) -> int:
        """Strata whose quarterly quota differs."""
        return int(self.quotas["changed"].sum())


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _changed(a, b, tol: float = 1e-9) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return False
        if math.isnan(a) or math.isnan(b):
            return True
        return abs(a - b) > tol
    return a != b


def compare_outcomes(current: PlanOutcome, other: PlanOutcome,
                     labels: tuple[str, str] = ("本方案", "对比方案")) -> PlanComparison:
    """The current plan against another, every table aligned and every difference flagged.

    Strata are matched by unit, category and subset (two plans may name their rules
    differently); a stratum one plan lacks shows NaN there. Both outcomes must be on the
    same units (map another jurisdiction's plan first, :func:`map_onto_units`)."""
    if [u.id for u in current.policy.units] != [u.id for u in other.policy.units]:
        raise ParameterError("两个方案的单位不同，不能对比；请先将方案对应到本登记册的单位")
    policy = current.policy
    names = policy.unit_names
    nan = float("nan")

    def strata(o: PlanOutcome) -> dict[tuple, dict]:
        out: dict[tuple, dict] = {}
        t = o.quotas
        for unit, cat, sub, pop, quota, method in zip(
                t["unit"], t["category"], t["subset"], t["population"], t["quota"],
                t["method"], strict=True):
            r = out.setdefault((unit, cat, sub), dict(population=0, quota=0, method=method))
            r["population"] += int(pop)
            r["quota"] += int(quota)
        return out

    so, sc = strata(other), strata(current)
    units = {u.id: i for i, u in enumerate(policy.units)}
    cats = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    subs = {"all": 0, "positive_list": 1, "not_positive_list": 2}
    rows = []
    for key in sorted(set(so) | set(sc), key=lambda k: (units.get(k[0], 99), cats.get(k[1], 9),
                                                         subs.get(k[2], 9))):
        a, b = so.get(key), sc.get(key)
        qa = float(a["quota"]) if a else nan
        qb = float(b["quota"]) if b else nan
        rows.append(dict(unit=key[0], unit_name=names.get(key[0], key[0]), category=key[1],
                         subset=key[2], population_other=float(a["population"]) if a else nan,
                         quota_other=qa,
                         population_current=float(b["population"]) if b else nan,
                         quota_current=qb, method=(b or a)["method"], change=qb - qa,
                         changed=_changed(qa, qb)))
    q = pd.DataFrame(rows)

    wcols = ["inspectors", "days_needed", "days_available", "days_borrowable", "feasible"]
    w = _align(other.workload, current.workload, ["unit"], wcols)
    w.insert(1, "unit_name", w["unit"].map(names))
    w["changed"] = [any(_changed(_num(r[f"{c}_other"]), _num(r[f"{c}_current"]))
                        for c in wcols) for r in w.to_dict("records")]

    ccols = ["objects", "coverage", "violation_rate"]
    c = _align(other.coverage, current.coverage, ["unit", "category"], ccols)
    c.insert(1, "unit_name", c["unit"].map(names))
    c["changed"] = [_changed(round(_num(r["coverage_other"]), 4),
                             round(_num(r["coverage_current"]), 4))
                    or _changed(round(_num(r["violation_rate_other"]), 4),
                                round(_num(r["violation_rate_current"]), 4))
                    for r in c.to_dict("records")]

    def totals(o: PlanOutcome) -> dict[str, Any]:
        wl = o.workload
        return {"feasible": bool(o.feasible),
                "minimums_met": f"{int(o.minimums['met'].sum())}/{len(o.minimums)}",
                "onsite": round(float(wl["onsite"].sum()), 1),
                "offsite": round(float(wl["offsite"].sum()), 1),
                "joint": int(wl["joint"].sum()),
                "days_needed": round(float(wl["days_needed"].sum()), 1),
                "days_available": round(float(wl["days_available"].sum()), 1),
                "coverage": o.coverage_total,
                "violation_rate": o.violation_rate,
                "deterred": o.deterrence_total,
                "hit_rate": o.hit_rate,
                "gaps": len(o.gaps)}

    to, tc = totals(other), totals(current)
    t = pd.DataFrame({"indicator": list(to), "other": list(to.values()),
                      "current": [tc[k] for k in to]})
    t["percent"] = t["indicator"].isin(PERCENT_TOTALS)
    t["changed"] = [_changed(round(a, 4), round(b, 4)) if isinstance(a, float) else a != b
                    for a, b in zip(t["other"], t["current"], strict=True)]

    m = _align(other.minimums, current.minimums, ["rule", "unit", "check", "requirement"],
               ["plan", "met", "clause"])
    m["clause"] = [b if isinstance(b, str) else a
                   for a, b in zip(m["clause_other"], m["clause_current"], strict=True)]
    m["changed"] = [(a != b) or (x != y) for a, b, x, y in zip(
        m["plan_other"], m["plan_current"], m["met_other"], m["met_current"], strict=True)]

    ctl = _align(pd.DataFrame(_controls(other.policy, other), columns=["kind", "key", "v"]),
                 pd.DataFrame(_controls(policy, current), columns=["kind", "key", "v"]),
                 ["kind", "key"], ["v"]).rename(columns={"v_other": "other",
                                                         "v_current": "current"})
    ctl["changed"] = [_changed(a, b) for a, b in zip(ctl["other"], ctl["current"], strict=True)]
    return PlanComparison(current=current, other=other, labels=tuple(labels), quotas=q,
                          workload=w, coverage=c, totals=t, minimums=m, controls=ctl)


def _align(other: pd.DataFrame, current: pd.DataFrame, key: list[str], cols: list[str]
           ) -> pd.DataFrame:
    """Rows of two tables matched on ``key``, ``cols`` suffixed ``_other`` / ``_current``
    (None where a table lacks the row); in the current table's order, then the rows only
    the other has."""
    def index(frame: pd.DataFrame) -> dict[tuple, dict]:
        records = frame[key + cols].to_dict("records")
        return {tuple(r[k] for k in key): r for r in records}

    a, b = index(other), index(current)
    order = list(b) + [k for k in a if k not in b]
    rows = []
    for k in order:
        row = dict(zip(key, k, strict=True))
        for col in cols:
            row[f"{col}_other"] = a[k][col] if k in a else None
            row[f"{col}_current"] = b[k][col] if k in b else None
        rows.append(row)
    return pd.DataFrame(rows, columns=key + [f"{c}_{s}" for c in cols for s in ("other", "current")])


def _controls(policy: Policy, outcome: PlanOutcome) -> list[tuple[str, str, Any]]:
    """Every control of the page for ``policy`` as (kind, key, value): ``ratio`` per rule id,
    ``weight`` per credit class, ``overlap`` (mode, yearly cap or None), ``joint``,
    ``inspectors`` per unit id, ``assumption`` per name."""
    out: list[tuple[str, str, Any]] = [("ratio", r.id, float(r.ratio))
                                       for r in random_rules(policy)]
    out += [("weight", c, float(policy.credit_risk.weights[c])) for c in CREDIT_CLASSES]
    cap = policy.draw.yearly_cap if policy.draw.overlap == "yearly_cap" else None
    out.append(("overlap", "", (policy.draw.overlap, cap)))
    out.append(("joint", "", float(policy.joint.internal_min_share)))
    out += [("inspectors", u.id, int(outcome.inspectors.get(u.id, 0))) for u in policy.units]
    out += [("assumption", k, float(outcome.assumptions[k])) for k in ASSUMPTIONS]
    return out


__all__ = ["PERCENT_TOTALS", "PlanComparison", "compare_outcomes"]
