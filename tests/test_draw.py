"""The verifiable object draw (R3, R4, R6): determinism, tickets, strata, overlap control."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chisquare

from dsr_analysis.categories import classify
from dsr_analysis.draw import (
    canonical_frame_bytes, derive_seed, draw_quarter, object_digests, parse_target,
    record_bytes, smallest,
)
from dsr_analysis.errors import DsrError, InfeasibleError
from dsr_analysis.paths import DEFAULT_POLICY
from dsr_analysis.policy import load_policy
from dsr_analysis.registers import load_registers


def policy_variant(tmp_path: Path, name: str, **replacements: str):
    """A policy file differing from the Xiong'an one by text replacements (old -> new)."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


@pytest.fixture(scope="module")
def q1(policy, registers):
    return draw_quarter(policy, registers, "2023Q1", "test-2023Q1")


def test_same_inputs_give_a_byte_identical_record(policy, registers, q1):
    again = draw_quarter(policy, registers, "2023Q1", "test-2023Q1")
    assert record_bytes(again.record) == record_bytes(q1.record)


def test_different_seed_material_gives_a_different_draw(policy, registers, q1):
    other = draw_quarter(policy, registers, "2023Q1", "test-2023Q1-b")
    assert other.record["inputs"]["seed"] != q1.record["inputs"]["seed"]
    random_a = set(q1.tasks.loc[q1.tasks["ticket"] != "", "uscc"])
    random_b = set(other.tasks.loc[other.tasks["ticket"] != "", "uscc"])
    assert random_a != random_b


def test_seed_follows_the_documented_formula(policy, registers, q1):
    inputs = q1.record["inputs"]
    frame_sha = hashlib.sha256(canonical_frame_bytes(registers.enterprises)).hexdigest()
    text = f"test-2023Q1|{frame_sha}|{policy.sha256}|2023Q1"
    assert inputs["frame_sha256"] == frame_sha
    assert inputs["policy_sha256"] == hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()
    assert inputs["seed"] == hashlib.sha256(text.encode()).hexdigest()
    assert derive_seed("test-2023Q1", frame_sha, policy.sha256, "2023Q1") == inputs["seed"]


def test_canonical_frame_ignores_row_order_and_writes_booleans_as_words(registers):
    ent = registers.enterprises
    shuffled = ent.sample(frac=1.0, random_state=np.random.default_rng(3)).reset_index(drop=True)
    frame = canonical_frame_bytes(ent)
    assert canonical_frame_bytes(shuffled) == frame
    lines = frame.decode("utf-8").split("\n")
    assert lines[0].startswith("uscc,name,unit,industry,town,permit_class,key_polluter")
    first = lines[1].split(",")
    assert first[0] == min(ent["uscc"]) and first[6] in ("true", "false")
    assert b"\r" not in frame and frame.endswith(b"\n")


def test_drawn_objects_are_the_smallest_tickets_of_each_stratum(q1):
    seed = q1.record["inputs"]["seed"]
    checked = 0
    for s in q1.record["strata"]:
        if s["method"] == "offsite_full":
            assert all(t == "" for _, t in s["drawn"])
            continue
        eligible = sorted(set(s["candidates"]) - {c for c, _ in s["excluded"]})
        tickets = {c: int(hashlib.sha256(f"{seed}|{s['unit']}|{s['stratum']}|{c}".encode())
                          .hexdigest(), 16) for c in eligible}
        expected = sorted(eligible, key=tickets.get)[:s["quota"]]
        assert [c for c, _ in s["drawn"]] == expected
        assert [int(t, 16) for _, t in s["drawn"]] == [tickets[c] for c in expected]
        checked += 1
    assert checked > 20


def test_quotas_are_filled_and_probabilities_recorded(policy, registers, q1):
    classified = classify(registers.enterprises, policy)
    tasks = q1.tasks
    for s in q1.record["strata"]:
        drawn = len(s["drawn"])
        assert drawn == min(s["quota"], s["eligible_count"])
        if drawn < s["quota"]:
            assert "exceeds" in s["flag"]
        sub = tasks[(tasks["unit"] == s["unit"]) & (tasks["stratum"] == s["stratum"])]
        assert len(sub) == drawn
        if s["method"] == "random" and drawn:
            assert sub["inclusion_probability"].eq(drawn / s["eligible_count"]).all()
    # Positive-list general objects of each county: all get an off-site task (R4).
    for unit in ("xiongxian", "rongcheng", "anxin"):
        pos = set(classified.loc[(classified["unit"] == unit) & classified["positive_list"]
                                 & (classified["category"] == "general"), "uscc"])
        got = tasks[(tasks["unit"] == unit) & (tasks["stratum"] == "general/positive_list/all")]
        assert set(got["uscc"]) == pos and len(pos) > 50
        assert (got["method"] == "offsite").all() and (got["ticket"] == "").all()


def test_between_levels_avoid_never_visits_an_object_twice(q1):
    tasks = q1.tasks
    area = set(tasks.loc[tasks["level"] == "area", "uscc"])
    county = set(tasks.loc[tasks["level"] == "county", "uscc"])
    assert area and not (area & county)
    avoided = [c for s in q1.record["strata"] if s["unit"] == "xiongan"
               for c, why in s["excluded"] if why.startswith("between_levels")]
    assert avoided and set(avoided) <= county


def test_between_levels_merge_makes_one_joint_visit(tmp_path, registers):
    policy = policy_variant(tmp_path, "merge", **{"between_levels: avoid": "between_levels: merge"})
    res = draw_quarter(policy, registers, "2023Q1", "test-merge")
    tasks = res.tasks.set_index("task_id")
    merged = tasks[tasks["merged_with"] != ""]
    assert len(merged) > 0
    for tid, row in merged.iterrows():
        partner = tasks.loc[row["merged_with"]]
        assert partner["uscc"] == row["uscc"] and partner["merged_with"] == tid
        assert {partner["level"], row["level"]} == {"area", "county"}
        assert row["method"] == "onsite"


def test_targeted_draw_only_draws_the_target(policy, registers):
    target = parse_target("industry=畜禽养殖,食品制造")
    res = draw_quarter(policy, registers, "2023Q1", "campaign-1", target=target,
                       campaign="livestock", origin="complaint", units=["rongcheng", "anxin"])
    tasks = res.tasks
    assert len(tasks) > 0 and set(tasks["industry"]) <= {"畜禽养殖", "食品制造"}
    assert (tasks["draw_mode"] == "targeted").all()
    assert tasks["task_id"].str.startswith("2023Q1-rongcheng-livestock-").any()
    assert res.record["draw_key"] == "targeted:livestock"
    assert res.record["inputs"]["target"] == {"industry": ["畜禽养殖", "食品制造"]}
    assert (tasks["method"] == "onsite").all()  # complaint is an on-site trigger (R6)
    with pytest.raises(DsrError, match="unknown column 'colour'"):
        parse_target("colour=red")


def _year(policy, registers, prefix):
    records = []
    for q in ("2023Q1", "2023Q2", "2023Q3", "2023Q4"):
        res = draw_quarter(policy, registers, q, f"{prefix}-{q}", records)
        records.append(res.record)
    return records


def test_rotation_never_redraws_while_others_are_left(tmp_path, registers):
    policy = policy_variant(tmp_path, "rotation",
                            **{"overlap: independent": "overlap: rotation"})
    records = _year(policy, registers, "rot")
    exhausted = 0
    for i, rec in enumerate(records):
        earlier = {(t["unit"], t["uscc"]) for r in records[:i] for t in r["tasks"]}
        for s in rec["strata"]:
            if s["method"] != "random":
                continue
            eligible = set(s["candidates"]) - {c for c, _ in s["excluded"]}
            fresh = {c for c in eligible if (s["unit"], c) not in earlier}
            drawn = {c for c, _ in s["drawn"]}
            if drawn - fresh:  # a re-draw: only once every fresh object is drawn
                assert fresh <= drawn
                exhausted += 1
            else:
                assert len(drawn) == min(s["quota"], len(eligible))
    assert exhausted > 0  # high-ratio strata run out within the year


def test_yearly_cap_holds(tmp_path, registers):
    policy = policy_variant(tmp_path, "cap", **{"overlap: independent": "overlap: yearly_cap",
                                                "yearly_cap: 2 ": "yearly_cap: 1 "})
    records = _year(policy, registers, "cap")
    counts: dict[tuple[str, str], int] = {}
    for rec in records:
        for t in rec["tasks"]:
            if t["kind"] == "random":
                counts[(t["unit"], t["uscc"])] = counts.get((t["unit"], t["uscc"]), 0) + 1
    assert max(counts.values()) == 1
    capped = [why for rec in records for s in rec["strata"] for _, why in s["excluded"]
              if why.startswith("yearly_cap")]
    assert capped


def test_chi_square_draw_frequency_matches_inclusion_probability():
    """Over many seeds each object of a stratum is drawn with probability quota / n."""
    codes = [f"91133100{i:010d}" for i in range(12)]
    quota, seeds = 3, 4000
    counts = np.zeros(len(codes))
    for s in range(seeds):
        seed = hashlib.sha256(f"chi-square-{s}".encode()).hexdigest()
        idx = smallest(object_digests(seed, "xiongxian", "key/all/B", codes), quota)
        assert len(set(idx.tolist())) == quota
        counts[idx] += 1
    expected = np.full(len(codes), seeds * quota / len(codes))
    result = chisquare(counts, expected)
    assert result.pvalue > 0.001, (counts, result)


def test_infeasible_staffing_names_task_constraint_and_numbers(policy, tmp_path, sample_dir):
    import pandas as pd

    path = sample_dir / "inspectors.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = frame["inspector_id"].isin(frame[frame["unit"] == "anxin"]["inspector_id"].head(1))
    frame.loc[(frame["unit"] == "anxin") & ~keep, "active"] = "false"
    frame.to_csv(path, index=False)
    regs = load_registers(sample_dir, units=policy.unit_names)
    with pytest.raises(InfeasibleError, match=r"task 2023Q1-anxin-\d{4} .*constraint "
                                              r"'.*': .*eligible"):
        draw_quarter(policy, regs, "2023Q1", "x", units=["anxin"])


def test_bad_arguments_are_rejected(policy, registers):
    with pytest.raises(DsrError, match="outside the policy year 2023"):
        draw_quarter(policy, registers, "2024Q1", "x")
    with pytest.raises(DsrError, match="seed material is empty"):
        draw_quarter(policy, registers, "2023Q1", "  ")
    with pytest.raises(DsrError, match="unknown unit"):
        draw_quarter(policy, registers, "2023Q1", "x", units=["beijing"])
