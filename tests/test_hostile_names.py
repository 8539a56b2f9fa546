"""Hostile names in a register (formula starters, markup) reach no output as live content:
the task list (CSV, XLSX), the notices (XLSX, PDF, HTML) - a real draw and a real render."""

from __future__ import annotations

import csv

import zipfile

import pandas as pd
from conftest import read_raw, write_raw
from openpyxl import load_workbook

from dsr_analysis.cli import main
from dsr_analysis.draw.ledger import load_draw_tasks
from dsr_analysis.policy import load_policy
from dsr_analysis.results import write_results
from dsr_analysis.workflows import demo_results

HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "<img src=x onerror=alert(1)>"]


def test_hostile_names_never_become_live_content(tmp_path, sample_dir):
    frame = read_raw(sample_dir, "enterprises")
    # positive-list general objects of 雄县 are covered off-site every quarter: always drawn
    rows = frame.index[(frame["unit"] == "xiongxian") & (frame["positive_list"] == "true")
                       & (frame["credit_class"] != "D")][:len(HOSTILE)]
    frame.loc[rows, "name"] = HOSTILE
    write_raw(sample_dir, "enterprises", frame)
    led, draws, out = tmp_path / "ledger.sqlite", tmp_path / "draws", tmp_path / "out"
    base = ["--registers", str(sample_dir), "--quarter", "2023Q1", "--ledger", str(led),
            "--outputs", str(draws), "--units", "xiongxian"]  # the county the names are in
    assert main(["commit", *base, "--seed-source", "s"]) == 0
    assert main(["draw", *base, "--seed-material", "m"]) == 0
    (tasks_csv,) = draws.rglob("internal/tasks.csv")
    with open(tasks_csv, encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert {"'" + h for h in HOSTILE[:4]} <= set(cells)        # neutralised, still readable
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    assert main(["tasks", "--quarter", "2023Q1", "--unit", "xiongxian", "--ledger", str(led),
                 "--outputs", str(draws)]) == 0  # the printable task list and task sheets
    assert list(draws.rglob("task-list.xlsx"))
    for xlsx in draws.rglob("*.xlsx"):
        with zipfile.ZipFile(xlsx) as z:
            assert b"<f>" not in z.read("xl/worksheets/sheet1.xml"), xlsx
        texts = {c.value for row in load_workbook(xlsx).active.iter_rows() for c in row}
        assert set(HOSTILE) & texts, xlsx  # the names themselves, as text
    demo = demo_results(load_policy(), led, tmp_path / "res")
    # the hostile firms' results published in March (the sample may publish one in April)
    results_csv = write_results(demo.results, tmp_path / "res" / "results.csv")
    res = pd.read_csv(results_csv, dtype=str, keep_default_na=False)
    tasks = load_draw_tasks(led).set_index("task_id")
    hostile = res["task_id"].map(tasks["enterprise_name"]).isin(HOSTILE) \
        & (res["confidential"] == "false")
    res.loc[hostile, "date_published"] = "2023-03-31"
    res.to_csv(results_csv, index=False, encoding="utf-8-sig")
    assert main(["render", "--quarter", "2023Q1", "--unit", "xiongxian", "--report", "notice",
                 "--registers", str(sample_dir), "--ledger", str(led),
                 "--results", str(results_csv), "--outputs", str(out)]) == 0
    folder = out / "2023Q1"
    names = set()
    for xlsx in folder.glob("notice-xiongxian-*.xlsx"):
        ws = load_workbook(xlsx).active
        assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        names |= {c.value for row in ws.iter_rows() for c in row}
    assert set(HOSTILE) & names                                # published as plain text
    page = (folder / "notice-xiongxian.html").read_text(encoding="utf-8")
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in index

