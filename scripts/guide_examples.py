"""Run the user guide's commands on a county bureau's small registers and keep their output.

The guide (``docs/``) quotes what ``dsr`` prints; this script makes those quotes by running
the real commands - a 雄县 quarter on the registers of ``tests/bureau.py`` (111 firms,
18 inspectors, 14 items) in a temporary folder, and the refusals the troubleshooting page
explains - and writes each command line with its output to ``docs/examples/<name>.txt``.
``docs/hooks.py`` pastes them into the pages where ``<!-- example:NAME -->`` stands.

Run it again whenever a message or a printed table changes (about a minute)::

    .venv/bin/python scripts/guide_examples.py [--lang zh|en]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
DSR = Path(sys.executable).parent / "dsr"
SEED_SOURCE = "中国福利彩票双色球第2023010期开奖号码（2023年1月20日开奖）"
SEED_MATERIAL = "03 09 12 18 25 31 / 07"
LEDGER = ("--ledger", "outputs/ledger.sqlite")
MAX_LINES = 40
#: Commands whose exit status was not the one the guide shows (the run fails).
UNEXPECTED: list[str] = []


def _run(bed: Path, name: str, args: list[str], env: dict[str, str],
         program: tuple[str, ...] = (), max_lines: int = MAX_LINES, expect: int = 0) -> int:
    """Run ``dsr ARGS`` (or ``PROGRAM ARGS``) in ``bed``; write the command and its output to
    examples/NAME.txt."""
    command = list(program) if program else [str(DSR)]
    proc = subprocess.run([*command, *args], cwd=bed, env=env, capture_output=True,
                          text=True, check=False)
    output = (proc.stdout + proc.stderr).replace(str(bed) + os.sep, "").replace(str(bed), ".")
    output = output.replace(str(ROOT) + os.sep, "")
    # a progress bar redraws its line with carriage returns: keep what the line ends as
    lines = [line.rsplit("\r", 1)[-1] for line in output.rstrip("\n").split("\n")]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"…（共 {len(lines)} 行，此处只列前 {max_lines} 行）"]
    shown = "python3 scripts/replay_draw.py" if program else "dsr"
    text = f"$ {shown} " + " ".join(shlex.quote(a) for a in args) + "\n" + "\n".join(lines) + "\n"
    if proc.returncode:
        text += f"（退出状态 {proc.returncode}）\n"
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    tmp = EXAMPLES / f".{name}.txt.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(EXAMPLES / f"{name}.txt")
    print(f"{name}: exit {proc.returncode}, {len(lines)} line(s)")
    if proc.returncode != expect:
        UNEXPECTED.append(f"{name}: exit {proc.returncode}, expected {expect}")
    return proc.returncode


def _bad_registers(good: Path, target: Path) -> Path:
    """The bureau's registers with three mistakes a clerk makes in the inspector register."""
    shutil.copytree(good, target)
    path = target / "inspectors.csv"
    with path.open(encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    rows[1][header.index("在岗")] = "在"
    rows[2][header.index("业务条线")] = "大气环境"
    rows[3][header.index("所属单位")] = "雄安县"
    with path.open("w", encoding="gb18030", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    return target


def _bad_uscc(good: Path, target: Path) -> Path:
    """The registers with one enterprise's credit code mistyped (one digit changed)."""
    import openpyxl

    shutil.copytree(good, target)
    path = target / "enterprises.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.active
    headers = [cell.value for cell in sheet[2]]
    col = headers.index("统一社会信用代码") + 1
    code = str(sheet.cell(row=5, column=col).value)
    digit = next(i for i in range(2, 17) if code[i].isdigit())
    sheet.cell(row=5, column=col).value = (code[:digit] + str((int(code[digit]) + 1) % 10)
                                          + code[digit + 1:])
    headers_row = [cell.value for cell in sheet[2]]
    count = headers_row.index("上年度有效投诉举报次数") + 1
    sheet.cell(row=7, column=count).value = "2次"
    book.save(path)
    return target


def _changed_name(good: Path, target: Path) -> Path:
    """The registers with one enterprise renamed after the commitment."""
    import openpyxl

    shutil.copytree(good, target)
    path = target / "enterprises.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.active
    col = [cell.value for cell in sheet[2]].index("企业名称") + 1
    sheet.cell(row=3, column=col).value = str(sheet.cell(row=3, column=col).value) + "（更名）"
    book.save(path)
    return target


def _bad_results(bed: Path, target: Path) -> Path:
    """A results register (CSV, Chinese headers) with three mistakes, from the drawn tasks."""
    tasks_csv = bed / "outputs/draws/2023Q1/xiongxian/internal/tasks.csv"
    with tasks_csv.open(encoding="utf-8-sig", newline="") as fh:
        tasks = list(csv.DictReader(fh))
    first, second = tasks[0], tasks[1]
    rows = [["任务编号", "统一社会信用代码", "检查日期", "检查结果", "后续处置", "涉密不予公开"],
            [first["任务编号"], first["统一社会信用代码"], "2023-02-10", "发现问题待后续处理",
             "无", "否"],
            [second["任务编号"], first["统一社会信用代码"], "2023-02-13", "未发现问题", "无", "否"],
            ["2023Q1-xiongxian-9999", second["统一社会信用代码"], "2023-02-14", "未发现问题",
             "无", "否"]]
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    return target


def _results_register(bed: Path, target: Path) -> Path:
    """A results register of two checked tasks: nothing found; a problem ordered corrected."""
    tasks_csv = bed / "outputs/draws/2023Q1/xiongxian/internal/tasks.csv"
    with tasks_csv.open(encoding="utf-8-sig", newline="") as fh:
        tasks = csv.DictReader(fh)
        first = next(tasks)
        second = next(tasks)
    rows = [["任务编号", "统一社会信用代码", "检查日期", "检查结果", "后续处置", "整改期限",
             "公示日期", "涉密不予公开"],
            [first["任务编号"], first["统一社会信用代码"], "2023-02-10", "未发现问题", "无", "",
             "2023-02-20", "否"],
            [second["任务编号"], second["统一社会信用代码"], "2023-02-13", "发现问题待后续处理",
             "责令改正", "2023-03-15", "2023-02-24", "否"]]
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", default="zh", help="language of the messages (zh or en)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    from bureau import make_bureau_registers  # the test bed of a county bureau

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANG", "LC_"))}
    env["LANG"] = "en_US.UTF-8" if args.lang == "en" else "zh_CN.UTF-8"
    env["COLUMNS"] = "100"
    with tempfile.TemporaryDirectory(prefix="dsr-guide-") as tmp:
        bed = Path(tmp)
        registers = make_bureau_registers(bed / "registers")
        reg = ("--registers", "registers")
        out = ("--outputs", "outputs")
        unit = ("--units", "xiongxian")
        _run(bed, "validate", ["validate", *reg], env)
        _run(bed, "classify", ["classify", *reg, "--format", "table"], env, max_lines=8)
        _run(bed, "quotas", ["quotas", "--quarter", "2023Q1", *reg, "--format", "table"], env)
        _run(bed, "plan-publish", ["plan", "publish", "--date", "2023-01-03", *reg, *LEDGER,
                                   *out], env)
        _run(bed, "items-publish", ["items", "publish", "--date", "2023-01-03", *reg, *out], env)
        _run(bed, "plan-show", ["plan", "show", "--year", "2023", *LEDGER], env)
        _run(bed, "commit", ["commit", "--quarter", "2023Q1", *unit, *reg, *LEDGER, *out,
                             "--date", "2023-01-16", "--seed-form", "numbers",
                             "--seed-source", SEED_SOURCE], env)
        _run(bed, "draw", ["draw", "--quarter", "2023Q1", *unit, *reg, *LEDGER, *out,
                           "--seed-material", SEED_MATERIAL], env)
        _run(bed, "verify", ["verify", *LEDGER], env)
        head = ""
        verify_text = (EXAMPLES / "verify.txt").read_text(encoding="utf-8")
        found = re.search(r"\b(\d+:[0-9a-f]{64})\b", verify_text)
        if found:
            head = found.group(1)
            _run(bed, "verify-head", ["verify", *LEDGER, "--head", head], env)
            wrong = head[:-1] + ("0" if head[-1] != "0" else "1")
            _run(bed, "verify-head-wrong", ["verify", *LEDGER, "--head", wrong], env, expect=1)
        _run(bed, "tasks", ["tasks", "--quarter", "2023Q1", "--unit", "xiongxian", *LEDGER],
             env, max_lines=8)
        record = "outputs/draws/2023Q1/xiongxian/public/record.json"
        if not (bed / record).is_file():
            print("the draw failed: " + "; ".join(UNEXPECTED), file=sys.stderr)
            return 1
        digest = hashlib.sha256((bed / record).read_bytes()).hexdigest()
        replay = (sys.executable, str(ROOT / "scripts" / "replay_draw.py"))
        _run(bed, "replay", [record, "--ledger-digest", digest], env, replay)
        _run(bed, "replay-internal", [record, "--internal",
                                      "outputs/draws/2023Q1/xiongxian/internal/internal.json"],
             env, replay)
        _run(bed, "results-template", ["results", "template", "--quarter", "2023Q1",
                                       "--unit", "xiongxian", *LEDGER], env)
        _results_register(bed, bed / "results-2023.csv")
        template = "outputs/2023Q1/results-template-xiongxian.xlsx"
        _run(bed, "results-check", ["results", "check", template, *LEDGER], env, max_lines=12)
        _bad_results(bed, bed / "results-bad.csv")
        _run(bed, "error-results", ["results", "check", "results-bad.csv", *LEDGER], env, expect=1)
        _run(bed, "render", ["render", "--quarter", "2023Q1", "--unit", "xiongxian",
                             "--report", "statistics,summary", *LEDGER, "--outputs", "outputs",
                             "--results", "results-2023.csv",
                             "--workers", "1"], env, max_lines=12)
        results = ("--results", "results-2023.csv")
        _run(bed, "followups", ["followups", *LEDGER, *results, "--unit", "雄县",
                                "--as-of", "2023-03-31"], env)
        _run(bed, "credit", ["credit", "--month", "2023-02", *LEDGER, *results, *out], env)
        _run(bed, "rollover", ["rollover", "--year", "2024", *LEDGER, *results, *out], env)
        # Refusals and errors (the troubleshooting page).
        _bad_registers(registers, bed / "registers-bad")
        _run(bed, "error-inspectors", ["validate", "--registers", "registers-bad"], env, expect=1)
        _run(bed, "error-inspectors-en", ["--lang", "en", "validate", "--registers",
                                          "registers-bad"], env, expect=1)
        _bad_uscc(registers, bed / "registers-uscc")
        _run(bed, "error-uscc", ["validate", "--registers", "registers-uscc"], env, expect=1)
        _run(bed, "error-redraw", ["draw", "--quarter", "2023Q1", *unit, *reg, *LEDGER, *out,
                                   "--seed-material", SEED_MATERIAL], env, expect=2)
        _run(bed, "error-no-commitment", ["draw", "--quarter", "2023Q2", *unit,
                                    "--registers", "registers", *LEDGER, *out,
                                    "--seed-material", SEED_MATERIAL], env, expect=2)
        _run(bed, "commit-q2", ["commit", "--quarter", "2023Q2", *unit, *reg, *LEDGER, *out,
                                "--date", "2023-04-06", "--seed-form", "numbers",
                                "--seed-source", "中国福利彩票双色球第2023040期开奖号码"], env)
        _changed_name(registers, bed / "registers-q2")
        _run(bed, "error-registers-changed", ["draw", "--quarter", "2023Q2", *unit,
                                              "--registers", "registers-q2", *LEDGER, *out,
                                              "--seed-material", SEED_MATERIAL], env, expect=2)
    if UNEXPECTED:
        print("unexpected exit status: " + "; ".join(UNEXPECTED), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
