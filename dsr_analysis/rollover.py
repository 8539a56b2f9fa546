"""Next year's registers from this year's results (R2: the categories rest on last year's
penalties, supervision orders and complaints).

``dsr rollover --year 2024`` takes the register of the year that ends (2023: by default the
register directory the ledger's last draw of 2023 was made on, else ``--registers``), the
ledger's tasks of 2023 and the results register, and writes the 2024 registers into a **new**
directory (refused: the source directory itself, or a directory that is not empty; the files
are written into a staging folder beside it and the folder is renamed into place, so a failure
leaves nothing half-written):

- **enterprises**: three columns derived, every other column carried over unchanged
  (:func:`derive_flags`, settings in the policy's optional ``rollover`` section,
  :class:`~dsr_analysis.policy.Rollover`):

  - ``penalised_last_year`` (上年度受到行政处罚) = a result of 2023 with the follow-up
    ``penalty`` (立案处罚); the date that puts the case in 2023 is ``rollover.penalty_year_by``:
    ``date_checked`` (default: the check that opened the case, so a case still open at the
    year's end counts in the year it was opened) or ``date_follow_up_closed`` (the case closed
    in 2023). The flag is *recomputed*, never carried: a firm penalised in 2022 (flag true in
    the 2023 register) and not in 2023 is false in 2024;
  - ``supervision_order_last_year`` (上年度挂牌督办) = a result checked in 2023 whose optional
    results column ``supervision_order`` (挂牌督办) is true (``rollover.supervision_order_column``,
    default true), or whose follow-up is one of ``rollover.supervision_order_follow_ups``
    (default none); recomputed likewise;
  - ``complaints_last_year`` (上年度有效投诉举报次数) = the number of the firm's 2023 tasks whose
    origin is one of ``rollover.complaint_origins`` (default ``complaint``); with
    ``rollover.complaints_confirmed_only`` only those whose check found a problem or an
    offence. The 2023 count is replaced, not added to (it is "last year"). A between-levels
    merged visit (two tasks, one visit) counts once.

  - ``positive_list`` (正面清单): a firm penalised in 2023 leaves the positive list (a penalty
    removes a firm from it, 环办执法〔2021〕10号; the register refuses a firm both on the list
    and penalised last year). Nobody is added to the list: that is the bureau's decision.

  The file keeps its own format and headers (:func:`~dsr_analysis.documents.registercopy.write_register_copy`:
  a CSV stays a CSV in its encoding, an XLSX keeps its title row and sheets, an XLS becomes a
  CSV with the same headers), replaced values in the spelling the column already uses.
- **inspectors, experts, items**: copied byte for byte.
- **the change report** ``OUTPUTS/rollover-2024/category-changes-2024.xlsx``: sheet 类别变化,
  every firm whose category changes, its three flags before → after and why; sheet 类别统计,
  the count per unit and category before and after. The 2024 plan is not known when the
  register is rolled over: both years are classified with the given policy, as if the
  rules stayed (the report says so).

Results and tasks of firms no longer in the register (deregistered during the year) are
counted in the report's notes, not added.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .categories import CATEGORY_ZH, classify, condition_mask
from .documents.model import Table, TableDocument
from .draw.binding import committed_registers
from .draw.ledger import load_draw_tasks
from .errors import DsrError, FileSystemError
from .labels import FOLLOW_UP_ZH, ORIGIN_ZH
from .i18n import _
from .periods import Quarter
from .policy import CATEGORIES, Policy, Rollover
from .registers import (canonical_column, known_headers, load_registers, register_directory,
                        required_headers)
from .results import load_results
from .tabular import read_cells

__all__ = ["FLAG_COLUMNS", "RolloverResult", "category_changes", "category_counts",
           "derive_flags", "rollover", "rollover_settings"]

#: The enterprise columns the rollover derives.
FLAG_COLUMNS = ("penalised_last_year", "supervision_order_last_year", "complaints_last_year")
#: Outcomes that confirm a complaint (a problem or an offence found).
CONFIRMING_OUTCOMES = ("corrected", "pending_follow_up", "violation", "obstructed")


def rollover_settings(policy: Policy) -> Rollover:
    """The policy's ``rollover`` section, or the documented defaults."""
    return policy.rollover if policy.rollover is not None else Rollover()


def _in_year(day: object, year: int) -> bool:
    return hasattr(day, "year") and not pd.isna(day) and day.year == year


def _joined(values: list[str]) -> str:
    return "、".join(dict.fromkeys(v for v in values if v))


def derive_flags(enterprises: pd.DataFrame, tasks: pd.DataFrame, results: pd.DataFrame,
                 year: int, settings: Rollover) -> pd.DataFrame:
    """Next year's flags of every firm of ``enterprises`` from ``year``'s tasks and results.

    Parameters
    ----------
    enterprises : DataFrame
        This year's enterprise register (``uscc``).
    tasks : DataFrame
        Drawn tasks (``task_id``, ``quarter``, ``uscc``, ``origin``, ``merged_with``).
    results : DataFrame
        Valid results (:func:`dsr_analysis.results.load_results`).
    year : int
        The year that ends (whose events become "last year").
    settings : Rollover

    Returns
    -------
    DataFrame
        Index = ``uscc`` in register order; :data:`FLAG_COLUMNS` and their evidence
        ``penalty_cases`` (case numbers, else task ids), ``supervision_tasks`` and
        ``complaint_tasks`` (task ids). ``attrs["unmatched"]``: USCCs with a penalty, an
        order or a complaint task of the year that are not in the register.
    """
    res = results
    follow = res["follow_up"].astype(str)
    penalty_day = res[settings.penalty_year_by]
    penalised = res[(follow == "penalty") & penalty_day.map(lambda d: _in_year(d, year))]
    checked = res["date_checked"].map(lambda d: _in_year(d, year))
    order = follow.isin(settings.supervision_order_follow_ups)
    if settings.supervision_order_column and "supervision_order" in res:
        order |= res["supervision_order"].fillna(False).astype(bool)
    ordered = res[order & checked]

    year_tasks = tasks[[Quarter.parse(q).year == year for q in tasks["quarter"]]]
    complaint = year_tasks[year_tasks["origin"].isin(settings.complaint_origins)]
    merged = complaint["merged_with"].fillna("").astype(str) if "merged_with" in complaint \
        else pd.Series("", index=complaint.index)
    # a between-levels merged visit is two tasks and one visit: count the first id once
    complaint = complaint[(merged == "") | (complaint["task_id"].astype(str) < merged)]
    if settings.complaints_confirmed_only:
        confirmed = set(res.loc[res["outcome"].isin(CONFIRMING_OUTCOMES), "task_id"])
        complaint = complaint[complaint["task_id"].isin(confirmed)]

    usccs = enterprises["uscc"].astype(str)
    cases = penalised.assign(ref=[str(c) if isinstance(c, str) and c else str(t) for c, t in
                                  zip(penalised.get("case_number", penalised["task_id"]),
                                      penalised["task_id"], strict=True)])
    penalty_refs = cases.groupby("uscc")["ref"].agg(lambda v: _joined(list(v)))
    order_refs = ordered.groupby("uscc")["task_id"].agg(lambda v: _joined(list(v)))
    complaint_refs = complaint.groupby("uscc")["task_id"].agg(lambda v: _joined(list(v)))
    complaint_counts = complaint.groupby("uscc").size()
    out = pd.DataFrame(index=pd.Index(usccs.to_numpy(), name="uscc"))
    out["penalised_last_year"] = out.index.isin(penalty_refs.index)
    out["supervision_order_last_year"] = out.index.isin(order_refs.index)
    out["complaints_last_year"] = complaint_counts.reindex(out.index, fill_value=0).astype(
        np.int64).to_numpy()
    for column, refs in (("penalty_cases", penalty_refs), ("supervision_tasks", order_refs),
                         ("complaint_tasks", complaint_refs)):
        out[column] = refs.astype(object).reindex(out.index).fillna("").to_numpy(dtype=object)
    seen = set(penalty_refs.index) | set(order_refs.index) | set(complaint_refs.index)
    out.attrs["unmatched"] = sorted(seen - set(usccs))
    return out


def _next_register(enterprises: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """The register with the derived flags; a firm penalised leaves the positive list."""
    after = enterprises.copy()
    for column in FLAG_COLUMNS:
        after[column] = flags[column].to_numpy()
    after["positive_list"] = (enterprises["positive_list"].to_numpy(dtype=bool)
                              & ~flags["penalised_last_year"].to_numpy(dtype=bool))
    return after


def _deciding_label(frame: pd.DataFrame, policy: Policy, categories: np.ndarray) -> np.ndarray:
    """The Chinese label of the condition that designates each firm's category (the first
    of that category met, in the policy's order), or the default's wording."""
    labels = np.full(len(frame), "", dtype=object)
    for cond in policy.categories.conditions:
        hit = condition_mask(frame, cond) & (categories == cond.category) & (labels == "")
        labels[hit] = cond.label
    labels[labels == ""] = "未满足其他类别的指定条件（默认类别）"
    return labels


def _flag_text(before: object, after: object) -> str:
    def shown(v: object) -> str:
        return ("是" if v else "否") if isinstance(v, (bool, np.bool_)) else str(v)
    return f"{shown(before)}→{shown(after)}" if before != after else shown(after)


def category_changes(before: pd.DataFrame, after: pd.DataFrame, flags: pd.DataFrame,
                     policy: Policy, year: int) -> pd.DataFrame:
    """Every firm whose category changes from ``year`` to ``year + 1`` (both classified with
    ``policy``), with its flags before → after and the reason, Chinese headers."""
    cb = classify(before, policy)
    ca = classify(after, policy)
    changed = (cb["category"].to_numpy() != ca["category"].to_numpy())
    label = _deciding_label(ca, policy, ca["category"].to_numpy())
    rows = []
    for i in np.flatnonzero(changed):
        b, a, f = before.iloc[i], after.iloc[i], flags.iloc[i]
        why = []
        if b["penalised_last_year"] != a["penalised_last_year"]:
            why.append(f"{year}年受到行政处罚（{f['penalty_cases']}）" if a["penalised_last_year"]
                       else f"{year}年未受到行政处罚（此前年度的处罚不延续）")
        if b["positive_list"] and not a["positive_list"]:
            why.append(f"因{year}年受到行政处罚移出正面清单")
        if b["supervision_order_last_year"] != a["supervision_order_last_year"]:
            why.append(f"{year}年被挂牌督办（{f['supervision_tasks']}）"
                       if a["supervision_order_last_year"] else f"{year}年未被挂牌督办（不延续）")
        if b["complaints_last_year"] != a["complaints_last_year"]:
            why.append(f"{year}年投诉举报检查{a['complaints_last_year']}次（{f['complaint_tasks']}）"
                       if a["complaints_last_year"] else
                       f"{year}年无投诉举报检查（{year - 1}年的{b['complaints_last_year']}次不延续）")
        why.append(f"{year + 1}年为{CATEGORY_ZH[ca['category'].iloc[i]]}：{label[i]}")
        rows.append({
            "所属单位": policy.unit_names.get(a["unit"], a["unit"]),
            "统一社会信用代码": a["uscc"], "企业名称": a["name"],
            f"受到行政处罚（{year - 1}年→{year}年）":
                _flag_text(b["penalised_last_year"], a["penalised_last_year"]),
            "正面清单": _flag_text(b["positive_list"], a["positive_list"]),
            f"被挂牌督办（{year - 1}年→{year}年）":
                _flag_text(b["supervision_order_last_year"], a["supervision_order_last_year"]),
            f"投诉举报次数（{year - 1}年→{year}年）":
                _flag_text(int(b["complaints_last_year"]), int(a["complaints_last_year"])),
            f"{year}年类别": CATEGORY_ZH[cb["category"].iloc[i]],
            f"{year + 1}年类别": CATEGORY_ZH[ca["category"].iloc[i]],
            "变化原因": "；".join(why),
        })
    table = pd.DataFrame(rows)
    table.insert(0, "序号", range(1, len(table) + 1))
    return table


def category_counts(before: pd.DataFrame, after: pd.DataFrame, policy: Policy,
                    year: int) -> pd.DataFrame:
    """Firms per unit and category in ``year`` and ``year + 1`` (both classified with
    ``policy``), with the change and a total per unit; Chinese headers."""
    cb = classify(before, policy)["category"]
    ca = classify(after, policy)["category"]
    units = before["unit"].to_numpy()
    rows = []
    for unit in [u.id for u in policy.units if (units == u.id).any()]:
        mine = units == unit
        total_b = total_a = 0
        for cat in CATEGORIES:
            nb, na = int(((cb == cat).to_numpy() & mine).sum()), int(((ca == cat).to_numpy()
                                                                        & mine).sum())
            total_b, total_a = total_b + nb, total_a + na
            rows.append((policy.unit_names[unit], CATEGORY_ZH[cat], nb, na, na - nb))
        rows.append((policy.unit_names[unit], "合计", total_b, total_a, total_a - total_b))
    return pd.DataFrame(rows, columns=["所属单位", "监管类别", f"{year}年", f"{year + 1}年", "增减"])


@dataclass(frozen=True)
class RolloverResult:
    """What :func:`rollover` wrote.

    Attributes
    ----------
    year : int
        The new year (the register's "last year" is ``year - 1``).
    directory : Path
        The new register directory.
    paths : tuple of Path
        The register files written (enterprises first).
    report : Path
        The change report (XLSX).
    changes : DataFrame
        The firms whose category changes (the report's first sheet).
    counts : DataFrame
        Firms per unit and category before and after (the second sheet).
    flags : DataFrame
        The derived flags and their evidence per USCC (:func:`derive_flags`).
    left_positive_list : int
        Firms taken off the positive list (penalised in the year).
    """

    year: int
    directory: Path
    paths: tuple[Path, ...]
    report: Path
    changes: pd.DataFrame
    counts: pd.DataFrame
    flags: pd.DataFrame
    left_positive_list: int = 0

    def summary(self) -> str:
        f = self.flags
        return (f"{self.year}年检查对象名录库：{len(f)} 户企业，上年度受到行政处罚 "
                f"{int(f['penalised_last_year'].sum())} 户，上年度挂牌督办 "
                f"{int(f['supervision_order_last_year'].sum())} 户，上年度有投诉举报 "
                f"{int((f['complaints_last_year'] > 0).sum())} 户，移出正面清单 "
                f"{self.left_positive_list} 户；类别变化 {len(self.changes)} 户")


def _target_dir(target: Path, source: Path, replace: bool = False) -> None:
    """Refuse the source directory (also as a folder above or below it) and a non-empty
    one (unless ``replace``)."""
    t, src = target.resolve(), source.resolve()
    if t == src or src in t.parents or t in src.parents:
        raise DsrError(_("{target}: the new registers cannot be written over the source "
                         "registers ({source}); give a new directory (--to)").format(
                             target=target, source=source))
    if target.exists():
        if not target.is_dir():
            raise FileSystemError(_("{target}: a file where the new register directory "
                                    "belongs").format(target=target))
        if any(target.iterdir()) and not replace:
            raise DsrError(_("{target}: the directory is not empty; the new registers go into "
                             "a new or empty directory (--to)").format(target=target))


def _report(changes: pd.DataFrame, counts: pd.DataFrame, policy: Policy, year: int,
            unmatched: list[str], settings: Rollover, demo: bool,
            units: tuple[str, ...] = ()) -> tuple[TableDocument, ...]:
    """The change report's two tables; issued by the bureau of the register's one unit, else
    by the area level."""
    issuer = policy.authority(units[0] if len(units) == 1 else None)
    made = (f"{year + 1}年度“双随机、一公开”实施方案尚未确定：两个年度均按现行《{policy.name}》的"
            "分类条件测算，如分类条件调整，以新方案为准。")
    basis = {"date_checked": "检查日期", "date_follow_up_closed": "处置办结（结案）日期"}
    how = (f"上年度受到行政处罚：{year}年立案处罚的检查结果（以{basis[settings.penalty_year_by]}"
           f"计年度）；上年度挂牌督办：{year}年检查结果标注挂牌督办"
           + (f"或后续处置为{'、'.join(FOLLOW_UP_ZH[f] for f in settings.supervision_order_follow_ups)}"
              if settings.supervision_order_follow_ups else "")
           + f"；上年度投诉举报次数：{year}年任务来源为"
           f"{'、'.join(ORIGIN_ZH.get(o, o) for o in settings.complaint_origins)}"
           "的抽查任务数" + ("（仅发现问题的）" if settings.complaints_confirmed_only else "")
           + "。三项均按当年重新计算，此前年度的标记不延续；当年受到行政处罚的企业移出正面清单。")
    notes = [made, how]
    if unmatched:
        notes.append(f"{len(unmatched)} 户企业有{year}年处罚、督办或投诉任务但已不在检查对象名录库中，"
                     f"未计入：{'、'.join(unmatched[:20])}{'等' if len(unmatched) > 20 else ''}。")
    end = Quarter(year, 4).end
    common = dict(unit=issuer, unit_label="制表单位", date=end, date_label="数据截止日期",
                  as_of=end, period=f"{year}年度检查结果及抽查任务", demo=demo,
                  signatures=("制表人", "审核人"))
    first = TableDocument(title=f"{issuer}{year + 1}年度检查对象类别变化情况",
                          table=Table(changes, wrap_em=30), notes=tuple(notes), **common)
    second = TableDocument(title=f"{issuer}{year}—{year + 1}年度检查对象分类统计",
                           table=Table(counts), notes=(made,), **common)
    return first, second


def rollover(year: int, ledger: str | Path, results: str | Path, policy: Policy,
             outputs: str | Path, registers_dir: str | Path | None = None,
             to: str | Path | None = None, demo: bool = False,
             replace: bool = False) -> RolloverResult:
    """Write the registers of ``year`` from those of ``year - 1`` (``dsr rollover``).

    Parameters
    ----------
    year : int
        The new year (e.g. 2024).
    ledger : path
        The draw ledger holding the tasks of ``year - 1``.
    results : path
        The results register of ``year - 1`` (validated against the ledger).
    policy : Policy
        Unit names, the category conditions (both years are classified with it) and the
        optional ``rollover`` settings.
    outputs : path
        Folder of the report (``OUTPUTS/rollover-YEAR/``) and default parent of the new
        registers.
    registers_dir : path, optional
        This year's register directory; default: the directory the ledger's last draw of
        ``year - 1`` was made on (its files must still have the committed digests).
    to : path, optional
        The new register directory (new or empty); default ``OUTPUTS/registers-YEAR``.
    demo : bool
        Mark the report 演示数据.
    replace : bool
        Replace a non-empty ``to`` (an earlier rollover, e.g. a re-run demo) as a whole; never
        the source. Default False: refused.
    """
    last = year - 1
    if registers_dir is not None:
        source = register_directory(registers_dir)
    else:
        source = committed_registers(ledger, Quarter(last, 4)).directory
    outputs = Path(outputs)
    target = Path(to) if to is not None else outputs / f"registers-{year}"
    _target_dir(target, source, replace)
    registers = load_registers(source, units=policy.unit_names)
    tasks = load_draw_tasks(ledger)
    if not any(Quarter.parse(q).year == last for q in tasks["quarter"]):
        years = sorted({Quarter.parse(q).year for q in tasks["quarter"]})
        raise DsrError(_("{ledger}: no task of {last} in the ledger, so nothing to derive the "
                         "{year} register from (--year is the new year; the ledger holds "
                         "{years})").format(ledger=ledger, last=last, year=year,
                                            years=", ".join(map(str, years)) or _("no draw")))
    frame = load_results(results, tasks)
    settings = rollover_settings(policy)
    flags = derive_flags(registers.enterprises, tasks, frame, last, settings)
    after = _next_register(registers.enterprises, flags)
    changes = category_changes(registers.enterprises, after, flags, policy, last)
    counts = category_counts(registers.enterprises, after, policy, last)

    stage = target.parent / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    old = target.parent / f".{target.name}.{os.getpid()}.old"
    try:
        paths = _write_registers(registers, after, stage)
        if target.exists():
            os.replace(target, old)  # empty, or replaced as a whole (checked above)
        os.replace(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    paths = tuple(target / p.name for p in paths)
    from .documents.registercopy import write_tables_workbook  # heavy: openpyxl

    units = tuple(dict.fromkeys(registers.enterprises["unit"]))
    first, second = _report(changes, counts, policy, last, flags.attrs["unmatched"], settings,
                            demo, units)
    report = write_tables_workbook([("类别变化", first), ("类别统计", second)],
                                   outputs / f"rollover-{year}" / f"category-changes-{year}.xlsx")
    left = int((registers.enterprises["positive_list"] & ~after["positive_list"]).sum())
    return RolloverResult(year, target, paths, report, changes, counts, flags, left)


def _write_registers(registers, after: pd.DataFrame, stage: Path) -> list[Path]:
    """The enterprise file with the derived flags, the other register files copied."""
    from .documents.registercopy import copy_file, write_register_copy  # heavy: openpyxl

    source = Path(registers.sources["enterprises"])
    cells, problems = read_cells(source, known_headers("enterprises"),
                                 required_headers("enterprises"))
    if cells is None:  # it was read a moment ago
        raise DsrError(_("{source}: cannot be read again: {problem}").format(
            source=source, problem=problems[0] if problems else ""))
    rows = registers.rows["enterprises"]
    positions = {canonical_column(h, "enterprises"): i for i, h in enumerate(cells.header)}
    changes = {}
    left = registers.enterprises["positive_list"].to_numpy(dtype=bool) \
        & ~after["positive_list"].to_numpy(dtype=bool)
    changes[positions["positive_list"]] = {int(r): False for r in rows[left]}
    for column in FLAG_COLUMNS:
        values = after[column].to_numpy()
        changes[positions[column]] = {int(r): (bool(v) if column != "complaints_last_year"
                                               else int(v)) for r, v in zip(rows, values,
                                                                            strict=True)}
    paths = [write_register_copy(source, stage, cells, changes)]
    for name, path in registers.sources.items():
        if name != "enterprises":
            paths.append(copy_file(path, stage))
    return paths

