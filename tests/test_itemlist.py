"""The public item list (随机抽查事项清单, R1): its document, and a re-published version listing
the changes of the item register."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import openpyxl
import pandas as pd
import pytest

from conftest import read_raw, write_raw
from dsr_analysis.cli import main
from dsr_analysis.itemlist import (ITEM_LIST_COLUMNS_ZH, DocumentDateError, ItemListError,
                                   item_list, publish_item_list)
from dsr_analysis.registers import load_registers


def _sheet_text(path) -> list[list[str]]:
    ws = openpyxl.load_workbook(path).active
    return [[str(c) if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)]


def test_the_list_carries_the_plan_columns(registers, policy):
    frame = item_list(registers.items, policy)
    assert list(frame.columns) == list(ITEM_LIST_COLUMNS_ZH)
    assert len(frame) == len(registers.items)
    own = frame.set_index("item_id").loc["XA-SX-002"]
    assert (own["industries"], own["business_line"], own["department"]) == ("全部行业", "大气", "—")
    assert own["category_scope"] == "特殊监管对象、重点监管对象、一般监管对象"
    assert "科技检查" in own["method"]
    joint = frame.set_index("item_id").loc["XA-LH-024"]
    assert (joint["department"], joint["method"]) == ("应急管理局", "现场检查（部门联合抽查）")
    assert frame.set_index("item_id").loc["XA-SX-001", "industries"] == \
        "包装装潢印刷；医疗机构；汽车修理与维护"


def test_the_item_list_is_published_and_republished_with_its_changes(sample_dir, policy,
                                                                       tmp_path):
    out = tmp_path / "out"
    first = publish_item_list(load_registers(sample_dir, units=policy.unit_names).items, policy,
                              out, "2023-01-03")
    assert (first.version, first.written, first.changes) == (1, True, ())
    xlsx = out / "items" / "item_list-v1.xlsx"
    rows = _sheet_text(xlsx)
    text = "\n".join(",".join(r) for r in rows)
    assert "河北雄安新区管理委员会生态环境局随机抽查事项清单（第1版）" in text
    header = next(r for r in rows if r and r[0] == "序号")
    assert header[:9] == ["序号", *[ITEM_LIST_COLUMNS_ZH[k] for k in list(ITEM_LIST_COLUMNS_ZH)[:8]]]
    assert sum(1 for r in rows if r and r[1].startswith("XA-")) == 40
    pdf = subprocess.run(["pdftotext", str(out / "items" / "item_list-v1.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "随机抽查事项清单（第1版）" in pdf and "XA-LH-024" in pdf
    # unchanged: nothing written
    again = publish_item_list(load_registers(sample_dir, units=policy.unit_names).items,
                              policy, out, "2023-02-01")
    assert (again.version, again.written) == (1, False)
    assert not (out / "items" / "item_list-v2.xlsx").exists()
    # the register changes: one basis amended, one item withdrawn, one added
    items = read_raw(sample_dir, "items")
    items.loc[items["item_id"] == "XA-SX-002", "legal_basis"] = "《中华人民共和国大气污染防治法》第三十条"
    items = items[items["item_id"] != "XA-SX-040"]
    new = items[items["item_id"] == "XA-SX-039"].copy()
    new["item_id"], new["name"] = "XA-SX-041", "消耗臭氧层物质使用情况的检查"
    write_raw(sample_dir, "items", pd.concat([items, new]))
    with pytest.raises(DocumentDateError, match="2023-06-24 is not a working day"):
        publish_item_list(load_registers(sample_dir, units=policy.unit_names).items, policy,
                          out, "2023-06-24")
    second = publish_item_list(load_registers(sample_dir, units=policy.unit_names).items,
                               policy, out, "2023-06-25")  # 端午 adjusted working Sunday
    assert second.version == 2 and second.date == dt.date(2023, 6, 25)
    assert [(c["kind"], c["item_id"]) for c in second.changes] == [
        ("changed", "XA-SX-002"), ("removed", "XA-SX-040"), ("added", "XA-SX-041")]
    text2 = "\n".join(",".join(r) for r in _sheet_text(out / "items" / "item_list-v2.xlsx"))
    for expected in ("（第2版）", "较上一版的变更", "法律依据由“《中华人民共和国大气污染防治法》第二十九条”调整为",
                     "删除事项XA-SX-040", "新增事项XA-SX-041“消耗臭氧层物质使用情况的检查”"):
        assert expected in text2, expected
    manifest = json.loads((out / "items" / "item_list.json").read_text(encoding="utf-8"))
    assert [(v["version"], v["date"]) for v in manifest["versions"]] == [
        (1, "2023-01-03"), (2, "2023-06-25")]
    assert (out / "items" / "item_list-v1.xlsx").is_file()  # the first version stays
    with pytest.raises(ItemListError, match="precedes version 2"):
        items.loc[items["item_id"] == "XA-SX-003", "name"] = "改名"
        write_raw(sample_dir, "items", items)
        publish_item_list(load_registers(sample_dir, units=policy.unit_names).items, policy,
                          out, "2023-06-20")


def test_dsr_items_publish(tmp_path, capsys):
    assert main(["items", "publish", "--date", "2023-01-03", "--outputs", str(tmp_path)]) == 0
    assert "version 1," in capsys.readouterr().out
    assert main(["items", "publish", "--date", "2023-01-04", "--outputs", str(tmp_path)]) == 0
    assert "unchanged since version 1" in capsys.readouterr().out
