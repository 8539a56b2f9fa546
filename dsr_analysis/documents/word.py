"""An :class:`~dsr_analysis.documents.model.OfficialDocument` as a Word file (DOCX) in the
national layout for official documents, GB/T 9704-2012.

The page is A4 with the 版心 of 156 x 225 mm (top 37, bottom 35, left 28, right 26 mm);
the body is 3号 仿宋 on a fixed pitch of 22 lines a page; the title 2号 小标宋 in lines that
never break a quoted name or a number; headings 黑体, 楷体 and bold 仿宋 by level; the 版头
(发文机关标志 in red, 发文字号 with the 签发人 of an upward document, red rule); the 附件说明;
the signature without a seal (7.3.5.2) or, for a sealed document, with a blank box where the
seal goes (7.3.5.1); the 附件 each from a new page; the 版记 (抄送, 印发机关 and 印发日期
between rules) at the foot of a page of its own that starts on an even page (an "even page"
section break: Word and LibreOffice add the blank page when the text ends on an even page);
page numbers "— 1 —" in 4号 宋体, odd pages right and even pages left, one character from the
edge of the 版心. The reviewers' appendix is never printed (it is the separate review file).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph

from ..i18n import _
from ..periods import date_zh
import dsr_analysis.documents.layout as layout  # the module itself, not the package
import dsr_analysis.documents.gbt9704 as gbt9704
from .model import Block, Figure, Heading, OfficialDocument, PageBreak, Paragraph, Table

_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT,
          "center": WD_ALIGN_PARAGRAPH.CENTER, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
_HEADING_ROLE = {1: ("heiti", False), 2: ("kaiti", False), 3: ("fangsong", True)}
_BLACK = RGBColor(0, 0, 0)
_RED = RGBColor.from_string(layout.RED)


# --------------------------------------------------------------------------------------
# Fonts and paragraphs
# --------------------------------------------------------------------------------------
def _set_fonts(rpr, east_asia: str, latin: str) -> None:
    """Explicit fonts on a run or style property element (no theme fonts)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    # Quotation marks and dashes are "ambiguous": set them in the Chinese font.
    rfonts.set(qn("w:hint"), "eastAsia")


def _run(p: DocxParagraph, text: str, role: str = "fangsong", size: float = layout.BODY_SIZE_PT,
         bold: bool = False, color: RGBColor | None = None, latin: str | None = None):
    run = p.add_run(text)
    font = run.font
    font.size = Pt(size)
    font.bold = bold
    font.italic = False
    font.color.rgb = color or _BLACK
    _set_fonts(run._r.get_or_add_rPr(), layout.WORD_FONTS[role], latin or layout.WORD_LATIN_FONT)
    return run


def _format(p: DocxParagraph, align: str = "justify", indent_em: float = 0.0,
            line_pt: float | None = layout.LINE_PITCH_PT, size: float = layout.BODY_SIZE_PT,
            keep_with_next: bool = False, right_em: float = 0.0, left_em: float = 0.0,
            before_pt: float = 0.0, after_pt: float = 0.0) -> DocxParagraph:
    fmt = p.paragraph_format
    fmt.alignment = _ALIGN[align]
    fmt.first_line_indent = Pt(indent_em * size) if indent_em else Pt(0)
    fmt.left_indent = Pt(left_em * size)
    fmt.right_indent = Pt(right_em * size)
    fmt.space_before = Pt(before_pt)
    fmt.space_after = Pt(after_pt)
    if line_pt is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing = Pt(line_pt)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.keep_with_next = keep_with_next
    return p


def _para(container, text: str = "", role: str = "fangsong", size: float = layout.BODY_SIZE_PT,
          bold: bool = False, color: RGBColor | None = None, style: str | None = None,
          **fmt) -> DocxParagraph:
    p = container.add_paragraph(style=style)
    _format(p, size=size, **fmt)
    if text:
        _run(p, text, role, size, bold, color)
    return p


def _blank(container) -> DocxParagraph:
    return _para(container, "", align="left")


def _field(p: DocxParagraph, instr: str, shown: str, **run) -> None:
    """A Word field (``PAGE``) with ``shown`` as its text until Word updates it."""
    def char(kind: str) -> None:
        r = _run(p, "", **run)
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        r._r.append(el)

    char("begin")
    r = _run(p, "", **run)
    el = OxmlElement("w:instrText")
    el.set(qn("xml:space"), "preserve")
    el.text = f" {instr} "
    r._r.append(el)
    char("separate")
    _run(p, shown, **run)
    char("end")


def _border(p: DocxParagraph, color: str, size_eighths: int, space_pt: int) -> None:
    """A rule under the paragraph (the red rule of the 版头)."""
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), str(size_eighths))
    bottom.set(qn("w:space"), str(space_pt))
    bottom.set(qn("w:color"), color)
    bdr.append(bottom)
    # pBdr comes before spacing, ind and jc in the schema's order of pPr's children.
    anchor = next((c for c in ppr if c.tag in {qn("w:shd"), qn("w:tabs"), qn("w:spacing"),
                                                qn("w:ind"), qn("w:jc")}), None)
    if anchor is None:
        ppr.append(bdr)
    else:
        anchor.addprevious(bdr)


# --------------------------------------------------------------------------------------
# Styles, page and footers
# --------------------------------------------------------------------------------------
def _styles(document) -> None:
    normal = document.styles["Normal"]
    normal.font.size = Pt(layout.BODY_SIZE_PT)
    normal.font.name = layout.WORD_LATIN_FONT
    rpr = normal.element.get_or_add_rPr()
    _set_fonts(rpr, layout.WORD_FONTS["fangsong"], layout.WORD_LATIN_FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    fmt = normal.paragraph_format
    fmt.line_spacing = Pt(layout.LINE_PITCH_PT)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    for level, (role, bold) in _HEADING_ROLE.items():
        style = document.styles[f"Heading {level}"]
        style.font.size = Pt(layout.BODY_SIZE_PT)
        style.font.bold = bold
        style.font.italic = False
        style.font.color.rgb = _BLACK
        _set_fonts(style.element.get_or_add_rPr(), layout.WORD_FONTS[role], layout.WORD_LATIN_FONT)
        sfmt = style.paragraph_format
        sfmt.space_before = Pt(0)
        sfmt.space_after = Pt(0)
        sfmt.line_spacing = Pt(layout.LINE_PITCH_PT)
        sfmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        sfmt.first_line_indent = Pt(2 * layout.BODY_SIZE_PT)


def _page(document) -> None:
    section = document.sections[0]
    section.page_width = Mm(layout.PAGE_WIDTH_MM)
    section.page_height = Mm(layout.PAGE_HEIGHT_MM)
    section.top_margin = Mm(layout.MARGIN_TOP_MM)
    section.bottom_margin = Mm(layout.MARGIN_BOTTOM_MM)
    section.left_margin = Mm(layout.MARGIN_LEFT_MM)
    section.right_margin = Mm(layout.MARGIN_RIGHT_MM)
    section.gutter = Mm(0)
    # The page number's line sits 7 mm under the 版心.
    number_line_pt = layout.PAGE_NUMBER_SIZE_PT * 1.15
    section.footer_distance = Mm(layout.MARGIN_BOTTOM_MM - layout.PAGE_NUMBER_GAP_MM) - Pt(number_line_pt)
    section.header_distance = Mm(20)


def _footers(document, demo: bool, classification: str = "") -> None:
    """Page numbers "— N —" in 4号 宋体, odd pages right and even pages left, one character
    from the edge of the 版心; 演示数据 in the header of every page for demonstration data,
    the confidentiality mark at the top left of every page."""
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    size = layout.PAGE_NUMBER_SIZE_PT
    run = dict(role="songti", size=size, latin=layout.WORD_FONTS["songti"])
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        _format(p, align=align, line_pt=size * 1.15, size=size,
                right_em=1.0 if align == "right" else 0.0,
                left_em=1.0 if align == "left" else 0.0)
        _run(p, layout.DASH + " ", **run)
        _field(p, "PAGE", "1", **run)
        _run(p, " " + layout.DASH, **run)
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        _format(p, align="center", line_pt=None, size=12)
        if demo:
            _run(p, layout.DEMO_MARK, role="heiti", size=12, color=_RED)
        if classification:
            mark = p.insert_paragraph_before() if demo else p
            _format(mark, align="left", line_pt=None, size=layout.CLASSIFICATION_SIZE_PT)
            _run(mark, classification, role="heiti", size=layout.CLASSIFICATION_SIZE_PT)


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------
def _heading(document, block: Heading) -> None:
    if block.level not in _HEADING_ROLE:
        raise layout.DocumentError(_("heading '{text}': level {level} (valid: 1, 2, "
                                     "3)").format(text=block.text, level=block.level))
    role, bold = _HEADING_ROLE[block.level]
    _para(document, block.text, role=role, bold=bold, style=f"Heading {block.level}",
          align="justify", indent_em=2, keep_with_next=True)


def _set_cell_width(cell, width_mm: float) -> None:
    cell.width = Mm(width_mm)


def _table_props(table, widths_mm: list[float]) -> None:
    tbl_pr = table._tbl.tblPr
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(int(Mm(sum(widths_mm)).twips)))
    width.set(qn("w:type"), "dxa")
    old = tbl_pr.find(qn("w:tblW"))
    if old is not None:
        tbl_pr.remove(old)
    tbl_pr.append(width)
    if tbl_pr.find(qn("w:tblLayout")) is None:
        lay = OxmlElement("w:tblLayout")
        lay.set(qn("w:type"), "fixed")
        tbl_pr.append(lay)
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "57")  # 1 mm
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.append(mar)
    # Keep the schema order of tblPr's children: tblStyle, ..., tblW, jc, ..., tblLayout,
    # tblCellMar, tblLook.
    order = ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
             "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders",
             "shd", "tblLayout", "tblCellMar", "tblLook"]
    rank = {qn(f"w:{n}"): i for i, n in enumerate(order)}
    children = sorted(tbl_pr, key=lambda c: rank.get(c.tag, len(order)))
    for c in children:
        tbl_pr.remove(c)
        tbl_pr.append(c)


def _row_flags(row, header: bool) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    split = OxmlElement("w:cantSplit")
    tr_pr.append(split)
    if header:
        el = OxmlElement("w:tblHeader")  # repeated at the top of every page
        tr_pr.append(el)


def _cell_text(cell, text: str, align: str, size: float, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    _format(p, align=align, line_pt=round(size * 1.3, 1), size=size)
    _run(p, text, "fangsong", size, bold)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _table(document, block: Table) -> None:
    columns = layout.columns_of(block)
    rows = layout.rows_of(block)
    widths_em = layout.natural_widths(columns, rows, block.wrap_em)
    size = layout.table_font_size(widths_em, layout.TEXT_WIDTH_MM, layout.TABLE_MAX_SIZE_PT)
    widths_mm = [s * layout.TEXT_WIDTH_MM for s in layout.width_shares(widths_em)]
    if block.title:
        _para(document, block.title, role="heiti", size=layout.CAPTION_SIZE_PT, align="center",
              line_pt=layout.CAPTION_SIZE_PT * 1.6, keep_with_next=True, after_pt=3)
    grid = layout.header_grid(columns)
    table = document.add_table(rows=len(grid) + len(rows), cols=len(columns))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for j, w in enumerate(widths_mm):
        table.columns[j].width = Mm(w)
    for i, row in enumerate(table.rows):
        _row_flags(row, header=i < len(grid))
        for j, cell in enumerate(row.cells):
            _set_cell_width(cell, widths_mm[j])
    for line in grid:
        for h in line:
            cell = table.cell(h.row, h.col)
            if h.rowspan > 1 or h.colspan > 1:
                cell = cell.merge(table.cell(h.row + h.rowspan - 1, h.col + h.colspan - 1))
            _cell_text(cell, h.text, "center", size, bold=True)
    for i, values in enumerate(rows, start=len(grid)):
        cells = table.rows[i].cells
        for j, (col, value) in enumerate(zip(columns, values, strict=True)):
            _cell_text(cells[j], col.text(value), col.align(value), size)
    _table_props(table, widths_mm)
    note_size = min(size, 12.0)
    for line in layout.note_lines([block.note]):
        more = not line.startswith(layout.NOTE_PREFIX)  # aligned under the first note
        _para(document, line, size=note_size, align="justify", line_pt=note_size * 1.5,
              before_pt=0 if more else 2, left_em=2 if more else 0)
    _para(document, "", size=8, align="left", line_pt=8)


def _figure(document, block: Figure) -> None:
    width = layout.figure_width_mm(block.png)
    p = _para(document, "", align="center", line_pt=None, keep_with_next=bool(block.caption),
              before_pt=4)
    p.add_run().add_picture(io.BytesIO(block.png), width=Mm(width))
    if block.caption:
        _para(document, block.caption, role="heiti", size=layout.CAPTION_SIZE_PT, align="center",
              line_pt=layout.CAPTION_SIZE_PT * 1.6, after_pt=4)


def _blocks(document, blocks: tuple[Block, ...]) -> None:
    for block in blocks:
        if isinstance(block, Heading):
            _heading(document, block)
        elif isinstance(block, Paragraph):
            _para(document, block.text, indent_em=2 if block.indent else 0)
        elif isinstance(block, Table):
            _table(document, block)
        elif isinstance(block, Figure):
            _figure(document, block)
        elif isinstance(block, PageBreak):
            _para(document, "", align="left", line_pt=None).add_run().add_break(WD_BREAK.PAGE)
        else:
            raise layout.DocumentError(_("unknown block {kind} (valid: Heading, Paragraph, "
                                         "Table, Figure, PageBreak)").format(
                                             kind=type(block).__name__))


# --------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------
def _masthead(document, doc: OfficialDocument) -> None:
    """版头: the 发文机关标志 in red 小标宋 centred, 35 mm under the top of the 版心;
    the document number two lines below (centred, or one character from the left with the
    签发人 one character from the right for an upward document); the red rule 4 mm under
    the number."""
    mark = gbt9704.masthead_text(doc)
    size = layout.masthead_size_pt(mark)
    _para(document, mark, role="xiaobiaosong", size=size, color=_RED, align="center",
          line_pt=size * layout.MASTHEAD_LINE, before_pt=layout.masthead_space_pt(mark))
    _blank(document)
    _blank(document)
    if doc.signer is None:
        number = _para(document, doc.number, align="center")
    else:
        number = _para(document, doc.number, align="left", left_em=1, right_em=1)
        stop = Mm(layout.TEXT_WIDTH_MM) - Pt(2 * layout.BODY_SIZE_PT)
        number.paragraph_format.tab_stops.add_tab_stop(stop, WD_TAB_ALIGNMENT.RIGHT)
        label, name = gbt9704.signer_text(doc)
        _run(number, "\t" + label)
        _run(number, name, role="kaiti")
    _border(number, layout.RED, 12, round(layout.RULE_GAP_MM / layout.MM_PER_PT))
    _blank(document)
    _blank(document)


def _title(document, doc: OfficialDocument) -> None:
    """The title in its lines (:func:`gbt9704.title_lines`), each ended by a line break."""
    p = _para(document, "", align="center", line_pt=layout.LINE_PITCH_PT * 1.2,
              size=layout.TITLE_SIZE_PT)
    for i, line in enumerate(gbt9704.title_lines(doc.title, keep=(doc.issuer,))):
        run = _run(p, line, "xiaobiaosong", layout.TITLE_SIZE_PT)
        if i:
            run._r.addprevious(_break_run())


def _break_run():
    r = OxmlElement("w:r")
    r.append(OxmlElement("w:br"))
    return r


def _attachment_note(document, doc: OfficialDocument) -> None:
    """附件说明: one blank line under the body, 附件 two characters from the left, a second
    name aligned under the first."""
    if not doc.attachments:
        return
    _blank(document)
    for i, line in enumerate(gbt9704.attachment_lines(doc)):
        if i == 0:
            _para(document, line, align="left", indent_em=2, keep_with_next=True)
        else:
            _para(document, line, align="left", left_em=5, keep_with_next=True)


def _seal_box(p: DocxParagraph, doc: OfficialDocument) -> None:
    """A blank dashed circle where the seal goes, anchored on the issuer line: centred on
    the date, its top 1.55 lines above the issuer line."""
    centre_em, diameter_em = gbt9704.seal_offsets_em(doc)
    em = layout.BODY_SIZE_PT
    diameter = diameter_em * em
    left = Mm(layout.TEXT_WIDTH_MM).pt - centre_em * em - diameter / 2
    top = -gbt9704.SEAL_TOP_LINES * layout.LINE_PITCH_PT
    pict = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">'
        '<w:pict><v:oval alt="印章位置" filled="f" strokecolor="#999999" strokeweight="0.75pt" '
        f'style="position:absolute;margin-left:{left:.1f}pt;margin-top:{top:.1f}pt;'
        f'width:{diameter:.1f}pt;height:{diameter:.1f}pt;z-index:-251657216;'
        'mso-position-horizontal-relative:margin;mso-position-vertical-relative:line">'
        '<v:stroke dashstyle="dash"/></v:oval></w:pict></w:r>')
    p._p.append(pict)


def _signed_sealed(document, doc: OfficialDocument) -> None:
    """The signature of a sealed document (7.3.5.1): blank lines for the seal's upper part,
    the issuer centred over the date, the date 4 characters from the right, the box."""
    date_text = date_zh(doc.date)
    issuer_right, date_right = layout.signature_indents(doc.issuer, date_text)
    for _line in range(gbt9704.SEAL_LINES_ABOVE):
        _para(document, "", align="left", keep_with_next=True)
    issuer = _para(document, doc.issuer, align="right", right_em=issuer_right,
                   keep_with_next=True)
    _seal_box(issuer, doc)
    _para(document, date_text, align="right", right_em=date_right)
    _annotation(document, doc)


def _annotation(document, doc: OfficialDocument) -> None:
    """The 附注 on the line under the 成文日期, two characters from the left (7.3.6)."""
    text = gbt9704.annotation_text(doc)
    if text:
        _para(document, text, align="left", indent_em=2)


def _attachments(document, doc: OfficialDocument) -> None:
    """Each 附件 from a new page: its mark 附件N (黑体) at the top left, its title (小标宋)
    centred a line below, then its blocks."""
    for i, item in enumerate(doc.attachments, start=1):
        _para(document, "", align="left", line_pt=None).add_run().add_break(WD_BREAK.PAGE)
        _para(document, gbt9704.attachment_label(doc, i), role="heiti", align="left",
              keep_with_next=True)
        _blank(document)
        p = _para(document, "", align="center", line_pt=layout.LINE_PITCH_PT * 1.2,
                  size=layout.TITLE_SIZE_PT, keep_with_next=True)
        for k, line in enumerate(gbt9704.title_lines(item.title)):
            run = _run(p, line, "xiaobiaosong", layout.TITLE_SIZE_PT)
            if k:
                run._r.addprevious(_break_run())
        _blank(document)
        _blocks(document, item.blocks)


def _imprint_borders(cell, top_pt: float, bottom_pt: float) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for side, width in (("top", top_pt), ("left", 0), ("bottom", bottom_pt), ("right", 0)):
        el = OxmlElement(f"w:{side}")
        if width:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(max(2, round(width * 8))))
            el.set(qn("w:color"), "000000")
        else:
            el.set(qn("w:val"), "nil")
        borders.append(el)
    tc_pr.append(borders)


def _imprint(document, doc: OfficialDocument, unnumbered: bool) -> None:
    """版记 (7.4) on a page of its own starting on an even page: pushed to the foot of the
    版心 by one line as high as the space above it; 抄送 and 印发 lines in 4号 仿宋 between
    rules (the first and last 0.35 mm, those between 0.25 mm)."""
    section = document.add_section(WD_SECTION.EVEN_PAGE)
    section.different_first_page_header_footer = False
    # 7.5: after a blank page the 版记's page, and the blank page, carry no page number (the
    # header, with the 演示数据 mark, stays linked to the body's).
    for footer in (section.footer, section.even_page_footer, section.first_page_footer):
        if not unnumbered:
            break
        footer.is_linked_to_previous = False
        for p in footer.paragraphs:
            for child in list(p._p):
                if child.tag != qn("w:pPr"):
                    p._p.remove(child)
    rows = gbt9704.imprint_rows(doc)
    space = Mm(layout.TEXT_HEIGHT_MM).pt - gbt9704.imprint_height_pt(doc) - 4
    _para(document, "", align="left", line_pt=space, size=2)
    table = document.add_table(rows=len(rows), cols=1)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    size = gbt9704.IMPRINT_SIZE_PT
    for i, (left, right) in enumerate(rows):
        cell = table.cell(i, 0)
        _set_cell_width(cell, layout.TEXT_WIDTH_MM)
        _imprint_borders(cell, gbt9704.IMPRINT_OUTER_PT if i == 0 else gbt9704.IMPRINT_INNER_PT,
                         gbt9704.IMPRINT_OUTER_PT if i == len(rows) - 1 else 0)
        p = cell.paragraphs[0]
        _format(p, align="left", line_pt=gbt9704.IMPRINT_LINE_PT, size=size, left_em=1,
                right_em=1)
        _run(p, left, "fangsong", size)
        if right:
            p.paragraph_format.tab_stops.add_tab_stop(
                Mm(layout.TEXT_WIDTH_MM) - Pt(2 * size) - Mm(2), WD_TAB_ALIGNMENT.RIGHT)
            _run(p, "\t" + right, "fangsong", size)
    _table_props(table, [layout.TEXT_WIDTH_MM])
    # The body's last paragraph (Word requires one after a table) takes no room.
    _para(document, "", align="left", line_pt=1, size=1)


def _signature(document, doc: OfficialDocument) -> None:
    date_text = date_zh(doc.date)
    issuer_right, date_right = layout.signature_indents(doc.issuer, date_text)
    _blank(document)
    _para(document, doc.issuer, align="right", right_em=issuer_right, keep_with_next=True)
    _para(document, date_text, align="right", right_em=date_right)
    _annotation(document, doc)


def _properties(document, doc: OfficialDocument) -> None:
    props = document.core_properties
    props.title = doc.title
    props.author = doc.issuer
    props.last_modified_by = doc.issuer
    props.subject = ""
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.language = "zh-CN"
    props.revision = 1
    stamp = dt.datetime.combine(doc.date, dt.time())
    props.created = stamp
    props.modified = stamp


def build_docx(doc: OfficialDocument, imprint_unnumbered: bool = False):
    """The python-docx ``Document`` of ``doc`` (not saved); ``imprint_unnumbered``: the 版记
    follows a blank page (as the PDF lays it out), so neither page is numbered."""
    document = Document()
    _styles(document)
    _page(document)
    _footers(document, doc.demo, doc.classification)
    body = document.paragraphs[0]._p if document.paragraphs else None
    if body is not None:  # the template's empty first paragraph
        body.getparent().remove(body)
    if gbt9704.has_masthead(doc):
        _masthead(document, doc)
    _title(document, doc)
    if doc.as_of is not None:
        _para(document, f"（{layout.AS_OF_LABEL}：{date_zh(doc.as_of)}）", role="kaiti",
              align="center")
    _blank(document)
    if doc.recipient:
        _para(document, doc.recipient.rstrip("：:") + "：", align="left")
    if doc.demo:
        _para(document, layout.DEMO_LINE, bold=True, indent_em=2)
    _blocks(document, doc.blocks)
    _attachment_note(document, doc)
    if doc.signed and doc.seal:
        _signed_sealed(document, doc)
    elif doc.signed:
        _signature(document, doc)
    _attachments(document, doc)
    if doc.imprint:
        _imprint(document, doc, imprint_unnumbered)
    _properties(document, doc)
    return document


def write_docx(doc: OfficialDocument, path: str | Path, imprint_unnumbered: bool = False) -> Path:
    """Write ``doc`` as a Word file at ``path`` (replaced atomically) and return the path
    (``imprint_unnumbered``: see :func:`build_docx`)."""
    document = build_docx(doc, imprint_unnumbered)
    return layout.write_atomically(path, lambda tmp: document.save(str(tmp)))
