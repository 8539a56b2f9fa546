"""MkDocs hooks of the user guide: pages hold markers that the build replaces.

- ``<!-- registers:NAME -->``: the columns of register NAME (enterprises, inspectors, experts,
  items, results, followups) as a table - column id, accepted Chinese headers, required or not,
  accepted values - generated from ``dsr_analysis/schema.py`` and ``dsr_analysis/values.py``,
  so the guide never disagrees with what ``dsr validate`` reads;
- ``<!-- follow-ups-allowed -->``: which follow-ups each outcome admits;
- ``<!-- messages -->``: the troubleshooting table, each message taken from the code (its
  Chinese translation) - a message that no longer exists fails the build;
- ``<!-- example:NAME -->``: the command and real output kept in ``docs/examples/NAME.txt`` by
  ``scripts/guide_examples.py``.

A marker naming nothing is an error (the strict build fails).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError

from dsr_analysis import schema, values
from dsr_analysis.labels import FOLLOW_UP_ZH, OUTCOME_ZH
from dsr_analysis.paths import DEFAULT_POLICY
from dsr_analysis.policy import load_policy

DOCS = Path(__file__).resolve().parent
MARKER = re.compile(r"<!--\s*(registers|example):([A-Za-z0-9_-]+)\s*-->")
FOLLOW_UPS_MARKER = "<!-- follow-ups-allowed -->"
MESSAGES_MARKER = "<!-- messages -->"

#: The troubleshooting table: a part of a message's English text (msgid) that names exactly
#: one message of the code, with its cause and remedy. The message itself is shown as the
#: program prints it in Chinese (the catalogue's translation, or the msgid while untranslated).
MESSAGES: tuple[tuple[str, str, str], ...] = (
    ("register '{name}' not found", "名录目录中缺少该名录的文件，或文件名、扩展名不对",
     "文件名应为 enterprises、inspectors、items（experts 可无），扩展名 .csv、.xlsx 或 .xls"),
    ("missing {missing} of {required} required columns", "缺少必需的列，或表头写法不在可用表头之列",
     "按[名录格式](registers.md)改表头"),
    ("blank required value", "必填的单元格是空的", "补填；确实没有的，核实该行是否应在名录中"),
    ("duplicate {key} '{value}'", "同一统一社会信用代码（或编号）出现了两次", "合并或删除重复的行"),
    ("is not a boolean", "是/否列填了其他内容（如“在”“有证”）", "改为“是”或“否”"),
    ("is not a non-negative whole number", "次数列带了单位、小数或全角数字（如“2次”）",
     "只填半角数字，如 2"),
    ("invalid unified social credit code", "统一社会信用代码位数不对、含有不用的字母或校验位不对，"
     "多为录入错误", "对照营业执照或平台数据改正"),
    ("unknown unit '{text}'", "所属单位的写法不是方案中的单位", "填单位编号或中文名称（提示中列出）"),
    ("declared conflict names unknown object", "申报回避对象中的统一社会信用代码不在检查对象名录中",
     "核对代码；企业确已不在名录中的，从申报回避对象中删去"),
    ("is not a date (use YYYY-MM-DD, YYYY/M/D", "日期写法无法识别", "写成 2023-02-10、2023/2/10 或 "
     "2023年2月10日"),
    ("a register records what has happened", "登记的日期晚于今天（检查、公示、办结等只能登记已发生的事）",
     "改正日期；整改期限可以晚于今天"),
    ("changed since commitment", "承诺之后，名录或方案文件被改动（提示中列出承诺时和现在的摘要）",
     "换回承诺时的文件（`--registers` 指向承诺时的目录）；确需修改的，在随机数产生之前重新承诺并"
     "公开新的抽取公告"),
    ("no commitment for {quarter}", "没有承诺就抽取，或 `--units`、`--target` 与承诺时不同",
     "先 `dsr commit`，抽取时的参数与承诺时一致"),
    ("a re-draw needs a new commitment", "该承诺已经用于一次抽取", "重抽须重新承诺，并用 `--reason` 写明理由"),
    ("the published head says", "账本与公开的账本头不一致：账本被改写或调换了顺序",
     "立即报告；以公开的账本头为准查明原因"),
    ("that was never drawn", "结果登记表中的任务编号不是账本中抽中的任务", "核对任务编号（从模板复制，不要手输）"),
    ("is not the object of task", "该行的统一社会信用代码与抽中的检查对象不符", "核对是否填错了行"),
    ("does not fit the outcome", "后续处置与检查结果不相配", "按[名录格式](registers.md#results)中的对照表改正"),
)

_KIND_ZH = {
    "str": "文本",
    "int": "非负整数（只用半角数字，如 0、2；“2次”不可）",
    "date": "日期：YYYY-MM-DD、YYYY/M/D、YYYY.M.D 或 YYYY年M月D日；不得晚于当天",
    "deadline": "日期（格式同上），可以晚于当天",
    "amount": "金额（元）：非负，最多两位小数，可带千分位逗号和“元”，如 50000、12,500.50元",
    "uscc": "18 位统一社会信用代码，校验位须正确（GB 32100）",
}


def _bool_zh() -> str:
    true = "、".join(sorted(values.BOOL_TRUE))
    false = "、".join(sorted(values.BOOL_FALSE))
    return f"是/否。表示“是”：{true}；表示“否”：{false}（英文不区分大小写）"


def _list_zh(register: str, column: str) -> str:
    seps = "、".join({";": "半角分号 ;", "；": "全角分号 ；", "|": "竖线 |", "\r": "",
                      "\n": "单元格内换行"}[c] for c in schema.LIST_SEPARATORS if c != "\r")
    text = f"多个值，以{seps}分隔（顿号“、”不作分隔）"
    if column in schema.INDUSTRY_LIST_COLUMNS.get(register, ()):
        text += "；" + "、".join(f"“{s}”" for s in schema.ALL_INDUSTRIES_SPELLINGS) + "表示全部行业"
    return text


def _unit_zh() -> str:
    names = load_policy(DEFAULT_POLICY).unit_names
    return "单位编号或中文名称：" + "；".join(f"{zh}（{uid}）" for uid, zh in names.items())


def _enum_zh(enum: str) -> str:
    return "；".join(f"{'、'.join(spellings)}（{canonical}）"
                    for canonical, spellings in schema.ENUMS[enum].items())


def _values_zh(register: str, column: str, kind: str) -> str:
    if kind == "bool":
        return _bool_zh()
    if kind == "list":
        return _list_zh(register, column)
    if kind == "unit":
        return _unit_zh()
    if kind.startswith("enum:"):
        return "取值之一：" + _enum_zh(kind.removeprefix("enum:"))
    return _KIND_ZH[kind]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def register_table(register: str) -> str:
    """The Markdown table of a register's columns (from schema.py)."""
    if register not in schema.SCHEMAS:
        raise PluginError(f"docs: unknown register {register!r} in a registers marker")
    optional = schema.OPTIONAL_COLUMNS.get(register, set())
    key = schema.KEY_COLUMNS.get(register, "")
    rows = ["| 列（英文列名） | 可用的中文表头 | 是否必填 | 填写内容 |", "|---|---|---|---|"]
    for column, (kind, required) in schema.SCHEMAS[register].items():
        headers = "、".join(schema.COLUMN_ALIASES[register].get(column, ()))
        if column in optional:
            need = "可选列（可整列省略）"
        elif required:
            need = "必填"
        else:
            need = "列必须有，单元格可空"
        if column == key:
            need += "；不得重复"
        rows.append(f"| `{column}` | {_cell(headers)} | {need} | "
                    f"{_cell(_values_zh(register, column, kind))} |")
    return "\n".join(rows) + "\n"


def follow_ups_table() -> str:
    """Which follow-ups (后续处置) each outcome (检查结果) admits (schema.FOLLOW_UPS_ALLOWED)."""
    rows = ["| 检查结果 | 允许的后续处置 |", "|---|---|"]
    for outcome, allowed in schema.FOLLOW_UPS_ALLOWED.items():
        rows.append(f"| {OUTCOME_ZH[outcome]} | {'、'.join(FOLLOW_UP_ZH[f] for f in allowed)} |")
    return "\n".join(rows) + "\n"


def _msgids() -> set[str]:
    """Every message id of the package's code (what Babel extracts)."""
    from babel.messages.extract import extract_from_file

    ids: set[str] = set()
    for path in sorted((DOCS.parent / "dsr_analysis").rglob("*.py")):
        for _line, message, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "N_": None, "ngettext": (1, 2)}):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def messages_table() -> str:
    """The troubleshooting table: each message as printed in Chinese, its cause, its remedy."""
    from dsr_analysis.i18n import translations

    ids = _msgids()
    zh = translations("zh")
    rows = ["| 提示信息（“…”处为具体的文件、行、值） | 原因 | 处理办法 |", "|---|---|---|"]
    for part, cause, remedy in MESSAGES:
        found = [part] if part in ids else sorted(i for i in ids if part in i)
        if len(found) != 1:
            raise PluginError(f"docs: {len(found)} messages of the code contain {part!r} "
                              "(the troubleshooting table in docs/hooks.py needs exactly one)")
        shown = re.sub(r"\{[a-z_]+\}", "…", zh.gettext(found[0]))
        rows.append(f"| {_cell(shown)} | {cause} | {remedy} |")
    return "\n".join(rows) + "\n"


def example_block(name: str) -> str:
    """A command and its real output, from docs/examples/NAME.txt."""
    path = DOCS / "examples" / f"{name}.txt"
    if not path.is_file():
        raise PluginError(f"docs: {path} is missing: run scripts/guide_examples.py")
    text = path.read_text(encoding="utf-8").rstrip("\n")
    return "\n```text\n" + text + "\n```\n"


_CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”‘’…—]")
_CJK_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uffef“”‘’…—]")


def join_cjk_lines(markdown: str) -> str:
    """Join the lines of a paragraph where a line break falls between Chinese characters: a
    line break is a space in HTML, and Chinese text has none (outside code blocks, headings
    and tables)."""
    out: list[str] = []
    fence = False
    for line in markdown.split("\n"):
        body = line.lstrip()
        if body.startswith("```"):
            fence = not fence
            out.append(line)
            continue
        if out and not fence and body and not body.startswith(("#", "|", "- ", "* ", "<!--", "!")) \
                and not re.match(r"[0-9]+\. ", body):
            prev = out[-1].rstrip()
            if prev and not prev.lstrip().startswith(("#", "|", "```")) and (
                    (_CJK.match(prev[-1]) and _CJK.match(body[0]))
                    or _CJK_PUNCT.match(prev[-1]) or _CJK_PUNCT.match(body[0])):
                out[-1] = prev + body
                continue
        out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (hook API)
    if not page.file.src_uri.startswith("reference/"):
        markdown = join_cjk_lines(markdown)
    def replace(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        return register_table(name) if kind == "registers" else example_block(name)
    markdown = markdown.replace(FOLLOW_UPS_MARKER, follow_ups_table())
    if MESSAGES_MARKER in markdown:
        markdown = markdown.replace(MESSAGES_MARKER, messages_table())
    return MARKER.sub(replace, markdown)
