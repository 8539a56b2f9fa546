"""``dsr draw`` and ``dsr verify``, and the draw step of ``dsr demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .draw import DRAW_MODE_ZH, RECORD_FORMAT, draw_and_record, parse_target
from .draw.ledger import DEFAULT_LEDGER, entries
from .draw.verify import record_formats, verify_ledger
from .sample import DEMO_SEED_MATERIAL
from .workflows import demo_draws
from .paths import DEFAULT_POLICY, OUTPUTS_DIR
from .policy import Policy, load_policy
from .registers import Registers, load_registers

def cmd_draw(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    registers = load_registers(args.registers, units=policy.unit_names)
    units = [u.strip() for u in args.units.split(",")] if args.units else None
    target = parse_target(args.target)
    result, entry, paths = draw_and_record(
        policy, registers, args.quarter, args.seed_material, Path(args.ledger),
        Path(args.outputs), units=units, target=target, campaign=args.campaign,
        origin=args.origin, registers_dir=args.registers)
    rec = result.record
    tasks = result.tasks
    print(f"draw {rec['quarter']} ({DRAW_MODE_ZH[rec['inputs']['draw_mode']]}), seed "
          f"{rec['inputs']['seed']}")
    print(tasks.groupby(["unit", "method_detail"]).size().unstack(fill_value=0).to_string())
    redraw = f", re-draw of #{entry.redraw_of}" if entry.redraw_of else ""
    print(f"ledger {args.ledger}: entry #{entry.seq}{redraw}, hash {entry.entry_hash}")
    print(f"wrote {paths['record']}, {paths['csv']}, {paths['xlsx']}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    findings = verify_ledger(args.ledger, replay=not args.no_replay)
    n = len(entries(args.ledger))
    if findings:
        for f in findings:
            print(f, file=sys.stderr)
        print(f"ledger {args.ledger}: {len(findings)} finding(s) in {n} entries: NOT verified",
              file=sys.stderr)
        return 1
    what = "chain" if args.no_replay else "chain and replay of every record"
    formats = ", ".join(f"{k}: {v}" for k, v in sorted(record_formats(args.ledger).items()))
    print(f"ledger {args.ledger}: {n} entries ({formats}), {what} OK")
    if any(k != RECORD_FORMAT for k in record_formats(args.ledger)):
        print("records of an earlier format were replayed with the algorithm they were drawn "
              "with (scripts/replay_draw_v1.py)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("draw", help="verifiable draw of a quarter: objects, items, teams")
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help="policy YAML, or a name in parameters/policies/ (default: %(default)s)")
    p.add_argument("--registers", default=None,
                   help="register directory (default: the embedded synthetic sample)")
    p.add_argument("--quarter", required=True, help="quarter, e.g. 2023Q1")
    p.add_argument("--seed-material", required=True,
                   help="published seed material (lottery result, beacon value…)")
    p.add_argument("--units", help="comma-separated unit ids (default: every unit)")
    p.add_argument("--target", help="targeted draw: 'industry=畜禽养殖,食品制造;town=…'")
    p.add_argument("--campaign", help="label of a targeted draw (task ids; default T)")
    p.add_argument("--origin", default="routine",
                   help="task origin (routine, complaint, data_lead…; default %(default)s)")
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help="ledger (default %(default)s)")
    p.add_argument("--outputs", default=str(OUTPUTS_DIR), help="output directory")
    p.set_defaults(func=cmd_draw)

    p = sub.add_parser("verify", help="check the ledger's chain and replay every record")
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help="ledger (default %(default)s)")
    p.add_argument("--no-replay", action="store_true", help="check the hash chain only")
    p.set_defaults(func=cmd_verify)


def demo_step(args: argparse.Namespace, policy: Policy, registers: Registers,
              out_dir: Path) -> None:
    """Draw every quarter of the policy year for every unit into a fresh ledger, verify it."""
    print(f"[draw] verifiable draws {policy.year} (R1, R4-R6), seed material "
          f"'{DEMO_SEED_MATERIAL}':")
    demo = demo_draws(policy, registers, out_dir, getattr(args, "registers", None))
    if demo.previous is not None:
        print(f"[draw] previous ledger moved to {demo.previous}; the demo started a fresh ledger")
    for quarter, result, entry in demo.draws:
        t = result.tasks
        joint = (t["joint_type"] != "none").mean()
        dept = int((t["joint_type"] == "inter_departmental").sum())
        print(f"    {quarter}: {len(t)} tasks ({int((t['method'] == 'onsite').sum())} on-site), "
              f"internal+inter-departmental joint {joint:.0%}, inter-departmental {dept}; "
              f"seed {result.record['inputs']['seed'][:16]}…; ledger #{entry.seq}")
    print(f"[draw] ledger {demo.ledger}: {demo.entries} entries, chain and replay verified; "
          f"task lists in {out_dir}/draws/<quarter>/tasks.csv")
