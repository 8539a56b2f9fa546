"""Units as data: the hierarchy section of a policy, its jurisdictions, the synthetic
national register (reproducible from its seed) and the national run."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
import yaml
from stdnum.cn import uscc

from dsr_analysis.errors import ParameterError, PolicyError, RegisterError
from dsr_analysis.hierarchy import (
    hierarchy_table,
    jurisdictions,
    load_units,
    split_register,
    write_policy,
)
from dsr_analysis.paths import DEFAULT_POLICY, PROJECT_ROOT
from dsr_analysis.policy import load_policy, policy_to_dict
from dsr_analysis.sample import (
    NATIONAL_INSPECTORS,
    make_uscc,
    national_registers,
    national_units,
    national_usccs,
)
from dsr_analysis.simulation.coverage import simulate_coverage
from dsr_analysis.categories import classify
from dsr_analysis.simulation.national import national_headline, simulate_national, top_summary
from dsr_analysis.simulation.scenarios import (
    load_scenario,
    run_scenario,
    scenario_from_mapping,
    scenario_to_dict,
    sweep_credit_weights,
)

NATIONAL = PROJECT_ROOT / "parameters" / "hierarchies" / "national-2023.yaml"


def _within(policy, unit):
    return dataclasses.replace(policy, hierarchy=dataclasses.replace(policy.hierarchy,
                                                                     within=unit))


@pytest.fixture(scope="module")
def national():
    return load_policy(NATIONAL)


# ------------------------------------------------------------------ the synthetic register
def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).values.tobytes()
                          ).hexdigest()


def test_national_register_is_reproducible_from_its_seed():
    a = national_registers(40_000, seed=7)
    b = national_registers(40_000, seed=7)
    c = national_registers(40_000, seed=8)
    for name in ("units", "enterprises", "inspectors"):
        pd.testing.assert_frame_equal(a[name], b[name])
        assert _digest(a[name]) == _digest(b[name])
    assert _digest(a["enterprises"]) != _digest(c["enterprises"])
    assert len(a["enterprises"]) == 40_000
    assert len(a["inspectors"]) == round(NATIONAL_INSPECTORS * 40_000 / 3_500_000)


def test_national_units_have_the_scale_of_china():
    units = national_units()
    counts = units["level"].value_counts()
    assert counts["province"] == 31 and 330 <= counts["city"] <= 340
    assert 2_800 <= counts["county"] <= 2_900
    direct = units[(units["level"] == "county") & units["parent"].str.startswith("p")]
    assert len(direct) == 30  # 省直管: Hainan, Henan, Hubei, Xinjiang
    assert units["id"].is_unique and units["division"].is_unique


def test_full_size_counts_and_per_county_sizes_are_realistic():
    """Sizes without building 3.5 million rows: the unit weights' spread."""
    units = national_units()
    w = units.loc[units["level"] == "county", "weight"].to_numpy()
    sizes = 3_500_000 * w / units["weight"].sum()
    assert np.median(sizes) < sizes.mean() < 3 * np.median(sizes)  # skewed, heavy upper tail
    assert sizes.max() > 15 * np.median(sizes) and sizes.min() < np.median(sizes) / 5


def test_a_province_alone_is_the_national_registers_rows():
    whole = national_registers(60_000)
    part = national_registers(60_000, within="p64")
    ids = set(part["units"]["id"])
    for name in ("enterprises", "inspectors"):
        sub = whole[name][whole[name]["unit"].isin(ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(sub, part[name])


def test_national_usccs_are_valid_and_unique():
    ent = national_registers(30_000)["enterprises"]
    assert ent["uscc"].is_unique
    assert all(uscc.is_valid(c) for c in ent["uscc"].sample(3000, random_state=2))
    assert list(national_usccs(np.array(["130638"]), np.array([10001234]))) == [
        make_uscc("130638", 10001234)]


# ------------------------------------------------------------------ the policy section
def test_national_policy_loads_and_round_trips(national, tmp_path):
    assert national.units == () and national.hierarchy is not None
    assert [lv.draws_from for lv in national.hierarchy.levels] == ["none", "all", "own"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(policy_to_dict(national), allow_unicode=True),
                    encoding="utf-8")
    assert policy_to_dict(load_policy(path)) == policy_to_dict(national)
    assert "hierarchy" not in policy_to_dict(load_policy())  # listed units: nothing new


def _edit(tmp_path, change):
    data = yaml.safe_load(NATIONAL.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d["hierarchy"]["levels"].append({"level": "town", "draws_from": "all"}),
     "at most one level may draw from all objects"),
    (lambda d: d["hierarchy"]["levels"].__setitem__(2, {"level": "county", "draws_from": "none"}),
     "no level draws from its own objects"),
    (lambda d: d["hierarchy"]["levels"].append({"level": "city", "draws_from": "own"}),
     "level 'city' is listed twice"),
    (lambda d: d.__setitem__("units", yaml.safe_load(DEFAULT_POLICY.read_text(
        encoding="utf-8"))["units"]), "either as a list or by a hierarchy, not both"),
    (lambda d: d["hierarchy"]["levels"][0].__setitem__("draws_from", "some"),
     r"key .hierarchy\.levels\[0\]\.draws_from.: .some. is not one of all, own, none"),
    (lambda d: d["hierarchy"].__setitem__("levls", []), r"hierarchy\.levls"),
])
def test_bad_hierarchies_are_refused_naming_the_key(tmp_path, change, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(_edit(tmp_path, change))


def test_a_unit_table_from_a_file_is_checked_row_by_row(tmp_path):
    table = pd.DataFrame({
        "id": ["hb", "sjz", "sjz", "zd", "xx", "lone"],
        "name": ["河北省", "石家庄市", "石家庄市", "正定县", "雄县", "某县"],
        "level": ["province", "city", "city", "county", "county", "village"],
        "parent": ["", "hb", "hb", "xx", "nowhere", "hb"]})
    table.to_csv(tmp_path / "units.csv", index=False)
    path = _edit(tmp_path, lambda d: d["hierarchy"].__setitem__("source", "units.csv"))
    with pytest.raises(PolicyError) as info:
        load_units(load_policy(path))
    text = str(info.value)
    assert "units.csv:4:id: duplicate unit id 'sjz'" in text
    assert "units.csv:5:parent: 'xx' (county) is not above 'zd' (county)" in text
    assert "units.csv:6:parent: unknown unit 'nowhere'" in text
    assert "units.csv:7:level: unknown level 'village'" in text


def test_a_unit_table_file_expands_into_jurisdictions(tmp_path):
    pd.DataFrame({
        "id": ["hb", "sjz", "zd", "xj", "dz"],
        "name": ["河北省", "石家庄市", "正定县", "辛集市", "定州市"],
        "level": ["province", "city", "county", "county", "county"],
        "parent": ["", "hb", "sjz", "sjz", "hb"],
        "authority": ["河北省生态环境厅", "石家庄市生态环境局", "", "", ""]}).to_csv(
        tmp_path / "units.csv", index=False)
    pol = load_policy(_edit(tmp_path, lambda d: d["hierarchy"].__setitem__("source",
                                                                            "units.csv")))
    juris = jurisdictions(pol)
    assert [(j.id, j.units) for j in juris] == [("sjz", ("sjz", "zd", "xj")), ("dz", ("dz",))]
    assert [(u.level, u.draws_from) for u in juris[0].policy.units] == [
        ("area", "all"), ("county", "own"), ("county", "own")]
    assert juris[0].policy.authority() == "石家庄市生态环境局"
    table = hierarchy_table(pol)
    assert table.set_index("id")["jurisdiction"].to_dict() == {
        "hb": "", "sjz": "sjz", "zd": "sjz", "xj": "sjz", "dz": "dz"}


def test_jurisdictions_cover_every_drawing_unit_once(national):
    juris = jurisdictions(national)
    units = national_units()
    drawing = set(units.loc[units["level"] != "province", "id"])
    listed = [u for j in juris for u in j.units]
    assert len(listed) == len(set(listed)) and set(listed) == drawing
    assert len(juris) == (units["level"] == "city").sum() + 30  # + the direct counties
    assert all(j.policy.hierarchy is None and j.policy.quotas == national.quotas for j in juris)


def test_written_jurisdiction_policy_loads_back_equal(national, tmp_path):
    j = jurisdictions(_within(national, "p64"))[0]
    again = load_policy(write_policy(j, tmp_path))
    assert again.units == j.policy.units and again.quotas == j.policy.quotas
    assert again.categories == j.policy.categories and again.hierarchy is None


def test_rows_outside_the_drawing_units_are_an_error_naming_them(national):
    pol = _within(national, "p64")
    regs = national_registers(50_000, within="p64")
    bad = regs["enterprises"].copy()
    bad.loc[bad.index[:3], "unit"] = "p64"  # the province does not draw
    with pytest.raises(RegisterError, match=r"3 problem\(s\) in the registers:\n"
                                            r"enterprises:2:unit: unit 'p64' is not a drawing "
                                            r"unit of the hierarchy") as info:
        split_register(bad, jurisdictions(pol))
    assert [p.row for p in info.value.problems] == [2, 3, 4]


# ------------------------------------------------------------------ the national run
def test_a_jurisdiction_run_alone_equals_its_part_of_the_national_run(national):
    """Partitioned by jurisdiction: jurisdiction j with the j-th child seed is the engine
    run on that jurisdiction alone."""
    pol = _within(national, "p64")
    regs = national_registers(150_000, within="p64")
    res = simulate_national(pol, regs["enterprises"], regs["inspectors"], replicates=4,
                            years=1, seed=9, deterrence=False, workers=1)
    juris = jurisdictions(pol)
    k = 2
    j = juris[k]
    part = split_register(regs["enterprises"], juris)[j.id]
    insp = split_register(regs["inspectors"], juris, "inspectors")[j.id]
    alone = simulate_coverage(classify(part, j.policy), j.policy, replicates=4, years=1,
                              seed=np.random.SeedSequence(9).spawn(len(juris))[k],
                              inspectors=insp, workers=1)
    tot = alone.coverage.groupby(["replicate", "year"])[["objects", "covered"]].sum()
    row = res.jurisdictions.set_index("jurisdiction").loc[j.id]
    assert row["coverage"] == float((tot["covered"] / tot["objects"]).mean())
    assert row["objects"] == len(part)


def test_national_scenario_headline_and_sweep(tmp_path):
    data = yaml.safe_load(NATIONAL.read_text(encoding="utf-8"))
    data["hierarchy"]["within"] = "p64"  # one province (宁, five prefectures)
    path = tmp_path / "p64.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    base = scenario_to_dict(load_scenario("baseline-2023"))
    base.update(id="p64", name="宁夏（合成）", policy=str(path),
                register={"source": "national", "size": 150_000, "seed": 20220101},
                simulation={"replicates": 3, "years": 1, "seed": 1})
    with pytest.raises(ParameterError, match="takes the national register"):
        scenario_from_mapping(base | {"register": {"source": "sample"}}).register and \
            run_scenario(scenario_from_mapping(base | {"register": {"source": "sample"}}))
    run = run_scenario(scenario_from_mapping(base))
    h = run.headline
    assert h["jurisdictions"] == 5 and 0 < h["coverage_all"] < 1
    assert 0 < h["hit_rate"] < 0.2 and h["credit_share_met"]
    assert set(top_summary(run.national)["top"]) == {"p64"}
    assert national_headline(run.national, run.policy)["objects"] == h["objects"]
    sweep = sweep_credit_weights(scenario_from_mapping(base), [1.0, 3.0])
    ratio = sweep.set_index(["steepness", "credit_class"])["draw_ratio"]
    assert ratio[(3.0, "D")] > ratio[(1.0, "D")]
