import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("markdown", """
# “双随机、一公开”监管工作考核评估通报

依据实施方案：新区生态环境局定期对三县随机抽查任务完成情况和工作质量进行评估通报（R10）。各项指标的目标值取自实施方案，分值取自考核评分规则（`evaluation` 政策配置）：达标得满分，未达标按完成比例得分。
"""),
("parameters", params("xiongan")),
("code", check("evaluation")),
("code", setup("evaluation") + """
as_of = reports.evaluation_as_of(inputs)
ev = reports.evaluate(inputs, as_of=as_of)
ranks = reports.ranking(ev)
display(Markdown(f"## {q.label_zh}考核评估通报（{unit_name}）\\n\\n评估截至{reports.date_zh(as_of)}"
                 f"（季度结束后{pol.evaluation.as_of_working_days_after_quarter_end}个工作日）。"
                 f"数据来源：{inputs.source}。"))
"""),
("markdown", """
### 一、得分与排名
"""),
("code", """
display(ranks.rename(columns={"unit_name": "单位", "score": "得分", "met": "达标指标数",
                              "indicators": "指标数", "rank": "排名"}).drop(columns="unit"))
for r in ranks.itertuples():
    print(f"第{r.rank}名 {r.unit_name}: {r.score:.2f} 分（{r.met}/{r.indicators} 项达标）")
"""),
("code", """
display(reports.score_figure(ev, ranks))
"""),
("markdown", """
### 二、各项指标完成情况
"""),
("code", """
display(reports.evaluation_zh(ev))
"""),
("code", """
if output_dir:
    write_table_xlsx(f"{output_dir}/evaluation-{unit}.xlsx", f"{q.label_zh}“双随机、一公开”监管工作考核评估表",
                     reports.evaluation_zh(ev), index=False,
                     subtitle=f"评估单位：{unit_name}生态环境局    评估截至：{reports.date_zh(as_of)}")
"""),
]
