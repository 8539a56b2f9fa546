"""Inspector teams, recusal, joint checks, items, experts and methods (R1, R5, R6)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import sys

import pandas as pd
import pytest

from dsr_analysis import reports
from dsr_analysis.draw import draw_quarter, record_bytes, tasks_frame
from dsr_analysis.draw.staffing import staff
from dsr_analysis.errors import InfeasibleError
from dsr_analysis.paths import PROJECT_ROOT
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
            recused += sum(1 for _j, _i, why in t["skipped"] if why in ("conflict", "recent"))
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
            assert t["joint_type"] == t["designation"]
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
            industry = objects[t["uscc"]]["industry"]
            ids = [m[0] for m in t["items"]]
            assert ids[0] == t["item_id"]
            for item_id in ids:
                applies = items.loc[item_id, "applies_to"]
                assert "全部" in applies or industry in applies
            if items.loc[ids, "needs_expert"].any():  # an expert where any item needs one
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
            if t["joint_type"] != "none" or t["merged_with"]:
                # R5: a joint task is one visit (off-site joint checks only with
                # joint.count_offsite, false in the Xiong'an policy)
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


# --------------------------------------------------------------------------------------
# O(k) picks (module docstring of dsr_analysis.draw.staffing, steps 3-6), on hand-built
# tables: the expected picks are computed here from SHA-256, independently of the package.
# --------------------------------------------------------------------------------------
SEED = "ab" * 32
PARAMS = {"min_inspectors": 2, "require_match": True, "recusal_quarters": 4,
          "recuse_own_unit": False, "cap": 12, "offsite_cap": None, "across_units": False,
          "internal_min_share": 0.0, "inter_departmental_per_quarter": 0,
          "count_offsite": False, "offsite_first": True, "onsite_triggers": []}
ITEMS = {
    "I-AIR": {"name": "大气", "business_line": "air", "applies_to": ["全部"], "department": "",
              "needs_expert": False},
    "I-WAT": {"name": "水", "business_line": "water", "applies_to": ["全部"], "department": "",
              "needs_expert": False},
}


def _int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")


def _inspectors(lines: dict[str, str], conflicts: dict[str, list[str]] | None = None,
                units: dict[str, str] | None = None) -> dict:
    return {i: {"name": i, "unit": (units or {}).get(i, "u"), "business_line": line,
                "certified": True, "active": True, "conflicts": (conflicts or {}).get(i, [])}
            for i, line in lines.items()}


def _task(task_id: str = "2023Q1-u-0001", uscc: str = "O1", kind: str = "random") -> dict:
    return {"task_id": task_id, "quarter": "2023Q1", "unit": "u", "level": "county",
            "uscc": uscc, "stratum": "key/all", "category": "key", "subset": "all",
            "credit_class": "B", "kind": kind, "ticket": "", "inclusion_probability": 0.5,
            "draw_mode": "targeted", "origin": "routine", "merged_with": ""}


def _staff(tasks, inspectors, items=ITEMS, history=(), objects=None, level="county",
           **params):
    objects = objects or {t["uscc"]: {"name": "o", "unit": "u", "industry": "纺织业",
                                      "offsite_capable": False} for t in tasks}
    return staff(tasks, seed=SEED, params={**PARAMS, **params}, unit_levels={"u": level},
                 inspectors=inspectors, items=items, experts={}, objects=objects,
                 history=list(history))


def test_o_k_picks_follow_the_documented_rule():
    ins = _inspectors({"A1": "air", "A2": "air", "A3": "air", "W1": "water", "W2": "water"})
    [t] = _staff([_task()], ins)
    tid = "2023Q1-u-0001"
    # Item: attempt 0 of the sorted applicable items; both lines have eligible inspectors.
    items = ["I-AIR", "I-WAT"]
    item = items[_int(f"{SEED}|item|{tid}|0") % 2]
    assert t["items"] == [[item, 0, "pool"]] and t["item_id"] == item
    line_pool = ["A1", "A2", "A3"] if item == "I-AIR" else ["W1", "W2"]
    # Team: attempt 0 in the item's line, then attempts 1, 2, ... in the whole pool (sorted).
    first = line_pool[_int(f"{SEED}|inspector|{tid}|0") % len(line_pool)]
    pool = sorted(ins)
    expected_team, expected_skipped, j = [[first, 0, "pool"]], [], 1
    while len(expected_team) < 2:
        i = pool[_int(f"{SEED}|inspector|{tid}|{j}") % len(pool)]
        if i == first:
            expected_skipped.append([j, i, "in_team"])
        else:
            expected_team.append([i, j, "pool"])
        j += 1
    assert t["team"] == expected_team
    assert t["skipped"] == expected_skipped
    assert t["pool_size"] == 5
    assert "excluded_inspectors" not in t and "eligible_count" not in t


def test_after_16_rejected_attempts_the_pick_comes_from_the_eligible_list():
    # 40 air inspectors, all but one at the cap: a pick rarely hits the free one in 16 tries.
    lines = {f"A{n:02d}": "air" for n in range(40)}
    ins = _inspectors(lines)
    history = [["2023Q1", "u", "X", f"old-{n}", f"A{n:02d}", "routine", "onsite"]
               for n in range(1, 40) for _ in range(12)]
    found = False
    for k in range(1, 200):
        tid = f"2023Q1-u-{k:04d}"
        first16 = [_int(f"{SEED}|inspector|{tid}|{j}") % 40 for j in range(16)]
        if 0 in first16:
            continue
        [t] = _staff([_task(tid)], ins, items={"I-AIR": ITEMS["I-AIR"]}, history=history,
                     min_inspectors=1)
        assert [s[2] for s in t["skipped"]] == ["cap"] * 16
        assert [s[1] for s in t["skipped"]] == [f"A{n:02d}" for n in first16]
        # E = the one eligible inspector; index int(H(...|16)) mod 1.
        assert t["team"] == [["A00", 16, "eligible"]]
        found = True
        break
    assert found


def _first_hit(ins_ids: list[str], target: str, start: int = 0) -> str:
    """A task id whose inspector attempt ``start`` lands on ``target`` of ``ins_ids``."""
    for k in range(1, 10_000):
        tid = f"2023Q1-u-{k:04d}"
        if ins_ids[_int(f"{SEED}|inspector|{tid}|{start}") % len(ins_ids)] == target:
            return tid
    raise AssertionError("no task id found")


@pytest.mark.parametrize("why", ["conflict", "own_unit", "recent", "cap"])
def test_every_recusal_reason_rejects_a_pick(why):
    ids = ["A1", "A2", "A3"]
    ins = _inspectors(dict.fromkeys(ids, "air"),
                      conflicts={"A1": ["O1"]} if why == "conflict" else None,
                      units={"A1": "other"} if why == "own_unit" else None)
    # own_unit: the area level u draws from every unit; A1 belongs to the object's county.
    objects = {"O1": {"name": "o", "unit": "other" if why == "own_unit" else "u",
                      "industry": "纺织业", "offsite_capable": False}}
    history = []
    if why == "recent":  # A1 inspected O1 three quarters ago (window: 4 quarters)
        history = [["2022Q2", "u", "O1", "2022Q2-u-0009", "A1", "routine", "onsite"]]
    if why == "cap":
        history = [["2023Q1", "u", "X", f"old-{n}", "A1", "routine", "onsite"]
                   for n in range(12)]
    tid = _first_hit(ids, "A1")
    [t] = _staff([_task(tid)], ins, items={"I-AIR": ITEMS["I-AIR"]}, history=history,
                 objects=objects, recuse_own_unit=why == "own_unit",
                 level="area" if why == "own_unit" else "county",
                 across_units=why == "own_unit")
    assert [m[0] for m in t["team"]] != [] and "A1" not in [m[0] for m in t["team"]]
    assert t["skipped"][0] == [0, "A1", why]


def test_recusal_outside_the_window_and_the_team_within_one_draw():
    ids = ["A1", "A2", "A3"]
    ins = _inspectors(dict.fromkeys(ids, "air"))
    tid = _first_hit(ids, "A1")
    old = [["2022Q1", "u", "O1", "2022Q1-u-0009", "A1", "routine", "onsite"]]  # 4 back: out
    [t] = _staff([_task(tid)], ins, items={"I-AIR": ITEMS["I-AIR"]}, history=old,
                 recusal_quarters=3)
    assert t["team"][0][0] == "A1"
    # Within one draw, the first task's team is recused from a second task on the object.
    ins = _inspectors(dict.fromkeys(["A1", "A2", "A3", "A4"], "air"))
    first, second = _staff([_task("2023Q1-u-0001"), _task("2023Q1-u-0002")], ins,
                           items={"I-AIR": ITEMS["I-AIR"]}, min_inspectors=2)
    assert not {m[0] for m in first["team"]} & {m[0] for m in second["team"]}


def test_the_cap_counts_the_draws_own_tasks():
    ins = _inspectors({"A1": "air", "A2": "air", "A3": "air", "A4": "air"})
    tasks = [_task(f"2023Q1-u-{k:04d}", uscc=f"O{k}") for k in range(1, 5)]
    out = _staff(tasks, ins, items={"I-AIR": ITEMS["I-AIR"]}, cap=2)
    load: dict[str, int] = {}
    for t in out:
        for m in t["team"]:
            load[m[0]] = load.get(m[0], 0) + 1
    assert max(load.values()) <= 2 and sum(load.values()) == 8
    with pytest.raises(InfeasibleError):
        _staff(tasks + [_task("2023Q1-u-0005", uscc="O5")], ins,
               items={"I-AIR": ITEMS["I-AIR"]}, cap=2)


def test_infeasible_team_names_the_task_the_constraint_and_the_numbers():
    ins = _inspectors({"A1": "air", "A2": "air", "A3": "air"},
                      conflicts={"A2": ["O1"], "A3": ["O1"]})
    with pytest.raises(InfeasibleError, match=re.escape(
            "task 2023Q1-u-0001 (O1): constraint 'at least 2 certified, active inspectors': "
            "1 eligible of 3 in the pool of u (excluded: 2 conflict)")):
        _staff([_task()], ins, items={"I-AIR": ITEMS["I-AIR"]})


def test_infeasible_item_names_the_lines_and_the_numbers():
    ins = _inspectors({"A1": "air", "W1": "water"}, conflicts={"A1": ["O1"]})
    with pytest.raises(InfeasibleError, match=re.escape(
            "'item with an eligible inspector of its business line': 1 applicable item(s) "
            "(I-AIR), eligible inspectors cover the lines water (1 eligible of 2; "
            "excluded: 1 conflict)")):
        _staff([_task()], ins, items={"I-AIR": ITEMS["I-AIR"]})


def test_internal_joint_task_without_a_second_line_is_infeasible():
    ins = _inspectors({"A1": "air", "A2": "air", "W1": "water"}, conflicts={"W1": ["O1"]})
    task = dict(_task(), draw_mode="untargeted")
    with pytest.raises(InfeasibleError, match=r"internal joint inspection: an item of a second "
                       r"business line .*1 applicable item\(s\) of other lines \(I-WAT\)"):
        _staff([task], ins, internal_min_share=1.0)


def test_a_designated_internal_joint_task_on_a_hand_built_pool():
    ins = _inspectors({"A1": "air", "A2": "air", "W1": "water", "W2": "water"})
    task = dict(_task(), draw_mode="untargeted")
    [t] = _staff([task], ins, internal_min_share=1.0)
    assert t["designation"] == t["joint_type"] == "internal"
    assert {ITEMS[m[0]]["business_line"] for m in t["items"]} == {"air", "water"}
    lines = [ins[m[0]]["business_line"] for m in t["team"]]
    assert lines == [ITEMS[m[0]]["business_line"] for m in t["items"]]  # one per item's line
    assert t["method"] == "onsite" and "R5" in t["method_reason"]


# --------------------------------------------------------------------------------------
# Joint visits (R5) on the sample year
# --------------------------------------------------------------------------------------
def test_designated_internal_joint_tasks_carry_two_lines_and_their_teams_cover_them(year):
    registers, records = year
    items = registers.items.set_index("item_id")
    ins = registers.inspectors.set_index("inspector_id")
    n = 0
    for t in _tasks(records):
        if t["joint_type"] != "internal":
            assert len(t["items"]) == 1
            continue
        n += 1
        lines = [items.loc[m[0], "business_line"] for m in t["items"]]
        assert len(lines) == 2 and lines[0] != lines[1], t["task_id"]
        assert (items.loc[[m[0] for m in t["items"]], "department"] == "").all()
        assert set(lines) <= set(ins.loc[[m[0] for m in t["team"]], "business_line"])
        assert t["kind"] == "random" and t["method"] == "onsite"
    assert n > 0


def test_a_team_spanning_two_lines_is_not_a_joint_visit(policy, year):
    registers, records = year
    ins = registers.inspectors.set_index("inspector_id")
    spanning = [t for t in _tasks(records) if t["designation"] == "none"
                and len(set(ins.loc[[m[0] for m in t["team"]], "business_line"])) >= 2]
    assert spanning  # such teams exist (the fill members come from the whole pool) ...
    assert all(t["joint_type"] == "none" for t in spanning)  # ... and are not joint
    frame = pd.concat([tasks_frame(r) for r in records])
    designated = sum(t["designation"] == "internal" for t in _tasks(records))
    ind = reports.indicator_internal_joint(frame, policy)
    assert ind.value == designated / len(frame)
    assert reports.internal_joint_count(frame) == designated
    assert ind.value >= policy.joint.internal_min_share  # R5 met by designated visits only


def test_joint_items_appear_joined_in_the_task_list(year):
    _, records = year
    frame = tasks_frame(records[0])
    joint = frame[frame["joint_type"] == "internal"]
    assert len(joint) and joint["item_id"].str.count(";").eq(1).all()
    assert joint["business_line"].str.count(";").eq(1).all()
    assert joint["item_name"].str.contains("；").all()
    single = frame[frame["joint_type"] != "internal"]
    assert not single["item_id"].str.contains(";").any()


def test_positive_list_coverage_is_never_an_internal_joint_visit_unless_the_policy_says(
        policy, year):
    registers, records = year
    assert not [t for t in _tasks(records) if t["kind"] == "offsite_full"
                and t["joint_type"] == "internal"]
    lenient = dataclasses.replace(policy, joint=dataclasses.replace(
        policy.joint, count_offsite=True, internal_min_share=0.9))
    res = draw_quarter(lenient, registers, "2023Q1", "staff-2023Q1", units=["xiongxian"])
    joint = [t for t in res.record["tasks"] if t["joint_type"] == "internal"]
    offsite = [t for t in joint if t["method"] == "offsite"]
    assert offsite  # off-site joint checks are designated and keep their method
    assert len(joint) == math.ceil(0.9 * len(res.record["tasks"]))


# --------------------------------------------------------------------------------------
# Bounded record and the stdlib replay
# --------------------------------------------------------------------------------------
def test_the_record_of_a_task_is_bounded(year):
    _, records = year
    for rec in records:
        for t in rec["tasks"]:
            picks = len(t["team"]) + len(t["items"])
            assert len(t["skipped"]) + len(t["item_skipped"]) <= 16 * picks
        per_task = (len(record_bytes(rec)) - len(record_bytes({**rec, "tasks": []}))) \
            / len(rec["tasks"])
        assert per_task <= 1500, (rec["quarter"], per_task)


def test_the_stdlib_replay_reproduces_staff_on_the_sample_year(year):
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    try:
        from replay_staffing import replay_staffing
    finally:
        sys.path.remove(str(PROJECT_ROOT / "scripts"))
    keys = ("task_id", "quarter", "unit", "level", "uscc", "stratum", "category", "subset",
            "credit_class", "kind", "ticket", "inclusion_probability", "draw_mode", "origin",
            "merged_with")
    for rec in year[1]:
        plain = json.loads(record_bytes(rec))  # the published form: JSON types only
        skeletons = [{k: t[k] for k in keys} for t in plain["tasks"]]
        assert replay_staffing(plain, plain["inputs"]["seed"], skeletons) == plain["tasks"]
