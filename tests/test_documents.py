"""The writers of official documents: real DOCX, PDF, XLSX and HTML files, read back with
python-docx, openpyxl and poppler (pdfinfo, pdffonts, pdftotext, pdftoppm)."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import struct
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from dsr_analysis.documents import (  # noqa: E402
    DocumentError,
    Figure,
    Heading,
    OfficialDocument,
    Paragraph,
    Table,
    TableDocument,
    to_html,
    write_docx,
    write_forms,
    write_xlsx,
)
from dsr_analysis.documents.layout import write_atomically  # noqa: E402
from dsr_analysis.plotting import use_cjk_font  # noqa: E402

POPPLER = all(shutil.which(t) for t in ("pdfinfo", "pdffonts", "pdftotext", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils missing (make sysdeps)")
DATE = dt.date(2023, 4, 6)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _figure_png() -> bytes:
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(5, 2.5), dpi=100)
    ax.bar(["1月", "2月", "3月"], [3, 5, 4])
    ax.set_ylabel("户次")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _official(demo: bool) -> OfficialDocument:
    frame = pd.DataFrame({
        ("单位", "单位"): ["雄县生态环境局", "容城县生态环境局", "=1+1"],
        ("抽查户次", "计划"): [12, 8, 5],
        ("抽查户次", "完成"): [11.0, 8.0, np.nan],
        ("抽查户次", "完成率"): [11 / 12, 1.0, np.nan],
    })
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return OfficialDocument(
        title="雄县生态环境局2023年第一季度“双随机、一公开”监管工作总结",
        issuer="雄县生态环境局", date=DATE,
        blocks=(
            Heading("一、抽查任务完成情况"),
            Paragraph("本季度共抽查排污单位31户次。<b>不是标签</b>"),
            Table(frame, title="表1 各县抽查任务完成情况", percent=("完成率",),
                  note="完成率为完成户次除以计划户次。"),
            Heading("（一）重点监管对象", 2),
            Paragraph("重点监管对象按比例抽取。"),
            Figure(_figure_png(), caption="图1 各月抽查户次"),
            Heading("二、下一步工作"),
            Paragraph("继续做好抽查工作。"),
        ),
        recipient="雄安新区生态环境局", number="雄环〔2023〕12号", demo=demo,
        as_of=dt.date(2023, 3, 31),
        appendix=(Heading("各项数字的依据"), Paragraph("抽查比例依据实施方案。")))


def _table_document(demo: bool = True, nrow: int = 70) -> TableDocument:
    rng = np.random.default_rng(7)
    data: dict[tuple[str, str], object] = {
        ("序号", "序号"): list(range(1, nrow + 1)),
        ("单位名称", "单位名称"): [f"雄安新区某某环保科技有限公司{i}" for i in range(nrow)],
    }
    for g, group in enumerate(("一般排污单位", "重点排污单位", "特殊监管对象")):
        for k in range(6):
            label = f"完成率{g}{k}" if k % 3 == 2 else f"第{g * 6 + k + 1}项指标"
            data[(group, label)] = rng.random(nrow) if k % 3 == 2 else rng.integers(0, 500, nrow)
    data[("其他", "最后一列")] = rng.integers(0, 9, nrow)
    frame = pd.DataFrame(data)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    frame.iloc[0, 1] = "=1+1"
    frame.iloc[min(3, nrow - 1), 4] = np.nan
    percent = tuple(c[1] for c in frame.columns if c[1].startswith("完成率"))
    return TableDocument(
        title="2023年第一季度“双随机、一公开”抽查统计表",
        table=Table(frame, percent=percent, note="完成率为完成户次除以计划户次。"),
        unit="雄县生态环境局", date=DATE, as_of=dt.date(2023, 3, 31),
        period="2023年1月1日至2023年3月31日", demo=demo, notes=("数字为演示。",))


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("documents")
    docx, pdf, review = write_forms(_official(demo=True), d / "summary")
    xlsx, table_pdf = write_forms(_table_document(), d / "statistics")
    plain = write_docx(_official(demo=False), d / "plain.docx")
    return {"dir": d, "docx": docx, "pdf": pdf, "xlsx": xlsx, "table_pdf": table_pdf,
            "plain": plain, "review": review}


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


# --------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------
def test_forms_are_written_without_temporary_files(out):
    names = sorted(p.name for p in out["dir"].iterdir())
    assert names == ["plain.docx", "statistics.pdf", "statistics.xlsx", "summary.docx",
                     "summary.pdf", "summary.review.pdf"]


def test_docx_page_is_a4_with_the_gbt9704_margins(out):
    import docx

    section = docx.Document(str(out["docx"])).sections[0]
    for got, want in ((section.page_width, 210), (section.page_height, 297),
                      (section.top_margin, 37), (section.bottom_margin, 35),
                      (section.left_margin, 28), (section.right_margin, 26)):
        assert abs(got.mm - want) < 0.5


def test_docx_body_is_fangsong_3hao_on_a_fixed_pitch(out):
    import docx

    document = docx.Document(str(out["docx"]))
    normal = document.styles["Normal"]
    assert normal.font.size.pt == 16
    assert normal.element.rPr.rFonts.get(f"{W}eastAsia") == "仿宋_GB2312"
    assert normal.font.name == "Times New Roman"
    body = next(p for p in document.paragraphs if p.text.startswith("本季度"))
    assert body.runs[0].font.size.pt == 16
    assert body.paragraph_format.line_spacing.pt == pytest.approx(28.95, abs=0.05)
    assert body.paragraph_format.first_line_indent.pt == 32
    heading = next(p for p in document.paragraphs if p.text == "一、抽查任务完成情况")
    assert heading.runs[0]._r.rPr.rFonts.get(f"{W}eastAsia") == "黑体"
    title = next(p for p in document.paragraphs if "监管工作总结" in p.text)
    assert title.runs[0].font.size.pt == 22
    assert title.runs[0]._r.rPr.rFonts.get(f"{W}eastAsia") == "方正小标宋简体"


def test_docx_order_masthead_title_recipient_signature_no_appendix(out):
    import docx

    document = docx.Document(str(out["docx"]))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:6] == ["雄县生态环境局", "雄环〔2023〕12号",
                         "雄县生态环境局2023年第一季度\n“双随机、一公开”监管工作总结",
                         "（数据截止日期：2023年3月31日）", "雄安新区生态环境局：",
                         "本文件由演示数据生成，不作为正式文件。"]
    i = texts.index("继续做好抽查工作。")
    assert texts[i + 1:i + 3] == ["雄县生态环境局", "2023年4月6日"]
    assert texts[i + 3:] == []  # the reviewers' appendix is the separate review file
    paras = {p.text: p for p in document.paragraphs}
    assert paras["2023年4月6日"].paragraph_format.right_indent.pt == 64  # 4 characters
    assert paras["雄县生态环境局"].runs[0].font.color.rgb is not None  # the red masthead
    assert "<b>不是标签</b>" in "".join(texts)  # plain text, never markup
    props = document.core_properties
    assert (props.title, props.author) == (
        "雄县生态环境局2023年第一季度“双随机、一公开”监管工作总结", "雄县生态环境局")


def test_docx_table_repeats_its_header_and_merges_groups(out):
    import docx

    table = docx.Document(str(out["docx"])).tables[0]
    xml = table._tbl.xml
    assert xml.count("<w:tblHeader/>") == 2
    assert '<w:gridSpan w:val="3"/>' in xml  # 抽查户次 over its three items
    cells = [c.text for c in table.rows[2].cells]
    assert cells == ["雄县生态环境局", "12", "11", "91.7%"]
    assert [c.text for c in table.rows[4].cells] == ["=1+1", "5", "—", "—"]
    number = table.rows[2].cells[1].paragraphs[0]
    assert number.alignment == 2  # right
    assert max(r.font.size.pt for c in table.rows[2].cells for r in c.paragraphs[0].runs) <= 14


def test_docx_page_numbers_odd_right_even_left_and_demo_header(out):
    import docx

    document = docx.Document(str(out["docx"]))
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    for footer, align in ((section.footer, 2), (section.even_page_footer, 0)):
        p = footer.paragraphs[0]
        assert " PAGE " in p._p.xml and 'w:fldCharType="begin"' in p._p.xml
        assert p.text == "— 1 —" and p.alignment == align
    assert section.header.paragraphs[0].text == "演示数据"
    assert section.even_page_header.paragraphs[0].text == "演示数据"
    plain = docx.Document(str(out["plain"]))
    assert plain.sections[0].header.paragraphs[0].text == ""
    assert all("演示数据" not in p.text for p in plain.paragraphs)


# --------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------
def _fonts(pdf: Path) -> list[tuple[str, str]]:
    lines = _run("pdffonts", str(pdf)).splitlines()[2:]
    return [(ln.split()[0], ln.split()[-5]) for ln in lines if ln.strip()]


def _page_size(pdf: Path) -> tuple[float, float, int]:
    info = _run("pdfinfo", str(pdf))
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    return w, h, int(re.search(r"Pages:\s+(\d+)", info).group(1))


@needs_poppler
@pytest.mark.parametrize("name", ["pdf", "table_pdf"])
def test_pdf_embeds_only_noto_cjk_fonts(out, name):
    fonts = _fonts(out[name])
    assert fonts
    for font, emb in fonts:
        assert re.search(r"Noto-(Serif|Sans)-CJK-SC", font), font
        assert emb == "yes", font


@needs_poppler
def test_official_pdf_is_a4_portrait_numbered_at_the_outside_corner(out):
    w, h, pages = _page_size(out["pdf"])
    assert (round(w), round(h)) == (595, 842)
    assert pages >= 2
    first = _run("pdftotext", "-layout", "-f", "1", "-l", "1", str(out["pdf"]), "-")
    assert "演示数据" in first and "雄安新区生态环境局：" in first
    assert "— 1 —" in first
    second = _run("pdftotext", "-f", "2", "-l", "2", str(out["pdf"]), "-")
    assert "— 2 —" in second
    text = _run("pdftotext", str(out["pdf"]), "-")
    assert "2023年4月6日" in text and "各项数字的依据" not in text
    review = _run("pdftotext", str(out["review"]), "-")
    assert "内部资料" in review and "各项数字的依据" in review


@needs_poppler
def test_table_pdf_is_landscape_one_page_wide_with_the_header_on_every_page(out, tmp_path):
    pdf = out["table_pdf"]
    w, h, pages = _page_size(pdf)
    assert (round(w), round(h)) == (842, 595)
    assert pages >= 2  # 70 rows: the header must repeat
    _run("pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        width, height = struct.unpack(">II", image.read_bytes()[16:24])
        assert width > height, image.name
    for page in range(1, pages + 1):
        text = _run("pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-")
        assert "最后一列" in text, page  # the last column header: nothing cut off
        assert f"第 {page} 页 共 {pages} 页" in text
    first = _run("pdftotext", "-f", "1", "-l", "1", str(pdf), "-")
    assert "雄安新区某某环保科技有限公司1\n" in first  # a name on one line, not wrapped
    assert "填报单位：雄县生态环境局" in first and "数据截止日期：2023年3月31日" in first
    last = _run("pdftotext", "-f", str(pages), "-l", str(pages), str(pdf), "-")
    assert "填报人：" in last and "审核人：" in last and "填报日期：2023年4月6日" in last
    assert "注：1. 完成率为完成户次除以计划户次。" in last


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------
def test_xlsx_numbers_percentages_and_no_formula(out):
    from openpyxl import load_workbook

    ws = load_workbook(out["xlsx"]).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    name = next(c for c in cells if c.value == "=1+1")
    assert name.data_type == "s" and name.quotePrefix
    header = {c.value: c.column for c in ws[4] if c.value}
    pct = ws.cell(5, header["完成率02"])
    assert isinstance(pct.value, float) and 0 <= pct.value <= 1
    assert pct.number_format == "0.0%"
    assert pct.alignment.horizontal == "right"
    count = ws.cell(5, header["第1项指标"])
    assert isinstance(count.value, int) and count.number_format == "0"
    assert ws.cell(5 + 3, 5).value == "—"
    assert ws.cell(4, header["第1项指标"]).alignment.horizontal == "center"
    assert ws.cell(5, 2).alignment.horizontal == "left"
    assert ws["A1"].value.endswith("（演示数据）")
    assert ws.oddHeader.center.text == "演示数据"
    texts = [str(c.value) for c in cells if c.value is not None]
    assert any(t.startswith("填报人：") for t in texts)
    assert any(t.startswith("审核人：") for t in texts)
    assert "填报日期：2023年4月6日" in texts
    assert "数据截止日期：2023年3月31日" in texts
    assert ws.column_dimensions["B"].width >= 2 * 15  # the names fit on one line


def test_xlsx_prints_on_a4_landscape_one_page_wide(out):
    from openpyxl import load_workbook

    ws = load_workbook(out["xlsx"]).active
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$4"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "C3:H3" in merged  # 一般排污单位 over its six items
    assert "A3:A4" in merged  # 序号 two rows high


def test_xlsx_without_demo_has_no_demo_marks(tmp_path):
    from openpyxl import load_workbook

    path = write_xlsx(_table_document(demo=False, nrow=3), tmp_path / "t.xlsx")
    ws = load_workbook(path).active
    assert "演示数据" not in ws["A1"].value
    assert not ws.oddHeader.center.text


# --------------------------------------------------------------------------------------
# HTML, errors, files
# --------------------------------------------------------------------------------------
def test_html_escapes_text_embeds_figures_and_prints_on_a4():
    doc = _official(demo=True)
    page = to_html(doc)
    assert doc._repr_html_() == page
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in page and "<b>" not in page
    assert "data:image/png;base64," in page
    assert "@page { size: A4;" in page and "table-layout: fixed" in page
    assert ">91.7%</td>" in page and 'class="dsr-r">—</td>' in page
    table = _table_document(nrow=5)
    html = table._repr_html_()
    assert "A4 landscape" in html and html.count("<th scope") == 6 + 19
    assert "<thead>" in html and "填报人：" in html


def test_bad_content_is_named():
    frame = pd.DataFrame({"单位": ["雄县"], "比例": [0.5]})
    doc = _official(demo=False)
    bad = OfficialDocument(doc.title, doc.issuer, DATE,
                           (Table(frame, title="表2", percent=("完成率",)),))
    with pytest.raises(DocumentError, match=r"表2.*完成率.*单位, 比例"):
        to_html(bad)
    with pytest.raises(DocumentError, match="heading '五、其他': level 4"):
        to_html(OfficialDocument(doc.title, doc.issuer, DATE, (Heading("五、其他", 4),)))


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.pdf"
    target.write_bytes(b"old")

    def fail(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.pdf"]
