"""Registers (R1) are read exactly or refused (issue 12): CSV structure line by line, strict
encodings, merged XLSX cells, empty registers, invisible characters, results dates, and the
column-wise USCC check against stdnum."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from conftest import read_raw, write_raw
from stdnum.cn import uscc as stdnum_uscc

from dsr_analysis.cli import main
from dsr_analysis.errors import RegisterError
from dsr_analysis.registers import load_registers
from dsr_analysis.values import USCC_ALPHABET, USCC_NOT_CANONICAL, USCC_OK, uscc_status, uscc_status_one
from dsr_analysis.results import load_results
from dsr_analysis.tabular import FORBIDDEN_PATTERN, forbidden_mask


def _problems(directory, policy) -> list[str]:
    with pytest.raises(RegisterError) as info:
        load_registers(directory, units=policy.unit_names)
    return [str(p) for p in info.value.problems]


def _lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def _write_lines(path, lines: list[str]) -> None:
    path.write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------------------
# CSV structure
# --------------------------------------------------------------------------------------
def _shown(line: str) -> str:
    return f"'{line}'" if len(line) <= 80 else f"'{line[:80]}…'"


def _quote_name_across_rows_6_and_7(path) -> list[str]:
    lines = _lines(path)
    row6, row7 = lines[5].split(","), lines[6].split(",")
    assert row6[0] == "ZJ005" and row7[0] == "ZJ006"
    row6[1] = '"' + row6[1]
    row7[1] = row7[1] + '"'
    lines[5], lines[6] = ",".join(row6), ",".join(row7)
    _write_lines(path, lines)
    return lines


def test_quote_spanning_two_rows_is_refused_at_both_rows(sample_dir, policy):
    """The issue's reproduction: '"' before the name in row 6 and after it in row 7 merged
    the rows (29 experts, ZJ006 gone, ZJ005 carrying ZJ006's organisation)."""
    path = sample_dir / "experts.csv"
    lines = _quote_name_across_rows_6_and_7(path)
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{path}:6:name: a quote opens this field and it does not close on the same line (a "
        "line break inside a quoted field, or an unbalanced quote; register values never hold "
        f"a line break): {_shown(lines[5])}",
        f"{path}:7:name: a quote inside an unquoted field (quote the whole field and double "
        f"the quote, or remove it): {_shown(lines[6])}",
    ]


def test_quote_spanning_rows_makes_dsr_validate_exit_1(sample_dir, capsys):
    path = sample_dir / "experts.csv"
    _quote_name_across_rows_6_and_7(path)
    assert main(["validate", "--registers", str(sample_dir)]) == 1
    captured = capsys.readouterr()
    assert f"{path}:6:name: a quote opens this field" in captured.err
    assert f"{path}:7:name: a quote inside an unquoted field" in captured.err
    assert "registers OK" not in captured.out


def test_a_field_holding_a_line_break_is_refused(sample_dir, policy):
    path = sample_dir / "experts.csv"
    lines = _lines(path)
    cells = lines[2].split(",")
    organisation = cells[2]
    lines[2] = ",".join(cells[:2] + ['"' + organisation[:4]])
    lines.insert(3, ",".join([organisation[4:] + '"'] + cells[3:]))
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{path}:3:organisation: a quote opens this field and it does not close on the same "
        "line (a line break inside a quoted field, or an unbalanced quote; register values "
        f"never hold a line break): {_shown(lines[2])}",
        f"{path}:4:expert_id: a quote inside an unquoted field (quote the whole field and "
        f"double the quote, or remove it): {_shown(lines[3])}",
    ]


def test_text_after_a_closing_quote(sample_dir, policy):
    path = sample_dir / "experts.csv"
    lines = _lines(path)
    cells = lines[9].split(",")
    cells[3] = f'"{cells[3]}"x'
    lines[9] = ",".join(cells)
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert problems == [f"{path}:10:region: text after the closing quote of a field: "
                        f"{_shown(lines[9])}"]


def test_missing_trailing_field_loses_no_declared_conflict(sample_dir, policy):
    """A row without its trailing conflicts field was padded: the recusal was lost."""
    path = sample_dir / "inspectors.csv"
    lines = _lines(path)
    row = next(i for i, line in enumerate(lines) if line and not line.endswith(",") and i)
    shortened = lines[row].rsplit(",", 1)[0]
    lines[row] = shortened
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{path}:{row + 1}:conflicts: the row has 7 fields, fewer than the 8 of the header "
        f"(row 1): a value or a separator missing? {_shown(shortened)}"
    ]


def test_too_many_fields(sample_dir, policy):
    path = sample_dir / "enterprises.csv"
    lines = _lines(path)
    lines[11] = lines[11] + ",extra"
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert problems == [f"{path}:12:column 15: the row has 15 fields, more than the 14 of the "
                        f"header (row 1): a value or a separator extra? {_shown(lines[11])}"]
    assert len(lines[11]) > 80 and problems[0].endswith("…'")   # the row, cut to 80


def test_message_shows_the_row_not_the_rest_of_the_file(sample_dir, policy):
    """An unclosed quote near the top names its own row only, never the lines after it."""
    path = sample_dir / "enterprises.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace(",", ',"', 1)
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:2:name: a quote opens this field")
    assert lines[2][:20] not in problems[0] and len(problems[0]) < len(str(path)) + 300


def test_quoted_fields_commas_doubled_quotes_crlf_and_blank_lines_read_exactly(sample_dir,
                                                                               policy):
    reference = load_registers(sample_dir, units=policy.unit_names).experts
    experts = read_raw(sample_dir, "experts")
    experts.loc[0, "organisation"] = '河北大学,环境科学系 "甲"'
    path = write_raw(sample_dir, "experts", experts, lineterminator="\r\n")
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 31
    path.write_bytes(raw.replace(b"\r\n", b"\r\n\r\n", 3))
    loaded = load_registers(sample_dir, units=policy.unit_names).experts
    expected = reference.copy()
    expected.loc[0, "organisation"] = '河北大学,环境科学系 "甲"'
    pd.testing.assert_frame_equal(loaded, expected)


def test_blank_lines_keep_the_physical_row_numbers(sample_dir, policy):
    path = sample_dir / "items.csv"
    lines = _lines(path)
    lines[4] = lines[4].replace(",true", ",sometimes").replace(",false", ",sometimes")
    lines.insert(2, "")
    lines.insert(2, "")
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert problems == [f"{path}:7:needs_expert: 'sometimes' is not a boolean "
                        "(use true/false, 1/0, yes/no or 是/否)"]


# --------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------
BIG5_EXPERTS = """expert_id,name,organisation,region,industries
ZJ001,陳志明,臺北市環境保護局,臺北市,紡織業;塑膠製品業
ZJ002,林美玲,新竹縣環境保護局,新竹縣,食品製造;紡織業
ZJ003,黃建國,高雄市環境監測站,高雄市,電氣機械和器材製造;廢棄物處理
ZJ004,張淑芬,臺中市環境保護局,臺中市,塑膠製品業;食品製造
"""


def test_big5_file_is_refused_not_read_as_garbled_gb18030(sample_dir, policy):
    path = sample_dir / "experts.csv"
    raw = BIG5_EXPERTS.encode("big5")
    raw.decode("gb18030")  # decodes without error: the case the issue measured
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    path.write_bytes(raw)
    problems = _problems(sample_dir, policy)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:0:-: the file looks like Big5 (Traditional "
                                  "Chinese): as GB18030 it gives ")
    assert problems[0].endswith("save it as UTF-8 or GB18030")


def test_gbk_file_with_rare_characters_in_names_is_read(sample_dir, policy):
    experts = read_raw(sample_dir, "experts")
    experts.loc[0, "name"] = "王喆"       # 喆 is outside GB2312, inside GBK
    experts.loc[1, "name"] = "李堃"
    write_raw(sample_dir, "experts", experts, encoding="gbk")
    loaded = load_registers(sample_dir, units=policy.unit_names).experts
    assert loaded["name"].tolist()[:2] == ["王喆", "李堃"]


def test_undecodable_bytes_name_the_row(sample_dir, policy):
    path = sample_dir / "experts.csv"
    lines = path.read_bytes().split(b"\n")
    lines[4] = lines[4].replace("监测站".encode(), b"\xff\xfe")
    path.write_bytes(b"\n".join(lines))
    problems = _problems(sample_dir, policy)
    assert problems[0] == f"{path}:0:-: cannot decode the file as UTF-8 or GBK"
    assert problems[1].startswith(f"{path}:5:-: row 5: byte 0xFF is not UTF-8; row ")
    assert problems[1].endswith("is not GB18030 (save the file as UTF-8)")
    assert len(problems) == 2


def test_utf8_bom_with_gbk_bytes_is_refused(sample_dir, policy):
    path = sample_dir / "experts.csv"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("\n", 3)[:3], text.split("\n", 3)[3]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(head).encode() + b"\n" + rest.encode("gbk"))
    problems = _problems(sample_dir, policy)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:4:-: the file starts with a UTF-8 byte-order mark "
                                  "but is not UTF-8 (row 4: byte 0x")


# --------------------------------------------------------------------------------------
# Empty registers, merged XLSX cells
# --------------------------------------------------------------------------------------
def test_header_only_registers_are_errors(sample_dir, policy):
    for name in ("enterprises", "inspectors", "items"):
        path = sample_dir / f"{name}.csv"
        path.write_text(_lines(path)[0] + "\n", encoding="utf-8")
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{sample_dir / name}.csv:0:-: no {name}: the file has a header (row 1) but no data rows"
        for name in ("enterprises", "inspectors", "items")
    ]


def test_header_only_expert_register_is_an_empty_register(sample_dir, policy):
    path = sample_dir / "experts.csv"
    path.write_text(_lines(path)[0] + "\n", encoding="utf-8")
    assert load_registers(sample_dir, units=policy.unit_names).experts.empty


def _inspectors_xlsx(sample_dir, merge: list[str], title: bool = False):
    path = sample_dir / "inspectors.xlsx"
    read_raw(sample_dir, "inspectors").to_excel(path, index=False)
    (sample_dir / "inspectors.csv").unlink()
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    if title:
        sheet.insert_rows(1)
        sheet["A1"] = "执法检查人员名录库（导出）"
    for cells in merge:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def test_merged_cells_in_an_optional_column_are_an_error(sample_dir, policy):
    """Merged conflicts cells kept the value in the first cell only: a recusal lost."""
    insp = read_raw(sample_dir, "inspectors")
    row = int(insp.index[insp["conflicts"] != ""][0])
    first = row + 2
    path = _inspectors_xlsx(sample_dir, [f"H{first}:H{first + 1}", f"B{first + 3}:C{first + 3}"])
    problems = _problems(sample_dir, policy)
    assert problems == [
        f"{path}:{first}:conflicts: merged cells H{first}:H{first + 1}: the value stands in "
        "one cell only; unmerge them and fill every cell",
        f"{path}:{first + 3}:name: merged cells B{first + 3}:C{first + 3}: the value stands "
        "in one cell only; unmerge them and fill every cell",
    ]


def test_merged_title_above_the_header_is_harmless(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names).inspectors
    _inspectors_xlsx(sample_dir, ["A1:H1"], title=True)
    loaded = load_registers(sample_dir, units=policy.unit_names).inspectors
    pd.testing.assert_frame_equal(loaded, reference)


# --------------------------------------------------------------------------------------
# Invisible characters
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("register", "column", "index", "char", "what"), [
    ("inspectors", "inspector_id", 2, "\u202e", "bidirectional control character U+202E "
                                                "RIGHT-TO-LEFT OVERRIDE"),
    ("inspectors", "name", 3, "\u200b", "zero-width character U+200B ZERO WIDTH SPACE"),
    ("experts", "expert_id", 0, "\u2066", "bidirectional control character U+2066 LEFT-TO-RIGHT "
                                          "ISOLATE"),
    ("experts", "name", 4, "\x07", "control character U+0007"),
    ("experts", "name", 5, "\t", "control character U+0009 TAB"),
    ("items", "item_id", 1, "\ufeff", "zero-width character U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("items", "name", 2, "\x85", "control character U+0085"),
    ("enterprises", "name", 7, "\u200d", "zero-width character U+200D ZERO WIDTH JOINER"),
    ("enterprises", "unit", 8, "\u200e", "bidirectional control character U+200E LEFT-TO-RIGHT "
                                         "MARK"),
    ("enterprises", "name", 9, "\ufffd", "replacement character (text damaged by an earlier "
                                         "wrong decoding) U+FFFD REPLACEMENT CHARACTER"),
])
def test_invisible_characters_in_ids_and_names_are_errors(sample_dir, policy, register, column,
                                                          index, char, what):
    frame = read_raw(sample_dir, register)
    value = frame.loc[index, column]
    frame.loc[index, column] = value[:2] + char + value[2:]
    path = write_raw(sample_dir, register, frame)
    problems = _problems(sample_dir, policy)
    escaped = value[:2] + f"\\u{ord(char):04X}" + value[2:]
    assert problems == [f"{path}:{index + 2}:{column}: {what} at position 3 of '{escaped}': "
                        "retype the value without it"]


def test_invisible_character_in_a_header_is_named(sample_dir, policy):
    path = sample_dir / "experts.csv"
    lines = _lines(path)
    lines[0] = lines[0].replace("region", "re\u200bgion")
    _write_lines(path, lines)
    problems = _problems(sample_dir, policy)
    assert problems[0] == (f"{path}:1:column 4: header zero-width character U+200B ZERO WIDTH "
                           "SPACE at position 3 of 're\\u200Bgion': retype the value without it")


def test_line_break_inside_an_xlsx_cell_is_an_error(sample_dir, policy):
    experts = read_raw(sample_dir, "experts")
    experts.loc[3, "organisation"] = "雄县生态环境\n监测站"
    path = sample_dir / "experts.xlsx"
    experts.to_excel(path, index=False)
    (sample_dir / "experts.csv").unlink()
    problems = _problems(sample_dir, policy)
    assert problems == [f"{path}:5:organisation: control character U+000A LINE FEED at position "
                        "7 of '雄县生态环境\\u000A监测站': retype the value without it"]


def test_surrounding_spaces_are_trimmed_ideographic_space_included(sample_dir, policy):
    reference = load_registers(sample_dir, units=policy.unit_names).experts
    experts = read_raw(sample_dir, "experts")
    experts["name"] = "\u3000" + experts["name"] + " \u00a0"
    experts["region"] = " " + experts["region"]
    write_raw(sample_dir, "experts", experts)
    pd.testing.assert_frame_equal(load_registers(sample_dir, units=policy.unit_names).experts,
                                  reference)


def test_column_wise_character_check_equals_the_pattern_on_every_character():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    values = pa.chunked_array([pa.array(["a" + c + "b" for c in chars], pa.string())])
    expected = np.array([FORBIDDEN_PATTERN.search(c) is not None for c in chars])
    # C0, DEL, C1; U+061C, U+200E-F, U+202A-E, U+2066-9; U+200B-D, U+2060, U+FEFF;
    # U+2028-9; U+FFFD
    assert expected.sum() == 32 + 1 + 32 + 1 + 2 + 5 + 4 + 3 + 1 + 1 + 2 + 1
    assert (forbidden_mask(values) == expected).all()


# --------------------------------------------------------------------------------------
# Results register
# --------------------------------------------------------------------------------------
U1 = "91130638117803261F"
U2 = "911306322086262139"


@pytest.fixture
def tasks() -> pd.DataFrame:
    return pd.DataFrame({
        "task_id": ["2023Q1-xiongxian-0001", "2023Q1-xiongxian-0002"],
        "quarter": ["2023Q1", "2023Q1"],
        "uscc": [U1, U2],
        "enterprise_name": ["甲公司", "乙公司"],
    })


def test_results_without_the_optional_closing_date_column(tmp_path, tasks):
    """A missing date_follow_up_closed column was a TypeError traceback."""
    path = tmp_path / "results.csv"
    path.write_text("task_id,uscc,date_checked,outcome,follow_up,date_published,confidential\n"
                    f"2023Q1-xiongxian-0001,{U1},2023-02-03,no_problem,none,2023-02-10,false\n"
                    f"2023Q1-xiongxian-0002,{U2},2023-03-01,violation,penalty,,false\n",
                    encoding="utf-8")
    frame = load_results(path, tasks)
    assert frame["date_follow_up_closed"].tolist() == [None, None]
    assert frame["remark"].tolist() == ["", ""]


def test_results_check_date_in_2099_is_an_error(tmp_path, tasks):
    path = tmp_path / "results.csv"
    path.write_text("task_id,uscc,date_checked,outcome,follow_up,confidential\n"
                    f"2023Q1-xiongxian-0001,{U1},2099-03-01,no_problem,none,false\n",
                    encoding="utf-8")
    with pytest.raises(RegisterError) as err:
        load_results(path, tasks)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:2:date_checked: '2099-03-01' is after today ({dt.date.today().isoformat()}): "
        "a register records what has happened"]


def test_results_with_a_quote_spanning_rows_are_refused(tmp_path, tasks):
    path = tmp_path / "results.csv"
    path.write_text("task_id,uscc,date_checked,outcome,follow_up,confidential,remark\n"
                    f'2023Q1-xiongxian-0001,{U1},2023-02-03,no_problem,none,false,"说明\n'
                    f'2023Q1-xiongxian-0002,{U2},2023-03-01,violation,penalty,false,完"\n',
                    encoding="utf-8")
    with pytest.raises(RegisterError) as err:
        load_results(path, tasks)
    rows = [(p.row, p.column) for p in err.value.problems]
    assert rows == [(2, "remark"), (3, "remark")]


# --------------------------------------------------------------------------------------
# USCC, column-wise
# --------------------------------------------------------------------------------------
def _mutate(code: str, rng: np.random.Generator) -> str:
    kind = int(rng.integers(10))
    i = int(rng.integers(18))
    alphabet = USCC_ALPHABET
    if kind == 0:   # another character of the alphabet
        return code[:i] + alphabet[(alphabet.index(code[i]) + int(rng.integers(1, 31))) % 31] \
            + code[i + 1:]
    if kind == 1:   # two neighbours swapped
        i = min(i, 16)
        return code[:i] + code[i + 1] + code[i] + code[i + 2:]
    if kind == 2:   # a letter the alphabet leaves out, or punctuation
        return code[:i] + str(rng.choice(list("IOSVZ*./`'_#"))) + code[i + 1:]
    if kind == 3:   # lower case
        return code.lower()
    if kind == 4:   # spaces and hyphens
        return code[:6] + str(rng.choice([" ", "-", " - "])) + code[6:]
    if kind == 5:   # a character dropped
        return code[:i] + code[i + 1:]
    if kind == 6:   # a character added
        return code[:i] + alphabet[int(rng.integers(31))] + code[i:]
    if kind == 7:   # a letter among the first eight
        i = int(rng.integers(8))
        return code[:i] + alphabet[int(rng.integers(10, 31))] + code[i + 1:]
    if kind == 8:   # full-width or other non-ASCII characters
        return code[:i] + str(rng.choice(["Ａ", "１", "–", "\u00a0", "é"])) + code[i + 1:]
    return code[: int(rng.integers(0, 18))]   # truncated


def test_uscc_column_check_equals_stdnum_on_the_sample_and_100000_random_codes(registers):
    rng = np.random.default_rng(20230112)
    sample = registers.enterprises["uscc"].tolist()
    valid = []
    for _ in range(50_000):
        body = "".join(str(d) for d in rng.integers(0, 10, 8)) + "".join(
            USCC_ALPHABET[k] for k in rng.integers(0, 31, 9))
        valid.append(body + stdnum_uscc.calc_check_digit(body))
    mutated = [_mutate(valid[int(k)], rng) for k in rng.integers(0, len(valid), 50_000)]
    codes = sample + valid + mutated
    status = uscc_status(codes)
    is_valid = np.array([stdnum_uscc.is_valid(c) for c in codes])
    assert ((status == USCC_OK) | (status == USCC_NOT_CANONICAL)).tolist() == is_valid.tolist()
    assert status.tolist() == [uscc_status_one(c) for c in codes]   # same reasons as stdnum
    assert (status[: len(sample) + len(valid)] == USCC_OK).all()
    assert 20_000 < int((~is_valid).sum()) < 50_000                 # the mutations bite


def test_duplicate_keys_of_one_width_and_of_many(sample_dir, policy):
    """Inspector ids all have 10 characters (hashed column-wise); item ids are made to vary
    (arrow's dictionary encoding): repeats are found either way, first row named."""
    insp = read_raw(sample_dir, "inspectors")
    insp.loc[7, "inspector_id"] = insp.loc[1, "inspector_id"]
    insp.loc[40, "inspector_id"] = insp.loc[1, "inspector_id"]
    insp.loc[41, "inspector_id"] = insp.loc[30, "inspector_id"]
    assert insp["inspector_id"].str.len().nunique() == 1
    insp_path = write_raw(sample_dir, "inspectors", insp)
    items = read_raw(sample_dir, "items")
    items.loc[0, "item_id"] = "X1"
    items.loc[5, "item_id"] = "X1"
    items_path = write_raw(sample_dir, "items", items)
    problems = _problems(sample_dir, policy)
    first, second = insp.loc[1, "inspector_id"], insp.loc[30, "inspector_id"]
    assert problems == [
        f"{insp_path}:9:inspector_id: duplicate inspector_id '{first}' (first seen in row 3)",
        f"{insp_path}:42:inspector_id: duplicate inspector_id '{first}' (first seen in row 3)",
        f"{insp_path}:43:inspector_id: duplicate inspector_id '{second}' (first seen in row 32)",
        f"{items_path}:7:item_id: duplicate item_id 'X1' (first seen in row 2)",
    ]
