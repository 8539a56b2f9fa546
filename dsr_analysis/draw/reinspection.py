"""Re-inspections (复查) as drawn tasks (R7: every problem followed up until the loop is closed).

An order to correct (责令改正: follow-up ``rectification_order``, or a ``penalty`` that sets a
rectification deadline 整改期限) is checked again by a re-inspection. The re-inspection is a
task like any other: it is committed, drawn, recorded in the ledger and replayed, so the
inspectors who go back are drawn at random (recusal, business lines, per-quarter caps) and
the firms re-inspected are exactly those the results register says are owed one.

Which firms are due in quarter ``Q`` (:func:`reinspections_due`): a result whose follow-up
orders correction, checked (``date_checked``) in a quarter before ``Q``, whose deadline (if
one is set) falls on or before the last day of ``Q``, not closed before ``Q`` starts
(``date_follow_up_closed`` blank or on/after the start), with no re-inspection recorded
before ``Q`` starts (``date_reinspected``, when the results register has that column; one
whose ``reinspection_result`` is ``not_rectified`` calls for another and does not count), and
no re-inspection task (origin ``follow_up``) already drawn for that firm by that unit in a
quarter after the check. The unit whose task found the problem re-inspects. A result marked
confidential (``confidential``) is left out of the draw - the commitment, the announcement
and the record are public - and reported so that its re-inspection is arranged outside the
public draw; a firm no longer in the enterprise register is left out and reported too.

The draw (:func:`dsr_analysis.draw.draw_quarter` with ``follow_ups``): a targeted draw
(定向) of those firms, campaign ``FU`` (the quarter's second re-inspection draw ``FU2``, …;
task ids ``{quarter}-{unit}-FU-{nnnn}``), origin ``follow_up``: per unit and category one
stratum ``{category}/follow_up`` whose quota is its population (every firm with inclusion
probability 1, tasks in ticket order), no overlap control (a re-inspection is owed), not
counted by the yearly cap, always on-site, whatever the policy lists. The commitment and the
record fix the firms and the original task ids (``inputs.follow_ups``); a draw whose due
firms differ from the committed ones is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DsrError
from ..i18n import _
from ..overlap import FOLLOW_UP
from ..periods import Quarter
from ..policy import Policy
from ..registers import Registers
from ..results import load_results, reinspection_applies
from . import commit_quarter, draw_and_record, normalize_follow_ups
from .ledger import COMMITMENT, entries, load_draw_tasks
from .protocol import ProtocolError, commitment_user

#: Campaign label of a quarter's first re-inspection draw (then ``FU2``, ``FU3``, …).
CAMPAIGN = "FU"
#: Columns of :func:`reinspections_due`.
DUE_COLUMNS = ["unit", "uscc", "task_id", "quarter_checked", "date_checked", "follow_up",
               "deadline"]
#: Chinese headers of the due list as the command line prints it.
DUE_COLUMNS_ZH = {"unit": "复查单位", "uscc": "统一社会信用代码", "task_id": "原检查任务编号",
                  "quarter_checked": "检查季度", "date_checked": "检查日期",
                  "follow_up": "后续处置", "deadline": "整改期限"}


def _quarter_of(day: dt.date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT


def _candidates(results: pd.DataFrame, tasks: pd.DataFrame, quarter: str | Quarter
                ) -> pd.DataFrame:
    """Every re-inspection due in ``quarter`` (confidential ones included, column
    ``confidential``)."""
    q = Quarter.parse(quarter)
    unit_of = dict(zip(tasks["task_id"], tasks["unit"], strict=False))
    unknown = sorted(set(results["task_id"]) - set(unit_of))
    if unknown:
        raise DsrError(_("results: task(s) {tasks} are not drawn tasks of the ledger; check "
                         "the results register against the ledger it belongs to").format(
                             tasks=", ".join(unknown)))
    fu = tasks[tasks["origin"] == FOLLOW_UP]
    reinspected_in = {}
    for unit, uscc, fq in zip(fu["unit"], fu["uscc"], fu["quarter"], strict=True):
        reinspected_in.setdefault((unit, uscc), []).append(Quarter.parse(fq))
    rows = []
    for r in results.to_dict("records"):
        deadline = r.get("rectification_deadline")
        if not reinspection_applies(r["follow_up"], deadline):
            continue
        checked = _quarter_of(r["date_checked"])
        unit = unit_of[r["task_id"]]
        closed, again = r.get("date_follow_up_closed"), r.get("date_reinspected")
        if r.get("reinspection_result") == "not_rectified":
            again = None  # not corrected when re-inspected: another re-inspection
        if (checked >= q
                or (not _blank(deadline) and deadline > q.end)
                or (not _blank(closed) and closed < q.start)
                or (not _blank(again) and again < q.start)
                or any(fq > checked for fq in reinspected_in.get((unit, r["uscc"]), ()))):
            continue
        rows.append({"unit": unit, "uscc": r["uscc"], "task_id": r["task_id"],
                     "quarter_checked": checked.label, "date_checked": r["date_checked"],
                     "follow_up": r["follow_up"],
                     "deadline": None if _blank(deadline) else deadline,
                     "confidential": bool(r["confidential"])})
    frame = pd.DataFrame(rows, columns=[*DUE_COLUMNS, "confidential"])
    frame["confidential"] = frame["confidential"].astype(bool)
    return frame.sort_values(["unit", "uscc", "task_id"], kind="stable").reset_index(drop=True)


def reinspections_due(results: pd.DataFrame, tasks: pd.DataFrame, quarter: str | Quarter,
                      policy: Policy | None = None) -> pd.DataFrame:
    """The re-inspections (复查) due in ``quarter``, one row per original task.

    Parameters
    ----------
    results : DataFrame
        The results register (:func:`dsr_analysis.results.load_results`); the optional
        columns ``rectification_deadline``, ``date_follow_up_closed`` and ``date_reinspected``
        are used when present.
    tasks : DataFrame
        The ledger's drawn tasks (:func:`dsr_analysis.draw.ledger.load_draw_tasks`).
    quarter : str or Quarter
        The quarter the re-inspections are drawn in.
    policy : Policy, optional
        When given, every re-inspecting unit must be one of its units.

    Returns
    -------
    DataFrame
        Columns :data:`DUE_COLUMNS` (``unit``: the unit whose task found the problem;
        ``task_id``: that task; ``deadline``: the 整改期限 or None), sorted by unit, uscc
        and task; confidential results are left out (:func:`withheld_reinspections`).
    """
    due = _candidates(results, tasks, quarter)
    if policy is not None:
        foreign = sorted(set(due["unit"]) - {u.id for u in policy.units})
        if foreign:
            raise DsrError(_("re-inspections due for unit(s) {units}, which the policy {path} "
                             "does not have").format(units=", ".join(foreign), path=policy.path))
    return due[~due["confidential"]][DUE_COLUMNS].reset_index(drop=True)


def withheld_reinspections(results: pd.DataFrame, tasks: pd.DataFrame,
                           quarter: str | Quarter) -> pd.DataFrame:
    """The re-inspections due in ``quarter`` whose results are confidential: not drawn in
    public (columns :data:`DUE_COLUMNS`); arranged by the unit outside the public draw."""
    due = _candidates(results, tasks, quarter)
    return due[due["confidential"]][DUE_COLUMNS].reset_index(drop=True)


def follow_ups_of(due: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """``unit -> {uscc: [original task ids]}`` of a due list (the draw's ``follow_ups``)."""
    out: dict[str, dict[str, list[str]]] = {}
    for unit, uscc, task in zip(due["unit"], due["uscc"], due["task_id"], strict=True):
        out.setdefault(unit, {}).setdefault(uscc, []).append(task)
    return normalize_follow_ups(out) or {}


def follow_up_campaign(ledger: str | Path, quarter: str | Quarter) -> str:
    """The campaign label of the quarter's next re-inspection draw: ``FU``, then ``FU2``,
    ``FU3``, … after each one drawn (each is its own draw, never a re-draw of the last)."""
    q = Quarter.parse(quarter).label
    pattern = re.compile(rf"^targeted:{CAMPAIGN}(\d*)$")
    drawn = {e.draw_key for e in (entries(ledger) if Path(ledger).exists() else [])
             if e.is_draw and e.quarter == q and pattern.match(e.draw_key)}
    return CAMPAIGN if not drawn else f"{CAMPAIGN}{len(drawn) + 1}"


@dataclass(frozen=True)
class Reinspections:
    """The re-inspections of one quarter, as a draw takes them.

    Attributes
    ----------
    quarter : str
    due : DataFrame
        The re-inspections drawn (:data:`DUE_COLUMNS`).
    withheld : DataFrame
        Due but confidential: left out of the public draw (:data:`DUE_COLUMNS`).
    unregistered : DataFrame
        Due but the firm is no longer in the enterprise register: left out.
    campaign : str
        The draw's campaign label (``FU``, ``FU2``, …).
    """

    quarter: str
    due: pd.DataFrame
    withheld: pd.DataFrame
    unregistered: pd.DataFrame
    campaign: str

    @property
    def follow_ups(self) -> dict[str, dict[str, list[str]]]:
        return follow_ups_of(self.due)

    def warnings(self) -> list[str]:
        """What was left out of the draw and why (one line per original task)."""
        out = [_("{task} ({unit}, {uscc}): the result is confidential; its re-inspection is "
                 "not drawn in public - arrange it outside the public draw").format(
                     task=r.task_id, unit=r.unit, uscc=r.uscc)
               for r in self.withheld.itertuples()]
        out += [_("{task} ({unit}, {uscc}): the firm is not in the enterprise register; it "
                  "cannot be drawn - add it back or close the follow-up").format(
                      task=r.task_id, unit=r.unit, uscc=r.uscc)
                for r in self.unregistered.itertuples()]
        return out


def plan_reinspections(results: str | Path | pd.DataFrame, ledger: str | Path,
                       quarter: str | Quarter, policy: Policy, registers: Registers
                       ) -> Reinspections:
    """The re-inspections a draw of ``quarter`` takes: :func:`reinspections_due` of the
    results register (a path is read and checked against the ledger's tasks) and the
    ledger, without the firms missing from ``registers``; the campaign label."""
    tasks = load_draw_tasks(ledger) if Path(ledger).exists() else pd.DataFrame(
        columns=["task_id", "unit", "uscc", "quarter", "origin"])
    if not isinstance(results, pd.DataFrame):
        results = load_results(results, tasks)
    due = reinspections_due(results, tasks, quarter, policy)
    known = due["uscc"].isin(set(registers.enterprises["uscc"]))
    return Reinspections(
        quarter=Quarter.parse(quarter).label, due=due[known].reset_index(drop=True),
        withheld=withheld_reinspections(results, tasks, quarter),
        unregistered=due[~known].reset_index(drop=True),
        campaign=follow_up_campaign(ledger, quarter))


def commit_reinspections(policy: Policy, registers: Registers, quarter: str,
                         results: str | Path | pd.DataFrame, ledger: str | Path,
                         out_root: str | Path, *, seed_source: str, seed_form: str = "text",
                         date: dt.date | str | None = None, units: Sequence[str] | None = None,
                         beacon: str | None = None) -> tuple[Reinspections, tuple | None]:
    """Step 1 for the quarter's re-inspections: :func:`plan_reinspections`, then (when any is
    due) :func:`dsr_analysis.draw.commit_quarter` of the re-inspection draw - the commitment
    fixing the firms and the announcement (复查抽取公告). ``units``: only these units'
    re-inspections. Returns (the re-inspections, the commitment's (record, entry,
    announcement path) or None when none is due: nothing written)."""
    plan = _restricted(plan_reinspections(results, ledger, quarter, policy, registers), units)
    if plan.due.empty:
        return plan, None
    return plan, commit_quarter(policy, registers, quarter, seed_source, Path(ledger),
                                Path(out_root), campaign=plan.campaign, seed_form=seed_form,
                                date=date, follow_ups=plan.follow_ups, beacon=beacon)


def draw_reinspections(policy: Policy, registers: Registers, quarter: str,
                       results: str | Path | pd.DataFrame, seed_material: str,
                       ledger: str | Path, out_root: str | Path, *,
                       registers_dir: str | Path | None = None,
                       units: Sequence[str] | None = None,
                       beacon_round=None) -> tuple[Reinspections, tuple | None]:
    """Step 2: the re-inspection draw under its commitment
    (:func:`dsr_analysis.draw.draw_and_record`; refused when the firms due are not the
    committed ones). Returns (the re-inspections, (result, entry, paths) or None when none
    is due and no re-inspection commitment awaits its draw: nothing written)."""
    plan = _restricted(plan_reinspections(results, ledger, quarter, policy, registers), units)
    if plan.due.empty:
        _check_no_commitment_waits(ledger, plan)
        return plan, None
    return plan, draw_and_record(policy, registers, quarter, seed_material, Path(ledger),
                                 Path(out_root), campaign=plan.campaign,
                                 registers_dir=registers_dir, follow_ups=plan.follow_ups,
                                 beacon_round=beacon_round)


def _check_no_commitment_waits(ledger: str | Path, plan: Reinspections) -> None:
    """:class:`ProtocolError` when nothing is due but a published re-inspection commitment of
    the quarter awaits its draw (the results register changed since it was published)."""
    all_entries = entries(ledger) if Path(ledger).exists() else []
    key = f"{COMMITMENT}targeted:{plan.campaign}"
    for e in reversed(all_entries):
        if e.is_commitment and e.quarter == plan.quarter and e.draw_key == key:
            if commitment_user(all_entries, e) is None:
                firms = sum(len(f) for f in e.record["inputs"].get("follow_ups", {}).values())
                raise ProtocolError(_(
                    "commitment #{seq} fixed {firms} firm(s) to re-inspect in {quarter}, and "
                    "none is due now: the results register changed since it was published; "
                    "restore it, or publish a new commitment").format(
                        seq=e.seq, firms=firms, quarter=plan.quarter))
            return


def _restricted(plan: Reinspections, units: Sequence[str] | None) -> Reinspections:
    if units is None:
        return plan
    keep = set(units)

    def only(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["unit"].isin(keep)].reset_index(drop=True)

    return Reinspections(plan.quarter, only(plan.due), only(plan.withheld),
                         only(plan.unregistered), plan.campaign)


def due_zh(due: pd.DataFrame, unit_names: Mapping[str, str]) -> pd.DataFrame:
    """The due list with Chinese headers and labels (for the command line and the office)."""
    from ..labels import FOLLOW_UP_ZH

    out = due[DUE_COLUMNS].copy()
    out["unit"] = out["unit"].map(lambda u: unit_names.get(u, u))
    out["follow_up"] = out["follow_up"].map(lambda f: FOLLOW_UP_ZH.get(f, f))
    out["deadline"] = out["deadline"].map(lambda d: "" if _blank(d) else d.isoformat())
    out["date_checked"] = out["date_checked"].map(lambda d: d.isoformat())
    return out.rename(columns=DUE_COLUMNS_ZH)
