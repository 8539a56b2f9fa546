"""The ``dsr`` command line: the package's face for staff working in batch."""

from __future__ import annotations

import argparse
import os
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import __version__
from .categories import classify
from .export import BOM, csv_text, write_csv
from .errors import FileSystemError, os_message
from .errors import DsrError, RegisterError
from .items import item_warnings
from .paths import DEFAULT_POLICY, OUTPUTS_DIR
from .periods import quarters_of
from .policy import load_policy
from .quotas import quarterly_quotas, quota_checks, quota_summary_zh
from .registers import load_registers, register_directory


def _add_common(p: argparse.ArgumentParser, quarter: bool = False) -> None:
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help="policy YAML, or a name in parameters/policies/ (default: %(default)s)")
    p.add_argument("--registers", default=None,
                   help="register directory (default: the embedded synthetic sample)")
    if quarter:
        p.add_argument("--quarter", required=True, help="quarter, e.g. 2023Q1")


def register_dir(value: str | None) -> str | None:
    """``--registers`` checked as a path before anything is read: a path that does not exist
    is bad usage (:class:`DsrError`, exit 2, as a missing policy or ledger), a file where the
    register directory belongs is an operating-system problem (:class:`FileSystemError`,
    exit 3)."""
    if value is None:
        return None
    register_directory(value)
    return value


def _load(args: argparse.Namespace):
    policy = load_policy(args.policy)
    registers = load_registers(register_dir(args.registers), units=policy.unit_names)
    return policy, registers


def cmd_validate(args: argparse.Namespace) -> int:
    policy, registers = _load(args)
    counts = ", ".join(f"{len(getattr(registers, n))} {n}" for n in
                       ("enterprises", "inspectors", "experts", "items"))
    print(f"registers OK ({counts}) against policy {policy.id}")
    for warning in item_warnings(registers, policy):  # valid registers: exit 0 all the same
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _emit(frame: pd.DataFrame, fmt: str, out: Path | None) -> None:
    if fmt == "csv":
        # text that a spreadsheet would run as a formula is neutralised; the BOM tells a
        # Chinese Excel the file is UTF-8 (without it, it shows mojibake)
        text = BOM + csv_text(frame)
    elif fmt == "json":
        text = json.dumps(json.loads(frame.to_json(orient="records", force_ascii=False)),
                          ensure_ascii=False, indent=1) + "\n"
    else:
        text = frame.to_string(index=False) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_classify(args: argparse.Namespace) -> int:
    policy, registers = _load(args)
    classified = classify(registers.enterprises, policy)
    cols = ["uscc", "name", "unit", "category", "category_reason"]
    _emit(classified[cols], args.format, Path(args.output) if args.output else None)
    return 0


def cmd_quotas(args: argparse.Namespace) -> int:
    policy, registers = _load(args)
    classified = classify(registers.enterprises, policy)
    table = quarterly_quotas(classified, policy, args.quarter, registers.inspectors)
    _emit(table, args.format, Path(args.output) if args.output else None)
    for check in quota_checks(table, policy, registers.inspectors):
        verdict = "met" if check.met else "NOT MET"
        print(f"[{check.rule}] {check.check}: {check.value:.3g} (target {check.target:.3g}) "
              f"{verdict}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the embedded sample: validate, classify, quotas of the year."""
    out_dir = Path(args.outputs)
    policy, registers = _load(args)  # bad registers: exit 1 before anything is written
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"[1] registers valid: {len(registers.enterprises)} enterprises, "
          f"{len(registers.inspectors)} inspectors, {len(registers.experts)} experts, "
          f"{len(registers.items)} items ({registers.sources['enterprises']})")
    classified = classify(registers.enterprises, policy)
    write_csv(classified, out_dir / "classification.csv")
    counts = classified.groupby(["unit", "category"]).size().unstack(fill_value=0)
    print("[2] categories (R2):")
    print(counts.to_string())
    tables = []
    for q in quarters_of(policy.year):
        table = quarterly_quotas(classified, policy, q, registers.inspectors)
        tables.append(table)
        write_csv(table, out_dir / f"quotas-{q.label}.csv")
    year_table = pd.concat(tables, ignore_index=True)
    write_csv(year_table, out_dir / f"quotas-{policy.year}.csv")
    print(f"[3] quarterly quotas {policy.year} (R3, R4), {quarters_of(policy.year)[0].label}:")
    print(quota_summary_zh(tables[0]).to_string(index=False))
    for check in quota_checks(tables[0], policy, registers.inspectors):
        print(f"    [{check.rule}] {check.check}: {check.value:.1%} "
              f"(target >= {check.target:.0%}) {'met' if check.met else 'NOT MET'}")
    print(f"    saved: {out_dir}/classification.csv, {out_dir}/quotas-{policy.year}.csv "
          "and one file per quarter")
    for module in _command_modules():
        step = getattr(module, "demo_step", None)
        if step is not None:
            step(args, policy, registers, out_dir)
    return 0


#: Modules adding subcommands; each has ``register(subparsers)`` and may have
#: ``demo_step(args, policy, registers, out_dir)``, run by ``dsr demo`` in this order.
COMMAND_MODULES: list[str] = ["cli_draw", "cli_tasks", "cli_results", "cli_render",
                              "cli_simulate", "cli_followups", "cli_imports", "cli_loop",
                              "cli_plan"]


def _command_modules() -> list:
    import importlib

    return [importlib.import_module(f"dsr_analysis.{name}") for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsr", description="Double-random, one-public (双随机、一公开) supervision workbench")
    parser.add_argument("--version", action="version", version=f"dsr_analysis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate the registers; list every problem")
    _add_common(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("classify", help="categories (special / key / general) with reasons")
    _add_common(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="csv")
    p.add_argument("--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("quotas", help="quarterly quota table per unit, category, credit class")
    _add_common(p, quarter=True)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--output", help="write to this file instead of standard output")
    p.set_defaults(func=cmd_quotas)

    p = sub.add_parser("demo", help="run the main job on the embedded sample")
    _add_common(p)
    p.add_argument("--outputs", default=str(OUTPUTS_DIR), help="output directory")
    p.set_defaults(func=cmd_demo)

    for module in _command_modules():
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RegisterError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; nothing was written.", file=sys.stderr)
        return 1
    except FileSystemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except DsrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # permissions, a full disk, a directory where a file belongs …
        print(f"error: {os_message(exc)} (operating system)", file=sys.stderr)
        return 3
    except sqlite3.OperationalError as exc:  # a ledger on a full or read-only disk
        print(f"error: {getattr(args, 'ledger', None) or 'ledger'}: {exc} (operating system)",
              file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

