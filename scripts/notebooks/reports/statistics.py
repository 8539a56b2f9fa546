import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _params import check, params, setup  # noqa: E402

CELLS = [
("internal-markdown", """
# 季度统计表

本笔记本生成一个单位一个季度的“双随机、一公开”监管工作统计表：网页显示、XLSX表格和PDF。
新区本级的统计表汇总新区本级和三县，各县的统计表为本县数据；只统计数据截止日期前已知的情况
（默认为统计表的报送时限）。
"""),
("parameters", params("xiongxian", 'as_of: str = ""  # 数据截止日期 YYYY-MM-DD; empty: the table\'s deadline\n')),
("code", check("statistics")),
("code", setup("statistics") + """
import datetime as dt

doc = official.statistics_document(inputs, unit, dt.date.fromisoformat(as_of) if as_of else None)
display(doc)
"""),
("internal", """
frame = doc.table.frame
print(f"{len(frame)} 行 × {frame.shape[1]} 列；数据截止日期 {doc.as_of}；"
      f"完成抽查合计 {frame[('完成抽查（次）', '合计')].tolist()}，已公开 {frame[('结果公开', '已公开')].tolist()}")
print("表头标志：" + "；".join(f"{k}：{v or '（空白待填）'}" for k, v in doc.marks))
print("签署栏：" + "、".join(doc.signatures) + f"；{doc.date_label} {doc.date}")
"""),
("code", """
units = [u.id for u in pol.units] if pol.unit(unit).level == "area" else [unit]
display(reports.checks_figure(reports.statistics_table(inputs, units, as_of=doc.as_of)))
"""),
("code", """
if output_dir:
    write_forms(doc, f"{output_dir}/statistics-{unit}")
"""),
]
