"""``dsr tasks``: the teams' task sheets and the printable task list of a drawn quarter."""

from __future__ import annotations

import argparse
from pathlib import Path

from .i18n import _
from .draw.ledger import DEFAULT_LEDGER
from .fieldwork import write_quarter_fieldwork
from .paths import DEFAULT_POLICY
from .policy import load_policy
from .schema import CONTACT_COLUMNS


def cmd_tasks(args: argparse.Namespace) -> int:
    outputs = Path(args.outputs) if args.outputs else Path(args.ledger).parent
    written = write_quarter_fieldwork(args.ledger, args.quarter, load_policy(args.policy),
                                      outputs, unit=args.unit, registers_dir=args.registers)
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


def register(sub) -> None:
    p = sub.add_parser("tasks", help=_("task sheets (DOCX, PDF) per team and the printable task "
                                     "list (XLSX, PDF) of a drawn quarter, from the ledger"))
    p.add_argument("--quarter", required=True, help=_("quarter, e.g. 2023Q1"))
    p.add_argument("--unit", help=_("only this unit (default: every unit drawn)"))
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help=_("ledger (default %(default)s)"))
    p.add_argument("--outputs", help=_("output directory (default: the ledger's folder)"))
    p.add_argument("--registers", default=None,
                   help=_("directory of the register files the draw was made on (default: the "
                        "directory the ledger recorded; their SHA-256 must match)"))
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy YAML, for the bureaus' names (default: %(default)s)"))
    p.set_defaults(func=cmd_tasks)
