"""``dsr credit`` and ``dsr rollover``: the year's results into the firms' credit records and
into next year's registers (R2, R7)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .i18n import _
from .credit import write_credit_exports
from .draw.ledger import DEFAULT_LEDGER
from .paths import DEFAULT_POLICY
from .policy import load_policy
from .rollover import rollover


def _outputs(args: argparse.Namespace) -> Path:
    return Path(args.outputs) if args.outputs else Path(args.ledger).parent


def cmd_credit(args: argparse.Namespace) -> int:
    written = write_credit_exports(args.ledger, args.results, load_policy(args.policy),
                                   _outputs(args), month=args.month, quarter=args.quarter,
                                   unit=args.unit)
    print(written.records.summary())
    for path in written.paths:
        print(_("  wrote {path}").format(path=path))
    return 0


def cmd_rollover(args: argparse.Namespace) -> int:
    result = rollover(args.year, args.ledger, args.results, load_policy(args.policy),
                      _outputs(args), registers_dir=args.registers, to=args.to)
    print(result.summary())
    for path in result.paths:
        print(_("  wrote {path}").format(path=path))
    print(_("  category change report: {path}").format(path=result.report))
    print(_("next: {command}").format(
        command=f"dsr validate --registers {result.directory} --policy POLICY-{args.year}"))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help=_("ledger (default %(default)s)"))
    p.add_argument("--results", required=True,
                   help=_("results register (.xlsx, .csv), e.g. the filled results template"))
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy YAML, or a name in parameters/policies/ (default: %(default)s)"))
    p.add_argument("--outputs", default=None, help=_("output folder (default: the ledger's folder)"))


def register(sub) -> None:
    p = sub.add_parser("credit", help=_("spot-check results for the credit publicity systems "
                                      "(序号 | 检查实施机关 | 类型 | 日期 | 结果, per firm too; "
                                      "XLSX and CSV), results published in a month or quarter"))
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", help=_("month, e.g. 2023-03 (results published in it)"))
    period.add_argument("--quarter", help=_("quarter, e.g. 2023Q1 (results published in it)"))
    p.add_argument("--unit", default=None, help=_("only this unit's checks (default: every unit)"))
    _common(p)
    p.set_defaults(func=cmd_credit)

    p = sub.add_parser("rollover", help=_("next year's registers (penalised / supervision order "
                                        "/ complaints of the year derived) in a new directory, "
                                        "and the category change report (XLSX)"))
    p.add_argument("--year", type=int, required=True, help=_("the new year, e.g. 2024"))
    p.add_argument("--registers", default=None,
                   help=_("this year's register directory (default: the one the ledger's last "
                        "draw of the year was made on)"))
    p.add_argument("--to", default=None,
                   help=_("new register directory, new or empty (default: OUTPUTS/registers-YEAR)"))
    _common(p)
    p.set_defaults(func=cmd_rollover)


def demo_step(args: argparse.Namespace, policy, registers, out_dir: Path) -> None:
    """The end of the demo year: follow-up registers, credit exports, next year's registers,
    the year's index (:func:`~dsr_analysis.workflows.demo_closing`)."""
    from .workflows import demo_closing

    closing = demo_closing(policy, args.demo_year, out_dir, args.demo_followups,
                           getattr(args, "registers", None))
    for register in closing.case_registers:
        print(_("[follow-ups] {summary}: {path}").format(summary=register.summary(),
                                                         path=register.written))
    print(_("[credit] credit records of {n} months of published results: "
            "{dir}/credit-YYYY-MM.xlsx|csv (and per firm)").format(
        n=len(closing.credit), dir=Path(out_dir) / 'credit'))
    print(_("[rollover] {summary}: {dir}; change report {report}").format(
        summary=closing.rollover.summary(), dir=closing.rollover.directory,
        report=closing.rollover.report))
    print(_("[loop] the year's documents in one place: open {path}").format(
        path=closing.index))
