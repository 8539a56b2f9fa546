"""The ``dsr`` command line: the package's face for staff working in batch.

This module is light: it builds the parser from :data:`COMMANDS` (name, the function that
declares the command's options, help text) and imports only the module of the command that
runs, so ``dsr --help`` answers at once and no command pays for another's libraries. A
command is argument parsing, one call into the library and printing; its options shared
with other commands (``--policy``, ``--registers``, ``--ledger``, ``--quarter``, ``--unit``,
``--outputs``, ``--columns``, ``--lang``) are declared here, once.

Adding a command: a module ``cli_NAME.py`` with a function ``NAME_parser(p)`` that adds the
options to ``p`` and ``p.set_defaults(func=cmd_NAME)``, and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NamedTuple

from . import __version__
from .errors import DsrError, FileSystemError, RegisterError, os_message
from .i18n import LANGUAGES, N_, _, ngettext, set_language
from .paths import DEFAULT_POLICY, OUTPUTS_DIR


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


def add_policy(p: argparse.ArgumentParser, help: str | None = None,
               required: bool = False) -> None:
    """``--policy``: the plan's policy YAML, or a name in ``parameters/policies/``."""
    p.add_argument("--policy", required=required,
                   default=None if required else str(DEFAULT_POLICY),
                   help=help or _("policy YAML, or a name in parameters/policies/ (default: "
                                  "%(default)s)"))


def add_registers(p: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--registers``: the register directory."""
    p.add_argument("--registers", default=None,
                   help=help or _("register directory (default: the embedded synthetic "
                                  "sample)"))


def add_quarter(p: argparse.ArgumentParser, required: bool = True,
                help: str | None = None) -> None:
    """``--quarter``: a quarter such as 2023Q1."""
    p.add_argument("--quarter", required=required, default=None,
                   help=help or _("quarter, e.g. 2023Q1"))


def add_ledger(p: argparse.ArgumentParser, help: str | None = None,
               default: bool = True) -> None:
    """``--ledger``: the draw ledger (by default ``outputs/ledger.sqlite``; ``default=False``:
    none unless given)."""
    value = None
    if default:
        from .draw.ledger import DEFAULT_LEDGER

        value = str(DEFAULT_LEDGER)
    p.add_argument("--ledger", default=value, help=help or _("ledger (default %(default)s)"))


def add_outputs(p: argparse.ArgumentParser, help: str | None = None,
                by_ledger: bool = False) -> None:
    """``--outputs``: the output directory (``by_ledger``: by default the ledger's folder,
    :func:`outputs_dir`)."""
    if by_ledger:
        p.add_argument("--outputs", default=None,
                       help=help or _("output directory (default: the ledger's folder)"))
    else:
        p.add_argument("--outputs", default=str(OUTPUTS_DIR), help=help or _("output directory"))


def add_unit(p: argparse.ArgumentParser, help: str | None = None, default: str | None = None
             ) -> None:
    """``--unit``: one unit (id or Chinese name)."""
    p.add_argument("--unit", default=default,
                   help=help or _("unit id or Chinese name (default: every unit)"))


def add_columns(p: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--columns``: Chinese headers and names for people, or the machine form."""
    from .presentation import COLUMN_FORMS

    p.add_argument("--columns", choices=COLUMN_FORMS, default="zh",
                   help=help or _("zh (default): Chinese headers, unit and category names, for "
                                  "people; ids: the canonical column names and ids (the "
                                  "machine form, stable for programs)"))


def add_lang(parser: argparse.ArgumentParser, default=None) -> None:
    """``--lang``: the language of the messages (before or after the subcommand)."""
    parser.add_argument("--lang", choices=list(LANGUAGES), default=default,
                        help=_("language of the messages: zh (Chinese) or en (English); "
                               "default: from the environment (LANGUAGE, LC_ALL, LC_MESSAGES, "
                               "LANG), Chinese unless an English locale is set"))


def outputs_dir(args: argparse.Namespace):
    """``--outputs``, by default the folder of ``--ledger``."""
    from pathlib import Path

    return Path(args.outputs) if args.outputs else Path(args.ledger).parent


def register_dir(value: str | None) -> str | None:
    """``--registers`` checked as a path before anything is read: a path that does not exist
    is bad usage (:class:`DsrError`, exit 2, as a missing policy or ledger), a file where the
    register directory belongs is an operating-system problem (:class:`FileSystemError`,
    exit 3)."""
    if value is None:
        return None
    from .registers import register_directory

    register_directory(value)
    return value


def load_inputs(args: argparse.Namespace):
    """The policy (``--policy``) and the registers (``--registers``, checked by
    :func:`register_dir`) a command works on."""
    from .policy import load_policy
    from .registers import load_registers

    policy = load_policy(args.policy)
    return policy, load_registers(register_dir(args.registers), units=policy.unit_names)


class Command(NamedTuple):
    """A subcommand: its name, the module holding it (``dsr_analysis.<module>``, imported only
    when the command runs), the function there that declares its options (``parser(p)``), and
    its one-line help (a message id)."""

    name: str
    module: str
    parser: str
    help: str

    def configure(self, p: argparse.ArgumentParser) -> None:
        """Declare the command's options on ``p`` (imports its module)."""
        import importlib

        getattr(importlib.import_module(f"dsr_analysis.{self.module}"), self.parser)(p)


#: Every subcommand, in the order ``dsr --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    Command("validate", "cli_registers", "validate_parser",
            N_("validate the registers; list every problem")),
    Command("classify", "cli_registers", "classify_parser",
            N_("categories (special / key / general) with reasons")),
    Command("quotas", "cli_registers", "quotas_parser",
            N_("quarterly quota table per unit, category, credit class")),
    Command("demo", "cli_demo", "demo_parser", N_("run the main job on the embedded sample")),
    Command("commit", "cli_draw", "commit_parser",
            N_("step 1: fix and publish a draw's inputs and seed source before the randomness "
               "exists")),
    Command("draw", "cli_draw", "draw_parser",
            N_("step 2: the verifiable draw of a quarter under its commitment: objects, items, "
               "teams")),
    Command("verify", "cli_draw", "verify_parser",
            N_("check the ledger's chain, replay every record, check the files and (with "
               "--head) a published head")),
    Command("timestamp", "cli_timestamp", "timestamp_parser",
            N_("an RFC 3161 timestamp token over the ledger's current head (a TSA's URL, or "
               "request and reply files), stored in the ledger")),
    Command("export", "cli_draw", "export_parser",
            N_("rebuild the files of the ledger's draws (public and internal parts, task "
               "lists)")),
    Command("tasks", "cli_tasks", "tasks_parser",
            N_("task sheets (DOCX, PDF) per team and the printable task list (XLSX, PDF) of a "
               "drawn quarter, from the ledger")),
    Command("results", "cli_results", "results_parser",
            N_("results register: an entry template of a quarter's drawn tasks, and the check "
               "of a filled one")),
    Command("render", "cli_render", "render_parser",
            N_("render the official reports (papermill): HTML, XLSX, index")),
    Command("simulate", "cli_simulate", "simulate_parser",
            N_("simulate a scenario: coverage and deterrence")),
    Command("followups", "cli_followups", "followups_parser",
            N_("follow-up register (后续处置台账): open and overdue cases as of a date (all "
               "cases with --all); XLSX for the office with --output")),
    Command("import-draws", "cli_imports", "import_draws_parser",
            N_("import another bureau's published draws (its public chain, checked against "
               "its published head) into this ledger")),
    Command("credit", "cli_loop", "credit_parser",
            N_("spot-check results for the credit publicity systems (序号 | 检查实施机关 | 类型 "
               "| 日期 | 结果, per firm too; XLSX and CSV), results published in a month or "
               "quarter")),
    Command("rollover", "cli_loop", "rollover_parser",
            N_("next year's registers (penalised / supervision order / complaints of the year "
               "derived) in a new directory, and the category change report (XLSX)")),
    Command("plan", "cli_plan", "plan_parser",
            N_("the annual plan in the ledger: publish it, amend it")),
    Command("items", "cli_plan", "items_parser",
            N_("the public item list (随机抽查事项清单)")),
    Command("numbers", "cli_numbers", "numbers_parser",
            N_("document numbers (发文字号) given to the reports: one series per unit and "
               "year, never reused")),
)


def chosen_command(argv: Sequence[str] | None = None) -> str | None:
    """The subcommand ``argv`` names (the first word that is not an option or the value of
    ``--lang``), or None."""
    tokens = list(sys.argv[1:] if argv is None else argv)
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token.startswith("-"):
            # --lang VALUE (argparse also accepts a prefix of it: --la VALUE)
            skip = "=" not in token and len(token) > 3 and "--lang".startswith(token)
        else:
            return token
    return None


def build_parser(argv: Sequence[str] | None = None, every: bool = False
                 ) -> argparse.ArgumentParser:
    """The ``dsr`` parser: every subcommand listed, only the options of the one ``argv``
    names declared (its module imported); ``every``: all of them (every module imported)."""
    parser = Parser(
        prog="dsr", description=_("Double-random, one-public (双随机、一公开) supervision "
                                  "workbench"))
    parser.add_argument("--version", action="version", version=f"dsr_analysis {__version__}",
                        help=_("show the version and exit"))
    add_lang(parser)
    sub = parser.add_subparsers(dest="command", required=True, title=_("commands"),
                                metavar=_("COMMAND"))
    chosen = None if every else chosen_command(argv)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=_(command.help))
        if every or command.name == chosen:
            command.configure(p)
    return parser


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


def _run(args: argparse.Namespace) -> int:
    """The command, its tables printed with Chinese characters two columns wide."""
    import pandas as pd

    with pd.option_context("display.unicode.east_asian_width", True):
        return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    lang = choose_language(argv)
    args = build_parser(argv).parse_args(argv)
    import sqlite3

    try:
        with _ChildLanguage(lang):
            return _run(args)
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
