"""Benchmark: how long the planner takes to follow a control change.

    .venv/bin/python benchmarks/bench_planner.py [--repeats 20] [--registers DIR]

Times, on the embedded sample register (3,000 enterprises) unless ``--registers`` is given:

* the first call (reads the register and classifies it, then computes every output);
* one ``plan_outcome`` per slider move afterwards (classification cached): the quota table,
  the analytic estimate of the year (``dsr_analysis.simulation.analytic.analytic_year``: coverage, draws
  achieved per stratum and quarter), inspector-days, the 2023 minimums, the coverage gaps,
  the seeded 20-replicate coverage simulation and the closed-form deterrence estimate — the
  work behind one widget change;
* the analytic estimate alone (``analytic_year`` on the cached groups);
* the same through the widgets (``PlannerApp``: value change -> callback -> HTML tables);
* for scale, re-reading and re-classifying the register (what the cache saves per move).

Prints median and maximum seconds per update and the ratio to the one-second target of
issue 6. No assertion: speed is measured here, not in the tests.
"""

from __future__ import annotations

import argparse
import statistics
import time

from dsr_analysis import planner
from dsr_analysis.simulation.analytic import analytic_year
from dsr_analysis.categories import classify
from dsr_analysis.planner_ui import build_planner
from dsr_analysis.quotas import quarterly_quotas
from dsr_analysis.registers import load_registers


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--registers", default="")
    args = parser.parse_args()

    planner._PREPARED_CACHE.clear()
    planner._REGISTER_CACHE.clear()
    base = planner.resolve_policy("xiongan-2023")
    controls = dict(base_policy="xiongan-2023", **planner.plan_from_policy(base), seed=1,
                    registers=args.registers or None)
    first = _timed(lambda: planner.plan_outcome(
        inspectors_available=planner.default_inspectors(base, args.registers or None),
        **controls))
    inspectors = planner.default_inspectors(base, args.registers or None)
    n = len(planner._prepare(args.registers or None, base).classified)

    values = [0.03 + 0.01 * (i % 10) for i in range(args.repeats)]
    logic = []
    for v in values:
        c = dict(controls, ratios={**controls["ratios"], "county-general-other": v})
        logic.append(_timed(lambda c=c: planner.plan_outcome(inspectors_available=inspectors,
                                                             **c)))

    app = build_planner(registers=args.registers, seed=1)
    slider = app.ratios["county-general-other"]
    widget = []
    for v in values:
        widget.append(_timed(lambda v=v: setattr(slider, "value", v + 0.005)))

    prepared = planner._prepare(args.registers or None, base)
    table = quarterly_quotas(prepared.classified, base, f"{base.year}Q1",
                             prepared.registers.inspectors)
    analytic = [_timed(lambda: analytic_year(prepared.groups, base, table))
                for _ in range(args.repeats)]

    def reread():
        registers = load_registers(args.registers or None, units=base.unit_names)
        classify(registers.enterprises, base)

    reread_s = statistics.median(_timed(reread) for _ in range(3))

    print(f"register: {n} enterprises; {args.repeats} slider moves")
    print(f"first call (read + classify + outputs): {first:.3f} s")
    print(f"plan_outcome per move:   median {statistics.median(logic):.3f} s, "
          f"max {max(logic):.3f} s  ({statistics.median(logic) / 1.0:.2f} x the 1 s target)")
    print(f"analytic estimate alone: median {statistics.median(analytic):.3f} s")
    print(f"widget update per move:  median {statistics.median(widget):.3f} s, "
          f"max {max(widget):.3f} s  ({statistics.median(widget) / 1.0:.2f} x the 1 s target)")
    print(f"register read + classification the cache saves per move: {reread_s:.3f} s")


if __name__ == "__main__":
    main()
