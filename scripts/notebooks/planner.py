CELLS = [
("parameters", """
policy: str = "xiongan-2023"  # plan to start from (a file in parameters/policies/); its units are the register's
registers: str = ""  # register directory (empty: the embedded synthetic sample)
seed: int = 20240101  # seed of the quick simulated coverage check
save_dir: str = ""  # where "保存方案" writes plans (empty: the workspace, $DSR_WORKSPACE/plans or ~/dsr-workspace/plans)
"""),
("code", """
from dsr_analysis.planner.page import planner_page

app = planner_page(policy=policy, registers=registers, seed=seed, save_dir=save_dir)
app
"""),
("markdown", """
**起始方案要点**（默认数值，供核对）：
"""),
("code", """
print(app.headline())
"""),
("markdown", """
本页是年度抽查计划编制器：选起始方案，调整比例、信用权重、重叠控制、联合抽查和可用执法人员，即时看到可行性、
2023年方案各项最低要求、执法力量、年度覆盖率与威慑；可与已保存的方案对比并导出 Excel，保存的方案可直接用于批处理抽取。
在“名录库”一栏填写本单位名录库所在的文件夹并点“载入”，即按本单位的名录库测算；未载入时使用样本数据，页面顶部以红色标出“演示数据”。
"""),
]
