"""``dsr numbers``: the register of document numbers (发文字号) the reports have been given."""

from __future__ import annotations

import argparse

from .cli import add_columns, add_policy, add_unit
from .documents.numbers import numbers_table, register_path
from .i18n import _
from .paths import OUTPUTS_DIR


def cmd_numbers(args: argparse.Namespace) -> int:
    table = numbers_table(args.register, args.unit, args.policy, args.columns)
    if table.empty:
        print(_("no document number given yet in {path}").format(path=args.register))
        return 0
    print(table.to_string(index=False))
    return 0


def numbers_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--register", default=str(register_path(OUTPUTS_DIR)),
                   help=_("register of document numbers (SQLite, default %(default)s)"))
    add_unit(p)
    add_policy(p)
    add_columns(p, help=_("zh: Chinese headers and names (default); ids: the machine form"))
    p.set_defaults(func=cmd_numbers)
