import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

NUMBERS = 'numbers: str = ""  # 发文字号 register (SQLite); empty: the number is left blank\n'

CELLS = [
("internal-markdown", """
# 季度工作总结（报告）

本笔记本生成一个单位一个季度的“双随机、一公开”监管工作情况报告（网页、Word和PDF）：抽查任务完成情况、
联合抽查与信用风险分类结合情况、问题处置、典型案例、重新抽取情况、存在问题和下一步工作，统计截至总结的
报送时限；完成情况表和逾期案件表为附件。实施方案条款对照表另存为内部审核材料（.review.pdf）。
"""),
("parameters", params("xiongxian", NUMBERS)),
("code", check("summary")),
("code", setup("summary") + """
doc = official.summary_document(inputs, unit, numbers)
display(doc)
"""),
("internal", """
print(doc.title, doc.number, doc.date, f"{len(doc.blocks)} 段/表/图", sep="；")
for block in doc.blocks:
    if hasattr(block, "level") and block.level == 1:
        print(block.text)
cases = reports.follow_up_cases(inputs, doc.as_of)
cases = cases[cases["unit"] == unit]
print("后续处置案件（截至总结报送时限）：", len(cases), "件",
      cases["status_zh"].value_counts().sort_index().to_dict())
"""),
("code", """
if output_dir:
    write_forms(doc, f"{output_dir}/summary-{unit}")
"""),
]
