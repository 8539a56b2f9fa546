"""``dsr simulate`` and the simulation step of ``dsr demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .i18n import _
from .distributed import describe, executor, resolve_scheduler
from .paths import OUTPUTS_DIR
from .presentation import simulation_table
from .simulation.scenarios import load_scenario, optimise_ratios, run_scenario, with_simulation
from .simulation.coverage import coverage_summary, workload_summary
from .simulation.national import top_summary

#: Size of the demo run (seconds on two cores).
DEMO_REPLICATES = 20
DEMO_YEARS = 2


def _print_headline(headline: dict, out=None) -> None:
    out = out or sys.stdout
    h = headline
    if "jurisdictions" in h:
        print(_("    scenario {scenario} ({name}), {objects} objects in {jurisdictions} "
                "jurisdictions").format(scenario=h['scenario'], name=h['name'],
                                        objects=h['objects'], jurisdictions=h['jurisdictions']),
              file=out)
    else:
        print(_("    scenario {scenario} ({name}), {objects} objects").format(
            scenario=h['scenario'], name=h['name'], objects=h['objects']), file=out)
    if "coverage_all" in h:
        print(_("    yearly coverage: all {all:.1%}, special {special:.1%}, key {key:.1%}, "
                "general {general:.1%}").format(
            all=h['coverage_all'], special=h.get('coverage_special', float('nan')),
            key=h.get('coverage_key', float('nan')),
            general=h.get('coverage_general', float('nan'))), file=out)
        print(_("    checks per quarter {checks:.0f}, inspector-days {days:.0f} of {capacity:.0f} "
                "available; worst quota attainment {attainment:.0%}").format(
            checks=h['inspections_per_quarter'], days=h['inspector_days_per_quarter'],
            capacity=h['capacity_days_per_quarter'], attainment=h['quota_attainment_min']),
              file=out)
    if "violation_rate_last_year" in h:
        print(_("    violation rate (last year) {rate:.1%}; per quarter {detected:.1f} detected, "
                "{undetected:.1f} undetected; hit rate {hit:.2%} (national 2019: 4.79%)").format(
            rate=h['violation_rate_last_year'], detected=h['detected_per_quarter'],
            undetected=h['undetected_per_quarter'], hit=h['hit_rate']), file=out)
    print(_("    share of draws combined with the credit-risk classes {share:.0%} "
            "({verdict})").format(share=h['credit_share'],
                                  verdict=_("met") if h['credit_share_met'] else _("NOT MET")),
          file=out)


def cmd_simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    changes = {k: getattr(args, k) for k in ("replicates", "years", "seed", "chunk_size")
               if getattr(args, k) is not None}
    if changes:
        scenario = with_simulation(scenario, **changes)
    resolve_scheduler(args.scheduler)  # a bad address is refused before anything runs
    with executor(args.scheduler, args.workers) as ex:
        print(_("[sim] tasks run {where}").format(where=describe(ex)), file=sys.stderr)
        run = run_scenario(scenario, coverage=not args.no_coverage,
                           deterrence=not args.no_deterrence, progress=not args.no_progress,
                           scheduler=ex)
        opt = optimise_ratios(scenario, scheduler=ex) if args.optimise else None
    out_dir = Path(args.outputs) / "simulation"
    paths = run.save(out_dir)
    _print_headline(run.headline)
    if run.coverage is not None:
        print(simulation_table(coverage_summary(run.coverage, by=["category", "credit_class"]),
                               args.columns).to_string(index=False))
    if run.national is not None:
        print(simulation_table(top_summary(run.national).rename(columns={"top": "province"})
                               .round(4), args.columns).to_string(index=False))
    if opt is not None:
        print(_("    optimum within {days:.0f} inspector-days per quarter ({message}); every "
                "2023 minimum met: {met}").format(
            days=opt.budget_days, message=opt.message,
            met=_("yes") if opt.minimums_met else _("no")))
        print(_("    ratios {ratios}; credit weights {weights}").format(ratios=opt.ratios,
                                                                       weights=opt.weights))
        print(simulation_table(opt.table(), args.columns).to_string())
    print(_("wrote {n} files under {dir}").format(n=len(paths), dir=out_dir), file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from .cli import add_columns

    p = sub.add_parser("simulate", help=_("simulate a scenario: coverage and deterrence"))
    p.add_argument("--scenario", default="baseline-2023",
                   help=_("scenario YAML, or a name in parameters/scenarios/ (default: %(default)s)"))
    p.add_argument("--replicates", type=int, help=_("override the scenario's replicates"))
    p.add_argument("--years", type=int, help=_("override the scenario's years"))
    p.add_argument("--seed", type=int, help=_("override the scenario's seed"))
    p.add_argument("--chunk-size", dest="chunk_size", type=int,
                   help=_("replicates per chunk (memory only; results do not change)"))
    p.add_argument("--no-coverage", action="store_true", help=_("skip the coverage simulation"))
    p.add_argument("--no-deterrence", action="store_true", help=_("skip the deterrence simulation"))
    p.add_argument("--optimise", action="store_true",
                   help=_("also search the ratios minimising expected violations (scipy SLSQP)"))
    p.add_argument("--scheduler", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help=_("run the tasks on Dask: a scheduler address (tcp://host:8786), "
                        "'local' (a LocalCluster on this machine; the default of a bare "
                        "--scheduler) or 'none' (in this process); without the option: "
                        "$DASK_SCHEDULER_ADDRESS if set, else in this process"))
    p.add_argument("--workers", type=int, default=None,
                   help=_("threads in this process, or worker processes of a local cluster "
                        "(default: one per CPU)"))
    p.add_argument("--no-progress", action="store_true", help=_("no progress bar"))
    p.add_argument("--outputs", default=str(OUTPUTS_DIR), help=_("output directory"))
    add_columns(p)
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
    print(_("[sim] baseline scenario, {replicates} replicates x {years} years (coverage and "
            "deterrence):").format(replicates=DEMO_REPLICATES, years=DEMO_YEARS))
    _print_headline(run.headline)
    print(_("    saved: {tables} tables and {figures} figures in {dir}/").format(
        tables=len(paths), figures=len(figures), dir=sim_dir))
