import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("internal-markdown", """
# 年度抽查计划

本笔记本生成一个单位的年度“双随机、一公开”抽查计划（向社会公开；网页、Word和PDF）：各季度各类监管对象的
最低抽查数量、抽取方法与复核方法、报送与公开时间。
"""),
("parameters", params("xiongxian")),
("code", check("annual_plan")),
("code", setup("annual_plan") + """
from dsr_analysis import amendments

# the revision in force for the quarter, dated as recorded (dsr plan publish / amend)
doc = amendments.annual_plan_edition(inputs, unit, ledger)
display(doc)
"""),
("internal", """
plan = official.annual_plan_table(inputs, unit)
print(f"{unit_name} {pol.year}年最低抽查 {int(plan['全年合计'].sum())} 次；{len(plan)} 类对象")
"""),
("code", """
if output_dir:
    write_forms(doc, f"{output_dir}/annual_plan-{unit}")
"""),
]
