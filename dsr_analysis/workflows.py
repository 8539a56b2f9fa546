"""Orchestration of the main jobs: the demo year of draws into a fresh ledger, the task
sheets of its first quarter, and the synthetic results entered into the results templates. The command line prints what these return."""

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
from .fieldwork import write_quarter_fieldwork
from .results import (SAMPLE_RESULTS_SEED, load_deliveries, load_results, sample_deliveries,
                      sample_results, write_deliveries)
from .results_entry import check_results_file, fill_results_template, write_results_template
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
    """The demo's results register, made as staff make theirs: each quarter's results template
    (``dsr results template``) filled with the synthetic results of its tasks and carried into
    the next quarter's, so that one workbook is the year's register; read back through the
    validators.

    Attributes
    ----------
    tasks : DataFrame
        The ledger's valid tasks.
    results : DataFrame
        The results register as read back from ``results_path``.
    results_path : Path
        The filled workbook, ``results-YEAR.xlsx``.
    deliveries_path : Path
        ``deliveries-YEAR.csv``.
    templates : tuple of Path
        The blank template of each quarter (``OUTPUTS/QUARTER/results-template-all.xlsx``).
    """

    tasks: object
    results: object
    results_path: Path
    deliveries_path: Path
    templates: tuple[Path, ...] = ()


def _renumber_cases(results):
    """Penalty case numbers of results generated quarter by quarter, numbered again per unit
    and year in the order of the checks (``{unit}环罚〔{year}〕{n}号``), as an office numbers
    its cases through the year."""
    results = results.sort_values(["date_checked", "task_id"], kind="stable").copy()
    counters: dict[tuple[str, int], int] = {}
    numbers = []
    for case, checked in zip(results["case_number"], results["date_checked"], strict=True):
        if not case:
            numbers.append(case)
            continue
        unit = str(case).split("环罚")[0]
        key = (unit, checked.year)
        counters[key] = counters.get(key, 0) + 1
        numbers.append(f"{unit}环罚〔{checked.year}〕{counters[key]}号")
    results["case_number"] = numbers
    return results.sort_values("task_id", kind="stable").reset_index(drop=True)


def quarter_results(policy: Policy, ledger: str | Path, quarter: str, index: int,
                    earlier=None, calendar: WorkCalendar | None = None):
    """Synthetic results of the tasks of ``quarter`` (seed ``SAMPLE_RESULTS_SEED + index``:
    a quarter's results never change when later quarters are drawn), joined to ``earlier``
    ones with the penalty cases numbered through the year."""
    import pandas as pd

    tasks = load_draw_tasks(ledger, quarter)
    new = sample_results(tasks, calendar or WorkCalendar(), seed=SAMPLE_RESULTS_SEED + index,
                         policy=policy)
    frames = [f for f in (earlier, new) if f is not None and len(f)]
    if not frames:
        return new
    return _renumber_cases(pd.concat(frames, ignore_index=True))


def demo_results(policy: Policy, ledger: str | Path, out_dir: str | Path) -> DemoResults:
    """Synthetic inspection results for the ledger's tasks entered quarter by quarter into the
    results templates (the year's register ``results-YEAR.xlsx``, checked against the
    ledger), and report deliveries for the year (``deliveries-YEAR.csv``)."""
    out_dir = Path(out_dir)
    cal = WorkCalendar()
    results_path = out_dir / f"results-{policy.year}.xlsx"
    previous, templates, synthetic = None, [], None
    for i, q in enumerate(quarters_of(policy.year)):
        synthetic = quarter_results(policy, ledger, q.label, i, synthetic, cal)
        previous, blank = enter_quarter_results(q.label, synthetic, ledger, out_dir, previous,
                                                results_path)
        templates.append(blank)
    return _finish_results(policy, ledger, out_dir, results_path, tuple(templates), cal)


def enter_quarter_results(quarter: str, results, ledger: str | Path, out_dir: str | Path,
                          previous: Path | None, results_path: Path) -> tuple[Path, Path]:
    """The quarter's results template (carrying ``previous``) filled with ``results`` up to
    the quarter, saved as the year's register ``results_path``. Returns (register, template)."""
    blank = write_results_template(quarter, None, ledger, out_dir, previous=previous)
    done = results["task_id"].str.slice(0, 6) <= quarter
    return fill_results_template(blank.path, results[done], results_path), blank.path


def _finish_results(policy: Policy, ledger: str | Path, out_dir: Path, results_path: Path,
                    templates: tuple[Path, ...], cal: WorkCalendar) -> DemoResults:
    check_results_file(results_path, ledger)
    tasks = load_draw_tasks(ledger)
    results = load_results(results_path, tasks)
    deliveries_path = write_deliveries(sample_deliveries(policy, policy.year, cal),
                                       out_dir / f"deliveries-{policy.year}.csv")
    load_deliveries(deliveries_path, policy.unit_names)
    return DemoResults(tasks, results, results_path, deliveries_path, templates)


@dataclass(frozen=True)
class DemoYear:
    """The demo year's loop, as a bureau runs it (:func:`demo_year`).

    Attributes
    ----------
    ledger : Path
    previous : Path or None
        Where an existing ledger was moved (``ledger.sqlite.prev``), if there was one.
    draws : list of (quarter, DrawResult, Entry)
        The routine draw of each quarter, in order.
    reinspections : list of (quarter, DrawResult, Entry)
        The re-inspection (复查) draws.
    withheld : list of str
        Re-inspections left out of the public draws (confidential results), one line each.
    plan_files, amendment_files : list of Path
        The plan as published and its amendment.
    item_list : tuple of Path
        The published item list.
    policies : dict
        Quarter -> the policy it was committed and drawn under.
    entries : int
        Entries in the ledger after verification.
    results : DemoResults
    """

    ledger: Path
    previous: Path | None
    draws: list
    reinspections: list
    withheld: list
    plan_files: list
    amendment_files: list
    item_list: tuple
    policies: dict
    entries: int
    results: DemoResults


#: The demo's plan amendment (第1次调整): file, reason, decision date and effective date.
DEMO_AMENDMENT = ("parameters/amendments/xiongan-2023-r1.yaml",
                  "根据上级部门工作要求，提高县级重点监管对象的季度抽查比例", "2023-06-20",
                  "2023-07-01")


def demo_commit_day(quarter, calendar: WorkCalendar):
    """The day the demo commits a quarter's draws: the quarter's third working day."""
    return calendar.working_days_in(quarter.start, quarter.end)[2]


def demo_year(policy: Policy, registers: Registers, out_dir: str | Path,
              registers_dir: str | Path | None = None) -> DemoYear:
    """The year's loop on the demo data, into a fresh ``out_dir/ledger.sqlite`` (an existing
    one is moved to ``ledger.sqlite.prev``):

    1. the plan and the item list published on the year's first working day;
    2. per quarter: the routine draw (committed on the quarter's third working day, seed
       material ``demo-{quarter}``); from the second quarter on, the re-inspections (复查) the
       results register calls for (committed the same day, seed material
       ``demo-{quarter}-FU``); the quarter's synthetic results entered into its results
       template, carried into the year's register ``results-YEAR.xlsx``;
    3. before the third quarter, the plan's first amendment (:data:`DEMO_AMENDMENT`), under
       which the third and fourth quarters are committed and drawn;
    4. the ledger verified (every record replayed); report deliveries for the year.

    Raises :class:`LedgerError` listing every finding if the ledger does not verify."""
    import datetime as dt

    from .amendments import record_amendment, record_plan
    from .draw.reinspection import commit_reinspections, draw_reinspections
    from .itemlist import publish_item_list
    from .paths import PROJECT_ROOT
    from .policy import load_policy

    out_dir = Path(out_dir)
    ledger = out_dir / "ledger.sqlite"
    previous = None
    if ledger.exists():
        previous = ledger.with_name("ledger.sqlite.prev")
        shutil.move(ledger, previous)
    cal = WorkCalendar()
    quarters = quarters_of(policy.year)
    plan_day = cal.working_days_in(quarters[0].start, quarters[0].end)[0]
    items = publish_item_list(registers.items, policy, out_dir, plan_day, demo=True)
    _rev, plan_files = record_plan(policy, ledger, out_dir, plan_day, items=registers.items)
    amended_path, reason, decided, effective = DEMO_AMENDMENT
    draws, reinspections, withheld, amendment_files, policies = [], [], [], [], {}
    results_path = out_dir / f"results-{policy.year}.xlsx"
    register, templates, synthetic = None, [], None
    for i, q in enumerate(quarters):
        if q.start >= dt.date.fromisoformat(effective) and not amendment_files:
            policy = load_policy(PROJECT_ROOT / amended_path)
            _rev, amendment_files = record_amendment(policy, ledger, out_dir, reason, effective,
                                                     decided, items=registers.items)
        policies[q.label] = policy
        day = demo_commit_day(q, cal)
        material = DEMO_SEED_MATERIAL.format(quarter=q.label)
        commit_quarter(policy, registers, q.label, f"演示用种子文本“{material}”（样本数据，"
                       "非公开事件）", ledger, out_dir, date=day)
        result, entry, _paths = draw_and_record(policy, registers, q.label, material, ledger,
                                                out_dir, registers_dir=registers_dir)
        draws.append((q.label, result, entry))
        if register is not None:
            fu = f"{material}-FU"
            plan, committed = commit_reinspections(
                policy, registers, q.label, register, ledger, out_dir,
                seed_source=f"演示用种子文本“{fu}”（样本数据，非公开事件）", date=day)
            withheld += plan.warnings()
            if committed is not None:
                _plan, drawn = draw_reinspections(policy, registers, q.label, register, fu,
                                                  ledger, out_dir, registers_dir=registers_dir)
                reinspections.append((q.label, drawn[0], drawn[1]))
        synthetic = quarter_results(policy, ledger, q.label, i, synthetic, cal)
        register, blank = enter_quarter_results(q.label, synthetic, ledger, out_dir, register,
                                                results_path)
        templates.append(blank)
    findings: list[Finding] = verify_ledger(ledger)
    if findings:
        raise LedgerError("\n".join(str(f) for f in findings))
    results = _finish_results(policy, ledger, out_dir, results_path, tuple(templates), cal)
    return DemoYear(ledger, previous, draws, reinspections, withheld, plan_files,
                    amendment_files, tuple(items.files), policies, len(entries(ledger)),
                    results)


def demo_fieldwork(policy: Policy, ledger: str | Path, out_dir: str | Path,
                   quarter: str) -> list[Path]:
    """The task sheets and the printable task list of every unit of ``quarter``
    (``dsr tasks``), as staff print them after the draw."""
    written = write_quarter_fieldwork(ledger, quarter, policy, out_dir)
    return [p for _work, paths in written for p in paths]
