"""A county bureau's own registers, as a provincial platform exports them: the test bed of a
real quarter (雄县, 2023Q1).

- ``enterprises.xlsx``: a title row above the Chinese headers, 111 of the sample's 雄县 firms
  with the optional columns 详细地址 / 联系电话 / 法定代表人;
- ``inspectors.csv``: GB18030 (as Chinese Excel saves it), Chinese headers, 18 inspectors;
- ``items.csv``: 14 items, Chinese headers; ``experts.csv``: the sample's experts.

:func:`draw_bureau_quarter` commits and draws the quarter for 雄县 alone into a fresh ledger
with the library's own calls (what ``dsr commit`` and ``dsr draw`` run).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd

from dsr_analysis.paths import SAMPLE_REGISTERS

UNIT = "xiongxian"
QUARTER = "2023Q1"
SEED_SOURCE = "中国福利彩票双色球第2023010期开奖号码（2023年1月20日开奖）"
SEED_MATERIAL = "03 09 12 18 25 31 / 07"

ENTERPRISE_HEADERS_ZH = {
    "uscc": "统一社会信用代码", "name": "企业名称", "unit": "所属单位", "industry": "行业",
    "town": "乡镇", "permit_class": "排污许可管理类别", "key_polluter": "重点排污单位",
    "positive_list": "是否纳入正面清单", "offsite_capable": "具备非现场监管条件",
    "credit_class": "信用风险分类", "penalised_last_year": "上年度受到行政处罚",
    "supervision_order_last_year": "上年度挂牌督办",
    "complaints_last_year": "上年度有效投诉举报次数", "emergency_risk": "突发环境事件风险等级",
}
INSPECTOR_HEADERS_ZH = {
    "inspector_id": "执法人员编号", "name": "姓名", "unit": "所属单位", "business_line": "业务条线",
    "expertise": "擅长行业", "certified": "持有执法证", "active": "在岗", "conflicts": "申报回避对象",
}
ITEM_HEADERS_ZH = {
    "item_id": "事项编号", "name": "事项名称", "legal_basis": "法律依据", "business_line": "业务条线",
    "applies_to": "适用行业", "department": "联合部门", "needs_expert": "需要专家",
}
_BOOL_ZH = {"true": "是", "false": "否"}


def _sample(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE_REGISTERS / f"{name}.csv", dtype=str, keep_default_na=False)


def bureau_enterprises(n: int = 111) -> pd.DataFrame:
    """``n`` of the sample's 雄县 firms (every category and credit class represented), with an
    address, a telephone number and a legal representative."""
    firms = _sample("enterprises")
    firms = firms[firms["unit"] == UNIT].reset_index(drop=True)
    # Keep the rare strata: every special/key/positive-list firm first, then the rest in order.
    rare = ((firms["key_polluter"] == "true") | (firms["penalised_last_year"] == "true")
            | (firms["positive_list"] == "true") | firms["credit_class"].isin(["C", "D"]))
    picked = pd.concat([firms[rare].head(n // 2), firms[~rare]]).head(n).reset_index(drop=True)
    picked["详细地址"] = [f"河北省保定市雄县{t or '雄州镇'}工业园区{i + 1}号"
                      for i, t in enumerate(picked["town"])]
    picked["联系电话"] = [f"0312-56{i:05d}" for i in range(len(picked))]
    picked["法定代表人"] = [f"法人{i + 1}" for i in range(len(picked))]
    return picked


def bureau_inspectors(n: int = 18, usccs: set[str] | None = None) -> pd.DataFrame:
    """``n`` active, certified 雄县 inspectors; declared conflicts kept only with firms in
    ``usccs`` (the bureau's register)."""
    people = _sample("inspectors")
    people = people[(people["unit"] == UNIT) & (people["active"] == "true")
                    & (people["certified"] == "true")]
    # every business line represented: round robin over the lines, in register order
    rank = people.groupby("business_line").cumcount()
    people = people.assign(_rank=rank).sort_values(["_rank"], kind="stable").head(n)
    people = people.drop(columns="_rank").sort_index().reset_index(drop=True)
    if usccs is not None:
        people["conflicts"] = [";".join(c for c in v.split(";") if c in usccs)
                               for v in people["conflicts"]]
    return people


#: The bureau's 14 items: eleven of its own business lines and three joint with other departments.
ITEM_IDS = ("XA-SX-002", "XA-SX-003", "XA-SX-006", "XA-SX-007", "XA-SX-011", "XA-SX-012",
            "XA-SX-014", "XA-SX-016", "XA-SX-017", "XA-SX-019", "XA-SX-020", "XA-LH-024",
            "XA-LH-028", "XA-LH-029")


def bureau_items() -> pd.DataFrame:
    items = _sample("items")
    return items[items["item_id"].isin(ITEM_IDS)].reset_index(drop=True)


def write_enterprises_xlsx(frame: pd.DataFrame, path: Path, title: str | None = None) -> Path:
    """The enterprise register as the platform exports it: a title row, then Chinese headers."""
    zh = frame.rename(columns=ENTERPRISE_HEADERS_ZH)
    for column in ("重点排污单位", "是否纳入正面清单", "具备非现场监管条件", "上年度受到行政处罚",
                   "上年度挂牌督办"):
        zh[column] = zh[column].map(_BOOL_ZH)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "检查对象名录库"
    ws.append([title or "雄县生态环境局检查对象名录库（2023年1月导出）"])
    ws.append(list(zh.columns))
    for values in zh.itertuples(index=False):
        ws.append(list(values))
    wb.save(path)
    return path


def make_bureau_registers(target: Path) -> Path:
    """Write the bureau's register directory to ``target`` and return it."""
    target.mkdir(parents=True, exist_ok=True)
    firms = bureau_enterprises()
    write_enterprises_xlsx(firms, target / "enterprises.xlsx")
    inspectors = bureau_inspectors(usccs=set(firms["uscc"])).rename(columns=INSPECTOR_HEADERS_ZH)
    inspectors.to_csv(target / "inspectors.csv", index=False, encoding="gb18030")
    bureau_items().rename(columns=ITEM_HEADERS_ZH).to_csv(target / "items.csv", index=False,
                                                          encoding="utf-8-sig")
    shutil.copy(SAMPLE_REGISTERS / "experts.csv", target / "experts.csv")
    return target


@dataclass(frozen=True)
class BureauQuarter:
    """A bureau's committed and drawn quarter on its own registers."""

    registers: Path
    ledger: Path
    outputs: Path
    quarter: str
    unit: str
    tasks: pd.DataFrame


def draw_bureau_quarter(root: Path, commit_date: dt.date | None = None) -> BureauQuarter:
    """Registers under ``root/registers``, then commit and draw 雄县 2023Q1 into
    ``root/outputs/ledger.sqlite``."""
    from dsr_analysis.draw import commit_quarter, draw_and_record
    from dsr_analysis.policy import load_policy
    from dsr_analysis.registers import load_registers

    registers_dir = make_bureau_registers(root / "registers")
    outputs = root / "outputs"
    ledger = outputs / "ledger.sqlite"
    policy = load_policy()
    registers = load_registers(registers_dir, units=policy.unit_names)
    kwargs = {"date": commit_date} if commit_date is not None else {}
    commit_quarter(policy, registers, QUARTER, SEED_SOURCE, ledger, outputs, units=[UNIT],
                   seed_form="numbers", **kwargs)
    result, _entry, _paths = draw_and_record(policy, registers, QUARTER, SEED_MATERIAL, ledger,
                                             outputs, units=[UNIT], registers_dir=registers_dir)
    return BureauQuarter(registers_dir, ledger, outputs, QUARTER, UNIT, result.tasks)


def copy_bureau_quarter(quarter: BureauQuarter, target: Path) -> BureauQuarter:
    """A writable copy of a bureau quarter under ``target`` (same relative layout)."""
    root = quarter.registers.parent
    shutil.copytree(root, target / "bureau")
    new = target / "bureau"
    return BureauQuarter(new / "registers", new / "outputs" / "ledger.sqlite", new / "outputs",
                         quarter.quarter, quarter.unit, quarter.tasks.copy())
