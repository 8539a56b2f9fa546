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
from .categories import CATEGORY_ZH, classify
from .export import BOM, csv_text, write_csv
from .errors import FileSystemError, os_message
from .errors import DsrError, RegisterError
from .i18n import LANGUAGES, N_, _, ngettext, set_language
from .items import item_warnings
from .paths import DEFAULT_POLICY, OUTPUTS_DIR
from .periods import quarters_of
from .policy import load_policy
from .presentation import COLUMN_FORMS, classification_table, quota_check_line, quota_table
from .quotas import quarterly_quotas, quota_checks, quota_summary_zh
from .registers import load_registers, register_directory


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: Chinese punctuation that never begins a line.
_NO_LINE_START = frozenset("，。；：、）》」’”！？")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout with Chinese text wrapped by its printed width (a Chinese
    character takes two columns) and between characters, never inside a Latin word."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import re

        tokens = re.findall(r"\s+|[!-~]+|[^\x00-\x7f]", " ".join(text.split()))
        lines, line = [], ""
        for token in tokens:
            if (line and _display_width(line + token) > width and not token.isspace()
                    and token not in _NO_LINE_START):
                lines.append(line.rstrip())
                line = ""
            if not (token.isspace() and not line):
                line += token
        if line.strip():
            lines.append(line.rstrip())
        return lines or [""]

    def _format_action(self, action) -> str:
        """An option with its help; where the invocation holds Chinese (``--policy 方案文件``)
        the help column is kept by the printed width, not the character count."""
        text = super()._format_action(action)
        inv = self._format_action_invocation(action)
        extra = _display_width(inv) - len(inv)
        head = " " * self._current_indent + inv
        first, newline, rest = text.partition("\n")
        if extra <= 0 or not first.startswith(head) or not first[len(head):].strip():
            return text
        tail = first[len(head):]
        spaces = len(tail) - len(tail.lstrip(" "))
        if spaces - extra >= 2:
            first = head + tail[extra:]
        else:
            position = min(self._action_max_length + 2, self._max_help_position)
            first = head + "\n" + " " * position + tail.lstrip(" ")
        return first + newline + rest


#: The placeholders of option values in ``--help`` (argparse's upper-case ``dest``).
METAVARS = {
    "ADDRESS": N_("ADDRESS"), "AS_OF": N_("AS_OF"), "CAMPAIGN": N_("CAMPAIGN"),
    "CHUNK_SIZE": N_("CHUNK_SIZE"), "DATE": N_("DATE"), "DELIVERIES": N_("DELIVERIES"),
    "EFFECTIVE": N_("EFFECTIVE"), "FOLLOWUPS": N_("FOLLOWUPS"), "HEAD": N_("HEAD"),
    "LEDGER": N_("LEDGER"), "MONTH": N_("MONTH"), "ORIGIN": N_("ORIGIN"),
    "OUTPUT": N_("OUTPUT"), "OUTPUTS": N_("OUTPUTS"), "POLICY": N_("POLICY"),
    "PREVIOUS": N_("PREVIOUS"), "QUARTER": N_("QUARTER"), "REASON": N_("REASON"),
    "REGISTER": N_("REGISTER"), "REGISTERS": N_("REGISTERS"), "REPLICATES": N_("REPLICATES"),
    "REPORT": N_("REPORT"), "RESULTS": N_("RESULTS"), "SCENARIO": N_("SCENARIO"),
    "SEED": N_("SEED"), "SEED_MATERIAL": N_("SEED_MATERIAL"),
    "SEED_SOURCE": N_("SEED_SOURCE"), "SOURCE": N_("SOURCE"), "TARGET": N_("TARGET"),
    "TO": N_("TO"), "UNIT": N_("UNIT"), "UNITS": N_("UNITS"), "WORKERS": N_("WORKERS"),
    "YEAR": N_("YEAR"), "YEARS": N_("YEARS"),
}

#: Actions that take no value (no placeholder).
_FLAG_ACTIONS = {"store_true", "store_false", "store_const", "count", "help", "version"}


class Parser(argparse.ArgumentParser):
    """The ``dsr`` parser: its subcommands' parsers are of this class too (argparse makes
    them of the parent's class), so every ``--help`` wraps Chinese text correctly."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        if self.prog != "dsr" and self.add_help:  # a subcommand: --lang after it works too
            add_lang(self, default=argparse.SUPPRESS)

    def add_argument(self, *args, **kwargs):
        """An option's value placeholder in the language of the messages (``--policy 方案文件``)."""
        if args and str(args[0]).startswith("-") and kwargs.get("action") not in _FLAG_ACTIONS \
                and not kwargs.get("choices"):
            name = kwargs.get("metavar") or (kwargs.get("dest") or next(
                (a for a in args if str(a).startswith("--")), args[0]).lstrip("-")
                .replace("-", "_")).upper()
            if name in METAVARS:
                kwargs["metavar"] = _(METAVARS[name])
        return super().add_argument(*args, **kwargs)

    def format_help(self) -> str:
        """The help; a Chinese section heading ends in a full-width colon (选项：)."""
        import re

        return re.sub(r"^([^\s:][^:\n]*[\u4e00-\u9fff]):$", r"\1：", super().format_help(),
                      flags=re.M)


def _add_common(p: argparse.ArgumentParser, quarter: bool = False) -> None:
    p.add_argument("--policy", default=str(DEFAULT_POLICY),
                   help=_("policy YAML, or a name in parameters/policies/ (default: "
                          "%(default)s)"))
    p.add_argument("--registers", default=None,
                   help=_("register directory (default: the embedded synthetic sample)"))
    if quarter:
        p.add_argument("--quarter", required=True, help=_("quarter, e.g. 2023Q1"))


def add_columns(p: argparse.ArgumentParser) -> None:
    """``--columns``: Chinese headers and names for people, or the machine form."""
    p.add_argument("--columns", choices=COLUMN_FORMS, default="zh",
                   help=_("zh (default): Chinese headers, unit and category names, for people; "
                          "ids: the canonical column names and ids (the machine form, stable "
                          "for programs)"))


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
    print(_("registers OK ({enterprises} enterprises, {inspectors} inspectors, {experts} "
            "experts, {items} items) against policy {policy}").format(
        enterprises=len(registers.enterprises), inspectors=len(registers.inspectors),
        experts=len(registers.experts), items=len(registers.items), policy=policy.name))
    for warning in item_warnings(registers, policy):  # valid registers: exit 0 all the same
        print(_("warning: {message}").format(message=warning), file=sys.stderr)
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
        print(_("wrote {path}").format(path=out), file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_classify(args: argparse.Namespace) -> int:
    policy, registers = _load(args)
    classified = classify(registers.enterprises, policy)
    _emit(classification_table(classified, policy, args.columns), args.format,
          Path(args.output) if args.output else None)
    return 0


def cmd_quotas(args: argparse.Namespace) -> int:
    policy, registers = _load(args)
    classified = classify(registers.enterprises, policy)
    table = quarterly_quotas(classified, policy, args.quarter, registers.inspectors)
    _emit(quota_table(table, args.columns), args.format,
          Path(args.output) if args.output else None)
    for check in quota_checks(table, policy, registers.inspectors):
        print(quota_check_line(check, policy), file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the embedded sample: validate, classify, quotas of the year."""
    out_dir = Path(args.outputs)
    policy, registers = _load(args)  # bad registers: exit 1 before anything is written
    out_dir.mkdir(parents=True, exist_ok=True)
    print(_("[1] registers valid: {enterprises} enterprises, {inspectors} inspectors, "
            "{experts} experts, {items} items ({source})").format(
        enterprises=len(registers.enterprises), inspectors=len(registers.inspectors),
        experts=len(registers.experts), items=len(registers.items),
        source=registers.sources['enterprises']))
    classified = classify(registers.enterprises, policy)
    write_csv(classified, out_dir / "classification.csv")
    counts = classified.groupby(["unit", "category"]).size().unstack(fill_value=0)
    counts.index = [policy.unit_names.get(u, u) for u in counts.index]
    counts.columns = [CATEGORY_ZH.get(c, c) for c in counts.columns]
    print(_("[2] categories of the supervised objects:"))
    print(counts.to_string())
    tables = []
    for q in quarters_of(policy.year):
        table = quarterly_quotas(classified, policy, q, registers.inspectors)
        tables.append(table)
        write_csv(table, out_dir / f"quotas-{q.label}.csv")
    year_table = pd.concat(tables, ignore_index=True)
    write_csv(year_table, out_dir / f"quotas-{policy.year}.csv")
    print(_("[3] quarterly quotas {year}, {quarter}:").format(
        year=policy.year, quarter=quarters_of(policy.year)[0].label))
    print(quota_summary_zh(tables[0]).to_string(index=False))
    for check in quota_checks(tables[0], policy, registers.inspectors):
        print(f"    {quota_check_line(check, policy)}")
    print(_("    saved: {dir}/classification.csv, {dir}/quotas-{year}.csv and one file per "
            "quarter").format(dir=out_dir, year=policy.year))
    for module in _command_modules():
        step = getattr(module, "demo_step", None)
        if step is not None:
            step(args, policy, registers, out_dir)
    return 0


#: Modules adding subcommands; each has ``register(subparsers)`` and may have
#: ``demo_step(args, policy, registers, out_dir)``, run by ``dsr demo`` in this order.
COMMAND_MODULES: list[str] = ["cli_draw", "cli_tasks", "cli_results", "cli_render",
                              "cli_simulate", "cli_followups", "cli_imports", "cli_loop",
                              "cli_plan", "cli_numbers"]


def _command_modules() -> list:
    import importlib

    return [importlib.import_module(f"dsr_analysis.{name}") for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="dsr", description=_("Double-random, one-public (双随机、一公开) supervision "
                                  "workbench"))
    parser.add_argument("--version", action="version", version=f"dsr_analysis {__version__}",
                        help=_("show the version and exit"))
    add_lang(parser)
    sub = parser.add_subparsers(dest="command", required=True, title=_("commands"),
                                metavar=_("COMMAND"))

    p = sub.add_parser("validate", help=_("validate the registers; list every problem"))
    _add_common(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("classify", help=_("categories (special / key / general) with reasons"))
    _add_common(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="csv",
                   help=_("table, csv (default; with a BOM for Excel) or json"))
    add_columns(p)
    p.add_argument("--output", help=_("write to this file instead of standard output"))
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("quotas", help=_("quarterly quota table per unit, category, credit "
                                        "class"))
    _add_common(p, quarter=True)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table",
                   help=_("table (default), csv (with a BOM for Excel) or json"))
    add_columns(p)
    p.add_argument("--output", help=_("write to this file instead of standard output"))
    p.set_defaults(func=cmd_quotas)

    p = sub.add_parser("demo", help=_("run the main job on the embedded sample"))
    _add_common(p)
    p.add_argument("--outputs", default=str(OUTPUTS_DIR), help=_("output directory"))
    p.set_defaults(func=cmd_demo)

    for module in _command_modules():
        module.register(sub)
    return parser


def add_lang(parser: argparse.ArgumentParser, default=None) -> None:
    """``--lang``: the language of the messages (before or after the subcommand)."""
    parser.add_argument("--lang", choices=list(LANGUAGES), default=default,
                        help=_("language of the messages: zh (Chinese) or en (English); "
                               "default: from the environment (LANGUAGE, LC_ALL, LC_MESSAGES, "
                               "LANG), Chinese unless an English locale is set"))


def choose_language(argv: Sequence[str] | None) -> str:
    """The language of this run, from ``--lang`` before the subcommand or the environment;
    set before the parser is built, so that ``--help`` speaks it."""
    set_language(None)
    pre = argparse.ArgumentParser(add_help=False, prog="dsr")
    add_lang(pre)
    known, _rest = pre.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    return set_language(known.lang)


class _ChildLanguage:
    """``LANGUAGE`` set for the processes a command starts (report notebooks, workers) while
    it runs, so that they speak the language of the command; restored afterwards."""

    def __init__(self, lang: str):
        self.value = "en" if lang == "en" else "zh_CN"

    def __enter__(self):
        self.before = os.environ.get("LANGUAGE")
        os.environ["LANGUAGE"] = self.value

    def __exit__(self, *exc):
        if self.before is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = self.before


def main(argv: Sequence[str] | None = None) -> int:
    lang = choose_language(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with pd.option_context("display.unicode.east_asian_width", True), _ChildLanguage(lang):
            return int(args.func(args) or 0)
    except RegisterError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = len(exc.problems)
        print(ngettext("{n} problem found; nothing was written.",
                       "{n} problems found; nothing was written.", n).format(n=n),
              file=sys.stderr)
        return 1
    except FileSystemError as exc:
        print(_("error: {message}").format(message=exc), file=sys.stderr)
        return 3
    except DsrError as exc:
        print(_("error: {message}").format(message=exc), file=sys.stderr)
        return 2
    except OSError as exc:  # permissions, a full disk, a directory where a file belongs …
        print(_("error: {message} (operating system)").format(message=os_message(exc)),
              file=sys.stderr)
        return 3
    except sqlite3.OperationalError as exc:  # a ledger on a full or read-only disk
        print(_("error: {path}: {message} (operating system)").format(
            path=getattr(args, "ledger", None) or _("ledger"), message=exc), file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

