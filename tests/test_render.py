"""Batch rendering: parameter validation before anything runs, a real papermill run of one
report to HTML (no code), an official-layout XLSX and its PDF, the index page, failures
named."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from dsr_analysis import reports
from dsr_analysis.errors import ParameterError
from dsr_analysis.render import (
    REPORTS,
    RenderError,
    RenderJob,
    declared_parameters,
    plan_jobs,
    render,
    run_job,
    validate_parameters,
)


def test_every_report_declares_the_same_typed_parameters():
    common = ["quarter", "unit", "policy", "registers", "ledger", "results", "followups",
              "deliveries", "output_dir", "prepared"]
    own = {"statistics": ["as_of"], "notice": ["month"], "summary": ["numbers"],
           "evaluation": ["numbers"]}
    for spec in REPORTS.values():
        declared = declared_parameters(spec.notebook)
        assert list(declared) == common + own.get(spec.name, []), spec.name
        assert {d["inferred_type_name"] for d in declared.values()} == {"str"}


def test_unknown_parameter_is_an_error_not_a_warning():
    with pytest.raises(ParameterError, match=r"report 'statistics' \(statistics\.ipynb\): unknown "
                                             r"parameter 'leger' \(declared: quarter, unit, "):
        validate_parameters("statistics", {"quarter": "2023Q1", "leger": "x.sqlite"})


def test_mistyped_parameter_is_an_error():
    with pytest.raises(ParameterError, match=r"parameter 'quarter' must be str, got int 20231"):
        validate_parameters("summary", {"quarter": 20231})


def test_validation_happens_before_anything_runs(tmp_path):
    with pytest.raises(ParameterError, match="unknown parameter 'seed'"):
        render("2023Q1", "all", "all", tmp_path, {"seed": "1"})
    assert not any(tmp_path.iterdir())      # nothing executed, nothing written
    with pytest.raises(ParameterError, match=r"unknown report 'stats' \(valid: all, statistics"):
        plan_jobs("2023Q1", reports="stats", out_root=tmp_path)
    with pytest.raises(ParameterError, match=r"unknown unit 'baoding'"):
        plan_jobs("2023Q1", units="baoding", out_root=tmp_path)


def test_unparsable_parameters_line_is_named(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell('quarter: str = "2023Q1"  # e.g. 2023Q1\n'
                                     'ledger: str = ""  # empty = none')
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    path = tmp_path / "p.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(ParameterError, match=r"line 'ledger: str = \"\"  # empty = none' cannot be "
                                             r"parsed by papermill"):
        declared_parameters(path)


def test_evaluation_only_for_the_area_level(tmp_path):
    jobs = plan_jobs("2023Q2", reports=["evaluation", "notice"], out_root=tmp_path)
    assert [(j.report, j.unit) for j in jobs] == [
        ("evaluation", "xiongan"), ("notice", "xiongan"), ("notice", "xiongxian"),
        ("notice", "rongcheng"), ("notice", "anxin")]
    assert jobs[0].parameters["output_dir"] == str(tmp_path / "2023Q2")


def test_render_one_report_html_xlsx_pdf_index(tmp_path, monkeypatch):
    # an output folder given relative to the working directory (the notebooks run elsewhere)
    monkeypatch.chdir(tmp_path)
    summary = render("2023Q1", ["rongcheng"], ["statistics"], Path("out"), workers=1)
    out = tmp_path / "out" / "2023Q1"
    (done,) = summary.rendered
    html = done.html.read_text(encoding="utf-8")
    assert "2023年第一季度“双随机、一公开”监管工作统计表" in html
    assert "容城县生态环境局" in html                    # the filing unit's official name
    assert "load_report_inputs" not in html and "import pandas" not in html   # no code cells
    assert "完成抽查合计" not in html                   # the reviewers' check cell is left out
    assert 'lang="zh-CN"' in html and "@page" in html   # prints within A4
    assert "<img" in html                     # the figure
    # The executed notebook keeps its outputs; the numbers equal the package's figures as of
    # the table's deadline (its 数据截止日期).
    inputs = reports.load_report_inputs("2023Q1")
    expected = reports.statistics_table(inputs, ["rongcheng"],
                                        as_of=reports.statistics_as_of(inputs)).iloc[0]
    nb = json.loads(done.notebook.read_text(encoding="utf-8"))
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert f"完成抽查合计 [{int(expected['checks_total'])}]" in printed
    # XLSX in the layout of an official table, and its PDF.
    assert sorted(f.name for f in done.files) == ["statistics-rongcheng.pdf",
                                                  "statistics-rongcheng.xlsx"]
    ws = load_workbook(out / "statistics-rongcheng.xlsx").active
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert any(str(v).startswith("2023年第一季度“双随机、一公开”监管工作统计表") for v in cells)
    assert "检查对象（户）" in cells and "容城县" in cells
    row = cells["容城县"].row
    values = [ws.cell(row, j).value for j in range(1, ws.max_column + 1)]
    assert values[1] == int(expected["objects_total"])
    share = next(ws.cell(row, j) for j in range(1, ws.max_column + 1)
                 if ws.cell(row, j).number_format.endswith("%"))
    assert isinstance(share.value, (int, float)) and 0 <= share.value <= 1  # a number, % format
    assert ws.max_column == 1 + len(reports.STATISTICS_COLUMNS)
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in ("statistics-rongcheng.html", "statistics-rongcheng.xlsx",
                 "statistics-rongcheng.pdf"):
        assert f"href='{name}'" in index
    assert "R9" not in index and "dsr render" not in index
    assert summary.index == out / "index.html"


def test_failing_notebook_names_report_unit_and_cell(tmp_path):
    params = {"quarter": "2023Q1", "unit": "anxin", "policy": "xiongan-2023",
              "registers": str(tmp_path / "no-such-dir"), "output_dir": str(tmp_path)}
    job = RenderJob("notice", "anxin", "2023Q1", params, tmp_path)
    with pytest.raises(RenderError, match=r"(?s)report 'notice', unit 'anxin', 2023Q1: failed in cell "
                                          r"\d+ \(execution \d+: 'import pandas as pd'\): "
                                          r"(RegisterError|ParameterError): .*no-such-dir.*"
                                          r"partial notebook kept for inspection: .*"
                                          r"failed/notice-anxin\.ipynb"):
        run_job(job)
    assert (tmp_path / "failed" / "notice-anxin.ipynb").is_file()  # not beside the documents
    assert not (tmp_path / "notice-anxin.ipynb").exists()


def test_parallel_workers_start_their_own_kernels(tmp_path):
    """Two workers rendering at once must not share kernel sockets (a real parallel run)."""
    summary = render("2023Q1", ["rongcheng", "anxin", "xiongxian", "xiongan"], ["notice"],
                     tmp_path, workers=2)
    assert summary.workers == 2  # render() raises RenderError if any kernel failed
    assert sorted(r.job.unit for r in summary.rendered) == ["anxin", "rongcheng", "xiongan",
                                                             "xiongxian"]
    for done in summary.rendered:
        assert done.html.exists()


def _table_xlsx(path, title, frame, unit="雄县生态环境局", note=""):
    import datetime as dt

    from dsr_analysis.documents import Table, TableDocument, write_xlsx

    return write_xlsx(TableDocument(title, Table(frame, note=note), unit, dt.date(2023, 4, 3)),
                      path)


def test_xlsx_cells_that_look_like_formulas_stay_text(tmp_path):
    """Names such as '=1+1', '+cmd', '-2+3' or '@SUM(1)' are written as text, never as a
    live formula (every XLSX is written by dsr_analysis.documents)."""
    import zipfile

    hostile = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "普通企业"]
    frame = pd.DataFrame({"检查对象": hostile, "数量": [1, 2, 3, 4, 5]})
    path = _table_xlsx(tmp_path / "t.xlsx", "=标题", frame, unit="@单位", note="=备注")
    ws = load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert set(hostile) <= texts
    # the raw XML holds no <f> element at all
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet


def test_official_tables_print_on_a4_landscape_one_page_wide(tmp_path):
    from openpyxl import load_workbook

    frame = pd.DataFrame({"单位": ["雄县"] * 80, "数量": range(80)})
    ws = load_workbook(_table_xlsx(tmp_path / "t.xlsx", "标题", frame)).active
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$3"  # title, filing line, header on every page
