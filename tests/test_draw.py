"""The verifiable object draw (R3, R4, R6): determinism, tickets, strata, overlap control."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chisquare

from dsr_analysis.categories import classify
from dsr_analysis.draw import (
    canonical_frame_bytes, derive_seed, draw_quarter, parse_target, record_bytes,
)
from dsr_analysis.quotas import inclusion_probabilities
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


def _pareto_order(seed, s):
    """The documented selection, written out independently: lambda per class on the eligible
    objects, U from the ticket's first 52 bits, Q = (U/(1-U)) / (lambda/(1-lambda))."""
    excluded = {c for c, _ in s["excluded"]}
    cls = {c: k for k, codes in s["candidates"].items() for c in codes}
    eligible = [c for c in sorted(cls) if c not in excluded]
    counts = np.array([sum(cls[c] == k for c in eligible) for k in "ABCD"])
    lam = dict(zip("ABCD", inclusion_probabilities(counts, s["quota"],
                                                   [s["bases"][k] for k in "ABCD"]).tolist(),
                   strict=True))
    keys = {}
    for c in eligible:
        digest = hashlib.sha256(f"{seed}|{s['unit']}|{s['stratum']}|{c}".encode()).digest()
        u = (2 * int(digest.hex()[:13], 16) + 1) / 2**53
        la = lam[cls[c]]
        keys[c] = (0.0 if la >= 1 else (u / (1 - u)) / (la / (1 - la)), digest)
    order = sorted(eligible, key=lambda c: (s["rounds"].get(c, 0), keys[c]))
    return order[:s["quota"]], lam, keys


def test_drawn_objects_follow_pareto_order_sampling(q1):
    seed = q1.record["inputs"]["seed"]
    checked = 0
    for s in q1.record["strata"]:
        if s["method"] == "offsite_full":
            assert all(t == "" for _, t, _ in s["drawn"])
            continue
        expected, lam, keys = _pareto_order(seed, s)
        assert [c for c, _, _ in s["drawn"]] == expected
        assert [t for _, t, _ in s["drawn"]] == [keys[c][1].hex() for c in expected]
        assert [k for _, _, k in s["drawn"]] == [keys[c][0] for c in expected]
        assert s["inclusion_probability"] == lam
        checked += 1
    assert checked >= 10


def test_every_r4_minimum_is_met_and_every_object_has_a_chance(policy, registers, q1):
    """The area level's special stratum used to miss its minimum by one (sub-quotas fixed
    before the counties' draws were set aside)."""
    for s in q1.record["strata"]:
        assert len(s["drawn"]) == s["quota"], (s["unit"], s["stratum"], s["flag"])
        assert s["flag"] == ""
        for c, n in s["eligible_by_class"].items():
            assert (s["inclusion_probability"][c] > 0) == (n > 0)
        assert sum(s["expected"].values()) == pytest.approx(s["quota"])


def test_a_real_shortfall_is_flagged_with_the_stratum_and_numbers(tmp_path, registers):
    # 60 % of the new area's special objects a quarter cannot be drawn once the counties
    # (50 % each) are set aside.
    policy = policy_variant(tmp_path, "short", **{
        "{id: area-special, level: area, category: special, subset: all, basis: share, "
        "ratio: 0.10": "{id: area-special, level: area, category: special, subset: all, "
                       "basis: share, ratio: 0.60"})
    res = draw_quarter(policy, registers, "2023Q1", "short", staff=False)
    s = next(s for s in res.record["strata"] if s["unit"] == "xiongan"
             and s["stratum"] == "special/all")
    assert s["eligible_count"] < s["quota"] and len(s["drawn"]) == s["eligible_count"]
    assert (f"shortfall: xiongan/special/all needs {s['quota']} but only "
            f"{s['eligible_count']} objects are eligible") in s["flag"]


def test_quotas_are_filled_and_probabilities_recorded(policy, registers, q1):
    classified = classify(registers.enterprises, policy)
    tasks = q1.tasks
    for s in q1.record["strata"]:
        drawn = len(s["drawn"])
        assert drawn == min(s["quota"], s["eligible_count"])
        sub = tasks[(tasks["unit"] == s["unit"]) & (tasks["stratum"] == s["stratum"])]
        assert len(sub) == drawn
        if s["method"] == "random" and drawn:
            lam = sub["credit_class"].map(s["inclusion_probability"])
            assert (sub["inclusion_probability"] == lam).all()
    # Positive-list general objects of each county: all get an off-site task (R4).
    for unit in ("xiongxian", "rongcheng", "anxin"):
        pos = set(classified.loc[(classified["unit"] == unit) & classified["positive_list"]
                                 & (classified["category"] == "general"), "uscc"])
        got = tasks[(tasks["unit"] == unit) & (tasks["stratum"] == "general/positive_list")]
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
            eligible = ({c for codes in s["candidates"].values() for c in codes}
                        - {c for c, _ in s["excluded"]})
            fresh = {c for c in eligible if (s["unit"], c) not in earlier}
            drawn = {c for c, _, _ in s["drawn"]}
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


def test_draw_frequency_matches_inclusion_probability(policy, registers):
    """Over 500 seed materials each object is drawn as often as its lambda says (binomial
    bounds per object, chi-square per stratum) and each class's share of the draws matches
    its expected draws."""
    frame = canonical_frame_bytes(registers.enterprises)
    seeds = 500
    hits: dict[tuple[str, str, str], int] = {}
    lam: dict[tuple[str, str, str], float] = {}
    by_class: dict[tuple[str, str, str], float] = {}
    expected_class: dict[tuple[str, str, str], float] = {}
    for i in range(seeds):
        res = draw_quarter(policy, registers, "2023Q1", f"frequency-{i}", frame=frame,
                           staff=False)
        for s in res.record["strata"]:
            if s["method"] != "random":
                continue
            cls = {c: k for k, codes in s["candidates"].items() for c in codes}
            excluded = {c for c, _ in s["excluded"]}
            for c in cls:
                if c not in excluded:
                    key = (s["unit"], s["stratum"], c)
                    lam[key] = lam.get(key, 0.0) + s["inclusion_probability"][cls[c]]
            for c, _, _ in s["drawn"]:
                key = (s["unit"], s["stratum"], c)
                hits[key] = hits.get(key, 0) + 1
                ck = (s["unit"], s["stratum"], cls[c])
                by_class[ck] = by_class.get(ck, 0) + 1
            for k, e in s["expected"].items():
                ck = (s["unit"], s["stratum"], k)
                expected_class[ck] = expected_class.get(ck, 0.0) + e
    assert lam and set(hits) <= set(lam)
    # Per object: drawn k times in `seeds` draws with mean lambda (lambda varies only under
    # the area level's exclusions); 4.5 sigma binomial bounds over ~2,000 objects.
    worst = 0.0
    for key, total in lam.items():
        p = total / seeds
        sd = np.sqrt(max(seeds * p * (1 - p), 1e-9))
        z = abs(hits.get(key, 0) - total) / sd if p < 1 else 0.0
        worst = max(worst, z)
    assert worst < 4.9, worst
    # Per stratum: chi-square of the per-object counts against lambda (county strata, where
    # lambda is fixed).
    for unit in ("xiongxian", "rongcheng", "anxin"):
        for stratum in ("key/all", "special/all"):
            keys = [k for k in lam if k[0] == unit and k[1] == stratum]
            observed = np.array([hits.get(k, 0) for k in keys], dtype=float)
            expected = np.array([lam[k] for k in keys])
            observed = np.append(observed, seeds * len(keys) - observed.sum())
            expected = np.append(expected, seeds * len(keys) - expected.sum())
            assert chisquare(observed, expected).pvalue > 1e-4, (unit, stratum)
    # Per class: the share of draws equals the expected draws within 5 %.
    for ck, e in expected_class.items():
        if e > 50:
            assert abs(by_class.get(ck, 0) - e) < 0.05 * e + 3 * np.sqrt(e), (ck, e)


def test_infeasible_staffing_names_task_constraint_and_numbers(policy, tmp_path, sample_dir):
    import pandas as pd

    path = sample_dir / "inspectors.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = frame["inspector_id"].isin(frame[frame["unit"] == "anxin"]["inspector_id"].head(1))
    frame.loc[(frame["unit"] == "anxin") & ~keep, "active"] = "false"
    frame.to_csv(path, index=False)
    regs = load_registers(sample_dir, units=policy.unit_names)
    with pytest.raises(InfeasibleError, match=r"task 2023Q1-anxin-\d{4} .*constraint "
                                              r"'.*'( \(R\d+\))?: .*eligible"):
        draw_quarter(policy, regs, "2023Q1", "x", units=["anxin"])


def test_bad_arguments_are_rejected(policy, registers):
    with pytest.raises(DsrError, match="outside the policy year 2023"):
        draw_quarter(policy, registers, "2024Q1", "x")
    with pytest.raises(DsrError, match="seed material is empty"):
        draw_quarter(policy, registers, "2023Q1", "  ")
    with pytest.raises(DsrError, match="unknown unit"):
        draw_quarter(policy, registers, "2023Q1", "x", units=["beijing"])
