import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("internal-markdown", """
# 抽查结果公示

本笔记本生成一个单位的月度抽查结果公示（网页、XLSX表格和PDF）：默认为季度的三个月，给出月份时只生成该月
（可在方案年度之后，如次年1月公开的上年12月检查结果）。涉及保密、国家安全、公共安全的结果只计数、不公示。
"""),
("parameters", params("xiongxian", 'month: str = ""  # one month YYYY-MM (may follow the policy year); empty: the quarter\'s three months\n')),
("code", check("notice")),
("code", setup("notice") + """
months = [(int(month[:4]), int(month[5:]))] if month else [(q.year, m) for m in q.months]
docs = [official.notice_document(inputs, unit, y, m) for y, m in months]
for doc in docs:
    display(doc)
"""),
("internal", """
for doc in docs:
    print(f"{doc.title}：公示 {len(doc.table.frame)} 条")
    print("  后续处置：", doc.table.frame["后续处置"].str.extract(r"([^（]+)")[0].value_counts().to_dict())
    print("  文末：" + "；".join(doc.statements) + f"；{doc.unit}（盖章）{doc.date}")
"""),
("code", """
if output_dir:
    for (y, m), doc in zip(months, docs):
        write_forms(doc, f"{output_dir}/notice-{unit}-{y}-{m:02d}")
"""),
]
