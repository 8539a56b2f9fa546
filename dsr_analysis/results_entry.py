"""Between the draw and the results register: the results-entry template and the check of a
filled one (R7).

- :func:`results_template` - the entry form of a quarter's drawn tasks (valid draws of the
  ledger), every task pre-filled (task id, unit, object, USCC, items, team, method), the
  entry columns with their accepted Chinese values as drop-down lists, date cells, the
  confidential flag and the optional columns, and an instruction sheet that says which
  outcome needs which follow-up (:data:`dsr_analysis.schema.FOLLOW_UPS_ALLOWED`);
- :func:`write_results_template` - that form as XLSX (``dsr results template``), by default
  at ``OUTPUTS/QUARTER/results-template-UNIT.xlsx`` (``all`` when several units' tasks are
  in one workbook); with an earlier results register (``--from``, e.g. last quarter's filled
  template) it holds every task of the year up to the quarter and carries the recorded
  results in, so that one workbook stays the year's results register (``dsr render`` reads
  one results file);
- :func:`check_results_file` - a results register validated alone, or also against the
  ledger (``dsr results check``): every problem at once, else the counts per outcome;
- :func:`fill_results_template` - results entered into a template as staff would (the demo's
  synthetic results reach the reports this way, not by a side channel).

Filled in and saved, the template *is* the results register: its headers are the Chinese
headers :func:`dsr_analysis.results.load_results` reads (the title row above them is
skipped), its dates are date cells, and rows of tasks not checked yet are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .documents.entry import (EntryColumn, EntryForm, fill_entry_workbook,
                               write_entry_workbook)
from .draw import JOINT_ZH, METHOD_ZH
from .draw.ledger import DEFAULT_LEDGER, load_draw_tasks
from .errors import ParameterError, Problem, RegisterError
from .i18n import _
from .labels import FOLLOW_UP_ZH, OUTCOME_ZH, REINSPECTION_RESULT_ZH, YES_NO_ZH
from .periods import Quarter
from .results import ResultsCheck, check_results, load_results
from .schema import (COLUMN_ALIASES, DEADLINE_FOLLOW_UPS, FOLLOW_UPS_ALLOWED,
                     RECEIVING_FOLLOW_UPS)

#: The header of each results column in the template: its first Chinese alias (read back).
HEADER = {c: aliases[0] for c, aliases in COLUMN_ALIASES["results"].items()}
#: Descriptive columns of the template (not results columns: kept as extra columns).
UNIT_HEADER, OBJECT_HEADER, ITEMS_HEADER, TEAM_HEADER, METHOD_HEADER = (
    "抽查单位", "检查对象名称", "抽查事项", "执法人员", "检查方式")

#: What each outcome admits, said for staff (the instruction sheet).
_OUTCOME_NOTES = {
    "no_problem": "",
    "corrected": "当场整改到位的填“无”；责令限期整改的填“责令整改”并填写整改期限。",
    "pending_follow_up": "必须有后续处置（不能填“无”），办结后填写处置办结日期。",
    "violation": "必须有后续处置（不能填“无”）；立案处罚的填写案件编号，结案后填写罚没款金额和处置办结日期。",
    "obstructed": "拒绝、阻挠检查本身须依法处理（立案处罚、转办、移交或移送司法机关），不能只责令整改。",
    "no_activity": "计为已完成的抽查。企业停产、未开展抽查涉及的生产经营活动的选此项。",
    "closed": "计为已完成的抽查。企业关闭、停业、正在清算的选此项。",
    "unreachable": "计为已完成的抽查。",
    "moved_or_deregistered": "计为已完成的抽查。",
}


def _help() -> dict[str, str]:
    deadline_with = "或".join(f"“{FOLLOW_UP_ZH[f]}”" for f in DEADLINE_FOLLOW_UPS)
    return {
        "task_id": "抽查任务编号，由抽取记录预填。",
        "uscc": "检查对象的统一社会信用代码，由抽取记录预填。",
        "date_checked": "实施检查的日期，不早于任务所在季度的第一天。",
        "outcome": "按国家企业信用信息公示系统的检查结果填写。",
        "follow_up": "对检查发现问题的后续处置；检查结果与后续处置的对应关系见下表。",
        "rectification_deadline": f"后续处置为{deadline_with}（处罚决定同时责令限期改正）时填写，"
                                  "不早于检查日期，可以晚于今天。",
        "case_number": "后续处置为“立案处罚”时填写立案编号或处罚决定书文号。",
        "penalty_amount": "后续处置为“立案处罚”、处罚决定作出后填写，单位为元，不小于0，最多两位小数。",
        "date_follow_up_closed": "后续处置办结的日期（责令整改经复查整改到位、转办移交办结、处罚案件结案），"
                                 "不早于检查日期；后续处置为“无”的不填。",
        "receiving_body": "后续处置为" + "、".join(f"“{FOLLOW_UP_ZH[f]}”" for f in RECEIVING_FOLLOW_UPS)
                          + "时填写接收（承办）单位名称。",
        "date_follow_up_opened": "下达整改通知、转办、移交、移送或立案的日期，不早于检查日期；不填的按检查日期计。",
        "date_reinspected": "责令整改（或处罚决定同时责令限期改正）后复查的日期，与复查结果一并填写。",
        "reinspection_result": "复查发现已整改或未整改；复查已整改且未填办结日期的，按复查日期办结。",
        "supervision_order": "本次检查发现的问题被挂牌督办的填“是”（计入下一年度检查对象名录库的"
                             "“上年度挂牌督办”），否则不填或填“否”。",
        "date_published": "检查结果向社会公示的日期，不早于检查日期；涉密不予公开的不填。",
        "confidential": "结果涉及国家秘密、国家安全或公共安全、依法不予公开的填“是”，其余填“否”。",
        "remark": "发现的问题或典型案例说明（用于工作总结的典型案例）。",
    }


def _columns(quarter: Quarter) -> tuple[EntryColumn, ...]:
    help_ = _help()
    start = quarter.start

    def entry(column: str, kind: str, required: bool = False, choices: tuple[str, ...] = (),
              width: float = 14.0) -> EntryColumn:
        return EntryColumn(HEADER[column], kind, required=required, choices=choices,
                           help=help_[column], width=width,
                           earliest=start if kind == "date" else None)

    return (
        EntryColumn(HEADER["task_id"], prefilled=True, required=True, help=help_["task_id"],
                    width=22),
        EntryColumn(UNIT_HEADER, prefilled=True, help="抽查单位，由抽取记录预填。", width=10),
        EntryColumn(HEADER["uscc"], prefilled=True, required=True, help=help_["uscc"], width=21),
        EntryColumn(OBJECT_HEADER, prefilled=True, help="检查对象名称，由抽取记录预填。", width=24),
        EntryColumn(ITEMS_HEADER, prefilled=True, help="本任务的抽查事项，由抽取记录预填。", width=30),
        EntryColumn(TEAM_HEADER, prefilled=True, help="随机匹配的执法人员（及专家），由抽取记录预填。",
                    width=16),
        EntryColumn(METHOD_HEADER, prefilled=True, help="检查方式，由抽取记录预填。", width=14),
        entry("date_checked", "date", required=True, width=12),
        entry("outcome", "choice", required=True, choices=tuple(OUTCOME_ZH.values()), width=26),
        entry("follow_up", "choice", required=True, choices=tuple(FOLLOW_UP_ZH.values()),
              width=12),
        entry("rectification_deadline", "date", width=12),
        entry("case_number", "text", width=18),
        entry("penalty_amount", "amount", width=12),
        entry("date_follow_up_closed", "date", width=12),
        entry("receiving_body", "text", width=18),
        entry("date_follow_up_opened", "date", width=12),
        entry("date_reinspected", "date", width=12),
        entry("reinspection_result", "choice", choices=tuple(REINSPECTION_RESULT_ZH.values()),
              width=10),
        entry("supervision_order", "choice", choices=tuple(YES_NO_ZH.values()), width=8),
        entry("date_published", "date", width=12),
        entry("confidential", "choice", required=True, choices=tuple(YES_NO_ZH.values()),
              width=8),
        entry("remark", "text", width=30),
    )


def _rules() -> tuple[tuple[str, str], ...]:
    rules = []
    for outcome, allowed in FOLLOW_UPS_ALLOWED.items():
        follow = "、".join(FOLLOW_UP_ZH[f] for f in allowed)
        rules.append((OUTCOME_ZH[outcome], f"后续处置：{follow}。{_OUTCOME_NOTES[outcome]}"))
    rules.append(("尚未检查的任务", "检查日期、检查结果、后续处置等均未填写的行视为尚未检查，不作为检查结果；"
                                "完成检查后再填写。不要删除或新增任务行。"))
    return tuple(rules)


def _team(names: object, expert: object) -> str:
    team = "、".join(n for n in str(names or "").split(";") if n)
    return team + (f"（专家：{expert}）" if expert and str(expert) != "nan" else "")


def _method(detail: object, joint: object) -> str:
    text = METHOD_ZH.get(str(detail), str(detail))
    partner = JOINT_ZH.get(str(joint), "")
    return f"{text}（{partner}）" if partner else text


#: The entry columns of the template, in order (after the pre-filled ones).
ENTRY_ORDER = ("date_checked", "outcome", "follow_up", "rectification_deadline", "case_number",
               "penalty_amount", "date_follow_up_closed", "receiving_body",
               "date_follow_up_opened", "date_reinspected", "reinspection_result",
               "supervision_order", "date_published", "confidential", "remark")


def template_tasks(ledger: str | Path, quarter: str, unit: str | None = None,
                   year_to_date: bool = False) -> pd.DataFrame:
    """The valid drawn tasks of ``quarter`` (with ``year_to_date``: of every quarter of its
    year up to it) of ``unit`` in the ledger; ParameterError when there are none (naming the
    units that have tasks)."""
    q = Quarter.parse(quarter)
    if not Path(ledger).exists():
        raise ParameterError(_("ledger '{ledger}' does not exist (run `dsr commit` and "
                               "`dsr draw` first, or pass --ledger)").format(ledger=ledger))
    if year_to_date:
        tasks = load_draw_tasks(ledger)
        keep = [Quarter.parse(x).year == q.year and Quarter.parse(x) <= q for x in tasks["quarter"]]
        tasks = tasks[keep]
    else:
        tasks = load_draw_tasks(ledger, q.label)
    if unit:
        units = sorted(set(tasks["unit"]))
        tasks = tasks[tasks["unit"] == unit]
        if tasks.empty:
            raise ParameterError(_("no drawn task of {quarter} for unit '{unit}' in {ledger} "
                                   "(units with tasks: {units})").format(
                quarter=q.label, unit=unit, ledger=ledger, units=", ".join(units) or _("none")))
    if tasks.empty:
        raise ParameterError(_("no drawn task of {quarter} in {ledger} (draw the quarter first: "
                               "dsr draw)").format(quarter=q.label, ledger=ledger))
    return tasks.sort_values(["quarter", "unit", "task_id"], kind="stable").reset_index(drop=True)


def entry_values(rec: dict) -> tuple[object, ...]:
    """A result (canonical columns and values) as staff enter it in the template, in
    :data:`ENTRY_ORDER`: the Chinese values of the drop-down lists, dates as date cells
    (``datetime``), amounts as numbers, blanks as None."""
    out = []
    for column in ENTRY_ORDER:
        value = rec.get(column)
        if column == "outcome":
            value = OUTCOME_ZH[value]
        elif column == "follow_up":
            value = FOLLOW_UP_ZH[value]
        elif column == "confidential":
            value = YES_NO_ZH[bool(value)]
        elif column == "supervision_order":
            value = YES_NO_ZH[True] if value is True or value == 1 else None  # 否: blank
        elif column == "reinspection_result":
            value = REINSPECTION_RESULT_ZH.get(value) if value else None
        elif value is not None and value == value and hasattr(value, "isoformat"):
            value = dt.datetime(value.year, value.month, value.day)  # an Excel date cell
        elif value == "" or (value is not None and value != value):
            value = None
        out.append(value)
    return tuple(out)


_BLANK_ENTRY = (None,) * (len(ENTRY_ORDER) - 2) + (YES_NO_ZH[False], None)


def _period_zh(tasks: pd.DataFrame, q: Quarter) -> str:
    first = min(Quarter.parse(x) for x in tasks["quarter"])
    return q.label_zh if first == q else f"{first.label_zh}至{q.label_zh[len(str(q.year)) + 1:]}"


def results_template(tasks: pd.DataFrame, quarter: str,
                     recorded: pd.DataFrame | None = None) -> EntryForm:
    """The results-entry form of ``tasks`` (drawn tasks, as :func:`template_tasks` returns
    them): one pre-filled row per task; the entry cells of a task with a result in
    ``recorded`` (a results frame, e.g. last quarter's filled template) hold that result,
    to be completed (closing and publication dates come later)."""
    q = Quarter.parse(quarter)
    names = list(dict.fromkeys(tasks["unit_name"]))
    who = names[0] if len(names) == 1 else "、".join(names)
    done = ({r["task_id"]: entry_values(r) for r in recorded.to_dict("records")}
            if recorded is not None else {})
    rows = tuple(
        (t.task_id, t.unit_name, t.uscc, t.enterprise_name, str(t.item_name),
         _team(t.inspector_names, t.expert_name), _method(t.method_detail, t.joint_type),
         *done.get(t.task_id, _BLANK_ENTRY))
        for t in tasks.itertuples(index=False))
    period = _period_zh(tasks, q)
    instructions = (
        f"本表为{who}{period}“双随机、一公开”抽查结果登记表，已按抽取记录账本中的有效抽取记录预填"
        f"全部{len(tasks)}项抽查任务（灰色列，已锁定，请勿修改）"
        + (f"，并带入已登记的{len(done)}条检查结果。" if done else "。"),
        "每完成一项检查，在该任务所在行填写检查日期、检查结果和后续处置（列名为红色的为必填项）；"
        "检查结果、后续处置和涉密不予公开从下拉列表中选择，日期填在日期格式的单元格中（如2023-02-03）。",
        "后续处置办结、结果公示后，补填处置办结日期和公示日期；立案处罚的，补填案件编号和罚没款金额。",
        "填好后保存为本文件（不要改动表头和标题行），可先用 dsr results check 检查，"
        "系统一次列出全部问题（文件:行:列名: 问题）；检查通过后即为抽查结果登记表，用于生成统计表、"
        "工作总结、考核通报和结果公示。下一季度生成登记表时用 --from 带入本表，全年结果在一张表中。",
    )
    first = min(Quarter.parse(x) for x in tasks["quarter"])
    return EntryForm(
        title=f"{who}{period}“双随机、一公开”抽查结果登记表",
        sheet="抽查结果登记", columns=_columns(first), rows=rows, instructions=instructions,
        rules=_rules(), creator=who)


def template_path(outputs: str | Path, quarter: str, unit: str) -> Path:
    """Where ``dsr results template`` writes: ``OUTPUTS/QUARTER/results-template-UNIT.xlsx``."""
    return Path(outputs) / Quarter.parse(quarter).label / f"results-template-{unit}.xlsx"


@dataclass(frozen=True)
class TemplateWritten:
    """A written results template: its path, the tasks it holds, the results carried in."""

    path: Path
    tasks: int
    units: tuple[str, ...]
    carried: int = 0


def write_results_template(quarter: str, unit: str | None = None,
                           ledger: str | Path = DEFAULT_LEDGER,
                           outputs: str | Path | None = None,
                           previous: str | Path | None = None) -> TemplateWritten:
    """Write the results template of ``quarter`` (of ``unit``; default every unit drawn)
    from the ledger's valid draws (``outputs`` default: the ledger's folder).

    With ``previous`` (an earlier results register, e.g. last quarter's filled template,
    validated against the ledger first), the template holds every task of the year up to
    ``quarter`` and carries the recorded results in, so that one workbook is the year's
    results register."""
    tasks = template_tasks(ledger, quarter, unit, year_to_date=previous is not None)
    recorded = None
    if previous is not None:
        recorded = load_results(previous, load_draw_tasks(ledger))
        outside = sorted(set(recorded["task_id"]) - set(tasks["task_id"]))
        if outside:
            scope = (_("{quarter}, unit {unit}").format(quarter=quarter, unit=unit) if unit
                     else quarter)
            raise ParameterError(_(
                "{file}: {n} result(s) of tasks outside this template ({scope}, the year up to "
                "it), e.g. {example}: give --unit or --quarter matching the earlier register"
            ).format(file=previous, n=len(outside), scope=scope, example=outside[0]))
    units = tuple(dict.fromkeys(tasks["unit"]))
    name = unit or (units[0] if len(units) == 1 else "all")
    path = template_path(outputs if outputs is not None else Path(ledger).parent, quarter, name)
    write_entry_workbook(results_template(tasks, quarter, recorded), path)
    return TemplateWritten(path, len(tasks), units, 0 if recorded is None else len(recorded))


def fill_results_template(template: str | Path, results: pd.DataFrame,
                          target: str | Path) -> Path:
    """Enter ``results`` (a results frame: canonical columns and values) into a results
    template as staff would (:func:`entry_values`) and save it at ``target``; the demo's
    results register is made this way. Every result's task must be a row of the template."""
    headers = [HEADER[c] for c in ENTRY_ORDER]
    values = {rec["task_id"]: dict(zip(headers, entry_values(rec), strict=True))
              for rec in results.to_dict("records")}
    return fill_entry_workbook(template, HEADER["task_id"], values, target)


def check_results_file(path: str | Path, ledger: str | Path | None = None) -> ResultsCheck:
    """Validate a results register alone, or also against the ledger's drawn tasks; raise
    :class:`~dsr_analysis.errors.RegisterError` with every problem at once."""
    if not Path(path).exists():
        raise RegisterError([Problem(str(path), 0, "-", _("results register not found"))])
    tasks = None
    if ledger is not None:
        if not Path(ledger).exists():
            raise ParameterError(_("ledger '{ledger}' does not exist").format(ledger=ledger))
        tasks = load_draw_tasks(ledger)
    return check_results(path, tasks)

