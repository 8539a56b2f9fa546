"""Official documents to GB/T 9704-2012: the 版头 (red 发文机关标志, 发文字号, 签发人, red
rule), the number register (a sequence per unit and year, never reused), the title never
broken inside a quoted name or a number, the 附件说明 and the 附件, the seal box, the 版记 at
the foot of the last, even page; the reviewers' clause table absent from the files sent and
present in the internal review file. Read back from the DOCX (python-docx) and the PDF
(pdftotext)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_SECTION
from docx.oxml.ns import qn

from dsr_analysis import official, reports
from dsr_analysis.documents import (Attachment, OfficialDocument, Paragraph, Table, title_lines,
                                    write_forms)
from dsr_analysis.documents import gbt9704, layout
from dsr_analysis.documents.numbers import (DocumentNumber, assign_number, issued_numbers,
                                            numbers_table, register_path)
from dsr_analysis.errors import ParameterError
from dsr_analysis.render import plan_jobs, write_index

QUOTED = "“双随机、一公开”"
CLAUSE_HEADER = "实施方案条款"


# --------------------------------------------------------------------------------------
# The number register
# --------------------------------------------------------------------------------------
def test_numbers_run_per_unit_and_year_and_a_document_keeps_its_own(tmp_path):
    reg = tmp_path / "numbers.sqlite"
    a = assign_number(reg, "xiongxian", "summary", "2023Q1", 2023, "雄环")
    b = assign_number(reg, "xiongxian", "summary", "2023Q2", 2023, "雄环")
    other_unit = assign_number(reg, "rongcheng", "summary", "2023Q1", 2023, "容环")
    again = assign_number(reg, "xiongxian", "summary", "2023Q1", 2023, "雄环")
    next_year = assign_number(reg, "xiongxian", "summary", "2023Q4", 2024, "雄环")
    other_kind = assign_number(reg, "xiongxian", "evaluation", "2023Q1", 2023, "雄环")
    assert (a.text, b.text, other_unit.text) == ("雄环〔2023〕1号", "雄环〔2023〕2号", "容环〔2023〕1号")
    assert again == a  # rendered again: the same number
    assert next_year.text == "雄环〔2024〕1号"
    assert other_kind.text == "雄环〔2023〕3号"  # one series for every kind of document
    # a number already given keeps its prefix when the policy's prefix changes
    assert assign_number(reg, "xiongxian", "summary", "2023Q2", 2023, "雄县环").text == "雄环〔2023〕2号"
    table = issued_numbers(reg, "xiongxian")
    assert list(table["number"]) == ["雄环〔2023〕1号", "雄环〔2023〕2号", "雄环〔2023〕3号",
                                     "雄环〔2024〕1号"]


def test_a_number_is_never_given_twice_also_in_parallel_and_after_a_gap(tmp_path):
    reg = tmp_path / "numbers.sqlite"
    periods = [f"2023-{i:02d}" for i in range(1, 25)]
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda p: assign_number(reg, "anxin", "notice", p, 2023, "安环"),
                            periods))
    assert sorted(n.serial for n in got) == list(range(1, 25))
    # the database itself refuses a second document under a number already given
    con = sqlite3.connect(reg)
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO document_numbers VALUES ('anxin', 2023, 5, '安环', 'x', 'y', '', '')")
    con.close()
    # a number given to a document never sent leaves a gap, not a number to reuse
    con = sqlite3.connect(reg)
    con.execute("DELETE FROM document_numbers WHERE serial = 24")  # even if the last row goes,
    con.commit()
    con.close()
    new = assign_number(reg, "anxin", "notice", "2023-99", 2023, "安环")
    assert new.serial == 24  # the highest serial still recorded + 1 (never below it)


def test_unconfigured_parts_of_a_number_are_blanks_to_fill_in():
    assert DocumentNumber("", 2023, 7).text == "\u3000\u3000〔2023〕7号"
    assert DocumentNumber("雄环", 2023, None).text == "雄环〔2023〕\u3000\u3000号"


# --------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("title, issuer", [
    ("雄县生态环境局2023年第一季度“双随机、一公开”监管工作总结", "雄县生态环境局"),
    ("雄县生态环境局关于2023年第一季度“双随机、一公开”监管工作情况的报告", "雄县生态环境局"),
    ("河北雄安新区管理委员会生态环境局关于2023年第一季度“双随机、一公开”监管工作考核评估情况的通报",
     "河北雄安新区管理委员会生态环境局"),
    ("安新县生态环境局2023年度“双随机、一公开”抽查计划（第12次调整）", "安新县生态环境局"),
])
def test_a_title_never_breaks_inside_a_quoted_name_or_a_number(title, issuer):
    lines = title_lines(title, keep=(issuer,))
    assert "".join(lines) == title
    assert len(lines) > 1
    assert any(QUOTED in line for line in lines)
    assert all(layout.em_width(line) <= gbt9704.title_max_em() for line in lines)
    for a, b in zip(lines, lines[1:], strict=False):
        assert not (a[-1].isdigit() and b[0].isdigit())
        assert b[0] not in "，。、）”年度"  # nothing that belongs to the line before
    assert any(issuer in line for line in lines)
    # balanced: the lines differ by less than half a line
    widths = [layout.em_width(line) for line in lines]
    assert max(widths) - min(widths) < gbt9704.title_max_em() / 2


def test_a_short_title_is_one_line():
    assert title_lines("雄县生态环境局文件") == ["雄县生态环境局文件"]


# --------------------------------------------------------------------------------------
# The summary as a 报告: what it says
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def q1():
    return reports.load_report_inputs("2023Q1")


@pytest.fixture(scope="module")
def written(q1, tmp_path_factory):
    """The summary of 雄县 and the evaluation, written as the render writes them."""
    out = tmp_path_factory.mktemp("gbt9704")
    reg = register_path(out)
    summary = official.summary_document(q1, "xiongxian", str(reg))
    evaluation = official.evaluation_document(q1, "xiongan", str(reg))
    files = {"summary": write_forms(summary, out / "summary-xiongxian"),
             "evaluation": write_forms(evaluation, out / "evaluation-xiongan")}
    return {"summary": summary, "evaluation": evaluation, "files": files, "register": reg}


def test_the_summary_goes_up_as_a_report_with_problems_and_next_steps(written, q1):
    doc = written["summary"]
    assert doc.title == "雄县生态环境局关于2023年第一季度“双随机、一公开”监管工作情况的报告"
    assert doc.recipient == "河北雄安新区管理委员会生态环境局"
    assert doc.masthead == "雄县生态环境局文件" and doc.number == "雄环〔2023〕1号"
    assert doc.signer == ""  # upward document, no 签发人 configured: a blank to sign
    assert doc.printed_by == "雄县生态环境局办公室" and doc.seal and doc.imprint
    heads = [b.text for b in doc.blocks if getattr(b, "level", 0) == 1]
    assert heads[-2:] == ["五、存在问题", "六、下一步工作"] or heads[-2][-4:] == "存在问题"
    assert [a.title for a in doc.attachments][0] == "各类监管对象抽查完成情况"
    texts = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    progress = reports.summary_progress(q1, "xiongxian", as_of=doc.date)
    missed = progress[~progress["met"]]
    problems = texts[texts.index(next(t for t in texts if "未达到季度最低抽查要求" in t)):]
    short = int((missed["quota"] - missed["done"]).clip(lower=0).sum())
    assert len(missed) and f"共少完成{short}次" in problems[0]
    assert texts[-1] == "特此报告。"
    # the clause table is not part of the document's body or attachments
    for block in doc.blocks + tuple(b for a in doc.attachments for b in a.blocks):
        assert not (isinstance(block, Table) and CLAUSE_HEADER in block.frame.columns)


def test_the_area_levels_report_leaves_its_recipient_and_signer_blank(q1):
    doc = official.summary_document(q1, "xiongan")
    assert doc.recipient == layout.SIGN_BLANK * 2 and doc.signer == ""
    assert doc.number == "雄安环〔2023〕\u3000\u3000号"  # no register: the serial left blank
    assert doc.masthead == "河北雄安新区管理委员会生态环境局文件"


def test_nothing_is_invented_when_all_is_well(q1):
    progress = pd.DataFrame({"category": ["key"], "subset": ["all"], "quota": [3], "done": [3],
                             "met": [True]})
    ev = pd.DataFrame({"indicator": ["results_on_time"], "met": [True], "detail": ["按时公开3条"]})
    problems, steps = official.summary_problems(q1, progress, ev, overdue=0)
    assert problems == ["本季度各类监管对象均达到季度最低抽查要求，无逾期未办结的后续处置案件，"
                        "抽查结果均按时公开，未发现需要报告的问题。"]
    assert steps == ["按照年度抽查计划组织开展2023年第二季度“双随机、一公开”抽查工作。"]
    problems, steps = official.summary_problems(q1, progress, ev, overdue=2)
    assert problems == ["后续处置案件办理不够及时：2件已超过应办结日期尚未办结。"]
    assert steps[0].startswith("（一）对逾期未办结的2件后续处置案件") and len(steps) == 2


# --------------------------------------------------------------------------------------
# The DOCX
# --------------------------------------------------------------------------------------
def _docx(written, kind):
    return Document(str(next(p for p in written["files"][kind] if p.suffix == ".docx")))


def test_docx_masthead_number_signer_and_red_rule(written):
    d = _docx(written, "summary")
    paras = d.paragraphs
    mark = next(p for p in paras if p.text == "雄县生态环境局文件")
    assert all(str(r.font.color.rgb) == layout.RED for r in mark.runs if r.text)
    number = next(p for p in paras if p.text.startswith("雄环〔2023〕1号"))
    assert number.text == "雄环〔2023〕1号\t签发人：" + gbt9704.BLANK
    border = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert border.get(qn("w:color")) == layout.RED
    ev = _docx(written, "evaluation")
    assert any(p.text == "雄安环〔2023〕1号" for p in ev.paragraphs)  # a 通报: no 签发人
    assert not any("签发人" in p.text for p in ev.paragraphs)


def test_docx_title_lines_keep_the_quoted_name_whole(written):
    d = _docx(written, "summary")
    doc = written["summary"]
    title = next(p for p in d.paragraphs if p.text.replace("\n", "") == doc.title)
    lines = title.text.split("\n")  # python-docx shows each line break as "\n"
    assert lines == gbt9704.title_lines(doc.title, keep=(doc.issuer,))
    assert len(lines) == len(title._p.findall(".//" + qn("w:br"))) + 1 > 1
    assert any(QUOTED in line for line in lines)


def test_docx_attachment_note_seal_box_attachments_and_imprint(written):
    d = _docx(written, "summary")
    texts = [p.text for p in d.paragraphs]
    note = texts.index("附件：各类监管对象抽查完成情况") if "附件：各类监管对象抽查完成情况" in texts \
        else texts.index("附件：1. 各类监管对象抽查完成情况")
    issuer = texts.index("雄县生态环境局", note)
    assert texts[issuer + 1] == "2023年3月31日"
    # the 附注 on the line under the date: whom to ask, a blank while the policy names no one
    assert texts[issuer + 2].startswith("（联系人及联系电话：") and texts[issuer + 2].endswith("）")
    assert d.paragraphs[issuer]._p.findall(".//{urn:schemas-microsoft-com:vml}oval")  # seal box
    assert texts.index("附件" if len(written["summary"].attachments) == 1 else "附件1") > issuer
    imprint = d.tables[-1]
    rows = [c.text for row in imprint.rows for c in row.cells]
    assert rows[-1] == "雄县生态环境局办公室\t2023年3月31日印发"
    # the 版记 starts an even page: the last section begins on an even page
    assert d.sections[-1].start_type == WD_SECTION.EVEN_PAGE
    # the body ends on an odd page (the PDF's 5 pages): no blank page, the 版记's page numbered
    assert _docx_imprint_numbered(d)


def _numbered(footer) -> bool:
    return any("PAGE" in (t.text or "") for t in footer._element.iter(qn("w:instrText")))


def _docx_imprint_numbered(d) -> bool:
    """Whether the 版记's section of a Word file prints page numbers (the body's always do)."""
    assert _numbered(d.sections[0].footer) and _numbered(d.sections[0].even_page_footer)
    last = d.sections[-1]
    shown = [_numbered(f) for f in (last.footer, last.even_page_footer)]
    assert len(set(shown)) == 1
    return shown[0]


def test_the_clause_table_leaves_the_sent_files_for_the_review_file(written):
    for kind in ("summary", "evaluation"):
        files = written["files"][kind]
        docx_text = "\n".join(p.text for p in _docx(written, kind).paragraphs) + "\n".join(
            c.text for t in _docx(written, kind).tables for row in t.rows for c in row.cells)
        assert CLAUSE_HEADER not in docx_text and "附：" not in docx_text
        sent_pdf = next(p for p in files if p.name.endswith(".pdf") and ".review" not in p.name)
        assert CLAUSE_HEADER not in _pdftext(sent_pdf)
        review = next(p for p in files if p.name.endswith(".review.pdf"))
        text = _pdftext(review)
        assert CLAUSE_HEADER in text and "内部资料" in text
        assert "重点工作任务" in text  # the clauses of the plan


# --------------------------------------------------------------------------------------
# The PDF
# --------------------------------------------------------------------------------------
def _pdftext(path: Path, layout_mode: bool = False) -> str:
    args = ["pdftotext"] + (["-layout"] if layout_mode else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _pages(path: Path) -> list[str]:
    return _pdftext(path, layout_mode=True).split("\f")[:-1]


def _words(path: Path) -> list[tuple[int, float, float, str]]:
    """(page, yMax [pt], xMin [pt], word) of every word of the PDF."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    out, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)">(.*)</word>',
                      line)
        if m:
            out.append((page, float(m.group(2)), float(m.group(1)), m.group(3)))
    return out


def test_pdf_has_every_element_and_the_imprint_at_the_foot_of_an_even_last_page(written):
    doc = written["summary"]
    pdf = next(p for p in written["files"]["summary"] if p.name == "summary-xiongxian.pdf")
    pages = _pages(pdf)
    first = pages[0]
    assert "雄县生态环境局文件" in first
    assert re.search(r"雄环〔2023〕1号\s+签发人：", first)
    lines = [line.strip() for line in first.splitlines() if line.strip()]
    title = gbt9704.title_lines(doc.title, keep=(doc.issuer,))
    for line in title:
        assert line in lines  # every title line printed as one line, the quoted name whole
    assert "河北雄安新区管理委员会生态环境局：" in lines
    whole = "\n".join(pages)
    assert "附件：各类监管对象抽查完成情况" in whole and "特此报告。" in whole
    body = [x.strip() for x in whole.splitlines() if x.strip()]
    date_at = [i for i, line in enumerate(body) if line == "2023年3月31日"]
    assert date_at and body[date_at[0] + 1].startswith("（联系人及联系电话：")
    assert len(pages) % 2 == 0
    assert "印发" in pages[-1] and "印发" not in "".join(pages[:-1])
    words = _words(pdf)
    printed = [w for w in words if w[3].endswith("印发")]
    assert printed and printed[0][0] == len(pages)
    foot = (layout.PAGE_HEIGHT_MM - layout.MARGIN_BOTTOM_MM) / layout.MM_PER_PT
    assert foot - 25 < printed[0][1] <= foot + 2  # the last line of the 版心


def test_pdf_evaluation_has_masthead_number_and_no_signer(written):
    pdf = next(p for p in written["files"]["evaluation"] if p.name == "evaluation-xiongan.pdf")
    pages = _pages(pdf)
    assert "河北雄安新区管理委员会生态环境局文件" in pages[0]
    assert "雄安环〔2023〕1号" in pages[0] and "签发人" not in pages[0]
    assert len(pages) % 2 == 0 and "印发" in pages[-1]


def test_imprint_on_an_odd_last_page_moves_to_the_next_even_page(tmp_path):
    doc = OfficialDocument(title="测试文件", issuer="雄县生态环境局", date=dt.date(2023, 4, 6),
                           blocks=(Paragraph("正文。"),), recipient="河北雄安新区管理委员会生态环境局",
                           masthead="雄县生态环境局文件", number="雄环〔2023〕2号", seal=True,
                           imprint=True, copy_to=("雄县人民政府",), printed_by="雄县生态环境局办公室")
    pdf = write_forms(doc, tmp_path / "short")[1]
    pages = _pages(pdf)
    assert len(pages) == 2 and "印发" not in pages[0]
    assert "抄送：雄县人民政府。" in pages[1] and "2023年4月6日印发" in pages[1]
    two_attachments = OfficialDocument(
        title="测试文件", issuer="雄县生态环境局", date=dt.date(2023, 4, 6),
        blocks=(Paragraph("正文。"),), attachments=(
            Attachment("第一个附件", (Paragraph("一。"),)),
            Attachment("第二个附件", (Paragraph("二。"),))), seal=True, imprint=True)
    assert gbt9704.attachment_lines(two_attachments) == ["附件：1. 第一个附件", "2. 第二个附件"]
    pages = _pages(write_forms(two_attachments, tmp_path / "two")[1])
    assert len(pages) == 4  # body, 附件1, 附件2, 版记 (even)
    assert "附件1" in pages[1] and "附件2" in pages[2] and "印发" in pages[3]


# --------------------------------------------------------------------------------------
# The render
# --------------------------------------------------------------------------------------
def test_render_gives_the_summary_and_evaluation_the_register_and_lists_the_review_file(tmp_path):
    jobs = plan_jobs("2023Q1", "all", ["summary", "evaluation", "statistics"], out_root=tmp_path)
    for job in jobs:
        if job.report in ("summary", "evaluation"):
            assert job.parameters["numbers"] == str(tmp_path / "document-numbers.sqlite")
        else:
            assert "numbers" not in job.parameters
    out = tmp_path / "2023Q1"
    out.mkdir()
    for name in ("summary-xiongxian.pdf", "summary-xiongxian.review.pdf", "summary-xiongxian.docx"):
        (out / name).write_bytes(b"%PDF-1.7\n")
    page = write_index(out, "2023Q1", []).read_text(encoding="utf-8")
    assert "href='summary-xiongxian.review.pdf'>审核材料（内部）</a>" in page
    assert page.index("summary-xiongxian.pdf") < page.index("summary-xiongxian.review.pdf")


def test_dsr_numbers_lists_the_register_in_chinese(tmp_path):
    import sys

    reg = tmp_path / "numbers.sqlite"
    assign_number(reg, "xiongxian", "summary", "2023Q1", 2023, "雄环", "雄县生态环境局关于…的报告")
    assign_number(reg, "xiongan", "evaluation", "2023Q1", 2023, "雄安环", "…的通报")
    run = [sys.executable, "-m", "dsr_analysis.cli", "--lang", "zh", "numbers", "--register",
           str(reg)]
    out = subprocess.run(run + ["--unit", "雄县"], capture_output=True, text=True, check=True).stdout
    assert "发文字号" in out and "雄环〔2023〕1号" in out and "季度工作情况报告" in out
    assert "2023年第一季度" in out and "雄安环" not in out
    ids = numbers_table(reg, columns="ids")  # the machine form, in process
    assert list(ids["unit"]) == ["xiongan", "xiongxian"] and list(ids["serial"]) == [1, 1]
    with pytest.raises(ParameterError, match="北京"):
        numbers_table(reg, "北京", "xiongan-2023")


def test_the_imprint_ends_every_length_of_body_on_an_even_page(tmp_path):
    """Bodies of 33 to 41 one-line paragraphs end at every place of page 2 and on page 3:
    the 版记 is always alone on the last page's foot, the page count even; where a blank page
    has to come first, neither it nor the 版记's page is numbered (7.5.2)."""
    blank_before = 0
    foot = (layout.PAGE_HEIGHT_MM - layout.MARGIN_BOTTOM_MM) / layout.MM_PER_PT
    for n in range(33, 42):
        doc = OfficialDocument(title="测试文件", issuer="雄县生态环境局", date=dt.date(2023, 4, 6),
                               blocks=tuple(Paragraph(f"第{i}段。") for i in range(n)),
                               imprint=True, printed_by="雄县生态环境局办公室")
        docx, pdf = write_forms(doc, tmp_path / f"body{n}")
        pages = _pages(pdf)
        assert len(pages) % 2 == 0, n
        assert [i for i, p in enumerate(pages, 1) if "印发" in p] == [len(pages)], n
        printed = [w for w in _words(pdf) if w[3].endswith("印发")]
        assert foot - 25 < printed[0][1] <= foot + 2, n
        numbered = _docx_imprint_numbered(Document(str(docx)))  # as the PDF lays it out
        if not pages[-2].strip():
            blank_before += 1
            assert f"— {len(pages)} —" not in pages[-1] and not numbered, n
        else:
            assert f"— {len(pages)} —" in pages[-1] and numbered, n
    assert blank_before  # the case of a body ending on an even page without room is met
