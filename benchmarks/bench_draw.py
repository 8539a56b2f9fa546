"""Benchmark: the verifiable draw of a quarter on a synthetic national-scale register.

    .venv/bin/python benchmarks/bench_draw.py [--enterprises 1000000] [--inspectors 20000]
                                              [--staff-tasks 2000] [--staff-all]

Prints, in the same run and on the same frame:

* pandas' unverifiable ``groupby(stratum).sample(..., weights=lambda)`` over the drawing
  strata of every unit (the baseline; two variants, the faster one is the reference), its
  preparation (classification, quotas, lambda per object) timed once outside the loops;
* the verifiable object draw (canonical frame + its SHA-256, seed, classification, quotas,
  overlap control, inclusion probabilities, one SHA-256 ticket per eligible object, Pareto
  keys, selection)
  and its ratio to the baseline (target: within 3x);
* staffing (items, joint designations, recusal, caps, inspector tickets), which has no
  pandas counterpart: one SHA-256 ticket per eligible inspector and task. By default it is
  timed on the first ``--staff-tasks`` tasks and extrapolated (labelled as such);
  ``--staff-all`` staffs the whole quarter.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from dsr_analysis.categories import classify
from dsr_analysis.draw import draw_quarter
from dsr_analysis.policy import load_policy
from dsr_analysis.policy import CREDIT_CLASSES
from dsr_analysis.quotas import drawing_population, quarterly_quotas, subset_mask
from dsr_analysis.registers import Registers, load_registers
from dsr_analysis.sample import BUSINESS_LINES, UNITS, LINE_SHARES, synthetic_enterprises
from dsr_analysis.draw.staffing import staff_tasks


def synthetic_registers(n: int, n_inspectors: int, seed: int = 7) -> Registers:
    rng = np.random.default_rng(seed)
    sample = load_registers()
    ent = synthetic_enterprises(n, rng)
    ent["uscc"] = np.char.add("X", np.char.zfill(np.arange(n).astype(str), 9)).astype(object)
    industries = sorted(set(sample.enterprises["industry"]))
    ent["industry"] = np.array(industries, dtype=object)[rng.integers(0, len(industries), n)]
    ent["name"] = np.char.add("企业", ent["uscc"].to_numpy().astype(str)).astype(object)
    ent["town"] = ""
    total = sum(v[3] for v in UNITS.values())
    unit_ids = list(UNITS)
    shares = np.array([UNITS[u][3] / total for u in unit_ids])
    units = np.array(unit_ids, dtype=object)[rng.choice(len(unit_ids), n_inspectors, p=shares)]
    insp = pd.DataFrame({
        "inspector_id": [f"I{i:06d}" for i in range(n_inspectors)],
        "name": [f"人员{i}" for i in range(n_inspectors)],
        "unit": units,
        "business_line": np.array(BUSINESS_LINES, dtype=object)[
            rng.choice(len(BUSINESS_LINES), n_inspectors, p=LINE_SHARES)],
        "expertise": [()] * n_inspectors,
        "certified": rng.random(n_inspectors) < 0.97,
        "active": rng.random(n_inspectors) < 0.97,
        "conflicts": [()] * n_inspectors,
    })
    return Registers(enterprises=ent, inspectors=insp, experts=sample.experts,
                     items=sample.items, sources={})


def baseline(policy, registers, quarter, rng):
    """Unverifiable pandas draws with the same strata, quotas and inclusion weights, per unit.

    The preparation both sides need (classification, quota table, each object's stratum and
    lambda as a weight column) is timed once and outside the sampling loops.
    Returns (preparation time, frac time, rows, apply-n time, rows)."""
    t0 = time.perf_counter()
    classified = classify(registers.enterprises, policy)
    quotas = quarterly_quotas(classified, policy, quarter, registers.inspectors)
    quotas = quotas[quotas["method"] == "random"]
    prepared = []
    for unit in policy.units:
        pop = drawing_population(classified, policy, unit.id)
        parts = []
        want = {}
        for row in quotas[quotas["unit"] == unit.id].itertuples():
            rule = next(r for r in policy.quotas.rules if r.id == row.quota_rule)
            sub = pop[subset_mask(pop, rule)]
            lam = {c: getattr(row, f"probability_{c}") for c in CREDIT_CLASSES}
            parts.append(sub.assign(stratum=row.stratum, w=sub["credit_class"].map(lam)))
            want[row.stratum] = int(row.quota)
        if parts:
            prepared.append((pd.concat(parts), want))
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_frac = 0
    for pop, _ in prepared:
        n_frac += len(pop.groupby("stratum").sample(frac=0.1, weights=pop["w"],
                                                     random_state=rng))
    t_frac = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_n = 0
    for pop, want in prepared:
        drawn = pop.groupby("stratum", group_keys=False)[pop.columns.tolist()].apply(
            lambda g, want=want: g.sample(n=min(len(g), want[g.name]), weights=g["w"],
                                          random_state=rng))
        n_n += len(drawn)
    t_n = time.perf_counter() - t0
    return t_prep, t_frac, n_frac, t_n, n_n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=1_000_000)
    ap.add_argument("--inspectors", type=int, default=20_000)
    ap.add_argument("--staff-tasks", type=int, default=2000)
    ap.add_argument("--staff-all", action="store_true")
    args = ap.parse_args()
    policy = load_policy()
    t0 = time.perf_counter()
    registers = synthetic_registers(args.enterprises, args.inspectors)
    print(f"synthetic registers: {args.enterprises:,} enterprises, {args.inspectors:,} "
          f"inspectors ({time.perf_counter() - t0:.1f} s to build)")
    rng = np.random.default_rng(1)
    t_prep, t_frac, n_frac, t_n, n_n = baseline(policy, registers, "2023Q1", rng)
    print(f"shared preparation (classify + quotas), timed once:     {t_prep:6.2f} s")
    print(f"baseline pandas groupby(stratum).sample(frac=0.1, weights=lambda): {t_frac:6.2f} s "
          f"({n_frac:,} rows)")
    print(f"baseline pandas groupby(stratum).apply(sample(n=quota, weights=lambda)): {t_n:6.2f} s "
          f"({n_n:,} rows)")
    ref = min(t_frac, t_n) + t_prep
    t0 = time.perf_counter()
    res = draw_quarter(policy, registers, "2023Q1", "bench-2023Q1", staff=False)
    t_obj = time.perf_counter() - t0
    tasks = res.tasks
    n_random = int((tasks["kind"] == "random").sum())
    print(f"verifiable object draw (frame hash, classify, quotas, lambda, tickets, keys): {t_obj:6.2f} s "
          f"({len(tasks):,} tasks, {n_random:,} by ticket)")
    print(f"ratio verifiable / (preparation + fastest pandas sample): {t_obj / ref:.2f}x "
          f"(target <= 3x)")
    print(f"ratio of the drawing steps alone ((verifiable - preparation) / fastest sample): "
          f"{(t_obj - t_prep) / (ref - t_prep):.2f}x")

    objects = {r.uscc: {"name": r.name, "unit": r.unit, "industry": r.industry,
                        "offsite_capable": bool(r.offsite_capable)}
               for r in registers.enterprises[registers.enterprises["uscc"].isin(
                   set(tasks["uscc"]))].itertuples()}
    records = tasks.to_dict("records")
    subset = records if args.staff_all else records[: args.staff_tasks]
    # Keep every unit represented when sampling tasks for the timing.
    if not args.staff_all:
        per_unit = max(1, args.staff_tasks // tasks["unit"].nunique())
        subset = [t for u, g in tasks.groupby("unit", sort=False)
                  for t in g.head(per_unit).to_dict("records")]
    t0 = time.perf_counter()
    staffed = staff_tasks(subset, seed=res.record["inputs"]["seed"], policy=policy,
                          registers=registers, objects=objects, history=[])
    t_staff = time.perf_counter() - t0
    pools = np.mean([t["pool_size"] for t in staffed])
    label = "whole quarter" if args.staff_all else (
        f"{len(staffed):,} tasks; extrapolated to {len(tasks):,}: "
        f"{t_staff / len(staffed) * len(tasks):.0f} s")
    print(f"staffing: {t_staff:6.2f} s ({label}; mean pool {pools:,.0f} inspectors per task, "
          f"{t_staff / len(staffed) * 1e3:.2f} ms per task)")


if __name__ == "__main__":
    main()
