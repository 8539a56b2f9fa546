"""``dsr results template`` and ``dsr results check``: between the draw and the reports."""

from __future__ import annotations

import argparse

from .draw.ledger import DEFAULT_LEDGER
from .results_entry import check_results_file, write_results_template


def cmd_template(args: argparse.Namespace) -> int:
    written = write_results_template(args.quarter, args.unit, args.ledger, args.outputs,
                                     args.previous)
    carried = f", {written.carried} result(s) carried in" if args.previous else ""
    print(f"results template of {args.quarter} ({', '.join(written.units)}): {written.tasks} "
          f"task(s) pre-filled{carried}; {written.path}")
    print(f"fill it in, then: dsr results check {written.path} --ledger {args.ledger}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    print(check_results_file(args.file, args.ledger).summary())
    return 0


def register(sub) -> None:
    p = sub.add_parser("results", help="results register: an entry template of a quarter's "
                                       "drawn tasks, and the check of a filled one")
    rsub = p.add_subparsers(dest="results_command", required=True)
    t = rsub.add_parser("template", help="write the results-entry workbook of a quarter, every "
                                         "drawn task pre-filled (XLSX, drop-down lists)")
    t.add_argument("--quarter", required=True, help="quarter, e.g. 2023Q1")
    t.add_argument("--unit", default=None,
                   help="unit id (default: every unit drawn in the quarter, one workbook)")
    t.add_argument("--ledger", default=str(DEFAULT_LEDGER), help="ledger (default %(default)s)")
    t.add_argument("--outputs", default=None,
                   help="output root; the template goes to OUTPUTS/QUARTER/"
                        "results-template-UNIT.xlsx (default: the ledger's folder)")
    t.add_argument("--from", dest="previous", default=None,
                   help="an earlier results register (e.g. last quarter's filled template): "
                        "the template then holds every task of the year up to --quarter with "
                        "the recorded results carried in (one workbook for the year)")
    t.set_defaults(func=cmd_template)
    c = rsub.add_parser("check", help="validate a results register alone and list every "
                                      "problem at once (exit 0 / 1)")
    c.add_argument("file", help="results register (.xlsx, .csv), e.g. a filled template")
    c.add_argument("--ledger", default=None,
                   help="also check the results against this ledger's drawn tasks")
    c.set_defaults(func=cmd_check)
