"""Orchestration of the main jobs; the command line prints what these return.

:mod:`.year`
    the demo year's loop (plan and item list published, draws and re-inspections, results
    entered into the results templates quarter by quarter, the plan amended), the task sheets
    of its first quarter, the follow-ups, credit exports, next year's registers and the
    year's index;
:mod:`.commands`
    the multi-step jobs of single commands: the ledger checked and its files rebuilt after
    recovering an interrupted draw, reports rendered after their inputs are checked, a
    scenario simulated where the scheduler names;
:mod:`.demo`
    ``dsr demo``: all of it on the embedded sample, yielding its progress lines.
"""

from __future__ import annotations

from .commands import (RENDER_INPUTS, LedgerCheck, SimulationJob, check_ledger,
                       headline_lines, months_after_year, rebuild_ledger_files, render_lines,
                       render_reports, simulate)
from .demo import DEMO_REPLICATES, DEMO_YEARS, demo
from .year import (DEMO_AMENDMENT, DEMO_COMPLAINTS, DemoClosing, DemoResults, DemoYear,
                   demo_closing, demo_commit_day, demo_fieldwork, demo_followups,
                   demo_results, demo_year, enter_quarter_results, quarter_results,
                   write_demo_index)

__all__ = [
    "DEMO_AMENDMENT", "DEMO_COMPLAINTS", "DEMO_REPLICATES", "DEMO_YEARS", "RENDER_INPUTS",
    "DemoClosing", "DemoResults", "DemoYear", "LedgerCheck", "SimulationJob", "check_ledger",
    "demo", "demo_closing", "demo_commit_day", "demo_fieldwork", "demo_followups",
    "demo_results", "demo_year", "enter_quarter_results", "headline_lines",
    "months_after_year", "quarter_results", "rebuild_ledger_files", "render_lines",
    "render_reports", "simulate", "write_demo_index",
]
