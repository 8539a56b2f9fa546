"""``dsr credit`` and ``dsr rollover``: the year's results into the firms' credit records and
into next year's registers (R2, R7)."""

from __future__ import annotations

import argparse

from .cli import add_ledger, add_outputs, add_policy, add_registers, add_unit, outputs_dir
from .credit import write_credit_exports
from .i18n import _
from .policy import load_policy
from .rollover import rollover


def cmd_credit(args: argparse.Namespace) -> int:
    written = write_credit_exports(args.ledger, args.results, load_policy(args.policy),
                                   outputs_dir(args), month=args.month, quarter=args.quarter,
                                   unit=args.unit)
    print(written.records.summary())
    for path in written.paths:
        print(_("  wrote {path}").format(path=path))
    return 0


def cmd_rollover(args: argparse.Namespace) -> int:
    result = rollover(args.year, args.ledger, args.results, load_policy(args.policy),
                      outputs_dir(args), registers_dir=args.registers, to=args.to)
    print(result.summary())
    for path in result.paths:
        print(_("  wrote {path}").format(path=path))
    print(_("  category change report: {path}").format(path=result.report))
    print(_("next: {command}").format(
        command=f"dsr validate --registers {result.directory} --policy POLICY-{args.year}"))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    add_ledger(p)
    p.add_argument("--results", required=True,
                   help=_("results register (.xlsx, .csv), e.g. the filled results template"))
    add_policy(p)
    add_outputs(p, by_ledger=True, help=_("output folder (default: the ledger's folder)"))


def credit_parser(p: argparse.ArgumentParser) -> None:
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", help=_("month, e.g. 2023-03 (results published in it)"))
    period.add_argument("--quarter", help=_("quarter, e.g. 2023Q1 (results published in it)"))
    add_unit(p, help=_("only this unit's checks (default: every unit)"))
    _common(p)
    p.set_defaults(func=cmd_credit)


def rollover_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=int, required=True, help=_("the new year, e.g. 2024"))
    add_registers(p, help=_("this year's register directory (default: the one the ledger's "
                            "last draw of the year was made on)"))
    p.add_argument("--to", default=None,
                   help=_("new register directory, new or empty (default: OUTPUTS/registers-YEAR)"))
    _common(p)
    p.set_defaults(func=cmd_rollover)
