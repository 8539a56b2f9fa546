"""Nothing a spreadsheet would run reaches a CSV output (OWASP CSV injection rule)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dsr_analysis.export import BOM, csv_text, neutralise, write_csv

HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1", "普通企业", "a=b"]


def test_text_that_starts_a_formula_gets_an_apostrophe():
    assert [neutralise(v) for v in HOSTILE] == [
        "'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)", "'\t=1", "'\r=1", "普通企业", "a=b"]
    assert neutralise(-3) == -3 and neutralise(-2.5) == -2.5  # numbers stay numbers


def test_csv_outputs_hold_no_live_formula(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE, "n": range(-4, 4)})
    path = write_csv(frame, tmp_path / "out.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    assert text.startswith(BOM)  # a Chinese Excel reads it as UTF-8
    text = text[len(BOM):]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(HOSTILE)  # a CR inside a name never splits a row
    cells = [c for row in rows[1:] for c in row[:1]]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(-4, 4)]  # negative numbers kept
    assert csv_text(frame) == text
    assert not [p for p in tmp_path.iterdir() if p.name != "out.csv"]  # no temporary left


def test_task_list_csv_neutralises_hostile_names():
    from dsr_analysis.export import safe_frame

    tasks = pd.DataFrame({"检查对象": HOSTILE})
    out = safe_frame(tasks)
    assert out["检查对象"].tolist()[:4] == ["'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(1)"]
