"""The user guide (docs/, MkDocs): it builds without a warning, its generated tables follow
the code, its register examples are valid registers, and the README's links reach it."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsr_analysis import schema
from dsr_analysis.paths import PROJECT_ROOT, SAMPLE_REGISTERS
from dsr_analysis.registers import load_registers

DOCS = PROJECT_ROOT / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"


def _hooks():
    spec = importlib.util.spec_from_file_location("guide_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_guide_builds_strict(tmp_path):
    """`mkdocs build --strict`: a broken link, a missing page or example, a message of the
    troubleshooting table that the code no longer has - each fails the build."""
    proc = subprocess.run([str(MKDOCS), "build", "--strict", "--quiet", "--site-dir",
                           str(tmp_path / "site")], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "用户手册" in index
    for image in ("statistics", "summary", "evaluation", "notice", "annual_plan",
                  "announcement", "task_sheet"):
        assert f"images/{image}.png" in index
        assert (tmp_path / "site" / "images" / f"{image}.png").stat().st_size > 5_000
    registers = (tmp_path / "site" / "registers.html").read_text(encoding="utf-8")
    assert "是否纳入正面清单" in registers and "申报回避对象" in registers
    for page in (tmp_path / "site").rglob("*.html"):  # every marker replaced
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<!--\s*(registers:|example:|messages|follow-ups)", html), page


@pytest.mark.parametrize("register", sorted(schema.SCHEMAS))
def test_register_table_lists_every_header_and_value(register):
    table = _hooks().register_table(register)
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [re.match(r"\| `([a-z_]+)`", r).group(1) for r in rows] == list(
        schema.SCHEMAS[register])
    for column, headers in schema.COLUMN_ALIASES[register].items():
        row = next(r for r in rows if r.startswith(f"| `{column}`"))
        for header in headers:
            assert header in row, (register, column, header)
        kind = schema.SCHEMAS[register][column][0]
        if kind.startswith("enum:"):
            for spellings in schema.ENUMS[kind.removeprefix("enum:")].values():
                for spelling in spellings:
                    assert spelling in row, (register, column, spelling)


def test_troubleshooting_messages_are_the_codes():
    """Every row of the troubleshooting table names exactly one message of the code."""
    table = _hooks().messages_table()
    assert table.count("\n") == len(_hooks().MESSAGES) + 2
    assert "{" not in table  # placeholders shown as …


def test_register_examples_are_valid_registers(tmp_path):
    """The CSV examples of 名录格式 read as an enterprise and an inspector register."""
    text = (DOCS / "registers.md").read_text(encoding="utf-8")
    enterprises, inspectors = re.findall(r"```text\n(.*?)```", text, re.S)
    (tmp_path / "enterprises.csv").write_text(enterprises, encoding="utf-8")
    (tmp_path / "inspectors.csv").write_text(inspectors, encoding="utf-8")
    shutil.copy(SAMPLE_REGISTERS / "items.csv", tmp_path / "items.csv")
    registers = load_registers(tmp_path)
    assert len(registers.enterprises) == 1 and len(registers.inspectors) == 1
    firm = registers.enterprises.iloc[0]
    assert firm["unit"] == "xiongxian" and firm["credit_class"] == "B"
    assert bool(firm["penalised_last_year"]) is True
    assert list(registers.inspectors.iloc[0]["conflicts"]) == [firm["uscc"]]


def test_readme_links_reach_the_guide():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+\.md)", readme)
    assert len(links) >= 18
    for link in links:
        assert (PROJECT_ROOT / link).is_file(), link
    assert len(readme.splitlines()) < 150
    images = re.findall(r"\]\((docs/images/[a-z_]+\.png)\)", readme)
    assert len(images) == 7 and all((PROJECT_ROOT / i).is_file() for i in images)
