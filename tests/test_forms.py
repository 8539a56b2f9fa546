"""The statistics table as a statistical form and the monthly results notice as a public
notice, checked on real renders (PDF through WeasyPrint, XLSX through openpyxl) of the
sample's 2023Q1 report inputs: the form's marks and signature lines, the smallest printed
font size (from the PDF's character positions), header lines broken only between words, the
page filled, the XLSX print scale; the notice's codes and dates whole, its closing lines,
seal place and the ledger head in short with the full value in a note."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import pdfplumber
import pytest
from openpyxl import load_workbook

from dsr_analysis import official, reports
from dsr_analysis.documents import layout, write_pdf, write_xlsx
from dsr_analysis.documents.xlsx import BODY_SIZE
from dsr_analysis.policy import Documents, StatisticsForm, UnitDocuments

HEAD = "12:" + "0123456789abcdef" * 4  # a ledger head: 12 entries, a 64-hex hash
MIN_PT = 7.0


@pytest.fixture(scope="module")
def q1():
    """The sample's 2023Q1 inputs under a policy without a ``documents`` section."""
    inputs = reports.load_report_inputs("2023Q1")
    return dataclasses.replace(inputs, policy=dataclasses.replace(inputs.policy, documents=None))


@pytest.fixture(scope="module")
def forms(q1, tmp_path_factory):
    """The area level's statistics table, a county's, and a county's March notice (from a
    ledger), each written as PDF and XLSX."""
    out = tmp_path_factory.mktemp("forms")
    real = dataclasses.replace(q1, ledger_head=HEAD)
    docs = {"area": official.statistics_document(q1, "xiongan"),
            "county": official.statistics_document(q1, "xiongxian"),
            "notice": official.notice_document(real, "rongcheng", 2023, 3)}
    files = {}
    for name, doc in docs.items():
        files[name] = (doc, write_pdf(doc, out / f"{name}.pdf"),
                       write_xlsx(doc, out / f"{name}.xlsx"))
    return files


def _text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _cells(xlsx) -> list[str]:
    ws = load_workbook(xlsx).active
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


# --------------------------------------------------------------------------------------
# Statistics form
# --------------------------------------------------------------------------------------
def test_statistics_form_marks_and_signatures_blank_where_not_configured(forms, q1):
    doc, pdf, xlsx = forms["area"]
    text, cells = _text(pdf), _cells(xlsx)
    area = q1.policy.authority("xiongan")
    assert f"制表机关：{area}" in cells  # the area level's bureau draws up the form
    for label in ("表号", "批准（备案）机关", "批准（备案）文号", "有效期限"):
        assert f"{label}：{layout.MARK_BLANK}" in cells  # a blank to fill in, nothing invented
        assert f"{label}：" in text
    for label in ("单位负责人", "统计负责人", "填表人", "联系电话"):
        assert any(c.startswith(f"{label}：") for c in cells)
        assert f"{label}：" in text
    assert "报出日期：2023年4月6日" in cells and "报出日期：2023年4月6日" in text
    assert "填报单位（盖章）：" in text


def test_statistics_form_marks_come_from_the_policy(q1, tmp_path):
    form = StatisticsForm(table_number="雄环统1表", approval_authority="雄安新区统计局",
                          approval_number="雄统函〔2023〕5号", valid_until="2025年12月")
    pol = dataclasses.replace(q1.policy, documents=Documents(statistics_form=form))
    doc = official.statistics_document(dataclasses.replace(q1, policy=pol), "xiongxian")
    assert dict(doc.marks) == {"表号": "雄环统1表", "制表机关": q1.policy.authority("xiongan"),
                               "批准（备案）机关": "雄安新区统计局",
                               "批准（备案）文号": "雄统函〔2023〕5号", "有效期限": "2025年12月"}
    text = _text(write_pdf(doc, tmp_path / "s.pdf"))
    for line in ("表号：雄环统1表", "批准（备案）文号：雄统函〔2023〕5号", "有效期限：2025年12月"):
        assert line in text
    assert layout.MARK_BLANK not in "".join(layout.mark_items(doc))


def _sizes(pdf) -> list[float]:
    with pdfplumber.open(pdf) as book:
        return [ch["size"] for page in book.pages for ch in page.chars]


@pytest.mark.parametrize("name", ["area", "county", "notice"])
def test_no_text_under_7pt(forms, name):
    sizes = _sizes(forms[name][1])
    assert sizes and min(sizes) >= MIN_PT, (name, min(sizes))


def _header_words(pdf) -> list[str]:
    """The words of the statistics table's header as printed: characters in the band between
    the first header cell (单位) and the first body row, joined when they touch."""
    with pdfplumber.open(pdf) as book:
        page = book.pages[0]
        words = page.extract_words(x_tolerance=0.5, y_tolerance=1, use_text_flow=False)
        unit = next(w for w in words if w["text"] == "单位")
        first = min(w["top"] for w in words if w["text"] in ("新区本级", "雄县")
                    and w["top"] > unit["top"])
        top = min(w["top"] for w in words if abs(w["x0"] - unit["x0"]) > 5
                  and unit["top"] - 40 < w["top"] < unit["top"])  # the group row
        return [w["text"] for w in words if top - 1 <= w["top"] < first - 1]


@pytest.mark.parametrize("name", ["area", "county"])
def test_statistics_headers_break_only_between_words(forms, name):
    doc, pdf, _ = forms[name]
    pieces = {p for x in official.STATISTICS_HEADER_LINES for p in x.split("|")}
    lines = dict(doc.table.header_lines)
    labels = {x for c in doc.table.frame.columns for x in c}
    whole = {x for x in labels if x not in lines}  # labels printed on one line
    words = _header_words(pdf)
    assert len(words) >= len(doc.table.frame.columns)
    broken = [w for w in words if w not in pieces | whole]
    assert not broken, broken
    assert {"移送", "司法", "机关", "停业", "合计"} <= set(words)


@pytest.mark.parametrize("name", ["area", "county"])
def test_statistics_page_is_filled(forms, name):
    """The content reaches below 60 % of the page (not a strip of table at the top)."""
    with pdfplumber.open(forms[name][1]) as book:
        page = book.pages[0]
        margin = layout.TABLE_PAGE_MARGIN_MM / layout.MM_PER_PT  # the page number below it
        bottom = max(ch["bottom"] for ch in page.chars if ch["bottom"] < page.height - margin)
        assert bottom / page.height >= 0.6, bottom / page.height


def test_statistics_xlsx_prints_legibly(forms):
    doc, _, xlsx = forms["area"]
    ws = load_workbook(xlsx).active
    assert BODY_SIZE * ws.page_setup.scale / 100 >= MIN_PT  # printed at 7 pt or more
    header = [c.value for row in ws.iter_rows() for c in row if c.value == "移送\n司法\n机关"]
    assert header  # broken between words, as in the PDF
    row = next(r for r in ws.iter_rows() if r[0].value == "新区本级")
    assert ws.row_dimensions[row[0].row].height >= doc.row_height_mm / layout.MM_PER_PT - 1
    assert ws.max_column == 1 + len(reports.STATISTICS_COLUMNS)


# --------------------------------------------------------------------------------------
# Results notice
# --------------------------------------------------------------------------------------
def test_notice_codes_and_dates_never_wrap(forms):
    doc, pdf, xlsx = forms["notice"]
    ws = load_workbook(xlsx).active
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "序号")
    col = {name.replace("\n", ""): j for j, name in enumerate(header)}  # headers on 2 lines
    rows = [r for r in ws.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(doc.table.frame) > 30
    text = _text(pdf)
    words = set(text.split())
    ending_in_letter = [r[col["统一社会信用代码"]] for r in rows
                        if r[col["统一社会信用代码"]][-1].isalpha()]
    assert ending_in_letter  # the case that wrapped ("…188437 / C")
    for r in rows:
        for name in ("统一社会信用代码", "任务编号", "检查日期", "公示日期"):
            assert r[col[name]] in words, (name, r[col[name]])


def test_notice_ends_with_contact_lines_issuer_date_and_seal_place(forms, q1):
    doc, pdf, xlsx = forms["notice"]
    text = _text(pdf)
    last = text.split("\f")[-2] if "\f" in text else text  # the last page
    assert "联系人及联系电话：" in last and "异议、监督电话：" in last
    assert layout.SEAL_LABEL in last
    tail = last[last.index(layout.SEAL_LABEL):]
    assert q1.policy.authority("rongcheng") in tail and "2023年3月31日" in tail
    cells = _cells(xlsx)
    assert f"{q1.policy.authority('rongcheng')}（盖章）" in cells and "2023年3月31日" in cells
    assert f"异议、监督电话：{layout.MARK_BLANK}" in cells


def test_notice_contact_lines_from_the_policy(q1):
    unit = UnitDocuments(contact="联系人：张某，联系电话：0312-5812345",
                         objection="如对公示内容有异议，请拨打监督电话：0312-5812000")
    pol = dataclasses.replace(q1.policy, documents=Documents(units={"rongcheng": unit}))
    doc = official.notice_document(dataclasses.replace(q1, policy=pol), "rongcheng", 2023, 3)
    assert unit.contact in doc.statements and unit.objection in doc.statements
    assert not any(layout.MARK_BLANK in s for s in doc.statements)
    other = official.notice_document(dataclasses.replace(q1, policy=pol), "anxin", 2023, 3)
    assert f"联系人及联系电话：{layout.MARK_BLANK}" in other.statements


def test_notice_prints_the_ledger_head_short_with_the_full_value_in_a_note(forms):
    doc, pdf, xlsx = forms["notice"]
    n, full = HEAD.split(":")
    short = [s for s in doc.statements if s.startswith("抽取记录账本：")]
    assert len(short) == 1 and f"共登记 {n} 条" in short[0]
    assert f"{full[:16]}…" in short[0] and full not in short[0]
    notes = layout.table_document_notes(doc)
    number = re.search(r"完整值见注(\d*)", short[0]).group(1)
    cited = notes[int(number) - 1] if number else notes[0]  # the note the statement cites
    assert full in cited and (not number or f"{number}. " in cited)
    assert full in _text(pdf)  # whole, on one line
    assert sum(full in c for c in _cells(xlsx)) == 1


def test_notice_xlsx_keeps_codes_and_dates_on_one_line(forms):
    doc, _, xlsx = forms["notice"]
    ws = load_workbook(xlsx).active
    header = next(r for r in ws.iter_rows() if r[0].value == "序号")
    first = header[0].row + 1
    assert "统一社会\n信用代码" in [c.value for c in header]  # broken between words
    for cell in header:
        body = ws.cell(first, cell.column)
        if cell.value.replace("\n", "") in ("任务编号", "统一社会信用代码", "检查日期", "公示日期"):
            assert not body.alignment.wrap_text, cell.value
        elif cell.value in ("抽查事项", "检查对象"):
            assert body.alignment.wrap_text, cell.value


def test_statistics_xlsx_marks_at_the_upper_right(forms):
    _, _, xlsx = forms["area"]
    ws = load_workbook(xlsx).active
    marks = [c for row in ws.iter_rows(max_row=8) for c in row
             if isinstance(c.value, str) and c.value.startswith(("表号：", "有效期限："))]
    filing = next(c for row in ws.iter_rows(max_row=8) for c in row
                  if isinstance(c.value, str) and c.value.startswith("填报单位（盖章）："))
    assert len(marks) == 2 and all(c.column > ws.max_column / 2 for c in marks)
    assert filing.column == 1 and marks[0].row < filing.row


def test_spread_widths_gives_the_room_left_to_wrapping_columns_first():
    # three columns of 4, 6 and 2 em; the second wants 10 em unwrapped: 3 em of room all
    # go to it, 6 em of room fill it (4 em) and leave the rest unspread
    assert layout.spread_widths([4, 6, 2], [4, 10, 2], 15) == [4, 9, 2]
    assert layout.spread_widths([4, 6, 2], [4, 10, 2], 18) == [4, 10, 2]
    assert layout.spread_widths([4, 6, 2], [4, 10, 2], 10) == [4, 6, 2]  # no room: as is
