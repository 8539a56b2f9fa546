"""Orchestration of the main jobs: the demo year's loop (plan and item list published, draws
and re-inspections, results entered into the results templates quarter by quarter, the plan
amended), the task sheets of its first quarter, the follow-ups, credit exports, next year's
registers and the year's index (:func:`demo` runs it all, yielding its progress lines); the
ledger checked and its files rebuilt after recovering an interrupted draw
(:func:`check_ledger`, :func:`rebuild_ledger_files`); reports rendered after their inputs are
checked (:func:`render_reports`). The command line prints what these return."""

from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .draw import commit_quarter, draw_and_record
from .draw.ledger import entries, load_draw_tasks
from .draw.verify import Finding, verify_ledger
from .errors import LedgerError, ParameterError
from .i18n import _
from .periods import Quarter, month_quarter, quarters_of
from .policy import Policy
from .registers import Registers
from .fieldwork import write_quarter_fieldwork
from .results import (SAMPLE_RESULTS_SEED, load_deliveries, load_results, sample_deliveries,
                      sample_results, write_deliveries)
from .results_entry import check_results_file, fill_results_template, write_results_template
from .sample import DEMO_SEED_MATERIAL
from .workcalendar import WorkCalendar


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
    complaints : list of (quarter, DrawResult, Entry)
        The targeted draws after complaints (定向抽查, origin ``complaint``).
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
    complaints: list = field(default_factory=list)


#: The demo's plan amendment (第1次调整): file, reason, decision date and effective date.
DEMO_AMENDMENT = ("parameters/amendments/xiongan-2023-r1.yaml",
                  "根据上级部门工作要求，提高县级重点监管对象的季度抽查比例", "2023-06-20",
                  "2023-07-01")


#: The demo's targeted draw after complaints: quarter, unit, campaign label and the number of
#: firms complained about (the unit's first firms by USCC).
DEMO_COMPLAINTS = ("2023Q2", "xiongxian", "TS", 2)


def _demo_complaint_draw(policy: Policy, registers: Registers, q, ledger: Path, out_dir: Path,
                         day, registers_dir) -> tuple:
    """A targeted draw (定向抽查) of the firms complaints were received about, origin
    ``complaint`` (on-site, not counted by the yearly cap), committed and drawn like any draw."""
    _quarter, unit, campaign, n = DEMO_COMPLAINTS
    firms = sorted(registers.enterprises.loc[registers.enterprises["unit"] == unit, "uscc"])[:n]
    target = {"uscc": firms}
    material = DEMO_SEED_MATERIAL.format(quarter=q.label) + f"-{campaign}"
    commit_quarter(policy, registers, q.label, f"演示用种子文本“{material}”（样本数据，非公开事件）",
                   ledger, out_dir, units=[unit], target=target, campaign=campaign,
                   origin="complaint", date=day)
    result, entry, _paths = draw_and_record(policy, registers, q.label, material, ledger,
                                            out_dir, units=[unit], target=target,
                                            campaign=campaign, origin="complaint",
                                            registers_dir=registers_dir)
    return q.label, result, entry


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
       ``demo-{quarter}-FU``); in :data:`DEMO_COMPLAINTS`' quarter, a targeted draw after
       complaints; the quarter's synthetic results entered into its results template,
       carried into the year's register ``results-YEAR.xlsx``;
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
    complaints: list = []
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
        if q.label == DEMO_COMPLAINTS[0]:
            complaints.append(_demo_complaint_draw(policy, registers, q, ledger, out_dir, day,
                                                   registers_dir))
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
                    results, complaints)


def demo_followups(policy: Policy, year: DemoYear, out_dir: str | Path) -> Path:
    """The demo's follow-up file (``followups-YEAR.csv``): the receiving bodies' feedback and
    the reminders on overdue cases through the year, as the office records them, checked
    against the year's results."""
    import datetime as dt

    from .followups import load_followups, sample_followups, write_followups

    as_of = dt.date(policy.year + 1, 1, 31)
    updates = sample_followups(year.results.results, policy, as_of, tasks=year.results.tasks)
    path = write_followups(updates, Path(out_dir) / f"followups-{policy.year}.csv")
    load_followups(path, year.results.results)
    return path


@dataclass(frozen=True)
class DemoClosing:
    """What closes the demo year (:func:`demo_closing`).

    Attributes
    ----------
    case_registers : list of CaseRegister
        The follow-up register at each quarter's end and at the end of January.
    credit : list of CreditExport
        The credit exports of every month with published results.
    rollover : RolloverResult
        Next year's registers and the change report.
    index : Path
        The year's index page.
    """

    case_registers: list
    credit: list
    rollover: object
    index: Path


def demo_closing(policy: Policy, year: DemoYear, out_dir: str | Path,
                 followups: str | Path, registers_dir: str | Path | None = None
                 ) -> DemoClosing:
    """The rest of the year's loop: the follow-up register (后续处置台账) as of each quarter's
    end and of the end of January (``followups/``), the monthly credit exports
    (``credit/``), next year's registers with the change report (``registers-NEXT/``,
    ``rollover-NEXT/``), and the year's index page (``index.html``) linking every document."""
    import datetime as dt

    from .credit import write_credit_exports
    from .followups import followups_report
    from .rollover import rollover

    out_dir = Path(out_dir)
    ledger, results = year.ledger, year.results.results_path
    last = year.policies[max(year.policies)]
    days = [q.end for q in quarters_of(policy.year)] + [dt.date(policy.year + 1, 1, 31)]
    registers = [followups_report(ledger, results, followups, as_of=day, policy=last,
                                  all_cases=True, demo=True,
                                  output=out_dir / "followups" / f"followups-{day.isoformat()}.xlsx")
                 for day in days]
    published = sorted({f"{d.year}-{d.month:02d}" for d in year.results.results["date_published"]
                        if d is not None and d == d})
    credit = [write_credit_exports(ledger, results, last, out_dir, month=m, demo=True)
              for m in published]
    rolled = rollover(policy.year + 1, ledger, results, last, out_dir, registers_dir,
                      demo=True, replace=True)
    index = write_demo_index(policy, year, out_dir, followups, registers, credit, rolled)
    return DemoClosing(registers, credit, rolled, index)


def write_demo_index(policy: Policy, year: DemoYear, out_dir: Path, followups: Path,
                     case_registers: list, credit: list, rolled) -> Path:
    """The year's index page (``OUTPUTS/index.html``): plan and amendments, item list,
    each quarter's reports, results and follow-ups, credit exports, next year's registers."""
    from .documents.yearindex import Link, Section, write_year_index
    from .periods import date_zh

    def forms(paths) -> tuple:
        names = {".docx": "Word", ".pdf": "PDF", ".xlsx": "表格", ".csv": "CSV",
                 ".html": "网页", ".json": "清单"}
        return tuple((names.get(Path(p).suffix, Path(p).suffix), Path(p)) for p in paths)

    plan = [Link("年度抽查计划（原计划）", forms(p for p in year.plan_files
                                       if Path(p).suffix != ".json")),
            Link("年度抽查计划第1次调整（自2023年第三季度起执行）",
                 forms(p for p in year.amendment_files if Path(p).suffix != ".json")),
            Link("随机抽查事项清单", forms(year.item_list))]
    quarters = [Link(f"{q.label_zh}", (("报告一览", out_dir / q.label / "index.html"),))
                for q in quarters_of(policy.year)]
    quarters.append(Link(f"{policy.year + 1}年1月公示的{policy.year}年12月检查结果",
                         (("报告一览", out_dir / f"{policy.year + 1}Q1" / "index.html"),)))
    quarters.append(Link("抽取记录账本公开链", (("清单", out_dir / "ledger-public" / "chain.json"),),
                         "供公众和其他机关核验、导入本局抽取记录"))
    loop = [Link("抽查结果登记表（全年）", forms([year.results.results_path])),
            Link("后续处置更新记录", forms([followups]))]
    loop += [Link(f"后续处置台账（截至{date_zh(r.as_of)}）", forms([r.written]))
             for r in case_registers]
    credit_links = [Link(f"{c.records.period.label_zh}公示结果", tuple(zip(
        ("逐条（表格）", "逐条（CSV）", "按企业（表格）", "按企业（CSV）"), c.paths, strict=False)))
        for c in credit]
    register_zh = {"enterprises": "检查对象名录", "inspectors": "执法检查人员名录",
                   "experts": "专家名录", "items": "抽查事项"}
    nxt = [Link(f"{rolled.year}年名录库", tuple(
               (register_zh.get(Path(p).stem, Path(p).stem), Path(p)) for p in rolled.paths)),
           Link(f"{rolled.year}年监管类别变化情况", forms([rolled.report]))]
    return write_year_index(out_dir, f"{policy.name}：{policy.year}年度工作闭环", [
        Section("年度计划与随机抽查事项清单", tuple(plan)),
        Section("各季度抽取、结果和报告", tuple(quarters),
                "每季度抽取公告、检查任务、统计表、工作总结、结果公示和考核评估见各季度报告一览。"),
        Section("检查结果与后续处置", tuple(loop)),
        Section("抽查结果纳入信用记录", tuple(credit_links),
                "按公示月份报送；涉密不予公开的结果不报送。"),
        Section("下一年度检查对象名录库", tuple(nxt),
                "依据本年度检查结果、后续处置和投诉举报生成，类别按现行计划划分。"),
    ], heading="演示数据：本页所列文件均由内置样本生成。")


def demo_fieldwork(policy: Policy, ledger: str | Path, out_dir: str | Path,
                   quarter: str) -> list[Path]:
    """The task sheets and the printable task list of every unit of ``quarter``
    (``dsr tasks``), as staff print them after the draw."""
    written = write_quarter_fieldwork(ledger, quarter, policy, out_dir)
    return [p for _work, paths in written for p in paths]


# --------------------------------------------------------------------------------------
# The ledger: checked and its files rebuilt (``dsr verify``, ``dsr export``)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerCheck:
    """What :func:`check_ledger` found.

    Attributes
    ----------
    recovered : list of str
        What an interrupted draw had left in the output folder, completed (one line each).
    problems : list of str
        Every finding: the chain, the replays, the files of the latest draws.
    entries : int
        Entries in the ledger.
    notes : list of str
        Policy files changed since the draws recorded them (not a finding).
    formats : dict
        Record format -> number of records.
    """

    recovered: list
    problems: list
    entries: int
    notes: list
    formats: dict


def check_ledger(ledger: str | Path, outputs: str | Path, replay: bool = True,
                 files: bool = True, head: str | None = None,
                 tsa_trust: str | Path | None = None) -> LedgerCheck:
    """The ledger checked as ``dsr verify`` does: first, under the ledger's lock, what an
    interrupted draw left in ``outputs/draws/`` completed from the ledger; then the hash
    chain, every record replayed (``replay``), the files of the latest draws (``files``) and
    a published ``head`` (``N:HASH``) the ledger must extend; every stored RFC 3161 token
    (:func:`~dsr_analysis.timestamps.verify_timestamps`, against ``tsa_trust``), whose
    times are notes."""
    from .draw.ledger import exclusive
    from .timestamps import verify_timestamps
    from .draw.outputs import STAGING, check_outputs, recover
    from .draw.verify import policy_file_changes, record_formats

    outputs = Path(outputs)
    recovered: list[str] = []
    if (outputs / "draws" / STAGING).is_dir() and Path(ledger).exists():
        with exclusive(ledger):
            recovered = recover(outputs, ledger)
    problems = [str(f) for f in verify_ledger(ledger, replay=replay, head=head)]
    n = len(entries(ledger))
    if files:
        problems += check_outputs(ledger, outputs)
    stamp_problems, stamp_notes = verify_timestamps(ledger, tsa_trust)
    problems += stamp_problems
    return LedgerCheck(recovered, problems, n, [*policy_file_changes(ledger), *stamp_notes],
                       dict(record_formats(ledger)))


def rebuild_ledger_files(ledger: str | Path, outputs: str | Path, policy: Policy,
                         quarter: str | None = None) -> tuple[list[str], list[Path]]:
    """Every file of the ledger's draws rebuilt (``dsr export``) under the ledger's lock:
    what an interrupted draw left completed first, then the public and internal files, the
    announcements of the commitments and the public chain other bureaus import, with the
    heads' RFC 3161 tokens (:func:`~dsr_analysis.timestamps.write_public_tokens`). Returns
    the recovery lines and the files written."""
    from .draw import export_announcements
    from .draw.imports import write_public_ledger
    from .draw.ledger import exclusive
    from .draw.outputs import export, recover
    from .timestamps import write_public_tokens

    entries(ledger)  # a missing ledger is refused before its lock file is made
    with exclusive(ledger):
        recovered = recover(outputs, ledger)
        written = export(ledger, outputs, quarter=quarter)
        written += export_announcements(ledger, outputs, policy, quarter=quarter)
        written += write_public_ledger(ledger, outputs)  # what others import
        written += write_public_tokens(ledger, outputs)  # RFC 3161 tokens of the heads
    return recovered, written


# --------------------------------------------------------------------------------------
# Reports (``dsr render``)
# --------------------------------------------------------------------------------------
#: The files a render reads, by their parameter names.
RENDER_INPUTS = ("registers", "ledger", "results", "deliveries", "followups")


def render_reports(quarter: str | None, units="all", reports="all",
                   outputs: str | Path = "outputs", policy: str | Path = "xiongan-2023",
                   inputs: dict | None = None, month: str | None = None,
                   workers: int | None = None, as_of: str | None = None, **options):
    """The reports of ``quarter`` (or the results notice of ``month``, rendered under the
    plan's quarter it falls in, the year's last for a month after it) for ``units`` and
    ``reports`` (lists, or ``"all"``), from ``inputs`` (file paths by
    :data:`RENDER_INPUTS`; none: the demo draws on the embedded sample).

    The inputs are read and checked first (:func:`~dsr_analysis.reports.load_report_inputs`
    holds the rules: demo data on the embedded sample only, a ledger with its results
    register, every register valid), so that a refused render writes nothing. ``options``
    go to :func:`~dsr_analysis.render.render`. Returns its summary."""
    from .policy import load_policy
    from .render import render
    from .reports import load_report_inputs

    given = {k: str(Path(v).resolve()) for k, v in (inputs or {}).items() if v}
    if Path(policy).exists():
        policy = str(Path(policy).resolve())
    if not quarter and not month:
        raise ParameterError(_("give --quarter (e.g. 2023Q1) or --month (e.g. 2024-01)"))
    first = quarter or quarters_of(load_policy(policy).year)[0].label
    checked = load_report_inputs(first, policy, month=month or "",
                                 **{k: given.get(k, "") for k in RENDER_INPUTS})
    return render(checked.quarter.label if month else quarter, units, reports,
                  Path(outputs), given, str(policy), workers=workers, month=month or "",
                  progress=True, as_of=as_of or "", **options)


def render_lines(summary) -> list[str]:
    """What a render did, in lines for people: what an interrupted render of the quarter
    left (completed), then the reports, workers, time and index."""
    lines = [_("[render] {line}").format(line=line) for line in summary.recovered]
    lines.append(_("[render] {quarter}: {reports} report(s) on {workers} worker(s) in "
                   "{seconds:.1f} s; index {index}").format(
        quarter=summary.quarter, quarter_zh=_quarter_zh(summary.quarter), reports=len(summary.rendered), workers=summary.workers,
        seconds=summary.seconds, index=summary.index))
    return lines


def _quarter_zh(label: str) -> str:
    """A quarter's Chinese name (2023年第一季度); a month's folder name (2024-01) as it is."""
    from .errors import QuarterError

    try:
        return Quarter.parse(label).label_zh
    except QuarterError:
        return label


def _months_after_year(results, year: int) -> list[str]:
    """Months after ``year`` in which results of its checks were published (YYYY-MM)."""
    dates = [d for d in results["date_published"] if d is not None and d == d and d.year > year]
    return sorted({f"{d.year}-{d.month:02d}" for d in dates})


# --------------------------------------------------------------------------------------
# Simulation headline (``dsr simulate`` and the demo)
# --------------------------------------------------------------------------------------
#: Size of the demo's simulation run (seconds on two cores).
DEMO_REPLICATES = 20
DEMO_YEARS = 2


@dataclass(frozen=True)
class SimulationJob:
    """What :func:`simulate` ran and wrote: the run, the optimum (or None), the files."""

    run: object
    optimum: object
    paths: list
    directory: Path


def simulate(scenario: str | Path, outputs: str | Path, changes: dict | None = None,
             scheduler=None, workers: int | None = None, coverage: bool = True,
             deterrence: bool = True, optimise: bool = False, progress: bool = True,
             announce=None) -> SimulationJob:
    """A scenario (a YAML file or a name in ``parameters/scenarios/``) with ``changes`` to its
    simulation settings (replicates, years, seed, chunk_size) run where ``scheduler`` names
    (:func:`~dsr_analysis.distributed.executor`; a bad address is refused before anything
    runs), optionally with the ratios' optimum, its tables saved under
    ``outputs/simulation/``. ``announce`` is called with the line saying where the tasks run
    before they start."""
    from .distributed import describe, executor, resolve_scheduler
    from .simulation.scenarios import (load_scenario, optimise_ratios, run_scenario,
                                       with_simulation)

    loaded = load_scenario(scenario)
    if changes:
        loaded = with_simulation(loaded, **changes)
    resolve_scheduler(scheduler)
    with executor(scheduler, workers) as ex:
        if announce is not None:
            announce(_("[sim] tasks run {where}").format(where=describe(ex)))
        run = run_scenario(loaded, coverage=coverage, deterrence=deterrence,
                           progress=progress, scheduler=ex)
        optimum = optimise_ratios(loaded, scheduler=ex) if optimise else None
    directory = Path(outputs) / "simulation"
    return SimulationJob(run, optimum, run.save(directory), directory)


def headline_lines(headline: dict) -> list[str]:
    """A scenario run's headline figures in lines for people."""
    h = headline
    if "jurisdictions" in h:
        lines = [_("    scenario {scenario} ({name}), {objects} objects in {jurisdictions} "
                   "jurisdictions").format(scenario=h['scenario'], name=h['name'],
                                           objects=h['objects'],
                                           jurisdictions=h['jurisdictions'])]
    else:
        lines = [_("    scenario {scenario} ({name}), {objects} objects").format(
            scenario=h['scenario'], name=h['name'], objects=h['objects'])]
    if "coverage_all" in h:
        lines.append(_("    yearly coverage: all {all:.1%}, special {special:.1%}, key {key:.1%}, "
                       "general {general:.1%}").format(
            all=h['coverage_all'], special=h.get('coverage_special', float('nan')),
            key=h.get('coverage_key', float('nan')),
            general=h.get('coverage_general', float('nan'))))
        lines.append(_("    checks per quarter {checks:.0f}, inspector-days {days:.0f} of "
                       "{capacity:.0f} available; worst quota attainment {attainment:.0%}").format(
            checks=h['inspections_per_quarter'], days=h['inspector_days_per_quarter'],
            capacity=h['capacity_days_per_quarter'], attainment=h['quota_attainment_min']))
    if "violation_rate_last_year" in h:
        lines.append(_("    violation rate (last year) {rate:.1%}; per quarter {detected:.1f} "
                       "detected, {undetected:.1f} undetected; hit rate {hit:.2%} (national "
                       "2019: 4.79%)").format(
            rate=h['violation_rate_last_year'], detected=h['detected_per_quarter'],
            undetected=h['undetected_per_quarter'], hit=h['hit_rate']))
    lines.append(_("    share of draws combined with the credit-risk classes {share:.0%} "
                   "({verdict})").format(share=h['credit_share'],
                                         verdict=_("met") if h['credit_share_met']
                                         else _("NOT MET")))
    return lines


# --------------------------------------------------------------------------------------
# ``dsr demo``: the main job on the embedded sample, step by step
# --------------------------------------------------------------------------------------
def demo(policy: Policy, registers: Registers, out_dir: str | Path,
         registers_dir: str | Path | None = None) -> Iterator[str]:
    """The whole demo into ``out_dir``, yielding its progress lines as it goes: the
    registers, categories and quotas of the year; the year's loop (:func:`demo_year`) and the
    first quarter's task sheets; the ledger's head timestamped by a local test TSA; the
    follow-up file and every report of every quarter; the baseline simulation; the closing
    of the year (:func:`demo_closing`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    yield from _demo_quotas(policy, registers, out_dir)
    year = yield from _demo_draws(policy, registers, out_dir, registers_dir)
    yield from _demo_timestamp(year.ledger, out_dir)
    followups = yield from _demo_reports(policy, year, out_dir.resolve(), registers_dir)
    yield from _demo_simulation(out_dir)
    closing = demo_closing(policy, year, out_dir, followups, registers_dir)
    for register in closing.case_registers:
        yield _("[follow-ups] {summary}: {path}").format(summary=register.summary(),
                                                        path=register.written)
    yield _("[credit] credit records of {n} months of published results: "
            "{dir}/credit-YYYY-MM.xlsx|csv (and per firm)").format(n=len(closing.credit),
                                                                   dir=out_dir / 'credit')
    yield _("[rollover] {summary}: {dir}; change report {report}").format(
        summary=closing.rollover.summary(), dir=closing.rollover.directory,
        report=closing.rollover.report)
    yield _("[loop] the year's documents in one place: open {path}").format(path=closing.index)


def _demo_quotas(policy: Policy, registers: Registers, out_dir: Path) -> Iterator[str]:
    """The registers, the categories of the supervised objects and the year's quotas."""
    import pandas as pd

    from .categories import CATEGORY_ZH, classify
    from .export import write_csv
    from .presentation import quota_check_line
    from .quotas import quarterly_quotas, quota_checks, quota_summary_zh

    yield _("[1] registers valid: {enterprises} enterprises, {inspectors} inspectors, "
            "{experts} experts, {items} items ({source})").format(
        enterprises=len(registers.enterprises), inspectors=len(registers.inspectors),
        experts=len(registers.experts), items=len(registers.items),
        source=registers.sources['enterprises'])
    classified = classify(registers.enterprises, policy)
    write_csv(classified, out_dir / "classification.csv")
    counts = classified.groupby(["unit", "category"]).size().unstack(fill_value=0)
    counts.index = [policy.unit_names.get(u, u) for u in counts.index]
    counts.columns = [CATEGORY_ZH.get(c, c) for c in counts.columns]
    yield _("[2] categories of the supervised objects:")
    yield counts.to_string()
    quarters = quarters_of(policy.year)
    tables = []
    for q in quarters:
        tables.append(quarterly_quotas(classified, policy, q, registers.inspectors))
        write_csv(tables[-1], out_dir / f"quotas-{q.label}.csv")
    write_csv(pd.concat(tables, ignore_index=True), out_dir / f"quotas-{policy.year}.csv")
    yield _("[3] quarterly quotas {year}, {quarter}:").format(
        year=policy.year, quarter=quarters[0].label, quarter_zh=quarters[0].label_zh)
    yield quota_summary_zh(tables[0]).to_string(index=False)
    for check in quota_checks(tables[0], policy, registers.inspectors):
        yield f"    {quota_check_line(check, policy)}"
    yield _("    saved: {dir}/classification.csv, {dir}/quotas-{year}.csv and one file per "
            "quarter").format(dir=out_dir, year=policy.year)


def _draw_line(quarter: str, result, entry, plan: Path) -> str:
    t = result.tasks
    return _("    {quarter}: {tasks} tasks ({onsite} on-site), internal+inter-departmental "
             "joint {joint:.0%}, inter-departmental {departments}; seed {seed}…; ledger "
             "#{seq}; plan {plan}").format(
        quarter=quarter, quarter_zh=Quarter.parse(quarter).label_zh, tasks=len(t), onsite=int((t["method"] == "onsite").sum()),
        joint=(t["joint_type"] != "none").mean(),
        departments=int((t["joint_type"] == "inter_departmental").sum()),
        seed=result.record["inputs"]["seed"][:16], seq=entry.seq, plan=plan)


def _demo_draws(policy: Policy, registers: Registers, out_dir: Path,
                registers_dir) -> Generator[str, None, DemoYear]:
    """The year's draws into a fresh ledger (:func:`demo_year`), verified; the first
    quarter's task sheets. Returns the year."""
    yield _("[draw] verifiable draws {year}, seed material '{material}':").format(
        year=policy.year, material=DEMO_SEED_MATERIAL.format(quarter=_("<quarter>")))
    year = demo_year(policy, registers, out_dir, registers_dir)
    if year.previous is not None:
        yield _("[draw] previous ledger moved to {path}; the demo started a fresh "
                "ledger").format(path=year.previous)
    amended = month_quarter(DEMO_AMENDMENT[3][:7])
    yield _("[plan] the {year} plan and the item list published: {plan}, {items}; amended "
            "from {quarter} on (第1次调整): {amendment}").format(
        year=policy.year, plan=year.plan_files[0], items=year.item_list[0],
        quarter=amended.label, quarter_zh=amended.label_zh,
        amendment=year.amendment_files[0])
    for quarter, result, entry in year.draws:
        yield _draw_line(quarter, result, entry, year.policies[quarter].path)
    for quarter, result, entry in year.reinspections:
        yield _("    {quarter}: {n} re-inspection task(s) (复查) of the orders to correct "
                "still open; ledger #{seq}").format(
            quarter=quarter, quarter_zh=Quarter.parse(quarter).label_zh, n=len(result.tasks),
            seq=entry.seq)
    for quarter, result, entry in year.complaints:
        yield _("    {quarter}: {n} task(s) of a targeted draw after complaints (定向抽查); "
                "ledger #{seq}").format(quarter=quarter,
                                        quarter_zh=Quarter.parse(quarter).label_zh,
                                        n=len(result.tasks), seq=entry.seq)
    for line in year.withheld:
        yield _("    note: {line}").format(line=line)
    yield _("[draw] ledger {ledger}: {n} entries, chain and replay verified; public records "
            "in {dir}/draws/<quarter>/public/, task lists (internal) in "
            "{dir}/draws/<quarter>/internal/tasks.csv").format(ledger=year.ledger,
                                                               n=year.entries, dir=out_dir)
    res = year.results
    yield _("[results] results templates of each quarter ({template} …) filled with "
            "synthetic results of the {tasks} demo tasks: {checks} checks, {violations} "
            "violations, {confidential} confidential; the year's register {register}; "
            "deliveries {deliveries}").format(
        template=res.templates[0], tasks=len(res.tasks), checks=len(res.results),
        violations=int((res.results["outcome"] == "violation").sum()),
        confidential=int(res.results["confidential"].sum()), register=res.results_path,
        deliveries=res.deliveries_path)
    first = year.draws[0][0]
    sheets = demo_fieldwork(policy, year.ledger, out_dir, first)
    yield _("[tasks] {quarter}: task sheets (检查任务单) and printable task lists of every "
            "unit (internal), {n} files, e.g. {path}").format(
        quarter=first, quarter_zh=Quarter.parse(first).label_zh, n=len(sheets),
        path=sheets[0])
    return year


def _demo_timestamp(ledger: Path, out_dir: Path) -> Iterator[str]:
    """The ledger's head after the year's draws timestamped (RFC 3161) by a local test TSA,
    the token published beside the public chain (skipped with a note without OpenSSL)."""
    from .timestamps import demo_timestamp

    for line in demo_timestamp(ledger, out_dir / "tsa", out_dir):
        yield _("[timestamp] {line}").format(line=line)


def _demo_reports(policy: Policy, year: DemoYear, out_dir: Path,
                  registers_dir) -> Generator[str, None, Path]:
    """The year's follow-up file, then every report of every quarter, each quarter under the
    plan it was drawn under, and the notices of the months after the year. Returns the
    follow-up file."""
    from .render import render

    followups = demo_followups(policy, year, out_dir)
    yield _("[follow-ups] the follow-up file of the year (receiving bodies' feedback, "
            "reminders on overdue cases): {path}").format(path=followups)
    params = {"ledger": str(year.ledger), "results": str(year.results.results_path),
              "deliveries": str(year.results.deliveries_path), "followups": str(followups)}
    if registers_dir:
        params["registers"] = str(Path(registers_dir).resolve())
    quarters = quarters_of(policy.year)
    for q in quarters:
        yield from render_lines(render(q.label, "all", "all", out_dir, params,
                                       str(year.policies[q.label].path), progress=True))
    # Results of the year's checks published after it (December's checks in January).
    last = quarters[-1].label
    for month in _months_after_year(year.results.results, policy.year):
        yield from render_lines(render(last, "all", "notice", out_dir, params,
                                       str(year.policies[last].path), month=month,
                                       progress=True))
    yield _("[render] open {first} … {last}").format(
        first=out_dir / quarters[0].label / "index.html", last=out_dir / last / "index.html")
    return followups


def _demo_simulation(out_dir: Path) -> Iterator[str]:
    """The baseline scenario at demo size: tables and figures under ``simulation/``."""
    from . import plotting
    from .simulation.coverage import coverage_summary, workload_summary
    from .simulation.scenarios import load_scenario, run_scenario, with_simulation

    scenario = with_simulation(load_scenario("baseline-2023"), replicates=DEMO_REPLICATES,
                               years=DEMO_YEARS)
    run = run_scenario(scenario)
    sim_dir = out_dir / "simulation"
    paths = run.save(sim_dir)
    timeline = run.deterrence.timeline
    figures = [
        plotting.save(plotting.plot_coverage(coverage_summary(
            run.coverage, by=["category", "credit_class"])), sim_dir / "coverage.png"),
        plotting.save(plotting.plot_visits(run.coverage.visits), sim_dir / "visits.png"),
        plotting.save(plotting.plot_workload(workload_summary(run.coverage)),
                      sim_dir / "workload.png"),
        plotting.save(plotting.plot_violation_timeline(timeline), sim_dir / "violations.png"),
        plotting.save(plotting.plot_detection(timeline), sim_dir / "detection.png"),
    ]
    yield _("[sim] baseline scenario, {replicates} replicates x {years} years (coverage and "
            "deterrence):").format(replicates=DEMO_REPLICATES, years=DEMO_YEARS)
    yield from headline_lines(run.headline)
    yield _("    saved: {tables} tables and {figures} figures in {dir}/").format(
        tables=len(paths), figures=len(figures), dir=sim_dir)
