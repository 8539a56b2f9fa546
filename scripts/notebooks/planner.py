CELLS = [
("markdown", """
# 年度抽查计划编制器 — Annual-plan planner

Start from a plan in `parameters/policies/` (default: the Xiong'an 2023 plan), move the ratios,
credit-class weights, overlap control, internal-joint share and available inspectors, and see at
once the quarterly quota table of every unit, inspector-days needed against available (with a
warning when the plan is infeasible), every minimum of the 2023 plan met or not, and a quick
coverage and deterrence estimate. "保存方案" writes the tuned plan as a new policy file that
`dsr quotas --policy NAME` uses. Serve it as a page with `make planner` (Voilà), or open it in
JupyterLab. All logic is in `dsr_analysis.planner`; the widgets are in `dsr_analysis.planner_ui`.
"""),
("parameters", """
policy: str = "xiongan-2023"  # plan to start from (a file in parameters/policies/)
registers: str = ""  # register directory (empty: the embedded synthetic sample)
seed: int = 20240101  # seed of the quick simulated coverage check
save_dir: str = ""  # where "保存方案" writes plans (empty: parameters/policies/)
"""),
("code", """
from dsr_analysis.planner_ui import build_planner

app = build_planner(policy=policy, registers=registers, seed=seed, save_dir=save_dir)
print("起始方案要点 (默认控件值):")
print(app.outcome.headline())
"""),
("code", """
app
"""),
]
