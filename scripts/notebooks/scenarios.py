CELLS = [
("markdown", """
# 方案对比 — Scenario comparison

Runs several scenarios of `parameters/scenarios/` side by side (coverage, violations, inspector
workload, the R3 credit-risk share), sweeps the steepness of the credit-class weights, and
searches with `scipy.optimize` for the ratios that minimise expected violations within the
inspector budget while meeting every minimum of the 2023 plan. Production run:
`papermill notebooks/scenarios.ipynb out.ipynb -p replicates 500 -p years 2`.
"""),
("parameters", """
scenario_files: list = ["baseline-2023", "uniform-ratios", "steep-credit-weights", "rotation", "budget-cut"]  # scenarios compared (names in parameters/scenarios/ or paths)
replicates: int = 10  # replicates per scenario (CI-sized; production e.g. 500)
years: int = 1  # simulated years per scenario
sweep_steepness: list = [1.0, 1.5, 2.0, 3.0]  # credit-weight steepness s (A:B:C:D as 1:s:s²:s³)
optimise_scenario: str = "baseline-2023"  # scenario whose ratios the optimiser searches
national_within: str = "p64"  # one province of the synthetic national register (p64 = 宁); "" = the whole country
national_size: int = 150_000  # enterprises of the national register (of which the province holds its share)
national_replicates: int = 4  # replicates of the national run
scheduler: str = None  # where the simulations run: None = in this process; "local" = a Dask LocalCluster here; "tcp://host:8786" = a Dask cluster (same results)
_names = set(dir())  # the names before papermill's injected values (checked below)
"""),
("code", """
import dsr_analysis.notebook_params as _np

_np.check_parameters(set(dir()), _names, __annotations__, "notebooks/scenarios.ipynb")
"""),
("code", """
import dataclasses

import matplotlib.pyplot as plt

from dsr_analysis import plotting
from dsr_analysis.distributed import open_executor
from dsr_analysis.simulation import scenarios
from dsr_analysis.errors import InfeasibleError
from dsr_analysis.paths import PROJECT_ROOT

(PROJECT_ROOT / "outputs" / "notebooks").mkdir(parents=True, exist_ok=True)

chosen = scenarios.comparison_parameters(scenario_files, replicates, years, sweep_steepness)
plotting.use_cjk_font()
runner = open_executor(scheduler)  # this process, or a Dask cluster: the same numbers
headline, runs = scenarios.compare(chosen, replicates=replicates, years=years, scheduler=runner)
labels = {"name": "方案", "credit_share": "信用分类抽查占比", "coverage_all": "覆盖率（全部）",
          "coverage_special": "覆盖率（特殊）", "coverage_key": "覆盖率（重点）",
          "coverage_general": "覆盖率（一般）", "quota_attainment_min": "最差完成率",
          "inspector_days_per_quarter": "所需人·日/季", "capacity_days_per_quarter": "可用人·日/季",
          "violation_rate_last_year": "违法率（末年）", "hit_rate": "检查发现率"}
print(headline.set_index("scenario")[list(labels)].rename(columns=labels).T.round(3).to_string())
"""),
("code", """
h = headline.set_index("scenario")
for sid in h.index:
    print(f"{h.loc[sid, 'name']}：覆盖率 {h.loc[sid, 'coverage_all']:.1%}，"
          f"违法率 {h.loc[sid, 'violation_rate_last_year']:.1%}，"
          f"{h.loc[sid, 'inspector_days_per_quarter']:.0f}/{h.loc[sid, 'capacity_days_per_quarter']:.0f} 人·日，"
          f"R3信用分类抽查占比{'达标' if h.loc[sid, 'credit_share_met'] else '未达标'}")
fig = plotting.plot_scenarios(headline)
fig.savefig(PROJECT_ROOT / "outputs" / "notebooks" / "scenarios.png", bbox_inches="tight")
plt.show()
"""),
("markdown", """
## 信用风险权重扫描 — Sweep of the credit-class weights
"""),
("code", """
base = dataclasses.replace(chosen[0], simulation=dataclasses.replace(
    chosen[0].simulation, replicates=replicates, years=years))
sweep = scenarios.sweep_credit_weights(base, sweep_steepness, scheduler=runner)
print(sweep.pivot(index="steepness", columns="credit_class", values="draw_ratio")
      .round(3).rename_axis(index="陡度 s", columns="季度抽查比例").to_string())
print(sweep.drop_duplicates("steepness")[["steepness", "expected_violation_rate", "violation_rate",
                                          "hit_rate", "inspector_days"]]
      .rename(columns={"steepness": "陡度 s", "expected_violation_rate": "违法率（解析）",
                       "violation_rate": "违法率（模拟）", "hit_rate": "检查发现率",
                       "inspector_days": "人·日/季"}).round(4).to_string(index=False))
fig = plotting.plot_sweep(sweep)
plt.show()
"""),
("markdown", """
## 预算内最优抽查比例 — Optimal ratios within the budget

Decision variables: the ratio of each random quota rule (never below the 2023 minimum) and the
credit weights; objective: expected violations per quarter (closed form); constraint: each unit's
inspector-days within its capacity. Solved with `scipy.optimize.minimize(method="SLSQP")`, then
checked with the real integer quotas and verified by simulation.
"""),
("code", """
target = scenarios.load_scenario(optimise_scenario)
opt = scenarios.optimise_ratios(target, scheduler=runner)
print(f"预算：每季度 {opt.budget_days:.0f} 人·日；求解：{opt.message}；"
      f"2023年方案各项最低比例{'均满足' if opt.minimums_met else '未全部满足'}")
print("最优比例：", {k: round(v, 3) for k, v in opt.ratios.items()})
print("最优信用权重：", opt.weights)
print(opt.table().rename(index={"objects": "对象数", "violation_rate": "违法率", "violators": "违法企业",
                                "inspections": "检查次数", "detected": "发现问题",
                                "hit_rate": "检查发现率", "inspector_days": "人·日"},
                         columns={"base": "原方案", "optimum": "最优方案"}).round(3).to_string())
best = dataclasses.replace(target, id=f"{target.id}-optimum", name="最优比例方案",
                           overrides=dataclasses.replace(target.overrides, ratios=opt.ratios,
                                                         credit_weights=opt.weights),
                           simulation=dataclasses.replace(target.simulation, replicates=replicates,
                                                          years=years))
check, _ = scenarios.compare([dataclasses.replace(target, simulation=best.simulation), best],
                             scheduler=runner)
print("模拟验证：", ", ".join(f"{r.name} 违法率 {r.violation_rate_last_year:.1%}，"
                          f"{r.inspector_days_per_quarter:.0f} 人·日" for r in check.itertuples()))
"""),
("code", """
try:
    scenarios.optimise_ratios(scenarios.load_scenario("budget-cut"))
except InfeasibleError as exc:
    print(f"削减预算后无可行解：{exc}")
"""),
("markdown", """
## 全国层级：按省、市、县比较 — National scale: units as data

A policy may name its units by a hierarchy (province → prefecture → county) instead of listing
them: `parameters/hierarchies/national-2023.yaml` applies the 2023 rules in every prefecture
(which draws from all objects of the prefecture, as the new-area level does) and every county
(its own objects) of the synthetic national register (3.5 million enterprises over about 2,840
counties at full size; nothing in it is real). The run is split into one task per jurisdiction
and chunk of replicates; on a cluster (`scheduler`) every jurisdiction runs at once. Here one
province, small.
"""),
("code", """
from dsr_analysis.hierarchy import jurisdictions
from dsr_analysis.policy import load_policy
from dsr_analysis.sample import national_registers
from dsr_analysis.simulation.national import national_headline, simulate_national

nat = load_policy(PROJECT_ROOT / "parameters" / "hierarchies" / "national-2023.yaml")
nat = dataclasses.replace(nat, hierarchy=dataclasses.replace(nat.hierarchy, within=national_within))
regs = national_registers(national_size, within=national_within or None)
print(f"{len(jurisdictions(nat))} 个抽查辖区（地市及其所辖县区；省直管县单列），"
      f"{len(regs['enterprises'])} 家企业，{len(regs['inspectors'])} 名执法人员")
national = simulate_national(nat, regs["enterprises"], regs["inspectors"],
                             replicates=national_replicates, years=1, seed=2023, scheduler=runner)
print(national.jurisdictions[["jurisdiction", "name", "units", "objects", "inspectors", "coverage",
                              "inspector_days_per_quarter", "capacity_days_per_quarter",
                              "violation_rate_last_year", "hit_rate"]].rename(columns={
    "jurisdiction": "辖区", "name": "名称", "units": "抽查单位", "objects": "对象数",
    "inspectors": "执法人员", "coverage": "年度覆盖率", "inspector_days_per_quarter": "所需人·日/季",
    "capacity_days_per_quarter": "可用人·日/季", "violation_rate_last_year": "违法率",
    "hit_rate": "检查发现率"}).round(3).to_string(index=False))
h = national_headline(national, nat)
print(f"合计：覆盖率 {h['coverage_all']:.1%}，违法率 {h['violation_rate_last_year']:.1%}，"
      f"检查发现率 {h['hit_rate']:.2%}，{h['inspector_days_per_quarter']:.0f}/"
      f"{h['capacity_days_per_quarter']:.0f} 人·日/季")
runner.close()  # a LocalCluster started for this notebook is shut down
"""),
]
