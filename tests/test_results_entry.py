"""Results as staff record them (issue 19): the results template of a real quarter (the 雄县
bureau's own registers, committed and drawn into a ledger: ``tests/bureau.py``), filled in
with openpyxl as Excel would save it, read back as the results register, checked with
``dsr results check``, and counted in the statistics table and the notices - every outcome and
follow-up of the national vocabulary, every field as of its report's cut-off."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dsr_analysis import official, reports
from dsr_analysis.cli import main
from dsr_analysis.draw.ledger import load_draw_tasks
from dsr_analysis.labels import FOLLOW_UP_ZH, OUTCOME_ZH
from dsr_analysis.results import load_results, read_results
from dsr_analysis.results_entry import HEADER
from dsr_analysis.schema import FOLLOW_UPS_ALLOWED

D = dt.date
T = dt.datetime  # an Excel date cell, as openpyxl reads and writes it

#: What staff record for the first tasks of the quarter: outcome, follow-up, check date,
#: 整改期限, 案件编号, 罚没款金额, 处置办结日期, 公示日期, 涉密 (the rest of the tasks: not checked).
FILLED = [
    ("未发现问题", "无", T(2023, 1, 9), None, None, None, None, T(2023, 1, 20), "否"),
    ("发现问题已责令改正（含当场整改）", "无", T(2023, 1, 10), None, None, None, None,
     T(2023, 1, 31), "否"),
    ("发现问题已责令改正（含当场整改）", "责令整改", T(2023, 1, 11), T(2023, 2, 10), None, None,
     T(2023, 2, 8), T(2023, 2, 1), "否"),
    # the February-notice case: handed over, closed on 10 March
    ("发现问题待后续处理", "转办", T(2023, 2, 6), None, None, None, T(2023, 3, 10),
     T(2023, 2, 15), "否"),
    ("违法", "立案处罚", T(2023, 2, 7), T(2023, 3, 15), "雄环罚〔2023〕1号", 50000,
     T(2023, 3, 20), T(2023, 2, 20), "否"),
    ("违法", "移送司法机关", T(2023, 2, 8), None, None, None, None, T(2023, 2, 21), "否"),
    ("未发现开展本次抽查涉及的经营活动", "无", T(2023, 2, 9), None, None, None, None,
     T(2023, 2, 22), "否"),
    ("已关闭停业或正在组织清算", "无", T(2023, 2, 10), None, None, None, None, T(2023, 2, 23), "否"),
    ("通过登记的住所（经营场所）无法联系", "无", T(2023, 2, 13), None, None, None, None,
     T(2023, 2, 24), "否"),
    ("不配合检查情节严重", "移交", T(2023, 2, 14), None, None, None, T(2023, 2, 28),
     T(2023, 2, 27), "否"),
    ("迁移、注销等其他情况", "无", T(2023, 2, 15), None, None, None, None, T(2023, 2, 28), "否"),
    ("违法", "责令整改", T(2023, 2, 1), T(2023, 2, 20), None, None, None, T(2023, 2, 10), "否"),
    ("发现问题待后续处理", "移交", "2023年3月1日", None, None, None, None, None, "是"),
    ("违法", "立案处罚", T(2023, 3, 2), None, "雄环罚〔2023〕2号", 12500.5, T(2023, 3, 25),
     T(2023, 3, 10), "否"),
]
ENTRY = ["outcome", "follow_up", "date_checked", "rectification_deadline", "case_number",
         "penalty_amount", "date_follow_up_closed", "date_published", "confidential"]
_ZH_OUTCOME = {v: k for k, v in OUTCOME_ZH.items()}
_ZH_FOLLOW = {v: k for k, v in FOLLOW_UP_ZH.items()}


def _day(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        y, m, d = map(int, re.findall(r"[0-9]+", value))
        return D(y, m, d)
    return value.date()


@pytest.fixture(scope="module")
def template(bureau_quarter, tmp_path_factory) -> Path:
    """``dsr results template`` of the bureau's quarter (a real command, a real ledger)."""
    out = tmp_path_factory.mktemp("template")
    assert main(["results", "template", "--quarter", bureau_quarter.quarter,
                 "--ledger", str(bureau_quarter.ledger), "--outputs", str(out)]) == 0
    path = out / bureau_quarter.quarter / f"results-template-{bureau_quarter.unit}.xlsx"
    assert path.is_file()
    return path


def _columns(ws) -> dict[str, int]:
    return {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}


def fill(template: Path, target: Path, records=FILLED) -> Path:
    """The template filled in as Excel saves it: date cells, numbers, the drop-down texts."""
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    col = _columns(ws)
    for i, values in enumerate(records):
        for name, value in zip(ENTRY, values, strict=True):
            if value is not None:
                ws.cell(3 + i, col[HEADER[name]], value)
    wb.save(target)
    return target


@pytest.fixture(scope="module")
def filled(template, tmp_path_factory) -> Path:
    return fill(template, tmp_path_factory.mktemp("filled") / "results-2023Q1.xlsx")


@pytest.fixture(scope="module")
def q1(bureau_quarter, filled):
    return reports.load_report_inputs(bureau_quarter.quarter, registers=str(bureau_quarter.registers),
                                      ledger=str(bureau_quarter.ledger), results=str(filled))


# --------------------------------------------------------------------------------------
# The template
# --------------------------------------------------------------------------------------
def test_template_is_prefilled_with_every_drawn_task_and_offers_the_vocabulary(
        template, bureau_quarter):
    tasks = load_draw_tasks(bureau_quarter.ledger, bureau_quarter.quarter)
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["抽查结果登记", "填表说明", "可选值"]
    ws, notes, lists = wb.worksheets
    assert lists.sheet_state == "hidden" and ws.protection.sheet
    assert "雄县2023年第一季度" in ws.cell(1, 1).value and "抽查结果登记表" in ws.cell(1, 1).value
    col = _columns(ws)
    for name in ("task_id", "uscc", *ENTRY, "remark"):
        assert HEADER[name] in col, name
    ids = [ws.cell(r, col["任务编号"]).value for r in range(3, ws.max_row + 1)]
    assert ids == sorted(tasks["task_id"])
    by_id = tasks.set_index("task_id")
    for r in range(3, ws.max_row + 1):
        task = by_id.loc[ws.cell(r, col["任务编号"]).value]
        assert ws.cell(r, col["统一社会信用代码"]).value == task["uscc"]
        assert ws.cell(r, col["检查对象名称"]).value == task["enterprise_name"]
        assert ws.cell(r, col["抽查事项"]).value == task["item_name"]
        assert all(n in ws.cell(r, col["执法人员"]).value for n in task["inspector_names"].split(";"))
        prefilled, entry = ws.cell(r, col["任务编号"]), ws.cell(r, col["检查日期"])
        assert prefilled.protection.locked and prefilled.fill.fgColor.rgb.endswith("E7E6E6")
        assert not entry.protection.locked and entry.number_format == "yyyy-mm-dd"
        assert ws.cell(r, col["涉密不予公开"]).value == "否"
    # drop-down lists from the hidden sheet, date and amount checks on the entry cells
    validations = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            validations[ws.cell(2, rng.min_col).value] = dv
    offered = {lists.cell(1, j).value: [lists.cell(i, j).value for i in range(2, lists.max_row + 1)
                                        if lists.cell(i, j).value]
               for j in range(1, lists.max_column + 1)}
    assert offered["检查结果"] == list(OUTCOME_ZH.values())
    assert offered["后续处置"] == list(FOLLOW_UP_ZH.values())
    assert offered["涉密不予公开"] == ["是", "否"]
    for header in ("检查结果", "后续处置", "涉密不予公开"):
        assert validations[header].type == "list" and "可选值" in validations[header].formula1
    for header in ("检查日期", "整改期限", "处置办结日期", "公示日期"):
        assert validations[header].type == "date"
    assert validations["检查日期"].formula1 == str((D(2023, 1, 1) - D(1899, 12, 30)).days)
    assert validations["罚没款金额（元）"].type == "decimal"
    # the instruction sheet: every column, and which outcome needs which follow-up
    text = "\n".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    for header in col:
        assert header in text
    for outcome, allowed in FOLLOW_UPS_ALLOWED.items():
        line = next(str(notes.cell(r, 2).value) for r in range(1, notes.max_row + 1)
                    if notes.cell(r, 1).value == OUTCOME_ZH[outcome])
        assert line.startswith("后续处置：" + "、".join(FOLLOW_UP_ZH[f] for f in allowed))


def test_an_unfilled_template_checks_ok_with_every_task_waiting(template, bureau_quarter, capsys):
    assert main(["results", "check", str(template), "--ledger", str(bureau_quarter.ledger)]) == 0
    out = capsys.readouterr().out
    assert f"OK, 0 results (none), {len(bureau_quarter.tasks)} tasks awaiting their results" in out


# --------------------------------------------------------------------------------------
# Round trip: the filled template is the results register
# --------------------------------------------------------------------------------------
def test_filled_template_round_trips_as_the_results_register(filled, bureau_quarter, capsys):
    tasks = load_draw_tasks(bureau_quarter.ledger)
    results = load_results(filled, tasks)
    wb = openpyxl.load_workbook(filled)
    ws = wb.worksheets[0]
    col = _columns(ws)
    expected_ids = [ws.cell(3 + i, col["任务编号"]).value for i in range(len(FILLED))]
    assert results["task_id"].tolist() == expected_ids   # the unfilled rows are left out
    for (_, rec), values in zip(results.iterrows(), FILLED, strict=True):
        o, f, checked, deadline, case, amount, closed, published, secret = values
        assert rec["outcome"] == _ZH_OUTCOME[o] and rec["follow_up"] == _ZH_FOLLOW[f]
        assert rec["date_checked"] == _day(checked)
        assert rec["rectification_deadline"] == _day(deadline)
        assert rec["case_number"] == (case or "")
        assert rec["penalty_amount"] == (float(amount) if amount is not None else None)
        assert rec["date_follow_up_closed"] == _day(closed)
        assert rec["date_published"] == _day(published)
        assert rec["confidential"] is (secret == "是")
    assert main(["results", "check", str(filled), "--ledger", str(bureau_quarter.ledger)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{filled}: OK, {len(FILLED)} results (未发现问题 1, ")
    assert "违法 4" in out and "不配合检查情节严重 1" in out
    assert out.endswith(", checked against the draw ledger")
    assert f"{len(bureau_quarter.tasks) - len(FILLED)} tasks awaiting their results" in out


def test_every_outcome_and_follow_up_reaches_the_statistics_table(q1):
    rows = {}
    for as_of in (D(2023, 4, 6), D(2023, 2, 28)):
        rows[as_of] = reports.statistics_table(q1, ["xiongxian"], as_of=as_of).iloc[0]
    row = rows[D(2023, 4, 6)]
    assert row["checks_total"] == len(FILLED)
    assert row["tasks_unchecked"] == len(q1.tasks) - len(FILLED)
    assert row["checks_not_operating"] == 4            # no activity, closed, unreachable, moved
    assert row["problems_found"] == 4 and row["problems_corrected"] == 2
    assert row["violations"] == 4 and row["obstructed"] == 1
    assert row["rectification_orders"] == 3  # two orders, one penalty with a 整改期限
    assert row["rectified"] == 2             # closed by the cut-off
    assert row["handed_over"] == 3 and row["judicial_referrals"] == 1 and row["penalties"] == 2
    assert row["penalty_amount"] == pytest.approx(62500.5)
    assert row["results_withheld"] == 1 and row["results_published"] == len(FILLED) - 1
    # as of 28 February: the March checks, closings and fines are not known yet
    feb = rows[D(2023, 2, 28)]
    assert feb["checks_total"] == len(FILLED) - 2
    assert feb["rectified"] == 1 and feb["penalty_amount"] == 0
    assert feb["handed_over"] == 2    # the transfer checked on 1 March is not known yet
    zh = reports.statistics_table_zh(reports.statistics_table(q1, ["xiongxian"]))
    for label in [("问题处置（件）", "责令整改"), ("问题处置（件）", "整改完成"),
                  ("行政处罚", "罚没款金额（元）"), ("完成抽查（次）", "其中停业停产或无法联系")]:
        assert label in zh.columns


def test_the_notices_show_the_new_wording_as_of_their_own_cut_off(q1):
    feb = official.notice_document(q1, "xiongxian", 2023, 2).table.frame
    shown = dict(zip(feb["检查结果"] + "|" + feb["任务编号"], feb["后续处置"], strict=True))
    by_outcome = {k.split("|")[0]: v for k, v in shown.items()}
    # the February notice (数据截止日期 2023-02-28): the hand-over closed on 10 March is 办理中
    assert by_outcome["发现问题待后续处理"] == "转办（办理中）"
    assert "转办（已办结）" not in feb["后续处置"].tolist()
    assert by_outcome["不配合检查情节严重"] == "移交（已办结）"    # closed on 28 February
    assert "立案处罚（案件编号雄环罚〔2023〕1号，办理中）" in feb["后续处置"].tolist()   # no fine yet
    assert "责令整改（整改期限2023年2月20日，逾期未整改）" in feb["后续处置"].tolist()
    assert "责令整改（整改期限2023年2月10日，已整改）" in feb["后续处置"].tolist()
    for outcome in ("违法", "未发现开展本次抽查涉及的经营活动", "已关闭停业或正在组织清算",
                    "通过登记的住所（经营场所）无法联系", "迁移、注销等其他情况"):
        assert outcome in by_outcome
    january = reports.results_notice(q1, "xiongxian", 2023, 1).table
    assert set(january["检查结果"]) == {"未发现问题", "发现问题已责令改正（含当场整改）"}
    march = reports.results_notice(q1, "xiongxian", 2023, 3)
    assert march.table["后续处置"].tolist() == ["立案处罚（案件编号雄环罚〔2023〕2号，已办结，罚没款12500.5元）"]
    assert march.withheld == 1   # the confidential transfer of 1 March: counted, never shown
    # the same hand-over, in a notice made after it closed, would be 已办结 (the cut-off decides)
    later = q1.results.copy()
    later.loc[later["follow_up"] == "hand_over", "date_published"] = D(2023, 3, 31)
    march_late = reports.results_notice(dataclasses.replace(q1, results=later),
                                        "xiongxian", 2023, 3).table
    assert "转办（已办结）" in march_late["后续处置"].tolist()


def test_the_summary_counts_follow_ups_as_of_its_due_date(q1):
    doc = official.summary_document(q1, "xiongxian")
    text = "\n".join(getattr(b, "text", "") for b in doc.blocks)
    assert "截至2023年3月29日" in text or "截至2023年3月31日" in text
    assert "发现问题4个，其中已责令改正（含当场整改）2个，发现违法行为4起，不配合检查情节严重1起" in text
    assert "检查对象停业停产或无法联系4户" in text
    # by the summary's due date (end of March) the fine of 20 March is decided, that of
    # 25 March too only if the due date is after it
    due = doc.as_of
    fines = sum(a for a, c in ((50000, D(2023, 3, 20)), (12500.5, D(2023, 3, 25))) if c <= due)
    assert f"已办结案件罚没款{fines:g}元" in text


# --------------------------------------------------------------------------------------
# dsr results check: every problem at once, the column named by the file's own header
# --------------------------------------------------------------------------------------
def test_results_check_lists_every_problem_with_the_files_headers(template, bureau_quarter,
                                                                   tmp_path, capsys):
    bad = [
        ("未发现问题", "立案处罚", T(2023, 2, 1), None, None, None, None, None, "否"),
        ("违法", "无", T(2023, 2, 2), None, None, None, None, None, "否"),
        ("发现问题已责令改正（含当场整改）", "责令整改", T(2023, 2, 3), T(2023, 1, 20), None, None,
         None, None, "否"),
        ("违法", "立案处罚", T(2023, 2, 6), None, "雄环罚〔2023〕3号", -500, None, None, "否"),
        ("已关闭停业或正在组织清算", "转办", T(2023, 2, 7), None, None, None, None, None, "否"),
        ("发现问题待后续处理", "转办", T(2023, 2, 8), None, "雄环罚〔2023〕4号", None, None, None, "否"),
        ("不配合检查情节严重", "责令整改", T(2023, 2, 9), None, None, None, None, None, "否"),
        ("企业跑路", "无", "2023-02-30", None, None, None, None, None, "也许"),
        ("未发现问题", "无", T(2023, 2, 10), None, None, None, None, T(2023, 2, 20), "是"),
    ]
    path = fill(template, tmp_path / "bad.xlsx", bad)
    code = main(["results", "check", str(path), "--ledger", str(bureau_quarter.ledger)])
    err = capsys.readouterr().err
    assert code == 1
    f = str(path)
    expected = [
        f"{f}:3:后续处置: follow-up 'penalty' but the outcome is no_problem (未发现问题)",
        f"{f}:4:后续处置: outcome violation needs a follow-up (rectification_order 责令整改",
        f"{f}:5:整改期限: rectification deadline (整改期限) on 2023-01-20, before the check on 2023-02-03",
        f"{f}:6:罚没款金额（元）: '-500' is negative",
        f"{f}:7:后续处置: follow-up 'hand_over' but the outcome is closed (已关闭停业或正在组织清算)",
        f"{f}:8:案件编号: a case number (案件编号) belongs to a penalty case",
        f"{f}:9:后续处置: follow-up 'rectification_order' (责令整改) does not fit the outcome "
        "obstructed (不配合检查情节严重); valid: hand_over 转办",
        f"{f}:10:检查日期: '2023-02-30' is not a date",
        f"{f}:10:检查结果: unknown outcome '企业跑路'",
        f"{f}:10:涉密不予公开: '也许' is not a boolean",
        f"{f}:11:公示日期: a confidential result is withheld and cannot have a publication date",
    ]
    lines = err.splitlines()
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, err)
    assert lines[-1] == f"{len(lines) - 1} problems found; nothing was written."
    assert len(lines) - 1 == len(expected)


def test_results_check_alone_and_of_a_missing_file(tmp_path, capsys):
    path = tmp_path / "results.csv"
    path.write_text("任务编号,统一社会信用代码,检查日期,检查结果,后续处置,涉密不予公开\n"
                    "2023Q1-xiongxian-0001,91130638117803261F,2023-02-03,违法,无,否\n",
                    encoding="utf-8")
    assert main(["results", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2:后续处置: outcome violation needs a follow-up" in err
    path.write_text(path.read_text(encoding="utf-8").replace("违法,无", "违法,立案处罚"),
                    encoding="utf-8")
    assert main(["results", "check", str(path)]) == 0
    assert "OK, 1 result (违法 1) (not checked against the draw ledger)" in capsys.readouterr().out
    assert main(["results", "check", str(tmp_path / "none.xlsx")]) == 1
    assert f"{tmp_path / 'none.xlsx'}:0:-: results register not found" in capsys.readouterr().err


def test_template_of_a_unit_without_tasks_is_refused(bureau_quarter, tmp_path, capsys):
    code = main(["results", "template", "--quarter", "2023Q1", "--unit", "anxin",
                 "--ledger", str(bureau_quarter.ledger), "--outputs", str(tmp_path)])
    assert code == 2
    assert "no drawn task of 2023Q1 for unit 'anxin'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------------------
# Older values and short forms are still read
# --------------------------------------------------------------------------------------
U1 = "91130638117803261F"


@pytest.mark.parametrize("outcome,follow,expected", [
    ("problem_found", "hand_over", ("pending_follow_up", "hand_over")),
    ("发现问题", "转办", ("pending_follow_up", "hand_over")),
    ("发现违法行为", "行政处罚", ("violation", "penalty")),
    ("企业已停产", "无", ("no_activity", "none")),
    ("已停业", "无", ("closed", "none")),
    ("当场整改", "无", ("corrected", "none")),
    ("住所无法联系", "无", ("unreachable", "none")),
    ("不配合检查", "移送公安机关", ("obstructed", "judicial_referral")),
    ("发现问题已责令改正", "责令改正", ("corrected", "rectification_order")),
])
def test_older_values_and_short_forms_still_read(tmp_path, outcome, follow, expected):
    path = tmp_path / "r.csv"
    path.write_text("task_id,uscc,date_checked,outcome,follow_up,confidential\n"
                    f"T-1,{U1},2023-02-03,{outcome},{follow},false\n", encoding="utf-8")
    frame, problems = read_results(path)
    assert problems == []
    assert (frame.iloc[0]["outcome"], frame.iloc[0]["follow_up"]) == expected


def test_a_results_csv_with_english_headers_names_them(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("task_id,uscc,date_checked,outcome,follow_up,confidential,penalty_amount\n"
                    f"T-1,{U1},2023-02-03,no_problem,none,false,100\n", encoding="utf-8")
    _, problems = read_results(path)
    assert [str(p) for p in problems] == [
        f"{path}:2:penalty_amount: a penalty amount (罚没款金额) belongs to a penalty case "
        "(penalty 立案处罚), not to follow-up 'none'"]


def test_synthetic_results_entered_into_the_template_read_back_exactly(template, bureau_quarter,
                                                                       tmp_path):
    """What the demo does: the sample results entered into the template as staff would (the
    Chinese drop-down values, date cells, numbers) are read back exactly."""
    from dsr_analysis.results import RESULT_COLUMNS, sample_results
    from dsr_analysis.results_entry import fill_results_template

    tasks = load_draw_tasks(bureau_quarter.ledger)
    results = sample_results(tasks, seed=7)
    path = fill_results_template(template, results, tmp_path / "results.xlsx")
    cells = openpyxl.load_workbook(path).worksheets[0]
    col = _columns(cells)
    assert isinstance(cells.cell(3, col["检查日期"]).value, dt.datetime)
    assert cells.cell(3, col["检查结果"]).value in OUTCOME_ZH.values()
    back = load_results(path, tasks)
    pd.testing.assert_frame_equal(back[RESULT_COLUMNS],
                                  results[RESULT_COLUMNS].reset_index(drop=True),
                                  check_dtype=False)


def test_a_template_from_an_earlier_register_carries_the_results_in(filled, bureau_quarter,
                                                                   tmp_path, capsys):
    """``--from``: the recorded results stand in the new template (to be completed) and it
    reads back as the same register; a register of other tasks is refused."""
    assert main(["results", "template", "--quarter", "2023Q1", "--ledger", str(bureau_quarter.ledger),
                 "--outputs", str(tmp_path), "--from", str(filled)]) == 0
    assert f"{len(FILLED)} result(s) carried in" in capsys.readouterr().out
    path = tmp_path / "2023Q1" / "results-template-xiongxian.xlsx"
    tasks = load_draw_tasks(bureau_quarter.ledger)
    pd.testing.assert_frame_equal(load_results(path, tasks), load_results(filled, tasks))
    code = main(["results", "template", "--quarter", "2022Q4", "--ledger",
                 str(bureau_quarter.ledger), "--outputs", str(tmp_path), "--from", str(filled)])
    assert code == 2 and "no drawn task of 2022Q4" in capsys.readouterr().err
