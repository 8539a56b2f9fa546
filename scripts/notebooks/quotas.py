CELLS = [
("markdown", """
# 季度抽查比例与数量 — Quarterly quota table

Loads the registers (default: the embedded synthetic sample), classifies every object (R2) and
shows the quarterly quotas (R3, R4) of every drawing unit. Run for another quarter or policy with
`papermill notebooks/quotas.ipynb out.ipynb -p quarter 2023Q2 -p policy chizhou-2019`.
"""),
("parameters", """
quarter: str = "2023Q1"  # quarter to plan, e.g. 2023Q1
policy: str = "xiongan-2023"  # policy file or name in parameters/policies/
registers: str = ""  # register directory; empty: the embedded synthetic sample
"""),
("code", """
import pandas as pd

from dsr_analysis.categories import CATEGORY_ZH, classify
from dsr_analysis.draw.binding import register_line
from dsr_analysis.periods import Quarter
from dsr_analysis.policy import load_policy
from dsr_analysis.quotas import class_table, quarterly_quotas, quota_checks, quota_summary_zh
from dsr_analysis.registers import load_registers

pd.set_option("display.width", 160)
q = Quarter.parse(quarter)
pol = load_policy(policy)
reg = load_registers(registers or None, units=pol.unit_names)
classified = classify(reg.enterprises, pol)
print(f"{pol.name}")
print(register_line(registers))
print(f"{q.label_zh}: {len(reg.enterprises)} 个检查对象, {len(reg.inspectors)} 名执法人员")
"""),
("code", """
counts = classified.groupby(["unit", "category"]).size().unstack(fill_value=0)
counts = counts.rename(index=pol.unit_names, columns=CATEGORY_ZH)
print(counts.to_string())
"""),
("code", """
table = quarterly_quotas(classified, pol, q, reg.inspectors)
print(quota_summary_zh(table).to_string(index=False))
"""),
("code", """
per_class = class_table(table[table["credit_weighted"]])
per_class = per_class[per_class["population"] > 0]
detail = per_class.pivot_table(index=["unit_name", "category"], columns="credit_class",
                               values="probability", aggfunc="first", sort=False)
print("按信用风险分类的预期抽查比例 (每季度入样概率, R3):")
print(detail.map(lambda p: "—" if pd.isna(p) else f"{p:.1%}").to_string())
for check in quota_checks(table, pol, reg.inspectors):
    print(f"[{check.rule}] {check.check}: {check.value:.1%} (target {check.target:.0%}) ->",
          "met" if check.met else "NOT MET")
"""),
]
