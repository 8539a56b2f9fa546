"""Inspection results (R7, R8): the fifth register, its validation, and the synthetic sample.

One row per drawn task that was checked: ``task_id``, ``uscc``, ``date_checked``, ``outcome``,
``follow_up``, ``date_follow_up_closed``, ``date_published``, ``confidential`` (results
touching state secrets, national or public security: withheld from every notice, R8) and the
optional ``remark``, ``rectification_deadline`` (整改期限), ``case_number`` (案件编号) and
``penalty_amount`` (罚没款金额, yuan), and the optional case columns of a follow-up
(:mod:`dsr_analysis.followups`): ``receiving_body`` (接收单位 / 承办单位 / 移交单位 / 移送机关:
only for 转办, 移交 and 移送司法机关), ``date_follow_up_opened`` (处置日期 / 移交日期 / 转办日期 /
立案日期 / 下达日期; blank: the check's date), ``date_reinspected`` (复查日期) and
``reinspection_result`` (复查结果: ``rectified`` 已整改 / ``not_rectified`` 未整改; only for a
follow-up with a 整改期限, and both or neither). Headers and values may be the Chinese ones; the
vocabulary is data in :mod:`dsr_analysis.schema` (``ENUMS``, ``FOLLOW_UPS_ALLOWED``) and the
labels are in :mod:`dsr_analysis.labels`:

- outcomes, as the national enterprise credit publicity system records them: ``no_problem``
  未发现问题, ``corrected`` 发现问题已责令改正（含当场整改）, ``pending_follow_up``
  发现问题待后续处理 (the older ``problem_found`` / 发现问题 read as this), ``violation`` 违法,
  ``no_activity`` 未发现开展本次抽查涉及的经营活动 (企业已停产 reads as this: the firm exists,
  the activity checked was not going on), ``closed`` 已关闭停业或正在组织清算, ``unreachable``
  通过登记的住所（经营场所）无法联系, ``obstructed`` 不配合检查情节严重, ``moved_or_deregistered``
  迁移、注销等其他情况;
- follow-ups: ``none`` 无, ``rectification_order`` 责令整改, ``hand_over`` 转办, ``transfer`` 移交,
  ``judicial_referral`` 移送司法机关, ``penalty`` 立案处罚.

Validation reports every problem as ``file:row:column: message``, the column named by the
file's own header, like the other registers, and adds the checks of a result on its own
(:func:`validate_rows`: dates out of order, a 整改期限 before the check, a follow-up that does
not fit the outcome, a deadline, case number or amount without the follow-up it belongs to,
a confidential result with a publication date) and against the draw
(:func:`validate_against_tasks`: a task never drawn, a USCC that is not the task's object, a
check before the task's quarter began).

A row that holds nothing but a task's pre-filled cells (task id, USCC, the template's
descriptive columns, confidential blank or 否) is a task not yet checked, not a result: it is
skipped (:func:`read_results`), so a results template can be handed back half filled.

Report deliveries (when each county delivered its quarterly summary and statistics table,
for the evaluation, R10) are a small table of their own: :func:`load_deliveries`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, RegisterError
from .i18n import N_, _, language, ngettext
from .labels import FOLLOW_UP_STATE_ZH, FOLLOW_UP_ZH, OUTCOME_ZH
from .periods import Quarter, date_zh
from .policy import Policy
from .registers import read_register
from .values import parse_date
from .schema import (DEADLINE_FOLLOW_UPS, FOLLOW_UPS_ALLOWED, NOT_OPERATING_OUTCOMES,
                     PROBLEM_OUTCOMES, RECEIVING_FOLLOW_UPS, SCHEMAS)
from .tabular import read_cells, strip_cells
from .workcalendar import statistics_due, summary_window
from .workcalendar import WorkCalendar

__all__ = [
    "FOLLOW_UP_ZH", "OUTCOME_ZH", "RESULT_COLUMNS", "ResultsCheck", "amount_zh",
    "case_problems", "check_results", "follow_up_text", "load_results", "read_results", "result_figures",
    "sample_results", "validate_against_tasks", "validate_rows", "write_results",
]

RESULT_COLUMNS = list(SCHEMAS["results"])
#: Columns a person fills in for a result (everything but the task's id and object).
ENTRY_COLUMNS = [c for c in RESULT_COLUMNS if c not in ("task_id", "uscc")]
DATE_COLUMNS = ("date_checked", "date_follow_up_closed", "date_published",
                "rectification_deadline", "date_follow_up_opened", "date_reinspected")

#: Seed of the synthetic sample results (documented so the sample can be regenerated).
SAMPLE_RESULTS_SEED = 20230105


def _named(values: tuple[str, ...], labels: Mapping[str, str]) -> str:
    return ", ".join(f"{v} {labels[v]}" for v in values)


def _named_zh(values: tuple[str, ...], labels: Mapping[str, str]) -> str:
    """The Chinese labels of ``values``, as a Chinese list (、)."""
    return "、".join(labels.get(v, v) for v in values)


def _given(value: object) -> bool:
    return value is not None and value == value and value != ""


def reinspection_applies(follow_up: str, deadline: object) -> bool:
    """A 复查 belongs to an order to correct: 责令整改, or a penalty that set a 整改期限."""
    return follow_up == "rectification_order" or (follow_up in DEADLINE_FOLLOW_UPS
                                                  and _given(deadline))


def case_problems(case: Mapping[str, object], follow_up: str, checked: object
                  ) -> list[tuple[str, str]]:
    """(column, message) for every case field of a follow-up that does not fit it: a
    receiving body (接收单位) only for 转办/移交/移送司法机关, an opening date only with a
    follow-up and not before the check, a closing date and a 复查 not before the opening, a
    复查 only for an order to correct (with its 整改期限) and its date and result together.
    ``case`` holds the case fields (results columns; a missing one is blank)."""
    out: list[tuple[str, str]] = []
    body, opened = case.get("receiving_body"), case.get("date_follow_up_opened")
    closed, deadline = case.get("date_follow_up_closed"), case.get("rectification_deadline")
    when, found = case.get("date_reinspected"), case.get("reinspection_result")
    if _given(body) and follow_up not in RECEIVING_FOLLOW_UPS:
        out.append(("receiving_body", _(
            "a receiving body (接收单位) '{body}' belongs to a matter handed on ({handed}), not "
            "to follow-up '{follow_up}' ({follow_up_zh})").format(
                body=body, handed=_named(RECEIVING_FOLLOW_UPS, FOLLOW_UP_ZH),
                handed_zh=_named_zh(RECEIVING_FOLLOW_UPS, FOLLOW_UP_ZH), follow_up=follow_up,
                follow_up_zh=FOLLOW_UP_ZH.get(follow_up, follow_up))))
    if _given(opened) and follow_up == "none":
        out.append(("date_follow_up_opened", _("an opening date (处置日期) but no follow-up "
                                               "(follow_up is none)")))
    elif _given(opened) and _given(checked) and opened < checked:
        out.append(("date_follow_up_opened", _("follow-up opened on {opened}, before the check "
                                               "on {checked}").format(opened=opened,
                                                                      checked=checked)))
    start = opened if _given(opened) else checked
    if _given(closed) and _given(opened) and closed < opened:
        out.append(("date_follow_up_closed", _("follow-up closed on {closed}, before it was "
                                               "opened on {opened}").format(closed=closed,
                                                                            opened=opened)))
    if (_given(when) or _given(found)) and not reinspection_applies(follow_up, deadline):
        column = "date_reinspected" if _given(when) else "reinspection_result"
        out.append((column, _(
            "a re-inspection (复查) belongs to an order to correct with a 整改期限 "
            "(rectification_order 责令整改, or penalty 立案处罚 with a rectification_deadline), "
            "not to follow-up '{follow_up}' ({follow_up_zh})").format(
                follow_up=follow_up, follow_up_zh=FOLLOW_UP_ZH.get(follow_up, follow_up))))
    elif _given(when) != _given(found):
        column, other = (("reinspection_result", "复查结果 (reinspection_result)")
                         if _given(when) else ("date_reinspected", "复查日期 (date_reinspected)"))
        message = (_("a re-inspection needs both its date and its result: 复查结果 "
                     "(reinspection_result) is blank") if _given(when) else
                   _("a re-inspection needs both its date and its result: 复查日期 "
                     "(date_reinspected) is blank"))
        out.append((column, message))
    if _given(when) and _given(start) and when < start:
        out.append(("date_reinspected", _("re-inspected on {when}, before the follow-up was "
                                          "opened on {start}").format(when=when, start=start)))
    return out


def validate_rows(results: pd.DataFrame, file: str,
                  headers: Mapping[str, str] | None = None) -> list[Problem]:
    """Checks of each result on its own (typed frame, index = spreadsheet row): dates in
    order, the follow-up fits the outcome (:data:`~dsr_analysis.schema.FOLLOW_UPS_ALLOWED`),
    a deadline, case number or amount only with the follow-up it belongs to, nothing
    published of a confidential result. ``headers`` maps a canonical column to the file's
    header (messages name the file's header)."""
    headers = headers or {}
    problems: list[Problem] = []
    for row, rec in results.iterrows():
        row = int(row)

        def bad(column: str, msg: str, _row: int = row) -> None:
            problems.append(Problem(file, _row, headers.get(column, column), msg))

        checked = rec["date_checked"]
        for column, label in (("date_follow_up_closed", N_("follow-up closed")),
                              ("date_published", N_("published")),
                              ("rectification_deadline", N_("rectification deadline (整改期限)"))):
            value = rec.get(column)
            if value is not None and checked is not None and value < checked:
                bad(column, _("{label} on {value}, before the check on {checked}").format(
                    label=_(label), value=value, checked=checked))
        outcome, follow = rec["outcome"], rec["follow_up"]
        allowed = FOLLOW_UPS_ALLOWED.get(outcome)
        if allowed is not None and follow in FOLLOW_UP_ZH and follow not in allowed:
            names = dict(follow=follow, follow_zh=FOLLOW_UP_ZH.get(follow, follow),
                         outcome=outcome, outcome_zh=OUTCOME_ZH[outcome],
                         allowed=_named(allowed, FOLLOW_UP_ZH),
                         allowed_zh=_named_zh(allowed, FOLLOW_UP_ZH))
            if allowed == ("none",):
                bad("follow_up", _("follow-up '{follow}' but the outcome is {outcome} "
                                   "({outcome_zh}): nothing to follow up; use none (无)"
                                   ).format(**names))
            elif follow == "none":
                bad("follow_up", _("outcome {outcome} needs a follow-up ({allowed}), not none "
                                   "({outcome_zh})").format(**names))
            else:
                bad("follow_up", _("follow-up '{follow}' ({follow_zh}) does not fit the outcome "
                                   "{outcome} ({outcome_zh}); valid: {allowed}").format(**names))
        if follow == "none" and rec["date_follow_up_closed"] is not None:
            bad("date_follow_up_closed",
                _("a closing date but no follow-up (follow_up is none)"))
        if rec.get("rectification_deadline") is not None and follow not in DEADLINE_FOLLOW_UPS:
            bad("rectification_deadline",
                _("a rectification deadline (整改期限) belongs to an order to correct "
                  "({orders}), not to follow-up '{follow}'").format(
                      orders=_named(DEADLINE_FOLLOW_UPS, FOLLOW_UP_ZH),
                      orders_zh=_named_zh(DEADLINE_FOLLOW_UPS, FOLLOW_UP_ZH), follow=follow,
                      follow_zh=FOLLOW_UP_ZH.get(follow, follow)))
        for column, message in (
                ("case_number", N_("a case number (案件编号) belongs to a penalty case (penalty "
                                   "立案处罚), not to follow-up '{follow}'")),
                ("penalty_amount", N_("a penalty amount (罚没款金额) belongs to a penalty case "
                                      "(penalty 立案处罚), not to follow-up '{follow}'"))):
            value = rec.get(column)
            if value is not None and value == value and value != "" and follow != "penalty":
                bad(column, _(message).format(follow=follow,
                                              follow_zh=FOLLOW_UP_ZH.get(follow, follow)))
        if rec["confidential"] and rec["date_published"] is not None:
            bad("date_published", _("a confidential result is withheld and cannot have a "
                                    "publication date"))
        for column, msg in case_problems(rec, follow, checked):
            bad(column, msg)
    return problems


def validate_against_tasks(results: pd.DataFrame, tasks: pd.DataFrame, file: str,
                           headers: Mapping[str, str] | None = None) -> list[Problem]:
    """Checks of a typed results frame (index = spreadsheet row) against the drawn tasks,
    and of each result on its own (:func:`validate_rows`)."""
    headers = headers or {}
    problems: list[Problem] = []
    by_task = tasks.drop_duplicates("task_id").set_index("task_id")
    for row, rec in results.iterrows():
        row = int(row)

        def bad(column: str, msg: str, _row: int = row) -> None:
            problems.append(Problem(file, _row, headers.get(column, column), msg))

        tid = rec["task_id"]
        checked = rec["date_checked"]
        if tid and tid not in by_task.index:
            bad("task_id", _("result for task '{task}' that was never drawn (not in the draw "
                             "ledger)").format(task=tid))
        elif tid:
            task = by_task.loc[tid]
            if rec["uscc"] and rec["uscc"] != task["uscc"]:
                name = task.get("enterprise_name", "")
                bad("uscc", _("'{uscc}' is not the object of task {task} (drawn: {drawn})"
                              ).format(uscc=rec["uscc"], task=tid,
                                       drawn=f"{task['uscc']} {name}".rstrip()))
            start = Quarter.parse(task["quarter"]).start
            if checked is not None and checked < start:
                bad("date_checked", _("{checked} is before the task's quarter {quarter} began "
                                      "({start})").format(
                    checked=checked, quarter=task["quarter"], start=start,
                    quarter_zh=Quarter.parse(task["quarter"]).label_zh))
    return problems + validate_rows(results, file, headers)


def _awaiting_rows(frame: pd.DataFrame, problems: list[Problem],
                   headers: Mapping[str, str]) -> set[int]:
    """Rows holding only a task's pre-filled cells (nothing recorded yet): every entry
    column blank (confidential blank or false), and no problem but a blank required entry."""
    if frame.empty:
        return set()
    flags = [c for c in ENTRY_COLUMNS if SCHEMAS["results"][c][0] == "bool"]  # 否 = blank
    entry = [c for c in ENTRY_COLUMNS if c not in flags]
    blank = np.ones(len(frame), dtype=bool)
    for column in entry:
        blank &= np.array([v is None or v == "" or v != v for v in frame[column]], dtype=bool)
    for column in flags:
        blank &= ~frame[column].to_numpy(dtype=bool)
    rows = {int(r) for r in frame.index[blank]}
    entry_headers = {headers.get(c, c) for c in ENTRY_COLUMNS}
    for p in problems:
        if p.row in rows and not (p.column in entry_headers
                                  and p.message == _("blank required value")):
            rows.discard(p.row)
    return rows


def read_results(path: str | Path, tasks: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a results file (CSV/XLSX) and validate it, also against ``tasks`` when given.

    Rows of tasks not yet checked (only the pre-filled cells) are left out. Returns the
    typed frame (index = spreadsheet row) and every problem found.
    """
    frame, problems = read_register(Path(path), "results")
    if frame.empty and problems:
        return frame, problems
    headers = frame.attrs.get("headers", {})
    awaiting = _awaiting_rows(frame, problems, headers)
    if awaiting:
        problems = [p for p in problems if p.row not in awaiting]
        frame = frame[~frame.index.isin(awaiting)]
    bad_rows = {p.row for p in problems}
    clean = frame[~frame.index.isin(bad_rows)]
    if tasks is not None:
        problems.extend(validate_against_tasks(clean, tasks, str(path), headers))
    else:
        problems.extend(validate_rows(clean, str(path), headers))
    problems.sort(key=lambda p: (p.row, p.column))
    frame.attrs["headers"] = headers
    frame.attrs["awaiting"] = len(awaiting)
    return frame, problems


def load_results(path: str | Path, tasks: pd.DataFrame) -> pd.DataFrame:
    """Read and validate a results register; raise :class:`RegisterError` with every problem.

    Parameters
    ----------
    path : path
        ``results.csv`` or ``results.xlsx`` (e.g. a filled results template).
    tasks : DataFrame
        The drawn tasks (``task_id``, ``quarter``, ``uscc`` at least), e.g. from the ledger.

    Returns
    -------
    DataFrame
        Columns :data:`RESULT_COLUMNS` (dates as ``datetime.date`` or None, the amount as a
        float or None), plus any extra columns of the file; tasks not yet checked left out.
    """
    frame, problems = read_results(path, tasks)
    if problems:
        raise RegisterError(problems)
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class ResultsCheck:
    """What :func:`check_results` found in a valid results register.

    Attributes
    ----------
    path : str
    results : int
        Results recorded (checked tasks).
    awaiting : int
        Rows of tasks not yet checked (only their pre-filled cells).
    outcomes : dict
        Outcome id -> number of results, in the vocabulary's order (zeros left out).
    against_ledger : bool
        True when the results were also checked against the ledger's drawn tasks.
    """

    path: str
    results: int
    awaiting: int
    outcomes: dict[str, int]
    against_ledger: bool

    def summary(self) -> str:
        """One line: the counts per outcome (by the outcomes' Chinese labels), the tasks still
        waiting for a result, whether the ledger was consulted; in the current language."""
        separator = "，" if language() == "zh" else ", "
        counts = separator.join(f"{OUTCOME_ZH[o]} {n}" for o, n in self.outcomes.items()) \
            or _("none")
        scope = (_(", checked against the draw ledger") if self.against_ledger
                 else _(" (not checked against the draw ledger)"))
        waiting = ngettext(", {n} task awaiting its result", ", {n} tasks awaiting their results",
                           self.awaiting).format(n=self.awaiting) if self.awaiting else ""
        return ngettext("{path}: OK, {n} result ({counts}){waiting}{scope}",
                        "{path}: OK, {n} results ({counts}){waiting}{scope}",
                        self.results).format(path=self.path, n=self.results, counts=counts,
                                             waiting=waiting, scope=scope)


def check_results(path: str | Path, tasks: pd.DataFrame | None = None) -> ResultsCheck:
    """Validate a results register alone (and against ``tasks`` when given); raise
    :class:`RegisterError` with every problem at once, else return the counts."""
    frame, problems = read_results(path, tasks)
    if problems:
        raise RegisterError(problems)
    counts = frame["outcome"].value_counts()
    outcomes = {o: int(counts[o]) for o in OUTCOME_ZH if counts.get(o, 0)}
    return ResultsCheck(str(path), len(frame), int(frame.attrs.get("awaiting", 0)), outcomes,
                        tasks is not None)


def write_results(results: pd.DataFrame, path: str | Path) -> Path:
    """Write results as UTF-8 CSV with the canonical headers (dates ISO, booleans true/false,
    amounts in yuan with up to 2 decimals)."""
    out = results.reindex(columns=RESULT_COLUMNS).copy()
    for column in DATE_COLUMNS:
        out[column] = [d.isoformat() if d is not None and d == d else "" for d in out[column]]
    out["penalty_amount"] = [_amount_text(a) for a in out["penalty_amount"]]
    for column in ("remark", "case_number", "receiving_body", "reinspection_result"):
        out[column] = out[column].fillna("")
    out["confidential"] = out["confidential"].map({True: "true", False: "false"})
    out["supervision_order"] = [("true" if v else "false") if isinstance(v, (bool, np.bool_))
                                else "" for v in out["supervision_order"]]
    from .documents.layout import write_atomically  # the documents' writers: heavy imports

    # BOM: Excel reads it as UTF-8; written under a temporary name and renamed
    return write_atomically(path, lambda tmp: out.to_csv(tmp, index=False, encoding="utf-8-sig"))


def _amount_text(amount: object) -> str:
    if amount is None or amount != amount:
        return ""
    return f"{amount:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------------------
# What the reports count and print of results (as of a cut-off: see reports.known_by)
# --------------------------------------------------------------------------------------
def _known(value: object) -> bool:
    return value is not None and value == value and value != ""


def result_figures(results: pd.DataFrame) -> dict[str, float]:
    """Counts of the statistics table's problem and follow-up columns over ``results``
    (already cut to what was known by the table's cut-off, as ``reports.known_by`` does).

    - ``checks_not_operating``: closed, no activity, unreachable, moved (completed checks);
    - ``problems_found`` (corrected or left for later) and ``problems_corrected``;
    - ``violations``, ``obstructed``;
    - ``rectification_orders``: follow-up 责令整改, or a penalty carrying a 整改期限 (a decision
      that also orders correction); ``rectified``: those closed by the cut-off (a 复查 found
      the problem corrected);
    - ``handed_over`` (转办 and 移交), ``judicial_referrals``, ``penalties``;
    - ``penalty_amount``: fines of the penalty cases closed by the cut-off [yuan].
    """
    outcome, follow = results["outcome"], results["follow_up"]
    deadline = results["rectification_deadline"] if "rectification_deadline" in results \
        else pd.Series([None] * len(results), index=results.index, dtype=object)
    closed = results["date_follow_up_closed"].map(_known)
    orders = (follow == "rectification_order") | ((follow == "penalty") & deadline.map(_known))
    amount = results["penalty_amount"] if "penalty_amount" in results else pd.Series(dtype=object)
    return {
        "checks_not_operating": int(outcome.isin(NOT_OPERATING_OUTCOMES).sum()),
        "problems_found": int(outcome.isin(PROBLEM_OUTCOMES).sum()),
        "problems_corrected": int((outcome == "corrected").sum()),
        "violations": int((outcome == "violation").sum()),
        "obstructed": int((outcome == "obstructed").sum()),
        "rectification_orders": int(orders.sum()),
        "rectified": int((orders & closed).sum()),
        "handed_over": int(follow.isin(["hand_over", "transfer"]).sum()),
        "judicial_referrals": int((follow == "judicial_referral").sum()),
        "penalties": int((follow == "penalty").sum()),
        "penalty_amount": float(sum(a for a, f in zip(amount, follow, strict=True)
                                    if f == "penalty" and _known(a))) if len(amount) else 0.0,
    }


def amount_zh(amount: float) -> str:
    """An amount of money as official text reads it, exactly: whole yuan of 10,000 or more in
    万元 (153万元, 1.25万元, 12.3456万元), anything else in 元 (8000元, 12500.5元)."""
    cents = round(float(amount) * 100)
    if cents % 100 == 0 and cents >= 1_000_000:
        yuan = cents // 100
        wan = f"{yuan // 10000}" + (f".{yuan % 10000:04d}".rstrip("0") if yuan % 10000 else "")
        return f"{wan}万元"
    return f"{_amount_text(amount)}元"


def follow_up_text(follow_up: str, closed: object, as_of: dt.date, deadline: object = None,
                   case_number: object = "", amount: object = None) -> str:
    """A result's follow-up as a notice prints it, as of ``as_of``: the measure and its state
    then (办理中 / 已办结; an order to correct: 整改中 / 已整改 / 逾期未整改, with its 整改期限),
    a penalty's case number and, once the case is closed, its fine. ``closed`` after ``as_of``
    counts as not closed."""
    label = FOLLOW_UP_ZH[follow_up]
    if follow_up == "none":
        return label
    done = _known(closed) and closed <= as_of
    parts = []
    if follow_up == "rectification_order":
        if _known(deadline):
            parts.append(f"整改期限{date_zh(deadline)}")
        state = ("rectified" if done else
                 "overdue" if _known(deadline) and deadline < as_of else "rectifying")
        parts.append(FOLLOW_UP_STATE_ZH[state])
        return f"{label}（{'，'.join(parts)}）"
    if follow_up == "penalty" and _known(case_number):
        parts.append(f"案件编号{case_number}")
    parts.append(FOLLOW_UP_STATE_ZH["closed" if done else "open"])
    if follow_up == "penalty" and done and _known(amount):
        parts.append(f"罚没款{amount_zh(float(amount))}")
    return f"{label}（{'，'.join(parts)}）"


# --------------------------------------------------------------------------------------
# Synthetic sample results
# --------------------------------------------------------------------------------------
_VIOLATION_RATE = {"A": 0.02, "B": 0.045, "C": 0.10, "D": 0.18}
_PROBLEM_RATE = 0.07
#: Checks that find nothing to inspect (share of checks): closed, no activity, unreachable.
_NOT_OPERATING = (("closed", 0.012), ("no_activity", 0.012), ("unreachable", 0.006))
_OBSTRUCTED_RATE = 0.003
#: Fines of the sample [yuan] (environmental fines are mostly 10,000-500,000).
_FINES = (20000, 30000, 50000, 80000, 100000, 150000, 200000, 500000)
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


def _sample_outcomes(credit: pd.Series, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and follow-up of every task from two uniform columns (see sample_results)."""
    n = len(credit)
    v_rate = credit.map(_VIOLATION_RATE).fillna(0.045).to_numpy()
    outcome = np.full(n, "no_problem", dtype=object)
    x = u[:, 0]
    bound = np.zeros(n)
    for name, share in _NOT_OPERATING + (("obstructed", _OBSTRUCTED_RATE),):
        hit = (x >= bound) & (x < bound + share)
        outcome[hit] = name
        bound = bound + share
    viol = (x >= bound) & (x < bound + v_rate)
    outcome[viol] = "violation"
    problem = (x >= bound + v_rate) & (x < bound + v_rate + _PROBLEM_RATE)
    f = u[:, 1]
    outcome[problem] = np.where(f[problem] < 0.55, "corrected", "pending_follow_up")
    follow = np.full(n, "none", dtype=object)
    follow[viol] = np.where(f[viol] < 0.04, "judicial_referral",
                            np.where(f[viol] < 0.14, "transfer",
                                     np.where(f[viol] < 0.24, "rectification_order", "penalty")))
    corrected = outcome == "corrected"
    g = np.where(f < 0.55, f / 0.55, (f - 0.55) / 0.45)  # uniform again within each part
    follow[corrected] = np.where(g[corrected] < 0.33, "rectification_order", "none")
    pending = outcome == "pending_follow_up"
    follow[pending] = np.where(g[pending] < 0.6, "hand_over",
                               np.where(g[pending] < 0.8, "transfer", "rectification_order"))
    follow[outcome == "obstructed"] = "penalty"
    return outcome, follow


def sample_results(
    tasks: pd.DataFrame,
    calendar: WorkCalendar | None = None,
    seed: int = SAMPLE_RESULTS_SEED,
    as_of: dt.date | None = None,
    policy: Policy | None = None,
) -> pd.DataFrame:
    """Realistic synthetic results for drawn tasks (deterministic for a seed).

    About 99 % of tasks are checked, on a working day of their quarter. Violations are found
    more often in riskier credit classes (A 2 %, B 4.5 %, C 10 %, D 18 %; national 2019: 4.8 %
    of checks) and mostly penalised (a case number and a fine; some with a 整改期限), some
    transferred, handed to the judicial authorities or only ordered to correct; problems in
    7 %, about half corrected on the spot (a third of them with an order to correct by a
    deadline), the others handed over, transferred or ordered to correct; 3 % of the firms
    are closed, not operating or not reachable, 0.3 % obstruct the check (penalised). Most
    results are published within the policy's working-day limit, a few late; about 1 % are
    confidential. A case referred to the judicial authorities is also put under supervision
    order (挂牌督办, ``supervision_order``). Follow-ups close 1-12 weeks after the check (an order to correct: mostly by
    its deadline, 15, 30 or 60 days after the check), unless that is after ``as_of`` (default:
    31 January after the tasks' last year); a fine is recorded once its case is closed.

    Parameters
    ----------
    tasks : DataFrame
        Drawn tasks: ``task_id``, ``quarter``, ``uscc``, ``credit_class``, ``business_line``
        (``unit_name`` or ``unit`` for the case numbers).
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
    u = rng.random((n, 8))
    checked_mask = u[:, 0] < 0.99
    # Checking day: a working day of the task's quarter (later draws in the quarter later).
    days_of = {q: cal.working_days_in(Quarter.parse(q).start, Quarter.parse(q).end)
               for q in tasks["quarter"].unique()}
    date_checked = [days_of[q][int(x * len(days_of[q]))] for q, x in zip(tasks["quarter"], u[:, 1], strict=True)]
    outcome, follow = _sample_outcomes(tasks["credit_class"], u[:, [2, 3]])
    confidential = u[:, 4] < 0.01
    lag_pub = rng.integers(1, limit + 1, n)
    late = u[:, 5] < 0.03
    lag_pub[late] = limit + rng.integers(1, 11, int(late.sum()))
    close_days = rng.integers(7, 85, n)
    deadline_days = rng.choice([15, 30, 60], n)
    fines = rng.choice(_FINES, n)
    units = tasks["unit_name"] if "unit_name" in tasks.columns else tasks["unit"]
    cases: dict[tuple[str, int], int] = {}
    rows = []
    for i in range(n):
        if not checked_mask[i]:
            continue
        checked = date_checked[i]
        published = None if confidential[i] else cal.add_working_days(checked, int(lag_pub[i]))
        if published is not None and published > as_of:
            published = None
        deadline = closed = case = amount = None
        if follow[i] == "rectification_order" or (follow[i] == "penalty" and u[i, 6] < 0.4):
            deadline = checked + dt.timedelta(days=int(deadline_days[i]))
        if follow[i] == "rectification_order":
            # the 复查 that finds it corrected: by the deadline, one in six a little late
            late_by = int(close_days[i] % 20) + 1 if u[i, 7] < 1 / 6 else 0
            closed = deadline - dt.timedelta(days=int(close_days[i] % 10)) \
                + dt.timedelta(days=late_by)
        elif follow[i] != "none":
            closed = checked + dt.timedelta(days=int(close_days[i]))
        if closed is not None and closed > as_of:
            closed = None
        if follow[i] == "penalty":
            key = (str(units[i]), checked.year)
            cases[key] = cases.get(key, 0) + 1
            case = f"{key[0]}环罚〔{key[1]}〕{cases[key]}号"
            amount = float(fines[i]) if closed is not None else None  # decided when closed
        remark = ""
        if outcome[i] in ("violation", "obstructed"):
            # a joint task lists several lines ("air;water"): the primary item's line
            line = str(tasks.at[i, "business_line"]).split(";")[0]
            remark = ("拒绝、阻挠执法人员进入现场检查" if outcome[i] == "obstructed"
                      else _TYPICAL.get(line, "存在环境违法行为"))
        rows.append({
            "task_id": tasks.at[i, "task_id"], "uscc": tasks.at[i, "uscc"],
            "date_checked": checked, "outcome": str(outcome[i]), "follow_up": str(follow[i]),
            "date_follow_up_closed": closed, "date_published": published,
            "confidential": bool(confidential[i]), "remark": remark,
            "rectification_deadline": deadline, "case_number": case or "",
            "penalty_amount": amount,
            # a case referred to the judicial authorities is put under supervision order
            "supervision_order": bool(follow[i] == "judicial_referral"),
        })
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    amounts = np.empty(len(frame), dtype=object)   # None where no fine, as the reader has it
    amounts[:] = [r["penalty_amount"] for r in rows]
    frame["penalty_amount"] = amounts
    return _sample_case_fields(frame, dict(zip(tasks["task_id"], units, strict=True)), seed,
                               as_of, policy)


#: Bodies a matter is handed on to (the unit's prefix before each), per follow-up.
_RECEIVING_BODIES = {
    "hand_over": ("住房和城乡建设局", "自然资源和规划局", "市场监督管理局", "应急管理局"),
    "transfer": ("综合执法局", "水利局", "农业农村局"),
    "judicial_referral": ("公安局",),
}


def _body_prefix(unit: str, policy: Policy | None) -> str:
    """The government a unit's bureau belongs to (雄县生态环境局 -> 雄县)."""
    ids = {u.id: u.id for u in policy.units} | {u.name: u.id for u in policy.units} \
        if policy is not None else {}
    if unit not in ids:
        return unit
    return policy.authority(ids[unit]).removesuffix("生态环境局")


def _sample_case_fields(frame: pd.DataFrame, units: Mapping[str, str], seed: int,
                        as_of: dt.date, policy: Policy | None) -> pd.DataFrame:
    """The case columns of the sample's follow-ups, from a generator of their own (the
    results' stream is unchanged): a receiving body for what is handed on, the day the
    measure was taken (the check's day or up to 5 days later), and the 复查 of an order to
    correct: on its closing day (已整改), or, still open a week past its 整改期限, a 复查 that
    found it not rectified (about half of them)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    n = len(frame)
    u = rng.random((n, 3))
    bodies = np.empty(n, dtype=object)
    opened = np.empty(n, dtype=object)
    when = np.empty(n, dtype=object)
    found = np.empty(n, dtype=object)
    bodies[:], opened[:], when[:], found[:] = "", None, None, ""
    for i, rec in enumerate(frame.itertuples(index=False)):
        follow = rec.follow_up
        if follow == "none":
            continue
        opened[i] = min(rec.date_checked + dt.timedelta(days=int(u[i, 0] * 6)), as_of)
        if follow in _RECEIVING_BODIES:
            choices = _RECEIVING_BODIES[follow]
            bodies[i] = _body_prefix(str(units[rec.task_id]), policy) \
                + choices[int(u[i, 1] * len(choices))]
        deadline = rec.rectification_deadline
        if not reinspection_applies(follow, deadline):
            continue
        closed = rec.date_follow_up_closed
        if _given(closed):
            when[i], found[i] = closed, "rectified"
        elif (_given(deadline) and deadline + dt.timedelta(days=7) <= as_of
              and u[i, 2] < 0.5):
            when[i], found[i] = deadline + dt.timedelta(days=7), "not_rectified"
    frame["receiving_body"] = bodies
    frame["date_follow_up_opened"] = opened
    frame["date_reinspected"] = when
    frame["reinspection_result"] = found
    return frame


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
                                _("missing required column '{column}'").format(column=column)))
    if problems:
        raise RegisterError(problems)
    raw = pd.DataFrame({c: strip_cells(cells.columns[header.index(c)]).to_pylist()
                        for c in DELIVERY_COLUMNS}, index=cells.rows, dtype=object)
    out = []
    for i, rec in raw.iterrows():
        row = int(i)
        if rec["unit"] not in units:
            problems.append(Problem(file, row, "unit", _("unknown unit '{unit}' (valid: {valid})"
                                                         ).format(unit=rec["unit"],
                                                                  valid=", ".join(units))))
        try:
            quarter = Quarter.parse(rec["quarter"]).label
        except Exception as exc:
            problems.append(Problem(file, row, "quarter", str(exc)))
            quarter = rec["quarter"]
        if rec["report"] not in DELIVERY_REPORTS:
            problems.append(Problem(file, row, "report", _(
                "unknown report '{report}' (valid: {valid})").format(
                    report=rec["report"], valid=", ".join(DELIVERY_REPORTS))))
        date = parse_date(rec["date_delivered"])
        if date is None:
            problems.append(Problem(file, row, "date_delivered",
                                    _("'{text}' is not a date (use YYYY-MM-DD)").format(
                                        text=rec["date_delivered"])))
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
    from .documents.layout import write_atomically  # the documents' writers: heavy imports

    # BOM: Excel reads it as UTF-8; written under a temporary name and renamed
    return write_atomically(path, lambda tmp: out.to_csv(tmp, index=False, encoding="utf-8-sig"))
