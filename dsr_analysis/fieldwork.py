"""Field work after the draw: the teams' task sheets (检查任务单) and the printable task list.

``dsr tasks`` builds, for every unit of a quarter's valid draws, from the ledger's internal
part (teams, experts, items; :func:`dsr_analysis.draw.ledger.load_draw_tasks`):

- the **task sheets of each team** (one official document per team, DOCX and PDF, to hand to
  that team alone: the team's members and expert, then its tasks) and of the whole unit (the
  office's copy, DOCX and PDF): an overview of the
  teams (检查组: the tasks drawn for one set of inspectors), then every task on a page of its
  own - object, USCC, the address, telephone and legal representative when the enterprise
  register has them (optional columns :data:`~dsr_analysis.schema.CONTACT_COLUMNS`), items
  with their legal basis, method, joint partners, inspectors and expert - with the sign-off
  lines 检查人员（签字） / 被检查单位意见及负责人（签字） / 日期, because each task is signed on
  its own. Marked 内部资料 注意保密 on every page: the drawn list is confidential until the
  visit;
- the **task list** (an official table, XLSX and PDF, A4 landscape at a legible print scale):
  one row per task, grouped by team, Chinese values only - tickets and inclusion
  probabilities stay in the record.

The address, contact and legal basis are not part of the draw record (adding them would change
the record format of every draw): they are read from the register files the draw was made
on, found by the digests the ledger recorded (:mod:`dsr_analysis.draw.binding`); a register
file that is not the committed one is refused (exit 1) rather than printed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .categories import CATEGORY_ZH
from .documents import (Heading, OfficialDocument, PageBreak, Paragraph, Table, TableDocument,
                        write_forms)
from .draw.binding import committed_files, file_mismatches, resolve_project_path
from .draw.ledger import Entry, entries, load_draw_tasks
from .draw.outputs import output_dir
from .draw.record import JOINT_ZH, METHOD_ZH
from .labels import BUSINESS_LINE_ZH
from .errors import DsrError, FieldworkError, Problem, RegisterError
from .i18n import _
from .periods import Quarter, date_zh
from .policy import Policy
from .registers import read_register, register_directory
from .schema import CONTACT_COLUMNS

#: The confidentiality mark of the task sheets and the task list (not a state secret: the
#: drawn list is kept from the objects until the visit).
CONFIDENTIAL_MARK = "内部资料 注意保密"
#: Labels of the contact columns on a task sheet.
CONTACT_LABELS = {"address": "详细地址", "contact": "联系电话",
                  "legal_representative": "法定代表人"}
#: The sign-off lines of every task, in order.
SIGN_OFF = ("检查人员（签字）", "被检查单位意见及负责人（签字）", "日期")
#: Business lines in Chinese (the first accepted spelling of the register).
LINE_ZH = BUSINESS_LINE_ZH
#: Why a task got its method (the draw's reasons, by their start), in Chinese.
METHOD_REASON_ZH = (
    ("re-inspection", "责令改正后复查，现场检查"),
    ("origin ", "任务来源须现场检查"),
    ("inter-departmental joint visit", "部门联合抽查，现场检查"),
    ("internal joint visit", "内部联合抽查，多个业务条线一次检查"),
    ("joint visit merged with", "与另一层级同期抽中，合并为一次联合检查"),
    ("positive list without off-site", "正面清单企业，不具备非现场监管条件"),
    ("positive list", "正面清单企业，非现场检查全覆盖"),
    ("off-site capable", "具备非现场监管条件，优先科技检查"),
    ("off-site facilities incomplete", "非现场监管设施不完善，现场检查"),
)
SIGN_BLANK = "____________________"
#: Texts of the task list wrap at 13 characters: every column at its widest still prints at
#: >= 70 % on A4 landscape (9 columns: 序号 … 检查人员; tested).
LIST_WRAP_EM = 13.0


@dataclass(frozen=True)
class Team:
    """A 检查组: the inspectors drawn together for one or more tasks of a unit.

    Attributes
    ----------
    number : int
        1, 2, … in the order of the team's first task id.
    inspectors : tuple of (id, name, business line in Chinese)
    task_ids : tuple of str
    """

    number: int
    inspectors: tuple[tuple[str, str, str], ...]
    task_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"第{self.number}组"

    @property
    def names(self) -> str:
        return "、".join(name for _, name, _ in self.inspectors)


@dataclass(frozen=True)
class UnitFieldwork:
    """The field-work documents of one unit's tasks in one valid draw.

    Attributes
    ----------
    unit, unit_name : str
    quarter : str
    entry : Entry
        The ledger entry of the draw.
    folder : Path
        Where the files go (``{draw folder}/internal/task-sheets/{unit}``).
    teams : tuple of Team
    sheets : OfficialDocument
        The task sheets of every team (the office's copy).
    task_list : TableDocument
        The printable task list.
    contacts : tuple of str
        The contact columns the enterprise register has (empty: none printed).
    team_sheets : tuple of OfficialDocument
        The task sheets of each team alone, in team order (what a team is handed).
    """

    unit: str
    unit_name: str
    quarter: str
    entry: Entry
    folder: Path
    teams: tuple[Team, ...]
    sheets: OfficialDocument
    task_list: TableDocument
    contacts: tuple[str, ...]
    team_sheets: tuple[OfficialDocument, ...] = ()


# --------------------------------------------------------------------------------------
# Inputs: the valid draws, and the register details the record does not hold
# --------------------------------------------------------------------------------------
def quarter_tasks(ledger: str | Path, quarter: str, unit: str | None = None
                  ) -> tuple[pd.DataFrame, dict[int, Entry]]:
    """The tasks of a quarter's valid draws (of ``unit`` when given) and their entries by
    ``seq``; :class:`FieldworkError` naming what the ledger holds when there is none."""
    q = Quarter.parse(quarter)
    all_entries = entries(ledger)
    tasks = load_draw_tasks(ledger, q.label)
    if not len(tasks):
        drawn = sorted({e.quarter for e in all_entries if e.is_draw})
        raise FieldworkError(_("{ledger}: no draw of {quarter} in the ledger (quarters drawn: "
                               "{drawn}); nothing was written").format(
                                   ledger=ledger, quarter=q.label,
                                   drawn=", ".join(drawn) or _("none")))
    if unit is not None:
        if unit not in set(tasks["unit"]):
            units = sorted(set(tasks["unit"]))
            raise FieldworkError(_("{ledger}: unit '{unit}' has no task in the draws of "
                                   "{quarter} (units drawn: {units}); nothing was "
                                   "written").format(ledger=ledger, unit=unit, quarter=q.label,
                                                     units=", ".join(units)))
        tasks = tasks[tasks["unit"] == unit]
    by_seq = {e.seq: e for e in all_entries}
    return tasks.reset_index(drop=True), {int(s): by_seq[int(s)] for s in set(tasks["ledger_seq"])}


@dataclass(frozen=True)
class RegisterDetails:
    """What a task sheet prints from the registers beyond the record: per USCC the contact
    columns present, per item id its legal basis."""

    contacts: dict[str, dict[str, str]]
    columns: tuple[str, ...]
    legal_basis: dict[str, str]


def register_details(entry: Entry, registers_dir: str | Path | None = None) -> RegisterDetails:
    """Read the enterprise and item registers the draw of ``entry`` was made on (from
    ``registers_dir`` when given, else the directory the record names), after checking
    their SHA-256 against the record's; :class:`RegisterError` naming the file and both
    digests otherwise."""
    directory, files = committed_files(entry)
    needed = {k: v for k, v in files.items() if k in ("enterprises", "items")}
    folder = Path(registers_dir) if registers_dir is not None else resolve_project_path(directory)
    what = _("ledger entry #{seq} (draw of {quarter}, units {units})").format(
        seq=entry.seq, quarter=entry.quarter, units=", ".join(entry.units))
    if registers_dir is not None:
        register_directory(folder)
    problems = file_mismatches(folder, needed, what)
    if problems:
        hint = (_("pass the directory of the register files {what} was made on "
                  "(--registers)").format(what=what)
                if registers_dir is not None else
                _("the committed register directory {folder} no longer holds them: pass the "
                  "directory that does (--registers DIR)").format(folder=folder))
        raise RegisterError([*problems, _problem(folder, hint)])
    units = entry.record["inputs"].get("unit_names") or None
    frames = {}
    for name, info in needed.items():
        frame, found = read_register(folder / info["name"], name, units)
        if found:
            raise RegisterError(found)
        frames[name] = frame
    firms = frames["enterprises"]
    present = tuple(c for c in CONTACT_COLUMNS if c in firms and (firms[c] != "").any())
    contacts = {}
    if present:
        for row in firms[["uscc", *present]].itertuples(index=False):
            contacts[row[0]] = {c: v for c, v in zip(present, row[1:], strict=True) if v}
    items = frames["items"]
    return RegisterDetails(contacts, present,
                           dict(zip(items["item_id"], items["legal_basis"], strict=True)))


def _problem(path: Path, message: str) -> Problem:
    return Problem(str(path), 0, "-", message)


# --------------------------------------------------------------------------------------
# Teams and the Chinese cells of a task
# --------------------------------------------------------------------------------------
def teams_of(tasks: pd.DataFrame, inspectors: Mapping[str, Mapping]) -> tuple[Team, ...]:
    """The teams of a unit's tasks: one per set of inspectors, numbered in the order of
    their first task id."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for task_id, ids in sorted(zip(tasks["task_id"], tasks["inspector_ids"], strict=True)):
        key = tuple(sorted(i for i in ids.split(";") if i))
        groups.setdefault(key, []).append(task_id)
    teams = []
    for n, (key, task_ids) in enumerate(groups.items(), start=1):
        members = tuple((i, inspectors.get(i, {}).get("name", i),
                         LINE_ZH.get(inspectors.get(i, {}).get("business_line", ""), ""))
                        for i in key)
        teams.append(Team(n, members, tuple(task_ids)))
    return tuple(teams)


def method_zh(task: Mapping, short: bool = False) -> str:
    """The method in Chinese: 现场检查, or 科技检查 / 其他检查 (both off-site: 非现场; said
    unless ``short``)."""
    detail = METHOD_ZH.get(task["method_detail"], "")
    if task["method"] == "onsite":
        return detail or "现场检查"
    if short:
        return detail or "非现场检查"
    return f"{detail}（非现场）" if detail else "非现场检查"


def method_reason_zh(reason: str) -> str:
    """The draw's reason for the method in Chinese ("" when not known)."""
    for start, text in METHOD_REASON_ZH:
        if reason.startswith(start):
            return text
    return ""


def joint_zh(task: Mapping, short: bool = False) -> str:
    """内部联合抽查 / 部门联合抽查（联合部门：…）, "" for a check of one business line;
    ``short``: 内部联合 / 部门联合（…） for the task list."""
    label = JOINT_ZH.get(task["joint_type"], "")
    if short:
        label = label.removesuffix("抽查")
    if label and task["joint_type"] == "inter_departmental" and task["partner_department"]:
        partner = task["partner_department"]
        return f"{label}（{partner}）" if short else f"{label}（联合部门：{partner}）"
    return label


def _lines_zh(text: str) -> str:
    return "、".join(dict.fromkeys(LINE_ZH.get(x, x) for x in text.split(";") if x))


# --------------------------------------------------------------------------------------
# The documents
# --------------------------------------------------------------------------------------
def _task_blocks(task: Mapping, team: Team, k: int, record: Mapping,
                 details: RegisterDetails) -> list:
    """The page of one task: heading, particulars, items, sign-off."""
    items = record["inputs"]["items"]
    contact = details.contacts.get(task["uscc"], {})
    rows = [("任务编号", task["task_id"]), ("检查对象", task["enterprise_name"]),
            ("统一社会信用代码", task["uscc"])]
    rows += [(CONTACT_LABELS[c], contact[c]) for c in details.columns if contact.get(c)]
    rows += [("行业", task["industry"]),
             ("监管类别", CATEGORY_ZH.get(task["category"], "")),
             ("检查方式", method_zh(task))]
    reason = method_reason_zh(task["method_reason"])
    if reason:
        rows.append(("检查方式依据", reason))
    if joint_zh(task):
        rows.append(("联合抽查", joint_zh(task)))
    follows = (record["inputs"].get("follow_ups") or {}).get(task["unit"], {}).get(task["uscc"])
    if follows:  # a re-inspection (复查): the checks whose orders to correct it follows up
        rows.append(("复查事由", f"原检查任务{'、'.join(follows)}责令改正，本次复查整改情况"))
    members = "、".join(f"{name}（{i}，{line}）" if line else f"{name}（{i}）"
                       for i, name, line in team.inspectors)
    rows.append(("检查人员", f"{team.label}：{members}"))
    if task["expert_name"]:
        rows.append(("专家", task["expert_name"]))
    particulars = pd.DataFrame(rows, columns=["项目", "内容"])
    ids = [i for i in task["item_id"].split(";") if i]
    item_rows = [(n, items.get(i, {}).get("name", i), details.legal_basis.get(i, "") or None)
                 for n, i in enumerate(ids, start=1)]
    item_table = pd.DataFrame(item_rows, columns=["序号", "抽查事项", "检查依据"])
    n_tasks = len(team.task_ids)
    return [
        Heading(f"{team.label}　检查任务{k}/{n_tasks}", level=1),
        Table(particulars),
        Table(item_table),
        Paragraph(f"{SIGN_OFF[0]}：{SIGN_BLANK}", indent=False),
        Paragraph(f"{SIGN_OFF[1]}：", indent=False),
        Paragraph("", indent=False),
        Paragraph(f"{' ' * 12}{SIGN_BLANK}", indent=False),
        Paragraph(f"{SIGN_OFF[2]}：　　　　年　　月　　日", indent=False),
    ]


def task_sheets(tasks: pd.DataFrame, teams: Sequence[Team], record: Mapping, entry: Entry,
                details: RegisterDetails, authority: str, unit_name: str) -> OfficialDocument:
    """The task sheets of one unit (see the module docstring)."""
    q = Quarter.parse(record["quarter"])
    by_id = {t["task_id"]: t for t in tasks.to_dict("records")}
    overview = pd.DataFrame(
        [(t.label, t.names, "、".join(dict.fromkeys(
            by_id[i]["expert_name"] for i in t.task_ids if by_id[i]["expert_name"])) or None,
          len(t.task_ids), "、".join(t.task_ids)) for t in teams],
        columns=["检查组", "执法人员", "专家", "任务数", "任务编号"])
    head = [Heading("一、检查组一览"), Table(overview)]
    return _sheets(f"{unit_name}{q.label_zh}“双随机”抽查检查任务单",
                   f"共{len(tasks)}项任务、{len(teams)}个检查组", head, teams, by_id, record,
                   entry, details, authority)


def team_sheet(tasks: pd.DataFrame, team: Team, record: Mapping, entry: Entry,
               details: RegisterDetails, authority: str, unit_name: str) -> OfficialDocument:
    """The task sheets of one team alone (handed to that team: it sees no other team's
    objects): its members and expert, then each of its tasks on a page of its own."""
    q = Quarter.parse(record["quarter"])
    by_id = {t["task_id"]: t for t in tasks.to_dict("records")}
    members = pd.DataFrame(
        [(n, name, i, line or None) for n, (i, name, line) in enumerate(team.inspectors, 1)],
        columns=["序号", "执法人员", "执法人员编号", "业务条线"])
    experts = "、".join(dict.fromkeys(by_id[i]["expert_name"] for i in team.task_ids
                                     if by_id[i]["expert_name"]))
    scope = f"{team.label}共{len(team.task_ids)}项任务" + (f"，随行专家：{experts}" if experts
                                                         else "")
    return _sheets(f"{unit_name}{q.label_zh}“双随机”抽查检查任务单（{team.label}）", scope,
                   [Heading("检查组成员"), Table(members)], (team,), by_id, record, entry,
                   details, authority)


#: What every task sheet says of its use, after what it holds.
SHEET_RULES = ("每项任务单独成页，检查结束后由检查人员和被检查单位负责人分别签字。抽查结果公示前，"
               "本任务单及所列检查对象不得向检查对象或其他无关人员透露。")


def _sheets(title: str, scope: str, head: list, teams: Sequence[Team], by_id: Mapping,
            record: Mapping, entry: Entry, details: RegisterDetails,
            authority: str) -> OfficialDocument:
    """Task sheets: what they rest on and hold (``scope``), ``head`` (the teams), then every
    task of ``teams`` on a page of its own."""
    missing = [CONTACT_LABELS[c] for c in CONTACT_COLUMNS if c not in details.columns]
    intro = (f"本任务单依据{date_zh(_date(entry))}的抽取结果（抽取记录第{entry.seq}号）编制，"
             f"{scope}。{SHEET_RULES}")
    if missing:
        intro += f"检查对象名录库未登记{'、'.join(missing)}，本任务单未列出。"
    blocks: list = [Paragraph(intro), *head]
    for team in teams:
        for k, task_id in enumerate(team.task_ids, start=1):
            blocks += [PageBreak(), *_task_blocks(by_id[task_id], team, k, record, details)]
    return OfficialDocument(title=title, issuer=authority, date=_date(entry),
                            blocks=tuple(blocks), classification=CONFIDENTIAL_MARK,
                            signed=False)


def task_list(tasks: pd.DataFrame, teams: Sequence[Team], entry: Entry, authority: str,
              unit_name: str) -> TableDocument:
    """The printable task list of one unit: one row per task, grouped by team."""
    q = Quarter.parse(entry.quarter)
    by_id = {t["task_id"]: t for t in tasks.to_dict("records")}
    rows = []
    for team in teams:
        for task_id in team.task_ids:
            t = by_id[task_id]
            people = team.names + (f"；专家：{t['expert_name']}" if t["expert_name"] else "")
            rows.append((len(rows) + 1, team.label, task_id, t["enterprise_name"], t["uscc"],
                         method_zh(t, short=True), t["item_name"], joint_zh(t, short=True) or None,
                         people))
    frame = pd.DataFrame(rows, columns=["序号", "检查组", "任务编号", "检查对象",
                                        "统一社会信用代码", "检查方式", "抽查事项", "联合抽查",
                                        "检查人员"])
    return TableDocument(
        title=f"{unit_name}{q.label_zh}“双随机”抽查任务清单",
        table=Table(frame, wrap_em=LIST_WRAP_EM), unit=authority, unit_label="编制单位", date=_date(entry),
        date_label="编制日期", signatures=("编制人", "审核人", "负责人"),
        classification=CONFIDENTIAL_MARK,
        notes=(f"{CONFIDENTIAL_MARK}：抽查结果公示前不得向检查对象或其他无关人员透露。",
               "科技检查、其他检查为非现场检查。",
               f"依据抽取记录第{entry.seq}号编制；共{len(tasks)}项任务、{len(teams)}个检查组，"
               "各任务的检查任务单单独签字。"))


def _date(entry: Entry) -> dt.date:
    """The date of a draw (its ledger entry, UTC), never the machine clock at print time."""
    return dt.date.fromisoformat(entry.created_at[:10])


def build_fieldwork(ledger: str | Path, quarter: str, policy: Policy, out_root: str | Path,
                    unit: str | None = None, registers_dir: str | Path | None = None
                    ) -> list[UnitFieldwork]:
    """The field-work documents of every unit (or ``unit``) of a quarter's valid draws.

    The named steps: the quarter's tasks → per draw entry: the register details (digests
    checked) → per unit: teams → task sheets → task list.
    """
    tasks, by_seq = quarter_tasks(ledger, quarter, unit)
    out = []
    for seq in sorted(by_seq):
        entry = by_seq[seq]
        record = entry.record
        details = register_details(entry, registers_dir)
        mine = tasks[tasks["ledger_seq"] == seq]
        inspectors = record["inputs"]["inspectors"]
        for unit_id in dict.fromkeys(mine["unit"]):
            unit_tasks = mine[mine["unit"] == unit_id]
            unit_name = record["inputs"].get("unit_names", {}).get(unit_id, unit_id)
            authority = _authority(policy, unit_id, unit_name)
            teams = teams_of(unit_tasks, inspectors)
            out.append(UnitFieldwork(
                unit=unit_id, unit_name=unit_name, quarter=entry.quarter, entry=entry,
                folder=output_dir(out_root, record) / "internal" / "task-sheets" / unit_id,
                teams=teams,
                sheets=task_sheets(unit_tasks, teams, record, entry, details, authority,
                                   unit_name),
                task_list=task_list(unit_tasks, teams, entry, authority, unit_name),
                contacts=details.columns,
                team_sheets=tuple(team_sheet(unit_tasks, team, record, entry, details,
                                             authority, unit_name) for team in teams)))
    return out


def _authority(policy: Policy, unit_id: str, unit_name: str) -> str:
    try:
        return policy.authority(unit_id)
    except (KeyError, ValueError, DsrError):
        return f"{unit_name}生态环境局"


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------
SHEETS_STEM = "task-sheets"
LIST_STEM = "task-list"
#: The folder of the teams' own task sheets, ``teams/team-01.docx`` …
TEAMS_DIR = "teams"


def team_stem(team: Team) -> str:
    """``team-01`` …: the file stem of a team's own task sheets."""
    return f"team-{team.number:02d}"


#: Below this many documents they are written in this process (a worker costs ~1 s to start).
PARALLEL_FROM = 12


def write_documents(jobs: Sequence[tuple[OfficialDocument | TableDocument, Path]],
                    workers: int | None = None) -> None:
    """Write every (document, stem) in its forms (:func:`~dsr_analysis.documents.write_forms`),
    on the machine's cores when there are many: a PDF costs ~0.4 s, mostly WeasyPrint's
    layout and font subsetting, and a quarter has a task sheet per team. Workers are started
    fresh (``spawn``), not forked from a process that may hold threads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers < 2 or len(jobs) < PARALLEL_FROM:
        for doc, stem in jobs:
            write_forms(doc, stem)
        return
    chunk = max(1, len(jobs) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(write_forms, [d for d, _ in jobs], [s for _, s in jobs], chunksize=chunk))


def write_fieldwork(work: UnitFieldwork) -> list[Path]:
    """Write a unit's task sheets (DOCX, PDF) and task list (XLSX, PDF) into its folder,
    replacing the folder as a whole: the documents are written into a new folder beside it,
    which then takes its place, so no file of an earlier run (e.g. of a superseded draw)
    stays beside them and a failure leaves the earlier folder as it was."""
    final = work.folder
    final.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.new-"))
    try:
        jobs = [(work.sheets, fresh / SHEETS_STEM), (work.task_list, fresh / LIST_STEM)]
        jobs += [(doc, fresh / TEAMS_DIR / team_stem(team))
                 for team, doc in zip(work.teams, work.team_sheets, strict=True)]
        write_documents(jobs)
        os.chmod(fresh, 0o777 & ~_umask())
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
            os.replace(final, old / final.name)
        os.replace(fresh, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    stems = [(SHEETS_STEM, ("docx", "pdf")), (LIST_STEM, ("xlsx", "pdf"))]
    stems += [(f"{TEAMS_DIR}/{team_stem(t)}", ("docx", "pdf")) for t in work.teams]
    return [final / f"{stem}.{ext}" for stem, exts in stems for ext in exts]


def write_quarter_fieldwork(ledger: str | Path, quarter: str, policy: Policy,
                            out_root: str | Path, unit: str | None = None,
                            registers_dir: str | Path | None = None
                            ) -> list[tuple[UnitFieldwork, list[Path]]]:
    """``dsr tasks``: build (:func:`build_fieldwork`) and write (:func:`write_fieldwork`) the
    task sheets and task list of every unit (or ``unit``) of a quarter's valid draws.
    Everything is built before anything is written, so a refused request writes nothing."""
    work = build_fieldwork(ledger, quarter, policy, out_root, unit, registers_dir)
    return [(w, write_fieldwork(w)) for w in work]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
