"""Figures of the official reports (R8-R10), as DataFrames. The report notebooks only call these.

- :func:`statistics_table` - quarterly statistics table (统计表), one row per unit;
- :func:`summary_progress`, :func:`typical_cases` - quarterly summary (工作总结);
- :func:`evaluate` and :func:`ranking` - evaluation of the counties (考核/评估通报, R10);
- :func:`results_notice` - monthly results notice (抽查结果公示), confidential results withheld;
- :func:`annual_quotas`, :func:`reporting_calendar`, :func:`draw_method` - annual plan (R8).

Inputs come together in :class:`ReportInputs` (:func:`load_report_inputs`): the policy, the
registers, the drawn tasks (from a ledger, or the demo draw made in memory), the results
register and the report deliveries.

Counting conventions (stated in the reports):
- a *check* is a drawn task with a result (``date_checked``); drawn but unchecked tasks are
  counted separately;
- the credit-risk share (R3) counts checks drawn from a credit-class stratum against all
  checks of random draws; the full off-site coverage of the positive list is not a random draw
  and is left out of both, as in :func:`dsr_analysis.quotas.credit_share`;
- the internal joint share (R5) is a yearly target and is measured year to date; it counts
  *designated* internal joint visits only (``joint_type == "internal"``: several business
  lines with their own items on one object, on-site unless ``joint.count_offsite``; see
  :mod:`dsr_analysis.draw.staffing`), never a team that merely spans two lines
  (:func:`internal_joint_count`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .draw import canonical_frame_bytes, draw_quarter
from .draw.binding import check_sources, committed_registers
from .draw.ledger import entries, head as ledger_head, load_draw_tasks
from .sample import DEMO_SEED_MATERIAL
from . import labels
from .categories import CATEGORY_ZH, classify
from .errors import ParameterError
from .i18n import _
from .followups import case_register, case_text, empty_updates, load_followups
from .results import reinspection_applies
from .periods import Quarter, date_zh, month_quarter, quarters_of
from .policy import CREDIT_CLASSES, Policy, load_policy
from .quotas import METHOD_ZH, SUBSET_ZH, drawing_population, quarterly_quotas
from .registers import Registers, load_registers
from .results import (
    FOLLOW_UP_ZH,
    OUTCOME_ZH,
    load_deliveries,
    load_results,
    result_figures,
    sample_deliveries,
    sample_results,
)
from .workcalendar import WorkCalendar, result_due, statistics_due, summary_window


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report reads.

    Attributes
    ----------
    policy : Policy
    registers : Registers
    classified : DataFrame
        Enterprise register with ``category`` (R2).
    tasks : DataFrame
        Drawn tasks of the policy year up to and including ``quarter`` (draw task columns).
    results : DataFrame
        Results register (:mod:`dsr_analysis.results`) of those tasks.
    deliveries : DataFrame
        Delivery dates of summaries and statistics tables (unit, quarter, report,
        date_delivered).
    quarter : Quarter
    calendar : WorkCalendar
    source : str
        Where tasks and results come from (printed in every report).
    ledger_head : str
        The ledger's head ``N:HASH`` (empty without a ledger); public documents print it.
    redraws : DataFrame
        Re-draws of the year up to ``quarter``: quarter, unit, ledger entry, the entry it
        superseded and the reason.
    key : str
        The arguments the inputs were loaded from (checks a prepared inputs file).
    followups : DataFrame
        Dated updates of the follow-up cases (:func:`dsr_analysis.followups.load_followups`;
        empty without a follow-up file).
    """

    policy: Policy
    registers: Registers
    classified: pd.DataFrame
    tasks: pd.DataFrame
    results: pd.DataFrame
    deliveries: pd.DataFrame
    quarter: Quarter
    calendar: WorkCalendar
    source: str
    ledger_head: str = ""
    redraws: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["quarter", "unit", "seq", "redraw_of", "reason"]))
    key: str = ""
    followups: pd.DataFrame = field(default_factory=empty_updates)

    @property
    def demo(self) -> bool:
        """True when the tasks and results are demonstration data (no ledger)."""
        return not self.ledger_head

    def ledger_line(self) -> str:
        """The ledger head as public documents print it (Chinese)."""
        if not self.ledger_head:
            return "本文件使用演示数据，未登记抽取记录账本。"
        n, h = self.ledger_head.split(":")
        return (f"抽取记录账本：截至本文件生成共登记 {n} 条，最新一条哈希值为 {h}，"
                "可据此核验已公布的抽取记录。")

    def redraw_lines(self, unit: str | None = None) -> list[str]:
        """One line per re-draw (of ``unit``) with its reason (Chinese)."""
        r = self.redraws if unit is None else self.redraws[self.redraws["unit"] == unit]
        return [f"{Quarter.parse(x.quarter).label_zh}{self.policy.unit_names.get(x.unit, x.unit)}"
                f"重新抽取（抽取记录第 {x.seq} 条，取代第 {x.redraw_of} 条），原因："
                f"{html.escape(str(x.reason))}"  # typed by a person; shown as Markdown/HTML
                for x in r.itertuples(index=False)]


def demo_tasks(policy: Policy, registers: Registers, up_to: str | Quarter) -> pd.DataFrame:
    """The demo draws (seed material ``demo-{quarter}``, as ``dsr demo`` records them) of the
    policy year up to ``up_to``, made in memory with each quarter's history."""
    q_end = Quarter.parse(up_to)
    frame = canonical_frame_bytes(registers.enterprises)
    history: list[dict] = []
    tasks = []
    for q in quarters_of(policy.year):
        if q > q_end:
            break
        res = draw_quarter(policy, registers, q, DEMO_SEED_MATERIAL.format(quarter=q.label),
                           history, frame=frame)
        history.append(res.record)
        tasks.append(res.tasks)
    return pd.concat(tasks, ignore_index=True)


def load_report_inputs(
    quarter: str,
    policy: str | Policy = "xiongan-2023",
    registers: str = "",
    ledger: str = "",
    results: str = "",
    deliveries: str = "",
    holidays_dir: str = "",
    month: str = "",
    prepared: str = "",
    followups: str = "",
) -> ReportInputs:
    """Gather a report's inputs.

    With ``ledger`` empty, the tasks are the demo draws of the year up to ``quarter`` made in
    memory, and the results and deliveries are the synthetic sample generated from them
    (:func:`dsr_analysis.results.sample_results`) - what a fresh clone can render, on the
    embedded sample only. With a ledger, a results file is required (real results are never
    invented for a real draw); without a deliveries file no summary or statistics table
    counts as delivered.

    With a ledger the registers are the ones the quarter's draws were made on
    (:func:`dsr_analysis.draw.binding.committed_registers`): ``registers`` given, its files
    must have the committed SHA-256; empty, the committed directory is read if its files
    still do. Else :class:`~dsr_analysis.errors.RegisterError` names the file, both digests
    and the ledger entry. The embedded sample is read only without a ledger.

    ``month`` (``YYYY-MM``, for the monthly notice) may lie after the policy year: results
    of the year's checks published in January of the next year belong to that January's
    notice. The tasks are then every task in the ledger drawn up to the month's quarter.

    ``prepared`` is a file written by :func:`prepare_report_inputs` (``dsr render`` reads and
    validates the inputs once and every notebook loads them from it): it is used only if it
    was made from exactly these arguments, else :class:`ParameterError`.

    ``followups`` is the follow-up file (dated updates of the cases,
    :mod:`dsr_analysis.followups`), validated against the whole results register; it needs a
    ledger and a results register like them.
    """
    key = _inputs_key(quarter, policy, registers, ledger, results, deliveries, holidays_dir,
                      month, followups)
    if prepared:
        return _load_prepared(prepared, key)
    q = Quarter.parse(quarter)
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    through = q
    if month:  # the notice of a month: the year's tasks up to it, whatever ``quarter`` says
        through = _month_quarter(month, pol)
        q = min(through, quarters_of(pol.year)[-1])
    if q.year != pol.year:
        raise ParameterError(_("quarter {quarter} is outside the policy year {year}: give a "
                               "quarter of {year} (a notice of a later month: "
                               "month=YYYY-MM)").format(quarter=q.label, year=pol.year))
    cal = WorkCalendar(holidays_dir or None)
    if ledger:
        if not Path(ledger).exists():
            raise ParameterError(_("ledger '{ledger}' does not exist (run `dsr draw` or `dsr "
                                   "demo`)").format(ledger=ledger))
        if not results:
            raise ParameterError(_("with a ledger ({ledger}) the results register is required: "
                                   "pass results=PATH").format(ledger=ledger))
        # the register files the quarter's draws were made on, checked by their digests
        bound = committed_registers(ledger, q, registers or None)
        reg = load_registers(bound.directory, units=pol.unit_names)
        check_sources(bound, reg.sources)
        all_tasks = load_draw_tasks(ledger, imported=True)  # other bureaus' draws imported
        res = load_results(results, all_tasks)  # validated against every drawn task
        updates = load_followups(followups, res) if followups else empty_updates()
        if month:
            keep = all_tasks["quarter"].map(lambda x: Quarter.parse(x) <= through)
        else:
            keep = all_tasks["quarter"].map(
                lambda x: Quarter.parse(x).year == q.year and Quarter.parse(x) <= q)
        tasks = all_tasks[keep].reset_index(drop=True)
        res = res[res["task_id"].isin(tasks["task_id"])].reset_index(drop=True)
        updates = updates[updates["task_id"].isin(res["task_id"])].reset_index(drop=True)
        dlv = (load_deliveries(deliveries, pol.unit_names) if deliveries
               else pd.DataFrame(columns=["unit", "quarter", "report", "date_delivered"]))
        source = "抽取记录账本中的有效抽取记录和抽查结果登记表"  # no file names (public text)
        head, redraws = ledger_head(ledger), ledger_redraws(ledger, q)
    else:
        if results or deliveries or followups:
            raise ParameterError(_("results/deliveries/followups files need the ledger of the "
                                   "draw they belong to: pass ledger=PATH as well"))
        if registers:
            raise ParameterError(_("registers={registers} without a ledger: the report would "
                                   "show the demo draw and invented results on that register; "
                                   "pass ledger=PATH and results=PATH (demo data renders on the "
                                   "embedded sample only)").format(registers=registers))
        reg = load_registers(None, units=pol.unit_names)
        tasks = demo_tasks(pol, reg, q)
        res = sample_results(tasks, cal, policy=pol)
        dlv = sample_deliveries(pol, pol.year, cal)
        source = "演示数据：样本名录库上的演示抽取及合成的抽查结果"
        head, redraws = "", None
        updates = empty_updates()
    out = ReportInputs(pol, reg, classify(reg.enterprises, pol), tasks, res, dlv, q, cal, source,
                       head, key=key, followups=updates)
    return out if redraws is None else dataclasses.replace(out, redraws=redraws)


def _month_quarter(month: str, policy: Policy) -> Quarter:
    """The quarter of ``month`` (``YYYY-MM``), which must not precede the policy year."""
    q = month_quarter(month)
    if q.year < policy.year:
        raise ParameterError(_("month {month} precedes the policy year {year}").format(
            month=month, year=policy.year))
    return q


def _inputs_key(*args: object) -> str:
    """What a prepared inputs file was made from (policy given by path or name)."""
    parts = [a.path if isinstance(a, Policy) else str(a) for a in args]
    return "\x1f".join(str(p) for p in parts)


def prepare_report_inputs(path: str | Path, quarter: str, policy: str = "xiongan-2023",
                          registers: str = "", ledger: str = "", results: str = "",
                          deliveries: str = "", holidays_dir: str = "", month: str = "",
                          followups: str = "") -> ReportInputs:
    """Read and validate a render's inputs once and save them for its notebooks (a pickle
    written to a temporary name and renamed; only ``dsr render`` writes it, into the output
    directory, and a notebook uses it only if its own arguments match)."""
    import pickle

    from .documents.layout import write_atomically

    inputs = load_report_inputs(quarter, policy, registers, ledger, results, deliveries,
                                holidays_dir, month, followups=followups)
    data = pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL)
    write_atomically(path, lambda tmp: tmp.write_bytes(data))
    return inputs


def _load_prepared(path: str, key: str) -> ReportInputs:
    import pickle

    try:
        with open(path, "rb") as fh:
            inputs = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise ParameterError(_("prepared inputs '{path}' cannot be read: {reason}").format(
            path=path, reason=exc)) from None
    if not isinstance(inputs, ReportInputs) or inputs.key != key:
        raise ParameterError(_("prepared inputs '{path}' were made for other arguments than "
                               "this notebook's (quarter, policy, registers, ledger, results, "
                               "deliveries, month): leave 'prepared' empty to read them "
                               "here").format(path=path))
    return inputs


def ledger_redraws(ledger: str | Path, up_to: Quarter) -> pd.DataFrame:
    """Re-draws in the ledger of ``up_to``'s year up to it, with their reasons."""
    rows = []
    for e in entries(ledger):
        if not e.is_draw or e.redraw_of is None:
            continue
        q = Quarter.parse(e.quarter)
        if q.year != up_to.year or q > up_to:
            continue
        reason = e.record.get("inputs", {}).get("reason") or "（未记录原因）"
        for u in e.units:
            rows.append({"quarter": e.quarter, "unit": u, "seq": e.seq,
                         "redraw_of": e.redraw_of, "reason": reason})
    return pd.DataFrame(rows, columns=["quarter", "unit", "seq", "redraw_of", "reason"])


# --------------------------------------------------------------------------------------
# Helpers over tasks and results
# --------------------------------------------------------------------------------------
def _full_coverage_strata(policy: Policy) -> set[tuple[str, str, str]]:
    """(level, category, subset) of the ``offsite_full`` quota rules (not random draws)."""
    return {(r.level, r.category, r.subset) for r in policy.quotas.rules
            if r.method == "offsite_full"}


def task_flags(tasks: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Tasks with ``subset``, ``credit_used`` (drawn with the credit-risk classes: from a
    credit-weighted quota rule) and ``random_draw`` (not the full off-site coverage of a
    stratum), derived from ``stratum`` (``category/subset``; records of format 1 wrote
    ``category/subset/credit_class``)."""
    out = tasks.copy()
    parts = out["stratum"].astype(str).str.split("/", expand=True).reindex(columns=[0, 1, 2])
    out["subset"] = parts[1].fillna("all")
    weighted = {(r.level, r.category, r.subset) for r in policy.quotas.rules
                if r.credit_weighted and r.method == "random"}
    keys = list(zip(out["level"], out["category"], out["subset"], strict=True))
    third = parts[2].astype(object)
    old_format = third.notna()
    out["credit_used"] = np.where(old_format, third.fillna("all") != "all",
                                  np.array([k in weighted for k in keys], dtype=bool))
    full = _full_coverage_strata(policy)
    out["random_draw"] = np.array([k not in full for k in keys], dtype=bool)  # bool if empty
    return out


def checks(tasks: pd.DataFrame, results: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Drawn tasks joined with their results (inner join: checked tasks only), with the
    flags of :func:`task_flags`."""
    flagged = task_flags(tasks, policy)
    res = results.drop(columns=[c for c in ("uscc",) if c in results.columns])
    return flagged.merge(res, on="task_id", how="inner", validate="one_to_one")


def _unit_population(inputs: ReportInputs, unit: str) -> pd.DataFrame:
    return drawing_population(inputs.classified, inputs.policy, unit)


# --------------------------------------------------------------------------------------
# Statistics table (统计表)
# --------------------------------------------------------------------------------------
#: Layout of the statistics table: (group, [(column, label)]) in the official order.
STATISTICS_LAYOUT: list[tuple[str, list[tuple[str, str]]]] = [
    ("检查对象（户）", [("objects_total", "合计"), ("objects_special", "特殊监管"),
                   ("objects_key", "重点监管"), ("objects_general", "一般监管"),
                   ("objects_positive_list", "其中正面清单")]),
    ("执法人员（人）", [("inspectors", "在岗持证")]),
    ("抽查任务（次）", [("tasks_drawn", "抽取"), ("tasks_unchecked", "未完成")]),
    ("完成抽查（次）", [("checks_total", "合计"), ("checks_special", "特殊监管"),
                    ("checks_key", "重点监管"), ("checks_general", "一般监管"),
                    ("checks_onsite", "现场检查"), ("checks_offsite", "非现场检查"),
                    ("checks_not_operating", "其中停业停产或无法联系")]),
    ("联合抽查（次）", [("checks_internal_joint", "内部联合"),
                    ("checks_inter_departmental", "部门联合")]),
    ("信用风险分类结合", [("checks_credit", "运用次数"), ("checks_random", "随机抽查次数"),
                  ("credit_share", "占比")]),
    ("结果公开", [("results_published", "已公开"), ("results_withheld", "依法不予公开")]),
    ("问题处置（件）", [("problems_found", "发现问题"), ("problems_corrected", "其中已责令改正"),
                    ("violations", "发现违法"), ("obstructed", "不配合检查"),
                    ("rectification_orders", "责令整改"), ("rectified", "整改完成"),
                    ("handed_over", "转办移交"), ("judicial_referrals", "移送司法机关"),
                    ("penalties", "立案处罚")]),
    ("行政处罚", [("penalty_amount", "罚没款金额（元）")]),
]
STATISTICS_COLUMNS = [c for _, cols in STATISTICS_LAYOUT for c, _ in cols]


def known_by(results: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """The results known by ``as_of`` (数据截止日期): checks made by then, with a publication
    date only if the result was published by then, a closing date only if the follow-up was
    closed by then, and a fine only if its penalty case was closed by then (a case still open
    has no decided amount); None: every result as recorded. A 整改期限 and a case number are
    set at the check and known from it."""
    if as_of is None:
        return results
    out = results[[d is not None and not pd.isna(d) and d <= as_of
                   for d in results["date_checked"]]].copy()
    out["date_published"] = [d if d is not None and not pd.isna(d) and d <= as_of else None
                             for d in out["date_published"]]
    out["date_follow_up_closed"] = [
        d if d is not None and not pd.isna(d) and d <= as_of else None
        for d in out["date_follow_up_closed"]]
    if "penalty_amount" in out.columns:
        out["penalty_amount"] = [a if c is not None else None for a, c in
                                 zip(out["penalty_amount"], out["date_follow_up_closed"],
                                     strict=True)]
    return out


def statistics_row(classified_unit: pd.DataFrame, inspectors_unit: pd.DataFrame,
                   tasks_q: pd.DataFrame, results: pd.DataFrame, policy: Policy,
                   as_of: dt.date | None = None, cases: pd.DataFrame | None = None) -> dict:
    """Figures of one unit's statistics table from its objects, inspectors, the quarter's
    tasks and the results register, counting only what was known by ``as_of`` (checks made,
    results published by then; None: everything recorded).

    The positive-list column counts what the plan means: general objects on the positive list
    (an enterprise on the list that is a special or key object is drawn as such). With
    ``cases`` (the follow-up cases as of ``as_of``, :func:`follow_up_cases`) an order to
    correct counts as 整改完成 when its case is closed, also by an update or a re-inspection
    task's result."""
    ch = checks(tasks_q, known_by(results, as_of), policy)
    rnd = ch[ch["random_draw"]]
    row = {
        "objects_total": len(classified_unit),
        "objects_special": int((classified_unit["category"] == "special").sum()),
        "objects_key": int((classified_unit["category"] == "key").sum()),
        "objects_general": int((classified_unit["category"] == "general").sum()),
        "objects_positive_list": int((classified_unit["positive_list"].astype(bool)
                                      & (classified_unit["category"] == "general")).sum()),
        "inspectors": int((inspectors_unit["active"] & inspectors_unit["certified"]).sum()),
        "tasks_drawn": len(tasks_q),
        "tasks_unchecked": len(tasks_q) - len(ch),
        "checks_total": len(ch),
        "checks_special": int((ch["category"] == "special").sum()),
        "checks_key": int((ch["category"] == "key").sum()),
        "checks_general": int((ch["category"] == "general").sum()),
        "checks_onsite": int((ch["method"] == "onsite").sum()),
        "checks_offsite": int((ch["method"] == "offsite").sum()),
        "checks_internal_joint": internal_joint_count(ch),
        "checks_inter_departmental": int((ch["joint_type"] == "inter_departmental").sum()),
        "checks_credit": int(rnd["credit_used"].sum()),
        "checks_random": len(rnd),
        "credit_share": float(rnd["credit_used"].mean()) if len(rnd) else float("nan"),
        "results_published": int(ch["date_published"].notna().sum()),
        "results_withheld": int(ch["confidential"].sum()),
    }
    row.update(result_figures(ch))  # outcomes and follow-ups (R7), as of the cut-off
    if cases is not None and len(cases):
        mine = cases[cases["task_id"].isin(set(ch["task_id"]))]
        orders = [reinspection_applies(f, d) for f, d in
                  zip(mine["follow_up"], mine["rectification_deadline"], strict=True)]
        row["rectified"] = int((mine["status"][orders] == "closed").sum()) if len(mine) else 0
    return row


#: Index label of the totals row of a statistics table that lists several units.
TOTAL_LABEL = "合计"


def statistics_as_of(inputs: ReportInputs) -> dt.date:
    """The statistics table's default cut-off: its own deadline (R9)."""
    return statistics_due(inputs.quarter, inputs.policy, inputs.calendar)


def statistics_table(inputs: ReportInputs, units: Sequence[str] | None = None,
                     total: bool = False, as_of: dt.date | None = None) -> pd.DataFrame:
    """The quarter's statistics table: one row per unit (index = Chinese unit name), columns
    :data:`STATISTICS_COLUMNS`. A unit's objects are those it draws from (the new-area level:
    every object of the new area); its inspectors are its own.

    With ``total``, a last row :data:`TOTAL_LABEL` computed over all the listed units at once:
    objects counted once each (the union of the units' populations, so the new area's objects
    are not counted again for its counties), inspectors and checks summed, shares recomputed
    from the pooled checks (not averaged).

    ``as_of`` is the 数据截止日期: only checks made and results published by then count
    (None: everything recorded; the notebooks pass :func:`statistics_as_of` by default)."""
    pol = inputs.policy
    units = list(units) if units is not None else [u.id for u in pol.units]
    q = inputs.quarter.label
    cases = follow_up_cases(inputs, as_of or dt.date.max)
    rows = {}
    for unit in units:
        pop = _unit_population(inputs, unit)
        insp = inputs.registers.inspectors[inputs.registers.inspectors["unit"] == unit]
        tq = inputs.tasks[(inputs.tasks["unit"] == unit) & (inputs.tasks["quarter"] == q)]
        rows[pol.unit_names[unit]] = statistics_row(pop, insp, tq, inputs.results, pol, as_of,
                                                    cases)
    if total:
        pops = pd.concat([_unit_population(inputs, unit) for unit in units])
        pops = pops.drop_duplicates(subset="uscc")
        insp = inputs.registers.inspectors[inputs.registers.inspectors["unit"].isin(units)]
        tq = inputs.tasks[inputs.tasks["unit"].isin(units) & (inputs.tasks["quarter"] == q)]
        rows[TOTAL_LABEL] = statistics_row(pops, insp, tq, inputs.results, pol, as_of, cases)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=STATISTICS_COLUMNS)
    table.index.name = "单位"
    return table


def statistics_table_zh(table: pd.DataFrame) -> pd.DataFrame:
    """The statistics table with the official two-row Chinese header (group, item); the
    share stays a number in [0, 1] (NaN without random draws), formatted by the writers."""
    out = table.copy()
    out.columns = pd.MultiIndex.from_tuples(
        [(g, label) for g, cols in STATISTICS_LAYOUT for _, label in cols])
    return out


# --------------------------------------------------------------------------------------
# Quarterly summary (工作总结)
# --------------------------------------------------------------------------------------
def summary_progress(inputs: ReportInputs, unit: str, as_of: dt.date | None = None
                     ) -> pd.DataFrame:
    """Progress of one unit against each quarterly minimum (R4) as of ``as_of`` (default: the
    summary's due date, the quarter's last working day): quota, tasks drawn, checks done,
    share of the quota done, met."""
    pol, q = inputs.policy, inputs.quarter
    if as_of is None:
        as_of = summary_window(q, pol, inputs.calendar)[1]
    quotas = quarterly_quotas(inputs.classified, pol, q, inputs.registers.inspectors, units=[unit])
    per_rule = (quotas.groupby(["quota_rule", "category", "subset", "method", "rule"], sort=False)
                [["population", "quota"]].sum().reset_index())
    tq = task_flags(inputs.tasks[(inputs.tasks["unit"] == unit)
                                 & (inputs.tasks["quarter"] == q.label)], pol)
    res = inputs.results[[d is not None and d <= as_of for d in inputs.results["date_checked"]]]
    done_ids = set(res["task_id"])
    rows = []
    for rec in per_rule.itertuples():
        sel = (tq["category"] == rec.category) & ((tq["subset"] == rec.subset)
                                                   | (rec.subset == "all"))
        drawn = int(sel.sum())
        done = int(tq.loc[sel, "task_id"].isin(done_ids).sum())
        rows.append({
            "quota_rule": rec.quota_rule, "category": rec.category, "subset": rec.subset,
            "method": rec.method, "rule": rec.rule, "population": int(rec.population),
            "quota": int(rec.quota), "drawn": drawn, "done": done,
            "progress": done / rec.quota if rec.quota else 1.0,
            "met": done >= rec.quota,
        })
    return pd.DataFrame(rows)


def typical_cases(inputs: ReportInputs, unit: str, n: int = 3,
                  as_of: dt.date | None = None) -> pd.DataFrame:
    """Up to ``n`` typical cases of the quarter known by ``as_of`` (violations and refused
    checks with a description, confidential results never included), the most serious
    follow-up first, then by date."""
    q = inputs.quarter.label
    ch = checks(inputs.tasks[(inputs.tasks["unit"] == unit) & (inputs.tasks["quarter"] == q)],
                known_by(inputs.results, as_of), inputs.policy)
    cases = ch[ch["outcome"].isin(["violation", "obstructed"]) & ~ch["confidential"]].copy()
    severity = {"judicial_referral": 0, "penalty": 1, "transfer": 2, "hand_over": 3,
                "rectification_order": 4, "none": 5}
    cases["_s"] = cases["follow_up"].map(severity)
    cases = cases.sort_values(["_s", "date_checked", "task_id"]).head(n)
    return pd.DataFrame({
        "任务编号": cases["task_id"], "检查对象": cases["enterprise_name"],
        "抽查事项": cases["item_name"], "检查日期": cases["date_checked"],
        "问题": cases["remark"].fillna(""), "处置": cases["follow_up"].map(FOLLOW_UP_ZH),
    }).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Evaluation (考核/评估通报, R10)
# --------------------------------------------------------------------------------------
INDICATOR_ZH = labels.INDICATOR_ZH


@dataclass(frozen=True)
class Indicator:
    """One evaluation indicator of one unit.

    Attributes
    ----------
    indicator : str
        Key of :data:`INDICATOR_ZH`.
    value, target : float
        Measured value and the policy's target (same unit: share or count).
    met : bool
        ``value >= target`` (a value exactly at the target is met).
    detail : str
        The counts behind the value (Chinese).
    rule : str
        Rule id of the target.
    """

    indicator: str
    value: float
    target: float
    met: bool
    detail: str
    rule: str

    @property
    def attainment(self) -> float:
        """Share of the target reached, capped at 1 (1 when the target is 0)."""
        if self.target <= 0:
            return 1.0
        return float(min(max(self.value, 0.0) / self.target, 1.0))


def _ind(key: str, value: float, target: float, detail: str, rule: str) -> Indicator:
    return Indicator(key, float(value), float(target), bool(value + 1e-12 >= target), detail, rule)


def indicator_quotas(progress: pd.DataFrame, rule: str = "R4") -> Indicator:
    """Share of the unit's quota rules (with a quota > 0) whose minimum was reached; target 1."""
    relevant = progress[progress["quota"] > 0]
    met = int(relevant["met"].sum())
    value = met / len(relevant) if len(relevant) else 1.0
    missed = "、".join(f"{CATEGORY_ZH[c]}（{SUBSET_ZH[s]}）完成{d}次、最低{k}次" for c, s, d, k in zip(
        relevant["category"], relevant["subset"], relevant["done"], relevant["quota"], strict=True)
        if d < k)
    detail = f"{len(relevant)}项中{met}项达标" + (f"；未达标：{missed}" if missed else "")
    return _ind("quotas_met", value, 1.0, detail, rule)


def internal_joint_count(checks: pd.DataFrame) -> int:
    """Internal joint checks (R5): the designated ones, ``joint_type == "internal"``. The draw
    sets it on designated tasks only (items of >= 2 business lines, a team covering each,
    on-site unless the policy's ``joint.count_offsite``); records before format 3 marked any
    team spanning two lines."""
    return int((checks["joint_type"] == "internal").sum())


def indicator_internal_joint(checks_ytd: pd.DataFrame, policy: Policy) -> Indicator:
    n = len(checks_ytd)
    joint = internal_joint_count(checks_ytd)
    value = joint / n if n else 0.0
    return _ind("internal_joint_share", value, policy.joint.internal_min_share,
                f"内部联合抽查{joint}次，抽查{n}次", policy.joint.rule)


def indicator_inter_departmental(checks_q: pd.DataFrame, policy: Policy) -> Indicator:
    count = int((checks_q["joint_type"] == "inter_departmental").sum())
    return _ind("inter_departmental", count, policy.joint.inter_departmental_per_quarter,
                f"部门联合抽查{count}次", policy.joint.rule)


def indicator_credit(checks_q: pd.DataFrame, policy: Policy) -> Indicator:
    rnd = checks_q[checks_q["random_draw"]]
    used = int(rnd["credit_used"].sum())
    value = used / len(rnd) if len(rnd) else 1.0
    return _ind("credit_share", value, policy.credit_risk.min_share,
                f"运用信用风险分类{used}次，随机抽查{len(rnd)}次", policy.credit_risk.rule)


def indicator_results_on_time(checks_q: pd.DataFrame, policy: Policy, as_of: dt.date,
                              calendar: WorkCalendar) -> Indicator:
    """Results not withheld, due by ``as_of`` or already published: share published within
    the working-day limit (R9; a publication on the last allowed day is on time)."""
    target = policy.evaluation.results_on_time_min_share if policy.evaluation else 1.0
    public = checks_q[~checks_q["confidential"]]
    on_time = counted = 0
    for checked, published in zip(public["date_checked"], public["date_published"], strict=True):
        due = result_due(checked, policy, calendar)
        if published is None or pd.isna(published):
            if due <= as_of:
                counted += 1  # overdue and unpublished
            continue
        counted += 1
        on_time += published <= due
    value = on_time / counted if counted else 1.0
    return _ind("results_on_time", value, target,
                f"按时公开{on_time}条，应公开{counted}条（检查后"
                f"{policy.reporting.results_within_working_days}个工作日内）", policy.reporting.rule)


def indicator_reports_on_time(deliveries_unit_q: pd.DataFrame, quarter: Quarter, policy: Policy,
                              calendar: WorkCalendar) -> Indicator:
    """Summary delivered by the quarter's last working day and statistics table within N
    working days after the quarter; value = reports on time / 2, target 1."""
    due = {"summary": summary_window(quarter, policy, calendar)[1],
           "statistics": statistics_due(quarter, policy, calendar)}
    notes, on_time = [], 0
    for report, label in (("summary", "工作总结"), ("statistics", "统计表")):
        rows = deliveries_unit_q[deliveries_unit_q["report"] == report]
        if rows.empty:
            notes.append(f"{label}未报送")
            continue
        day = min(rows["date_delivered"])
        ok = day <= due[report]
        on_time += ok
        notes.append(f"{label}{date_zh(day, year=False)}报送（时限{date_zh(due[report], year=False)}），"
                     f"{'按时' if ok else '逾期'}")
    return _ind("reports_on_time", on_time / 2, 1.0, "；".join(notes), policy.reporting.rule)


def indicator_follow_up(cases_q: pd.DataFrame, policy: Policy, as_of: dt.date) -> Indicator:
    """Share of the quarter's follow-up cases closed by ``as_of`` (the cases of
    :func:`follow_up_cases`: a case closed by a 复查 counts; ``follow_up`` and
    ``date_follow_up_closed`` are the columns read, ``status`` adds the overdue count)."""
    target = policy.evaluation.follow_up_closed_min_share if policy.evaluation else 1.0
    need = cases_q[cases_q["follow_up"] != "none"]
    closed = sum(1 for d in need["date_follow_up_closed"]
                 if d is not None and not pd.isna(d) and d <= as_of)
    value = closed / len(need) if len(need) else 1.0
    ordered = need[need["follow_up"] == "rectification_order"]
    rectified = sum(1 for d in ordered["date_follow_up_closed"]
                    if d is not None and not pd.isna(d) and d <= as_of)
    orders = f"（其中责令整改{len(ordered)}件，已整改{rectified}件）" if len(ordered) else ""
    overdue = int((need["status"] == "overdue").sum()) if "status" in need else 0
    late = f"，逾期未办结{overdue}件" if overdue else ""
    return _ind("follow_up_closed", value, target,
                f"已办结{closed}件，需处置{len(need)}件{orders}{late}", "R7")


def follow_up_cases(inputs: ReportInputs, as_of: dt.date) -> pd.DataFrame:
    """The follow-up cases of the inputs' tasks as of ``as_of`` (the results register, the
    follow-up file's updates dated by then and the re-inspection tasks' results:
    :func:`dsr_analysis.followups.case_register`)."""
    return case_register(inputs.tasks, inputs.results, inputs.policy, as_of, inputs.followups)


def evaluation_as_of(inputs: ReportInputs) -> dt.date:
    """The evaluation date: N working days after the quarter ends (policy.evaluation)."""
    n = inputs.policy.evaluation.as_of_working_days_after_quarter_end if inputs.policy.evaluation else 20
    return inputs.calendar.add_working_days(inputs.quarter.end, n)


def evaluate(inputs: ReportInputs, units: Sequence[str] | None = None,
             as_of: dt.date | None = None) -> pd.DataFrame:
    """Every county (default: the units of level ``county``) against every indicator.

    Returns one row per unit x indicator: unit, unit_name, indicator, indicator_zh, value,
    target, met, attainment, weight, score (= weight x attainment), detail, rule.
    """
    pol, q = inputs.policy, inputs.quarter
    if pol.evaluation is None:
        raise ParameterError(_("policy {file} has no 'evaluation' section (weights of the "
                               "indicators); add one to render the evaluation").format(
                                   file=pol.path))
    as_of = as_of or evaluation_as_of(inputs)
    units = list(units) if units is not None else [u.id for u in pol.units if u.level == "county"]
    res = known_by(inputs.results, as_of)
    cases = follow_up_cases(inputs, as_of)
    rows = []
    for unit in units:
        tu = inputs.tasks[inputs.tasks["unit"] == unit]
        cases_q = cases[(cases["unit"] == unit) & (cases["quarter"] == q.label)] \
            if len(cases) else cases
        ch_ytd = checks(tu, res, pol)
        ch_q = ch_ytd[ch_ytd["quarter"] == q.label]
        progress = summary_progress(inputs, unit, as_of=q.end)
        dlv = inputs.deliveries[(inputs.deliveries["unit"] == unit)
                                & (inputs.deliveries["quarter"] == q.label)]
        indicators = [
            indicator_quotas(progress, pol.quotas.rule),
            indicator_internal_joint(ch_ytd, pol),
            indicator_inter_departmental(ch_q, pol),
            indicator_credit(ch_q, pol),
            indicator_results_on_time(ch_q, pol, as_of, inputs.calendar),
            indicator_reports_on_time(dlv, q, pol, inputs.calendar),
            indicator_follow_up(cases_q, pol, as_of),
        ]
        for ind in indicators:
            weight = pol.evaluation.weights.get(ind.indicator, 0.0)
            rows.append({"unit": unit, "unit_name": pol.unit_names[unit],
                         "indicator": ind.indicator, "indicator_zh": INDICATOR_ZH[ind.indicator],
                         "value": ind.value, "target": ind.target, "met": ind.met,
                         "attainment": ind.attainment, "weight": weight,
                         "score": round(weight * ind.attainment, 2), "detail": ind.detail,
                         "rule": ind.rule})
    return pd.DataFrame(rows)


def ranking(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Total score per unit and rank (1 = best; equal scores share a rank)."""
    total = (evaluation.groupby(["unit", "unit_name"], sort=False)
             .agg(score=("score", "sum"), met=("met", "sum"), indicators=("met", "size"))
             .reset_index())
    total["score"] = total["score"].round(2)
    total["rank"] = total["score"].rank(ascending=False, method="min").astype(int)
    return total.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Results notice (抽查结果公示)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    """A monthly results notice of one unit.

    Attributes
    ----------
    month : str
        ``YYYY-MM``.
    table : DataFrame
        Published rows (Chinese headers); never a confidential result.
    withheld : int
        Results of the month's checks withheld under R8 (counted, not printed).
    """

    month: str
    table: pd.DataFrame
    withheld: int


def results_notice(inputs: ReportInputs, unit: str, year: int, month: int) -> Notice:
    """Results published in ``year-month`` for the unit's tasks, with item, object, date,
    result and follow-up (后续处理结果) as of the month's last day, from the follow-up cases
    then (:func:`follow_up_cases`: a case closed later is 办理中 here, an order to correct
    past its due date 逾期未整改, a fine decided later is not shown); confidential results
    are withheld and only counted (by the month they were checked in)."""
    as_of = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    ch = checks(inputs.tasks[inputs.tasks["unit"] == unit], known_by(inputs.results, as_of),
                inputs.policy)

    def in_month(d: object) -> bool:
        return d is not None and not pd.isna(d) and d.year == year and d.month == month

    published = ch[ch["date_published"].map(in_month) & ~ch["confidential"]]
    published = published.sort_values(["date_published", "date_checked", "task_id"])
    withheld = int((ch["confidential"] & ch["date_checked"].map(in_month)).sum())
    cases = follow_up_cases(inputs, as_of)
    by_task = {c["task_id"]: c for c in cases.to_dict("records")}
    follow = [case_text(by_task[t]) if t in by_task else FOLLOW_UP_ZH["none"]
              for t in published["task_id"]]
    table = pd.DataFrame({
        "序号": range(1, len(published) + 1),
        "任务编号": published["task_id"].to_numpy(),
        "抽查事项": published["item_name"].to_numpy(),
        "检查对象": published["enterprise_name"].to_numpy(),
        "统一社会信用代码": published["uscc"].to_numpy(),
        "检查日期": published["date_checked"].to_numpy(),
        "检查结果": published["outcome"].map(OUTCOME_ZH).to_numpy(),
        "后续处置": follow,
        "公示日期": published["date_published"].to_numpy(),
    })
    return Notice(f"{year}-{month:02d}", table, withheld)


# --------------------------------------------------------------------------------------
# Annual plan (R8)
# --------------------------------------------------------------------------------------
def annual_quotas(inputs: ReportInputs, unit: str) -> pd.DataFrame:
    """The year's minimum checks of a unit per category and quarter (R4), with the share."""
    pol = inputs.policy
    frames = [quarterly_quotas(inputs.classified, pol, q, inputs.registers.inspectors,
                               units=[unit]) for q in quarters_of(pol.year)]
    table = pd.concat(frames, ignore_index=True)
    rule_ratio = {r.id: r.ratio for r in pol.quotas.rules}
    per = (table.groupby(["quarter", "quota_rule", "category", "subset", "method"], sort=False)
           [["population", "quota"]].sum().reset_index())
    wide = per.pivot_table(index=["quota_rule", "category", "subset", "method"],
                           columns="quarter", values="quota", aggfunc="sum", sort=False)
    pops = per.groupby("quota_rule", sort=False)["population"].first()
    out = pd.DataFrame({
        "类别": [CATEGORY_ZH[c] for _, c, _, _ in wide.index],
        "范围": [SUBSET_ZH[s] for _, _, s, _ in wide.index],
        "方式": [METHOD_ZH[m] for _, _, _, m in wide.index],
        "对象数": [int(pops[r]) for r, _, _, _ in wide.index],
        "最低比例": [f"{rule_ratio[r]:.0%}" for r, _, _, _ in wide.index],
    })
    for q in quarters_of(pol.year):
        out[f"第{'一二三四'[q.q - 1]}季度"] = wide[q.label].to_numpy().astype(int)
    out["全年合计"] = wide.sum(axis=1).to_numpy().astype(int)
    # R3: the expected share of each credit class drawn per quarter (its inclusion
    # probability; "—" where the unit has no object of the class).
    first = frames[0].set_index("quota_rule")
    for c in CREDIT_CLASSES:
        out[f"{c}类每季度预期抽查比例"] = [
            f"{first.at[r, f'probability_{c}']:.1%}" if first.at[r, f"population_{c}"] else "—"
            for r, _, _, _ in wide.index]
    return out


def reporting_calendar(policy: Policy, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """The year's R9 dates: summary window and statistics due date per quarter."""
    cal = calendar or WorkCalendar()
    rows = []
    for q in quarters_of(policy.year):
        opens, due = summary_window(q, policy, cal)
        window = f"{date_zh(opens, year=False)}—{date_zh(due, year=False)}"
        rows.append({"季度": q.label_zh, "工作总结报送期": window,
                     "统计表报送截止": date_zh(statistics_due(q, policy, cal))})
    return pd.DataFrame(rows)


def draw_method(policy: Policy) -> list[str]:
    """The draw method and how anyone can replay a published draw, as paragraphs (Chinese)."""
    w = policy.credit_risk.weights
    return [
        f"抽取方式：{'不定向' if policy.draw.mode == 'untargeted' else '定向'}抽查为主，"
        "特定行业、特定区域专项检查采用定向抽查（R6）。",
        "检查对象按抽查单位和监管类别分层，每层抽取数按最低抽查比例向上取整（R4）；"
        "层内每个对象的入样概率与其信用风险分类权重"
        f"（A {w['A']:g}、B {w['B']:g}、C {w['C']:g}、D {w['D']:g}）成正比，"
        "各对象入样概率之和等于该层抽取数，风险越高抽中机会越大，每个对象都有被抽中的机会（R3）；"
        f"运用信用风险分类的抽查不低于 {policy.credit_risk.min_share:.0%}。",
        "随机数公开可验证：抽取前公布种子材料（如当期福利彩票开奖号码）；"
        "种子 = SHA-256（种子材料 | 名录库文件摘要 | 实施方案文件摘要 | 季度）；"
        "每个检查对象的抽签号 = SHA-256（种子 | 抽查单位 | 抽取层 | 统一社会信用代码），"
        "由抽签号得到均匀随机数 U，排序值 = [U/(1−U)] ÷ [入样概率/(1−入样概率)]，"
        "每层排序值最小者入选（帕累托顺序抽样）。",
        "抽取程序：随机数产生之前，先公布抽取公告，载明名录库、实施方案和此前抽取记录的"
        "SHA-256 摘要、各抽取层的抽取数和入样概率，以及种子材料的来源（如某期福利彩票开奖号码）；"
        "开奖后按公告录入种子材料进行抽取，输入与公告不一致的不予抽取；重新抽取须说明原因并重新公告。",
        "复核方法：任何人可用公开的抽取记录（载明种子材料和各项输入的 SHA-256 摘要、每个对象的"
        "抽签号）和随记录公开的复核程序（仅需 Python 标准库）重算全部抽签号和抽取结果，"
        "与公示名单逐条比对；检查结束后公开的内部记录还可复核执法人员的随机匹配。"
        "抽取记录账本的最新哈希值随公示文件公布，账本被截断或改写即可发现。",
        f"执法人员每组不少于 {policy.staffing.min_inspectors_per_task} 名持证人员，"
        "依法回避；抽取名单检查前保密（R1）。",
        f"内部联合抽查占比不低于 {policy.joint.internal_min_share:.0%}，各级每季度至少开展"
        f" {policy.joint.inter_departmental_per_quarter} 次部门联合抽查（R5）。",
    ]


# --------------------------------------------------------------------------------------
# Figures (Chinese labels; the CJK font comes from dsr_analysis.plotting)
# --------------------------------------------------------------------------------------
def checks_figure(table: pd.DataFrame):
    """Stacked bars: checks per unit by category (statistics table)."""
    import matplotlib.pyplot as plt


    from .plotting import use_cjk_font  # matplotlib: heavy, only for a figure

    use_cjk_font()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    parts = table.drop(index=TOTAL_LABEL, errors="ignore")[
        ["checks_special", "checks_key", "checks_general"]]
    parts.columns = ["特殊监管对象", "重点监管对象", "一般监管对象"]
    parts.plot.bar(stacked=True, ax=ax, color=["#c0392b", "#e67e22", "#2e86c1"], rot=0)
    ax.set_xlabel("")
    ax.set_ylabel("完成抽查（次）")
    ax.set_title("本季度完成抽查次数（按监管对象类别）")
    ax.legend(frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def progress_figure(progress: pd.DataFrame, unit_name: str):
    """Horizontal bars: checks done against each quarterly minimum (summary)."""
    import matplotlib.pyplot as plt


    from .plotting import use_cjk_font  # matplotlib: heavy, only for a figure

    use_cjk_font()
    labels = [f"{CATEGORY_ZH[c]}（{SUBSET_ZH[s]}）" for c, s in
              zip(progress["category"], progress["subset"], strict=True)]
    y = np.arange(len(progress))
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(progress) + 1.4), dpi=110)
    ax.barh(y + 0.2, progress["quota"], height=0.4, color="#bbbbbb", label="季度最低抽查数")
    ax.barh(y - 0.2, progress["done"], height=0.4,
            color=np.where(progress["met"], "#27ae60", "#c0392b"), label="已完成")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("次数")
    ax.set_title(f"{unit_name}：各类监管对象抽查进度")
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def score_figure(evaluation: pd.DataFrame, ranks: pd.DataFrame):
    """Stacked bars of each county's score by indicator, ranked (evaluation)."""
    import matplotlib.pyplot as plt


    from .plotting import use_cjk_font  # matplotlib: heavy, only for a figure

    use_cjk_font()
    wide = evaluation.pivot_table(index="unit_name", columns="indicator_zh", values="score",
                                  aggfunc="sum", sort=False)
    wide = wide.loc[ranks["unit_name"]]
    fig, ax = plt.subplots(figsize=(8, 4.6), dpi=110)
    wide.plot.barh(stacked=True, ax=ax, colormap="tab10", width=0.6)
    for i, (score, rank) in enumerate(zip(ranks["score"], ranks["rank"], strict=True)):
        ax.text(score + 1, i, f"{score:.1f} 分（第{rank}名）", va="center", fontsize=9)
    ax.set_xlim(0, 125)
    ax.invert_yaxis()
    ax.set_ylabel("")
    ax.set_xlabel("得分")
    ax.set_title("各县考核得分及排名")
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    fig.tight_layout()
    plt.close(fig)
    return fig
