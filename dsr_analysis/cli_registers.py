"""``dsr validate``, ``dsr classify`` and ``dsr quotas``: the registers checked, classified
and turned into the quarter's quotas."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cli import add_columns, add_policy, add_quarter, add_registers, load_inputs
from .i18n import _

# ``dsr validate`` answers in about a second: what only classify and quotas need (the
# presentation tables, the draw's labels) is imported by them.


def cmd_validate(args: argparse.Namespace) -> int:
    from .items import item_warnings

    policy, registers = load_inputs(args)
    print(_("registers OK ({enterprises} enterprises, {inspectors} inspectors, {experts} "
            "experts, {items} items) against policy {policy}").format(
        enterprises=len(registers.enterprises), inspectors=len(registers.inspectors),
        experts=len(registers.experts), items=len(registers.items), policy=policy.name))
    for warning in item_warnings(registers, policy):  # valid registers: exit 0 all the same
        print(_("warning: {message}").format(message=warning), file=sys.stderr)
    return 0


def _emit(frame, fmt: str, out: Path | None) -> None:
    from .export import BOM, csv_text

    if fmt == "csv":
        # text that a spreadsheet would run as a formula is neutralised; the BOM tells a
        # Chinese Excel the file is UTF-8 (without it, it shows mojibake)
        text = BOM + csv_text(frame)
    elif fmt == "json":
        text = json.dumps(json.loads(frame.to_json(orient="records", force_ascii=False)),
                          ensure_ascii=False, indent=1) + "\n"
    else:
        text = frame.to_string(index=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    from .documents.layout import write_atomically

    write_atomically(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    print(_("wrote {path}").format(path=out), file=sys.stderr)


def cmd_classify(args: argparse.Namespace) -> int:
    from .categories import classify
    from .presentation import classification_table

    policy, registers = load_inputs(args)
    classified = classify(registers.enterprises, policy)
    _emit(classification_table(classified, policy, args.columns), args.format,
          Path(args.output) if args.output else None)
    return 0


def cmd_quotas(args: argparse.Namespace) -> int:
    from .categories import classify
    from .presentation import quota_check_line, quota_table
    from .quotas import quarterly_quotas, quota_checks

    policy, registers = load_inputs(args)
    classified = classify(registers.enterprises, policy)
    table = quarterly_quotas(classified, policy, args.quarter, registers.inspectors)
    _emit(quota_table(table, args.columns), args.format,
          Path(args.output) if args.output else None)
    for check in quota_checks(table, policy, registers.inspectors):
        print(quota_check_line(check, policy), file=sys.stderr)
    return 0


def _output_options(p: argparse.ArgumentParser, default: str) -> None:
    if default == "csv":
        p.add_argument("--format", choices=["table", "csv", "json"], default="csv",
                       help=_("table, csv (default; with a BOM for Excel) or json"))
    else:
        p.add_argument("--format", choices=["table", "csv", "json"], default="table",
                       help=_("table (default), csv (with a BOM for Excel) or json"))
    add_columns(p)
    p.add_argument("--output", help=_("write to this file instead of standard output"))


def validate_parser(p: argparse.ArgumentParser) -> None:
    add_policy(p)
    add_registers(p)
    p.set_defaults(func=cmd_validate)


def classify_parser(p: argparse.ArgumentParser) -> None:
    add_policy(p)
    add_registers(p)
    _output_options(p, "csv")
    p.set_defaults(func=cmd_classify)


def quotas_parser(p: argparse.ArgumentParser) -> None:
    add_policy(p)
    add_registers(p)
    add_quarter(p)
    _output_options(p, "table")
    p.set_defaults(func=cmd_quotas)
