"""Follow-up cases (后续处置台账): every result with a follow-up tracked to its end (R7; plan
二（七）"健全随机抽查后续处置机制，规范问题线索的转办、移交……实现随机抽查监管闭环").

A *case* is a result whose ``follow_up`` is not ``none``; its id is the task id. What a case
holds comes from three sources, in this order (a later one overrides an earlier one):

1. **The results register** (:mod:`dsr_analysis.results`): the type (``follow_up``: 责令整改 /
   转办 / 移交 / 移送司法机关 / 立案处罚) and the optional case columns ``receiving_body``
   (接收单位), ``date_follow_up_opened`` (处置日期; blank: the check's date),
   ``rectification_deadline`` (整改期限), ``case_number``, ``penalty_amount``,
   ``date_reinspected`` / ``reinspection_result`` (复查) and ``date_follow_up_closed``.
2. **The follow-up file** (``followups.csv`` / ``.xlsx``, register ``followups`` of
   :data:`dsr_analysis.schema.SCHEMAS`, Chinese headers accepted): one row per dated update
   of a case, ``task_id`` (任务编号) and ``date_updated`` (更新日期) required, then any case
   field (a blank cell changes nothing). As of a date D, updates dated after D are ignored;
   the others are applied in date order. Validated like every register, every problem as
   ``file:row:column`` with the file's header (:func:`read_followups`): a task without a
   result, a result without a follow-up, two updates of a case on one day, an update dated
   before the check, a date in an update after the update's own date (an update records what
   happened by its date; a 整改期限 may lie ahead), and a case field that does not fit the
   case once the update is applied (:func:`dsr_analysis.results.case_problems`).
3. **Re-inspection by draw** (复查 as a task, :mod:`dsr_analysis.draw.reinspection`): a
   targeted task of origin ``follow_up`` in the ledger with a result is the 复查 of the
   correction cases it was drawn for: the same firm's cases of the task's unit that order
   correction (责令整改, or 立案处罚 with a 整改期限), found in a quarter before the task's and
   still open on the day of the check (one task re-inspects every such order of the firm).
   ``date_reinspected`` = the task's ``date_checked``; an outcome ``no_problem`` or
   ``corrected`` means 已整改 (``rectified``) and closes the case that day unless a closing
   date is recorded, anything else 未整改 (``not_rectified``: the case stays open, overdue
   after its due date). A 复查 recorded in the register or the update file on the same day or
   later wins.

Derived, as of D (:func:`case_register`): a 复查 that found the firm 已整改 closes the case on
its day unless a closing date is given; the due date is the 整改期限, else the opening date
plus the policy's days for the type (``follow_up.due_days``,
:data:`dsr_analysis.policy.FOLLOW_UP_DUE_DAYS`); the status is 已办结 (``closed``: closed on
or before D), 逾期 (``overdue``: not closed and due before D) or 办理中 (``open``). What was
recorded after D is not known as of D: a closing or 复查 date after D counts as none, and a
fine recorded in the results register is known once its case is closed (as
:func:`dsr_analysis.reports.known_by` has it).

:func:`followups_report` is what ``dsr followups`` runs: the ledger's tasks, the results and
the update file of one unit (or all) as of a date, the open and overdue cases (or all) and
the counts per type and status; :func:`case_register_document` is the office's table
(written by :func:`dsr_analysis.documents.caseload.write_case_register`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DsrError, Problem, RegisterError
from .i18n import _
from .labels import CASE_STATUS_ZH, FOLLOW_UP_STATE_ZH, FOLLOW_UP_ZH, REINSPECTION_RESULT_ZH
from .periods import date_zh
from .policy import Policy
from .registers import read_register
from .results import amount_zh, case_problems, reinspection_applies
from .schema import COLUMN_ALIASES, RECEIVING_FOLLOW_UPS, SCHEMAS

__all__ = [
    "CASE_COLUMNS", "CASE_FIELDS", "CaseRegister", "case_counts", "case_register",
    "case_register_document", "case_table_zh", "case_text", "empty_updates",
    "followups_report", "load_followups", "open_cases", "read_followups", "sample_followups",
    "text_table", "write_followups",
]

#: Case fields an update may set (the results register's columns of the same name).
CASE_FIELDS: tuple[str, ...] = tuple(c for c in SCHEMAS["followups"]
                                     if c not in ("task_id", "date_updated"))
#: Fields of an update that record something done (not after the update's own date).
_DATED_FIELDS = ("date_follow_up_opened", "date_reinspected", "date_follow_up_closed")
#: Columns of the case register (:func:`case_register`).
CASE_COLUMNS: list[str] = [
    "task_id", "unit", "unit_name", "quarter", "uscc", "enterprise_name", "follow_up",
    "follow_up_zh", "date_checked", "receiving_body", "date_follow_up_opened",
    "rectification_deadline", "date_due", "date_reinspected", "reinspection_result",
    "reinspection_task", "case_number", "penalty_amount", "date_follow_up_closed", "status",
    "status_zh", "days_overdue", "confidential", "remark",
]
#: Outcomes of a re-inspection task that mean the firm has rectified.
RECTIFIED_OUTCOMES = ("no_problem", "corrected")
#: Order of the statuses in tables (the ones needing action first).
STATUS_ORDER = ("overdue", "open", "closed")


def _given(value: object) -> bool:
    return value is not None and value == value and value != ""


def _on_or_before(value: object, as_of: dt.date) -> bool:
    return _given(value) and value <= as_of


def empty_updates() -> pd.DataFrame:
    """An update file without rows (what a render without ``followups`` uses)."""
    return pd.DataFrame(columns=["task_id", "date_updated", *CASE_FIELDS])


# --------------------------------------------------------------------------------------
# The follow-up file
# --------------------------------------------------------------------------------------
def _result_fields(result: Mapping[str, object]) -> dict[str, object]:
    return {c: result.get(c) for c in CASE_FIELDS}


def _update_problems(frame: pd.DataFrame, results: pd.DataFrame, file: str,
                     headers: Mapping[str, str]) -> list[Problem]:
    """Checks of typed update rows against the results and of each case once updated."""
    problems: list[Problem] = []
    by_task = results.drop_duplicates("task_id").set_index("task_id")
    state: dict[str, dict[str, object]] = {}
    first_of: dict[tuple[str, dt.date], int] = {}
    order = sorted(frame.index, key=lambda r: (frame.at[r, "date_updated"] or dt.date.min, r))
    for row in order:
        rec = frame.loc[row]
        row = int(row)

        def bad(column: str, msg: str, _row: int = row) -> None:
            problems.append(Problem(file, _row, headers.get(column, column), msg))

        tid, when = rec["task_id"], rec["date_updated"]
        if tid not in by_task.index:
            bad("task_id", _("task '{task}' has no result in the results register (a case is "
                             "opened by a result with a follow-up)").format(task=tid))
            continue
        result = by_task.loc[tid]
        follow = result["follow_up"]
        if follow == "none":
            bad("task_id", _("the result of task '{task}' has no follow-up (follow_up none 无): "
                             "there is no case to update").format(task=tid))
            continue
        if (tid, when) in first_of:
            bad("date_updated", _("a second update of case '{task}' dated {when} (first in row "
                                  "{row}): one update per case and day").format(
                                      task=tid, when=when, row=first_of[(tid, when)]))
            continue
        first_of[(tid, when)] = row
        if _given(result["date_checked"]) and when < result["date_checked"]:
            bad("date_updated", _("update dated {when}, before the check on {checked}").format(
                when=when, checked=result["date_checked"]))
        for column in _DATED_FIELDS:
            value = rec.get(column)
            if _given(value) and value > when:
                bad(column, _("{value} is after the update's date {when}: an update records "
                              "what has happened by its date").format(value=value, when=when))
        case = state.setdefault(tid, _result_fields(result))
        given = {c for c in CASE_FIELDS if _given(rec.get(c))}
        case.update({c: rec[c] for c in given})
        for column, msg in case_problems(case, follow, result["date_checked"]):
            if column in given:
                bad(column, msg)
    return problems


def read_followups(path: str | Path, results: pd.DataFrame
                   ) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a follow-up file (CSV/XLSX) and validate it against ``results`` (the validated
    results register). Returns the typed frame (index = spreadsheet row) and every problem."""
    frame, problems = read_register(Path(path), "followups")
    if frame.empty:
        return frame if len(frame.columns) else empty_updates(), problems
    headers = frame.attrs.get("headers", {})
    bad_rows = {p.row for p in problems}
    clean = frame[~frame.index.isin(bad_rows)]
    problems.extend(_update_problems(clean, results, str(path), headers))
    problems.sort(key=lambda p: (p.row, p.column))
    return frame, problems


def load_followups(path: str | Path, results: pd.DataFrame) -> pd.DataFrame:
    """Read and validate a follow-up file; :class:`RegisterError` with every problem.

    Returns the updates (``task_id``, ``date_updated`` and :data:`CASE_FIELDS`; a blank
    field is None or ""), in the file's order."""
    frame, problems = read_followups(path, results)
    if problems:
        raise RegisterError(problems)
    return frame.reindex(columns=["task_id", "date_updated", *CASE_FIELDS]).reset_index(drop=True)


#: Seed of the sample follow-up file (:func:`sample_followups`).
SAMPLE_FOLLOWUPS_SEED = 20230701
#: Chinese headers of a written follow-up file (the first accepted header of each column).
UPDATE_HEADERS_ZH = {c: COLUMN_ALIASES["followups"][c][0]
                     for c in ("task_id", "date_updated", *CASE_FIELDS)}


def sample_followups(results: pd.DataFrame, policy: Policy, as_of: dt.date,
                     seed: int = SAMPLE_FOLLOWUPS_SEED, tasks: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """A synthetic follow-up file consistent with ``results`` (the sample results): the
    receiving body's feedback on about half of the matters handed on and closed (an update
    1-5 days after the closing, repeating its date), and a reminder (督办) to every case
    overdue by ``as_of``, dated 3 days after it fell due. Deterministic for a seed. Give the
    drawn ``tasks`` when some are re-inspections (origin ``follow_up``), so that an order
    their results closed is not reminded."""
    rng = np.random.default_rng(seed)
    if tasks is None:
        tasks = pd.DataFrame({"task_id": results["task_id"], "unit": "", "quarter": "",
                              "enterprise_name": "", "uscc": results["uscc"]})
    cases = case_register(tasks, results, policy, as_of)
    rows = []
    for case in cases.to_dict("records"):
        u = rng.random(2)
        closed = case["date_follow_up_closed"]
        if case["follow_up"] in RECEIVING_FOLLOW_UPS and _given(closed) and u[0] < 0.5:
            day = min(closed + dt.timedelta(days=1 + int(u[1] * 5)), as_of)
            rows.append({"task_id": case["task_id"], "date_updated": day,
                         "date_follow_up_closed": closed, "remark": "承办单位书面反馈已办结"})
        elif case["status"] == "overdue":
            day = case["date_due"] + dt.timedelta(days=3)
            if day <= as_of:
                rows.append({"task_id": case["task_id"], "date_updated": day,
                             "remark": "已逾期，发函督办"})
    out = pd.DataFrame(rows, columns=["task_id", "date_updated", *CASE_FIELDS])
    return out.sort_values(["date_updated", "task_id"], kind="stable").reset_index(drop=True)


def write_followups(updates: pd.DataFrame, path: str | Path) -> Path:
    """Write a follow-up file as CSV with the Chinese headers (UTF-8 with BOM, dates ISO,
    amounts in yuan), replaced atomically; it reads back as the same updates."""
    from .documents.layout import write_atomically

    out = updates.reindex(columns=list(UPDATE_HEADERS_ZH)).copy()
    for column in ("date_updated", *_DATED_FIELDS, "rectification_deadline"):
        out[column] = [d.isoformat() if _given(d) else "" for d in out[column]]
    out["penalty_amount"] = [f"{float(a):.2f}".rstrip("0").rstrip(".") if _given(a) else ""
                             for a in out["penalty_amount"]]
    out["reinspection_result"] = [REINSPECTION_RESULT_ZH.get(v, "") if _given(v) else ""
                                  for v in out["reinspection_result"]]
    out = out.astype(object).fillna("").rename(columns=UPDATE_HEADERS_ZH)
    return write_atomically(path, lambda tmp: out.to_csv(tmp, index=False, encoding="utf-8-sig"))


# --------------------------------------------------------------------------------------
# The cases as of a date
# --------------------------------------------------------------------------------------
def _initial_cases(tasks: pd.DataFrame, results: pd.DataFrame, as_of: dt.date
                   ) -> dict[str, dict[str, object]]:
    """A case per result with a follow-up checked by ``as_of``, from the results register
    (what was recorded after ``as_of`` left out)."""
    by_task = tasks.drop_duplicates("task_id").set_index("task_id")
    cases: dict[str, dict[str, object]] = {}
    for rec in results.to_dict("records"):
        if rec["follow_up"] == "none" or not _on_or_before(rec["date_checked"], as_of):
            continue
        task = by_task.loc[rec["task_id"]] if rec["task_id"] in by_task.index else {}
        case = {c: rec.get(c) for c in CASE_FIELDS}
        closed = case["date_follow_up_closed"]
        case["date_follow_up_closed"] = closed if _on_or_before(closed, as_of) else None
        if not _given(case["date_follow_up_closed"]):
            case["penalty_amount"] = None  # a fine is decided when its case is closed
        if not _on_or_before(case["date_reinspected"], as_of):
            case["date_reinspected"], case["reinspection_result"] = None, ""
        case.update({
            "task_id": rec["task_id"], "uscc": rec["uscc"], "follow_up": rec["follow_up"],
            "date_checked": rec["date_checked"], "confidential": bool(rec["confidential"]),
            "unit": task.get("unit", ""), "quarter": task.get("quarter", ""),
            "enterprise_name": task.get("enterprise_name", ""), "reinspection_task": "",
        })
        cases[rec["task_id"]] = case
    return cases


def _apply_updates(cases: dict[str, dict[str, object]], updates: pd.DataFrame | None,
                   as_of: dt.date) -> None:
    """Updates dated by ``as_of`` in date order (file order within a day), each non-blank
    field overriding."""
    if updates is None or updates.empty:
        return
    known = updates[[_on_or_before(d, as_of) for d in updates["date_updated"]]]
    known = known.assign(_pos=range(len(known))).sort_values(["date_updated", "_pos"])
    for rec in known.to_dict("records"):
        case = cases.get(rec["task_id"])
        if case is None:
            continue  # a case checked after as_of (or not a case: refused when read)
        for column in CASE_FIELDS:
            if _given(rec.get(column)):
                case[column] = rec[column]


def _opened(case: Mapping[str, object]) -> dt.date:
    opened = case["date_follow_up_opened"]
    return opened if _given(opened) else case["date_checked"]


def _covered_cases(cases: list[dict[str, object]], task: Mapping[str, object],
                   day: dt.date) -> list[dict[str, object]]:
    """The correction cases a re-inspection task checked on ``day`` covers: the firm's cases
    of the task's unit that order correction, found in a quarter before the task's and still
    open that day (what :mod:`dsr_analysis.draw.reinspection` draws one task per firm for)."""
    quarter = str(task.get("quarter", ""))
    return [c for c in cases if c["uscc"] == task["uscc"] and c["task_id"] != task["task_id"]
            and (not task.get("unit") or c["unit"] == task["unit"])
            and (not quarter or str(c["quarter"]) < quarter)
            and reinspection_applies(c["follow_up"], c["rectification_deadline"])
            and c["date_checked"] < day and _opened(c) <= day
            and not (_given(c["date_follow_up_closed"]) and c["date_follow_up_closed"] < day)]


def _apply_reinspection_tasks(cases: dict[str, dict[str, object]], tasks: pd.DataFrame,
                              results: pd.DataFrame, as_of: dt.date) -> None:
    """Results of targeted re-inspection tasks (origin ``follow_up``) as their cases' 复查
    (a 复查 that found the firm 已整改 closes the case that day unless a closing date is
    recorded)."""
    if "origin" not in tasks.columns:
        return
    drawn = tasks[tasks["origin"] == "follow_up"].drop_duplicates("task_id").set_index("task_id")
    known = pd.Series([_on_or_before(d, as_of) for d in results["date_checked"]],
                      index=results.index, dtype=bool)
    done = results[results["task_id"].isin(drawn.index) & known]
    pool = list(cases.values())
    for rec in done.sort_values(["date_checked", "task_id"]).to_dict("records"):
        task = {**drawn.loc[rec["task_id"]].to_dict(), "task_id": rec["task_id"],
                "uscc": rec["uscc"]}
        day = rec["date_checked"]
        rectified = rec["outcome"] in RECTIFIED_OUTCOMES
        for case in _covered_cases(pool, task, day):
            if _given(case["date_reinspected"]) and case["date_reinspected"] >= day:
                continue  # a 复查 recorded by hand on that day or later wins
            case["date_reinspected"] = day
            case["reinspection_result"] = "rectified" if rectified else "not_rectified"
            case["reinspection_task"] = rec["task_id"]
            if rectified and not _given(case["date_follow_up_closed"]):
                case["date_follow_up_closed"] = day


def _finish(case: dict[str, object], policy: Policy, as_of: dt.date) -> dict[str, object]:
    """Opening and due dates, a closing by a 复查 that found the firm 已整改, the status."""
    opened = case["date_follow_up_opened"] = _opened(case)
    if (case["reinspection_result"] == "rectified" and not _given(case["date_follow_up_closed"])
            and _on_or_before(case["date_reinspected"], as_of)):
        case["date_follow_up_closed"] = case["date_reinspected"]
    deadline = case["rectification_deadline"]
    case["date_due"] = deadline if _given(deadline) else (
        opened + dt.timedelta(days=policy.follow_up_rules.days(case["follow_up"])))
    if _on_or_before(case["date_follow_up_closed"], as_of):
        status = "closed"
    elif case["date_due"] < as_of:
        status = "overdue"
    else:
        status = "open"
    case["status"] = status
    case["days_overdue"] = (as_of - case["date_due"]).days if status == "overdue" else 0
    case["status_zh"] = CASE_STATUS_ZH[status]
    case["follow_up_zh"] = FOLLOW_UP_ZH[case["follow_up"]]
    case["unit_name"] = policy.unit_names.get(case["unit"], case["unit"])
    for column in ("receiving_body", "case_number", "reinspection_result", "remark"):
        if not _given(case[column]):
            case[column] = ""
    for column in ("rectification_deadline", "date_reinspected", "date_follow_up_closed",
                   "penalty_amount"):
        if not _given(case[column]):
            case[column] = None
    return case


def case_register(tasks: pd.DataFrame, results: pd.DataFrame, policy: Policy,
                  as_of: dt.date, updates: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every follow-up case as of ``as_of`` (see the module's description).

    Parameters
    ----------
    tasks : DataFrame
        Drawn tasks (``task_id``, ``unit``, ``quarter``, ``uscc``, ``enterprise_name``,
        ``origin``), e.g. :func:`dsr_analysis.draw.ledger.load_draw_tasks`.
    results : DataFrame
        The validated results register (:func:`dsr_analysis.results.load_results`).
    policy : Policy
        Unit names and the days a case has (``follow_up.due_days``).
    as_of : date
        What was known by this day counts (updates dated after it are ignored).
    updates : DataFrame, optional
        The validated follow-up file (:func:`load_followups`).

    Returns
    -------
    DataFrame
        :data:`CASE_COLUMNS`, one row per case, ordered by unit, check date and task id.
    """
    cases = _initial_cases(tasks, results, as_of)
    _apply_updates(cases, updates, as_of)
    _apply_reinspection_tasks(cases, tasks, results, as_of)
    rows = [_finish(c, policy, as_of) for c in cases.values()]
    frame = pd.DataFrame(rows, columns=CASE_COLUMNS)
    if frame.empty:
        return frame
    frame["days_overdue"] = frame["days_overdue"].astype(int)
    frame["confidential"] = frame["confidential"].astype(bool)
    return frame.sort_values(["unit", "date_checked", "task_id"], kind="stable"
                             ).reset_index(drop=True)


def open_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """The cases not closed (overdue first, most overdue first, then open by due date)."""
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    out = cases[cases["status"] != "closed"].copy()
    out["_rank"] = out["status"].map(rank)
    return (out.sort_values(["_rank", "days_overdue", "date_due", "task_id"],
                            ascending=[True, False, True, True], kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def case_counts(cases: pd.DataFrame) -> pd.DataFrame:
    """Cases per type and status (办理中 / 逾期 / 已办结 / 合计), one row per follow-up type
    with a case, then 合计 (Chinese headers)."""
    types = [t for t in FOLLOW_UP_ZH if t != "none"]
    rows = []
    for label, sel in [(FOLLOW_UP_ZH[t], cases["follow_up"] == t) for t in types] + [
            ("合计", pd.Series(True, index=cases.index))]:
        part = cases[sel]
        if label != "合计" and part.empty:
            continue
        row = {"类型": label}
        for status in ("open", "overdue", "closed"):
            row[CASE_STATUS_ZH[status]] = int((part["status"] == status).sum())
        row["合计"] = len(part)
        rows.append(row)
    return pd.DataFrame(rows, columns=["类型", *(CASE_STATUS_ZH[s] for s in
                                              ("open", "overdue", "closed")), "合计"])


def case_table_zh(cases: pd.DataFrame, serial: bool = True) -> pd.DataFrame:
    """The cases as the office reads them (Chinese headers; blank fields as "—")."""
    def text(values) -> list[object]:
        return [v if _given(v) else None for v in values]

    table = pd.DataFrame({
        "任务编号": cases["task_id"].to_numpy(),
        "单位": cases["unit_name"].to_numpy(),
        "检查对象": cases["enterprise_name"].to_numpy(),
        "统一社会信用代码": cases["uscc"].to_numpy(),
        "处置类型": cases["follow_up_zh"].to_numpy(),
        "接收单位": text(cases["receiving_body"]),
        "检查日期": cases["date_checked"].to_numpy(),
        "处置日期": cases["date_follow_up_opened"].to_numpy(),
        "应办结日期": cases["date_due"].to_numpy(),
        "复查日期": text(cases["date_reinspected"]),
        "复查结果": [REINSPECTION_RESULT_ZH.get(v) for v in cases["reinspection_result"]],
        "案件编号": text(cases["case_number"]),
        "罚没款金额（元）": text(cases["penalty_amount"]),
        "办结日期": text(cases["date_follow_up_closed"]),
        "状态": cases["status_zh"].to_numpy(),
        "逾期天数": pd.Series([int(d) if d else None for d in cases["days_overdue"]],
                          dtype=object).to_numpy(),
    })
    if serial:
        table.insert(0, "序号", range(1, len(table) + 1))
    return table


def case_text(case: Mapping[str, object]) -> str:
    """A case as a public notice prints its 后续处理结果: the measure, the 整改期限 or the body
    it went to, a penalty's case number, the state (整改中 / 已整改 / 逾期未整改 for an order
    to correct, else 办理中 / 已办结) and, once a penalty case is closed, its fine."""
    follow = str(case["follow_up"])
    label = FOLLOW_UP_ZH[follow]
    done = case["status"] == "closed"
    parts = []
    if follow == "rectification_order":
        if _given(case["rectification_deadline"]):
            parts.append(f"整改期限{date_zh(case['rectification_deadline'])}")
        state = "rectified" if done else "overdue" if case["status"] == "overdue" else "rectifying"
        parts.append(FOLLOW_UP_STATE_ZH[state])
        return f"{label}（{'，'.join(parts)}）"
    if follow in RECEIVING_FOLLOW_UPS and _given(case["receiving_body"]):
        parts.append(f"接收单位{case['receiving_body']}")
    if follow == "penalty" and _given(case["case_number"]):
        parts.append(f"案件编号{case['case_number']}")
    parts.append(FOLLOW_UP_STATE_ZH["closed" if done else "open"])
    if follow == "penalty" and done and _given(case["penalty_amount"]):
        parts.append(f"罚没款{amount_zh(float(case['penalty_amount']))}")
    return f"{label}（{'，'.join(parts)}）"


# --------------------------------------------------------------------------------------
# dsr followups
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseRegister:
    """The follow-up register of a unit (or every unit) as of a date.

    Attributes
    ----------
    as_of : date
    unit : str
        Unit id, or "" for every unit.
    unit_name : str
        The unit's Chinese name (or the area's authority for every unit).
    authority : str
        The bureau that keeps the register (printed on the table).
    cases : DataFrame
        Every case (:data:`CASE_COLUMNS`).
    listed : DataFrame
        The cases listed: the open and overdue ones, or every case with ``all_cases``.
    all_cases : bool
    written : Path or None
        The office's workbook, when one was written.
    """

    as_of: dt.date
    unit: str
    unit_name: str
    authority: str
    cases: pd.DataFrame
    listed: pd.DataFrame
    all_cases: bool
    written: Path | None = None

    def text(self) -> str:
        """The listed cases as a terminal table (Chinese headers, CJK counted double)."""
        if self.listed.empty:
            return "（无）" if self.all_cases else "（无未办结案件）"
        table = case_table_zh(self.listed)[list(TERMINAL_COLUMNS)]
        return text_table(table)

    def counts(self) -> pd.DataFrame:
        """Cases per type and status (:func:`case_counts`)."""
        return case_counts(self.cases)

    def summary(self) -> str:
        """One line: the cases by status (Chinese)."""
        n = {s: int((self.cases["status"] == s).sum()) for s in STATUS_ORDER}
        return (f"{self.unit_name}后续处置台账（截至{date_zh(self.as_of)}）：共{len(self.cases)}件，"
                f"办理中{n['open']}件，逾期{n['overdue']}件，已办结{n['closed']}件")


#: Columns of the case table printed on a terminal.
TERMINAL_COLUMNS = ("序号", "任务编号", "单位", "检查对象", "处置类型", "接收单位", "处置日期",
                    "应办结日期", "状态", "逾期天数")


def _cell(value: object) -> str:
    if not _given(value):
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def text_table(frame: pd.DataFrame) -> str:
    """``frame`` as aligned text for a terminal (a CJK character takes two columns; blank
    cells as "—"; numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    headers = [str(c) for c in frame.columns]
    widths = [max([_width(h)] + [_width(r[j]) for r in cells]) for j, h in enumerate(headers)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]

    def line(values: list[str]) -> str:
        out = []
        for j, v in enumerate(values):
            pad = " " * (widths[j] - _width(v))
            out.append(pad + v if numeric[j] else v + pad)
        return "  ".join(out).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in cells])


def _unit_id(unit: str, policy: Policy) -> str:
    for u in policy.units:
        if unit in (u.id, u.name):
            return u.id
    raise DsrError(_("unknown unit '{unit}' (valid: {valid})").format(
        unit=unit, valid=", ".join(f"{u.id} {u.name}" for u in policy.units)))


def followups_report(ledger: str | Path, results: str | Path, followups: str | Path | None = None,
                     unit: str | None = None, as_of: dt.date | None = None,
                     policy: str | Policy | None = None, all_cases: bool = False,
                     output: str | Path | None = None, demo: bool = False) -> CaseRegister:
    """What ``dsr followups`` shows: the cases of ``unit`` (id or Chinese name; None: every
    unit) as of ``as_of`` (default: today) from the ledger's drawn tasks, the results register
    (validated against them) and the optional follow-up file; the open and overdue cases, or
    every case with ``all_cases``; with ``output`` also the office's workbook (XLSX:
    :func:`case_register_document`, the counts on a second sheet; ``demo`` marks it
    演示数据). Bad input raises
    :class:`RegisterError` with every problem, and nothing is written."""
    from .draw.ledger import load_draw_tasks
    from .policy import load_policy
    from .results import load_results

    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    if not Path(ledger).is_file():
        raise DsrError(_("ledger '{ledger}' does not exist (run `dsr draw` first)").format(
            ledger=ledger))
    tasks = load_draw_tasks(ledger)
    res = load_results(results, tasks)
    updates = load_followups(followups, res) if followups else empty_updates()
    as_of = as_of or dt.date.today()
    cases = case_register(tasks, res, pol, as_of, updates)
    if unit:
        uid = _unit_id(unit, pol)
        cases = cases[cases["unit"] == uid].reset_index(drop=True)
        name, authority = pol.unit_names[uid], pol.authority(uid)
    else:
        uid, authority = "", pol.authority()
        name = authority
    listed = cases if all_cases else open_cases(cases)
    register = CaseRegister(as_of, uid, name, authority, cases, listed, all_cases)
    if output:
        from .documents.caseload import write_case_register

        written = write_case_register(case_register_document(register, demo),
                                      register.counts(), output)
        register = dataclasses.replace(register, written=written)
    return register


def case_register_document(register: CaseRegister, demo: bool = False):
    """The office's table of the cases (an internal :class:`TableDocument`: title, unit,
    as-of date, one row per case listed, the counts per status in the notes)."""
    from .documents.model import Table, TableDocument

    counts = register.counts()
    total = counts[counts["类型"] == "合计"].iloc[0]
    what = "全部后续处置案件" if register.all_cases else "未办结（办理中、逾期）的后续处置案件"
    notes = [f"截至{date_zh(register.as_of)}共有后续处置案件{int(total['合计'])}件：办理中"
             f"{int(total['办理中'])}件，逾期{int(total['逾期'])}件，已办结{int(total['已办结'])}件。"]
    statuses = [CASE_STATUS_ZH[x] for x in ("open", "overdue", "closed")]
    notes += ["其中" + "；".join(
        f"{r['类型']}{r['合计']}件（" + "，".join(f"{z}{r[z]}件" for z in statuses if r[z]) + "）"
        for r in counts[counts["类型"] != "合计"].to_dict("records")) + "。"] if len(counts) > 1 else []
    notes.append(f"本表列出{what}；应办结日期为整改期限，未规定整改期限的为处置日期加实施方案规定"
                 "的办理天数；逾期天数计至数据截止日期。")
    return TableDocument(
        title=f"{register.unit_name}“双随机、一公开”抽查后续处置台账",
        table=Table(case_table_zh(register.listed), wrap_em=14),
        unit=register.authority, unit_label="填报单位", date=register.as_of,
        date_label="制表日期", as_of=register.as_of, signatures=("填报人", "审核人"),
        notes=tuple(notes), demo=demo, public=False, classification="内部资料 注意保密")
