"""Nothing invented: with a ledger, the reports read exactly the register files the quarter's
draws were made on (``dsr_analysis.draw.binding``), checked by their SHA-256 before any
notebook starts - a county bureau's own registers (``tests/bureau.py``), real ledgers, real
``dsr`` commands."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dsr_analysis import reports, results
from dsr_analysis.cli import main
from dsr_analysis.draw.binding import committed_registers
from dsr_analysis.draw.ledger import entries
from dsr_analysis.errors import RegisterError
from dsr_analysis.paths import PROJECT_ROOT, SAMPLE_REGISTERS
from dsr_analysis.workcalendar import WorkCalendar


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def results_file(tasks: pd.DataFrame, path: Path) -> Path:
    return results.write_results(results.sample_results(tasks, WorkCalendar()), path)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """雄县 2023Q1 committed and drawn on its own registers, with a results register; this
    module may change its register files (each test restores them)."""
    from bureau import draw_bureau_quarter

    root = tmp_path_factory.mktemp("binding")
    quarter = draw_bureau_quarter(root)
    return quarter, results_file(quarter.tasks, root / "results.csv")


def inputs(quarter, results_path, registers: Path | str = ""):
    return reports.load_report_inputs(quarter.quarter, ledger=str(quarter.ledger),
                                      results=str(results_path), registers=str(registers or ""))


def excel_rows(path: Path) -> int:
    """Data rows of the bureau's enterprise register (a title row, then the headers)."""
    ws = openpyxl.load_workbook(path, read_only=True).active
    return sum(1 for row in ws.iter_rows(min_row=3, values_only=True) if any(row))


def test_without_registers_the_committed_ones_are_read(drawn):
    quarter, res = drawn
    got = inputs(quarter, res)
    assert Path(got.registers.sources["enterprises"]) == quarter.registers / "enterprises.xlsx"
    assert len(got.registers.enterprises) == excel_rows(quarter.registers / "enterprises.xlsx")
    assert len(got.registers.inspectors) == 18 and not got.demo


def test_the_same_bytes_elsewhere_are_accepted(drawn, tmp_path):
    quarter, res = drawn
    copy = shutil.copytree(quarter.registers, tmp_path / "copy")
    got = inputs(quarter, res, copy)
    assert Path(got.registers.sources["inspectors"]) == copy / "inspectors.csv"


def test_other_registers_are_refused_naming_file_digests_and_entry(drawn):
    quarter, res = drawn
    draw_entry = entries(quarter.ledger)[-1]
    committed = draw_entry.record["inputs"]["registers"]["files"]
    with pytest.raises(RegisterError) as info:
        inputs(quarter, res, SAMPLE_REGISTERS)
    text = str(info.value)
    for name in ("inspectors", "items"):
        path = SAMPLE_REGISTERS / f"{name}.csv"
        line = next(x for x in text.splitlines() if x.startswith(f"{path}:"))
        assert sha256(path) in line and committed[name]["sha256"] in line
        assert f"ledger entry #{draw_entry.seq} (draw of 2023Q1, units xiongxian, under " \
               "commitment #1)" in line
    # the sample has no enterprises.xlsx: named as missing, with the committed digest
    assert f"{SAMPLE_REGISTERS / 'enterprises.xlsx'}:0:-: register file not found" in text
    assert f"the committed register directory is {quarter.registers}" in text
    assert "experts.csv" not in text  # the same bytes as the committed file: no problem


def test_a_changed_register_is_refused_by_render_before_any_notebook(drawn, tmp_path, capsys):
    quarter, res = drawn
    copy = shutil.copytree(quarter.registers, tmp_path / "changed")
    people = pd.read_csv(copy / "inspectors.csv", dtype=str, keep_default_na=False,
                         encoding="gb18030")
    people.iloc[0, 1] = people.iloc[0, 1] + "某"  # one name, as someone editing it would
    people.to_csv(copy / "inspectors.csv", index=False, encoding="gb18030")
    committed = entries(quarter.ledger)[-1].record["inputs"]["registers"]["files"]
    out = tmp_path / "out"
    assert main(["render", "--quarter", "2023Q1", "--unit", "xiongxian", "--report",
                 "statistics", "--registers", str(copy), "--ledger", str(quarter.ledger),
                 "--results", str(res), "--outputs", str(out)]) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "inspectors.csv" in x)
    assert line.startswith(f"{copy / 'inspectors.csv'}:0:")
    assert sha256(copy / "inspectors.csv") in line
    assert committed["inspectors"]["sha256"] in line and "commitment #1" in line
    assert "enterprises" not in err and "nothing was written" in err
    assert not [p for p in out.rglob("*") if p.suffix in (".ipynb", ".html", ".xlsx", ".pdf")]


def test_a_committed_directory_changed_since_is_refused_and_says_what_to_pass(drawn, tmp_path,
                                                                             capsys):
    quarter, res = drawn
    pristine = shutil.copytree(quarter.registers, tmp_path / "pristine")
    target = quarter.registers / "items.csv"
    try:
        target.write_bytes(target.read_bytes() + b"\n")  # one byte more: nothing else differs
        with pytest.raises(RegisterError, match="no longer holds the files") as info:
            inputs(quarter, res)
        assert f"{target}:0:-: not the register file" in str(info.value)
        assert "--registers DIR" in str(info.value)
        assert main(["render", "--quarter", "2023Q1", "--unit", "xiongxian", "--report",
                     "statistics", "--ledger", str(quarter.ledger), "--results", str(res),
                     "--outputs", str(tmp_path / "out")]) == 1
        assert "pass the directory that holds them" in capsys.readouterr().err
        # the files the draw was made on, kept elsewhere, are accepted
        got = inputs(quarter, res, pristine)
        assert Path(got.registers.sources["items"]) == pristine / "items.csv"
    finally:
        shutil.copy(pristine / "items.csv", target)


def test_a_real_render_without_registers_counts_the_bureaus_register(drawn, tmp_path):
    """The issue's case: `dsr render --ledger L --results R` without --registers reported
    the embedded sample's 1,050 firms and 34 inspectors beside the bureau's real draw."""
    quarter, res = drawn
    out = tmp_path / "out"
    assert main(["render", "--quarter", "2023Q1", "--unit", "xiongxian", "--report",
                 "statistics", "--ledger", str(quarter.ledger), "--results", str(res),
                 "--outputs", str(out), "--workers", "1"]) == 0
    ws = openpyxl.load_workbook(out / "2023Q1" / "statistics-xiongxian.xlsx").active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = next(r for r in rows if r and r[1] == "合计")
    row = next(r for r in rows if r and r[0] == "雄县")
    assert row[1] == excel_rows(quarter.registers / "enterprises.xlsx")
    assert row[header.index("在岗\n持证")] == 18  # the header broken between words
    text = " ".join(str(c) for r in rows for c in r if c is not None)
    assert "演示数据" not in text


def test_each_quarter_is_bound_to_the_registers_of_its_own_draw(tmp_path):
    """Registers change between quarters (here an expert's name): 2023Q1 is rendered on the
    files of its draw, 2023Q2 on the files of its own, a quarter not drawn yet on the latest
    draw before it - and a change to Q1's files after Q2 was drawn refuses Q1 only."""
    from bureau import draw_bureau_quarter

    quarter = draw_bureau_quarter(tmp_path / "bureau")
    second = shutil.copytree(quarter.registers, tmp_path / "q2")
    experts = pd.read_csv(second / "experts.csv", dtype=str, keep_default_na=False)
    experts.loc[0, "name"] = experts.loc[0, "name"] + "（已更名）"
    experts.to_csv(second / "experts.csv", index=False)
    base = ["--registers", str(second), "--quarter", "2023Q2", "--units", "xiongxian",
            "--ledger", str(quarter.ledger), "--outputs", str(quarter.outputs)]
    assert main(["commit", *base, "--seed-source", "第2023040期开奖号码"]) == 0
    assert main(["draw", *base, "--seed-material", "1 2 3 4 5 6 / 7"]) == 0
    assert committed_registers(quarter.ledger, "2023Q1").directory == quarter.registers
    assert committed_registers(quarter.ledger, "2023Q2").directory == second
    assert committed_registers(quarter.ledger, "2023Q3").directory == second
    (quarter.registers / "experts.csv").write_bytes(b"expert_id,name\n")
    with pytest.raises(RegisterError, match="experts.csv"):
        committed_registers(quarter.ledger, "2023Q1")
    assert committed_registers(quarter.ledger, "2023Q2").entry.quarter == "2023Q2"


def test_a_directory_inside_the_project_is_stored_relative_and_found_from_anywhere(
        tmp_path, monkeypatch):
    ledger, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    base = ["--quarter", "2023Q1", "--units", "anxin", "--ledger", str(ledger),
            "--outputs", str(out)]  # no --registers: the embedded sample
    assert main(["commit", *base, "--seed-source", "s"]) == 0
    assert main(["draw", *base, "--seed-material", "m"]) == 0
    stored = entries(ledger)[-1].record["inputs"]["registers"]["directory"]
    assert stored == SAMPLE_REGISTERS.relative_to(PROJECT_ROOT).as_posix()
    monkeypatch.chdir(tmp_path)  # resolved against the project, not the working directory
    assert committed_registers(ledger, "2023Q1").directory == SAMPLE_REGISTERS


def test_a_ledger_with_only_a_commitment_needs_the_registers_named(tmp_path, bureau_quarter):
    ledger, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    base = ["--registers", str(bureau_quarter.registers), "--quarter", "2023Q1", "--units",
            "xiongxian", "--ledger", str(ledger), "--outputs", str(out)]
    assert main(["commit", *base, "--seed-source", "s"]) == 0
    with pytest.raises(RegisterError, match=r"entry #1 \(commitment of 2023Q1.*pass the "
                                            r"register directory it was made on"):
        committed_registers(ledger, "2023Q1")
    assert committed_registers(ledger, "2023Q1", bureau_quarter.registers).entry.seq == 1
    with pytest.raises(RegisterError, match="inspectors.csv"):
        committed_registers(ledger, "2023Q1", SAMPLE_REGISTERS)
    with pytest.raises(RegisterError, match="no draw or commitment of 2023Q2"):
        committed_registers(ledger, "2023Q2")


def test_the_planning_and_simulation_notebooks_say_which_register_they_run_on(tmp_path):
    import json

    from dsr_analysis.draw.binding import register_line
    from dsr_analysis.simulation import scenarios

    assert register_line("") == "名录库：样本数据（演示）"
    assert register_line(tmp_path) == f"名录库：{tmp_path.resolve()}"
    assert scenarios.register_label(scenarios.load_scenario("baseline-2023")) == \
        "名录库：样本数据（演示）"
    for name in ("quotas", "coverage", "deterrence"):  # their committed default runs
        nb = json.loads((PROJECT_ROOT / "notebooks" / f"{name}.ipynb").read_text("utf-8"))
        printed = "".join("".join(o.get("text", "")) for c in nb["cells"]
                          for o in c.get("outputs", []))
        assert "名录库：样本数据（演示）" in printed, name


def test_the_planner_says_which_register_its_plans_count_on(bureau_quarter, tmp_path):
    from dsr_analysis.planner.app import build_planner

    for registers, shown, full in (
            ("", "名录库：样本数据（演示）", "名录库：样本数据（演示）"),
            (str(bureau_quarter.registers), "名录库：registers",
             f"名录库：{bureau_quarter.registers.resolve()}")):
        app = build_planner(registers=registers, save_dir=str(tmp_path))
        header = app.widget.children[0].children[0].value
        assert f'title="{full}">{shown}</small>' in header


def test_a_register_path_that_is_missing_or_a_file_is_refused_with_its_exit_code(drawn, tmp_path,
                                                                               capsys):
    quarter, res = drawn
    a_file = tmp_path / "registers.csv"
    a_file.write_text("uscc\n", encoding="utf-8")
    base = ["render", "--quarter", "2023Q1", "--unit", "xiongxian", "--report", "statistics",
            "--ledger", str(quarter.ledger), "--results", str(res), "--outputs",
            str(tmp_path / "out")]
    for path, code, words in ((tmp_path / "none", 2, "no such register directory"),
                              (a_file, 3, "a file where the register directory belongs")):
        assert main([*base, "--registers", str(path)]) == code
        err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
        assert len(err) == 1 and err[0].startswith(f"error: {path}: {words}"), err
    assert not (tmp_path / "out").exists()
