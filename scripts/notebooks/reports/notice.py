import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# “双随机、一公开”抽查结果公示

依据实施方案：每月公开抽查结果；检查情况和查处结果涉及保密、国家安全、公共安全的，依法不予公开（R8）。每项结果应在检查后规定的工作日内公开。
"""),
("parameters", params("xiongxian")),
("code", check("notice")),
("code", setup("notice") + """
notices = [reports.results_notice(inputs, unit, q.year, m) for m in q.months]
display(Markdown(f"## {unit_name} {q.label_zh}抽查结果公示（按月）\\n\\n数据来源：{inputs.source}。"))
"""),
("code", """
for n in notices:
    display(Markdown(f"### {n.month[:4]}年{int(n.month[5:])}月 抽查结果公示（{len(n.table)} 条）"))
    display(n.table.drop(columns="任务编号").head(30) if len(n.table) > 30 else n.table.drop(columns="任务编号"))
    if len(n.table) > 30:
        display(Markdown(f"（网页仅列前30条，共 {len(n.table)} 条，完整名单见表格文件。）"))
    display(Markdown(f"本月另有 {n.withheld} 条检查结果涉及保密、国家安全或公共安全，依法不予公开。"))
    print(f"{n.month}: 公示 {len(n.table)} 条，依法不予公开 {n.withheld} 条")
for line in inputs.redraw_lines(unit):
    display(Markdown(line + "。"))
display(Markdown(inputs.ledger_line()))
"""),
("code", """
if output_dir:
    for n in notices:
        write_table_xlsx(f"{output_dir}/notice-{unit}-{n.month}.xlsx",
                         f"{unit_name}{n.month[:4]}年{int(n.month[5:])}月“双随机、一公开”抽查结果公示",
                         n.table, index=False,
                         subtitle=f"公示单位：{unit_name}生态环境局",
                         note=f"另有 {n.withheld} 条检查结果涉及保密、国家安全或公共安全，依法不予公开。"
                              + inputs.ledger_line())
"""),
]
