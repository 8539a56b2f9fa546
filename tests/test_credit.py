"""dsr credit: the spot-check results in the credit publicity systems' column form, on a
real bureau quarter (雄县 2023Q1, tests/bureau.py) and a results register written by hand."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from dsr_analysis.cli import main
from dsr_analysis.credit import (CREDIT_COLUMNS_ZH, credit_period, write_credit_exports)
from dsr_analysis.errors import ParameterError
from dsr_analysis.policy import load_policy

RESULT_HEADER = ["任务编号", "统一社会信用代码", "检查日期", "检查结果", "后续处置", "处置办结日期",
                 "公示日期", "涉密不予公开", "案件编号", "罚没款金额（元）"]


@pytest.fixture(scope="module")
def march(bureau_quarter, tmp_path_factory):
    """Five results of the bureau's tasks: two published in March 2023 (one an offence
    penalised), one confidential, one checked in March and published in April, one checked
    and published in April."""
    tasks = bureau_quarter.tasks.sort_values("task_id").reset_index(drop=True)
    t = [tasks.loc[i] for i in range(5)]
    rows = [
        [t[0].task_id, t[0].uscc, "2023-03-01", "未发现问题", "无", "", "2023-03-10", "否", "", ""],
        [t[1].task_id, t[1].uscc, "2023-03-02", "违法", "立案处罚", "", "2023-03-15", "否",
         "雄县环罚〔2023〕1号", ""],
        [t[2].task_id, t[2].uscc, "2023-03-03", "发现问题待后续处理", "转办", "", "", "是", "", ""],
        [t[3].task_id, t[3].uscc, "2023-03-20", "发现问题已责令改正", "无", "", "2023-04-05", "否",
         "", ""],
        [t[4].task_id, t[4].uscc, "2023-04-03", "未发现问题", "无", "", "2023-04-20", "否", "", ""],
    ]
    root = tmp_path_factory.mktemp("credit")
    path = root / "results.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(RESULT_HEADER)
        w.writerows(rows)
    policy = load_policy()
    written = write_credit_exports(bureau_quarter.ledger, path, policy, root / "out",
                                   month="2023-03")
    return written, t, path, root


def _csv_rows(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")   # BOM: a Chinese Excel reads UTF-8
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_the_month_holds_the_results_published_in_it_in_the_systems_columns(march):
    written, t, _path, _root = march
    rows = _csv_rows(written.paths[1])
    assert tuple(rows[0]) == CREDIT_COLUMNS_ZH
    assert rows[0][:5] == ["序号", "检查实施机关", "类型", "日期", "结果"]
    body = rows[1:]
    # published in March: t0 and t1 (t3 was checked in March, published in April)
    assert [r[7] for r in body] == [t[0].task_id, t[1].task_id]
    assert body[0] == ["1", "雄县生态环境局", "双随机抽查", "2023-03-01", "未发现问题",
                       t[0].enterprise_name, t[0].uscc, t[0].task_id, "2023-03-10"]
    # an offence (违法) is 发现问题待后续处理 in the publicity system's wording
    assert body[1][:5] == ["2", "雄县生态环境局", "双随机抽查", "2023-03-02", "发现问题待后续处理"]


def test_confidential_results_are_never_exported_and_are_counted(march):
    written, t, _path, _root = march
    assert written.records.withheld == 1
    assert written.records.unpublished == 1          # t3: checked in March, published later
    assert "涉密不予公开 1 条" in written.records.summary()
    for p in written.paths:
        text = p.read_bytes() if p.suffix == ".csv" else b"".join(
            str(c.value).encode() for ws in openpyxl.load_workbook(p).worksheets
            for row in ws.iter_rows() for c in row)
        assert t[2].uscc.encode() not in text
        assert t[2].task_id.encode() not in text


def test_the_per_firm_form_and_the_workbooks(march):
    written, t, _path, _root = march
    rows = _csv_rows(written.paths[3])
    assert rows[0][:3] == ["统一社会信用代码", "企业名称", "序号"]
    assert sorted(r[0] for r in rows[1:]) == [r[0] for r in rows[1:]]
    assert {r[2] for r in rows[1:]} == {"1"}            # each firm checked once
    wb = openpyxl.load_workbook(written.paths[0])
    ws = wb.active
    assert "抽查检查结果信息" in ws["A1"].value
    headers = [c.value for c in ws[3]]
    assert headers == list(CREDIT_COLUMNS_ZH)
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9    # A4
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_a_quarter_and_the_command(march, bureau_quarter, capsys):
    _written, t, path, root = march
    out = root / "cli"
    assert main(["credit", "--quarter", "2023Q2", "--ledger", str(bureau_quarter.ledger),
                 "--results", str(path), "--outputs", str(out), "--unit", "xiongxian"]) == 0
    printed = capsys.readouterr().out
    assert "2023年第二季度" in printed and "2 条" in printed
    rows = _csv_rows(out / "credit" / "credit-2023Q2-xiongxian.csv")
    assert [r[7] for r in rows[1:]] == [t[3].task_id, t[4].task_id]
    with pytest.raises(SystemExit):
        main(["credit", "--quarter", "2023Q2", "--month", "2023-04", "--results", str(path)])


def test_the_period_is_a_month_or_a_quarter():
    assert credit_period(month="2024-02").end.day == 29
    assert credit_period(quarter="2023q4").label == "2023Q4"
    with pytest.raises(ParameterError, match="either a month"):
        credit_period()
    with pytest.raises(Exception, match="not a month"):
        credit_period(month="2023-13")


@pytest.fixture(scope="module")
def twice(bureau_quarter, tmp_path_factory):
    """A firm checked in the routine draw of 2023Q1 and again after a complaint (a targeted
    draw of 2023Q2), both results published in April 2023."""
    from bureau import copy_bureau_quarter

    from dsr_analysis.draw import commit_quarter, draw_and_record
    from dsr_analysis.registers import load_registers

    root = tmp_path_factory.mktemp("twice")
    bq = copy_bureau_quarter(bureau_quarter, root)
    policy = load_policy()
    registers = load_registers(bq.registers, units=policy.unit_names)
    first = bq.tasks.sort_values("task_id").iloc[0]
    target = {"uscc": [first.uscc]}
    commit_quarter(policy, registers, "2023Q2", "举报线索核查（12369）", bq.ledger, bq.outputs,
                   units=["xiongxian"], target=target, campaign="投诉举报核查", origin="complaint")
    result, _e, _p = draw_and_record(policy, registers, "2023Q2", "12369-2023-0789", bq.ledger,
                                     bq.outputs, units=["xiongxian"], target=target,
                                     campaign="投诉举报核查", origin="complaint",
                                     registers_dir=bq.registers)
    second = result.tasks.iloc[0]
    path = root / "results.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(RESULT_HEADER)
        w.writerow([first.task_id, first.uscc, "2023-03-29", "未发现问题", "无", "", "2023-04-06",
                    "否", "", ""])
        w.writerow([second.task_id, second.uscc, "2023-04-11", "发现问题已责令改正", "无", "",
                    "2023-04-18", "否", "", ""])
    written = write_credit_exports(bq.ledger, path, policy, root / "out", month="2023-04")
    return written, first, second


def test_a_firm_checked_twice_has_a_row_per_check(twice):
    written, first, second = twice
    rows = _csv_rows(written.paths[1])[1:]
    assert [(r[2], r[3], r[4], r[7]) for r in rows] == [
        ("双随机抽查", "2023-03-29", "未发现问题", first.task_id),
        ("定向抽查", "2023-04-11", "发现问题已责令改正", second.task_id),   # the complaint check
    ]
    by_firm = _csv_rows(written.paths[3])[1:]
    assert [(r[0], r[2]) for r in by_firm] == [(first.uscc, "1"), (first.uscc, "2")]
    assert written.records.firms == 1


def test_the_results_template_records_a_supervision_order(bureau_quarter, tmp_path):
    """挂牌督办 entered in the results template is read back as the result's
    supervision_order (what the rollover reads)."""
    from dsr_analysis.draw.ledger import load_draw_tasks
    from dsr_analysis.results import load_results, sample_results
    from dsr_analysis.results_entry import fill_results_template, write_results_template

    template = write_results_template("2023Q1", "xiongxian", bureau_quarter.ledger, tmp_path)
    tasks = load_draw_tasks(bureau_quarter.ledger)
    results = sample_results(tasks, seed=11).head(3).copy()
    results["supervision_order"] = [True, False, False]
    filled = fill_results_template(template.path, results, tmp_path / "results.xlsx")
    ws = openpyxl.load_workbook(filled).worksheets[0]
    headers = {c.value: c.column for row in ws.iter_rows(max_row=5) for c in row if c.value}
    assert "挂牌督办" in headers
    back = load_results(filled, tasks).set_index("task_id")
    assert back["supervision_order"].tolist() == [True, False, False]
