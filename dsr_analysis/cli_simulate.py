"""``dsr simulate``: a scenario's coverage and deterrence."""

from __future__ import annotations

import argparse
import sys

from .cli import add_columns, add_outputs
from .i18n import _
from .presentation import simulation_table
from .simulation.coverage import coverage_summary
from .simulation.national import top_summary
from .workflows import headline_lines, simulate


def cmd_simulate(args: argparse.Namespace) -> int:
    changes = {k: getattr(args, k) for k in ("replicates", "years", "seed", "chunk_size")
               if getattr(args, k) is not None}
    job = simulate(args.scenario, args.outputs, changes, args.scheduler, args.workers,
                   coverage=not args.no_coverage, deterrence=not args.no_deterrence,
                   optimise=args.optimise, progress=not args.no_progress,
                   announce=lambda line: print(line, file=sys.stderr))
    run, opt = job.run, job.optimum
    for line in headline_lines(run.headline):
        print(line)
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
    print(_("wrote {n} files under {dir}").format(n=len(job.paths), dir=job.directory),
          file=sys.stderr)
    return 0


def simulate_parser(p: argparse.ArgumentParser) -> None:
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
    add_outputs(p)
    add_columns(p)
    p.set_defaults(func=cmd_simulate)
