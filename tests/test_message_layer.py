"""Every message a person reads goes through the message layer: no exception, register
problem or warning of the package is built from bare English text.

The modules of the package are parsed with :mod:`ast` (nothing is imported or run). A message
is the first argument of ``raise SomeError(...)``, of ``problems.append(...)`` /
``notes.append(...)`` / ``warnings.append(...)`` / ``warnings.warn(...)``, and the
``message`` of a :class:`~dsr_analysis.errors.Problem`. It fails the test when it holds text
(a string literal or f-string with a word in it) and no call of ``_`` or ``ngettext``: a message
that is only a variable, or text joined to a translated part (``f"{file}:{row}:id: " +
_("blank unit id")``, the file's own header before the translated words), passes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dsr_analysis.errors import CalendarError, PolicyError
from dsr_analysis.i18n import set_language
from dsr_analysis.paths import DEFAULT_POLICY, PACKAGE_DIR
from dsr_analysis.policy import load_policy
from dsr_analysis.workcalendar import load_holiday_file

#: Messages a person never reads, each with its reason: (module, text the message starts with).
INTERNAL = {
    # A policy field of a type the loader was never taught: a programming error found by
    # the tests, never by a bureau's file.
    ("config.py", "unsupported policy type"),
    # Arguments of the working-day arithmetic checked for the code calling it (the counts
    # come from the policy, whose loader has refused a negative number already).
    ("workcalendar.py", "n must be >= 0"),
    ("workcalendar.py", "n must be >= 1"),
    # set_language is called with a choice argparse has checked (--lang zh|en) or from the
    # environment (mapped to zh or en): an unknown language is a programming error.
    ("i18n.py", "unknown language"),
    # The register scan and pyarrow's parse disagreeing on the row count: a defect of the
    # reader itself, never caused by a file (pragma: no cover).
    ("tabular.py", "internal error:"),
    # Checks of the coverage engine's own calls (the caller passes the counted checks and the
    # rows' generators whenever it asks for them): a defect of the engine, never of a file.
    ("simulation/coverage.py", "dense_select: rotation needs the counted checks"),
    ("simulation/coverage.py", "sample_pass: the sparse strata need the rows' generators"),
    # The warm papermill engine is only ever run by the render with its kernel: a call
    # without one is a programming error.
    ("renderpool.py", "papermill engine"),
}

_WORD = re.compile(r"[A-Za-z]{2,}")
_TRANSLATE = {"_", "ngettext"}


def _module_name(path: Path) -> str:
    return path.relative_to(PACKAGE_DIR).as_posix()


def _translated(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
               and n.func.id in _TRANSLATE for n in ast.walk(node))


def _text(node: ast.AST) -> str:
    """The literal text of a message expression (its words; placeholders, the arguments of
    ``.format`` and of other calls left out)."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else ""
    if isinstance(node, ast.JoinedStr):
        return " ".join(_text(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _text(node.value) if isinstance(node.value, (ast.IfExp, ast.Constant)) else ""
    if isinstance(node, ast.IfExp):
        return f"{_text(node.body)} {_text(node.orelse)}"
    if isinstance(node, ast.BinOp):
        return f"{_text(node.left)} {_text(node.right)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _text(node.func.value)
    return ""


def _bare(node: ast.AST) -> bool:
    return bool(_WORD.search(_text(node))) and not _translated(node)


def _messages(tree: ast.AST):
    """(line, message expression) of every message in a module."""
    for n in ast.walk(tree):
        if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call) and n.exc.args:
            yield n.lineno, n.exc.args[0]
        elif isinstance(n, ast.Call) and n.args:
            f = n.func
            if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                    and ((f.attr == "append" and f.value.id in ("problems", "notes", "warnings"))
                         or (f.attr == "warn" and f.value.id == "warnings"))):
                message = n.args[0]
                if isinstance(message, ast.Tuple) and message.elts:  # (column, message)
                    message = message.elts[-1]
                if not (isinstance(message, ast.Call) and isinstance(message.func, ast.Name)
                        and message.func.id == "Problem"):  # checked as a Problem below
                    yield n.lineno, message
            if isinstance(f, ast.Name) and f.id == "Problem":
                message = (n.args[3] if len(n.args) > 3 else
                           next((k.value for k in n.keywords if k.arg == "message"), None))
                if message is not None:
                    yield n.lineno, message


def bare_messages() -> list[str]:
    """``module:line: text`` of every message that does not go through the message layer."""
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, message in sorted(set(_messages(tree)), key=lambda m: m[0]):
            if not _bare(message):
                continue
            text = _text(message)
            if any(name == module and text.startswith(start) for module, start in INTERNAL):
                continue
            found.append(f"{name}:{line}: {text[:80]}")
    return found


def test_every_message_goes_through_the_message_layer():
    assert bare_messages() == []


def test_the_guard_finds_a_bare_message(tmp_path):
    """The checks themselves: bare text is found, translated text and variables pass."""
    source = '''
def f(x, file, problems):
    problems.append(f"{file}: unknown key")
    problems.append(_("{file}: unknown key").format(file=file))
    problems.append(f"{file}:2:id: " + _("blank unit id"))
    problems.append(x)
    problems.append(Problem(file, 2, "unit", "not a unit"))
    raise PolicyError("\\n".join(problems))
    raise PolicyError(f"{file}: bad")
    problems.append(("draw_key", f"{x} is not {file}"))
    problems.append(("draw_key", _("{x} is not {file}").format(x=x, file=file)))
    raise PolicyError(message.format(file="a file"))
'''
    found = sorted({line for line, m in _messages(ast.parse(source)) if _bare(m)})
    assert found == [3, 7, 9, 10]


def test_every_listed_exception_names_a_real_message():
    for module, start in INTERNAL:
        assert start in (PACKAGE_DIR / module).read_text(encoding="utf-8"), (module, start)


@pytest.fixture
def chinese():
    """Messages in Chinese for the test, English again after it."""
    set_language("zh")
    yield
    set_language("en")


def _bad_policy(tmp_path: Path) -> Path:
    """The plan's policy with a key the loader does not know."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\nextra_key: 1\n", encoding="utf-8")
    return path


def test_a_policy_problem_in_english(tmp_path):
    path = _bad_policy(tmp_path)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value).startswith(f"{path}: unknown key 'extra_key' (allowed: ")


def test_a_policy_problem_in_chinese(tmp_path, chinese):
    path = _bad_policy(tmp_path)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value).startswith(f"{path}：无法识别的配置项“extra_key”（可用：")


def test_a_holiday_schedule_problem_in_both_languages(tmp_path, chinese):
    """A working Saturday (调休上班) given as a weekday: the file, the key and the day named in
    Chinese, and the same in English on request."""
    path = tmp_path / "2031.yaml"
    path.write_text("year: 2031\nsource: test\nholidays: []\nworking_days: [2031-01-06]\n",
                    encoding="utf-8")
    with pytest.raises(CalendarError) as err:
        load_holiday_file(path)
    assert str(err.value) == (f"{path}：配置项“working_days[0]”：2031-01-06是工作日；"
                              "调休上班日应为星期六或星期日")
    set_language("en")
    with pytest.raises(CalendarError) as err:
        load_holiday_file(path)
    assert str(err.value) == (f"{path}: key 'working_days[0]': 2031-01-06 is a weekday; "
                              "adjusted working days (调休上班) are Saturdays or Sundays")
