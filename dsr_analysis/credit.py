"""Spot-check results into the firms' credit records (R7: "将其纳入主体的信用记录").

The national enterprise credit publicity system (国家企业信用信息公示系统) and the credit
platforms take a firm's spot-check results as the block 抽查检查结果信息 with the columns
序号 | 检查实施机关 | 类型 | 日期 | 结果. :func:`credit_records` builds those rows from the
drawn tasks (the ledger) and the results register; :func:`write_credit_exports` writes them
for the office (``dsr credit``):

- ``credit-PERIOD[-UNIT].xlsx`` and ``.csv`` (UTF-8 with BOM): one row per check, the five
  columns of the block, then the firm's name (企业名称) and USCC (统一社会信用代码) so that a
  row can be attached to the firm, the task id (任务编号) and the publication date (公示日期);
- ``credit-by-firm-PERIOD[-UNIT].xlsx`` and ``.csv``: the same rows grouped per firm (sorted by
  USCC), 序号 counting each firm's checks from 1, as the block reads on the firm's page.

Rules (each a decision, stated here once):

- **Which period.** A result belongs to the month (``--month``) or quarter (``--quarter``)
  in which it was *published* (公示日期), like the monthly results notice: the credit record
  is what has been made public. A result checked in the period but not yet published is left
  out and counted (it goes out with the period it is published in).
- **Confidential results** (涉密不予公开, R8) are never exported; those checked in the period
  are counted in the message.
- **One row per check.** A firm checked twice in the period (a complaint check after a routine
  one, or by two bureaus) has two rows, as the publicity system lists every check with its own
  authority, date and result; the per-firm form shows them together under the firm.
- **检查实施机关** is the bureau of the task's unit (:meth:`~dsr_analysis.policy.Policy.authority`);
  **类型** the task's draw mode (双随机抽查 for an untargeted draw, 定向抽查 for a targeted one,
  :data:`~dsr_analysis.labels.CREDIT_CHECK_TYPE_ZH`); **日期** the date checked; **结果** the
  system's own wording of the outcome (:data:`~dsr_analysis.labels.CREDIT_RESULT_ZH`: an
  offence, 违法, is 发现问题待后续处理 there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .documents.model import Table, TableDocument
from .draw.ledger import load_draw_tasks
from .errors import ParameterError
from .export import write_csv
from .i18n import _
from .labels import CREDIT_CHECK_TYPE_ZH, CREDIT_RESULT_ZH
from .periods import Quarter, date_zh, parse_month
from .policy import Policy
from .results import load_results

__all__ = ["CREDIT_COLUMNS_ZH", "CreditExport", "CreditPeriod", "CreditRecords",
           "by_firm_table", "credit_document", "credit_period", "credit_records",
           "credit_table", "write_credit_exports"]

#: Columns of the export, in order: the publicity block's five, then the firm and the task.
CREDIT_COLUMNS_ZH = ("序号", "检查实施机关", "类型", "日期", "结果", "企业名称", "统一社会信用代码",
                     "任务编号", "公示日期")
#: Columns of the per-firm form.
BY_FIRM_COLUMNS_ZH = ("统一社会信用代码", "企业名称", "序号", "检查实施机关", "类型", "日期", "结果",
                      "任务编号", "公示日期")


@dataclass(frozen=True)
class CreditPeriod:
    """The month or quarter whose published results are exported.

    Attributes
    ----------
    label : str
        ``2023-03`` or ``2023Q1`` (file names).
    start, end : date
        First and last day.
    label_zh : str
        ``2023年3月`` or ``2023年第一季度``.
    """

    label: str
    start: dt.date
    end: dt.date
    label_zh: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def credit_period(month: str | None = None, quarter: str | None = None) -> CreditPeriod:
    """The period of ``--month YYYY-MM`` or ``--quarter 2023Q1`` (exactly one of them)."""
    if (month is None) == (quarter is None):
        raise ParameterError(_("give either a month (--month YYYY-MM) or a quarter "
                               "(--quarter 2023Q1), not both or neither"))
    if month is not None:
        year, mon = parse_month(month)
        start = dt.date(year, mon, 1)
        end = dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.timedelta(days=1)
        return CreditPeriod(f"{year}-{mon:02d}", start, end, f"{year}年{mon}月")
    q = Quarter.parse(quarter)
    return CreditPeriod(q.label, q.start, q.end, q.label_zh)


@dataclass(frozen=True)
class CreditRecords:
    """The credit rows of a period.

    Attributes
    ----------
    period : CreditPeriod
    unit : str or None
        Only this unit's tasks (None: every unit).
    rows : DataFrame
        One row per published check: ``authority``, ``check_type``, ``date_checked``,
        ``result`` (the system's wording), ``enterprise_name``, ``uscc``, ``task_id``,
        ``date_published``, ``unit``; ordered by publication date, check date and task.
    withheld : int
        Confidential results checked in the period (never exported).
    unpublished : int
        Other results checked in the period and not published by its last day.
    """

    period: CreditPeriod
    unit: str | None
    rows: pd.DataFrame
    withheld: int
    unpublished: int

    @property
    def firms(self) -> int:
        """Firms with at least one row."""
        return int(self.rows["uscc"].nunique())

    def summary(self) -> str:
        """One line for staff (Chinese)."""
        unit = f"（{self.unit}）" if self.unit else ""
        return (f"{self.period.label_zh}{unit}公示的抽查结果：{len(self.rows)} 条，{self.firms} 户企业；"
                f"涉密不予公开 {self.withheld} 条（未导出）；本期检查尚未公示 {self.unpublished} 条"
                f"（公示后随公示当月导出）")


def _day(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def credit_records(tasks: pd.DataFrame, results: pd.DataFrame, policy: Policy,
                   period: CreditPeriod, unit: str | None = None) -> CreditRecords:
    """The credit rows of ``period`` (see the module's rules).

    Parameters
    ----------
    tasks : DataFrame
        Drawn tasks (``task_id``, ``unit``, ``enterprise_name``, ``draw_mode``), e.g.
        :func:`dsr_analysis.draw.ledger.load_draw_tasks`.
    results : DataFrame
        Valid results (:func:`dsr_analysis.results.load_results`).
    policy : Policy
        Names each unit's bureau.
    period : CreditPeriod
    unit : str, optional
        Only this unit's tasks.
    """
    if unit is not None:
        policy.unit(unit)  # an unknown unit: PolicyError naming it
    by_task = tasks.drop_duplicates("task_id").set_index("task_id")
    merged = results.join(by_task[["unit", "enterprise_name", "draw_mode"]], on="task_id")
    if unit is not None:
        merged = merged[merged["unit"] == unit]
    checked_in = merged["date_checked"].map(lambda d: d in period)
    published_in = merged["date_published"].map(lambda d: d in period)
    confidential = merged["confidential"].astype(bool)
    withheld = int((confidential & checked_in).sum())
    published_by_end = merged["date_published"].map(
        lambda d: _day(d) is not None and d <= period.end)
    unpublished = int((~confidential & checked_in & ~published_by_end).sum())
    out = merged[published_in & ~confidential]
    out = out.sort_values(["date_published", "date_checked", "task_id"], kind="stable")
    authorities = {u.id: policy.authority(u.id) for u in policy.units}
    rows = pd.DataFrame({
        "authority": out["unit"].map(authorities).to_numpy(),
        "check_type": out["draw_mode"].map(CREDIT_CHECK_TYPE_ZH).to_numpy(),
        "date_checked": out["date_checked"].to_numpy(),
        "result": out["outcome"].map(CREDIT_RESULT_ZH).to_numpy(),
        "enterprise_name": out["enterprise_name"].to_numpy(),
        "uscc": out["uscc"].to_numpy(),
        "task_id": out["task_id"].to_numpy(),
        "date_published": out["date_published"].to_numpy(),
        "unit": out["unit"].to_numpy(),
    })
    return CreditRecords(period, unit, rows, withheld, unpublished)


def credit_table(records: CreditRecords) -> pd.DataFrame:
    """The export with Chinese headers (:data:`CREDIT_COLUMNS_ZH`), dates as ISO text."""
    r = records.rows
    return pd.DataFrame({
        "序号": range(1, len(r) + 1),
        "检查实施机关": r["authority"], "类型": r["check_type"],
        "日期": [d.isoformat() for d in r["date_checked"]], "结果": r["result"],
        "企业名称": r["enterprise_name"], "统一社会信用代码": r["uscc"], "任务编号": r["task_id"],
        "公示日期": [d.isoformat() for d in r["date_published"]],
    }, columns=list(CREDIT_COLUMNS_ZH))


def by_firm_table(records: CreditRecords) -> pd.DataFrame:
    """The per-firm form: rows sorted by USCC and date, 序号 counting each firm's checks."""
    table = credit_table(records)
    table = table.sort_values(["统一社会信用代码", "日期", "任务编号"], kind="stable")
    table["序号"] = table.groupby("统一社会信用代码").cumcount() + 1
    return table[list(BY_FIRM_COLUMNS_ZH)].reset_index(drop=True)


def credit_document(records: CreditRecords, policy: Policy, per_firm: bool = False,
                    demo: bool = False) -> TableDocument:
    """The export as an official table (XLSX for the office: A4, Chinese headers)."""
    units = records.rows["unit"].unique()
    issuer = policy.authority(records.unit or (str(units[0]) if len(units) == 1 else None))
    frame = by_firm_table(records) if per_firm else credit_table(records)
    form = "（按企业）" if per_firm else ""
    notes = (
        "本表按国家企业信用信息公示系统“抽查检查结果信息”的栏目（序号、检查实施机关、类型、日期、结果）"
        "填报，附企业名称和统一社会信用代码，用于将抽查结果纳入企业信用记录。",
        f"收录{records.period.label_zh}公示的抽查结果，每次检查一行；日期为检查日期，结果按公示系统的"
        "检查结果用语填写。",
        f"涉及国家秘密、国家安全或公共安全依法不予公开的结果 {records.withheld} 条未收录；"
        f"本期检查尚未公示的结果 {records.unpublished} 条，公示后随公示当期报送。",
    )
    return TableDocument(
        title=f"{issuer}{records.period.label_zh}“双随机、一公开”抽查检查结果信息{form}",
        table=Table(frame, wrap_em=22),
        unit=issuer, unit_label="报送单位", date=records.period.end, date_label="数据截止日期",
        as_of=records.period.end,
        period=f"{date_zh(records.period.start)}至{date_zh(records.period.end)}公示的抽查结果",
        demo=demo, public=True, notes=notes)


@dataclass(frozen=True)
class CreditExport:
    """What :func:`write_credit_exports` wrote."""

    records: CreditRecords
    paths: tuple[Path, ...]


def write_credit_exports(ledger: str | Path, results: str | Path, policy: Policy,
                         outputs: str | Path, month: str | None = None,
                         quarter: str | None = None, unit: str | None = None,
                         demo: bool = False) -> CreditExport:
    """Write the credit exports of a month or quarter (``dsr credit``).

    Parameters
    ----------
    ledger : path
        The draw ledger (its valid draws are the tasks).
    results : path
        The results register (CSV/XLSX, e.g. the filled results template), validated
        against the ledger's tasks.
    policy : Policy
    outputs : path
        Folder; the files go to ``OUTPUTS/credit/``.
    month, quarter : str
        ``YYYY-MM`` or ``2023Q1`` (exactly one).
    unit : str, optional
        Only this unit's checks (default: every unit, one file).
    demo : bool
        Mark the workbooks 演示数据.

    Returns
    -------
    CreditExport
        The rows and the four files: ``credit-PERIOD[-UNIT].xlsx``/``.csv`` and
        ``credit-by-firm-PERIOD[-UNIT].xlsx``/``.csv``.
    """
    from .documents.xlsx import write_xlsx  # the documents' writers: heavy imports

    period = credit_period(month, quarter)
    tasks = load_draw_tasks(ledger)
    frame = load_results(results, tasks)
    records = credit_records(tasks, frame, policy, period, unit)
    folder = Path(outputs) / "credit"
    suffix = f"{period.label}-{unit}" if unit else period.label
    paths = (
        write_xlsx(credit_document(records, policy, demo=demo),
                   folder / f"credit-{suffix}.xlsx"),
        write_csv(credit_table(records), folder / f"credit-{suffix}.csv"),
        write_xlsx(credit_document(records, policy, per_firm=True, demo=demo),
                   folder / f"credit-by-firm-{suffix}.xlsx"),
        write_csv(by_firm_table(records), folder / f"credit-by-firm-{suffix}.csv"),
    )
    return CreditExport(records, paths)
