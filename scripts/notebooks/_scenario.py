"""Cells shared by the scenario notebooks (coverage, deterrence): the parameters cell, whose
names are the keys of a scenario file, and the set-up that checks them and builds the
scenario's policy and register."""

PARAMS = '''
id: str = "baseline-2023"  # scenario id; `papermill -f parameters/scenarios/X.yaml` replaces every parameter below
name: str = "2023年雄安新区实施方案（基线）"  # scenario title (Chinese)
description: str = "The 2023 plan as published (small CI run of the baseline scenario)."  # what the scenario changes
policy: str = "xiongan-2023"  # policy file or name in parameters/policies/
register: dict = {"source": "sample"}  # embedded sample, or {"source": "synthetic", "size": N, "seed": S}
overrides: dict = {}  # changes to the policy's numbers: ratios, credit_weights, credit_weighted, overlap, yearly_cap, between_levels
{simulation}
budget: dict = {"days_per_inspector_per_quarter": 8.0, "onsite_inspector_days": 2.0, "offsite_inspector_days": 0.5, "inspector_scale": 1.0, "enforce": True}  # inspector capacity and cost of a check (inspector-days)
deterrence: dict = {"gain_median": 0.43, "gain_sigma": 1.2, "gain_by_credit_class": {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}, "gain_noise": 0.5, "sanction": 10.0, "compliant_share": 0.5, "detection_onsite": 0.7, "detection_offsite": 0.3, "downgrade_steps": 1, "recovery_years": 1, "remove_from_positive_list": True}  # behaviour (10,000 yuan per quarter)
scheduler: str = None  # where the simulation's chunks run: None = in this process; "local" = a Dask LocalCluster here; "tcp://host:8786" = a Dask cluster (same results)
_names = set(dir())  # the names before papermill's injected values (checked below)
'''

SETUP = '''
from pathlib import Path

import matplotlib.pyplot as plt

from dsr_analysis import plotting
from dsr_analysis.distributed import open_executor
from dsr_analysis.simulation import scenarios
from dsr_analysis.categories import CATEGORY_ZH
from dsr_analysis.paths import PROJECT_ROOT

scenario = scenarios.scenario_from_mapping(
    dict(id=id, name=name, description=description, policy=policy, register=register,
         overrides=overrides, simulation=simulation, budget=budget, deterrence=deterrence),
    source="{notebook}.ipynb parameters")
runner = open_executor(scheduler)  # this process, or a Dask cluster (checked here)
pol = scenarios.scenario_policy(scenario)
classified, inspectors = scenarios.scenario_register(scenario, pol)
sim = scenario.simulation
out_dir = PROJECT_ROOT / "outputs" / "notebooks" / "{notebook}" / scenario.id
out_dir.mkdir(parents=True, exist_ok=True)
plotting.use_cjk_font()
print(f"方案：{scenario.id}（{scenario.name}）")
print(scenarios.register_label(scenario))
print(f"政策：{pol.id}；检查对象 {len(classified)} 个；跨季度抽取：{pol.draw.overlap}；"
      f"两级同季重叠：{pol.draw.between_levels}")
print(f"模拟：{sim.replicates} 次重复 × {sim.years} 年，随机种子 {sim.seed}；"
      f"{'Dask 集群' if runner.distributed else '本进程内'}运行")
'''


def params(simulation: str) -> str:
    """The parameters cell with the notebook's own CI-sized ``simulation`` line."""
    return PARAMS.replace("{simulation}", simulation)


def setup(notebook: str) -> str:
    """The set-up cell of ``notebook`` (its name in messages and in the output folder)."""
    return SETUP.replace("{notebook}", notebook)


def check(notebook: str) -> str:
    """The cell after the parameters (and papermill's injected values): refuses a parameter
    the notebook does not declare."""
    return (
        "import dsr_analysis.notebook_params as _np\n\n"
        f'_np.check_parameters(set(dir()), _names, __annotations__, "notebooks/{notebook}.ipynb")\n')
