import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _scenario import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# 抽查覆盖率模拟 — Coverage simulation

Simulates years of quarterly double-random draws under a scenario exactly as the official draw
makes them: strata of unit × quota rule with their quotas and each credit class's inclusion
probability (R3, R4, `dsr_analysis.quotas`), Pareto order sampling, the drawing order and overlap
control of the scenario (independent draws, rotation or a yearly cap; avoid or merge between
levels, `dsr_analysis.overlap`) and the inspector budget. It shows who
gets inspected how often: yearly coverage by category and credit class, inspections per object,
the longest gap between inspections, quota attainment and inspector-days against capacity.

The parameters are the keys of a scenario file, so a production run is
`papermill notebooks/coverage.ipynb outputs/coverage-rotation.ipynb -f parameters/scenarios/rotation.yaml`.
The defaults are the baseline scenario at a small size (seconds). The parameters are checked by
`dsr_analysis.simulation.scenarios.scenario_from_mapping` before anything runs.
"""),
("parameters", params('simulation: dict = {"replicates": 40, "years": 1, "seed": 2023, "chunk_size": 50}  # CI-sized; the scenario files hold production sizes')),
("code", check("coverage")),
("code", setup("coverage")),
("markdown", """
## 季度抽查数量（第一季度） — Quarterly quotas
"""),
("code", """
from dsr_analysis.quotas import quarterly_quotas, quota_checks, quota_summary_zh

q1 = quarterly_quotas(classified, pol, f"{pol.year}Q1", inspectors)
print(quota_summary_zh(q1).to_string(index=False))
for check in quota_checks(q1, pol, inspectors):
    print(f"[{check.rule}] {check.check}: {check.value:.1%}（要求 ≥ {check.target:.0%}）"
          f"{'达标' if check.met else '未达标'}")
"""),
("markdown", """
## 年度覆盖率 — Yearly coverage
"""),
("code", """
from dsr_analysis.simulation.coverage import coverage_summary, simulate_coverage, workload_summary

result = simulate_coverage(classified, pol, replicates=sim.replicates, years=sim.years,
                           seed=sim.seed, chunk_size=sim.chunk_size, inspectors=inspectors,
                           budget=scenario.budget, progress=False,
                           scheduler=runner)
for row in coverage_summary(result, by=["category"]).itertuples():
    print(f"{CATEGORY_ZH[row.category]}：年度覆盖率 {row.coverage:.1%}"
          f"（5%–95%：{row.coverage_p05:.1%}–{row.coverage_p95:.1%}），"
          f"平均每个对象每年被检查 {row.inspections_per_object:.2f} 次")
"""),
("code", """
by_class = coverage_summary(result, by=["category", "credit_class"])
print(by_class.assign(category=by_class["category"].map(CATEGORY_ZH)).rename(columns={
    "category": "类别", "credit_class": "信用等级", "objects": "对象数", "coverage": "覆盖率",
    "coverage_p05": "5%分位", "coverage_p95": "95%分位", "inspections_per_object": "年均检查次数",
}).round(3).to_string(index=False))
fig = plotting.plot_coverage(by_class)
fig.savefig(out_dir / "coverage.png", bbox_inches="tight")
plt.show()
"""),
("markdown", """
## 与解析公式对照 — Check against the closed form

For strata only one draw reaches (the counties' general objects off the positive list), the
simulated yearly coverage must match `1 - (1 - n/N)^4` (independent draws) or `min(1, 4n/N)`
(rotation) within sampling error.
"""),
("code", """
from dsr_analysis.simulation.coverage import closed_form_check

check = closed_form_check(result, classified, pol, inspectors)
if len(check):
    print(check.round(4).to_string(index=False))
    print(f"最大偏差 {check['z'].abs().max():.2f} 个标准误（{len(check)} 个抽查层）")
    fig = plotting.plot_coverage_check(check)
    plt.show()
else:
    print("该抽取方式没有解析公式（年度上限）")
"""),
("markdown", """
## 检查次数分布与最长间隔 — Inspections per object and gaps
"""),
("code", """
fig = plotting.plot_visits(result.visits)
plt.show()
gaps = result.gaps.groupby("category")[["mean_gap", "share_gap_4plus"]].mean()
for cat, row in gaps.iterrows():
    print(f"{CATEGORY_ZH[cat]}：最长连续未检查 {row.mean_gap:.2f} 个季度（平均），"
          f"{row.share_gap_4plus:.1%} 的对象连续4个季度及以上未被检查")
"""),
("markdown", """
## 执法力量与完成率 — Workload and quota attainment
"""),
("code", """
work = workload_summary(result)
print(work.assign(unit=work["unit"].map(pol.unit_names)).rename(columns={
    "unit": "单位", "onsite": "现场检查/季", "offsite": "非现场检查/季",
    "inspector_days": "所需人·日/季", "capacity_days": "可用人·日/季", "load": "负荷"}
).round(2).to_string(index=False))
fig = plotting.plot_workload(work, pol.unit_names)
plt.show()
short = result.quotas[result.quotas["attainment_min"] < 1]
print(f"抽查层×季度共 {len(result.quotas)} 个，其中 {len(short)} 个在至少一次重复中未抽满"
      f"（最差完成率 {result.quotas['attainment_min'].min():.0%}）")
"""),
("code", """
paths = result.save(out_dir)
print(f"已保存 {len(paths)} 个表格：{out_dir.relative_to(PROJECT_ROOT)}/")
runner.close()  # a LocalCluster started for this notebook is shut down
"""),
]
