"""Orchestration of the main jobs: the demo year of draws into a fresh ledger and the
synthetic results for its tasks. The command line prints what these return."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .draw import DrawResult, commit_quarter, draw_and_record
from .draw.ledger import Entry, entries, load_draw_tasks
from .draw.verify import Finding, verify_ledger
from .errors import LedgerError
from .periods import quarters_of
from .policy import Policy
from .registers import Registers
from .results import (load_deliveries, load_results, sample_deliveries, sample_results,
                      write_deliveries, write_results)
from .sample import DEMO_SEED_MATERIAL
from .workcalendar import WorkCalendar


@dataclass(frozen=True)
class DemoDraws:
    """The demo year of draws.

    Attributes
    ----------
    ledger : Path
        The fresh ledger.
    previous : Path or None
        Where an existing ledger was moved (``ledger.sqlite.prev``), if there was one.
    draws : list of (quarter, DrawResult, Entry)
        One per quarter, in order.
    entries : int
        Entries in the ledger after verification.
    """

    ledger: Path
    previous: Path | None
    draws: list[tuple[str, DrawResult, Entry]]
    entries: int


def demo_draws(policy: Policy, registers: Registers, out_dir: str | Path,
               registers_dir: str | Path | None = None) -> DemoDraws:
    """Commit, then draw, every quarter of the policy year for every unit (seed material
    ``demo-{quarter}``) into a fresh ``out_dir/ledger.sqlite`` (an existing one is moved to
    ``ledger.sqlite.prev``), then verify the ledger; raise :class:`LedgerError` listing every
    finding if it does not verify."""
    out_dir = Path(out_dir)
    ledger = out_dir / "ledger.sqlite"
    previous = None
    if ledger.exists():
        previous = ledger.with_name("ledger.sqlite.prev")
        shutil.move(ledger, previous)
    draws = []
    for q in quarters_of(policy.year):
        material = DEMO_SEED_MATERIAL.format(quarter=q.label)
        commit_quarter(policy, registers, q.label, f"演示用种子文本“{material}”（样本数据，"
                       "非公开事件）", ledger, out_dir)
        result, entry, _paths = draw_and_record(policy, registers, q.label, material, ledger,
                                                out_dir, registers_dir=registers_dir)
        draws.append((q.label, result, entry))
    findings: list[Finding] = verify_ledger(ledger)
    if findings:
        raise LedgerError("\n".join(str(f) for f in findings))
    return DemoDraws(ledger, previous, draws, len(entries(ledger)))


@dataclass(frozen=True)
class DemoResults:
    """Synthetic results of the demo draws (written and read back through the validators)."""

    tasks: object          # pandas.DataFrame of the ledger's valid tasks
    results: object        # pandas.DataFrame of the results register
    results_path: Path
    deliveries_path: Path


def demo_results(policy: Policy, ledger: str | Path, out_dir: str | Path) -> DemoResults:
    """Synthetic inspection results for the ledger's tasks and report deliveries for the
    year, written as ``results-YEAR.csv`` and ``deliveries-YEAR.csv`` and validated on
    reading them back."""
    out_dir = Path(out_dir)
    tasks = load_draw_tasks(ledger)
    cal = WorkCalendar()
    results_path = write_results(sample_results(tasks, cal, policy=policy),
                                 out_dir / f"results-{policy.year}.csv")
    results = load_results(results_path, tasks)
    deliveries_path = write_deliveries(sample_deliveries(policy, policy.year, cal),
                                       out_dir / f"deliveries-{policy.year}.csv")
    load_deliveries(deliveries_path, policy.unit_names)
    return DemoResults(tasks, results, results_path, deliveries_path)
