"""Items and imports (issue 19): industry lists, item warnings, .xls registers, the register
sheet of a workbook, one-round validation, an absent expert register, HJ 941 risk wording
and the BOM of the CSVs written for people (R1)."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest
import xlwt
from conftest import read_raw, write_raw

from dsr_analysis import cli
from dsr_analysis.draw.staffing import applicable_items, item_table
from dsr_analysis.errors import RegisterError
from dsr_analysis.items import item_warnings
from dsr_analysis.registers import load_registers
from dsr_analysis.schema import COLUMN_ALIASES

CABLES = "电线、电缆制造"   # GB/T 4754-2017 class 3831: its name holds 、


def _problems(directory, policy) -> list[str]:
    with pytest.raises(RegisterError) as info:
        load_registers(directory, units=policy.unit_names)
    return [str(p) for p in info.value.problems]


def _validate(directory, capsys) -> tuple[int, str, str]:
    code = cli.main(["validate", "--registers", str(directory)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _zh(frame: pd.DataFrame, register: str) -> pd.DataFrame:
    return frame.rename(columns={c: a[0] for c, a in COLUMN_ALIASES[register].items()})


def _cable_makers(directory) -> pd.DataFrame:
    """The sample's 电气机械和器材制造 firms (雄县) become cable makers."""
    ent = read_raw(directory, "enterprises")
    ent.loc[ent["industry"] == "电气机械和器材制造", "industry"] = CABLES
    write_raw(directory, "enterprises", ent)
    return ent


def _add_item(directory, item_id: str, applies_to: str, **values) -> int:
    """Append an item; returns its spreadsheet row."""
    items = read_raw(directory, "items")
    row = dict(items.iloc[0], item_id=item_id, name=f"事项{item_id}", applies_to=applies_to,
               department="", needs_expert="false", **values)
    items = pd.concat([items, pd.DataFrame([row])], ignore_index=True)
    write_raw(directory, "items", items)
    return len(items) + 1


# --------------------------------------------------------------------------------------
# Industry lists
# --------------------------------------------------------------------------------------
def test_an_industry_name_holding_the_enumeration_comma_is_one_name(sample_dir, policy, capsys):
    _cable_makers(sample_dir)
    _add_item(sample_dir, "XA-DL-001", f"{CABLES}；塑料制品业")
    registers = load_registers(sample_dir, units=policy.unit_names)
    item = registers.items.set_index("item_id").loc["XA-DL-001"]
    assert item["applies_to"] == (CABLES, "塑料制品业")
    # the draw's own matching, on the table its record stores: cable makers get the item
    table = item_table(registers.items)
    assert "XA-DL-001" in applicable_items(table, CABLES, departmental=False)
    assert "XA-DL-001" not in applicable_items(table, "电线", departmental=False)
    code, _out, err = _validate(sample_dir, capsys)
    assert code == 0 and "XA-DL-001" not in err


def test_all_industries_spellings_mean_every_industry(sample_dir, policy):
    _add_item(sample_dir, "XA-QB-001", "全部行业")
    _add_item(sample_dir, "XA-QB-002", "所有行业")
    experts = read_raw(sample_dir, "experts")
    experts.loc[0, "industries"] = "所有行业"
    write_raw(sample_dir, "experts", experts)
    registers = load_registers(sample_dir, units=policy.unit_names)
    items = registers.items.set_index("item_id")
    assert items.loc["XA-QB-001", "applies_to"] == ("全部",)
    assert items.loc["XA-QB-002", "applies_to"] == ("全部",)
    assert registers.experts.loc[0, "industries"] == ("全部",)
    table = item_table(registers.items)
    for industry in ("纺织业", CABLES, "an industry nobody listed"):
        assert {"XA-QB-001", "XA-QB-002"} <= set(applicable_items(table, industry, False))


def test_a_line_break_separates_the_values_of_a_list_cell_in_a_workbook(sample_dir, policy):
    items = read_raw(sample_dir, "items")
    items.loc[0, "applies_to"] = f"纺织业\n{CABLES}"
    items.to_excel(sample_dir / "items.xlsx", index=False)
    (sample_dir / "items.csv").unlink()
    registers = load_registers(sample_dir, units=policy.unit_names)
    assert registers.items.loc[0, "applies_to"] == ("纺织业", CABLES)


# --------------------------------------------------------------------------------------
# Warnings of dsr validate
# --------------------------------------------------------------------------------------
def test_an_item_matching_no_enterprise_is_warned_about(sample_dir, policy, capsys):
    _cable_makers(sample_dir)
    row = _add_item(sample_dir, "XA-DL-002", "电线")   # the name cut at 、
    code, out, err = _validate(sample_dir, capsys)
    assert code == 0 and "registers OK" in out
    path = sample_dir / "items.csv"
    assert err.splitlines() == [
        f"warning: {path}:{row}:applies_to: item XA-DL-002 (事项XA-DL-002) matches no "
        "enterprise of any unit: no enterprise any unit draws from has the industry “电线”; "
        f"the register has “{CABLES}”"]


def test_a_unit_without_an_item_for_a_category_it_must_draw_is_warned_about(sample_dir, policy,
                                                                            capsys):
    items = read_raw(sample_dir, "items")
    items["applies_to"] = "水泥制造"    # only firms of the new-area level make cement
    items["department"] = ""
    write_raw(sample_dir, "items", items)
    registers = load_registers(sample_dir, units=policy.unit_names)
    warnings = [str(w) for w in item_warnings(registers, policy, "2023Q1")]
    rongcheng = [w for w in warnings if "unit rongcheng" in w]
    assert {re.search(r"\((\w+)\) objects in", w).group(1) for w in rongcheng} == \
        {"special", "key", "general"}
    key = next(w for w in rongcheng if "(key) objects" in w)
    assert re.fullmatch(
        rf"{re.escape(str(sample_dir / 'items.csv'))}:0:applies_to: unit rongcheng \(容城县\) "
        r"must draw \d+ 重点监管对象 \(key\) objects in 2023Q1, but no item applies to any of "
        r"its \d+ key objects \(industries .*\): a drawn task needs an item, so such a draw "
        r"cannot be staffed; add an item for these industries or 全部", key), key
    # the new-area level draws from every unit: only some of its objects lack an item
    assert any(re.search(r"unit xiongan .* no item applies to \d+ of its \d+", w)
               for w in warnings)
    code, _out, err = _validate(sample_dir, capsys)
    assert code == 0
    assert [line for line in err.splitlines() if "unit rongcheng" in line] == \
        [f"warning: {w}" for w in rongcheng]


def test_the_sample_and_a_bureau_register_give_no_warning(policy, registers, tmp_path):
    from bureau import make_bureau_registers

    assert item_warnings(registers, policy) == []
    bureau = load_registers(make_bureau_registers(tmp_path / "bureau"), units=policy.unit_names)
    assert item_warnings(bureau, policy) == []


# --------------------------------------------------------------------------------------
# Workbooks: .xls, the register's sheet, other formats
# --------------------------------------------------------------------------------------
def _write_xls(frame: pd.DataFrame, path, title: str | None = None, numbers=(),
               merge=None, dates=None) -> None:
    """The register as a platform's .xls export: a title merged above the header; columns in
    ``numbers`` written as numbers; ``dates`` = {column: date} an extra date column."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名录")
    top = 0
    if title:
        sheet.write_merge(0, 0, 0, len(frame.columns) - 1, title)
        top = 1
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    columns = list(frame.columns) + list(dates or {})
    for c, name in enumerate(columns):
        sheet.write(top, c, name)
    for r, values in enumerate(frame.itertuples(index=False), start=top + 1):
        for c, (name, value) in enumerate(zip(frame.columns, values, strict=True)):
            if merge and (r, c) == merge:
                sheet.write_merge(r, r + 1, c, c, value)
            elif merge and (r - 1, c) == merge:
                continue
            else:
                sheet.write(r, c, float(value) if name in numbers else value)
        for c, day in enumerate((dates or {}).values(), start=len(frame.columns)):
            sheet.write(r, c, day, date_style)
    book.save(str(path))


def test_an_xls_register_reads_as_its_csv(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names)
    ent = _zh(read_raw(sample_dir, "enterprises"), "enterprises")
    for column in ("重点排污单位", "正面清单", "具备非现场监管条件", "上年度受到行政处罚", "上年度挂牌督办"):
        ent[column] = ent[column].map({"true": "是", "false": "否"})
    _write_xls(ent, sample_dir / "enterprises.xls", title="雄安新区检查对象名录库（2023年1月导出）",
               numbers={"上年度有效投诉举报次数"}, dates={"登记日期": dt.date(2019, 3, 8)})
    (sample_dir / "enterprises.csv").unlink()
    loaded = load_registers(sample_dir, units=policy.unit_names)
    assert loaded.sources["enterprises"].endswith("enterprises.xls")
    assert set(loaded.enterprises["登记日期"]) == {"2019-03-08"}   # the date a person sees
    pd.testing.assert_frame_equal(loaded.enterprises.drop(columns="登记日期"),
                                  reference.enterprises)


def test_an_xls_code_typed_as_a_number_and_merged_cells_are_refused(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    assert ent.loc[0, "uscc"].isdigit()     # 911331001000231976: digits only
    _write_xls(ent.head(1), sample_dir / "enterprises.xls", numbers={"uscc"})
    (sample_dir / "enterprises.csv").unlink()
    problems = _problems(sample_dir, policy)
    path = sample_dir / "enterprises.xls"
    assert f"{path}:2:uscc: the number 9.11331001000232e+17 has more than 15 digits: a " \
           "spreadsheet keeps 15, so digits were lost (a code typed as a number?); format the " \
           "column as text and type the value again" in problems
    _write_xls(ent.head(3), path, merge=(1, 3))  # 'industry' of rows 2 and 3 merged
    problems = _problems(sample_dir, policy)
    assert any(p.startswith(f"{path}:2:industry: merged cells D2:D3") for p in problems)


def test_another_format_is_refused_naming_the_formats_read(sample_dir, policy):
    (sample_dir / "experts.csv").rename(sample_dir / "experts.ods")
    (sample_dir / "items.csv").rename(sample_dir / "items.txt")
    problems = _problems(sample_dir, policy)
    assert f"{sample_dir / 'items.txt'}:0:-: register 'items': items.txt is not in a format " \
           "read (.csv, .xlsx, .xls); save it as items.csv, items.xlsx or items.xls" in problems
    # an absent expert register is an empty one, but a file of another format is not read
    assert any("experts.ods is not in a format read" in p for p in problems)


def test_a_file_that_is_not_an_xls_workbook_is_refused(sample_dir, policy):
    (sample_dir / "items.xls").write_text("<html><table><tr><td>事项编号</td></tr></table>",
                                          encoding="utf-8")   # what some platforms call .xls
    (sample_dir / "items.csv").unlink()
    problems = _problems(sample_dir, policy)
    assert any(p.startswith(f"{sample_dir / 'items.xls'}:0:-: cannot read XLS: not an Excel "
                            "97-2003 workbook") and p.endswith("save it as .xlsx")
               for p in problems)


def test_the_register_sheet_is_found_behind_an_instruction_sheet(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names)
    ent = _zh(read_raw(sample_dir, "enterprises"), "enterprises")
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "填表说明"
    for line in ("填表说明", "1. 统一社会信用代码：18位", "2. 企业名称：与营业执照一致",
                 "3. 所属单位：新区本级、雄县、容城县、安新县"):
        notes.append([line])
    sheet = book.create_sheet("检查对象名录库")
    sheet.append(["雄安新区检查对象名录库"])
    sheet.append(list(ent.columns))
    for values in ent.itertuples(index=False):
        sheet.append(list(values))
    book.save(sample_dir / "enterprises.xlsx")
    (sample_dir / "enterprises.csv").unlink()
    loaded = load_registers(sample_dir, units=policy.unit_names)
    pd.testing.assert_frame_equal(loaded.enterprises, reference.enterprises)


def test_a_workbook_without_the_register_names_every_sheet_and_what_it_lacks(sample_dir, policy):
    book = openpyxl.Workbook()
    book.active.title = "填表说明"
    book.active.append(["请在第二个工作表填写"])
    other = book.create_sheet("人员")
    other.append(["统一社会信用代码", "企业名称", "行业"])
    other.append(["911331001000231976", "东方公司", "水泥制造"])
    book.create_sheet("Sheet3")
    path = sample_dir / "enterprises.xlsx"
    book.save(path)
    (sample_dir / "enterprises.csv").unlink()
    problems = [p for p in _problems(sample_dir, policy) if p.startswith(str(path))]
    assert problems[0] == (f"{path}:0:-: no sheet of the workbook holds the register (a header "
                           "row, below a title if any, naming every required column); sheets "
                           "read: '填表说明', '人员', 'Sheet3'")
    assert problems[1].startswith(f"{path}:0:-: sheet '填表说明' (header row 1): missing 13 of "
                                  "13 required columns: uscc (统一社会信用代码), name (企业名称)")
    assert problems[2].startswith(f"{path}:0:-: sheet '人员' (header row 1): missing 10 of 13 "
                                  "required columns: unit (所属单位), permit_class (排污许可管理类别)")
    assert problems[3] == f"{path}:0:-: sheet 'Sheet3': empty"
    assert len(problems) == 4


# --------------------------------------------------------------------------------------
# One round, an absent expert register, HJ 941 wording
# --------------------------------------------------------------------------------------
def test_file_and_cross_register_problems_are_listed_in_one_round(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[4, "credit_class"] = "E"                                   # row 6: a file's error
    clean = ent.index[(ent["positive_list"] == "false")][0]
    ent.loc[clean, ["positive_list", "penalised_last_year"]] = "true"  # cross-row contradiction
    bad = ent.index[(ent["positive_list"] == "false")][1]
    ent.loc[bad, "positive_list"] = "maybe"                            # a bad value ...
    ent.loc[bad, "penalised_last_year"] = "true"                       # ... is not also a
    write_raw(sample_dir, "enterprises", ent)                          # contradiction
    insp = read_raw(sample_dir, "inspectors")
    insp.loc[0, "conflicts"] = "91133100MA0000000X"                    # an unknown firm
    insp.loc[1, "conflicts"] = ent.loc[7, "uscc"][:3] + "\u200b" + ent.loc[7, "uscc"][3:]
    write_raw(sample_dir, "inspectors", insp)
    problems = _problems(sample_dir, policy)
    ent_path, insp_path = sample_dir / "enterprises.csv", sample_dir / "inspectors.csv"
    assert any(p.startswith(f"{ent_path}:6:credit_class: unknown credit class 'E'")
               for p in problems)
    assert f"{ent_path}:{clean + 2}:positive_list: enterprise {ent.loc[clean, 'uscc']} is on " \
           "the positive list but was penalised last year (a penalty removes a firm from the " \
           "positive list)" in problems
    assert f"{insp_path}:2:conflicts: declared conflict names unknown object " \
           "'91133100MA0000000X' (not in the enterprise register)" in problems
    # one message per bad cell: the invisible character, not also an "unknown object"
    assert [p for p in problems if p.startswith(f"{insp_path}:3:")] == [
        f"{insp_path}:3:conflicts: zero-width character U+200B ZERO WIDTH SPACE at position 4 "
        f"of '{ent.loc[7, 'uscc'][:3]}\\u200B{ent.loc[7, 'uscc'][3:]}': retype the value "
        "without it"]
    assert [p for p in problems if p.startswith(f"{ent_path}:{bad + 2}:")] == [
        f"{ent_path}:{bad + 2}:positive_list: 'maybe' is not a boolean (use true/false, 1/0, "
        "yes/no or 是/否)"]


def test_an_absent_expert_register_is_an_empty_one(sample_dir, policy, capsys):
    (sample_dir / "experts.csv").unlink()
    registers = load_registers(sample_dir, units=policy.unit_names)
    assert len(registers.experts) == 0
    assert list(registers.experts.columns) == ["expert_id", "name", "organisation", "region",
                                               "industries"]
    assert "experts" not in registers.sources     # no file: nothing to hash into a draw
    code, out, _err = _validate(sample_dir, capsys)
    assert code == 0 and "0 experts" in out
    (sample_dir / "inspectors.csv").unlink()      # the other three are still required
    assert _problems(sample_dir, policy) == [
        f"{sample_dir / 'inspectors'}:0:-: register 'inspectors' not found (expected "
        "inspectors.csv, inspectors.xlsx or inspectors.xls)"]


def test_hj_941_risk_wording_is_read(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    wording = {0: "一般环境风险", 1: "较大环境风险", 2: "重大环境风险", 3: "较大环境风险等级",
               4: "重大环境风险等级", 5: "一般环境风险等级"}
    for row, text in wording.items():
        ent.loc[row, "emergency_risk"] = text
    write_raw(sample_dir, "enterprises", ent)
    risk = load_registers(sample_dir, units=policy.unit_names).enterprises["emergency_risk"]
    assert risk[:6].tolist() == ["general", "larger", "major", "larger", "major", "general"]


# --------------------------------------------------------------------------------------
# CSVs written for people
# --------------------------------------------------------------------------------------
def test_classify_and_quotas_csvs_begin_with_a_bom(tmp_path, capsys):
    classified, quotas = tmp_path / "classify.csv", tmp_path / "quotas.csv"
    assert cli.main(["classify", "--output", str(classified)]) == 0
    assert cli.main(["quotas", "--quarter", "2023Q1", "--format", "csv",
                     "--output", str(quotas)]) == 0
    capsys.readouterr()
    for path in (classified, quotas):
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf" * 2)
        assert re.search("[\u4e00-\u9fff]", data.decode("utf-8-sig"))  # Chinese, in UTF-8
    assert pd.read_csv(quotas, encoding="utf-8-sig").columns[0] == "季度"  # headers for people


# --------------------------------------------------------------------------------------
# Draws recorded before the list rule changed
# --------------------------------------------------------------------------------------
def test_a_draw_recorded_with_the_earlier_list_rule_still_verifies(tmp_path, policy, capsys):
    """A bureau drew 2023Q1 before issue 19, on items whose scopes held 全部行业 and a list
    joined by 、: its record stores them as read then, and ``dsr verify`` replays it from the
    same files read by that rule (the stdlib replay uses the stored tables)."""
    from bureau import QUARTER, SEED_MATERIAL, SEED_SOURCE, UNIT, make_bureau_registers

    from dsr_analysis.draw import commit_quarter, draw_and_record

    directory = make_bureau_registers(tmp_path / "registers")
    items = pd.read_csv(directory / "items.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    items.loc[items["事项编号"] == "XA-SX-002", "适用行业"] = "全部行业"
    items.loc[items["事项编号"] == "XA-SX-003", "适用行业"] = "塑料制品业、橡胶制品业"
    items.to_csv(directory / "items.csv", index=False, encoding="utf-8-sig")
    then = load_registers(directory, units=policy.unit_names, legacy_lists=True)
    assert then.items.set_index("item_id").loc["XA-SX-003", "applies_to"] == \
        ("塑料制品业", "橡胶制品业")
    ledger, outputs = tmp_path / "outputs" / "ledger.sqlite", tmp_path / "outputs"
    commit_quarter(policy, then, QUARTER, SEED_SOURCE, ledger, outputs, units=[UNIT],
                   seed_form="numbers")
    result, _entry, _paths = draw_and_record(policy, then, QUARTER, SEED_MATERIAL, ledger,
                                             outputs, units=[UNIT], registers_dir=directory)
    assert result.record["inputs"]["items"]["XA-SX-002"]["applies_to"] == ["全部行业"]
    assert cli.main(["verify", "--ledger", str(ledger)]) == 0, capsys.readouterr().err
    # the same files read today: 全部行业 means every industry, 、 joins no list
    now = load_registers(directory, units=policy.unit_names).items.set_index("item_id")
    assert now.loc["XA-SX-002", "applies_to"] == ("全部",)
    assert now.loc["XA-SX-003", "applies_to"] == ("塑料制品业、橡胶制品业",)
