"""``dsr results template`` and ``dsr results check``: between the draw and the reports."""

from __future__ import annotations

import argparse

from .cli import add_ledger, add_quarter, add_unit
from .i18n import _
from .results_entry import check_results_file, write_results_template


def cmd_template(args: argparse.Namespace) -> int:
    written = write_results_template(args.quarter, args.unit, args.ledger, args.outputs,
                                     args.previous)
    if args.previous:
        print(_("results template of {quarter} ({units}): {tasks} task(s) pre-filled, {carried} "
                "result(s) carried in; {path}").format(
            quarter=args.quarter, units=", ".join(written.units), tasks=written.tasks,
            carried=written.carried, path=written.path))
    else:
        print(_("results template of {quarter} ({units}): {tasks} task(s) pre-filled; "
                "{path}").format(quarter=args.quarter, units=", ".join(written.units),
                                 tasks=written.tasks, path=written.path))
    print(_("fill it in, then: {command}").format(
        command=f"dsr results check {written.path} --ledger {args.ledger}"))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    print(check_results_file(args.file, args.ledger).summary())
    return 0


def results_parser(p: argparse.ArgumentParser) -> None:
    rsub = p.add_subparsers(dest="results_command", required=True)
    t = rsub.add_parser("template", help=_("write the results-entry workbook of a quarter, every "
                                         "drawn task pre-filled (XLSX, drop-down lists)"))
    add_quarter(t)
    add_unit(t, help=_("unit id (default: every unit drawn in the quarter, one workbook)"))
    add_ledger(t)
    t.add_argument("--outputs", default=None,
                   help=_("output root; the template goes to OUTPUTS/QUARTER/"
                        "results-template-UNIT.xlsx (default: the ledger's folder)"))
    t.add_argument("--from", dest="previous", default=None,
                   help=_("an earlier results register (e.g. last quarter's filled template): "
                        "the template then holds every task of the year up to --quarter with "
                        "the recorded results carried in (one workbook for the year)"))
    t.set_defaults(func=cmd_template)
    c = rsub.add_parser("check", help=_("validate a results register alone and list every "
                                      "problem at once (exit 0 / 1)"))
    c.add_argument("file", help=_("results register (.xlsx, .csv), e.g. a filled template"))
    add_ledger(c, default=False,
               help=_("also check the results against this ledger's drawn tasks"))
    c.set_defaults(func=cmd_check)
