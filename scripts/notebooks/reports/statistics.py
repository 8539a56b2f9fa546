import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# “双随机、一公开”监管工作季度统计表

依据《2023年“双随机、一公开”监管工作实施方案》：三县生态环境局每季度结束后3个工作日内将上一季度统计表报送新区（R9）。
新区本级的统计表汇总新区本级和三县；各县的统计表为本县数据。检查对象为本单位抽取范围内的对象（新区本级为全新区）。
"""),
("parameters", params("xiongxian")),
("code", check("statistics")),
("code", setup("statistics") + """
from dsr_analysis.workcalendar import statistics_due

units = [u.id for u in pol.units] if pol.unit(unit).level == "area" else [unit]
table = reports.statistics_table(inputs, units, total=len(units) > 1)
due = statistics_due(q, pol, inputs.calendar)
display(Markdown(f"## {unit_name} {q.label_zh}统计表\\n\\n报送时限：{reports.date_zh(due)}（季度结束后"
                 f"{pol.reporting.statistics_working_days_after_quarter_end}个工作日内）。"
                 f"数据来源：{inputs.source}。"))
"""),
("code", """
display(reports.statistics_table_zh(table))
"""),
("code", """
for row in table.itertuples():
    print(f"{row.Index}: 完成抽查 {row.checks_total} 次（现场 {row.checks_onsite}，非现场 {row.checks_offsite}），"
          f"内部联合 {row.checks_internal_joint}，部门联合 {row.checks_inter_departmental}，"
          f"运用信用风险分类 {row.credit_share:.1%}，发现违法 {row.violations}，已公开 {row.results_published}")
"""),
("code", """
display(reports.checks_figure(table))
"""),
("markdown", """
口径说明：完成抽查指已录入检查结果的抽查任务；运用信用风险分类的占比按随机抽查计算，正面清单企业的非现场全覆盖检查不属于随机抽查，不计入分子和分母（R3）；依法不予公开的结果只计数、不公示（R8）。
"""),
("code", """
if output_dir:
    write_table_xlsx(f"{output_dir}/statistics-{unit}.xlsx",
                     f"{unit_name}{q.label_zh}“双随机、一公开”监管工作统计表",
                     reports.statistics_table_zh(table),
                     subtitle=f"填报单位：{unit_name}生态环境局    统计期间：{reports.date_zh(q.start)}至{reports.date_zh(q.end)}",
                     note="注：运用信用风险分类的占比按随机抽查计算，正面清单非现场全覆盖检查不计入；依法不予公开的结果只计数。")
"""),
]
