"""The official documents of the reports, built from the figures of :mod:`dsr_analysis.reports`.

Each function returns one :class:`~dsr_analysis.documents.OfficialDocument` (the quarterly
summary, sent up as a 报告; the evaluation notice 考核评估通报; the annual plan 年度抽查计划) or
:class:`~dsr_analysis.documents.TableDocument` (the statistics table 统计表, a monthly results
notice 抽查结果公示); :func:`dsr_analysis.documents.write_forms` writes it as DOCX/PDF or
XLSX/PDF and the notebooks display the same object as HTML.

Official text only: Chinese, dates without zero padding, no rule ids, file names or code in
the body (the clauses each figure rests on go to the appendix, for reviewers); a sentence
whose count is 0 is left out. The issuing bodies are the units' official names from the
policy (:func:`authority`). Documents built from demonstration data say so on every page.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd

from . import reports
from .categories import CATEGORY_ZH
from .documents.layout import MARK_BLANK
from .documents.model import (Attachment, Figure, Heading, OfficialDocument, Paragraph, Table,
                              TableDocument)
from .documents.layout import SIGN_BLANK
from .documents.numbers import DocumentNumber, assign_number
from .periods import date_zh, quarters_of
from .policy import Policy
from .quotas import METHOD_ZH, SUBSET_ZH
from .results import amount_zh, result_figures
from .workcalendar import statistics_due, summary_window

#: A rule id written in parentheses after a sentence, e.g. "（R4）" or "（R1、R3、R5）".
_RULE_REF = re.compile(r"（R\d+(?:[、，,]\s*R\d+)*）")


def authority(policy: Policy, unit: str) -> str:
    """The official name of a unit's bureau (:meth:`Policy.authority`)."""
    return policy.authority(unit)


def official_text(text: str) -> str:
    """``text`` without rule ids in parentheses (they belong in the appendix)."""
    return _RULE_REF.sub("", text)


def figure_png(fig, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


#: The clauses of the 2023 plan each part of the reports rests on (the reviewers' appendix).
CLAUSES = {
    "registers": "二、重点工作任务（一）持续完善“两库”信息",
    "credit": "二、重点工作任务（三）差别化分级分类监管",
    "quotas": "二、重点工作任务（四）分类确定抽查频次",
    "joint": "二、重点工作任务（五）加强联合监管",
    "mode": "二、重点工作任务（六）优选监管方式",
    "follow_up": "二、重点工作任务（七）规范工作程序",
    "public": "二、重点工作任务（八）强化信息公开",
    "evaluation": "三、保障措施（三）坚持跟踪问效，强化责任落实",
    "reporting": "工作信息报送机制（每月公开抽查结果，季度工作总结和统计表报送新区）",
}


def _upper(policy: Policy) -> str:
    """The bureau of the area level (the counties report to it)."""
    area = [u for u in policy.units if u.level == "area"]
    return authority(policy, area[0].id) if area else ""


def issue_settings(policy: Policy, unit: str, kind: str, period: str, date: dt.date,
                   title: str, numbers: str = "", upward: bool = False) -> dict:
    """The GB/T 9704 fields of a document ``unit`` issues (版头, 发文字号, 签发人, seal, 版记)
    from the policy's ``documents`` section: the 发文机关标志 (default: the authority +
    文件), the number from the register ``numbers`` (:mod:`~dsr_analysis.documents.numbers`;
    empty: a blank number to fill in by hand), the 签发人 of an ``upward`` document (blank
    when not configured), 抄送 and the 印发机关 (default: the authority's 办公室)."""
    rules = policy.document_rules.unit(unit)
    name = authority(policy, unit)
    if numbers:
        number = assign_number(numbers, unit, kind, period, date.year, rules.number_prefix,
                               title)
    else:
        number = DocumentNumber(rules.number_prefix, date.year, None)
    # an upward document names whom to ask about it in its 附注 (blank when not configured)
    annotation = (rules.contact or f"联系人及联系电话：{MARK_BLANK}") if upward else ""
    return dict(masthead=rules.masthead or f"{name}文件", number=number.text,
                signer=rules.signer if upward else None, seal=True, imprint=True,
                copy_to=tuple(rules.copy_to), printed_by=rules.printed_by or f"{name}办公室",
                annotation=annotation)


_NUMERALS = "一二三四五六七八九十"


def _clauses(pairs: list[tuple[str, str]]) -> tuple:
    """The reviewers' appendix: which clause of the plan each part rests on."""
    frame = pd.DataFrame(pairs, columns=["内容", "实施方案条款"])
    return (Heading("各项内容依据的实施方案条款", 1), Table(frame, wrap_em=22))


# --------------------------------------------------------------------------------------
# Statistics table (统计表)
# --------------------------------------------------------------------------------------
#: The statistics table's header labels as printed, "|" where a line ends: broken between
#: words only, so that 27 columns print on one landscape A4 at a legible size.
STATISTICS_HEADER_LINES = (
    "特殊|监管", "重点|监管", "一般|监管", "其中|正面|清单", "执法|人员|（人）", "在岗|持证",
    "抽查任务|（次）", "未完成", "现场|检查", "非现场|检查", "其中|停业|停产|或无法|联系",
    "联合抽查|（次）", "内部|联合", "部门|联合", "信用风险|分类结合", "运用|次数", "随机|抽查|次数",
    "已|公开", "依法|不予|公开", "发现|问题", "其中|已责令|改正", "发现|违法", "不配合|检查", "责令|整改",
    "整改|完成", "转办|移交", "移送|司法|机关", "立案|处罚", "行政|处罚", "罚没款|金额|（元）",
)
#: The marks of a statistical form (upper right), in order: label, StatisticsForm field.
STATISTICS_MARKS = (("表号", "table_number"), ("制表机关", "authority"),
                    ("批准（备案）机关", "approval_authority"),
                    ("批准（备案）文号", "approval_number"), ("有效期限", "valid_until"))
#: Who signs a statistical form, and the phone to ask about it.
STATISTICS_SIGNATURES = ("单位负责人", "统计负责人", "填表人", "联系电话")
#: Height of the statistics table's body [mm], shared by its rows (each 7 to 14 mm).
STATISTICS_BODY_MM = 60.0


def statistics_marks(policy: Policy) -> tuple[tuple[str, str], ...]:
    """The form marks of the statistics table from the policy's ``documents.statistics_form``;
    制表机关 defaults to the area level's authority, anything else not configured is blank."""
    form = policy.document_rules.statistics_form
    values = {f: getattr(form, f) if form is not None else "" for _, f in STATISTICS_MARKS}
    values["authority"] = values["authority"] or _upper(policy)
    return tuple((label, values[f]) for label, f in STATISTICS_MARKS)


def statistics_document(inputs: reports.ReportInputs, unit: str,
                        as_of: dt.date | None = None) -> TableDocument:
    """The quarterly statistics table of ``unit`` (the new-area level: every unit and the
    total), counting what was known by ``as_of`` (default: the table's own deadline), as a
    statistical form: its marks at the upper right (:func:`statistics_marks`), the
    signatures of 单位负责人, 统计负责人 and 填表人, the phone and the 报出日期 below."""
    pol, q = inputs.policy, inputs.quarter
    due = statistics_due(q, pol, inputs.calendar)
    as_of = as_of or due
    units = [u.id for u in pol.units] if pol.unit(unit).level == "area" else [unit]
    table = reports.statistics_table(inputs, units, total=len(units) > 1, as_of=as_of)
    frame = reports.statistics_table_zh(table).reset_index()
    frame.columns = pd.MultiIndex.from_tuples(
        [("单位", "单位")] + [tuple(c) for c in frame.columns[1:]])
    notes = ["完成抽查指截至数据截止日期已录入检查结果的抽查任务；已公开指截至该日已公开的结果。",
             "运用信用风险分类的占比按随机抽查计算，正面清单企业的非现场全覆盖检查不属于随机抽查，"
             "不计入分子和分母。",
             "其中正面清单指列入正面清单的一般监管对象；依法不予公开的结果只计数、不公示。",
             "其中停业停产或无法联系指检查时未发现开展本次抽查涉及的经营活动、已关闭停业或正在组织"
             "清算、通过登记的住所（经营场所）无法联系或已迁移、注销，计入完成抽查。",
             "发现问题含已责令改正（含当场整改）和待后续处理的问题；责令整改含立案处罚中同时责令"
             "限期改正的；整改完成指截至数据截止日期经复查已整改到位、后续处置已办结的；"
             "罚没款金额为截至该日已办结的处罚案件的金额。"]
    if as_of > due:
        notes.append(f"本表数据截止日期晚于报送时限（{date_zh(due)}），为报送后的更新统计。")
    lines = tuple((x.replace("|", ""), x.replace("|", "\n")) for x in STATISTICS_HEADER_LINES)
    return TableDocument(
        title=f"{q.label_zh}“双随机、一公开”监管工作统计表",
        table=Table(frame, percent=("占比",), header_lines=lines, padding_em=0.5),
        unit=authority(pol, unit), unit_label="填报单位（盖章）",
        date=min(as_of, due) if as_of <= due else as_of, date_label="报出日期",
        as_of=as_of, period=f"{date_zh(q.start)}至{date_zh(q.end)}",
        signatures=STATISTICS_SIGNATURES, notes=tuple(notes), demo=inputs.demo,
        marks=statistics_marks(pol),
        row_height_mm=max(7.0, min(14.0, STATISTICS_BODY_MM / max(len(frame), 1))))


# --------------------------------------------------------------------------------------
# Monthly results notice (抽查结果公示)
# --------------------------------------------------------------------------------------
def month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


#: Texts of a notice wrap at this many characters (items, follow-ups), so that the codes
#: and dates beside them keep one line at a legible size; names wrap only when longer than
#: 16 characters, results at 8, follow-ups (with a case number) at 12.
NOTICE_WRAP_EM = 10.0
NOTICE_WRAP_COLUMNS = (("检查对象", 16.0), ("检查结果", 8.0), ("后续处置", 12.0))
#: The one header of a notice that may need two lines, broken between its words.
NOTICE_HEADER_LINES = (("统一社会信用代码", "统一社会\n信用代码"),)
#: The ledger head's hash as a notice prints it in its statement (the full value in a note).
LEDGER_SHORT_HEX = 16


def notice_contact_lines(policy: Policy, unit: str) -> tuple[str, str]:
    """The contact and objection lines of a unit's public notice, as the policy's
    ``documents`` section gives them; a blank to fill in where it gives none."""
    rules = policy.document_rules.unit(unit)
    return (rules.contact or f"联系人及联系电话：{MARK_BLANK}",
            rules.objection or f"异议、监督电话：{MARK_BLANK}")


def ledger_statement(inputs: reports.ReportInputs, note_number: int) -> tuple[str, str]:
    """The ledger head as a notice prints it: a short statement (entry count and the first
    16 hex digits of the hash) and the note with the full value (note ``note_number``; 0 for
    the only note, printed without a number). From demonstration data: no statement, the
    note says there is no ledger."""
    if not inputs.ledger_head:
        return "", inputs.ledger_line()
    n, h = inputs.ledger_head.split(":")
    where = f"注{note_number}" if note_number else "注"
    return (f"抽取记录账本：截至本文件生成共登记 {n} 条，最新一条哈希值 "
            f"{h[:LEDGER_SHORT_HEX]}…（完整值见{where}）。",
            f"抽取记录账本最新一条的完整哈希值：{h}，可据此核验已公布的抽取记录。")


def notice_document(inputs: reports.ReportInputs, unit: str, year: int, month: int
                    ) -> TableDocument:
    """The results notice of ``year-month`` (public): every result published in the month,
    never a confidential one; the withheld count only when there is one. It ends with the
    ledger head in short (the full value in the last note), the contact and objection lines
    (:func:`notice_contact_lines`) and the issuing bureau and date under a place for the
    seal."""
    pol = inputs.policy
    notice = reports.results_notice(inputs, unit, year, month)
    notes = []
    if notice.withheld:
        notes.append(f"本月另有{notice.withheld}条检查结果涉及国家秘密、国家安全或公共安全，"
                     "依法不予公开。")
    if notice.table.empty:
        notes.append("本月无新公开的抽查结果。")
    notes += [official_text(line) + "。" for line in _plain_redraws(inputs, unit)]
    statement, full = ledger_statement(inputs, len(notes) + 1 if notes else 0)
    notes.append(full)
    return TableDocument(
        title=f"{pol.unit_names[unit]}{year}年{month}月“双随机、一公开”抽查结果公示",
        table=Table(notice.table, wrap_em=NOTICE_WRAP_EM, wrap_columns=NOTICE_WRAP_COLUMNS,
                    header_lines=NOTICE_HEADER_LINES),
        unit=authority(pol, unit),
        unit_label="公示单位", date=month_end(year, month), date_label="公示日期",
        as_of=month_end(year, month), period=f"{year}年{month}月公开的抽查结果",
        signatures=(), notes=tuple(notes), demo=inputs.demo, public=True,
        statements=tuple(x for x in (statement, *notice_contact_lines(pol, unit)) if x),
        sealed=True)


def _plain_redraws(inputs: reports.ReportInputs, unit: str) -> list[str]:
    """Re-draw lines as plain text (the documents escape for themselves)."""
    import html

    return [html.unescape(line) for line in inputs.redraw_lines(unit)]


# --------------------------------------------------------------------------------------
# Quarterly summary (工作总结)
# --------------------------------------------------------------------------------------
def _progress_table(progress: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "类别": progress["category"].map(CATEGORY_ZH), "范围": progress["subset"].map(SUBSET_ZH),
        "方式": progress["method"].map(METHOD_ZH), "对象数": progress["population"],
        "季度最低抽查数": progress["quota"], "已抽取": progress["drawn"],
        "已完成": progress["done"], "完成率": progress["progress"].astype(float),
        "是否达标": np.where(progress["met"], "达标", "未达标"),
    })


def summary_document(inputs: reports.ReportInputs, unit: str,
                     numbers: str = "") -> OfficialDocument:
    """The quarterly summary of ``unit`` as of the last day it is due, sent up as a 报告
    (GB/T 9704: 版头 with the 签发人, 主送 the area level's bureau, 存在问题 and 下一步工作
    drawn from the figures, the tables as 附件, the 版记). ``numbers``: the register of
    document numbers (empty: the number is left blank)."""
    pol, q = inputs.policy, inputs.quarter
    opens, due = summary_window(q, pol, inputs.calendar)
    progress = reports.summary_progress(inputs, unit, as_of=due)
    name = pol.unit_names[unit]
    met, total = int(progress["met"].sum()), len(progress)
    heads = iter(_NUMERALS)
    body: list = [Paragraph(f"按照《{pol.name}》要求，现将{q.label_zh}“双随机、一公开”监管工作"
                            "情况报告如下。"),
                  Heading(f"{next(heads)}、抽查任务完成情况", 1)]
    missed = progress[~progress["met"]]
    text = (f"本季度共有{total}项季度最低抽查要求，最低抽查{int(progress['quota'].sum())}次；"
            f"已抽取{int(progress['drawn'].sum())}次，截至{date_zh(due)}已完成"
            f"{int(progress['done'].sum())}次，{met}项要求已达到。")
    if len(missed):
        text += "未达到的是：" + "；".join(
            f"{CATEGORY_ZH[r.category]}（{SUBSET_ZH[r.subset]}）已完成{r.done}次，最低{r.quota}次"
            for r in missed.itertuples()) + "。"
    attachments = [Attachment("各类监管对象抽查完成情况", (
        Table(_progress_table(progress), title="表1 各类监管对象抽查完成情况",
              percent=("完成率",), percent_decimals=0),
        Figure(figure_png(reports.progress_figure(progress, name)), "图1 各类监管对象抽查进度")))]
    body.append(Paragraph(text + "各类监管对象的完成情况见附件1。"))
    ev = reports.evaluate(inputs, [unit], as_of=due)
    body.append(Heading(f"{next(heads)}、联合抽查与信用风险分类结合情况", 1))
    body += [Paragraph(_indicator_sentence(r)) for r in ev[ev["indicator"].isin(
        ["internal_joint_share", "inter_departmental", "credit_share"])].itertuples()]
    body.append(Heading(f"{next(heads)}、问题处置情况", 1))
    open_cases, overdue_table, overdue = _open_cases(inputs, unit, due)
    if open_cases:
        body.append(Heading("（一）本季度检查发现问题及处置", 2))
    body.append(Paragraph(_follow_up_sentence(inputs, unit, due)))
    if open_cases:
        body += [Heading("（二）后续处置案件办理情况", 2), *open_cases]
    if overdue_table is not None:
        attachments.append(Attachment("逾期未办结的后续处置案件", (overdue_table,)))
        body.append(Paragraph(f"逾期未办结的案件见附件{len(attachments)}。"))
    body.append(Heading(f"{next(heads)}、典型案例", 1))
    cases = reports.typical_cases(inputs, unit, n=3, as_of=due)
    if cases.empty:
        body.append(Paragraph("本季度未发现可公开的典型违法案例。"))
    for i, c in enumerate(cases.itertuples(), start=1):
        body.append(Heading(f"（{_NUMERALS[i - 1]}）{c.检查对象}", 2))
        body.append(Paragraph(f"{date_zh(c.检查日期)}对该单位开展“{c.抽查事项}”抽查，发现{c.问题}，"
                              f"已{c.处置}。" if c.问题 else
                              f"{date_zh(c.检查日期)}对该单位开展“{c.抽查事项}”抽查，发现违法行为，"
                              f"已{c.处置}。"))
    redraws = _plain_redraws(inputs, unit)
    if redraws:
        body.append(Heading(f"{next(heads)}、重新抽取情况", 1))
        body += [Paragraph(official_text(line) + "。") for line in redraws]
    problems, steps = summary_problems(inputs, progress, ev, overdue)
    body.append(Heading(f"{next(heads)}、存在问题", 1))
    body += [Paragraph(t) for t in problems]
    body.append(Heading(f"{next(heads)}、下一步工作", 1))
    body += [Paragraph(t) for t in steps]
    body.append(Paragraph("特此报告。"))
    appendix = _clauses([("各类监管对象最低抽查比例", CLAUSES["quotas"]),
                         ("联合抽查", CLAUSES["joint"]), ("信用风险分类结合", CLAUSES["credit"]),
                         ("后续处置", CLAUSES["follow_up"]), ("结果公开", CLAUSES["public"]),
                         ("典型案例与工作情况报送", CLAUSES["reporting"])])
    title = f"{authority(pol, unit)}关于{q.label_zh}“双随机、一公开”监管工作情况的报告"
    upward = pol.unit(unit).level != "area"
    return OfficialDocument(
        title=title, issuer=authority(pol, unit), date=due, blocks=tuple(body),
        # the area level's own report goes to a body the plan does not name: a blank to fill
        recipient=_upper(pol) if upward else SIGN_BLANK * 2, demo=inputs.demo, as_of=due,
        appendix=appendix, attachments=tuple(attachments),
        **issue_settings(pol, unit, "summary", q.label, due, title, numbers, upward=True))


def summary_problems(inputs: reports.ReportInputs, progress: pd.DataFrame, ev: pd.DataFrame,
                     overdue: int) -> tuple[list[str], list[str]]:
    """The 存在问题 and 下一步工作 paragraphs of the summary, drawn from the figures: the
    minimums not met (``progress``), the follow-up cases overdue (``overdue``), the results
    not published on time (the indicator ``results_on_time`` of ``ev``). When all is well
    the problems part says so and the next steps are the next quarter's plan only."""
    pol, q = inputs.policy, inputs.quarter
    problems: list[str] = []
    steps: list[str] = []
    missed = progress[~progress["met"]]
    if len(missed):
        names = "、".join(f"{CATEGORY_ZH[r.category]}（{SUBSET_ZH[r.subset]}）"
                         for r in missed.itertuples())
        short = int((missed["quota"] - missed["done"]).clip(lower=0).sum())
        problems.append(f"部分类别未达到季度最低抽查要求：{names}共少完成{short}次。")
        steps.append(f"对未达到最低抽查要求的{names}，分析原因，尽快组织完成抽查，确保达到"
                     "实施方案规定的抽查比例。")
    if overdue:
        problems.append(f"后续处置案件办理不够及时：{overdue}件已超过应办结日期尚未办结。")
        steps.append(f"对逾期未办结的{overdue}件后续处置案件逐件督促承办单位加快办理，按期复查，"
                     "确保问题整改到位、案件依法办结。")
    late = ev[(ev["indicator"] == "results_on_time") & ~ev["met"].astype(bool)]
    for r in late.itertuples():
        problems.append(f"抽查结果公开不够及时：{official_text(r.detail)}。")
        steps.append(f"严格执行抽查结果在检查后{pol.reporting.results_within_working_days}个工作日"
                     "内向社会公开的要求，检查结果录入后及时公开。")
    if not problems:
        problems.append("本季度各类监管对象均达到季度最低抽查要求，无逾期未办结的后续处置案件，"
                        "抽查结果均按时公开，未发现需要报告的问题。")
    nxt = q.next()
    steps.append(f"按照年度抽查计划组织开展{nxt.label_zh}“双随机、一公开”抽查工作。"
                 if nxt.year == pol.year else
                 f"总结{pol.year}年度工作，按照下一年度实施方案制定并公开年度抽查计划。")
    return [f"{'（' + _NUMERALS[i] + '）' if len(problems) > 1 else ''}{t}"
            for i, t in enumerate(problems)], \
        [f"（{_NUMERALS[i]}）{t}" if len(steps) > 1 else t for i, t in enumerate(steps)]


def _follow_up_sentence(inputs: reports.ReportInputs, unit: str, as_of: dt.date) -> str:
    """What the quarter's checks found and how it was followed up, as of ``as_of`` (a count
    of 0 is left out)."""
    q = inputs.quarter.label
    tq = inputs.tasks[(inputs.tasks["unit"] == unit) & (inputs.tasks["quarter"] == q)]
    ch = reports.checks(tq, reports.known_by(inputs.results, as_of), inputs.policy)
    f = result_figures(ch)
    found = [(f["problems_found"], "发现问题{}个"), (f["problems_corrected"], "其中已责令改正（含当场整改）{}个"),
             (f["violations"], "发现违法行为{}起"), (f["obstructed"], "不配合检查情节严重{}起"),
             (f["checks_not_operating"], "检查对象停业停产或无法联系{}户")]
    orders = f"责令整改{f['rectification_orders']}件" + (
        f"（已整改完成{f['rectified']}件）" if f["rectified"] else "")
    penalties = f"立案处罚{f['penalties']}件" + (
        f"（已办结案件罚没款{amount_zh(f['penalty_amount'])}）" if f["penalty_amount"] else "")
    done = [(f["rectification_orders"], orders), (f["handed_over"], f"转办移交{f['handed_over']}件"),
            (f["judicial_referrals"], f"移送司法机关{f['judicial_referrals']}件"),
            (f["penalties"], penalties)]
    first = "，".join(t.format(n) for n, t in found if n)
    second = "，".join(t for n, t in done if n)
    text = f"截至{date_zh(as_of)}，本季度完成抽查{len(ch)}次"
    if not first:
        return text + "，未发现问题。"
    return f"{text}，{first}。" + (f"后续处置：{second}。" if second else "")


def _open_cases(inputs: reports.ReportInputs, unit: str, as_of: dt.date
                ) -> tuple[list, Table | None, int]:
    """The unit's follow-up cases of the year still open as of ``as_of`` (后续处置台账): the
    paragraphs (count per type), the table of the overdue ones (a confidential case only
    counted; None when none is shown) and the number overdue."""
    from .followups import CASE_STATUS_ZH, case_counts, case_table_zh, open_cases

    cases = reports.follow_up_cases(inputs, as_of)
    cases = cases[cases["unit"] == unit] if len(cases) else cases
    if cases.empty:
        return [], None, 0
    pending = open_cases(cases)
    if pending.empty:
        return [Paragraph(f"截至{date_zh(as_of)}，本年度{len(cases)}件后续处置案件均已办结。")], \
            None, 0
    counts = case_counts(pending)
    open_zh, overdue_zh = CASE_STATUS_ZH["open"], CASE_STATUS_ZH["overdue"]
    total = counts.iloc[-1]
    parts = "；".join(f"{r['类型']}{r['合计']}件" + (f"（逾期{r[overdue_zh]}件）" if r[overdue_zh]
                                                  else "")
                     for r in counts.iloc[:-1].to_dict("records"))
    blocks: list = [Paragraph(
        f"截至{date_zh(as_of)}，本年度后续处置案件{len(cases)}件，已办结{len(cases) - len(pending)}件，"
        f"尚未办结{len(pending)}件（" + "，".join(
            f"{zh}{total[zh]}件" for zh in (open_zh, overdue_zh) if total[zh]) + f"）：{parts}。")]
    overdue = pending[pending["status"] == "overdue"]
    shown = overdue[~overdue["confidential"]]
    table = None
    if len(shown):
        frame = case_table_zh(shown)[["序号", "检查对象", "处置类型", "接收单位", "应办结日期",
                                      "逾期天数"]]
        table = Table(frame, title="表2 逾期未办结的后续处置案件", wrap_em=8)
    hidden = len(overdue) - len(shown)
    if hidden:
        blocks.append(Paragraph(f"另有{hidden}件涉密案件逾期，不列明细。"))
    return blocks, table, len(overdue)


def _fmt_value(indicator: str, v: float) -> str:
    return f"{v:.0f}次" if indicator == "inter_departmental" else f"{v:.1%}"


def _indicator_sentence(r) -> str:
    verdict = "达到" if r.met else "未达到"
    return (f"{r.indicator_zh}{_fmt_value(r.indicator, r.value)}（{official_text(r.detail)}），"
            f"目标不低于{_fmt_value(r.indicator, r.target)}，{verdict}目标。")


# --------------------------------------------------------------------------------------
# Evaluation notice (考核评估通报)
# --------------------------------------------------------------------------------------
def evaluation_document(inputs: reports.ReportInputs, unit: str,
                        numbers: str = "") -> OfficialDocument:
    """The new-area level's evaluation of the counties for the quarter, a 通报 sent down
    (版头 and number, seal, 版记; ``numbers``: the register of document numbers, empty:
    the number is left blank)."""
    pol, q = inputs.policy, inputs.quarter
    as_of = reports.evaluation_as_of(inputs)
    ev = reports.evaluate(inputs, as_of=as_of)
    ranks = reports.ranking(ev)
    counties = [u.id for u in pol.units if u.level == "county"]
    intro = (f"按照实施方案要求，{authority(pol, unit)}对各县{q.label_zh}“双随机、一公开”随机抽查"
             f"任务完成情况和工作质量进行了评估，数据截至{date_zh(as_of)}。现将评估情况通报如下。")
    body: list = [Paragraph(intro), Heading("一、得分与排名", 1)]
    body.append(Paragraph("；".join(
        f"第{r.rank}名{r.unit_name}，得{r.score:.2f}分（{r.met}项指标达标，共{r.indicators}项）"
        for r in ranks.itertuples()) + "。"))
    frame = pd.DataFrame({"排名": ranks["rank"], "单位": ranks["unit_name"],
                          "得分": ranks["score"].astype(float), "达标指标数": ranks["met"],
                          "指标数": ranks["indicators"]})
    body += [Table(frame, title="表1 各县得分与排名"),
             Figure(figure_png(reports.score_figure(ev, ranks)), "图1 各县考核得分及排名"),
             Heading("二、各项指标完成情况", 1)]
    detail = pd.DataFrame({
        "单位": ev["unit_name"], "考核指标": ev["indicator_zh"],
        "完成值": [_fmt_value(i, v) for i, v in zip(ev["indicator"], ev["value"], strict=True)],
        "目标值": [_fmt_value(i, v) for i, v in zip(ev["indicator"], ev["target"], strict=True)],
        "是否达标": np.where(ev["met"], "达标", "未达标"),
        "分值": ev["weight"].astype(float), "得分": ev["score"].astype(float),
        "说明": [official_text(d) for d in ev["detail"]],
    })
    body.append(Table(detail, title="表2 各项指标完成情况", right=("完成值", "目标值")))
    missed = ev[~ev["met"]]
    body.append(Heading("三、存在的问题和工作要求", 1))
    if missed.empty:
        body.append(Paragraph("各县各项指标均已达标。"))
    for c in counties:
        m = missed[missed["unit"] == c]
        if len(m):
            body.append(Paragraph(f"{pol.unit_names[c]}：" + "；".join(
                f"{r.indicator_zh}{_fmt_value(r.indicator, r.value)}，目标不低于"
                f"{_fmt_value(r.indicator, r.target)}" for r in m.itertuples()) + "。"))
    if len(missed):
        body.append(Paragraph("请未达标的县生态环境局分析原因，采取措施，在下一季度内整改到位。"))
    weights = pd.DataFrame({"考核指标": list(reports.INDICATOR_ZH.values()),
                            "分值": [float(pol.evaluation.weights.get(k, 0.0))
                                     for k in reports.INDICATOR_ZH]})
    appendix = (Heading("评分规则", 1),
                Paragraph("各项指标达到目标值得满分，未达到的按完成比例得分；目标值取自实施方案。"),
                Table(weights, title="各项指标分值"),
                *_clauses([("抽查比例", CLAUSES["quotas"]), ("联合抽查", CLAUSES["joint"]),
                           ("信用风险分类结合", CLAUSES["credit"]),
                           ("结果公开", CLAUSES["public"]), ("报送", CLAUSES["reporting"]),
                           ("后续处置", CLAUSES["follow_up"]),
                           ("考核评估", CLAUSES["evaluation"])]))
    title = f"{authority(pol, unit)}关于{q.label_zh}“双随机、一公开”监管工作考核评估情况的通报"
    return OfficialDocument(
        title=title, issuer=authority(pol, unit), date=as_of, blocks=tuple(body),
        recipient="、".join(authority(pol, c) for c in counties),
        demo=inputs.demo, as_of=as_of, appendix=appendix,
        **issue_settings(pol, unit, "evaluation", q.label, as_of, title, numbers))


# --------------------------------------------------------------------------------------
# Annual plan (年度抽查计划, public)
# --------------------------------------------------------------------------------------
def annual_plan_table(inputs: reports.ReportInputs, unit: str) -> pd.DataFrame:
    """The year's minimum checks per category and quarter, shares as numbers."""
    plan = reports.annual_quotas(inputs, unit).copy()
    for col in plan.columns:
        if col == "最低比例" or col.endswith("预期抽查比例"):
            plan[col] = [float(v.rstrip("%")) / 100 if v != "—" else np.nan for v in plan[col]]
    return plan


def annual_plan_document(inputs: reports.ReportInputs, unit: str,
                         issued: dt.date | None = None, revision: str = "",
                         ledger_line: str | None = None,
                         notes: tuple[str, ...] = ()) -> OfficialDocument:
    """The unit's annual plan (public: no result, no inspector team), dated ``issued``
    (default: the first day of the policy year). ``revision`` (e.g. 第1次调整) follows the
    title, ``notes`` follow the opening paragraph (an amendment's 调整说明), ``ledger_line``
    replaces the ledger head line (the plan's own ledger entry:
    :func:`dsr_analysis.amendments.annual_plan_edition`)."""
    pol = inputs.policy
    plan = annual_plan_table(inputs, unit)
    first = quarters_of(pol.year)[0]
    body: list = [Paragraph(f"根据《{pol.name}》，制定本年度“双随机、一公开”抽查计划，"
                            "向社会公开。计划调整的，及时重新公开。"),
                  *[Paragraph(n) for n in notes],
                  Heading("一、抽查对象和最低抽查数量", 1),
                  Paragraph(f"本年度最低抽查{int(plan['全年合计'].sum())}次，各季度各类监管对象的最低"
                            "抽查数量见表1。正面清单企业采用非现场方式每季度全覆盖检查，其余对象按季度"
                            "随机抽取。"),
                  Table(plan, title="表1 各季度最低抽查数量",
                        percent=tuple(c for c in plan.columns
                                      if c == "最低比例" or c.endswith("预期抽查比例")))]
    body.append(Heading("二、抽取方法与复核方法", 1))
    body += [Paragraph(f"{i}. {official_text(p)}", indent=True)
             for i, p in enumerate(reports.draw_method(pol), start=1)]
    body.append(Heading("三、报送与公开时间", 1))
    body.append(Table(reports.reporting_calendar(pol, inputs.calendar), title="表2 报送时间"))
    body.append(Paragraph(f"抽查结果在检查后{pol.reporting.results_within_working_days}个工作日内"
                          "向社会公开；涉及国家秘密、国家安全或公共安全的依法不予公开。"))
    body.append(Paragraph(inputs.ledger_line() if ledger_line is None else ledger_line))
    issued = issued or first.start
    appendix = _clauses([("检查对象和执法人员名录库", CLAUSES["registers"]),
                         ("抽查对象分类和信用风险分类结合", CLAUSES["credit"]),
                         ("最低抽查比例", CLAUSES["quotas"]), ("联合抽查", CLAUSES["joint"]),
                         ("抽取方式", CLAUSES["mode"]), ("公开", CLAUSES["public"]),
                         ("报送时间", CLAUSES["reporting"])])
    return OfficialDocument(
        title=f"{authority(pol, unit)}{pol.year}年度“双随机、一公开”抽查计划"
              + (f"（{revision}）" if revision else ""),
        issuer=authority(pol, unit), date=issued, blocks=tuple(body), demo=inputs.demo,
        appendix=appendix, public=True, seal=True)
