"""Registers (R1): reading CSV/XLSX in the encodings and headers people export, and every
validation problem reported with file, row, column and value."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import read_raw, write_raw
from stdnum.cn import uscc as stdnum_uscc

from dsr_analysis.errors import RegisterError
from dsr_analysis.registers import COLUMN_ALIASES, load_registers


def _problems(directory, policy) -> list[str]:
    with pytest.raises(RegisterError) as info:
        load_registers(directory, units=policy.unit_names)
    return [str(p) for p in info.value.problems]


def test_sample_loads_with_typed_columns(policy):
    reg = load_registers(units=policy.unit_names)
    ent = reg.enterprises
    assert len(ent) == 3000 and ent["uscc"].is_unique
    assert ent["positive_list"].dtype == bool
    assert ent["complaints_last_year"].dtype.kind == "i"
    assert set(ent["unit"]) == set(policy.unit_names)
    assert all(isinstance(c, tuple) for c in reg.inspectors["conflicts"])


def test_duplicate_uscc(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[5, "uscc"] = ent.loc[2, "uscc"]
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert f"{path}:7:uscc: duplicate uscc '{ent.loc[2, 'uscc']}' (first seen in row 4)" in problems


def test_invalid_uscc_check_character(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    good = ent.loc[0, "uscc"]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    wrong = next(c for c in alphabet if c != good[-1])
    bad = good[:-1] + wrong
    assert not stdnum_uscc.is_valid(bad)
    ent.loc[0, "uscc"] = bad
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert any(p.startswith(f"{path}:2:uscc: invalid unified social credit code '{bad}'")
               and "check" in p for p in problems)


def test_unknown_unit_credit_and_permit_class(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[0, "unit"] = "baoding"
    ent.loc[1, "credit_class"] = "E"
    ent.loc[2, "permit_class"] = "major"
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert any(p.startswith(f"{path}:2:unit: unknown unit 'baoding' (valid: xiongan (新区本级)")
               for p in problems)
    assert any(p.startswith(f"{path}:3:credit_class: unknown credit class 'E' (valid: A") for p in problems)
    assert any(p.startswith(f"{path}:4:permit_class: unknown permit class 'major' (valid: key")
               for p in problems)


def test_missing_required_column(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises").drop(columns=["credit_class"])
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{path}:1:credit_class: missing required column 'credit_class' "
        "(accepted headers: credit_class, 信用风险分类, 信用风险等级, 信用等级)"
    ]


def test_blank_required_value_and_bad_boolean_and_bad_count(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[3, "name"] = "  "
    ent.loc[4, "key_polluter"] = "maybe"
    ent.loc[5, "complaints_last_year"] = "-1"
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert f"{path}:5:name: blank required value" in problems
    assert (f"{path}:6:key_polluter: 'maybe' is not a boolean "
            "(use true/false, 1/0, yes/no or 是/否)") in problems
    assert f"{path}:7:complaints_last_year: '-1' is not a non-negative whole number" in problems


def test_conflict_naming_unknown_object(sample_dir, policy):
    insp = read_raw(sample_dir, "inspectors")
    insp.loc[0, "conflicts"] = "91133100MA0000000X"
    path = write_raw(sample_dir, "inspectors", insp)
    problems = _problems(sample_dir, policy)
    assert (f"{path}:2:conflicts: declared conflict names unknown object '91133100MA0000000X' "
            "(not in the enterprise register)") in problems


def test_positive_list_firm_penalised_last_year_is_reported(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    row = ent.index[ent["positive_list"] == "true"][0]
    ent.loc[row, "penalised_last_year"] = "true"
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{path}:{row + 2}:positive_list: enterprise {ent.loc[row, 'uscc']} is on the positive "
        "list but was penalised last year (a penalty removes a firm from the positive list)"
    ]


def test_every_problem_is_reported_at_once(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    for i in range(0, 50, 5):
        ent.loc[i, "credit_class"] = "Z"
    write_raw(sample_dir, "enterprises", ent)
    items = read_raw(sample_dir, "items")
    items.loc[0, "needs_expert"] = "sometimes"
    write_raw(sample_dir, "items", items)
    problems = _problems(sample_dir, policy)
    assert len([p for p in problems if ":credit_class: unknown" in p]) == 10
    assert any("items.csv:2:needs_expert:" in p for p in problems)


def test_problem_lines_have_file_row_column(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[10, "offsite_capable"] = "x"
    write_raw(sample_dir, "enterprises", ent)
    for line in _problems(sample_dir, policy):
        assert re.match(r"^.+\.csv:\d+:[a-z_]+: .+", line)


def _to_chinese_headers(frame: pd.DataFrame, register: str) -> pd.DataFrame:
    return frame.rename(columns={c: COLUMN_ALIASES[register][c][0] for c in frame.columns})


def test_chinese_headers_and_values_in_gbk(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names).enterprises
    ent = read_raw(sample_dir, "enterprises")
    ent["positive_list"] = ent["positive_list"].map({"true": "是", "false": "否"})
    ent["permit_class"] = ent["permit_class"].map(
        {"key": "重点管理", "simplified": "简化管理", "registration": "登记管理"})
    ent["unit"] = ent["unit"].map(policy.unit_names)
    _to_chinese_headers(ent, "enterprises").to_csv(
        sample_dir / "enterprises.csv", index=False, encoding="gbk")
    raw = (sample_dir / "enterprises.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    loaded = load_registers(sample_dir, units=policy.unit_names).enterprises
    pd.testing.assert_frame_equal(loaded, reference)


def test_utf8_bom_and_title_row(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names).inspectors
    insp = _to_chinese_headers(read_raw(sample_dir, "inspectors"), "inspectors")
    text = "执法检查人员名录库（导出）\n" + insp.to_csv(index=False)
    (sample_dir / "inspectors.csv").write_text(text, encoding="utf-8-sig")
    loaded = load_registers(sample_dir, units=policy.unit_names).inspectors
    pd.testing.assert_frame_equal(loaded, reference)


def test_title_row_keeps_spreadsheet_row_numbers(sample_dir, policy):
    insp = read_raw(sample_dir, "inspectors")
    insp.loc[0, "certified"] = "perhaps"
    path = sample_dir / "inspectors.csv"
    path.write_text("导出时间 2023-01-03\n" + insp.to_csv(index=False), encoding="utf-8")
    problems = _problems(sample_dir, policy)
    assert any(p.startswith(f"{path}:3:certified: 'perhaps' is not a boolean") for p in problems)


def test_xlsx_input(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names)
    ent = read_raw(sample_dir, "enterprises")
    typed = ent.copy()
    for col in ["key_polluter", "positive_list", "offsite_capable", "penalised_last_year",
                "supervision_order_last_year"]:
        typed[col] = typed[col] == "true"  # real Excel booleans
    typed["complaints_last_year"] = typed["complaints_last_year"].astype(int)  # numbers
    _to_chinese_headers(typed, "enterprises").to_excel(
        sample_dir / "enterprises.xlsx", index=False)
    (sample_dir / "enterprises.csv").unlink()
    loaded = load_registers(sample_dir, units=policy.unit_names)
    pd.testing.assert_frame_equal(loaded.enterprises, reference.enterprises)
    assert loaded.sources["enterprises"].endswith("enterprises.xlsx")


def test_xlsx_errors_name_spreadsheet_rows(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[9, "credit_class"] = "X"
    ent.to_excel(sample_dir / "enterprises.xlsx", index=False)
    (sample_dir / "enterprises.csv").unlink()
    problems = _problems(sample_dir, policy)
    assert any(re.match(r".*enterprises\.xlsx:11:credit_class: unknown credit class 'X'", p)
               for p in problems)


def test_extra_columns_are_kept(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent["联系人"] = "张三"
    write_raw(sample_dir, "enterprises", ent)
    loaded = load_registers(sample_dir, units=policy.unit_names).enterprises
    assert (loaded["联系人"] == "张三").all()


def test_both_csv_and_xlsx_is_an_error(sample_dir, policy):
    read_raw(sample_dir, "experts").to_excel(sample_dir / "experts.xlsx", index=False)
    problems = _problems(sample_dir, policy)
    assert any("both experts.csv and experts.xlsx exist" in p for p in problems)


def test_missing_register_file(sample_dir, policy):
    (sample_dir / "items.csv").unlink()
    problems = _problems(sample_dir, policy)
    assert any("register 'items' not found (expected items.csv, items.xlsx or items.xls)" in p
               for p in problems)


def test_undecodable_file(sample_dir, policy):
    (sample_dir / "experts.csv").write_bytes(b"\xff\xfe\x00\x81\x30\x00garbage\xff")
    problems = _problems(sample_dir, policy)
    assert any(p.endswith("experts.csv:0:-: cannot decode the file as UTF-8 or GBK")
               for p in problems)


def test_lowercase_uscc_is_reported_not_coerced(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    code = ent.loc[0, "uscc"]
    if code[-1].isdigit():
        row = ent.index[ent["uscc"].str[-1].str.isalpha()][0]
        code = ent.loc[row, "uscc"]
    else:
        row = 0
    ent.loc[row, "uscc"] = code.lower()
    write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    assert any(f"is not in canonical form (expected '{code}')" in p for p in problems)


def test_trailing_empty_columns_of_an_export_are_harmless(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names).experts
    text = (sample_dir / "experts.csv").read_text(encoding="utf-8")
    (sample_dir / "experts.csv").write_text(
        "\n".join(line + ",," for line in text.splitlines()) + "\n", encoding="utf-8")
    pd.testing.assert_frame_equal(load_registers(sample_dir, units=policy.unit_names).experts,
                                  reference)


def test_value_in_a_column_without_header(sample_dir, policy):
    lines = (sample_dir / "experts.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ","] + [line + ("," if i != 3 else ",stray") for i, line in
                                enumerate(lines[1:], start=1)]
    path = sample_dir / "experts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = _problems(sample_dir, policy)
    assert f"{path}:4:column 6: value 'stray' in a column without a header" in problems


def test_same_header_twice(sample_dir, policy):
    ent = read_raw(sample_dir, "enterprises")
    ent.insert(1, "企业名称", ent["name"])
    path = write_raw(sample_dir, "enterprises", ent)
    problems = _problems(sample_dir, policy)
    # the later of the two columns is the one reported
    assert problems == [f"{path}:1:name: column 'name' duplicates '企业名称' (both mean 'name')"]


def test_load_registers_refuses_a_file_or_a_missing_folder_as_the_command_line_does(tmp_path):
    """The library call says what the command line says: a file where the register directory
    belongs is an operating-system problem (exit 3), a missing folder bad usage (exit 2)."""
    from dsr_analysis.errors import DsrError, FileSystemError, RegisterError

    a_file = tmp_path / "registers.csv"
    a_file.write_text("uscc\n", encoding="utf-8")
    with pytest.raises(FileSystemError, match="a file where the register directory belongs"):
        load_registers(a_file)
    with pytest.raises(DsrError, match="no such register directory") as missing:
        load_registers(tmp_path / "none")
    assert not isinstance(missing.value, (FileSystemError, RegisterError))
