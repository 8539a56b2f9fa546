"""The planner's logic: the same calls the widgets make (R3, R4, R5)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dsr_analysis import cli, planner
from dsr_analysis.planner import plans
from dsr_analysis.simulation.analytic import analytic_year, group_objects
from dsr_analysis.categories import CATEGORY_ZH, classify
from dsr_analysis.simulation.deterrence import quick_estimate, quick_totals
from dsr_analysis.errors import ParameterError
from dsr_analysis.paths import POLICIES_DIR
from dsr_analysis.planner.app import build_planner
from dsr_analysis.policy import CREDIT_CLASSES, load_policy, policy_to_dict
from dsr_analysis.quotas import ceil_quota, quarterly_quotas
from dsr_analysis.registers import Registers, load_registers
from dsr_analysis.simulation.scenarios import load_scenario
from dsr_analysis.simulation.coverage import Budget, simulate_coverage


@pytest.fixture(scope="module")
def base():
    return load_policy("xiongan-2023")


@pytest.fixture(scope="module")
def controls(base):
    """The widgets' start values, as plan_outcome's keyword arguments."""
    return dict(base_policy="xiongan-2023", **planner.plan_from_policy(base),
                inspectors_available=planner.default_inspectors(base, None), seed=7,
                registers=None)


def _with(controls: dict, **changes) -> dict:
    out = dict(controls)
    ratios = changes.pop("ratios", None)
    if ratios:
        out["ratios"] = {**controls["ratios"], **ratios}
    out.update(changes)
    return out


# --------------------------------------------------------------------------------------
# build_policy
# --------------------------------------------------------------------------------------
def test_start_values_reproduce_the_base_policy(base, controls):
    plan = planner.build_policy(controls["base_policy"], controls["ratios"],
                                controls["credit_weights"], controls["overlap"],
                                controls["yearly_cap"], controls["internal_joint_share"])
    assert policy_to_dict(plan) == policy_to_dict(base)


def test_build_policy_changes_only_what_the_controls_say(base):
    plan = planner.build_policy(base, {"county-key": 0.3}, {"A": 1, "B": 1, "C": 2, "D": 3},
                                "yearly_cap", 3, 0.4, year=2024)
    ratios = {r.id: r.ratio for r in plan.quotas.rules}
    assert ratios["county-key"] == 0.3
    assert ratios["county-special"] == 0.5               # untouched rule keeps its ratio
    assert plan.credit_risk.weights == {"A": 1.0, "B": 1.0, "C": 2.0, "D": 3.0}
    assert (plan.draw.overlap, plan.draw.yearly_cap) == ("yearly_cap", 3)
    assert plan.joint.internal_min_share == 0.4
    assert plan.year == 2024 and "2024年" in plan.name and "2023" not in plan.name
    assert base.year == 2023 and {r.id: r.ratio for r in base.quotas.rules}["county-key"] == 0.25


@pytest.mark.parametrize("kwargs, match", [
    (dict(ratios={"county-keys": 0.3}), r"unknown quota rule 'county-keys' \(rules of xiongan-2023"),
    (dict(ratios={"county-general-positive": 0.5}), "full off-site coverage"),
    (dict(ratios={"county-key": 1.5}), r"ratios\['county-key'\]: 1.5 is out of range \[0, 1\]"),
    (dict(ratios={"county-key": "high"}), "expected a number"),
    (dict(credit_weights={"A": 1, "B": 1, "C": 1}), "give a weight for each of A, B, C, D"),
    (dict(credit_weights={"A": -1, "B": 1, "C": 1, "D": 1}), r"credit_weights\['A'\]"),
    (dict(overlap="sometimes"), "overlap: 'sometimes' is not one of independent, rotation"),
    (dict(yearly_cap=0), "yearly_cap: 0 is not a whole number"),
    (dict(internal_joint_share=1.2), r"internal_joint_share: 1.2 is out of range"),
])
def test_build_policy_rejects_bad_control_values(base, kwargs, match):
    args = dict(ratios={}, credit_weights=dict(base.credit_risk.weights), overlap="independent",
                yearly_cap=2, internal_joint_share=0.3)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        planner.build_policy(base, **args)


# --------------------------------------------------------------------------------------
# plan_outcome: same numbers as the batch path
# --------------------------------------------------------------------------------------
def test_outcome_quotas_are_the_batch_quotas(base, controls):
    out = planner.plan_outcome(**_with(controls, ratios={"county-key": 0.4}))
    registers = load_registers(None, units=base.unit_names)
    plan = planner.build_policy(base, {**controls["ratios"], "county-key": 0.4},
                                controls["credit_weights"], controls["overlap"],
                                controls["yearly_cap"], controls["internal_joint_share"])
    batch = quarterly_quotas(classify(registers.enterprises, plan), plan, "2023Q1",
                             registers.inspectors)
    pd.testing.assert_frame_equal(out.quotas, batch)
    assert planner.quota_display(out.quotas)["每季度抽查数"].sum() == batch["quota"].sum()


def test_classification_is_cached_across_slider_moves(controls):
    planner.plan_outcome(**controls)
    before = dict(plans._PREPARED_CACHE)
    planner.plan_outcome(**_with(controls, ratios={"county-special": 0.7}))
    planner.plan_outcome(**_with(controls, credit_weights={"A": 1, "B": 2, "C": 3, "D": 4}))
    assert plans._PREPARED_CACHE.keys() == before.keys()
    assert all(plans._PREPARED_CACHE[k] is before[k] for k in before)


def test_outcome_is_deterministic_for_a_seed(controls):
    a = planner.plan_outcome(**controls)
    b = planner.plan_outcome(**controls)
    assert planner.headline(a) == planner.headline(b)
    pd.testing.assert_frame_equal(a.coverage, b.coverage)


def test_outcome_rejects_missing_or_unknown_units(controls):
    ins = dict(controls["inspectors_available"])
    ins.pop("anxin")
    ins["beijing"] = 3
    with pytest.raises(ParameterError, match="missing unit.*anxin.*unknown unit.*beijing"):
        planner.plan_outcome(**_with(controls, inspectors_available=ins))


# --------------------------------------------------------------------------------------
# Feasibility on a hand-made register
# --------------------------------------------------------------------------------------
def _firms(unit: str, n: int, **facts) -> list[dict]:
    rows = []
    for i in range(n):
        row = dict(uscc=f"{unit}-{i}", name=f"{unit}{i}", unit=unit, industry="化工",
                   permit_class="registration", key_polluter=False, positive_list=False,
                   offsite_capable=False, credit_class="A", penalised_last_year=False,
                   supervision_order_last_year=False, complaints_last_year=0,
                   emergency_risk="none")
        row.update(facts)
        rows.append(row)
    return rows


def _registers(enterprises: list[dict]) -> Registers:
    inspectors = pd.DataFrame({"inspector_id": ["i1", "i2"], "unit": "xiongxian",
                               "active": True, "certified": True})
    return Registers(enterprises=pd.DataFrame(enterprises), inspectors=inspectors,
                     experts=pd.DataFrame(), items=pd.DataFrame())


@pytest.fixture(scope="module")
def tiny():
    """8 key objects in Xiongxian: the area level draws ceil(10 % x 8) = 1, the county
    ceil(25 % x 8) = 2 a quarter (R4), all on-site (no off-site capability)."""
    return _registers(_firms("xiongxian", 8, key_polluter=True))


def _tiny_controls(base, tiny, inspectors: dict, **changes) -> dict:
    args = dict(base_policy=base, **planner.plan_from_policy(base),
                inspectors_available={"xiongan": 0, "xiongxian": 0, "rongcheng": 0, "anxin": 0},
                seed=1, registers=tiny)
    args["inspectors_available"] = {**args["inspectors_available"], **inspectors}
    args.update(changes)
    return args


def _settings(days_per_inspector: float) -> planner.PlannerSettings:
    s = planner.load_planner_settings()
    return dataclasses.replace(s, budget=Budget(days_per_inspector_per_quarter=days_per_inspector,
                                                onsite_inspector_days=2.0,
                                                offsite_inspector_days=0.5))


def test_inspector_days_needed_follow_the_quotas(base, tiny):
    settings = _settings(8.0)
    out = planner.plan_outcome(**_tiny_controls(base, tiny, {"xiongan": 4, "xiongxian": 2}),
                               settings=settings)
    wl = out.workload.set_index("unit")
    # County: 2 on-site checks, ceil(30 % x 2) = 1 internal joint check (R5).
    county_days = 2 * 2.0 + math.ceil(0.3 * 2) * settings.joint_extra_inspector_days
    area_days = 1 * 2.0 + math.ceil(0.3 * 1) * settings.joint_extra_inspector_days
    assert wl.loc["xiongxian", "onsite"] == pytest.approx(2)
    assert wl.loc["xiongxian", "days_needed"] == pytest.approx(county_days)
    assert wl.loc["xiongan", "days_needed"] == pytest.approx(area_days)
    assert wl.loc["xiongxian", "days_available"] == pytest.approx(2 * 8.0)
    assert out.feasible and out.warning == ""


def test_infeasible_plan_warns_with_unit_and_shortfall(base, tiny):
    settings = _settings(2.0)          # 2 inspectors x 2 days = 4 < 5 needed in Xiongxian
    out = planner.plan_outcome(**_tiny_controls(base, tiny, {"xiongan": 4, "xiongxian": 2}),
                               settings=settings)
    need = 2 * 2.0 + 1 * settings.joint_extra_inspector_days
    assert not out.feasible
    assert f"雄县: 需要 {need:.0f} 人·日, 可用 4 人·日, 缺 {need - 4:.0f} 人·日" in out.warning
    assert "不可行" in planner.headline(out)
    verdicts = out.workload.set_index("unit")["feasible"]
    assert not verdicts["xiongxian"] and verdicts["xiongan"]


def test_one_inspector_cannot_staff_a_two_person_check(base, tiny):
    out = planner.plan_outcome(**_tiny_controls(base, tiny, {"xiongan": 4, "xiongxian": 1}),
                               settings=_settings(90.0))
    assert not out.feasible
    assert "雄县: 执法人员 1 人, 每项现场任务至少 2 人" in out.warning


def test_area_level_borrows_spare_county_days(base, tiny):
    # The area level has no inspectors of its own; the policy lets it draw across units.
    out = planner.plan_outcome(**_tiny_controls(base, tiny, {"xiongan": 0, "xiongxian": 2}),
                               settings=_settings(8.0))
    wl = out.workload.set_index("unit")
    spare = wl.loc["xiongxian", "days_available"] - wl.loc["xiongxian", "days_needed"]
    assert wl.loc["xiongan", "days_borrowable"] == pytest.approx(spare)
    assert wl.loc["xiongan", "feasible"] == (wl.loc["xiongan", "days_needed"] <= spare)


def test_heavier_ratio_turns_the_sample_plan_infeasible(controls):
    ok = planner.plan_outcome(**controls)
    heavy = planner.plan_outcome(**_with(controls, ratios={"county-general-other": 0.3}))
    assert ok.feasible and not heavy.feasible
    assert heavy.workload["days_needed"].sum() > ok.workload["days_needed"].sum()
    assert "不可行" in planner.headline(heavy) and "缺" in heavy.warning


# --------------------------------------------------------------------------------------
# Minimums of the 2023 plan
# --------------------------------------------------------------------------------------
def _failed(out) -> set[tuple[str, str, str]]:
    m = out.minimums
    return {(r.rule, r.unit, r.check) for r in m[~m["met"]].itertuples()}


def test_the_2023_plan_meets_its_own_minimums(controls):
    out = planner.plan_outcome(**controls)
    assert out.all_minimums_met and _failed(out) == set()
    # R3, one R4 row per rule and unit of its level, R5 share, R5 inter-departmental per unit.
    assert len(out.minimums) == 1 + (2 * 1 + 4 * 3) + 1 + 4


def test_lower_county_key_ratio_fails_r4_for_each_county(controls):
    out = planner.plan_outcome(**_with(controls, ratios={"county-key": 0.2}))
    assert _failed(out) == {("R4", u, "重点监管对象") for u in ("雄县", "容城县", "安新县")}


def test_raising_a_ratio_above_the_minimum_keeps_it_met(controls):
    out = planner.plan_outcome(**_with(controls, ratios={"county-special": 0.6}))
    assert out.all_minimums_met


def test_joint_share_below_30_percent_fails_r5(controls):
    out = planner.plan_outcome(**_with(controls, internal_joint_share=0.25))
    assert _failed(out) == {("R5", "各级", "内部联合抽查占比")}


def test_equal_credit_weights_do_not_count_as_credit_based_draws(controls):
    out = planner.plan_outcome(**_with(controls, credit_weights=dict(A=1, B=1, C=1, D=1)))
    assert _failed(out) == {("R3", "全部", "运用信用风险分类的抽查占比")}


def test_unit_without_random_draws_cannot_hold_an_inter_departmental_check(base):
    # Only Xiongxian has objects: the other counties draw nothing at random.
    reg = _registers(_firms("xiongxian", 8, key_polluter=True))
    out = planner.plan_outcome(**_tiny_controls(base, reg, {"xiongan": 4, "xiongxian": 4}),
                               settings=_settings(8.0))
    failed = {(rule, unit) for rule, unit, check in _failed(out) if check == "部门联合抽查"}
    assert failed == {("R5", "容城县"), ("R5", "安新县")}


# --------------------------------------------------------------------------------------
# Coverage and deterrence
# --------------------------------------------------------------------------------------
def test_closed_forms_of_yearly_coverage():
    p = np.array([0.0, 0.03, 0.1, 0.25, 0.5])
    cov, draws = planner.overlap_coverage(p, "independent")
    np.testing.assert_allclose(cov, 1 - (1 - p) ** 4)
    np.testing.assert_allclose(draws, 4 * p)
    cov, _ = planner.overlap_coverage(p, "rotation")
    np.testing.assert_allclose(cov, np.minimum(1, 4 * p))
    cap1, _ = planner.overlap_coverage(p, "yearly_cap", 1)
    np.testing.assert_allclose(cap1, np.minimum(1, 4 * p))
    cap4, d4 = planner.overlap_coverage(p, "yearly_cap", 4)     # a cap of 4 never binds
    np.testing.assert_allclose(cap4, 1 - (1 - p) ** 4)
    np.testing.assert_allclose(d4, 4 * p)
    cap2, d2 = planner.overlap_coverage(p, "yearly_cap", 2)
    assert np.all(cap2 >= 1 - (1 - p) ** 4 - 1e-12) and np.all(cap2 <= np.minimum(1, 4 * p) + 1e-12)
    # 50 % a quarter under a cap of 2, by hand: shares with 0/1/2 draws go (1/2, 1/2, 0),
    # (1/4, 1/2, 1/4), then 2/3 of the eligible 3/4 are drawn: (1/12, 1/3, 7/12); in the last
    # quarter only 5/12 are eligible, fewer than the quota: 1/2 + 1/2 + 1/2 + 5/12 draws.
    assert d2[-1] == pytest.approx(1.5 + 5 / 12)
    assert cap2[-1] == pytest.approx(1.0)          # the last quarter takes every eligible one


@pytest.mark.parametrize("overlap", ["independent", "rotation", "yearly_cap"])
def test_planner_totals_agree_with_its_quick_simulation(controls, overlap):
    out = planner.plan_outcome(**_with(controls, overlap=overlap, yearly_cap=2), simulate=True)
    assert out.simulated and "模拟" in planner.headline(out)
    # 20 replicates of 3,000 objects: standard error of the total about 0.2 points.
    assert out.coverage_total == pytest.approx(out.simulated_coverage_total, abs=0.01)


def _design(policy, overlap: str, cap: int, between: str, scope: str):
    return dataclasses.replace(policy, draw=dataclasses.replace(
        policy.draw, overlap=overlap, yearly_cap=cap, between_levels=between,
        overlap_scope=scope))


#: Every overlap design: (overlap, yearly cap, between levels, overlap scope).
DESIGNS = [(o, c, b, s) for b in ("avoid", "merge") for s in ("unit", "all_levels")
           for o, c in (("independent", 2), ("rotation", 2), ("yearly_cap", 1), ("yearly_cap", 2))
           if not (o == "independent" and s == "all_levels")]   # scope is moot without overlap
REPLICATES = 2000


@pytest.mark.parametrize("overlap, cap, between, scope", DESIGNS)
def test_analytic_coverage_per_unit_and_category_agrees_with_the_engine(
        policy, registers, classified, overlap, cap, between, scope):
    """The planner's recursion and the coverage engine implement the same draw: yearly
    coverage per own unit x category within 1 point. With 2,000 replicates the Monte Carlo
    standard error of the smallest cell (24 objects drawn only by the area level) is at most
    0.25 points; the recursion's own approximation (lambda on expected eligible counts) was
    measured at about 0.3 points there and below 0.1 elsewhere."""
    design = _design(policy, overlap, cap, between, scope)
    table = quarterly_quotas(classified, design, f"{design.year}Q1", registers.inspectors)
    est = analytic_year(group_objects(classified), design, table)
    g = est.groups.assign(covered=est.groups["coverage"] * est.groups["n"])
    per = g.groupby(["unit", "category"])[["covered", "n"]].sum()
    analytic = per["covered"] / per["n"]
    sim = simulate_coverage(classified, design, replicates=REPLICATES, seed=20240101,
                            inspectors=registers.inspectors)
    cells = sim.coverage.groupby(["unit", "category"])[["covered", "objects"]].sum()
    simulated = cells["covered"] / cells["objects"]
    diff = (analytic - simulated.reindex(analytic.index)).abs()
    assert diff.notna().all()
    assert diff.max() <= 0.01, diff.sort_values().tail(3).to_dict()


def test_analytic_fills_each_quota_from_the_eligible_objects(policy, registers, classified):
    design = _design(policy, "rotation", 2, "avoid", "unit")
    table = quarterly_quotas(classified, design, f"{design.year}Q1", registers.inspectors)
    est = analytic_year(group_objects(classified), design, table)
    s = est.strata
    random = s[s["method"] == "random"]
    np.testing.assert_allclose(random["drawn"], np.minimum(random["quota"], random["eligible"]))
    # lambda x expected eligible objects sums to the draws (the quota is filled exactly).
    lam = random[[f"probability_{c}" for c in CREDIT_CLASSES]].to_numpy()
    elig = random[[f"eligible_{c}" for c in CREDIT_CLASSES]].to_numpy()
    np.testing.assert_allclose((lam * elig).sum(axis=1), random["drawn"], rtol=1e-6)
    # Every group's expected draws add up to every stratum's.
    assert est.groups["draws"].mul(est.groups["n"]).sum() == pytest.approx(s["drawn"].sum())
    # Counties draw first: in every quarter the area level's eligible key objects are its
    # population less the counties' key draws of that quarter.
    for q, rows in s.groupby("quarter"):
        area = rows[(rows["level"] == "area") & (rows["category"] == "key")].iloc[0]
        county = rows[(rows["level"] == "county") & (rows["category"] == "key")]["drawn"].sum()
        assert area["eligible"] == pytest.approx(area["population"] - county), q


def test_gap_table_flags_objects_no_rule_draws(controls, classified):
    """The new-area level's directly supervised general objects: no 2023 rule draws them
    (the area level draws only key and special objects, the counties only their own)."""
    out = planner.plan_outcome(**controls)
    own = classified[(classified["unit"] == "xiongan") & (classified["category"] == "general")]
    row = out.gaps[(out.gaps["unit"] == "xiongan") & (out.gaps["category"] == "general")]
    assert len(own) > 0 and len(row) == 1
    row = row.iloc[0]
    assert (row["kind"], row["subset"], row["credit_class"]) == ("no_coverage", "all", "all")
    assert row["objects"] == len(own) and row["coverage"] == 0.0
    assert f"新区本级直管的一般监管对象 {len(own)} 家: 年度覆盖率 0.0%" in row["message"]
    assert "没有任何单位的抽查规则" in row["message"]
    assert "覆盖缺口" in planner.headline(out) and row["message"] in planner.headline(out)
    # Every listed group is below the threshold; no other group is.
    threshold = planner.load_planner_settings().coverage_warning_below
    groups = out.gaps[out.gaps["kind"] != "zero_probability"]
    assert (groups["coverage"] < threshold).all()


def test_gap_table_lists_a_credit_class_with_zero_probability(controls):
    out = planner.plan_outcome(**_with(controls, credit_weights={"A": 0, "B": 1, "C": 1.5,
                                                                 "D": 2}))
    zero = out.gaps[out.gaps["kind"] == "zero_probability"]
    table = out.quotas
    expected = table[(table["method"] == "random") & (table["population_A"] > 0)]
    listed = zip(zero["unit"], zero["category"], zero["subset"], zero["credit_class"],
                 strict=True)
    assert set(listed) == {(r.unit, r.category, r.subset, "A") for r in expected.itertuples()}
    assert (zero["objects"].to_numpy() == expected["population_A"].to_numpy()).all()
    assert f"{len(zero)} 个抽查范围中有信用类别的抽中概率为 0" in planner.headline(out)
    assert all("A类权重为 0" in m for m in zero["message"]) and "A类权重为 0" in out.gap_warning
    # The A-class objects of those strata are never drawn: listed as groups without coverage.
    never = out.gaps[(out.gaps["kind"] == "no_coverage") & (out.gaps["credit_class"] == "A")]
    assert len(never) and (never["coverage"] == 0).all()


def test_area_special_stratum_that_runs_out_after_avoid_fails_r4(base):
    """One special object in Xiongxian: the county draws it every quarter (ceil(50 % x 1) = 1),
    so under avoid the area level has nobody left for its ceil(10 % x 1) = 1 (R4)."""
    reg = _registers(_firms("xiongxian", 1, penalised_last_year=True)
                     + _firms("rongcheng", 6, key_polluter=True))
    args = _tiny_controls(base, reg, {"xiongan": 4, "xiongxian": 4, "rongcheng": 4})
    out = planner.plan_outcome(**args, settings=_settings(8.0))
    table = out.quotas
    area = table[(table["unit"] == "xiongan") & (table["quota_rule"] == "area-special")].iloc[0]
    county = table[(table["level"] == "county") & (table["category"] == "special")]
    need = ceil_quota(0.10 * area["population"])
    eligible = area["population"] - np.minimum(county["quota"], county["population"]).sum()
    assert need == 1 and area["quota"] >= need and eligible < need
    row = out.minimums[(out.minimums["unit"] == "新区本级")
                       & (out.minimums["check"] == CATEGORY_ZH["special"])].iloc[0]
    assert not row["met"] and not out.all_minimums_met
    assert row["need"] == need and row["quota"] == area["quota"] and row["shortfall"]
    assert row["expected"] == pytest.approx(min(area["quota"], eligible))
    assert f"预计抽中 {min(area['quota'], eligible):.1f} 家, 不足 {need} 家" in row["plan"]
    assert ("R4", "新区本级", CATEGORY_ZH["special"]) in _failed(out)
    # ... and it is listed among the coverage gaps as a minimum the draw would miss.
    short = out.gaps[out.gaps["kind"] == "draw_shortfall"]
    assert list(short["unit"]) == ["xiongan"]
    assert "新区本级抽查特殊监管对象: 2023年方案要求每季度至少 1 家" in short.iloc[0]["message"]
    assert "1 项最低要求因可抽对象不足而达不到" in planner.headline(out)
    # The area level's key minimum is met: 6 key objects, the county draws 2, 4 are left.
    assert ("R4", "新区本级", CATEGORY_ZH["key"]) not in _failed(out)
    # Merging the two visits instead excludes nobody: the minimum is met.
    merged = dataclasses.replace(base, draw=dataclasses.replace(base.draw, between_levels="merge"))
    out = planner.plan_outcome(**{**args, "base_policy": merged}, settings=_settings(8.0))
    assert ("R4", "新区本级", CATEGORY_ZH["special"]) not in _failed(out)


def test_quota_table_shows_expected_draws_and_ratio_per_credit_class(controls):
    out = planner.plan_outcome(**controls)
    t, shown = out.quotas, planner.quota_display(out.quotas)
    assert len(shown) == len(t)
    for c in CREDIT_CLASSES:
        col = shown[f"{c}类 预计抽查/对象数 (比例)"]
        for cell, e, n, p in zip(col, t[f"expected_{c}"], t[f"population_{c}"],
                                 t[f"probability_{c}"], strict=True):
            assert cell == ("—" if n == 0 else f"{e:.1f}/{n} ({p:.1%})")
    # R3: the credit-weighted strata give a D-class object a higher ratio than a B-class one.
    weighted = t[t["credit_weighted"] & (t["population_B"] > 0) & (t["population_D"] > 0)
                 & (t["probability_D"] < 1)]
    assert len(weighted) and (weighted["probability_D"] > weighted["probability_B"]).all()


def test_rotation_covers_more_than_independent_draws(controls):
    ind = planner.plan_outcome(**controls)
    rot = planner.plan_outcome(**_with(controls, overlap="rotation"))
    assert rot.coverage_total > ind.coverage_total


def test_deterrence_is_the_deterrence_module_closed_form(base, controls):
    settings = planner.load_planner_settings()
    out = planner.plan_outcome(**_with(controls, ratios={"county-key": 0.5}))
    registers = load_registers(None, units=base.unit_names)
    est = quick_estimate(classify(registers.enterprises, out.policy), out.policy,
                         settings.deterrence, inspectors=registers.inspectors,
                         budget=settings.budget)
    totals = quick_totals(est)
    assert out.violation_rate == pytest.approx(totals["violation_rate"])
    assert out.hit_rate == pytest.approx(totals["hit_rate"])
    would = 1 - settings.deterrence.compliant_share
    assert out.deterrence_total == pytest.approx(1 - totals["violation_rate"] / would)


def test_more_checks_deter_more(controls):
    low = planner.plan_outcome(**controls)
    high = planner.plan_outcome(**_with(controls, ratios={"county-general-other": 0.1}))
    assert high.violation_rate < low.violation_rate
    assert high.deterrence_total > low.deterrence_total


def test_planner_takes_budget_and_behaviour_from_its_scenario():
    settings = planner.load_planner_settings()
    scenario = load_scenario(settings.scenario)
    assert settings.budget == dataclasses.replace(scenario.budget, enforce=False)
    assert settings.deterrence == scenario.deterrence


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------
def test_saved_plan_loads_and_batch_commands_use_it(base, controls, tmp_path: Path, capsys):
    plan = planner.build_policy(base, {"county-key": 0.4}, base.credit_risk.weights,
                                "rotation", 2, 0.35, year=2024)
    path = planner.save_policy(plan, "xiongan-2024", tmp_path)
    assert path == tmp_path / "xiongan-2024.yaml"
    loaded = load_policy(path)
    assert (loaded.id, loaded.year) == ("xiongan-2024", 2024)
    assert policy_to_dict(loaded) == policy_to_dict(dataclasses.replace(plan, id="xiongan-2024"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xiongan-2024.yaml"]  # no temp file
    out_csv = tmp_path / "q.csv"
    assert cli.main(["quotas", "--policy", str(path), "--quarter", "2024Q1", "--format", "csv",
                     "--columns", "ids", "--output", str(out_csv)]) == 0
    batch = pd.read_csv(out_csv)
    outcome = planner.plan_outcome(**_with(controls, base_policy=path,
                                           **planner.plan_from_policy(loaded)))
    assert batch["quota"].tolist() == outcome.quotas["quota"].tolist()
    county_key = batch[batch["quota_rule"] == "county-key"]
    for _unit, rows in county_key.groupby("unit"):
        assert rows["quota"].sum() == math.ceil(round(0.4 * rows["population"].sum(), 9))


def test_save_never_overwrites_silently(base, tmp_path: Path):
    inspectors = {u.id: 10 for u in base.units}
    draft = planner.build_policy(base, {}, base.credit_risk.weights, "independent", 2, 0.3,
                                 inspectors_available=inspectors)
    first = planner.save_policy(draft, "plan", tmp_path)
    before = first.read_bytes()
    changed = planner.build_policy(base, {"county-key": 0.5}, base.credit_risk.weights,
                                   "independent", 2, 0.3, inspectors_available=inspectors)
    with pytest.raises(planner.PlanExistsError, match="方案“plan”已存在，未保存；请另取名称，或确认覆盖"):
        planner.save_policy(changed, "plan", tmp_path)
    assert first.read_bytes() == before
    planner.save_policy(changed, "plan", tmp_path, overwrite=True)
    assert {r.id: r.ratio for r in load_policy(first).quotas.rules}["county-key"] == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.yaml"]


def test_a_policy_drawn_under_is_never_overwritten(base, tmp_path: Path, sample_dir):
    """Once a commitment or draw was made under a policy file, saving over it is refused
    (with overwrite ticked too): every draw made under it must keep replaying."""
    from dsr_analysis.cli import main

    path = planner.save_policy(base, "plan", tmp_path / "policies")
    ledger = tmp_path / "ledger.sqlite"
    assert main(["commit", "--policy", str(path), "--registers", str(sample_dir), "--quarter",
                 "2023Q1", "--units", "anxin", "--seed-source", "s", "--ledger", str(ledger),
                 "--outputs", str(tmp_path / "out")]) == 0
    before = path.read_bytes()
    changed = planner.build_policy(base, {"county-key": 0.5}, base.credit_risk.weights,
                                   "independent", 2, 0.3)
    with pytest.raises(planner.PlanExistsError, match="已用于2023Q1的抽取（抽取记录第 1 条），不能覆盖"):
        planner.save_policy(changed, "plan", tmp_path / "policies", overwrite=True,
                            ledgers=[ledger])
    assert path.read_bytes() == before
    planner.save_policy(changed, "plan-2", tmp_path / "policies", ledgers=[ledger])


@pytest.mark.parametrize("name", ["", "../evil", "a b", "计划", "-x"])
def test_save_rejects_unsafe_names(base, tmp_path: Path, name):
    from dsr_analysis.i18n import set_language

    with pytest.raises(ParameterError, match="only letters, digits"):
        planner.save_policy(base, name, tmp_path)
    set_language("zh")            # as the page says it (the autouse fixture resets English)
    with pytest.raises(ParameterError, match="只能用英文字母、数字"):
        planner.save_policy(base, name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_every_shipped_policy_round_trips_through_save(tmp_path: Path):
    for name in planner.base_policy_names():
        policy = load_policy(name)
        path = planner.save_policy(policy, name, tmp_path)
        assert policy_to_dict(load_policy(path)) == policy_to_dict(policy)


def test_planner_settings_are_strict(tmp_path: Path):
    data = yaml.safe_load(planner.PLANNER_SETTINGS.read_text(encoding="utf-8"))
    data["simulation"]["replicate"] = 1
    bad = tmp_path / "planner.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ParameterError, match=r"planner.yaml: unknown key 'simulation.replicate'"):
        planner.load_planner_settings(bad)
    data["simulation"].pop("replicate")
    data["scenario"] = "no-such-scenario"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ParameterError, match="no-such-scenario"):
        planner.load_planner_settings(bad)


# --------------------------------------------------------------------------------------
# The widgets call exactly these functions
# --------------------------------------------------------------------------------------
def test_widgets_map_one_to_one_onto_plan_outcome(tmp_path: Path):
    app = build_planner(seed=7, save_dir=str(tmp_path))
    args = app.arguments()
    assert set(args) == {"base_policy", "ratios", "credit_weights", "overlap", "yearly_cap",
                         "internal_joint_share", "inspectors_available", "seed", "registers",
                         "assumptions"}
    assert planner.headline(app.outcome) == planner.headline(planner.plan_outcome(**args))
    table_before = app.quota_table.value
    app.ratios["county-general-other"].value = 0.3
    assert app.quota_table.value != table_before
    assert "不可行" in app.verdict.value
    assert planner.headline(app.outcome) == planner.headline(planner.plan_outcome(**app.arguments()))


def test_save_button_refuses_then_overwrites_when_ticked(tmp_path: Path):
    app = build_planner(save_dir=str(tmp_path))
    assert app.name.value == "xiongan-2024" and app.year.value == 2024
    app.ratios["county-key"].value = 0.3
    app.save.click()
    assert "已保存" in app.save_message.value
    saved = tmp_path / "xiongan-2024.yaml"
    assert {r.id: r.ratio for r in load_policy(saved).quotas.rules}["county-key"] == 0.3
    app.ratios["county-key"].value = 0.35
    app.save.click()
    assert "已存在" in app.save_message.value and "覆盖已有文件" in app.save_message.value
    assert {r.id: r.ratio for r in load_policy(saved).quotas.rules}["county-key"] == 0.3
    app.overwrite.value = True
    app.save.click()
    assert "已保存" in app.save_message.value
    assert {r.id: r.ratio for r in load_policy(saved).quotas.rules}["county-key"] == 0.35
    assert app.overwrite.value is False          # the next save must be confirmed again


@pytest.mark.parametrize("name", ["chizhou-2019", "guangzhou"])
def test_another_jurisdictions_plan_runs_on_the_registers_units(tmp_path: Path, name):
    """Chizhou's and Guangzhou's rules on the Xiong'an register: each rule level maps onto the
    register's units (the area level's rules to 新区本级, the county rules to each county)."""
    app = build_planner(save_dir=str(tmp_path))
    app.base.value = name
    assert app.outcome is not None, app.verdict.value
    assert [u.id for u in app.outcome.policy.units] == ["xiongan", "xiongxian", "rongcheng",
                                                         "anxin"]
    source = load_policy(name)
    assert {r.id: r.ratio for r in app.outcome.policy.quotas.rules} == {
        r.id: r.ratio for r in source.quotas.rules}
    assert "参照" in app.outcome.policy.name and app.name.value == f"xiongan-{name.split('-')[0]}-2024"
    app.base.value = "xiongan-2023"
    assert app.outcome is not None and app.outcome.feasible


@pytest.mark.parametrize("kwargs, match", [
    (dict(policy="xiongan-2099"), "has no plan file xiongan-2099.yaml"),
    (dict(seed=-1), "seed"),
    (dict(registers="/nonexistent/registers"), "is not a folder"),
])
def test_notebook_parameters_are_validated(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        build_planner(**kwargs)


def test_drafts_go_to_the_workspace_never_to_the_shipped_policies(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(planner.WORKSPACE_ENV, str(tmp_path / "ws"))
    app = build_planner()
    assert app.save_dir == tmp_path / "ws" / "plans" == planner.plans_directory()
    monkeypatch.delenv(planner.WORKSPACE_ENV)
    assert planner.plans_directory() == Path.home() / "dsr-workspace" / "plans"
    with pytest.raises(ParameterError, match="is not written to"):
        build_planner(save_dir=str(POLICIES_DIR))
    plan = planner.build_policy("xiongan-2023", {}, {c: 1.0 for c in CREDIT_CLASSES},
                                "independent", 1, 0.3, year=2024)
    before = sorted(POLICIES_DIR.iterdir())
    with pytest.raises(ParameterError, match="is not written to"):
        planner.save_policy(plan, "xiongan-2024", POLICIES_DIR)
    assert sorted(POLICIES_DIR.iterdir()) == before
