"""``dsr plan publish`` / ``dsr plan amend``: the annual plan and its amendments in the ledger
and as public documents; ``dsr items publish``: the public item list (随机抽查事项清单)."""

from __future__ import annotations

import argparse

from .amendments import record_amendment, record_plan, revisions_table
from .cli import (add_ledger, add_outputs, add_policy, add_registers, outputs_dir,
                  register_dir)
from .draw.ledger import head
from .i18n import _
from .itemlist import publish_item_list
from .policy import load_policy
from .registers import load_registers


def _items(args: argparse.Namespace, policy):
    return load_registers(register_dir(args.registers), units=policy.unit_names).items


def _print_revision(rev, written, ledger) -> None:
    print(_("{year} annual spot-check plan, {label}: ledger entry #{seq}, dated {date}, "
            "effective {effective} ({quarter} on), SHA-256 of the plan parameters "
            "{sha}").format(year=rev.year, label=rev.label_zh, seq=rev.seq,
                            date=rev.date.isoformat(), effective=rev.effective.isoformat(),
                            quarter=rev.effective_quarter.label, sha=rev.policy_sha256))
    for c in rev.changes:
        print(_("  change: {text}").format(text=c['text']))
    for p in written:
        print(_("  wrote {path}").format(path=p))
    print(_("ledger head {head}").format(head=head(ledger)))


def cmd_plan_publish(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    rev, written = record_plan(policy, args.ledger, outputs_dir(args), args.date,
                               items=_items(args, policy))
    _print_revision(rev, written, args.ledger)
    return 0


def cmd_plan_amend(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    rev, written = record_amendment(policy, args.ledger, outputs_dir(args), args.reason,
                                    args.effective, args.date, items=_items(args, policy))
    _print_revision(rev, written, args.ledger)
    return 0


def cmd_plan_show(args: argparse.Namespace) -> int:
    table = revisions_table(args.ledger, args.year)
    if table.empty:
        print(_("{ledger}: no {year} plan recorded or committed").format(ledger=args.ledger,
                                                                          year=args.year))
        return 0
    print(table.to_string(index=False))
    return 0


def cmd_items_publish(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    version = publish_item_list(_items(args, policy), policy, args.outputs, args.date,
                                unit=args.unit)
    if not version.written:
        print(_("item list (随机抽查事项清单) unchanged since version {version} ({date}); "
                "nothing written").format(version=version.version,
                                          date=version.date.isoformat()))
        return 0
    print(_("item list (随机抽查事项清单) version {version}, dated {date}, {items} items, "
            "{changes} change(s)").format(version=version.version,
                                          date=version.date.isoformat(),
                                          items=len(version.rows), changes=len(version.changes)))
    for c in version.changes:
        print(_("  change: {text}").format(text=c['text']))
    for p in version.files:
        print(_("  wrote {path}").format(path=p))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    add_ledger(p)
    add_outputs(p, by_ledger=True, help=_("output directory (default: the ledger's folder); the "
                                          "documents go to OUTPUTS/plan/YEAR/"))
    add_registers(p, help=_("register directory whose item register is the plan's annex "
                            "(default: the embedded sample)"))


def plan_parser(plan: argparse.ArgumentParser) -> None:
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)
    p = plan_sub.add_parser("publish", help=_("record the year's plan as published, with its "
                                              "date, and write its document (DOCX, PDF)"))
    add_policy(p, help=_("the plan's policy YAML (default: %(default)s)"))
    p.add_argument("--date", help=_("the plan's date, YYYY-MM-DD: a working day, not after today "
                                  "(default today)"))
    _common(p)
    p.set_defaults(func=cmd_plan_publish)
    p = plan_sub.add_parser("amend", help=_("record an amendment of the year's plan (第N次调整) and "
                                          "write its document beside the original"))
    add_policy(p, help=_("the amended policy YAML"), required=True)
    p.add_argument("--reason", required=True, help=_("调整说明: why the plan changes (published)"))
    p.add_argument("--effective", required=True,
                   help=_("YYYY-MM-DD: the amended plan applies to this day's quarter and later; "
                        "refused if that quarter was already committed or drawn"))
    p.add_argument("--date", help=_("the decision date, YYYY-MM-DD: a working day, not after "
                                  "today, not after --effective (default today)"))
    _common(p)
    p.set_defaults(func=cmd_plan_amend)

    p = plan_sub.add_parser("show", help=_("the year's plan revisions in the ledger and the "
                                         "quarters each applies to"))
    p.add_argument("--year", type=int, required=True, help=_("the plan's year, e.g. 2023"))
    add_ledger(p)
    p.set_defaults(func=cmd_plan_show)


def items_parser(items: argparse.ArgumentParser) -> None:
    items_sub = items.add_subparsers(dest="items_command", required=True)
    p = items_sub.add_parser("publish", help=_("publish the item list (XLSX, PDF) with a version "
                                             "number when the item register changed"))
    add_policy(p, help=_("policy YAML: category scope, methods, issuer (default: %(default)s)"))
    add_registers(p, help=_("register directory (default: the embedded sample)"))
    p.add_argument("--date", help=_("publication date, YYYY-MM-DD: a working day, not after "
                                  "today (default today)"))
    p.add_argument("--unit", help=_("the publishing unit (default: the new-area level)"))
    add_outputs(p, help=_("output directory; the list goes to OUTPUTS/items/ (default "
                          "%(default)s)"))
    p.set_defaults(func=cmd_items_publish)
