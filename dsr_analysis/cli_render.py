"""``dsr render``: the official reports of a quarter (or the results notice of a month)."""

from __future__ import annotations

import argparse

from .cli import (add_ledger, add_outputs, add_policy, add_quarter, add_registers, add_unit,
                  register_dir)
from .i18n import _
from .workflows import RENDER_INPUTS, render_lines, render_reports


def _names(value: str):
    """``all``, or the comma-separated names as a list."""
    return "all" if value == "all" else [v.strip() for v in value.split(",")]


def cmd_render(args: argparse.Namespace) -> int:
    register_dir(args.registers)  # missing: exit 2; a file: exit 3
    summary = render_reports(args.quarter, _names(args.unit), _names(args.report), args.outputs,
                             args.policy, {k: getattr(args, k) for k in RENDER_INPUTS},
                             month=args.month, workers=args.workers, as_of=args.as_of,
                             scheduler=args.scheduler)
    for line in render_lines(summary):
        print(line)
    return 0


def render_parser(p: argparse.ArgumentParser) -> None:
    add_quarter(p, required=False)
    p.add_argument("--month", default=None,
                   help=_("the results notice of one month, e.g. 2024-01 (may follow the policy "
                        "year: December's checks published in January); instead of --quarter"))
    p.add_argument("--as-of", default=None,
                   help=_("数据截止日期 of the statistics table, YYYY-MM-DD (default: its deadline)"))
    add_unit(p, default="all", help=_("unit id(s), comma-separated, or all (default)"))
    p.add_argument("--report", default="all",
                   help=_("statistics, summary, evaluation, notice, annual_plan (comma-separated) "
                        "or all (default)"))
    add_policy(p)
    add_registers(p, help=_("register directory; with --ledger its files must be the ones the "
                            "quarter's draws were made on (default: the directory the ledger "
                            "recorded; without --ledger: the embedded synthetic sample)"))
    add_ledger(p, default=False, help=_("draw ledger (default: the demo draws, made in memory)"))
    p.add_argument("--results", default=None, help=_("results register (required with --ledger)"))
    p.add_argument("--deliveries", default=None, help=_("report deliveries CSV (for the evaluation)"))
    p.add_argument("--followups", default=None,
                   help=_("follow-up file (CSV/XLSX): dated updates of the follow-up cases "
                        "(summary, evaluation, notices)"))
    add_outputs(p, help=_("output root; reports go to OUTPUTS/QUARTER/ (default: %(default)s)"))
    p.add_argument("--workers", type=int, default=None,
                   help=_("parallel notebooks (default: the number of cores)"))
    p.add_argument("--scheduler", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help=_("run the report x unit jobs as Dask tasks: a scheduler address "
                          "(tcp://host:8786), 'local' (a LocalCluster of --workers processes; "
                          "the default of a bare --scheduler) or 'none' (on this machine); "
                          "without the option: $DASK_SCHEDULER_ADDRESS if set, else on this "
                          "machine"))
    p.set_defaults(func=cmd_render)
