"""Re-inspections (复查) as drawn tasks: due from the results register and the ledger, drawn
next quarter (origin follow_up, on-site, every firm, not counted by the yearly cap), replayed
by ``dsr verify`` and by the standard-library replay."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dsr_analysis.cli import main as cli_main
from dsr_analysis.draw.ledger import entries, load_draw_tasks
from dsr_analysis.draw.outputs import check_outputs
from dsr_analysis.draw.protocol import ProtocolError, follow_ups_sha256
from dsr_analysis.draw.reinspection import (commit_reinspections, draw_reinspections,
                                            follow_up_campaign, reinspections_due,
                                            withheld_reinspections)
from dsr_analysis.draw.verify import verify_ledger
from dsr_analysis.overlap import OverlapRules, earlier_checks
from dsr_analysis.paths import PROJECT_ROOT
from dsr_analysis.registers import load_registers
from dsr_analysis.results import load_results

SEED_SOURCE = "中国福利彩票双色球第2023040期开奖号码（2023年4月11日开奖）"
SEED_MATERIAL = "02 11 17 20 26 33 / 05"
HEADER = ("任务编号,统一社会信用代码,检查日期,检查结果,后续处置,整改期限,办结日期,复查日期,复查结果,"
          "涉密不予公开")


def results_file(path: Path, tasks: pd.DataFrame) -> Path:
    """Six results of the bureau's 2023Q1 tasks, one per case (hand-made)."""
    t = tasks.set_index("task_id")["uscc"]
    ids = list(t.index[:6])
    rows = [
        # 0: ordered to correct, open -> due in 2023Q2
        f"{ids[0]},{t[ids[0]]},2023-02-10,违法,责令改正,2023-05-10,,,,否",
        # 1: ordered to correct, closed before 2023Q2 -> not due
        f"{ids[1]},{t[ids[1]]},2023-02-11,发现问题已责令改正,责令改正,2023-03-01,2023-03-20,,,否",
        # 2: ordered to correct, re-inspected before 2023Q2 -> not due
        f"{ids[2]},{t[ids[2]]},2023-02-12,违法,责令改正,2023-03-05,,2023-03-25,已整改,否",
        # 3: no problem -> nothing to re-inspect
        f"{ids[3]},{t[ids[3]]},2023-02-13,未发现问题,无,,,,,否",
        # 4: penalty with a rectification deadline, open, confidential -> withheld
        f"{ids[4]},{t[ids[4]]},2023-02-14,违法,立案处罚,2023-04-30,,,,是",
        # 5: ordered to correct, deadline in 2023Q3 -> not due in 2023Q2 (due in 2023Q3)
        f"{ids[5]},{t[ids[5]]},2023-03-01,违法,责令改正,2023-08-31,,,,否",
    ]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fu(bureau_copy, policy, tmp_path):
    """The bureau's quarter, its results register and its 2023Q2 re-inspection draw."""
    registers = load_registers(bureau_copy.registers, units=policy.unit_names)
    results = results_file(tmp_path / "results.csv", bureau_copy.tasks)
    plan, (record, entry, page) = commit_reinspections(
        policy, registers, "2023Q2", results, bureau_copy.ledger, bureau_copy.outputs,
        seed_source=SEED_SOURCE, seed_form="numbers")
    plan2, (result, drawn, paths) = draw_reinspections(
        policy, registers, "2023Q2", results, SEED_MATERIAL, bureau_copy.ledger,
        bureau_copy.outputs, registers_dir=bureau_copy.registers)
    return dict(quarter=bureau_copy, registers=registers, results=results, plan=plan,
                commitment=record, page=page, result=result, entry=drawn, paths=paths)


def test_due_from_results_and_ledger(bureau_quarter, tmp_path, policy):
    tasks = load_draw_tasks(bureau_quarter.ledger)
    results = load_results(results_file(tmp_path / "r.csv", bureau_quarter.tasks), tasks)
    ids = list(bureau_quarter.tasks["task_id"][:6])
    due = reinspections_due(results, tasks, "2023Q2", policy)
    assert due["task_id"].tolist() == [ids[0]]
    assert due.loc[0, "unit"] == "xiongxian"
    assert due.loc[0, "deadline"] == dt.date(2023, 5, 10)
    assert withheld_reinspections(results, tasks, "2023Q2")["task_id"].tolist() == [ids[4]]
    # the deadline in 2023Q3: due then, with the open order of 2023Q1
    later = reinspections_due(results, tasks, "2023Q3")
    assert sorted(later["task_id"]) == sorted([ids[0], ids[5]])
    assert later.equals(later.sort_values(["unit", "uscc", "task_id"]))  # in register order
    # not before the quarter after the check
    assert reinspections_due(results, tasks, "2023Q1").empty


def test_follow_up_task_drawn_next_quarter(fu, policy):
    rec = fu["result"].record
    ids = list(fu["quarter"].tasks["task_id"][:6])
    uscc = fu["quarter"].tasks.set_index("task_id").loc[ids[0], "uscc"]
    assert fu["entry"].draw_key == "targeted:FU"
    assert rec["inputs"]["follow_ups"] == {"xiongxian": {uscc: [ids[0]]}}
    assert fu["commitment"]["inputs"]["follow_ups"] == rec["inputs"]["follow_ups"]
    tasks = fu["result"].tasks
    assert tasks["task_id"].tolist() == ["2023Q2-xiongxian-FU-0001"]
    t = tasks.iloc[0]
    assert (t["uscc"], t["origin"], t["method"], t["draw_mode"]) == (
        uscc, "follow_up", "onsite", "targeted")
    assert t["inclusion_probability"] == 1.0
    assert len(t["inspector_ids"].split(";")) >= 2
    assert rec["strata"][0]["stratum"].endswith("/follow_up")
    # the announcement says it is a re-inspection draw, with the number of firms per unit
    page = fu["page"].read_text(encoding="utf-8")
    assert "复查抽取公告" in page and "雄县1家" in page
    assert uscc not in page  # the firms are fixed by digest, not named
    assert follow_ups_sha256(rec["inputs"]["follow_ups"]) in page
    # the team's task sheet says which check's order it follows up, and why on site
    from dsr_analysis.fieldwork import build_fieldwork

    (work,) = build_fieldwork(fu["quarter"].ledger, "2023Q2", policy, fu["quarter"].outputs)
    text = repr(work.sheets.blocks)
    assert f"原检查任务{ids[0]}责令改正，本次复查整改情况" in text
    assert "责令改正后复查，现场检查" in text
    # the firm is re-inspected now: no longer due, and the next re-inspection draw is FU2
    plan, done = commit_reinspections(
        policy, fu["registers"], "2023Q2", fu["results"], fu["quarter"].ledger,
        fu["quarter"].outputs, seed_source=SEED_SOURCE)
    assert plan.due.empty and done is None
    assert follow_up_campaign(fu["quarter"].ledger, "2023Q2") == "FU2"


def test_follow_up_draw_replays(fu):
    assert verify_ledger(fu["quarter"].ledger) == []
    assert check_outputs(fu["quarter"].ledger, fu["quarter"].outputs) == []
    assert Path(fu["paths"]["record"]).parts[-5:] == (
        "2023Q2", "targeted-FU", "xiongxian", "public", "record.json")
    script = PROJECT_ROOT / "scripts" / "replay_draw.py"
    public, internal = fu["paths"]["record"], fu["paths"]["internal"]
    for extra in ([], ["--internal", str(internal)]):
        run = subprocess.run([sys.executable, str(script), str(public), *extra],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        assert "all match the record" in run.stdout
    # a changed list of firms does not replay
    rec = json.loads(Path(public).read_text(encoding="utf-8"))
    rec["inputs"]["follow_ups"]["xiongxian"]["91130638000000000X"] = []
    bad = Path(public).with_name("tampered.json")
    bad.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 1 and "MISMATCH" in run.stderr


def test_follow_ups_not_counted_by_the_yearly_cap(fu, policy):
    tasks = load_draw_tasks(fu["quarter"].ledger)
    rules = OverlapRules.from_policy(policy)   # the policy does not list follow_up
    assert "follow_up" not in policy.draw.cap_exemptions
    checks = earlier_checks(
        list(zip(tasks["unit"], tasks["uscc"], tasks["origin"], strict=True)), "xiongxian",
        {u.id: u.level for u in policy.units}, rules)
    uscc = fu["result"].tasks.iloc[0]["uscc"]
    assert checks.rounds[uscc] == 2          # the check and the re-inspection
    assert checks.counted[uscc] == 1         # only the check counts towards the cap


def test_draw_refused_when_the_due_firms_changed(bureau_copy, policy, tmp_path):
    registers = load_registers(bureau_copy.registers, units=policy.unit_names)
    results = results_file(tmp_path / "results.csv", bureau_copy.tasks)
    commit_reinspections(policy, registers, "2023Q2", results, bureau_copy.ledger,
                         bureau_copy.outputs, seed_source=SEED_SOURCE)
    # a closed order is reopened in the register after the commitment: the draw is refused
    text = results.read_text(encoding="utf-8").replace(",2023-03-01,2023-03-20,,,否",
                                                       ",2023-03-01,,,,否")
    results.write_text(text, encoding="utf-8")
    before = len(entries(bureau_copy.ledger))
    with pytest.raises(ProtocolError, match="now due, not committed: xiongxian:"):
        draw_reinspections(policy, registers, "2023Q2", results, SEED_MATERIAL,
                           bureau_copy.ledger, bureau_copy.outputs)
    # every order closed since: nothing due, and the commitment waiting is named
    results.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"commitment #\d+ fixed 1 firm\(s\) to re-inspect "
                                            "in 2023Q2, and none is due now"):
        draw_reinspections(policy, registers, "2023Q2", results, SEED_MATERIAL,
                           bureau_copy.ledger, bureau_copy.outputs)
    assert len(entries(bureau_copy.ledger)) == before


def test_cli_none_due_writes_nothing(bureau_copy, tmp_path, capsys):
    path = tmp_path / "results.csv"
    t = bureau_copy.tasks.iloc[0]
    path.write_text(HEADER + f"\n{t['task_id']},{t['uscc']},2023-02-10,未发现问题,无,,,,,否\n",
                    encoding="utf-8")
    before = len(entries(bureau_copy.ledger))
    rc = cli_main(["commit", "--quarter", "2023Q2", "--follow-ups", str(path),
                   "--registers", str(bureau_copy.registers), "--ledger",
                   str(bureau_copy.ledger), "--outputs", str(bureau_copy.outputs),
                   "--seed-source", SEED_SOURCE])
    assert rc == 0
    assert "no re-inspection (复查) is due in 2023Q2: nothing was written" in capsys.readouterr().out
    assert len(entries(bureau_copy.ledger)) == before


def _replay_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "replay_draw", PROJECT_ROOT / "scripts" / "replay_draw.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("between", ["avoid", "merge"])
def test_area_level_and_county_re_inspect_without_overlap_control(bureau_quarter, policy,
                                                                  between):
    """The area level re-inspects a county's firm the county re-inspects too: never excluded
    (avoid), one joint visit (merge); the standard-library replay agrees on both parts."""
    from dsr_analysis.draw import draw_quarter
    from dsr_analysis.draw.record import split_record

    pol = dataclasses.replace(policy, draw=dataclasses.replace(policy.draw,
                                                               between_levels=between))
    registers = load_registers(bureau_quarter.registers, units=policy.unit_names)
    a, b, c = sorted(registers.enterprises["uscc"])[:3]
    follow_ups = {"xiongan": {a: ["2023Q1-xiongan-0007"], b: ["2023Q1-xiongan-0009"]},
                  "xiongxian": {b: ["2023Q1-xiongxian-0003"], c: ["2023Q1-xiongxian-0004"]}}
    result = draw_quarter(pol, registers, "2023Q2", "复查 2023Q2", follow_ups=follow_ups,
                          campaign="FU")
    tasks = result.tasks
    assert result.record["units"] == ["xiongxian", "xiongan"]   # counties first
    assert sorted(tasks.loc[tasks["unit"] == "xiongan", "uscc"]) == [a, b]
    assert sorted(tasks.loc[tasks["unit"] == "xiongxian", "uscc"]) == [b, c]
    assert all(s["excluded"] == [] for s in result.record["strata"])
    assert set(tasks["method"]) == {"onsite"}
    merged = tasks.loc[tasks["uscc"] == b, "merged_with"].tolist()
    assert all(merged) if between == "merge" else not any(merged)
    replay = _replay_module()
    public, internal = split_record(result.record)
    replay.replay(json.loads(json.dumps(public)))
    _seed, replayed = replay.replay(json.loads(json.dumps(public)),
                                    internal=json.loads(json.dumps(internal)))
    assert [t["task_id"] for t in replayed] == tasks["task_id"].tolist()


def test_cli_commit_and_draw_follow_ups(bureau_copy, tmp_path, capsys):
    results = results_file(tmp_path / "results.csv", bureau_copy.tasks)
    common = ["--quarter", "2023Q2", "--follow-ups", str(results), "--registers",
              str(bureau_copy.registers), "--ledger", str(bureau_copy.ledger), "--outputs",
              str(bureau_copy.outputs)]
    assert cli_main(["commit", *common, "--seed-source", SEED_SOURCE]) == 0
    out, err = capsys.readouterr()
    first = bureau_copy.tasks["task_id"].iloc[0]
    assert "re-inspections (复查) due in 2023Q2: 1 original task(s), 1 firm(s), campaign FU" in out
    assert "原检查任务编号" in out and first in out and "雄县" in out
    assert "confidential" in err   # the withheld one is named
    assert cli_main(["draw", *common, "--seed-material", SEED_MATERIAL]) == 0
    assert "2023Q2-xiongxian-FU-0001" in load_draw_tasks(bureau_copy.ledger)["task_id"].tolist()
    # a re-inspection draw is not an ordinary targeted draw
    assert cli_main(["commit", *common, "--seed-source", SEED_SOURCE, "--campaign", "X"]) == 2
    assert "--target, --campaign and --origin do not apply" in capsys.readouterr().err


def test_a_later_draw_under_the_yearly_cap_does_not_count_the_re_inspection(fu, policy):
    """Cap 2: the firm checked in 2023Q1 and re-inspected in 2023Q2 has one counted check, so
    a routine draw of 2023Q3 may draw it; the stdlib replay counts alike."""
    from dsr_analysis.draw import draw_quarter
    from dsr_analysis.draw.ledger import history_before
    from dsr_analysis.draw.record import split_record

    pol = dataclasses.replace(policy, draw=dataclasses.replace(
        policy.draw, overlap="yearly_cap", yearly_cap=2))
    uscc = fu["result"].tasks.iloc[0]["uscc"]
    history = history_before(entries(fu["quarter"].ledger), None, "2023Q3", "untargeted",
                             ["xiongxian"])
    assert {t["origin"] for r in history for t in r["tasks"]} == {"routine", "follow_up"}
    result = draw_quarter(pol, fu["registers"], "2023Q3", "cap test", history,
                          units=["xiongxian"])
    excluded = {c for s in result.record["strata"] for c, _why in s["excluded"]}
    assert uscc not in excluded
    public, _internal = split_record(result.record)
    _replay_module().replay(json.loads(json.dumps(public)))
    # the cap is at work: at cap 1 the 2023Q1 check alone excludes the firm
    pol_counting = dataclasses.replace(pol, draw=dataclasses.replace(pol.draw, yearly_cap=1))
    capped = draw_quarter(pol_counting, fu["registers"], "2023Q3", "cap test", history,
                          units=["xiongxian"], staff=False)
    assert uscc in {c for s in capped.record["strata"] for c, _why in s["excluded"]}


def test_due_rules_on_a_hand_made_register():
    """Two orders for one firm make one re-inspection naming both checks; a re-inspection
    task drawn after the check, a penalty without a deadline and a 复查 that found the firm
    corrected end it; a 复查 that found it not corrected calls for another."""
    from dsr_analysis.draw.reinspection import follow_ups_of

    d = dt.date
    tasks = pd.DataFrame({
        "task_id": ["2023Q1-xiongxian-0001", "2023Q1-xiongxian-0002", "2023Q1-xiongxian-0003",
                    "2023Q1-xiongxian-0004", "2023Q1-xiongxian-0005", "2023Q2-xiongxian-FU-0001"],
        "quarter": ["2023Q1"] * 5 + ["2023Q2"],
        "unit": ["xiongxian"] * 6,
        "uscc": ["U1", "U1", "U2", "U3", "U4", "U3"],
        "origin": ["routine"] * 5 + ["follow_up"]})
    results = pd.DataFrame({
        "task_id": tasks["task_id"][:5].tolist(),
        "uscc": ["U1", "U1", "U2", "U3", "U4"],
        "date_checked": [d(2023, 1, 10), d(2023, 2, 1), d(2023, 2, 2), d(2023, 2, 3),
                         d(2023, 2, 4)],
        "follow_up": ["rectification_order", "rectification_order", "penalty",
                      "rectification_order", "rectification_order"],
        "rectification_deadline": [None, d(2023, 6, 30), None, None, d(2023, 3, 1)],
        "date_follow_up_closed": [None] * 5,
        "date_reinspected": [None, None, None, None, d(2023, 3, 10)],
        "reinspection_result": [None, None, None, None, "not_rectified"],
        "confidential": [False] * 5})
    due = reinspections_due(results, tasks, "2023Q3")
    assert follow_ups_of(due) == {"xiongxian": {
        "U1": ["2023Q1-xiongxian-0001", "2023Q1-xiongxian-0002"],
        "U4": ["2023Q1-xiongxian-0005"]}}
    results.loc[4, "reinspection_result"] = "rectified"
    assert set(reinspections_due(results, tasks, "2023Q3")["uscc"]) == {"U1"}
