"""dsr rollover: next year's registers from this year's results and tasks, on a real bureau
quarter (雄县 2023Q1, tests/bureau.py) plus a complaint-driven targeted draw in 2023Q2, with
a results register written by hand; the flags expected are worked out by hand below."""

from __future__ import annotations

import csv
import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest

from dsr_analysis.categories import classify
from dsr_analysis.cli import main
from dsr_analysis.draw import commit_quarter, draw_and_record
from dsr_analysis.draw.ledger import load_draw_tasks
from dsr_analysis.errors import DsrError, PolicyError
from dsr_analysis.paths import DEFAULT_POLICY
from dsr_analysis.policy import Rollover, load_policy
from dsr_analysis.registers import load_registers
from dsr_analysis.rollover import derive_flags, rollover

UNIT = "xiongxian"
RESULT_HEADER = ["任务编号", "统一社会信用代码", "检查日期", "检查结果", "后续处置", "处置办结日期",
                 "公示日期", "涉密不予公开", "案件编号", "挂牌督办"]


def _only_special_by_penalty(frame: pd.DataFrame) -> pd.Series:
    """Firms whose one special condition is last year's penalty (Xiong'an 2023 conditions)."""
    return (frame["penalised_last_year"] & ~frame["supervision_order_last_year"]
            & (frame["complaints_last_year"] < 3) & (frame["credit_class"] != "D")
            & (frame["emergency_risk"] != "major") & ~frame["positive_list"])


@pytest.fixture(scope="module")
def rolled(bureau_quarter, tmp_path_factory):
    """The bureau's 2023 (Q1 routine draw + a Q2 complaint draw of firm E), a hand-written
    results register, and the rollover to 2024."""
    from bureau import copy_bureau_quarter

    root = tmp_path_factory.mktemp("rollover")
    bq = copy_bureau_quarter(bureau_quarter, root)
    policy = load_policy()
    registers = load_registers(bq.registers, units=policy.unit_names)
    ent = registers.enterprises
    drawn = set(bq.tasks["uscc"])
    tasks = bq.tasks.sort_values("task_id").reset_index(drop=True)
    # A: penalised in 2022 only (flag true now), never checked in 2023
    a = ent[_only_special_by_penalty(ent) & ~ent["uscc"].isin(drawn)].iloc[0]
    # B: drawn, not penalised before, an offence penalised in 2023 (case opened and closed)
    not_special = classify(ent, policy)["category"] != "special"
    b_uscc = next(u for u in tasks["uscc"] if bool(not_special[ent["uscc"] == u].iloc[0]))
    # C: drawn, on the positive list, penalty case opened in 2023 and closed in 2024 (it
    # leaves the list); D: put under supervision order
    listed = set(ent.loc[ent["positive_list"], "uscc"])
    c_uscc = next(u for u in tasks["uscc"] if u != b_uscc and u in listed)
    d_uscc = next(u for u in tasks["uscc"] if u not in (b_uscc, c_uscc))
    # E: not drawn in Q1, not on the positive list, complaints count 2 in the 2023 register
    e = ent[~ent["uscc"].isin(drawn) & ~ent["positive_list"] & (ent["uscc"] != a["uscc"])
            ].iloc[0]
    # The complaint about E: a targeted draw in 2023Q2, origin complaint
    target = {"uscc": [e["uscc"]]}
    commit_quarter(policy, registers, "2023Q2", "举报线索核查（12369）", bq.ledger, bq.outputs,
                   units=[UNIT], target=target, campaign="投诉举报核查", origin="complaint")
    result, _entry, _paths = draw_and_record(policy, registers, "2023Q2", "12369-2023-0456",
                                             bq.ledger, bq.outputs, units=[UNIT], target=target,
                                             campaign="投诉举报核查", origin="complaint",
                                             registers_dir=bq.registers)
    e_task = result.tasks["task_id"].iloc[0]
    task_of = dict(zip(tasks["uscc"], tasks["task_id"], strict=True))
    rows = [
        [task_of[b_uscc], b_uscc, "2023-02-10", "违法", "立案处罚", "2023-03-20", "2023-02-20", "否",
         "雄县环罚〔2023〕1号", "否"],
        [task_of[c_uscc], c_uscc, "2023-03-28", "违法", "立案处罚", "2024-01-10", "2023-04-10", "否",
         "雄县环罚〔2023〕2号", "否"],
        [task_of[d_uscc], d_uscc, "2023-03-15", "发现问题待后续处理", "转办", "", "2023-03-30", "否",
         "", "是"],
        [e_task, e["uscc"], "2023-05-08", "未发现问题", "无", "", "2023-05-20", "否", "", ""],
    ]
    results = root / "results.csv"
    with open(results, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(RESULT_HEADER)
        w.writerows(rows)
    out = root / "out"
    res = rollover(2024, bq.ledger, results, policy, out, registers_dir=bq.registers)
    return {"bq": bq, "policy": policy, "registers": registers, "result": res, "out": out,
            "results": results, "A": a["uscc"], "B": b_uscc, "C": c_uscc, "D": d_uscc,
            "E": e["uscc"], "E_before": int(e["complaints_last_year"])}


def test_the_flags_are_those_worked_out_by_hand(rolled):
    new = load_registers(rolled["result"].directory, units=rolled["policy"].unit_names)
    ent = new.enterprises.set_index("uscc")
    # penalised in 2023: B (case opened 2023-02-10) and C (opened 2023-03-28, closed 2024)
    assert set(ent.index[ent["penalised_last_year"]]) == {rolled["B"], rolled["C"]}
    # A's penalty of 2022 does not carry over
    assert not ent.loc[rolled["A"], "penalised_last_year"]
    # supervision order: D only (挂牌督办 = 是); every earlier order is gone
    assert set(ent.index[ent["supervision_order_last_year"]]) == {rolled["D"]}
    # complaints: E's one complaint task of 2023 replaces its count; nobody else has any
    assert set(ent.index[ent["complaints_last_year"] > 0]) == {rolled["E"]}
    assert ent.loc[rolled["E"], "complaints_last_year"] == 1
    # C, penalised, leaves the positive list; nobody else's place on it changes
    old = rolled["registers"].enterprises.set_index("uscc")
    assert old.loc[rolled["C"], "positive_list"] and not ent.loc[rolled["C"], "positive_list"]
    left = old["positive_list"] & ~ent["positive_list"]
    assert set(old.index[left]) == {rolled["C"]}
    assert not (ent["positive_list"] & ~old["positive_list"]).any()
    assert rolled["result"].left_positive_list == 1
    # every other column unchanged
    others = [c for c in old.columns if c not in ("penalised_last_year",
                                                  "supervision_order_last_year",
                                                  "complaints_last_year", "positive_list")]
    pd.testing.assert_frame_equal(ent[others], old[others])


def test_penalised_becomes_special_and_an_older_penalty_does_not_stay(rolled):
    policy = rolled["policy"]
    new = load_registers(rolled["result"].directory, units=policy.unit_names)
    cat = classify(new.enterprises, policy).set_index("uscc")["category"]
    assert cat[rolled["B"]] == "special"
    assert cat[rolled["A"]] != "special"
    changes = rolled["result"].changes.set_index("统一社会信用代码")
    assert changes.loc[rolled["B"], "2024年类别"] == "特殊监管对象"
    assert "雄县环罚〔2023〕1号" in changes.loc[rolled["B"], "变化原因"]
    assert changes.loc[rolled["A"], "2023年类别"] == "特殊监管对象"
    assert changes.loc[rolled["A"], "受到行政处罚（2022年→2023年）"] == "是→否"
    assert "不延续" in changes.loc[rolled["A"], "变化原因"]
    # C: on the positive list (general), penalised in 2023 -> off the list, special
    assert changes.loc[rolled["C"], "正面清单"] == "是→否"
    assert changes.loc[rolled["C"], "2024年类别"] == "特殊监管对象"
    assert "移出正面清单" in changes.loc[rolled["C"], "变化原因"]


def test_the_workbook_keeps_its_title_headers_and_other_files(rolled):
    bq, res = rolled["bq"], rolled["result"]
    src = openpyxl.load_workbook(bq.registers / "enterprises.xlsx").active
    dst = openpyxl.load_workbook(res.directory / "enterprises.xlsx").active
    assert dst["A1"].value == src["A1"].value            # the title row
    assert [c.value for c in dst[2]] == [c.value for c in src[2]]   # the Chinese headers
    flags = {"上年度受到行政处罚", "上年度挂牌督办", "上年度有效投诉举报次数", "是否纳入正面清单"}
    keep = [i for i, c in enumerate(src[2]) if c.value not in flags]
    for r_src, r_dst in zip(src.iter_rows(min_row=3, values_only=True),
                            dst.iter_rows(min_row=3, values_only=True), strict=True):
        assert [r_src[i] for i in keep] == [r_dst[i] for i in keep]
    spelled = {dst.cell(r, 11).value for r in range(3, dst.max_row + 1)}
    assert spelled == {"是", "否"}                         # the column's own spelling
    for name in ("inspectors.csv", "items.csv", "experts.csv"):
        assert (res.directory / name).read_bytes() == (bq.registers / name).read_bytes()


def test_the_change_report(rolled):
    res, policy = rolled["result"], rolled["policy"]
    wb = openpyxl.load_workbook(res.report)
    assert wb.sheetnames == ["类别变化", "类别统计"]
    notes = " ".join(str(c.value) for row in wb["类别变化"].iter_rows() for c in row if c.value)
    assert "尚未确定" in notes and "现行" in notes
    # counts after = the categories of the written register, read back
    new = load_registers(res.directory, units=policy.unit_names)
    after = classify(new.enterprises, policy)["category"].value_counts()
    counts = res.counts.set_index("监管类别")
    for cat, zh in (("special", "特殊监管对象"), ("key", "重点监管对象"), ("general", "一般监管对象")):
        assert counts.loc[zh, "2024年"] == after.get(cat, 0)
    assert counts.loc["合计", "2023年"] == counts.loc["合计", "2024年"] == 111


def test_the_rolled_over_register_commits_and_draws_2024(rolled, tmp_path):
    bq, res = rolled["bq"], rolled["result"]
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    policy_2024 = tmp_path / "xiongan-2024.yaml"
    policy_2024.write_text(re.sub(r"(?m)^year: 2023", "year: 2024", text), encoding="utf-8")
    policy = load_policy(policy_2024)
    registers = load_registers(res.directory, units=policy.unit_names)
    commit_quarter(policy, registers, "2024Q1", "中国福利彩票双色球第2024010期开奖号码", bq.ledger,
                   bq.outputs, units=[UNIT])
    draw_and_record(policy, registers, "2024Q1", "01 05 11 19 26 30 / 12", bq.ledger,
                    bq.outputs, units=[UNIT], registers_dir=res.directory)
    drawn = load_draw_tasks(bq.ledger, "2024Q1")
    assert len(drawn) > 0
    # B, penalised in 2023, is a special object of 2024
    assert (drawn["category"][drawn["uscc"] == rolled["B"]] == "special").all()


def test_never_over_the_source_nor_into_a_full_directory(rolled, tmp_path):
    bq, policy = rolled["bq"], rolled["policy"]
    with pytest.raises(DsrError, match="cannot be written over the source"):
        rollover(2024, bq.ledger, rolled["results"], policy, tmp_path,
                 registers_dir=bq.registers, to=bq.registers)
    with pytest.raises(DsrError, match="not empty"):
        rollover(2024, bq.ledger, rolled["results"], policy, tmp_path,
                 registers_dir=bq.registers, to=rolled["result"].directory)
    with pytest.raises(DsrError, match="cannot be written over the source"):
        rollover(2024, bq.ledger, rolled["results"], policy, tmp_path,
                 registers_dir=bq.registers, to=bq.registers / "2024")
    with pytest.raises(DsrError, match="no task of 2029 in the ledger"):
        rollover(2030, bq.ledger, rolled["results"], policy, tmp_path,
                 registers_dir=bq.registers, to=tmp_path / "r2030")
    assert not list(tmp_path.iterdir())          # nothing written


def test_the_command(rolled, tmp_path, capsys):
    bq = rolled["bq"]
    assert main(["rollover", "--year", "2024", "--ledger", str(bq.ledger), "--results",
                 str(rolled["results"]), "--registers", str(bq.registers), "--outputs",
                 str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "上年度受到行政处罚 2 户" in printed
    assert (tmp_path / "registers-2024" / "enterprises.xlsx").is_file()
    assert (tmp_path / "rollover-2024" / "category-changes-2024.xlsx").is_file()
    args = ["rollover", "--year", "2024", "--ledger", str(bq.ledger), "--results",
            str(rolled["results"]), "--registers", str(bq.registers), "--outputs", str(tmp_path)]
    assert main(args) == 2                                  # never into a full directory
    assert "not empty" in capsys.readouterr().err
    again = rollover(2024, bq.ledger, rolled["results"], rolled["policy"], tmp_path,
                     registers_dir=bq.registers, replace=True)   # a re-run demo
    assert sorted(p.name for p in again.directory.iterdir()) == \
        ["enterprises.xlsx", "experts.csv", "inspectors.csv", "items.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_the_derivation_settings():
    """Small frames, counted by hand: which date puts a penalty in the year, supervision
    orders by follow-up type, complaints confirmed only, a merged visit counted once."""
    ent = pd.DataFrame({"uscc": ["F1", "F2", "F3"]})
    tasks = pd.DataFrame({
        "task_id": ["t1", "t2", "t3", "t4", "t5"],
        "quarter": ["2023Q1", "2023Q2", "2023Q2", "2023Q4", "2022Q4"],
        "uscc": ["F1", "F2", "F2", "F3", "F3"],
        "origin": ["routine", "complaint", "complaint", "complaint", "complaint"],
        "merged_with": ["", "t3", "t2", "", ""],
    })
    results = pd.DataFrame({
        "task_id": ["t1", "t2", "t4"], "uscc": ["F1", "F2", "F3"],
        "date_checked": [_day("2023-12-20"), _day("2023-05-02"), _day("2023-11-02")],
        "outcome": ["violation", "no_problem", "violation"],
        "follow_up": ["penalty", "none", "judicial_referral"],
        "date_follow_up_closed": [_day("2024-01-15"), None, _day("2023-12-01")],
        "case_number": ["雄县环罚〔2023〕9号", "", ""],
        "supervision_order": [False, False, False],
    })
    flags = derive_flags(ent, tasks, results, 2023, Rollover()).set_index(ent["uscc"])
    assert flags["penalised_last_year"].tolist() == [True, False, False]
    assert flags["supervision_order_last_year"].tolist() == [False, False, False]
    # F2: two tasks of one merged visit -> 1; F3: the 2022 complaint is not this year's
    assert flags["complaints_last_year"].tolist() == [0, 1, 1]
    settings = Rollover(penalty_year_by="date_follow_up_closed",
                        supervision_order_follow_ups=("judicial_referral",),
                        complaints_confirmed_only=True)
    flags = derive_flags(ent, tasks, results, 2023, settings).set_index(ent["uscc"])
    assert flags["penalised_last_year"].tolist() == [False, False, False]   # closed in 2024
    assert flags["supervision_order_last_year"].tolist() == [False, False, True]
    assert flags["complaints_last_year"].tolist() == [0, 0, 1]     # F2's check found nothing


def test_the_policy_section(tmp_path):
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    # the plan without its rollover section (the defaults apply to what a section leaves out)
    start = text.index("\nrollover:")
    end = text.find("\n\n", start + 1)
    text = text[:start] + (text[end:] if end >= 0 else "\n")
    good = tmp_path / "good.yaml"
    good.write_text(text + "\nrollover:\n  rule: R2\n  penalty_year_by: date_follow_up_closed\n"
                    "  complaint_origins: [complaint, data_lead]\n", encoding="utf-8")
    policy = load_policy(good)
    assert policy.rollover.penalty_year_by == "date_follow_up_closed"
    assert policy.rollover.complaint_origins == ("complaint", "data_lead")
    assert policy.rollover.supervision_order_column is True
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "\nrollover:\n  supervision_order_follow_ups: [warning]\n",
                   encoding="utf-8")
    with pytest.raises(PolicyError, match=r"rollover.supervision_order_follow_ups\[0\]"):
        load_policy(bad)


def test_a_csv_register_stays_csv_in_its_encoding_with_its_title(rolled, tmp_path):
    """The register as a GB18030 CSV with a title line above the Chinese headers: the new one
    is the same kind of file, only the three columns changed."""
    import shutil

    from bureau import ENTERPRISE_HEADERS_ZH

    bq, policy = rolled["bq"], rolled["policy"]
    source = tmp_path / "registers"
    shutil.copytree(bq.registers, source)
    xlsx = openpyxl.load_workbook(source / "enterprises.xlsx").active
    lines = [["雄县检查对象名录库（CSV导出）"]] + [
        ["" if v is None else str(v) for v in row] for row in xlsx.iter_rows(min_row=2,
                                                                             values_only=True)]
    (source / "enterprises.xlsx").unlink()
    with open(source / "enterprises.csv", "w", encoding="gb18030", newline="") as fh:
        csv.writer(fh).writerows(lines)
    res = rollover(2024, bq.ledger, rolled["results"], policy, tmp_path / "out",
                   registers_dir=source)
    written = res.directory / "enterprises.csv"
    assert res.paths[0] == written
    text = written.read_bytes().decode("gb18030")        # still GB18030
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["雄县检查对象名录库（CSV导出）"]
    assert rows[1] == lines[1]
    assert rows[1][10] == ENTERPRISE_HEADERS_ZH["penalised_last_year"]
    changed = {7, 10, 11, 12}      # 是否纳入正面清单 and the three flags
    for old, new in zip(lines[2:], rows[2:], strict=True):
        assert [v for i, v in enumerate(old) if i not in changed] == \
               [v for i, v in enumerate(new) if i not in changed]
    new = load_registers(res.directory, units=policy.unit_names).enterprises.set_index("uscc")
    assert set(new.index[new["penalised_last_year"]]) == {rolled["B"], rolled["C"]}
    assert new.loc[rolled["E"], "complaints_last_year"] == 1
