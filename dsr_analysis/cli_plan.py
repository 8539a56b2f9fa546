"""``dsr plan publish`` / ``dsr plan amend``: the annual plan and its amendments in the ledger
and as public documents; ``dsr items publish``: the public item list (随机抽查事项清单)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .amendments import record_amendment, record_plan, revisions_table
from .draw.ledger import DEFAULT_LEDGER, head
from .itemlist import publish_item_list
from .paths import DEFAULT_POLICY, OUTPUTS_DIR
from .policy import load_policy
from .registers import load_registers, register_directory


def _outputs(args: argparse.Namespace) -> Path:
    return Path(args.outputs) if args.outputs else Path(args.ledger).parent


def _items(args: argparse.Namespace, policy):
    if args.registers is not None:
        register_directory(args.registers)
    return load_registers(args.registers, units=policy.unit_names).items


def _print_revision(rev, written, ledger) -> None:
    print(f"{rev.year}年度抽查计划 {rev.label_zh}: ledger entry #{rev.seq}, dated "
          f"{rev.date.isoformat()}, effective {rev.effective.isoformat()} "
          f"({rev.effective_quarter.label} on), policy SHA-256 {rev.policy_sha256}")
    for c in rev.changes:
        print(f"  调整：{c['text']}")
    for p in written:
        print(f"  wrote {p}")
    print(f"ledger head {head(ledger)}")


def cmd_plan_publish(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    rev, written = record_plan(policy, args.ledger, _outputs(args), args.date,
                               items=_items(args, policy))
    _print_revision(rev, written, args.ledger)
    return 0


def cmd_plan_amend(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    rev, written = record_amendment(policy, args.ledger, _outputs(args), args.reason,
                                    args.effective, args.date, items=_items(args, policy))
    _print_revision(rev, written, args.ledger)
    return 0


def cmd_plan_show(args: argparse.Namespace) -> int:
    table = revisions_table(args.ledger, args.year)
    if table.empty:
        print(f"{args.ledger}: no {args.year} plan recorded or committed")
        return 0
    print(table.to_string(index=False))
    return 0


def cmd_items_publish(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    version = publish_item_list(_items(args, policy), policy, args.outputs, args.date,
                                unit=args.unit)
    if not version.written:
        print(f"随机抽查事项清单 unchanged since version {version.version} "
              f"({version.date.isoformat()}); nothing written")
        return 0
    print(f"随机抽查事项清单 第{version.version}版, dated {version.date.isoformat()}, "
          f"{len(version.rows)} items, {len(version.changes)} change(s)")
    for c in version.changes:
        print(f"  变更：{c['text']}")
    for p in version.files:
        print(f"  wrote {p}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help="ledger (default %(default)s)")
    p.add_argument("--outputs", help="output directory (default: the ledger's folder); the "
                                     "documents go to OUTPUTS/plan/YEAR/")
    p.add_argument("--registers", default=None,
                   help="register directory whose item register is the plan's annex "
                        "(default: the embedded sample)")


def register(sub) -> None:
    plan = sub.add_parser("plan", help="the annual plan in the ledger: publish it, amend it")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)
    p = plan_sub.add_parser("publish", help="record the year's plan as published, with its "
                                            "date, and write its document (DOCX, PDF)")
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help="the plan's policy YAML (default: %(default)s)")
    p.add_argument("--date", help="the plan's date, YYYY-MM-DD: a working day, not after today "
                                  "(default today)")
    _common(p)
    p.set_defaults(func=cmd_plan_publish)
    p = plan_sub.add_parser("amend", help="record an amendment of the year's plan (第N次调整) and "
                                          "write its document beside the original")
    p.add_argument("--policy", required=True, help="the amended policy YAML")
    p.add_argument("--reason", required=True, help="调整说明: why the plan changes (published)")
    p.add_argument("--effective", required=True,
                   help="YYYY-MM-DD: the amended plan applies to this day's quarter and later; "
                        "refused if that quarter was already committed or drawn")
    p.add_argument("--date", help="the decision date, YYYY-MM-DD: a working day, not after "
                                  "today, not after --effective (default today)")
    _common(p)
    p.set_defaults(func=cmd_plan_amend)

    p = plan_sub.add_parser("show", help="the year's plan revisions in the ledger and the "
                                         "quarters each applies to")
    p.add_argument("--year", type=int, required=True, help="the plan's year, e.g. 2023")
    p.add_argument("--ledger", default=str(DEFAULT_LEDGER), help="ledger (default %(default)s)")
    p.set_defaults(func=cmd_plan_show)

    items = sub.add_parser("items", help="the public item list (随机抽查事项清单)")
    items_sub = items.add_subparsers(dest="items_command", required=True)
    p = items_sub.add_parser("publish", help="publish the item list (XLSX, PDF) with a version "
                                             "number when the item register changed")
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help="policy YAML: category scope, methods, issuer (default: %(default)s)")
    p.add_argument("--registers", default=None,
                   help="register directory (default: the embedded sample)")
    p.add_argument("--date", help="publication date, YYYY-MM-DD: a working day, not after "
                                  "today (default today)")
    p.add_argument("--unit", help="the publishing unit (default: the new-area level)")
    p.add_argument("--outputs", default=str(OUTPUTS_DIR),
                   help="output directory; the list goes to OUTPUTS/items/ (default %(default)s)")
    p.set_defaults(func=cmd_items_publish)
