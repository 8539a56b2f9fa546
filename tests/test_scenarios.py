"""Scenario files, policy overrides, sweep, optimiser and the ``dsr simulate`` command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from dsr_analysis.cli import main
from dsr_analysis.errors import InfeasibleError, ParameterError
from dsr_analysis.quotas import quarterly_quotas
from dsr_analysis.simulation.scenarios import (
    Scenario,
    compare,
    list_scenarios,
    load_scenario,
    optimise_ratios,
    scenario_from_mapping,
    scenario_policy,
    scenario_register,
    scenario_to_dict,
    steep_weights,
    sweep_credit_weights,
    with_simulation,
)

SHIPPED = {"baseline-2023", "uniform-ratios", "steep-credit-weights", "rotation", "budget-cut"}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def baseline_dict() -> dict:
    return scenario_to_dict(load_scenario("baseline-2023"))


def test_shipped_scenarios_load_and_apply_their_overrides(policy):
    scenarios = {p.stem: load_scenario(p) for p in list_scenarios()}
    assert SHIPPED <= set(scenarios)
    for sid, sc in scenarios.items():
        assert sc.id == sid
    base = scenario_policy(scenarios["baseline-2023"])
    assert base.quotas == policy.quotas and base.draw == policy.draw
    assert scenario_policy(scenarios["rotation"]).draw.overlap == "rotation"
    steep = scenario_policy(scenarios["steep-credit-weights"]).credit_risk.weights
    assert steep == {"A": 0.25, "B": 1.0, "C": 4.0, "D": 8.0}
    uniform = scenario_policy(scenarios["uniform-ratios"])
    assert not any(r.credit_weighted for r in uniform.quotas.rules)
    assert scenarios["budget-cut"].budget.inspector_scale == 0.6


def test_round_trip_through_a_mapping(baseline_dict):
    again = scenario_from_mapping(baseline_dict, "<notebook>")
    assert dataclasses.replace(again, path="") == dataclasses.replace(
        load_scenario("baseline-2023"), path="")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(extra=1), r"s\.yaml: unknown key 'extra'"),
    (lambda d: d["overrides"].update(ratio={"area-key": 0.2}),
     r"unknown key 'overrides\.ratio'"),
    (lambda d: d["overrides"].update(ratios={"county-nothing": 0.2}),
     r"key 'overrides\.ratios\.county-nothing': unknown quota rule"),
    (lambda d: d["overrides"].update(ratios={"county-key": 1.5}),
     r"key 'overrides\.ratios\.county-key': a share must be within \[0, 1\]"),
    (lambda d: d["overrides"].update(credit_weights={"A": 1, "B": 2}),
     r"key 'overrides\.credit_weights': must give a weight for each of A, B, C, D"),
    (lambda d: d["overrides"].update(overlap="sometimes"),
     r"key 'overrides\.overlap': 'sometimes' is not one of independent, rotation, yearly_cap"),
    (lambda d: d["simulation"].update(replicates=0),
     r"key 'simulation\.replicates': 0 is out of range"),
    (lambda d: d["deterrence"].update(detection_onsite=1.5),
     r"key 'deterrence\.detection_onsite': 1\.5 is out of range"),
    (lambda d: d.pop("register"), r"missing key 'register'"),
])
def test_bad_scenarios_are_rejected_naming_file_and_key(tmp_path, baseline_dict, change, message):
    change(baseline_dict)
    with pytest.raises(ParameterError, match=message):
        load_scenario(_write(tmp_path, baseline_dict))


def test_optional_sections_take_their_defaults(tmp_path):
    sc = load_scenario(_write(tmp_path, {"id": "x", "name": "x", "description": "x",
                                         "policy": "xiongan-2023",
                                         "register": {"source": "synthetic", "size": 500}}))
    assert isinstance(sc, Scenario) and sc.simulation.replicates == 200
    classified, inspectors = scenario_register(sc, scenario_policy(sc))
    assert len(classified) == 500 and len(inspectors) > 0


def test_compare_runs_side_by_side():
    headline, runs = compare(["baseline-2023", "uniform-ratios", "rotation"], replicates=4,
                             years=1)
    assert list(headline["scenario"]) == ["baseline-2023", "uniform-ratios", "rotation"]
    h = headline.set_index("scenario")
    # R3: without credit sub-quotas no draw uses the credit classes.
    assert h.loc["baseline-2023", "credit_share_met"]
    assert not h.loc["uniform-ratios", "credit_share_met"]
    # Rotation covers more objects than independent draws at the same quotas.
    assert h.loc["rotation", "coverage_key"] > h.loc["baseline-2023", "coverage_key"]
    assert all(r.coverage is not None and r.deterrence is not None for r in runs)


def test_sweep_makes_risky_classes_likelier(tmp_path):
    sc = with_simulation(load_scenario("baseline-2023"), replicates=2, years=1)
    sweep = sweep_credit_weights(sc, [1.0, 2.0, 3.0], simulate=False)
    a = sweep[sweep["credit_class"] == "A"]["draw_ratio"].to_numpy()
    c = sweep[sweep["credit_class"] == "C"]["draw_ratio"].to_numpy()
    assert (a[1:] < a[:-1]).all() and (c[1:] > c[:-1]).all()
    assert steep_weights(2.0) == {"A": 1.0, "B": 2.0, "C": 4.0, "D": 8.0}


def test_optimum_meets_every_minimum_within_budget(policy):
    sc = load_scenario("baseline-2023")
    opt = optimise_ratios(sc)
    assert opt.minimums_met
    assert opt.optimum["violators"] <= opt.base["violators"]
    for rule in policy.quotas.rules:
        if rule.id in opt.ratios:
            assert opt.ratios[rule.id] >= rule.ratio
    classified, inspectors = scenario_register(sc, opt.policy)
    base_q = quarterly_quotas(classified, policy, "2023Q1").groupby(["unit", "quota_rule"])["quota"].sum()
    opt_q = quarterly_quotas(classified, opt.policy, "2023Q1").groupby(["unit", "quota_rule"])["quota"].sum()
    assert (opt_q >= base_q).all()
    assert opt.optimum["inspector_days"] <= opt.budget_days


def test_optimiser_reports_an_impossible_budget():
    with pytest.raises(InfeasibleError, match=r"need \d+ inspector-days per quarter at \w+ but "
                                              r"\d+ are available"):
        optimise_ratios(load_scenario("budget-cut"))


def test_dsr_simulate_writes_tables(tmp_path, capsys):
    rc = main(["simulate", "--scenario", "rotation", "--replicates", "3", "--years", "1",
               "--no-progress", "--outputs", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "yearly coverage" in out and "hit rate" in out
    files = {p.name for p in (tmp_path / "simulation").iterdir()}
    assert {"rotation-coverage-coverage.csv", "rotation-deterrence-timeline.csv",
            "rotation-headline.csv"} <= files


def test_dsr_simulate_on_a_local_cluster_prints_what_it_prints_in_process(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    args = ["simulate", "--scenario", "baseline-2023", "--replicates", "3", "--years", "1",
            "--no-progress"]
    assert main([*args, "--outputs", str(tmp_path / "a")]) == 0
    here = capsys.readouterr()
    assert main([*args, "--outputs", str(tmp_path / "b"), "--scheduler", "--workers",
                 "2"]) == 0
    there = capsys.readouterr()
    assert "tasks run in this process" in here.err and "tasks run on Dask scheduler" in there.err
    assert here.out == there.out
    for name in ("baseline-2023-coverage-coverage.csv", "baseline-2023-deterrence-timeline.csv"):
        assert (tmp_path / "a" / "simulation" / name).read_bytes() == (
            tmp_path / "b" / "simulation" / name).read_bytes()


def test_dsr_simulate_refuses_a_bad_scheduler(tmp_path, capsys):
    rc = main(["simulate", "--scenario", "baseline-2023", "--scheduler", "nowhere",
               "--no-progress", "--outputs", str(tmp_path)])
    assert rc == 2
    assert "scheduler: 'nowhere' is not a scheduler address" in capsys.readouterr().err
    assert not (tmp_path / "simulation").exists()


def test_dsr_simulate_names_a_bad_scenario(tmp_path, capsys):
    rc = main(["simulate", "--scenario", str(tmp_path / "none.yaml"), "--no-progress"])
    assert rc == 2
    assert "cannot read scenario file" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, message", [
    (dict(scenario_files=[]), r"scenario_files: expected a non-empty list"),
    (dict(replicates=0), r"replicates: expected a whole number >= 1, got 0"),
    (dict(years="2"), r"years: expected a whole number >= 1, got '2'"),
    (dict(steepness=[1, -2]), r"sweep_steepness: expected a list of positive numbers"),
    (dict(scenario_files=["no-such-scenario"]), r"no-such-scenario: cannot read scenario file"),
])
def test_comparison_parameters_are_checked(kwargs, message):
    from dsr_analysis.simulation.scenarios import comparison_parameters

    args = dict(scenario_files=["baseline-2023"], replicates=2, years=1, steepness=[1.0])
    args.update(kwargs)
    with pytest.raises(ParameterError, match=message):
        comparison_parameters(**args)


@pytest.mark.parametrize("notebook", ["coverage.ipynb", "deterrence.ipynb"])
def test_notebook_parameters_are_the_baseline_scenario(notebook):
    """The notebooks' parameters are scenario keys: their defaults are the baseline file
    (only the simulation size and the description differ), so `papermill -f` works."""
    import json

    from dsr_analysis.paths import PROJECT_ROOT

    nb = json.loads((PROJECT_ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    values: dict = {}
    exec("".join(cell["source"]), {}, values)
    values = {k: v for k, v in values.items() if not k.startswith("_")}  # the check's names
    assert values.pop("scheduler") is None  # where the chunks run: not a scenario key
    baseline = load_scenario("baseline-2023")
    assert set(values) == set(Scenario.__dataclass_fields__) - {"path"}
    small = scenario_from_mapping(values, notebook)
    assert small.simulation.replicates < baseline.simulation.replicates
    same = {"simulation": baseline.simulation, "description": baseline.description, "path": ""}
    assert dataclasses.replace(small, **same) == dataclasses.replace(baseline, **same)
