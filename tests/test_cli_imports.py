"""The command line answers at once: ``dsr --help`` and importing the CLI load no heavy
library, and a command imports only its own module (a real interpreter each time, as a user
runs it)."""

from __future__ import annotations

import json
import subprocess
import sys

from dsr_analysis.cli import COMMANDS, build_parser, chosen_command

#: Libraries ``dsr --help`` must not load (each costs a noticeable part of a second or more).
HEAVY = ("pandas", "numpy", "numba", "scipy", "dask", "distributed", "matplotlib",
         "weasyprint", "pyarrow", "openpyxl", "docx", "papermill", "yaml")

_PROBE = """
import contextlib, io, json, sys
{setup}
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}
                        or m.startswith('dsr_analysis.'))))
"""


def _modules_after(setup: str) -> set[str]:
    code = _PROBE.format(setup=setup, heavy=set(HEAVY))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         encoding="utf-8", check=True)
    return set(json.loads(run.stdout.splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} & set(HEAVY)


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _modules_after("import dsr_analysis.cli")
    assert not _heavy(loaded), _heavy(loaded)
    assert not {m for m in loaded if m.startswith("dsr_analysis.cli_")}


def test_dsr_help_loads_no_heavy_library_and_no_command_module():
    loaded = _modules_after(
        "from dsr_analysis.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass")
    assert not _heavy(loaded), _heavy(loaded)
    assert not {m for m in loaded if m.startswith("dsr_analysis.cli_")}


def test_a_command_imports_its_own_module_only():
    loaded = _modules_after(
        "from dsr_analysis.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['validate', '--help'])\n    except SystemExit:\n        pass")
    assert {m for m in loaded if m.startswith("dsr_analysis.cli_")} == {
        "dsr_analysis.cli_registers"}
    assert not _heavy(loaded) & {"numba", "scipy", "dask", "matplotlib", "weasyprint"}


def test_help_lists_every_command_and_every_command_builds():
    """Every command of the table has a module and an options function that build (the
    parser with all of them, as a documentation tool would build it)."""
    parser = build_parser(every=True)
    text = parser.format_help()
    for command in COMMANDS:
        assert command.name in text
        args = parser.parse_args([command.name, *_required(command.name)])
        assert args.command == command.name and callable(args.func)


def _required(name: str) -> list[str]:
    """The least arguments each command parses with."""
    return {
        "quotas": ["--quarter", "2023Q1"],
        "commit": ["--quarter", "2023Q1", "--seed-source", "s"],
        "draw": ["--quarter", "2023Q1", "--seed-material", "m"],
        "tasks": ["--quarter", "2023Q1"],
        "results": ["check", "r.csv"],
        "followups": ["--results", "r.csv"],
        "import-draws": ["--from", "x", "--head", "1:ab"],
        "credit": ["--results", "r.csv", "--month", "2023-03"],
        "rollover": ["--results", "r.csv", "--year", "2024"],
        "plan": ["show", "--year", "2023"],
        "items": ["publish"],
    }.get(name, [])


def test_the_command_is_found_after_the_language_option():
    assert chosen_command(["--lang", "en", "verify", "--ledger", "x"]) == "verify"
    assert chosen_command(["--lang=zh", "demo"]) == "demo"
    assert chosen_command(["--la", "en", "quotas"]) == "quotas"
    assert chosen_command(["--help"]) is None
    assert chosen_command(["--version"]) is None
