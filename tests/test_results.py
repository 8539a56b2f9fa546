"""Results register (R7, R8): validation against the draw, Chinese headers, the sample."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dsr_analysis.errors import RegisterError
from dsr_analysis.draw.ledger import load_draw_tasks
from dsr_analysis.results import (
    RESULT_COLUMNS,
    load_deliveries,
    load_results,
    sample_deliveries,
    sample_results,
    write_deliveries,
    write_results,
)

U1 = "91130638117803261F"
U2 = "911306322086262139"


@pytest.fixture
def tasks() -> pd.DataFrame:
    return pd.DataFrame({
        "task_id": ["2023Q1-xiongxian-0001", "2023Q1-xiongxian-0002", "2023Q2-anxin-0001"],
        "quarter": ["2023Q1", "2023Q1", "2023Q2"],
        "unit": ["xiongxian", "xiongxian", "anxin"],
        "uscc": [U1, U2, U2],
        "enterprise_name": ["甲公司", "乙公司", "乙公司"],
        "credit_class": ["A", "D", "B"],
        "business_line": ["air", "water", "noise"],
    })


def write(tmp_path, text: str, name: str = "results.csv"):
    path = tmp_path / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


HEADER = ("task_id,uscc,date_checked,outcome,follow_up,date_follow_up_closed,date_published,"
          "confidential")


def test_valid_results_with_chinese_headers_and_values(tmp_path, tasks):
    path = write(tmp_path, f"""
任务编号,统一社会信用代码,检查日期,检查结果,后续处置,办结日期,公示日期,涉密不予公开
2023Q1-xiongxian-0001,{U1},2023/2/3,未发现问题,无,,2023年2月10日,否
2023Q1-xiongxian-0002,{U2},2023-03-01,违法,立案处罚,2023-04-20,,是
""")
    frame = load_results(path, tasks)
    assert list(frame.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    assert frame["outcome"].tolist() == ["no_problem", "violation"]
    assert frame["follow_up"].tolist() == ["none", "penalty"]
    assert frame.loc[0, "date_checked"] == dt.date(2023, 2, 3)
    assert frame.loc[0, "date_published"] == dt.date(2023, 2, 10)
    assert frame.loc[1, "date_published"] is None
    assert frame["confidential"].tolist() == [False, True]


def test_every_problem_named_by_file_row_column(tmp_path, tasks):
    path = write(tmp_path, f"""
{HEADER}
2023Q3-nowhere-0009,{U1},2023-07-03,no_problem,none,,,false
2023Q1-xiongxian-0001,{U2},2023-02-03,no_problem,none,,,false
2023Q1-xiongxian-0002,{U2},2022-12-30,violation,none,,,false
2023Q2-anxin-0001,{U2},2023-05-10,problem_found,hand_over,2023-05-01,2023-05-09,false
2023Q1-xiongxian-0001,{U1},2023-02-30,maybe,none,,,perhaps
""")
    with pytest.raises(RegisterError) as err:
        load_results(path, tasks)
    lines = [str(p) for p in err.value.problems]
    f = str(path)
    assert f"{f}:2:task_id: result for task '2023Q3-nowhere-0009' that was never drawn (not in the draw ledger)" in lines
    assert any(line.startswith(f"{f}:3:uscc: '{U2}' is not the object of task "
                               f"2023Q1-xiongxian-0001 (drawn: {U1} 甲公司)") for line in lines)
    assert f"{f}:4:date_checked: 2022-12-30 is before the task's quarter 2023Q1 began (2023-01-01)" in lines
    assert any(line.startswith(f"{f}:4:follow_up: outcome violation needs a follow-up (") for line in lines)
    assert f"{f}:5:date_follow_up_closed: follow-up closed on 2023-05-01, before the check on 2023-05-10" in lines
    assert f"{f}:5:date_published: published on 2023-05-09, before the check on 2023-05-10" in lines
    assert any(line.startswith(f"{f}:6:date_checked: '2023-02-30' is not a date") for line in lines)
    assert any(line.startswith(f"{f}:6:outcome: unknown outcome 'maybe'") for line in lines)
    assert any(line.startswith(f"{f}:6:confidential: 'perhaps' is not a boolean") for line in lines)
    assert any(line.startswith(f"{f}:6:task_id: duplicate task_id '2023Q1-xiongxian-0001' (first seen in row 3)")
               for line in lines)


def test_follow_up_and_confidential_rules(tmp_path, tasks):
    path = write(tmp_path, f"""
{HEADER}
2023Q1-xiongxian-0001,{U1},2023-02-03,no_problem,penalty,,,false
2023Q1-xiongxian-0002,{U2},2023-02-03,no_problem,none,2023-02-04,,false
2023Q2-anxin-0001,{U2},2023-05-10,no_problem,none,,2023-05-20,true
""")
    with pytest.raises(RegisterError) as err:
        load_results(path, tasks)
    text = str(err.value)
    assert ":2:follow_up: follow-up 'penalty' but the outcome is no_problem" in text
    assert ":3:date_follow_up_closed: a closing date but no follow-up" in text
    assert ":4:date_published: a confidential result is withheld and cannot" in text
    assert "3 problem(s)" in text


def test_missing_column_names_accepted_headers(tmp_path, tasks):
    path = write(tmp_path, f"task_id,uscc,outcome,follow_up,confidential\n2023Q1-xiongxian-0001,{U1},no_problem,none,false")
    with pytest.raises(RegisterError, match=r"results\.csv:1:date_checked: missing required column "
                                            r"'date_checked' \(accepted headers: date_checked, 检查日期, 抽查日期\)"):
        load_results(path, tasks)


def test_write_then_load_round_trip(tmp_path, tasks):
    frame = sample_results(tasks, seed=1)
    path = write_results(frame, tmp_path / "r.csv")
    back = load_results(path, tasks)
    pd.testing.assert_frame_equal(back[RESULT_COLUMNS], frame[RESULT_COLUMNS].reset_index(drop=True),
                                  check_dtype=False)


@pytest.fixture(scope="module")
def demo_tasks_2023q1(tmp_path_factory):
    """The demo draw of 2023Q1 recorded in a real SQLite ledger."""
    from dsr_analysis.draw import commit_quarter, draw_and_record
    from dsr_analysis.sample import DEMO_SEED_MATERIAL
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers

    out = tmp_path_factory.mktemp("demo")
    pol = load_policy()
    reg = load_registers(units=pol.unit_names)
    commit_quarter(pol, reg, "2023Q1", "test", out / "ledger.sqlite", out)
    draw_and_record(pol, reg, "2023Q1", DEMO_SEED_MATERIAL.format(quarter="2023Q1"),
                    out / "ledger.sqlite", out)
    return load_draw_tasks(out / "ledger.sqlite"), out


def test_sample_results_belong_to_the_demo_draw_and_validate(demo_tasks_2023q1, policy):
    tasks, out = demo_tasks_2023q1
    results = sample_results(tasks, policy=policy)
    assert set(results["task_id"]) <= set(tasks["task_id"])
    merged = results.merge(tasks[["task_id", "uscc"]], on="task_id", suffixes=("", "_task"))
    assert (merged["uscc"] == merged["uscc_task"]).all()
    path = write_results(results, out / "results.csv")
    assert len(load_results(path, tasks)) == len(results)   # the validator accepts the sample
    # Deterministic, and realistic: most tasks checked, a few violations, most published.
    again = sample_results(tasks, policy=policy)
    pd.testing.assert_frame_equal(results, again)
    assert 0.95 < len(results) / len(tasks) <= 1.0
    assert 0.01 < (results["outcome"] == "violation").mean() < 0.15
    assert results.loc[~results["confidential"], "date_published"].notna().mean() > 0.9


def test_deliveries_round_trip_and_errors(tmp_path, policy):
    frame = sample_deliveries(policy, 2023)
    assert len(frame) == 4 * 3 * 2   # quarters x counties x (summary, statistics)
    path = write_deliveries(frame, tmp_path / "d.csv")
    back = load_deliveries(path, policy.unit_names)
    assert back["date_delivered"].tolist() == frame["date_delivered"].tolist()
    bad = write(tmp_path, "unit,quarter,report,date_delivered\nnowhere,2023Q5,memo,soon", "bad.csv")
    with pytest.raises(RegisterError) as err:
        load_deliveries(bad, policy.unit_names)
    text = str(err.value)
    assert "bad.csv:2:unit: unknown unit 'nowhere'" in text
    assert "bad.csv:2:quarter: '2023Q5' is not a quarter" in text
    assert "bad.csv:2:report: unknown report 'memo'" in text
    assert "bad.csv:2:date_delivered: 'soon' is not a date" in text


def test_sample_results_speak_the_vocabulary_of_practice(demo_tasks_2023q1, policy):
    """The demo shows what staff record: problems corrected on the spot, orders to correct
    with a deadline, penalties with a case number and (once closed) a fine, firms closed or
    not operating, and only follow-ups that fit their outcome."""
    from dsr_analysis.schema import FOLLOW_UPS_ALLOWED

    tasks, _ = demo_tasks_2023q1
    r = sample_results(tasks, policy=policy)
    pairs = set(zip(r["outcome"], r["follow_up"], strict=True))
    assert {("corrected", "none"), ("corrected", "rectification_order")} <= pairs
    assert all(f in FOLLOW_UPS_ALLOWED[o] for o, f in pairs)
    orders = r[r["follow_up"] == "rectification_order"]
    assert len(orders) and orders["rectification_deadline"].notna().all()
    assert (orders["rectification_deadline"] > orders["date_checked"]).all()
    fined = r[r["follow_up"] == "penalty"]
    assert len(fined) and (fined["case_number"] != "").all()
    closed = fined["date_follow_up_closed"].notna()
    assert fined.loc[closed, "penalty_amount"].notna().all()
    assert fined.loc[~closed, "penalty_amount"].isna().all()   # decided when the case closes
    assert r["outcome"].isin(["closed", "no_activity", "unreachable"]).sum() >= 3


def test_amounts_read_as_official_text_writes_them():
    """Whole yuan from 10,000 up in 万元, exactly (to the yuan); anything with fen, or below
    10,000, in 元: the figure is never rounded."""
    from dsr_analysis.results import amount_zh

    assert amount_zh(1_530_000) == "153万元"
    assert amount_zh(12_500) == "1.25万元"
    assert amount_zh(123_456) == "12.3456万元"
    assert amount_zh(10_000.0) == "1万元"
    assert amount_zh(8_000) == "8000元"
    assert amount_zh(12_500.5) == "12500.5元"
