"""``dsr tasks``: the teams' task sheets and the printable task list of a drawn quarter."""

from __future__ import annotations

import argparse

from .cli import (add_ledger, add_outputs, add_policy, add_quarter, add_registers, add_unit,
                  outputs_dir)
from .fieldwork import write_quarter_fieldwork
from .i18n import _
from .policy import load_policy
from .schema import CONTACT_COLUMNS


def cmd_tasks(args: argparse.Namespace) -> int:
    written = write_quarter_fieldwork(args.ledger, args.quarter, load_policy(args.policy),
                                      outputs_dir(args), unit=args.unit, registers_dir=args.registers)
    for w, paths in written:
        print(_("{quarter} {unit}, draw #{seq}: {tasks} tasks, {teams} teams").format(
            quarter=w.quarter, unit=w.unit_name, seq=w.entry.seq,
            tasks=sum(len(t.task_ids) for t in w.teams), teams=len(w.teams)))
        for p in paths:
            print(_("  wrote {path}").format(path=p))
        absent = [c for c in CONTACT_COLUMNS if c not in w.contacts]
        if absent:
            print(_("  note: the enterprise register has no {columns} column(s) (详细地址 / "
                    "联系电话 / 法定代表人): the sheets leave them out").format(
                columns=", ".join(absent)))
    print(_("internal: confidential until the visits"))
    return 0


def tasks_parser(p: argparse.ArgumentParser) -> None:
    add_quarter(p)
    add_unit(p, help=_("only this unit (default: every unit drawn)"))
    add_ledger(p)
    add_outputs(p, by_ledger=True)
    add_registers(p, help=_("directory of the register files the draw was made on (default: "
                            "the directory the ledger recorded; their SHA-256 must match)"))
    add_policy(p, help=_("policy YAML, for the bureaus' names (default: %(default)s)"))
    p.set_defaults(func=cmd_tasks)
