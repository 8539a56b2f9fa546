import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

NUMBERS = 'numbers: str = ""  # 发文字号 register (SQLite); empty: the number is left blank\n'

CELLS = [
("internal-markdown", """
# 考核评估通报

本笔记本生成新区生态环境局对三县一个季度“双随机、一公开”监管工作的考核评估通报（网页、Word和PDF）。
各项指标的目标值取自实施方案，分值取自考核评分规则：达标得满分，未达标按完成比例得分。
"""),
("parameters", params("xiongan", NUMBERS)),
("code", check("evaluation")),
("code", setup("evaluation") + """
doc = official.evaluation_document(inputs, unit, numbers)
display(doc)
"""),
("internal", """
ranks = reports.ranking(reports.evaluate(inputs, as_of=doc.as_of))
for r in ranks.itertuples():
    print(f"第{r.rank}名 {r.unit_name}：{r.score:.2f} 分（{r.met}/{r.indicators} 项达标）")
ev = reports.evaluate(inputs, as_of=doc.as_of)
for r in ev[ev["indicator"] == "follow_up_closed"].itertuples():
    print(f"{r.unit_name} 后续处置办结：{r.value:.1%}，{r.detail}")
"""),
("code", """
if output_dir:
    write_forms(doc, f"{output_dir}/evaluation-{unit}")
"""),
]
