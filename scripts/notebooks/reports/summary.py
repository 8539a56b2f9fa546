import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# “双随机、一公开”监管工作季度总结

依据实施方案：每季度结束前3个工作日内报送本季度“双随机、一公开”监管工作总结，包括典型案例以及相关佐证材料（R9）。
"""),
("parameters", params("xiongxian")),
("code", check("summary")),
("code", setup("summary") + """
from dsr_analysis.workcalendar import summary_window

opens, due = summary_window(q, pol, inputs.calendar)
progress = reports.summary_progress(inputs, unit, as_of=due)
display(Markdown(f"## {unit_name} {q.label_zh}工作总结\\n\\n报送期：{reports.date_zh(opens)}至{reports.date_zh(due)}"
                 f"（季度结束前{pol.reporting.summary_working_days_before_quarter_end}个工作日内），"
                 f"进度统计截至{reports.date_zh(due)}。数据来源：{inputs.source}。"))
"""),
("markdown", """
### 一、抽查任务完成情况
"""),
("code", """
display(reports.summary_progress_zh(progress))
met = int(progress["met"].sum())
print(f"{unit_name}: {met}/{len(progress)} 项季度最低抽查要求已完成；"
      f"已完成 {int(progress['done'].sum())} 次，最低要求 {int(progress['quota'].sum())} 次")
"""),
("code", """
display(reports.progress_figure(progress, unit_name))
"""),
("markdown", """
### 二、联合抽查与信用风险分类结合情况
"""),
("code", """
ev = reports.evaluate(inputs, [unit], as_of=due)
joint = ev[ev["indicator"].isin(["internal_joint_share", "inter_departmental", "credit_share"])]
display(reports.evaluation_zh(joint).drop(columns=["分值", "得分"]))
"""),
("markdown", """
### 三、典型案例
"""),
("code", """
cases = reports.typical_cases(inputs, unit, n=3)
if cases.empty:
    display(Markdown("本季度未发现可公开的典型违法案例。"))
else:
    display(cases)
print(f"典型案例 {len(cases)} 件")
"""),
("markdown", """
### 四、重新抽取情况
"""),
("code", """
redraws = inputs.redraw_lines(unit)
display(Markdown("\\n".join(f"{i}. {line}。" for i, line in enumerate(redraws, 1))
                 if redraws else "本年度截至本季度未重新抽取。"))
"""),
("code", """
if output_dir:
    write_table_xlsx(f"{output_dir}/summary-{unit}.xlsx", f"{unit_name}{q.label_zh}抽查任务完成情况",
                     reports.summary_progress_zh(progress), index=False,
                     subtitle=f"填报单位：{unit_name}生态环境局    截至：{reports.date_zh(due)}")
"""),
]
