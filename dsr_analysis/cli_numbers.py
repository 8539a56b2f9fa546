"""``dsr numbers``: the register of document numbers (发文字号) the reports have been given."""

from __future__ import annotations

import argparse

from .documents.numbers import numbers_table, register_path
from .i18n import _
from .paths import DEFAULT_POLICY, OUTPUTS_DIR


def cmd_numbers(args: argparse.Namespace) -> int:
    table = numbers_table(args.register, args.unit, args.policy, args.columns)
    if table.empty:
        print(_("no document number given yet in {path}").format(path=args.register))
        return 0
    print(table.to_string(index=False))
    return 0


def register(sub) -> None:
    p = sub.add_parser("numbers", help=_("document numbers (发文字号) given to the reports: one "
                                       "series per unit and year, never reused"))
    p.add_argument("--register", default=str(register_path(OUTPUTS_DIR)),
                   help=_("register of document numbers (SQLite, default %(default)s)"))
    p.add_argument("--unit", default=None, help=_("unit id or Chinese name (default: every unit)"))
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy YAML, or a name in parameters/policies/ (default: %(default)s)"))
    p.add_argument("--columns", choices=("zh", "ids"), default="zh",
                   help=_("zh: Chinese headers and names (default); ids: the machine form"))
    p.set_defaults(func=cmd_numbers)
