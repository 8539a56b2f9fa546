"""The demo year's loop, as a bureau runs it: the plan and the item list published, the draws
and re-inspections, the results entered into the results templates quarter by quarter, the
plan amended (:func:`demo_year`); the task sheets of its first quarter; the follow-ups, the
credit exports, next year's registers and the year's index (:func:`demo_closing`)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..draw import commit_quarter, draw_and_record
from ..draw.ledger import entries, load_draw_tasks
from ..draw.verify import Finding, verify_ledger
from ..errors import LedgerError
from ..fieldwork import write_quarter_fieldwork
from ..periods import quarters_of
from ..policy import Policy
from ..registers import Registers
from ..results import (SAMPLE_RESULTS_SEED, load_deliveries, load_results, sample_deliveries,
                       sample_results, write_deliveries)
from ..results_entry import check_results_file, fill_results_template, write_results_template
from ..sample import DEMO_SEED_MATERIAL
from ..workcalendar import WorkCalendar


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

    from ..amendments import record_amendment, record_plan
    from ..draw.reinspection import commit_reinspections, draw_reinspections
    from ..itemlist import publish_item_list
    from ..paths import PROJECT_ROOT
    from ..policy import load_policy

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

    from ..followups import load_followups, sample_followups, write_followups

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

    from ..credit import write_credit_exports
    from ..followups import followups_report
    from ..rollover import rollover

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
    from ..documents.yearindex import Link, Section, write_year_index
    from ..periods import date_zh

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
