"""``dsr demo``: the main job on the embedded sample (:func:`dsr_analysis.workflows.demo`)."""

from __future__ import annotations

import argparse

from .cli import add_outputs, add_policy, add_registers, load_inputs
from .i18n import _
from .workflows import demo


def cmd_demo(args: argparse.Namespace) -> int:
    policy, registers = load_inputs(args)  # bad registers: exit 1 before anything is written
    for line in demo(policy, registers, args.outputs, args.registers):
        print(line, flush=True)
    return 0


def demo_parser(p: argparse.ArgumentParser) -> None:
    add_policy(p)
    add_registers(p)
    add_outputs(p, help=_("output directory"))
    p.set_defaults(func=cmd_demo)
