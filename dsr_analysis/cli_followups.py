"""``dsr followups``: the follow-up register (后续处置台账), open and overdue cases as of a date."""

from __future__ import annotations

import argparse

from .cli import add_ledger, add_policy, add_unit
from .followups import followups_report
from .i18n import _
from .values import parse_date


def _date(text: str):
    day = parse_date(text)
    if day is None:
        raise argparse.ArgumentTypeError(_("'{text}' is not a date (use YYYY-MM-DD)").format(
            text=text))
    return day


def cmd_followups(args: argparse.Namespace) -> int:
    register = followups_report(args.ledger, args.results, args.followups, args.unit,
                                args.as_of, args.policy, args.all, args.output)
    print(register.summary())
    print(register.text())
    if register.written is not None:
        print(_("register written to {path}").format(path=register.written))
    return 0


def followups_parser(p: argparse.ArgumentParser) -> None:
    add_ledger(p)
    p.add_argument("--results", required=True,
                   help=_("results register (CSV/XLSX) of the ledger's tasks"))
    p.add_argument("--followups", default=None,
                   help=_("follow-up file (CSV/XLSX): one row per dated update of a case"))
    add_unit(p)
    p.add_argument("--as-of", type=_date, default=None,
                   help=_("数据截止日期 YYYY-MM-DD: updates dated later are ignored (default: today)"))
    add_policy(p)
    p.add_argument("--all", action="store_true", help=_("list every case, closed ones too"))
    p.add_argument("--output", default=None, help=_("write the office's workbook (XLSX) here"))
    p.set_defaults(func=cmd_followups)
