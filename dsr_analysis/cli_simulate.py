"""``dsr simulate`` and the simulation step of ``dsr demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .distributed import describe, executor, resolve_scheduler
from .paths import OUTPUTS_DIR
from .simulation.scenarios import load_scenario, optimise_ratios, run_scenario, with_simulation
from .simulation.coverage import coverage_summary, workload_summary
from .simulation.national import top_summary

#: Size of the demo run (seconds on two cores).
DEMO_REPLICATES = 20
DEMO_YEARS = 2


def _print_headline(headline: dict, out=None) -> None:
    out = out or sys.stdout
    h = headline
    where = f" in {h['jurisdictions']} jurisdictions" if "jurisdictions" in h else ""
    print(f"    scenario {h['scenario']} ({h['name']}), {h['objects']} objects{where}", file=out)
    if "coverage_all" in h:
        print(f"    yearly coverage: all {h['coverage_all']:.1%}, special "
              f"{h.get('coverage_special', float('nan')):.1%}, key "
              f"{h.get('coverage_key', float('nan')):.1%}, general "
              f"{h.get('coverage_general', float('nan')):.1%}", file=out)
        print(f"    checks per quarter {h['inspections_per_quarter']:.0f}, inspector-days "
              f"{h['inspector_days_per_quarter']:.0f} of {h['capacity_days_per_quarter']:.0f} "
              f"available; worst quota attainment {h['quota_attainment_min']:.0%}", file=out)
    if "violation_rate_last_year" in h:
        print(f"    violation rate (last year) {h['violation_rate_last_year']:.1%}; per quarter "
              f"{h['detected_per_quarter']:.1f} detected, {h['undetected_per_quarter']:.1f} "
              f"undetected; hit rate {h['hit_rate']:.2%} (national 2019: 4.79%)", file=out)
    print(f"    [R3] credit-risk share of draws {h['credit_share']:.0%} "
          f"({'met' if h['credit_share_met'] else 'NOT MET'})", file=out)


def cmd_simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    changes = {k: getattr(args, k) for k in ("replicates", "years", "seed", "chunk_size")
               if getattr(args, k) is not None}
    if changes:
        scenario = with_simulation(scenario, **changes)
    resolve_scheduler(args.scheduler)  # a bad address is refused before anything runs
    with executor(args.scheduler, args.workers) as ex:
        print(f"[sim] tasks run {describe(ex)}", file=sys.stderr)
        run = run_scenario(scenario, coverage=not args.no_coverage,
                           deterrence=not args.no_deterrence, progress=not args.no_progress,
                           scheduler=ex)
        opt = optimise_ratios(scenario, scheduler=ex) if args.optimise else None
    out_dir = Path(args.outputs) / "simulation"
    paths = run.save(out_dir)
    _print_headline(run.headline)
    if run.coverage is not None:
        print(coverage_summary(run.coverage, by=["category", "credit_class"])
              .to_string(index=False))
    if run.national is not None:
        print(top_summary(run.national).rename(columns={"top": "province"})
              .round(4).to_string(index=False))
    if opt is not None:
        print(f"    optimum within {opt.budget_days:.0f} inspector-days per quarter "
              f"({opt.message}); every 2023 minimum met: {opt.minimums_met}")
        print(f"    ratios {opt.ratios}; credit weights {opt.weights}")
        print(opt.table().to_string())
    print(f"wrote {len(paths)} files under {out_dir}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate a scenario: coverage and deterrence")
    p.add_argument("--scenario", default="baseline-2023",
                   help="scenario YAML, or a name in parameters/scenarios/ (default: %(default)s)")
    p.add_argument("--replicates", type=int, help="override the scenario's replicates")
    p.add_argument("--years", type=int, help="override the scenario's years")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--chunk-size", dest="chunk_size", type=int,
                   help="replicates per chunk (memory only; results do not change)")
    p.add_argument("--no-coverage", action="store_true", help="skip the coverage simulation")
    p.add_argument("--no-deterrence", action="store_true", help="skip the deterrence simulation")
    p.add_argument("--optimise", action="store_true",
                   help="also search the ratios minimising expected violations (scipy SLSQP)")
    p.add_argument("--scheduler", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run the tasks on Dask: a scheduler address (tcp://host:8786), "
                        "'local' (a LocalCluster on this machine; the default of a bare "
                        "--scheduler) or 'none' (in this process); without the option: "
                        "$DASK_SCHEDULER_ADDRESS if set, else in this process")
    p.add_argument("--workers", type=int, default=None,
                   help="threads in this process, or worker processes of a local cluster "
                        "(default: one per CPU)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--outputs", default=str(OUTPUTS_DIR), help="output directory")
    p.set_defaults(func=cmd_simulate)


def demo_step(args, policy, registers, out_dir: Path) -> None:
    """Baseline scenario at demo size: tables and figures under ``outputs/simulation``."""
    from . import plotting

    scenario = with_simulation(load_scenario("baseline-2023"), replicates=DEMO_REPLICATES,
                               years=DEMO_YEARS)
    run = run_scenario(scenario)
    sim_dir = Path(out_dir) / "simulation"
    paths = run.save(sim_dir)
    figures = [
        plotting.save(plotting.plot_coverage(coverage_summary(
            run.coverage, by=["category", "credit_class"])), sim_dir / "coverage.png"),
        plotting.save(plotting.plot_visits(run.coverage.visits), sim_dir / "visits.png"),
        plotting.save(plotting.plot_workload(workload_summary(run.coverage)),
                      sim_dir / "workload.png"),
        plotting.save(plotting.plot_violation_timeline(run.deterrence.timeline),
                      sim_dir / "violations.png"),
        plotting.save(plotting.plot_detection(run.deterrence.timeline),
                      sim_dir / "detection.png"),
    ]
    print(f"[sim] baseline scenario, {DEMO_REPLICATES} replicates x {DEMO_YEARS} years "
          "(coverage and deterrence):")
    _print_headline(run.headline)
    print(f"    saved: {len(paths)} tables and {len(figures)} figures in {sim_dir}/")
