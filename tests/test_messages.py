"""The library's messages in Chinese (the default for a person) and in English on request: a bad
register cell named by the file's own header, a results-register problem, a refused draw; no
rule id or internal name in the Chinese forms, and no translation that asks for a value its
message does not give."""

from __future__ import annotations

import string

import pytest
from babel.messages.extract import extract_from_file

from bureau import ENTERPRISE_HEADERS_ZH, INSPECTOR_HEADERS_ZH
from conftest import read_raw, write_raw
from dsr_analysis.draw import draw_and_record
from dsr_analysis.draw.protocol import ProtocolError
from dsr_analysis.errors import RegisterError
from dsr_analysis.i18n import _, set_language
from dsr_analysis.paths import PACKAGE_DIR
from dsr_analysis.registers import load_registers
from dsr_analysis.results import ResultsCheck, load_results

import pandas as pd


@pytest.fixture
def chinese():
    """Messages in Chinese for the test, English again after it."""
    set_language("zh")
    yield
    set_language("en")


def _bad_registers(directory):
    """The sample registers with Chinese headers and five bad things in them: a count written
    with a unit (row 4), a USCC with a wrong check character (row 6), a unit that is none of
    the policy's (row 7), a positive-list firm penalised last year (row 9) and an inspector's
    conflict naming a firm not in the register (row 2 of the inspectors)."""
    ent = read_raw(directory, "enterprises")
    ent.loc[2, "complaints_last_year"] = "2次"
    code = ent.loc[4, "uscc"]
    ent.loc[4, "uscc"] = code[:-1] + ("1" if code[-1] != "1" else "2")
    ent.loc[5, "unit"] = "北京"
    ent.loc[7, ["positive_list", "penalised_last_year"]] = "true"
    write_raw(directory, "enterprises", ent.rename(columns=ENTERPRISE_HEADERS_ZH))
    insp = read_raw(directory, "inspectors")
    insp.loc[0, "conflicts"] = "91133100MA0000000X"
    write_raw(directory, "inspectors", insp.rename(columns=INSPECTOR_HEADERS_ZH))
    return ent, directory / "enterprises.csv", directory / "inspectors.csv"


def test_a_bad_register_in_chinese_names_the_files_headers(sample_dir, chinese):
    ent, ent_path, insp_path = _bad_registers(sample_dir)
    with pytest.raises(RegisterError) as err:
        load_registers(sample_dir)
    lines = str(err.value).splitlines()
    assert lines[0] == f"名录中发现{len(err.value.problems)}处问题："
    assert f"{ent_path}:4:上年度有效投诉举报次数: “2次”不是非负整数" in lines
    assert (f"{ent_path}:6:统一社会信用代码: 统一社会信用代码 '{ent.loc[4, 'uscc']}' 无效："
            "校验码错误") in lines
    assert (f"{ent_path}:9:是否纳入正面清单: 企业 {ent.loc[7, 'uscc']} 已纳入正面清单，但上一年度"
            "受过行政处罚（受处罚的企业应移出正面清单）") in lines
    assert f"{insp_path}:2:申报回避对象: 申报的回避对象“91133100MA0000000X”不在检查对象名录中" in lines
    assert f"{ent_path}:7:所属单位: 无法识别的单位“北京”（可填：新区本级、雄县、容城县、安新县）" in lines
    text = str(err.value)
    for internal in ("positive_list", "conflicts", "complaints_last_year", "R1", "R2"):
        assert internal not in text


def test_the_same_register_in_english(sample_dir):
    ent, ent_path, insp_path = _bad_registers(sample_dir)
    with pytest.raises(RegisterError) as err:
        load_registers(sample_dir)
    lines = str(err.value).splitlines()
    assert lines[0] == f"{len(err.value.problems)} problem(s) in the registers:"
    assert f"{ent_path}:4:上年度有效投诉举报次数: '2次' is not a non-negative whole number" in lines
    assert f"{ent_path}:9:是否纳入正面清单: enterprise {ent.loc[7, 'uscc']} is on the positive " \
           "list but was penalised last year (a penalty removes a firm from the positive list)" \
           in lines
    assert f"{insp_path}:2:申报回避对象: declared conflict names unknown object " \
           "'91133100MA0000000X' (not in the enterprise register)" in lines


U1 = "91130638117803261F"
U2 = "911306322086262139"


@pytest.fixture
def tasks() -> pd.DataFrame:
    return pd.DataFrame({
        "task_id": ["2023Q1-xiongxian-0001", "2023Q1-xiongxian-0002"],
        "quarter": ["2023Q1", "2023Q1"], "unit": ["xiongxian", "xiongxian"],
        "uscc": [U1, U2], "enterprise_name": ["甲公司", "乙公司"],
        "credit_class": ["A", "D"], "business_line": ["air", "water"],
    })


def _bad_results(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(
        "任务编号,统一社会信用代码,检查日期,检查结果,后续处置,办结日期,公示日期,涉密不予公开\n"
        f"2023Q1-xiongxian-0001,{U1},2023-02-03,违法,无,,,否\n"
        f"2023Q1-xiongxian-0002,{U2},2023-03-01,未发现问题,无,,2023-03-05,是\n",
        encoding="utf-8")
    return path


def test_a_results_problem_in_chinese(tmp_path, tasks, chinese):
    path = _bad_results(tmp_path)
    with pytest.raises(RegisterError) as err:
        load_results(path, tasks)
    lines = [str(p) for p in err.value.problems]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:2:后续处置: 检查结果为“违法”，须有后续处置（责令整改、")
    assert lines[0].endswith("），不能填“无”")
    assert lines[1] == f"{path}:3:公示日期: 涉密的检查结果不予公开，不能填写公示日期"
    for internal in ("violation", "rectification_order", "none", "R7", "R8"):
        assert internal not in "\n".join(lines)


def test_the_same_results_problem_in_english(tmp_path, tasks):
    path = _bad_results(tmp_path)
    with pytest.raises(RegisterError) as err:
        load_results(path, tasks)
    lines = [str(p) for p in err.value.problems]
    assert lines[0].startswith(f"{path}:2:后续处置: outcome violation needs a follow-up "
                               "(rectification_order 责令整改")
    assert lines[1] == (f"{path}:3:公示日期: a confidential result is withheld and cannot have a "
                        "publication date")


def _refused_draw(policy, registers, tmp_path):
    with pytest.raises(ProtocolError) as err:
        draw_and_record(policy, registers, "2023Q1", "03 09 12", tmp_path / "ledger.sqlite",
                        tmp_path / "out", units=["xiongxian"])
    assert not (tmp_path / "out").exists() and not (tmp_path / "ledger.sqlite").exists()
    return str(err.value)


def test_a_refused_draw_in_chinese(policy, registers, tmp_path, chinese):
    message = _refused_draw(policy, registers, tmp_path)
    assert message == ("2023年第一季度（雄县）尚无抽取承诺：须在随机种子素材产生之前发布承诺——"
                       "dsr commit --quarter 2023Q1 --seed-source '…'")


def test_the_same_refusal_in_english(policy, registers, tmp_path):
    message = _refused_draw(policy, registers, tmp_path)
    assert message.startswith("no commitment for 2023Q1 (") and "units xiongxian" in message


#: The modules whose messages are checked here (those a register, a results file, a draw and
#: the ledger's verification produce).
MODULES = ("values", "tabular", "registers", "results", "results_entry", "items", "errors",
           "followups", "amendments", "itemlist", "credit", "rollover", "draw/protocol",
           "draw/__init__", "draw/objects", "draw/binding", "draw/verify", "draw/ledger",
           "draw/outputs", "draw/reinspection", "draw/revisions", "draw/staffing",
           "draw/imports", "periods")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_of_these_modules_is_translated_with_the_values_it_is_given(chinese):
    """Each message has a Chinese form, and that form asks only for values the English message
    is given (plus the Chinese labels, ``*_zh``, passed beside them): a translation never
    fails at the moment it is needed."""
    checked = 0
    for module in MODULES:
        path = PACKAGE_DIR / f"{module}.py"
        for _line, msg, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "N_": None, "ngettext": (1, 2)}):
            msgid = msg if isinstance(msg, str) else msg[0]
            zh = _(msgid)
            assert zh != msgid, f"{module}: no Chinese form of {msgid!r}"
            extra = {n for n in _placeholders(zh) - _placeholders(msgid)
                     if not n.endswith("_zh")}
            assert not extra, (module, msgid, zh)
            checked += 1
    assert checked > 200


def test_the_results_check_summary_in_both_languages(chinese):
    """What ``dsr results check`` prints for a valid register: the counts by outcome (Chinese
    labels in both languages), the tasks still waiting, whether the ledger was consulted."""
    done = ResultsCheck("r.xlsx", 5, 3, {"no_problem": 1, "violation": 4}, True)
    empty = ResultsCheck("r.xlsx", 0, 12, {}, False)
    assert done.summary() == ("r.xlsx: OK，5 条检查结果（未发现问题 1，违法 4），3 项任务尚未录入结果，"
                              "已与抽取记录账本核对")
    assert empty.summary() == "r.xlsx: OK，0 条检查结果（无），12 项任务尚未录入结果（未与抽取记录账本核对）"
    set_language("en")
    assert done.summary() == ("r.xlsx: OK, 5 results (未发现问题 1, 违法 4), 3 tasks awaiting their "
                              "results, checked against the draw ledger")
    assert ResultsCheck("r.xlsx", 1, 1, {"violation": 1}, False).summary() == (
        "r.xlsx: OK, 1 result (违法 1), 1 task awaiting its result (not checked against the "
        "draw ledger)")
