"""Inspection results (R7, R8): the fifth register, its validation, and the synthetic sample.

One row per drawn task that was checked: ``task_id``, ``uscc``, ``date_checked``, ``outcome``
(``no_problem`` 未发现问题 / ``problem_found`` 发现问题 / ``violation`` 违法), ``follow_up``
(``none`` 无 / ``hand_over`` 转办 / ``transfer`` 移交 / ``judicial_referral`` 移送司法机关 /
``penalty`` 立案处罚), ``date_follow_up_closed``, ``date_published``, ``confidential`` (results
touching state secrets, national or public security: withheld from every notice, R8) and an
optional ``remark``. Headers and values may be the Chinese ones (the alias tables live in
:mod:`dsr_analysis.registers`).

Validation reports every problem as ``file:row:column: message``, like the other registers,
and adds the checks against the draw: a result for a task that was never drawn, a USCC that
is not the task's object, a check before the task's quarter began, dates out of order, a
follow-up that does not fit the outcome (R7: every problem found is followed up; nothing
to follow up when nothing was found), a confidential result with a publication date.

Report deliveries (when each county delivered its quarterly summary and statistics table,
for the evaluation, R10) are a small table of their own: :func:`load_deliveries`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, RegisterError
from .periods import Quarter
from .policy import Policy
from .registers import parse_date, read_register
from .schema import SCHEMAS
from .tabular import read_cells, strip_cells
from .workcalendar import statistics_due, summary_window
from .workcalendar import WorkCalendar

RESULT_COLUMNS = list(SCHEMAS["results"])

OUTCOME_ZH = {"no_problem": "未发现问题", "problem_found": "发现问题", "violation": "发现违法行为"}
FOLLOW_UP_ZH = {"none": "无", "hand_over": "转办", "transfer": "移交",
                "judicial_referral": "移送司法机关", "penalty": "立案处罚"}

#: Seed of the synthetic sample results (documented so the sample can be regenerated).
SAMPLE_RESULTS_SEED = 20230105


def validate_against_tasks(results: pd.DataFrame, tasks: pd.DataFrame, file: str) -> list[Problem]:
    """Checks of a typed results frame (index = spreadsheet row) against the drawn tasks."""
    problems: list[Problem] = []
    by_task = tasks.drop_duplicates("task_id").set_index("task_id")
    for row, rec in results.iterrows():
        row = int(row)

        def bad(column: str, msg: str, _row: int = row) -> None:
            problems.append(Problem(file, _row, column, msg))

        tid = rec["task_id"]
        checked = rec["date_checked"]
        if tid and tid not in by_task.index:
            bad("task_id", f"result for task '{tid}' that was never drawn (not in the draw ledger)")
        elif tid:
            task = by_task.loc[tid]
            if rec["uscc"] and rec["uscc"] != task["uscc"]:
                name = task.get("enterprise_name", "")
                bad("uscc", f"'{rec['uscc']}' is not the object of task {tid} "
                            f"(drawn: {task['uscc']} {name})".rstrip())
            start = Quarter.parse(task["quarter"]).start
            if checked is not None and checked < start:
                bad("date_checked", f"{checked} is before the task's quarter {task['quarter']} "
                                    f"began ({start})")
        for column, label in (("date_follow_up_closed", "follow-up closed"),
                              ("date_published", "published")):
            value = rec[column]
            if value is not None and checked is not None and value < checked:
                bad(column, f"{label} on {value}, before the check on {checked}")
        outcome, follow = rec["outcome"], rec["follow_up"]
        if outcome == "no_problem" and follow not in ("none", ""):
            bad("follow_up", f"follow-up '{follow}' but the outcome is no_problem (未发现问题); "
                             "use none (无)")
        if outcome in ("problem_found", "violation") and follow == "none":
            bad("follow_up", f"outcome {outcome} needs a follow-up (R7: hand_over, transfer, "
                             "judicial_referral or penalty), not none")
        if follow == "none" and rec["date_follow_up_closed"] is not None:
            bad("date_follow_up_closed", "a closing date but no follow-up (follow_up is none)")
        if rec["confidential"] and rec["date_published"] is not None:
            bad("date_published", "a confidential result is withheld (R8) and cannot have a "
                                  "publication date")
    return problems


def read_results(path: str | Path, tasks: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a results file (CSV/XLSX) and validate it, also against ``tasks``.

    Returns the typed frame (index = spreadsheet row) and every problem found.
    """
    frame, problems = read_register(Path(path), "results")
    if frame.empty and problems:
        return frame, problems
    bad_rows = {p.row for p in problems}
    clean = frame[~frame.index.isin(bad_rows)]
    problems.extend(validate_against_tasks(clean, tasks, str(path)))
    problems.sort(key=lambda p: (p.row, p.column))
    return frame, problems


def load_results(path: str | Path, tasks: pd.DataFrame) -> pd.DataFrame:
    """Read and validate a results register; raise :class:`RegisterError` with every problem.

    Parameters
    ----------
    path : path
        ``results.csv`` or ``results.xlsx``.
    tasks : DataFrame
        The drawn tasks (``task_id``, ``quarter``, ``uscc`` at least), e.g. from the ledger.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS` (dates as ``datetime.date`` or None), plus any extra
        columns of the file.
    """
    frame, problems = read_results(path, tasks)
    if problems:
        raise RegisterError(problems)
    return frame.reset_index(drop=True)


def write_results(results: pd.DataFrame, path: str | Path) -> Path:
    """Write results as UTF-8 CSV with the canonical headers (dates ISO, booleans true/false)."""
    out = results[RESULT_COLUMNS].copy()
    for column in ("date_checked", "date_follow_up_closed", "date_published"):
        out[column] = [d.isoformat() if d is not None else "" for d in out[column]]
    out["confidential"] = out["confidential"].map({True: "true", False: "false"})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Synthetic sample results
# --------------------------------------------------------------------------------------
_VIOLATION_RATE = {"A": 0.02, "B": 0.045, "C": 0.10, "D": 0.18}
_PROBLEM_RATE = 0.07
_TYPICAL = {
    "air": "废气治理设施未正常运行，颗粒物无组织排放",
    "water": "废水总排口在线监测数据异常，超标排放",
    "soil": "土壤污染隐患排查制度未落实",
    "solid_waste": "危险废物贮存场所不规范，台账记录缺失",
    "radiation": "辐射安全许可证载明事项与实际不符",
    "noise": "厂界噪声超过排放标准",
    "ecology": "未落实生态保护措施",
    "general_enforcement": "未按排污许可证规定提交执行报告",
}


def sample_results(
    tasks: pd.DataFrame,
    calendar: WorkCalendar | None = None,
    seed: int = SAMPLE_RESULTS_SEED,
    as_of: dt.date | None = None,
    policy: Policy | None = None,
) -> pd.DataFrame:
    """Realistic synthetic results for drawn tasks (deterministic for a seed).

    About 99 % of tasks are checked, on a working day of their quarter; violations are found
    more often in riskier credit classes (A 2 %, B 4.5 %, C 10 %, D 18 %; national 2019: 4.8 %
    of checks) and problems in 7 %; most results are published within the policy's working-day
    limit, a few late; about 1 % are confidential; follow-ups close 1-12 weeks after the check
    unless that is after ``as_of`` (default: 31 January after the tasks' last year).

    Parameters
    ----------
    tasks : DataFrame
        Drawn tasks: ``task_id``, ``quarter``, ``uscc``, ``credit_class``, ``business_line``.
    calendar : WorkCalendar, optional
    seed : int
        Seed of the one random generator.
    as_of : date, optional
    policy : Policy, optional
        Supplies ``reporting.results_within_working_days`` (default 20).
    """
    cal = calendar or WorkCalendar()
    rng = np.random.default_rng(seed)
    limit = policy.reporting.results_within_working_days if policy is not None else 20
    tasks = tasks.sort_values("task_id", kind="stable").reset_index(drop=True)
    n = len(tasks)
    if as_of is None:
        last_year = max((Quarter.parse(q).year for q in tasks["quarter"]), default=2023)
        as_of = dt.date(last_year + 1, 1, 31)
    u = rng.random((n, 6))
    checked_mask = u[:, 0] < 0.99
    # Checking day: a working day of the task's quarter (later draws in the quarter later).
    days_of = {q: cal.working_days_in(Quarter.parse(q).start, Quarter.parse(q).end)
               for q in tasks["quarter"].unique()}
    date_checked = [days_of[q][int(x * len(days_of[q]))] for q, x in zip(tasks["quarter"], u[:, 1], strict=True)]
    v_rate = tasks["credit_class"].map(_VIOLATION_RATE).fillna(0.045).to_numpy()
    outcome = np.where(u[:, 2] < v_rate, "violation",
                       np.where(u[:, 2] < v_rate + _PROBLEM_RATE, "problem_found", "no_problem"))
    follow = np.full(n, "none", dtype=object)
    f = u[:, 3]
    viol = outcome == "violation"
    follow[viol] = np.where(f[viol] < 0.04, "judicial_referral",
                            np.where(f[viol] < 0.16, "transfer", "penalty"))
    prob = outcome == "problem_found"
    follow[prob] = np.where(f[prob] < 0.7, "hand_over", "transfer")
    confidential = u[:, 4] < 0.01
    lag_pub = rng.integers(1, limit + 1, n)
    late = u[:, 5] < 0.03
    lag_pub[late] = limit + rng.integers(1, 11, int(late.sum()))
    close_days = rng.integers(7, 85, n)
    rows = []
    for i in range(n):
        if not checked_mask[i]:
            continue
        checked = date_checked[i]
        published = None if confidential[i] else cal.add_working_days(checked, int(lag_pub[i]))
        if published is not None and published > as_of:
            published = None
        closed = None
        if follow[i] != "none":
            closed = checked + dt.timedelta(days=int(close_days[i]))
            if closed > as_of:
                closed = None
        remark = ""
        if outcome[i] == "violation":
            # a joint task lists several lines ("air;water"): the primary item's line
            line = str(tasks.at[i, "business_line"]).split(";")[0]
            remark = _TYPICAL.get(line, "存在环境违法行为")
        rows.append({
            "task_id": tasks.at[i, "task_id"], "uscc": tasks.at[i, "uscc"],
            "date_checked": checked, "outcome": str(outcome[i]), "follow_up": str(follow[i]),
            "date_follow_up_closed": closed, "date_published": published,
            "confidential": bool(confidential[i]), "remark": remark,
        })
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# --------------------------------------------------------------------------------------
# Report deliveries (R9, for the evaluation R10)
# --------------------------------------------------------------------------------------
DELIVERY_COLUMNS = ["unit", "quarter", "report", "date_delivered"]
DELIVERY_REPORTS = ("summary", "statistics")


def load_deliveries(path: str | Path, units: Mapping[str, str]) -> pd.DataFrame:
    """Read ``deliveries.csv`` (unit, quarter, report = summary/statistics, date_delivered);
    raise :class:`RegisterError` naming every bad cell."""
    path = Path(path)
    file = str(path)
    cells, problems = read_cells(path, DELIVERY_COLUMNS)  # read exactly, or refused
    if cells is None:
        raise RegisterError(problems)
    header = list(cells.header)
    missing = [c for c in DELIVERY_COLUMNS if c not in header]
    for column in missing:
        problems.append(Problem(file, cells.header_row, column,
                                f"missing required column '{column}'"))
    if problems:
        raise RegisterError(problems)
    raw = pd.DataFrame({c: strip_cells(cells.columns[header.index(c)]).to_pylist()
                        for c in DELIVERY_COLUMNS}, index=cells.rows, dtype=object)
    out = []
    for i, rec in raw.iterrows():
        row = int(i)
        if rec["unit"] not in units:
            problems.append(Problem(file, row, "unit", f"unknown unit '{rec['unit']}' "
                                    f"(valid: {', '.join(units)})"))
        try:
            quarter = Quarter.parse(rec["quarter"]).label
        except Exception as exc:
            problems.append(Problem(file, row, "quarter", str(exc)))
            quarter = rec["quarter"]
        if rec["report"] not in DELIVERY_REPORTS:
            problems.append(Problem(file, row, "report", f"unknown report '{rec['report']}' "
                                    f"(valid: {', '.join(DELIVERY_REPORTS)})"))
        date = parse_date(rec["date_delivered"])
        if date is None:
            problems.append(Problem(file, row, "date_delivered",
                                    f"'{rec['date_delivered']}' is not a date (use YYYY-MM-DD)"))
        out.append({"unit": rec["unit"], "quarter": quarter, "report": rec["report"],
                    "date_delivered": date})
    if problems:
        raise RegisterError(problems)
    return pd.DataFrame(out, columns=DELIVERY_COLUMNS)


def sample_deliveries(policy: Policy, year: int, calendar: WorkCalendar | None = None,
                      seed: int = SAMPLE_RESULTS_SEED) -> pd.DataFrame:
    """Synthetic delivery dates of every county's summary and statistics table in ``year``:
    mostly inside the R9 window, about one in eight a working day or two late."""

    cal = calendar or WorkCalendar()
    rng = np.random.default_rng([seed, year])
    rows = []
    for q in (Quarter(year, k) for k in range(1, 5)):
        opens, due = summary_window(q, policy, cal)
        stat_due = statistics_due(q, policy, cal)
        for unit in policy.units:
            if unit.level != "county":
                continue
            for report, deadline in (("summary", due), ("statistics", stat_due)):
                late = rng.random() < 0.125
                if late:
                    day = cal.add_working_days(deadline, int(rng.integers(1, 3)))
                else:
                    day = cal.nth_last_working_day(deadline, int(rng.integers(1, 3)))
                rows.append({"unit": unit.id, "quarter": q.label, "report": report,
                             "date_delivered": day})
    return pd.DataFrame(rows, columns=DELIVERY_COLUMNS)


def write_deliveries(deliveries: pd.DataFrame, path: str | Path) -> Path:
    out = deliveries.copy()
    out["date_delivered"] = [d.isoformat() for d in out["date_delivered"]]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
    return path
