"""Inspector teams, recusal, joint checks, items, experts and methods (R1, R5, R6)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dsr_analysis.draw import draw_quarter
from dsr_analysis.periods import Quarter
from dsr_analysis.registers import load_registers


@pytest.fixture(scope="module")
def year(policy):
    """A year of untargeted draws on the sample (each quarter sees the earlier ones)."""
    registers = load_registers(units=policy.unit_names)
    records = []
    for q in ("2023Q1", "2023Q2", "2023Q3", "2023Q4"):
        records.append(draw_quarter(policy, registers, q, f"staff-{q}", records).record)
    return registers, records


def _tasks(records):
    return [t for r in records for t in r["tasks"]]


def test_every_team_is_certified_active_of_the_unit_and_matches_the_item(policy, year):
    registers, records = year
    ins = registers.inspectors.set_index("inspector_id")
    items = registers.items.set_index("item_id")
    level = {u.id: u.level for u in policy.units}
    for t in _tasks(records):
        team = [m[0] for m in t["team"]]
        assert len(team) >= policy.staffing.min_inspectors_per_task, t["task_id"]
        assert len(set(team)) == len(team)
        assert ins.loc[team, "certified"].all() and ins.loc[team, "active"].all()
        if not (level[t["unit"]] == "area" and policy.draw.area_inspectors_across_units):
            assert (ins.loc[team, "unit"] == t["unit"]).all(), t["task_id"]
        line = items.loc[t["item_id"], "business_line"]
        assert line in set(ins.loc[team, "business_line"]), t["task_id"]


def test_recusal_holds_for_every_task(policy, year):
    registers, records = year
    conflicts = {r.inspector_id: set(r.conflicts) for r in registers.inspectors.itertuples()}
    n = policy.staffing.recusal_quarters
    seen: list[tuple[Quarter, str, str, set]] = []  # quarter, uscc, task, team
    recused = 0
    for rec in records:
        q = Quarter.parse(rec["quarter"])
        for t in rec["tasks"]:
            team = {m[0] for m in t["team"]}
            assert not any(t["uscc"] in conflicts[i] for i in team), t["task_id"]
            for sq, uscc, tid, other in seen:
                lag = (q.year - sq.year) * 4 + q.q - sq.q
                if uscc == t["uscc"] and lag <= n:
                    assert not (team & other), (t["task_id"], tid)
            seen.append((q, t["uscc"], t["task_id"], team))
            recused += sum(1 for _, why in t["excluded_inspectors"]
                           if why.startswith(("conflict", "recent")))
    assert recused > 0  # the sample's declared conflicts and repeats do bite


def test_per_inspector_caps_hold(policy, year):
    _, records = year
    cap = policy.staffing.max_tasks_per_inspector_per_quarter
    offsite_cap = policy.staffing.max_offsite_tasks_per_inspector_per_quarter
    for rec in records:
        load: dict[tuple[str, str], int] = {}
        for t in rec["tasks"]:
            bucket = "offsite" if offsite_cap and t["method"] == "offsite" else "main"
            for m in t["team"]:
                load[(m[0], bucket)] = load.get((m[0], bucket), 0) + 1
        assert max(v for (i, b), v in load.items() if b == "main") <= cap
        if offsite_cap:
            assert max(v for (i, b), v in load.items() if b == "offsite") <= offsite_cap


def test_joint_shares_and_inter_departmental_checks_reach_the_policy(policy, year):
    registers, records = year
    items = registers.items.set_index("item_id")
    share = policy.joint.internal_min_share
    per_q = policy.joint.inter_departmental_per_quarter
    ins = registers.inspectors.set_index("inspector_id")
    yearly: dict[str, list[int]] = {}
    for rec in records:
        frame = pd.DataFrame(rec["tasks"])
        for unit, sub in frame.groupby("unit"):
            internal = int((sub["joint_type"] == "internal").sum())
            dept = sub[sub["joint_type"] == "inter_departmental"]
            assert internal >= math.ceil(round(share * len(sub), 9)), (rec["quarter"], unit)
            assert len(dept) >= per_q, (rec["quarter"], unit)
            assert (dept["partner_department"] != "").all()
            assert (dept["partner_department"] == items.loc[dept["item_id"], "department"]
                    .to_numpy()).all()
            acc = yearly.setdefault(str(sub["level"].iloc[0]), [0, 0])
            acc[0] += internal
            acc[1] += len(sub)
        for t in rec["tasks"]:
            if t["designation"] == "internal":
                lines = {ins.loc[m[0], "business_line"] for m in t["team"]}
                assert len(lines) >= 2 and t["joint_type"] == "internal"
            if t["joint_type"] == "none":
                assert len({ins.loc[m[0], "business_line"] for m in t["team"]}) == 1
            if t["joint_type"] != "inter_departmental":
                assert items.loc[t["item_id"], "department"] == ""
    for level, (internal, total) in yearly.items():
        assert internal / total >= share, level


def test_items_apply_and_experts_where_needed(year):
    registers, records = year
    items = registers.items.set_index("item_id")
    experts = registers.experts.set_index("expert_id")
    for rec in records:
        objects = rec["inputs"]["objects"]
        for t in rec["tasks"]:
            applies = items.loc[t["item_id"], "applies_to"]
            industry = objects[t["uscc"]]["industry"]
            assert "全部" in applies or industry in applies
            if items.loc[t["item_id"], "needs_expert"]:
                assert t["expert_id"] in experts.index
                if t["expert_reason"] == "industry match":
                    assert industry in experts.loc[t["expert_id"], "industries"]
            else:
                assert t["expert_id"] == ""


def test_methods_follow_r6(policy, year):
    registers, records = year
    ent = registers.enterprises.set_index("uscc")
    for rec in records:
        for t in rec["tasks"]:
            capable = bool(ent.loc[t["uscc"], "offsite_capable"])
            if t["joint_type"] == "inter_departmental" or t["merged_with"]:
                assert t["method"] == "onsite"
            elif t["kind"] == "offsite_full":
                assert t["method"] == "offsite"
                assert t["method_detail"] == ("technology" if capable else "other")
            else:
                assert t["method"] == ("offsite" if capable else "onsite"), t["task_id"]


def test_an_onsite_trigger_forces_onsite(policy, year):
    registers, records = year
    res = draw_quarter(policy, registers, "2023Q4", "data-lead", records, units=["xiongxian"],
                       target={"industry": ["塑料制品业"]}, campaign="plastics",
                       origin="data_lead")
    assert len(res.tasks) and (res.tasks["method"] == "onsite").all()
    assert res.tasks["method_reason"].str.contains("data_lead").all()
