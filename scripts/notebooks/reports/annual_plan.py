import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# “双随机、一公开”年度抽查计划

依据实施方案：年度抽查计划向社会公开；调整后的年度抽查计划及时重新公开（R8）。
"""),
("parameters", params("xiongxian")),
("code", check("annual_plan")),
("code", setup("annual_plan") + """
display(Markdown(f"## {unit_name} {pol.year}年度抽查计划\\n\\n{pol.name}"))
"""),
("markdown", """
### 一、各季度最低抽查数量（R4）
"""),
("code", """
plan = reports.annual_quotas(inputs, unit)
display(plan)
print(f"{unit_name} {pol.year}年最低抽查 {int(plan['全年合计'].sum())} 次")
"""),
("markdown", """
### 二、抽取方法与复核方法（R1、R3、R5、R6）
"""),
("code", """
display(Markdown("\\n".join(f"{i}. {p}" for i, p in enumerate(reports.draw_method(pol), start=1))))
"""),
("markdown", """
### 三、报送与公开时间（R9）
"""),
("code", """
display(reports.reporting_calendar(pol, inputs.calendar))
display(Markdown(inputs.ledger_line()))
"""),
("code", """
if output_dir:
    write_table_xlsx(f"{output_dir}/annual_plan-{unit}.xlsx", f"{unit_name}{pol.year}年度“双随机、一公开”抽查计划",
                     plan, index=False, subtitle=f"制定单位：{unit_name}生态环境局",
                     note="正面清单企业采用非现场方式每季度全覆盖检查；其余按季度随机抽取。")
"""),
]
