"""The follow-up register (后续处置台账): cases from real results and follow-up files (CSV with
Chinese headers) on the bureau's drawn quarter; expectations computed by hand from the dates
below."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dsr_analysis import official, reports
from dsr_analysis.cli import main
from dsr_analysis.draw.ledger import load_draw_tasks
from dsr_analysis.errors import PolicyError, RegisterError
from dsr_analysis.followups import (case_register, case_text, followups_report, load_followups,
                                    open_cases)
from dsr_analysis.policy import FollowUp, load_policy
from dsr_analysis.results import load_results

D = dt.date
RESULT_HEADER = ["任务编号", "统一社会信用代码", "检查日期", "检查结果", "后续处置", "整改期限",
                 "案件编号", "接收单位", "转办日期", "办结日期", "复查日期", "复查结果", "涉密不予公开"]
UPDATE_HEADER = ["任务编号", "更新日期", "接收单位", "办结日期", "罚没款金额（元）", "复查日期",
                 "复查结果", "备注"]


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    frame = pd.DataFrame([["" if v is None else v for v in r] for r in rows], columns=header)
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def quarter(bureau_quarter):
    """The bureau's drawn tasks plus a re-inspection task of the next quarter (origin
    ``follow_up``) on the firm of task B, as the next quarter's targeted draw records it."""
    tasks = load_draw_tasks(bureau_quarter.ledger)
    a, b, c, d = tasks.iloc[0], tasks.iloc[1], tasks.iloc[2], tasks.iloc[3]
    reinspection = b.copy()
    reinspection["task_id"] = "2023Q2-xiongxian-F001"
    reinspection["quarter"] = "2023Q2"
    reinspection["origin"] = "follow_up"
    all_tasks = pd.concat([tasks, reinspection.to_frame().T], ignore_index=True)
    return {"tasks": all_tasks, "a": a, "b": b, "c": c, "d": d, "r": reinspection}


def _results(q: dict, tmp_path: Path, reinspection_outcome: str | None = None,
             extra: list[list[object]] = ()) -> Path:
    """A: 转办 to 雄县住房和城乡建设局 on 2023-02-03; B: 责令整改 by 2023-03-10;
    C: 立案处罚 checked 2023-03-01; D: nothing found."""
    a, b, c, d = q["a"], q["b"], q["c"], q["d"]
    rows = [
        [a.task_id, a.uscc, "2023-02-01", "违法", "转办", "", "", "雄县住房和城乡建设局",
         "2023-02-03", "", "", "", "否"],
        [b.task_id, b.uscc, "2023-02-10", "发现问题已责令改正（含当场整改）", "责令整改",
         "2023-03-10", "", "", "", "", "", "", "否"],
        [c.task_id, c.uscc, "2023-03-01", "违法", "立案处罚", "", "雄环罚〔2023〕9号", "", "",
         "", "", "", "否"],
        [d.task_id, d.uscc, "2023-03-02", "未发现问题", "无", "", "", "", "", "", "", "", "否"],
    ]
    if reinspection_outcome is not None:
        follow = "无" if reinspection_outcome == "未发现问题" else "立案处罚"
        rows.append([q["r"].task_id, q["r"].uscc, "2023-04-12", reinspection_outcome, follow,
                     "", "", "", "", "", "", "", "否"])
    return _csv(tmp_path / "results.csv", RESULT_HEADER, rows + list(extra))


def _updates(q: dict, tmp_path: Path, rows: list[list[object]] | None = None) -> Path:
    """A closed on 2023-03-18 (recorded 2023-03-20); C's fine and closing recorded 2023-04-15."""
    if rows is None:
        rows = [[q["a"].task_id, "2023-03-20", "", "2023-03-18", "", "", "", "住建局反馈已办结"],
                [q["c"].task_id, "2023-04-15", "", "2023-04-14", "50000", "", "", ""]]
    return _csv(tmp_path / "followups.csv", UPDATE_HEADER, rows)


def _case(cases: pd.DataFrame, task_id: str) -> dict:
    return cases[cases["task_id"] == task_id].iloc[0].to_dict()


def test_a_case_from_result_to_overdue_to_closed_by_an_update(quarter, tmp_path, policy):
    tasks = quarter["tasks"]
    results = load_results(_results(quarter, tmp_path), tasks)
    updates = load_followups(_updates(quarter, tmp_path), results)
    a, c = quarter["a"].task_id, quarter["c"].task_id

    def at(day: dt.date) -> pd.DataFrame:
        return case_register(tasks, results, policy, day, updates)

    march1 = at(D(2023, 3, 1))
    assert set(march1["task_id"]) == {a, quarter["b"].task_id, c}   # D has no follow-up
    case = _case(march1, a)
    assert case["receiving_body"] == "雄县住房和城乡建设局"
    assert case["date_follow_up_opened"] == D(2023, 2, 3)
    assert case["date_due"] == D(2023, 3, 5)          # 转办: opened + 30 days (policy default)
    assert (case["status"], case["status_zh"]) == ("open", "办理中")
    overdue = _case(at(D(2023, 3, 10)), a)
    assert (overdue["status_zh"], overdue["days_overdue"]) == ("逾期", 5)
    # the update is dated 2023-03-20: not known the day before
    assert _case(at(D(2023, 3, 19)), a)["status"] == "overdue"
    closed = _case(at(D(2023, 3, 20)), a)
    assert (closed["status_zh"], closed["date_follow_up_closed"]) == ("已办结", D(2023, 3, 18))
    assert closed["remark"] == "住建局反馈已办结"
    # a penalty case: opened at the check, due 90 days later; its fine known once closed
    pen = _case(at(D(2023, 4, 14)), c)
    assert (pen["date_due"], pen["status"], pen["penalty_amount"]) == (D(2023, 5, 30), "open", None)
    pen = _case(at(D(2023, 4, 15)), c)
    assert (pen["status"], pen["penalty_amount"]) == ("closed", 50000.0)
    assert case_text(pen) == "立案处罚（案件编号雄环罚〔2023〕9号，已办结，罚没款5万元）"
    assert open_cases(at(D(2023, 3, 10)))["task_id"].tolist()[0] == a   # overdue first


def test_the_policy_sets_the_days_of_a_case_without_deadline(quarter, tmp_path, policy):
    results = load_results(_results(quarter, tmp_path), quarter["tasks"])
    short = dataclasses.replace(policy, follow_up=FollowUp(due_days={"hand_over": 10}))
    case = _case(case_register(quarter["tasks"], results, short, D(2023, 3, 1)),
                 quarter["a"].task_id)
    assert case["date_due"] == D(2023, 2, 13) and case["days_overdue"] == 16


def test_policy_follow_up_section_is_checked(tmp_path):
    from dsr_analysis.paths import DEFAULT_POLICY

    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    # the plan without its follow_up section (the defaults apply to what a section leaves out)
    start = text.index("\nfollow_up:")
    end = text.index("\n\n", start + 1)
    text = text[:start] + text[end:]
    good = tmp_path / "good.yaml"
    good.write_text(text + "\nfollow_up:\n  due_days:\n    transfer: 45\n", encoding="utf-8")
    rules = load_policy(good).follow_up_rules
    assert (rules.days("transfer"), rules.days("penalty")) == (45, 90)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "\nfollow_up:\n  due_days:\n    transfers: 45\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"follow_up\.due_days\.transfers': unknown follow-up"):
        load_policy(bad)


@pytest.mark.parametrize("outcome,status", [("未发现问题", "closed"), ("违法", "overdue")])
def test_a_reinspection_task_is_the_cases_reinspection(quarter, tmp_path, policy, outcome, status):
    """The next quarter's re-inspection task on B's firm: nothing found -> 已整改, closed on
    the day of the check; an offence -> 未整改, the order stays overdue (and the new offence is
    a case of its own)."""
    tasks = quarter["tasks"]
    results = load_results(_results(quarter, tmp_path, outcome), tasks)
    b, r = quarter["b"].task_id, quarter["r"].task_id
    before = _case(case_register(tasks, results, policy, D(2023, 4, 11)), b)
    assert (before["status"], before["days_overdue"], before["date_reinspected"]) == (
        "overdue", 32, None)
    cases = case_register(tasks, results, policy, D(2023, 4, 12))
    case = _case(cases, b)
    assert (case["date_reinspected"], case["reinspection_task"]) == (D(2023, 4, 12), r)
    assert case["reinspection_result"] == ("rectified" if status == "closed" else "not_rectified")
    assert case["status"] == status
    if status == "closed":
        assert case["date_follow_up_closed"] == D(2023, 4, 12)
        assert case_text(case) == "责令整改（整改期限2023年3月10日，已整改）"
        assert r not in set(cases["task_id"])
    else:
        assert case["date_follow_up_closed"] is None
        assert case_text(case) == "责令整改（整改期限2023年3月10日，逾期未整改）"
        assert _case(cases, r)["follow_up"] == "penalty"


def test_result_case_columns_are_validated(quarter, tmp_path):
    a, b, d = quarter["a"], quarter["b"], quarter["d"]
    rows = [
        [a.task_id, a.uscc, "2023-02-01", "违法", "转办", "", "", "", "2023-01-30", "", "", "",
         "否"],
        [b.task_id, b.uscc, "2023-02-10", "违法", "责令整改", "2023-03-10", "",
         "雄县水利局", "", "", "", "已整改", "否"],
        [d.task_id, d.uscc, "2023-03-02", "违法", "移交", "", "", "雄县水利局", "", "",
         "2023-03-20", "未整改", "否"],
    ]
    path = _csv(tmp_path / "bad-results.csv", RESULT_HEADER, rows)
    with pytest.raises(RegisterError) as err:
        load_results(path, quarter["tasks"])
    text = str(err.value)
    assert (f"{path}:2:转办日期: follow-up opened on 2023-01-30, before the check on 2023-02-01"
            in text)
    assert (f"{path}:3:接收单位: a receiving body (接收单位) '雄县水利局' belongs to a matter "
            "handed on" in text)
    assert f"{path}:3:复查日期: a re-inspection needs both its date and its result" in text
    assert (f"{path}:4:复查日期: a re-inspection (复查) belongs to an order to correct with a "
            "整改期限" in text)
    assert len(err.value.problems) == 4


def test_followup_file_is_validated(quarter, tmp_path):
    q = quarter
    results = load_results(_results(q, tmp_path), q["tasks"])
    rows = [
        ["2023Q1-xiongxian-9999", "2023-03-01", "", "", "", "", "", ""],
        [q["d"].task_id, "2023-03-05", "", "2023-03-05", "", "", "", ""],
        [q["a"].task_id, "2023-03-01", "", "2023-03-02", "", "", "", ""],
        [q["a"].task_id, "2023-03-05", "", "", "", "", "", ""],
        [q["a"].task_id, "2023-03-05", "", "", "", "", "", "再次催办"],
        [q["a"].task_id, "2023-03-06", "", "", "", "2023-03-06", "已整改", ""],
        [q["c"].task_id, "2023-02-20", "", "", "", "", "", ""],
        [q["c"].task_id, "2023-03-10", "", "", "-5", "", "", ""],
    ]
    path = _updates(q, tmp_path, rows)
    with pytest.raises(RegisterError) as err:
        load_followups(path, results)
    lines = [str(p) for p in err.value.problems]
    assert lines == [
        f"{path}:2:任务编号: task '2023Q1-xiongxian-9999' has no result in the results register "
        "(a case is opened by a result with a follow-up)",
        f"{path}:3:任务编号: the result of task '{q['d'].task_id}' has no follow-up (follow_up "
        "none 无): there is no case to update",
        f"{path}:4:办结日期: 2023-03-02 is after the update's date 2023-03-01: an update records "
        "what has happened by its date",
        f"{path}:6:更新日期: a second update of case '{q['a'].task_id}' dated 2023-03-05 (first "
        "in row 5): one update per case and day",
        f"{path}:7:复查日期: a re-inspection (复查) belongs to an order to correct with a 整改期限 "
        "(rectification_order 责令整改, or penalty 立案处罚 with a rectification_deadline), not "
        "to follow-up 'hand_over' (转办)",
        f"{path}:8:更新日期: update dated 2023-02-20, before the check on 2023-03-01",
        err.value.problems[-1].__str__(),
    ]
    assert err.value.problems[-1].row == 9 and err.value.problems[-1].column == "罚没款金额（元）"
    assert "-5" in lines[-1]


def _inputs(bureau_quarter, tmp_path, quarter_data):
    results = _results(quarter_data, tmp_path)
    updates = _updates(quarter_data, tmp_path)
    return reports.load_report_inputs(
        "2023Q1", ledger=str(bureau_quarter.ledger), results=str(results),
        registers=str(bureau_quarter.registers), followups=str(updates))


def test_summary_and_evaluation_count_the_same_cases(bureau_quarter, quarter, tmp_path):
    """As of the summary's due date (2023-03-31): A closed by the update of 2023-03-20, B
    overdue since 2023-03-10 (21 days), C open (due 2023-05-30)."""
    inputs = _inputs(bureau_quarter, tmp_path, quarter)
    doc = official.summary_document(inputs, "xiongxian")
    due = doc.as_of
    assert due == D(2023, 3, 31)
    texts = [getattr(b, "text", "") for b in doc.blocks]
    assert texts.index("（二）后续处置案件办理情况") == texts.index("三、问题处置情况") + 3
    assert ("截至2023年3月31日，本年度后续处置案件3件，已办结1件，尚未办结2件（办理中1件，逾期1件）："
            "责令整改1件（逾期1件）；立案处罚1件。") in texts
    attached = [b for a in doc.attachments for b in a.blocks]  # the table is an attachment
    table = [b for b in attached if getattr(b, "title", "") == "表2 逾期未办结的后续处置案件"]
    assert [a.title for a in doc.attachments][1] == "逾期未办结的后续处置案件"
    assert table[0].frame["检查对象"].tolist() == [quarter["b"].enterprise_name]
    assert table[0].frame["逾期天数"].tolist() == [21]
    cases = reports.follow_up_cases(inputs, due)
    ev = reports.evaluate(inputs, ["xiongxian"], as_of=due)
    ind = ev[ev["indicator"] == "follow_up_closed"].iloc[0]
    assert ind["value"] == pytest.approx((cases["status"] == "closed").sum() / len(cases))
    assert ind["value"] == pytest.approx(1 / 3)
    assert ind["detail"] == "已办结1件，需处置3件（其中责令整改1件，已整改0件），逾期未办结1件"


def test_notice_prints_the_cases_as_of_its_cut_off(bureau_quarter, quarter, tmp_path):
    a = quarter["a"]
    rows = [[a.task_id, a.uscc, "2023-02-01", "违法", "转办", "", "", "雄县住房和城乡建设局",
             "2023-02-03", "", "", "", "否"]]
    path = _csv(tmp_path / "results.csv", RESULT_HEADER, rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["公示日期"] = "2023-02-08"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    updates = _updates(quarter, tmp_path, [[a.task_id, "2023-03-20", "", "2023-03-18", "", "",
                                            "", ""]])
    inputs = reports.load_report_inputs(
        "2023Q1", ledger=str(bureau_quarter.ledger), results=str(path),
        registers=str(bureau_quarter.registers), followups=str(updates))
    feb = reports.results_notice(inputs, "xiongxian", 2023, 2).table
    assert feb["后续处置"].tolist() == ["转办（接收单位雄县住房和城乡建设局，办理中）"]


def test_followups_command_lists_open_cases_and_writes_the_workbook(bureau_quarter, quarter,
                                                                    tmp_path, capsys):
    results = _results(quarter, tmp_path)
    updates = _updates(quarter, tmp_path)
    out = tmp_path / "台账.xlsx"
    code = main(["followups", "--ledger", str(bureau_quarter.ledger), "--results", str(results),
                 "--followups", str(updates), "--unit", "雄县", "--as-of", "2023-03-31",
                 "--output", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "雄县后续处置台账（截至2023年3月31日）：共3件，办理中1件，逾期1件，已办结1件" in text
    assert quarter["b"].task_id in text and quarter["a"].task_id not in text  # A is closed
    wb = openpyxl.load_workbook(out)
    sheet, counts = wb.worksheets
    assert sheet.cell(1, 1).value == "雄县“双随机、一公开”抽查后续处置台账"
    assert "数据截止日期：2023年3月31日" in " ".join(str(c.value) for c in sheet[2] if c.value)
    assert sheet.page_setup.orientation == "landscape"
    header = [c.value for c in sheet[3]]
    assert header[:6] == ["序号", "任务编号", "单位", "检查对象", "统一社会信用代码", "处置类型"]
    assert [sheet.cell(r, 2).value for r in (4, 5)] == [quarter["b"].task_id,
                                                       quarter["c"].task_id]
    table = [[c.value for c in row] for row in counts.iter_rows(min_row=3)]
    assert table == [["类型", "办理中", "逾期", "已办结", "合计"], ["责令整改", 0, 1, 0, 1],
                     ["转办", 0, 0, 1, 1], ["立案处罚", 1, 0, 0, 1], ["合计", 1, 1, 1, 3]]
    assert not any(c.data_type == "f" for ws in wb.worksheets for row in ws.iter_rows()
                   for c in row)


def test_followups_report_all_cases_and_a_bad_unit(bureau_quarter, quarter, tmp_path):
    results = _results(quarter, tmp_path)
    report = followups_report(bureau_quarter.ledger, results, None, "xiongxian",
                              D(2023, 3, 31), all_cases=True)
    assert len(report.listed) == 3 and report.written is None
    from dsr_analysis.errors import DsrError

    with pytest.raises(DsrError, match="unknown unit 'nowhere'"):
        followups_report(bureau_quarter.ledger, results, None, "nowhere", D(2023, 3, 31))


def test_one_reinspection_task_covers_every_earlier_order_of_the_firm(quarter, tmp_path, policy):
    """B's firm also got an order after a complaint check in 2023Q1 (task T1) and one in
    2023Q2 (task T2, checked 2023-04-03): the 2023Q2 re-inspection on 2023-04-12 closes the
    two 2023Q1 orders; T2 was not among the orders the draw re-inspects and stays open."""
    b = quarter["b"]
    t1, t2 = b.copy(), b.copy()
    t1["task_id"], t1["origin"] = "2023Q1-xiongxian-T001", "complaint"
    t2["task_id"], t2["quarter"], t2["origin"] = "2023Q2-xiongxian-T002", "2023Q2", "complaint"
    tasks = pd.concat([quarter["tasks"], t1.to_frame().T, t2.to_frame().T], ignore_index=True)
    order = "发现问题已责令改正（含当场整改）"
    extra = [[t1.task_id, b.uscc, "2023-03-15", order, "责令整改", "2023-04-15", "", "", "", "",
              "", "", "否"],
             [t2.task_id, b.uscc, "2023-04-03", order, "责令整改", "2023-05-03", "", "", "", "",
              "", "", "否"]]
    results = load_results(_results(quarter, tmp_path, "未发现问题", extra), tasks)
    cases = case_register(tasks, results, policy, D(2023, 4, 30))
    closed = cases[cases["reinspection_task"] == quarter["r"].task_id]
    assert sorted(closed["task_id"]) == sorted([b.task_id, t1.task_id])
    assert set(closed["status"]) == {"closed"}
    assert set(closed["date_follow_up_closed"]) == {D(2023, 4, 12)}
    assert _case(cases, t2.task_id)["status"] == "open"


def test_sample_followups_read_back_and_agree_with_the_results(tmp_path, policy):
    """The demo's follow-up file: written with Chinese headers, validated on reading, and the
    cases it gives are the results' own (it repeats their closing dates and adds remarks)."""
    from dsr_analysis.followups import sample_followups, write_followups

    inputs = reports.load_report_inputs("2023Q2")
    as_of = D(2023, 7, 31)
    updates = sample_followups(inputs.results, policy, as_of)
    assert len(updates) and set(updates["remark"]) <= {"承办单位书面反馈已办结", "已逾期，发函督办"}
    path = write_followups(updates, tmp_path / "followups.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[0].startswith("任务编号,更新日期,接收单位")
    back = load_followups(path, inputs.results)
    assert back["task_id"].tolist() == updates["task_id"].tolist()
    plain = case_register(inputs.tasks, inputs.results, policy, as_of)
    updated = case_register(inputs.tasks, inputs.results, policy, as_of, back)
    columns = ["task_id", "status", "date_follow_up_closed", "date_due"]
    pd.testing.assert_frame_equal(plain[columns], updated[columns])
    assert (updated["remark"] != plain["remark"]).sum() == len(updates)


def test_statistics_count_an_order_closed_by_its_reinspection_task(quarter, tmp_path, policy):
    """The statistics table's 整改完成 of 2023Q1 as of 2023-04-12: B's order, closed by the
    re-inspection task's result that day (the results register itself has no closing date)."""
    tasks = quarter["tasks"]
    results = load_results(_results(quarter, tmp_path, "未发现问题"), tasks)
    tasks_q = tasks[tasks["quarter"] == "2023Q1"]
    objects = pd.DataFrame({"category": pd.Series(dtype=str), "positive_list": pd.Series(dtype=bool)})
    inspectors = pd.DataFrame({"active": pd.Series(dtype=bool), "certified": pd.Series(dtype=bool)})
    day = D(2023, 4, 12)
    plain = reports.statistics_row(objects, inspectors, tasks_q, results, policy, day)
    assert (plain["rectification_orders"], plain["rectified"]) == (1, 0)
    cases = case_register(tasks, results, policy, day)
    row = reports.statistics_row(objects, inspectors, tasks_q, results, policy, day, cases)
    assert (row["rectification_orders"], row["rectified"]) == (1, 1)
