import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _scenario import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# 震慑效果模拟 — Deterrence simulation

Each enterprise weighs a private gain from violating (lognormal; riskier credit classes gain
more) against perceived inspection probability × detection probability × sanction. The
perceived probability follows what the firm can know: the published quotas of its strata
(unit × quota rule) with its credit class's inclusion probability, and its own inspection history. Detected violations move the
firm down the credit classes, into the special category next year, and off the positive list
(state-dependent enforcement, Harrington 1988). Defaults are calibrated so that about 4.79 % of
checks find a violation (national figure, MEE 2019).

Production run: `papermill notebooks/deterrence.ipynb out.ipynb -f parameters/scenarios/X.yaml`
(the parameters are the keys of a scenario file; checked by `dsr_analysis.simulation.scenarios`).
"""),
("parameters", params('simulation: dict = {"replicates": 30, "years": 2, "seed": 2023, "chunk_size": 50}  # CI-sized; the scenario files hold production sizes')),
("code", check("deterrence")),
("code", setup("deterrence")),
("markdown", """
## 解析估计 — Closed-form quick estimate (one quarter)
"""),
("code", """
from dsr_analysis.simulation.deterrence import quick_estimate, quick_totals

params = scenario.deterrence
est = quick_estimate(classified, pol, params, inspectors=inspectors, budget=scenario.budget)
tot = quick_totals(est)
print(f"每季度：违法企业 {tot['violators']:.0f} 家（{tot['violation_rate']:.1%}），"
      f"检查 {tot['inspections']:.0f} 次，发现问题 {tot['detected']:.1f} 起，"
      f"检查发现率 {tot['hit_rate']:.2%}（全国2019年：4.79%），需 {tot['inspector_days']:.0f} 人·日")
by_cat = est.groupby("category")[["objects", "violators", "inspections", "detected"]].sum()
by_cat["violation_rate"] = by_cat["violators"] / by_cat["objects"]
by_cat["p_quarter"] = by_cat["inspections"] / by_cat["objects"]
print(by_cat.rename(index=CATEGORY_ZH, columns={
    "objects": "对象数", "violators": "违法企业", "inspections": "检查次数", "detected": "发现问题",
    "violation_rate": "违法率", "p_quarter": "季度抽中概率"}).round(3).to_string())
"""),
("code", """
import numpy as np

from dsr_analysis.simulation.deterrence import expected_violation_rate
from dsr_analysis.plotting import CREDIT_LABEL

grid = np.linspace(0, 1, 101)
curves = {CREDIT_LABEL[c]: expected_violation_rate(
    grid, params.detection_onsite, params.sanction, params.gain_median * f,
    params.total_sigma, params.compliant_share) for c, f in params.gain_by_credit_class.items()}
fig = plotting.plot_violation_curve(grid, curves)
plt.show()
"""),
("markdown", """
## 随机模拟 — Simulation over time
"""),
("code", """
from dsr_analysis.simulation.deterrence import deterrence_summary, pooled_hit_rate, simulate_deterrence

result = simulate_deterrence(classified, pol, params, replicates=sim.replicates, years=sim.years,
                             seed=sim.seed, chunk_size=sim.chunk_size, inspectors=inspectors,
                             budget=scenario.budget, progress=False, scheduler=runner)
summary = deterrence_summary(result)
for row in summary.itertuples():
    print(f"第{row.year}年：违法率 {row.violation_rate:.1%}；每季度检查 {row.inspections:.0f} 次，"
          f"查处 {row.detected:.1f} 起，未被发现 {row.undetected:.0f} 起，"
          f"检查发现率 {row.hit_rate:.2%}，{row.inspector_days:.0f} 人·日；"
          f"特殊监管对象 {row.special:.0f} 个，正面清单 {row.positive_list:.0f} 家")
print(f"全程检查发现率 {pooled_hit_rate(result):.2%}（全国2019年：4.79%）")
"""),
("code", """
fig = plotting.plot_violation_timeline(result.timeline)
plt.show()
fig = plotting.plot_detection(result.timeline)
fig.savefig(out_dir / "detection.png", bbox_inches="tight")
plt.show()
"""),
("markdown", """
## 轮换抽取的代价 — What a rotation costs

Under rotation an object inspected this year is drawn again only once its stratum is exhausted,
so after a check the firm perceives (almost) no risk for the rest of the year. Same scenario and
seed, rotation instead of the scenario's overlap control:
"""),
("code", """
import dataclasses

rotation = dataclasses.replace(pol, draw=dataclasses.replace(pol.draw, overlap="rotation"))
rot = simulate_deterrence(classified, rotation, params, replicates=sim.replicates,
                          years=sim.years, seed=sim.seed, chunk_size=sim.chunk_size,
                          inspectors=inspectors, budget=scenario.budget, progress=False,
                          scheduler=runner)
cmp = (result.timeline.groupby("quarter")["violation_rate"].mean().to_frame(pol.draw.overlap)
       .join(rot.timeline.groupby("quarter")["violation_rate"].mean().rename("rotation")))
cmp["difference"] = cmp["rotation"] - cmp[pol.draw.overlap]
print(cmp.rename_axis("季度").round(4).to_string())
print(f"轮换抽取使全年平均违法率变化 {cmp['difference'].mean():+.2%}，"
      f"第四季度变化 {cmp['difference'].iloc[-1]:+.2%}")
fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
plotting.plot_violation_timeline(result.timeline, label=f"{pol.draw.overlap}（本方案）", ax=ax)
plotting.plot_violation_timeline(rot.timeline, label="rotation（轮换）", ax=ax)
plt.show()
"""),
("code", """
last = result.by_category[result.by_category["t"] > 4 * (sim.years - 1)]
cat = last.groupby("category")[["objects", "violators", "inspections", "detected"]].sum()
cat["violation_rate"] = cat["violators"] / cat["objects"]
cat["hit_rate"] = cat["detected"] / cat["inspections"]
print("末年按类别：")
print(cat[["violation_rate", "hit_rate"]].rename(index=CATEGORY_ZH, columns={
    "violation_rate": "违法率", "hit_rate": "检查发现率"}).round(4).to_string())
paths = result.save(out_dir)
print(f"已保存 {len(paths)} 个表格：{out_dir.relative_to(PROJECT_ROOT)}/")
runner.close()  # a LocalCluster started for this notebook is shut down
"""),
]
