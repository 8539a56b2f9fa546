"""Chinese by default, English on request: the message layer, the catalogue and the command
line in both languages (real subprocesses for the command line)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import read_raw, write_raw
from dsr_analysis import i18n
from dsr_analysis.i18n import _, ngettext, set_language

PACKAGE = Path(i18n.__file__).parent


def dsr(*args: str, lang: str | None = None, cwd=None, **env) -> subprocess.CompletedProcess:
    """``dsr`` as a person runs it: no locale variable set (Chinese) unless ``lang`` names the
    ``LANGUAGE`` or ``env`` sets others."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    if lang:
        environ["LANGUAGE"] = lang
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "dsr_analysis.cli", *args], capture_output=True,
                          text=True, encoding="utf-8", env=environ, cwd=cwd, timeout=300)


# ------------------------------------------------------------------ the layer in process
def test_the_language_follows_the_environment():
    assert i18n.language_from_env({}) == "zh"
    assert i18n.language_from_env({"LANG": "en_US.UTF-8"}) == "en"
    assert i18n.language_from_env({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.language_from_env({"LANGUAGE": "zh_CN", "LANG": "en_US.UTF-8"}) == "zh"
    with pytest.raises(ValueError):
        set_language("fr")


def test_messages_and_plurals_in_both_languages():
    set_language("zh")
    assert _("wrote {path}").format(path="a.csv") == "已写入 a.csv"
    assert ngettext("{n} problem found; nothing was written.",
                    "{n} problems found; nothing was written.", 2).format(n=2) \
        == "共发现 2 个问题，未写入任何文件。"
    set_language("en")
    assert _("wrote {path}").format(path="a.csv") == "wrote a.csv"
    assert ngettext("{n} problem found; nothing was written.",
                    "{n} problems found; nothing was written.", 1).format(n=1) \
        == "1 problem found; nothing was written."


def test_argparse_speaks_the_chosen_language():
    import argparse

    set_language("zh")
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--quarter", required=True)
    assert parser.format_usage().startswith("用法：x")
    set_language("en")
    assert parser.format_usage().startswith("usage: x")


def test_importing_the_layer_does_not_import_babel():
    run = subprocess.run([sys.executable, "-c", "import sys, dsr_analysis.i18n; "
                          "print('babel' in sys.modules)"], capture_output=True, text=True,
                         timeout=120)
    assert run.stdout.strip() == "False", run.stderr


def test_every_message_of_the_package_has_a_translation():
    """Every msgid Babel extracts from the package (``_``, ``ngettext``, ``N_``) has a
    non-empty, non-fuzzy Chinese translation in the catalogue (dsr.po and the parts not merged
    yet)."""
    from babel.messages.extract import extract_from_dir

    catalog = i18n.read_catalogue("zh_CN")
    missing = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
            PACKAGE, method_map=[("**.py", "python")],
            keywords={"_": None, "ngettext": (1, 2), "N_": None}):
        key = message if isinstance(message, str) else message[0]
        entry = catalog.get(key)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(f"{filename}:{lineno}: {key!r}")
    assert not missing, "\n".join(missing)


def test_percent_translations_keep_the_msgids_fields():
    """A ``%``-formatted message (argparse's own, the help texts' ``%(default)s``) is filled
    by code that passes exactly the msgid's fields: its translation names the same ones."""
    import re

    catalog = i18n.read_catalogue("zh_CN")
    fields = re.compile(r"%\([^)]*\)\w|%[sr]")
    wrong = []
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for s in strings:
            if s and sorted(fields.findall(s)) != sorted(fields.findall(ids[0])):
                wrong.append((ids[0], s))
    assert not wrong, wrong


# ------------------------------------------------------------------ the command line
def test_help_in_chinese_by_default_and_english_on_request():
    zh = dsr("--help")
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.startswith("用法：dsr")
    assert "显示本帮助信息并退出" in zh.stdout and "校验名录库，列出全部问题" in zh.stdout
    en = dsr("--lang", "en", "draw", "--help")
    assert en.returncode == 0, en.stderr
    assert en.stdout.startswith("usage: dsr draw")
    assert "show this help message and exit" in en.stdout
    assert "the seed material published by the committed source" in en.stdout
    # an English locale picks English without --lang; --lang wins over the environment
    assert dsr("quotas", "--help", LANG="en_US.UTF-8").stdout.startswith("usage: dsr quotas")
    assert dsr("--lang", "zh", "quotas", "--help", LANG="en_US.UTF-8").stdout.startswith("用法：")


def test_usage_errors_in_both_languages():
    zh = dsr("quotas")
    assert zh.returncode == 2
    assert "dsr quotas：错误：缺少必需的参数：--quarter" in zh.stderr
    en = dsr("quotas", lang="en")
    assert "dsr quotas: error: the following arguments are required: --quarter" in en.stderr


def test_a_bad_register_in_both_languages(sample_dir):
    ent = read_raw(sample_dir, "enterprises")
    ent.loc[0, "credit_class"] = "Q"
    ent.loc[1, "unit"] = "nowhere"
    path = write_raw(sample_dir, "enterprises", ent)
    zh = dsr("validate", "--registers", str(sample_dir))
    en = dsr("--lang", "en", "validate", "--registers", str(sample_dir))
    for run in (zh, en):
        assert run.returncode == 1
        lines = run.stderr.splitlines()
        assert "Traceback" not in run.stderr
        # file:row:column (the file's own header) and the value stay in both languages
        assert any(line.startswith(f"{path}:2:credit_class:") and "Q" in line
                   for line in lines), lines
        assert any(line.startswith(f"{path}:3:unit:") and "nowhere" in line for line in lines)
    assert zh.stderr.splitlines()[-1] == "共发现 2 个问题，未写入任何文件。"
    assert en.stderr.splitlines()[-1] == "2 problems found; nothing was written."


def test_a_refused_draw_in_both_languages(tmp_path):
    """A draw without a published commitment is refused, in the language asked for."""
    args = ("draw", "--quarter", "2023Q1", "--seed-material", "12 34", "--ledger",
            str(tmp_path / "ledger.sqlite"), "--outputs", str(tmp_path / "out"))
    zh = dsr(*args)
    en = dsr(*args, lang="en_GB")
    assert zh.returncode == en.returncode == 2
    assert zh.stderr.startswith("错误：") and en.stderr.startswith("error: ")
    assert "2023Q1" in zh.stderr and "2023Q1" in en.stderr
    assert not (tmp_path / "out").exists()


def test_classify_chinese_by_default_ids_on_request(tmp_path):
    zh_csv = tmp_path / "分类.csv"
    ids_csv = tmp_path / "classification.csv"
    zh = dsr("classify", "--output", str(zh_csv))
    ids = dsr("classify", "--output", str(ids_csv), "--columns", "ids")
    assert zh.returncode == 0 and ids.returncode == 0, zh.stderr + ids.stderr
    assert zh.stderr.strip() == f"已写入 {zh_csv}"
    for path in (zh_csv, ids_csv):  # Excel reads them as UTF-8
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    people = pd.read_csv(zh_csv, dtype=str, encoding="utf-8-sig")
    machine = pd.read_csv(ids_csv, dtype=str, encoding="utf-8-sig")
    assert list(people.columns) == ["统一社会信用代码", "企业名称", "抽查单位", "监管类别", "分类依据"]
    assert list(machine.columns) == ["uscc", "name", "unit", "category", "category_reason"]
    assert len(people) == len(machine) == 3000
    assert people["统一社会信用代码"].tolist() == machine["uscc"].tolist()
    assert set(people["抽查单位"]) == {"新区本级", "雄县", "容城县", "安新县"}
    assert set(machine["unit"]) == {"xiongan", "xiongxian", "rongcheng", "anxin"}
    assert set(people["监管类别"]) == {"特殊监管对象", "重点监管对象", "一般监管对象"}
    # the same category row by row, the reason without condition or rule ids
    zh_of = {"special": "特殊监管对象", "key": "重点监管对象", "general": "一般监管对象"}
    assert people["监管类别"].tolist() == machine["category"].map(zh_of).tolist()
    assert not people["分类依据"].str.contains(r"\bR\d\b|positive_list|key_polluter").any()
    assert people["分类依据"].str.startswith(tuple(zh_of.values())).all()


def test_quotas_table_chinese_by_default():
    run = dsr("quotas", "--quarter", "2023Q1", "--format", "csv")
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(io.StringIO(run.stdout.lstrip("\ufeff")), dtype=str)
    assert {"季度", "抽查单位", "监管类别", "抽查数", "A类预期抽查数"} <= set(table.columns)
    assert not {"xiongxian", "special", "key/all"} & set(table.to_numpy().ravel())
    assert "随机抽查中结合信用风险分类的占比" in run.stderr and "R3" not in run.stderr


def test_lang_holds_for_the_command_and_its_child_processes_only(capsys):
    """``--lang zh`` in process: the command speaks Chinese, ``LANGUAGE`` is set for the
    processes it starts (report notebooks) and restored after it."""
    from dsr_analysis.cli import main

    before = os.environ.get("LANGUAGE")
    assert main(["--lang", "zh", "validate"]) == 0
    assert capsys.readouterr().out.startswith("名录库校验通过：检查对象 3000 家")
    assert os.environ.get("LANGUAGE") == before
    assert main(["validate"]) == 0  # the environment's language again (English in the tests)
    assert capsys.readouterr().out.startswith("registers OK (3000 enterprises")


# ------------------------------------------------------------------ catalogue management
PO_HEAD = '''msgid ""
msgstr ""
"Language: zh_CN\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"Content-Type: text/plain; charset=utf-8\\n"

'''


def test_parts_are_read_until_merged_then_the_catalogue_alone(tmp_path, monkeypatch):
    """A colleague's ``parts/*.po`` translates messages the main catalogue leaves empty; the
    merge folds it into ``dsr.po`` and removes it; the compiled ``.mo`` says the same."""
    locale = tmp_path / "locale"
    main_po = locale / "zh_CN" / "LC_MESSAGES" / "dsr.po"
    part = locale / "zh_CN" / "parts" / "g9.po"
    main_po.parent.mkdir(parents=True)
    part.parent.mkdir(parents=True)
    main_po.write_text(PO_HEAD + 'msgid "wrote {path}"\nmsgstr "已写入 {path}"\n\n'
                       'msgid "the ledger"\nmsgstr ""\n', encoding="utf-8")
    part.write_text(PO_HEAD + 'msgid "the ledger"\nmsgstr "抽取账本"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    monkeypatch.setattr(i18n, "_catalogues", {})
    set_language("zh")
    assert _("the ledger") == "抽取账本" and _("wrote {path}") == "已写入 {path}"

    script = Path(__file__).resolve().parent.parent / "scripts" / "messages.py"
    for action in ("merge", "compile"):
        run = subprocess.run([sys.executable, str(script), action, "--locale-dir", str(locale)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    assert not part.exists()
    assert 'msgstr "抽取账本"' in main_po.read_text(encoding="utf-8")
    mo = main_po.with_suffix(".mo")
    assert mo.is_file()
    monkeypatch.setattr(i18n, "_catalogues", {})
    assert _("the ledger") == "抽取账本"


def test_classification_reasons_in_words():
    """The reasons ``classify`` gives, as the office reads them: the category and the
    condition in Chinese, the designation a conflict rule overrode, no condition or rule id."""
    from dsr_analysis.presentation import reason_zh

    assert reason_zh("key: 列入重点排污单位名录 (key_polluter, R2)") == "重点监管对象：列入重点排污单位名录"
    assert reason_zh("general: no designating condition met (default, R2)") \
        == "一般监管对象：未符合任何认定条件（默认类别）"
    assert reason_zh("special: 上年度被挂牌督办 (supervised, R2); overrides key: 排污许可重点管理 "
                     "(permit_key, R2) [R2 conflict rule]") \
        == "特殊监管对象：上年度被挂牌督办；按冲突规则优先于重点监管对象（排污许可重点管理）"
    assert reason_zh("something else") == "something else"


def test_simulation_tables_for_people_and_for_programs():
    from dsr_analysis.presentation import simulation_table

    frame = pd.DataFrame({"category": ["key", "general"], "credit_class": ["A", "B"],
                          "objects": [3, 7], "coverage": [0.5, 0.25]})
    people = simulation_table(frame)
    assert list(people.columns) == ["监管类别", "信用等级", "对象数", "年覆盖率"]
    assert people["监管类别"].tolist() == ["重点监管对象", "一般监管对象"]
    assert people["年覆盖率"].tolist() == [0.5, 0.25]
    assert simulation_table(frame, "ids").equals(frame)
