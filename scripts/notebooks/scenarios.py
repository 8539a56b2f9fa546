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
"""),
("code", """
import dataclasses

import matplotlib.pyplot as plt

from dsr_analysis import plotting
from dsr_analysis.simulation import scenarios
from dsr_analysis.errors import InfeasibleError
from dsr_analysis.paths import PROJECT_ROOT

(PROJECT_ROOT / "outputs" / "notebooks").mkdir(parents=True, exist_ok=True)

chosen = scenarios.comparison_parameters(scenario_files, replicates, years, sweep_steepness)
plotting.use_cjk_font()
headline, runs = scenarios.compare(chosen, replicates=replicates, years=years)
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
sweep = scenarios.sweep_credit_weights(base, sweep_steepness)
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
opt = scenarios.optimise_ratios(target)
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
check, _ = scenarios.compare([dataclasses.replace(target, simulation=best.simulation), best])
print("模拟验证：", ", ".join(f"{r.name} 违法率 {r.violation_rate_last_year:.1%}，"
                          f"{r.inspector_days_per_quarter:.0f} 人·日" for r in check.itertuples()))
"""),
("code", """
try:
    scenarios.optimise_ratios(scenarios.load_scenario("budget-cut"))
except InfeasibleError as exc:
    print(f"削减预算后无可行解：{exc}")
"""),
]
