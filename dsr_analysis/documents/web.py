"""A document as an HTML fragment for the browser and the notebook, from the same content
as the Word file and the PDF (the PDF is this HTML with the rules of the printed page).

Every text is escaped with :func:`html.escape`; figures are embedded as base64 PNG; tables
keep the alignment (text left, numbers right, header centred) and the percentages of the
other forms, at a fixed layout and a font size at which every column fits the page.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

from ..i18n import _
from ..periods import date_zh
import dsr_analysis.documents.layout as layout  # the module itself, not the package
import dsr_analysis.documents.gbt9704 as gbt9704
from .model import (Block, Figure, Heading, OfficialDocument, PageBreak, Paragraph, Table,
                    TableDocument, set_html_writer)


@dataclass(frozen=True)
class Fonts:
    """CSS font stacks of each role, and the weight that stands in for 小标宋."""

    fangsong: str
    kaiti: str
    heiti: str
    xiaobiaosong: str
    songti: str
    title_weight: str = "normal"


#: Fonts of a browser: the office's own fonts first, Noto CJK where they are missing.
WEB_FONTS = Fonts(
    fangsong='"仿宋_GB2312", "仿宋", FangSong, STFangsong, "Noto Serif CJK SC", '
             '"Source Han Serif SC", serif',
    kaiti='"楷体_GB2312", "楷体", KaiTi, STKaiti, "Noto Serif CJK SC", serif',
    heiti='"黑体", SimHei, "Noto Sans CJK SC", "Source Han Sans SC", sans-serif',
    xiaobiaosong='"方正小标宋简体", "方正小标宋_GBK", "Noto Serif CJK SC", '
                 '"Source Han Serif SC", serif',
    songti='"宋体", SimSun, "Noto Serif CJK SC", serif',
    title_weight="normal",
)

_e = html.escape


def _gap(lines: float = 1.0) -> str:
    return f'<div class="dsr-gap" style="height:{lines * layout.LINE_PITCH_PT:.2f}pt"></div>'


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------
def table_html(table: Table, available_mm: float, max_pt: float,
               title_and_note: bool = True, row_height_mm: float = 0.0) -> str:
    """A table at the largest font size at which its columns fit ``available_mm``, the
    header rows in ``<thead>`` so that print repeats them; with its caption above and its
    note below unless ``title_and_note`` is False (an official table prints its own); body
    rows at least ``row_height_mm`` high. A code or a date never wraps (``dsr-nw``); a
    header label keeps the line breaks of :attr:`Table.header_lines`."""
    columns = layout.columns_of(table)
    rows = layout.rows_of(table)
    widths = layout.natural_widths(columns, rows, table.wrap_em, table.padding_em,
                                   table.wrap_columns)
    size = layout.table_font_size(widths, available_mm, max_pt)
    if size < max_pt:  # the room the half-point step leaves goes to texts that wrap
        wants = layout.natural_widths(columns, rows, float("inf"), table.padding_em)
        widths = layout.spread_widths(widths, wants, available_mm / layout.mm(size))
    pad = ("" if table.padding_em is None
           else f' style="{layout.cell_padding_css(table.padding_em)}"')
    natural_mm = min(available_mm, sum(widths) * layout.mm(size))
    cols = "".join(f'<col style="width:{100 * s:.3f}%">' for s in layout.width_shares(widths))
    head = []
    for line in layout.header_grid(columns):
        cells = []
        for h in line:
            span = (f' rowspan="{h.rowspan}"' if h.rowspan > 1 else "") + \
                   (f' colspan="{h.colspan}"' if h.colspan > 1 else "")
            text = "<br>".join(_e(x) for x in h.text.split("\n"))
            cells.append(f'<th scope="col"{span}{pad}>{text}</th>')
        head.append(f"<tr>{''.join(cells)}</tr>")
    body = []
    tr = f'<tr style="height:{row_height_mm:g}mm">' if row_height_mm else "<tr>"
    for values in rows:
        cells = "".join(
            f'<td class="dsr-{col.align(v)[0]}{" dsr-nw" if col.nowrap else ""}"{pad}>'
            f"{_e(col.text(v))}</td>"
            for col, v in zip(columns, values, strict=True))
        body.append(f"{tr}{cells}</tr>")
    parts = ['<div class="dsr-table-block">']
    if title_and_note and table.title:
        parts.append(f'<p class="dsr-caption">{_e(table.title)}</p>')
    parts.append(
        f'<div class="dsr-table-wrap"><table class="dsr-table" style="font-size:{size:g}pt;'
        f'min-width:{natural_mm:.1f}mm"><colgroup>{cols}</colgroup>'
        f"<thead>{''.join(head)}</thead><tbody>{''.join(body)}</tbody></table></div>")
    note_size = min(size, 12.0)
    for line in layout.note_lines([table.note] if title_and_note else []):
        parts.append(f'<p class="{_note_class(line)}" style="font-size:{note_size:g}pt">'
                     f"{_e(line)}</p>")
    parts.append("</div>")
    return "".join(parts)


def _note_class(line: str) -> str:
    """A note's class: a second or later numbered note aligns under the first (after 注：)."""
    return "dsr-note" if line.startswith(layout.NOTE_PREFIX) else "dsr-note dsr-note-more"


def _figure_html(block: Figure) -> str:
    width = layout.figure_width_mm(block.png)
    data = base64.b64encode(block.png).decode("ascii")
    caption = (f'<figcaption class="dsr-caption">{_e(block.caption)}</figcaption>'
               if block.caption else "")
    return (f'<figure class="dsr-figure"><img src="data:image/png;base64,{data}" '
            f'alt="{_e(block.caption)}" style="width:{width:.1f}mm">{caption}</figure>')


def blocks_html(blocks: tuple[Block, ...]) -> str:
    """The body blocks of an official document."""
    out = []
    for block in blocks:
        if isinstance(block, Heading):
            if block.level not in (1, 2, 3):
                raise layout.DocumentError(_("heading '{text}': level {level} (valid: 1, 2, "
                                             "3)").format(text=block.text, level=block.level))
            tag = f"h{block.level + 1}"
            out.append(f'<{tag} class="dsr-h{block.level}">{_e(block.text)}</{tag}>')
        elif isinstance(block, Paragraph):
            cls = "dsr-body" if block.indent else "dsr-body dsr-flush"
            out.append(f'<p class="{cls}">{_e(block.text)}</p>')
        elif isinstance(block, Table):
            out.append(table_html(block, layout.TEXT_WIDTH_MM, layout.TABLE_MAX_SIZE_PT))
        elif isinstance(block, Figure):
            out.append(_figure_html(block))
        elif isinstance(block, PageBreak):
            out.append('<div class="dsr-page-break"></div>')
        else:
            raise layout.DocumentError(_("unknown block {kind} (valid: Heading, Paragraph, "
                                         "Table, Figure, PageBreak)").format(
                                             kind=type(block).__name__))
    return "".join(out)


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------
def official_html(doc: OfficialDocument, appendix: bool = True) -> str:
    """The content of an official document, in the order of the Word file; the reviewers'
    appendix after it unless ``appendix`` is False (the PDF sent never has it)."""
    out = ['<div class="dsr-doc dsr-official" lang="zh-CN">']
    if doc.demo:
        out.append(f'<p class="dsr-demo-mark">{layout.DEMO_MARK}</p>')
    if doc.classification:
        out.append(f'<p class="dsr-classification">{_e(doc.classification)}</p>')
    if gbt9704.has_masthead(doc):
        out.append(_masthead_html(doc))
    lines = "<br>".join(f'<span class="dsr-title-line">{_e(x)}</span>'
                        for x in gbt9704.title_lines(doc.title, keep=(doc.issuer,)))
    out.append(f'<h1 class="dsr-title">{lines}</h1>')
    if doc.as_of is not None:
        out.append(f'<p class="dsr-as-of">（{layout.AS_OF_LABEL}：{date_zh(doc.as_of)}）</p>')
    out.append(_gap())
    if doc.recipient:
        out.append(f'<p class="dsr-recipient">{_e(doc.recipient.rstrip("：:"))}：</p>')
    if doc.demo:
        out.append(f'<p class="dsr-body dsr-demo-line">{layout.DEMO_LINE}</p>')
    out.append(blocks_html(doc.blocks))
    if doc.attachments:
        out.append(_gap() + '<div class="dsr-attachment-note">' + "".join(
            f'<p class="{"dsr-att-first" if i == 0 else "dsr-att-more"}">{_e(x)}</p>'
            for i, x in enumerate(gbt9704.attachment_lines(doc))) + "</div>")
    if doc.signed:
        out.append(_signature_html(doc))
        if gbt9704.annotation_text(doc):
            out.append(f'<p class="dsr-body dsr-annotation">{_e(gbt9704.annotation_text(doc))}</p>')
    for i, item in enumerate(doc.attachments, start=1):
        title = "<br>".join(f'<span class="dsr-title-line">{_e(x)}</span>'
                            for x in gbt9704.title_lines(item.title))
        out.append(f'<section class="dsr-attachment"><p class="dsr-attachment-mark">'
                   f'{_e(gbt9704.attachment_label(doc, i))}</p>{_gap()}'
                   f'<h2 class="dsr-title dsr-attachment-title">{title}</h2>{_gap()}'
                   f"{blocks_html(item.blocks)}</section>")
    if doc.imprint:
        out.append(_imprint_html(doc))
    if appendix and doc.appendix:
        blocks = doc.appendix
        title = layout.APPENDIX_DEFAULT
        if isinstance(blocks[0], Heading):
            title, blocks = blocks[0].text, blocks[1:]
        out.append(f'<section class="dsr-appendix"><h2 class="dsr-appendix-title">'
                   f'附：{_e(title)}</h2>{_gap()}{blocks_html(blocks)}</section>')
    out.append("</div>")
    return "".join(out)


def _masthead_html(doc: OfficialDocument) -> str:
    """版头: the red mark, the number (with the 签发人 of an upward document), the red rule."""
    mark = gbt9704.masthead_text(doc)
    size = layout.masthead_size_pt(mark)
    if doc.signer is None:
        number = f'<p class="dsr-number">{_e(doc.number)}</p>'
    else:
        label, name = gbt9704.signer_text(doc)
        number = (f'<p class="dsr-number dsr-number-signed"><span>{_e(doc.number)}</span>'
                  f'<span class="dsr-signer">{_e(label)}<span class="dsr-signer-name">'
                  f"{_e(name)}</span></span></p>")
    return (f'<div class="dsr-masthead"><p class="dsr-issuer-mark" '
            f'style="font-size:{size:g}pt">{_e(mark)}</p>{number}</div>')


def _signature_html(doc: OfficialDocument) -> str:
    """The issuer and the date; for a sealed document blank lines and the seal's box."""
    date_text = date_zh(doc.date)
    issuer_right, date_right = layout.signature_indents(doc.issuer, date_text)
    if not doc.seal:
        return (f'{_gap()}<div class="dsr-signature">'
                f'<p style="padding-right:{issuer_right:g}em">{_e(doc.issuer)}</p>'
                f'<p style="padding-right:{date_right:g}em">{date_text}</p></div>')
    centre, _ = gbt9704.seal_offsets_em(doc)
    top = gbt9704.SEAL_TOP_LINES * layout.LINE_PITCH_PT
    size = gbt9704.SEAL_MM
    left = layout.TEXT_WIDTH_MM - centre * layout.mm(layout.BODY_SIZE_PT) - size / 2
    box = (f'<div class="dsr-seal" title="印章位置" style="width:{size:g}mm;height:{size:g}mm;'
           f'left:{left:.1f}mm;top:-{top:.2f}pt"></div>')
    return (f'{_gap(gbt9704.SEAL_LINES_ABOVE)}<div class="dsr-signature dsr-sealed">{box}'
            f'<p style="padding-right:{issuer_right:g}em">{_e(doc.issuer)}</p>'
            f'<p style="padding-right:{date_right:g}em">{date_text}</p></div>')


def _imprint_html(doc: OfficialDocument) -> str:
    """版记: its lines between rules."""
    rows = "".join(f'<div class="dsr-imprint-row"><span>{_e(left)}</span>'
                   + (f"<span>{_e(right)}</span>" if right else "")
                   + "</div>" for left, right in gbt9704.imprint_rows(doc))
    return f'<div class="dsr-imprint">{rows}</div>'


def table_document_html(doc: TableDocument) -> str:
    """The content of an official table: title, filing line, table, notes, signatures."""
    out = ['<div class="dsr-doc dsr-table-doc" lang="zh-CN">']
    if doc.demo:
        out.append(f'<p class="dsr-demo-mark">{layout.DEMO_MARK}</p>')
    if doc.classification:
        out.append(f'<p class="dsr-classification">{_e(doc.classification)}</p>')
    out.append(f'<h1 class="dsr-table-title">{_e(doc.title)}</h1>')
    filing = "".join(f"<span>{_e(x)}</span>" for x in layout.filing_items(doc))
    if doc.marks:  # a statistical form: the filing lines left, its marks right
        marks = "".join(f"<p>{_e(x)}</p>" for x in layout.mark_items(doc))
        out.append(f'<div class="dsr-form-head"><div class="dsr-filing dsr-filing-stack">'
                   f'{filing}</div><div class="dsr-marks">{marks}</div></div>')
    else:
        out.append(f'<div class="dsr-filing">{filing}</div>')
    out.append(table_html(doc.table, layout.TABLE_PAGE_WIDTH_MM,
                          layout.TABLE_DOC_MAX_SIZE_PT, title_and_note=False,
                          row_height_mm=doc.row_height_mm))
    notes = layout.table_document_notes(doc)
    if notes:
        out.append('<div class="dsr-notes">' + "".join(
            f'<p class="{_note_class(n)}">{_e(n)}</p>' for n in notes) + "</div>")
    statements = ('<div class="dsr-statements">' + "".join(
        f"<p>{_e(x)}</p>" for x in doc.statements) + "</div>") if doc.statements else ""
    if doc.sealed:  # the statements left, the issuer and date under the seal right
        out.append(f'<div class="dsr-closing">{statements or "<div></div>"}'
                   f'<div class="dsr-issued"><div class="dsr-table-seal">{layout.SEAL_LABEL}</div>'
                   + "".join(f"<p>{_e(x)}</p>" for x in layout.issued_items(doc))
                   + "</div></div>")
    else:
        out.append(statements)
    if layout.sign_line(doc):
        out.append('<div class="dsr-sign">' + "".join(
            f"<span>{_e(x)}</span>" for x in layout.signature_items(doc)) + "</div>")
    out.append("</div>")
    return "".join(out)


# --------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------
def stylesheet(fonts: Fonts) -> str:
    """The CSS of both kinds of document (screen and print alike)."""
    pitch = layout.LINE_PITCH_PT
    return f"""
.dsr-doc {{ color: #000; background: #fff; font-family: {fonts.fangsong}; }}
.dsr-doc p, .dsr-doc h1, .dsr-doc h2, .dsr-doc h3, .dsr-doc h4, .dsr-doc figure {{ margin: 0; }}
.dsr-demo-mark {{ font-family: {fonts.heiti}; color: #{layout.RED}; text-align: center !important;
  font-size: 12pt; letter-spacing: .3em; }}
.dsr-official {{ font-size: {layout.BODY_SIZE_PT:g}pt; line-height: {pitch}pt;
  text-align: justify !important; overflow-wrap: anywhere; }}
.dsr-official .dsr-body {{ text-indent: 2em !important; }}
.dsr-official .dsr-flush {{ text-indent: 0 !important; }}
.dsr-official .dsr-demo-line {{ font-weight: bold; }}
.dsr-masthead {{ text-align: center !important; border-bottom: 1.5pt solid #{layout.RED};
  padding-bottom: {layout.RULE_GAP_MM:g}mm; margin-bottom: {2 * pitch:.2f}pt; }}
.dsr-issuer-mark {{ font-family: {fonts.xiaobiaosong}; font-weight: {fonts.title_weight};
  color: #{layout.RED}; line-height: {layout.MASTHEAD_LINE:g}; }}
.dsr-number {{ margin-top: {2 * pitch:.2f}pt !important; }}
.dsr-number-signed {{ display: flex; justify-content: space-between; padding: 0 1em; }}
.dsr-signer-name {{ font-family: {fonts.kaiti}; }}
.dsr-title-line {{ white-space: nowrap; }}
.dsr-attachment-note p {{ text-indent: 0 !important; }}
.dsr-att-first {{ padding-left: 2em; }}
.dsr-att-more {{ padding-left: 5em; }}
.dsr-sealed {{ position: relative; }}
.dsr-seal {{ position: absolute; border: .75pt dashed #999; border-radius: 50%;
  box-sizing: border-box; }}
.dsr-attachment {{ break-before: page; page-break-before: always; }}
.dsr-attachment-mark {{ font-family: {fonts.heiti}; text-indent: 0 !important; }}
.dsr-imprint {{ margin-top: {pitch:.2f}pt; font-size: {gbt9704.IMPRINT_SIZE_PT:g}pt;
  line-height: {gbt9704.IMPRINT_LINE_PT:.2f}pt; break-inside: avoid; page-break-inside: avoid;
  text-align: left !important; }}
.dsr-imprint-row {{ border-top: {gbt9704.IMPRINT_INNER_PT:.2f}pt solid #000; padding: 0 1em;
  display: flex; justify-content: space-between; }}
.dsr-imprint-row:first-child {{ border-top-width: {gbt9704.IMPRINT_OUTER_PT:.2f}pt; }}
.dsr-imprint-row:last-child {{ border-bottom: {gbt9704.IMPRINT_OUTER_PT:.2f}pt solid #000; }}
.dsr-title {{ font-family: {fonts.xiaobiaosong}; font-weight: {fonts.title_weight};
  font-size: {layout.TITLE_SIZE_PT:g}pt; line-height: {1.2 * pitch:.2f}pt; text-align: center !important; }}
.dsr-as-of {{ font-family: {fonts.kaiti}; text-align: center !important; }}
.dsr-official h2, .dsr-official h3, .dsr-official h4 {{ font-size: {layout.BODY_SIZE_PT:g}pt;
  line-height: {pitch}pt; text-indent: 2em !important; break-after: avoid; page-break-after: avoid; }}
.dsr-official .dsr-h1 {{ font-family: {fonts.heiti}; font-weight: normal; }}
.dsr-official .dsr-h2 {{ font-family: {fonts.kaiti}; font-weight: normal; }}
.dsr-official .dsr-h3 {{ font-family: {fonts.fangsong}; font-weight: bold; }}
.dsr-official .dsr-appendix-title {{ font-family: {fonts.heiti}; font-weight: normal;
  text-indent: 0 !important; }}
.dsr-signature, .dsr-signature p {{ text-align: right !important; break-inside: avoid; page-break-inside: avoid; }}
.dsr-appendix {{ break-before: page; page-break-before: always; }}
.dsr-page-break {{ break-before: page; page-break-before: always; }}
.dsr-classification {{ font-family: {fonts.heiti}; font-size: {layout.CLASSIFICATION_SIZE_PT:g}pt;
  text-align: left !important; text-indent: 0 !important; }}
.dsr-caption {{ font-family: {fonts.heiti}; font-size: {layout.CAPTION_SIZE_PT:g}pt;
  line-height: 1.6; text-align: center !important; text-indent: 0 !important; break-after: avoid;
  page-break-after: avoid; margin-bottom: 3pt !important; }}
.dsr-figure {{ text-align: center !important; margin: 4pt 0 !important; break-inside: avoid;
  page-break-inside: avoid; }}
.dsr-figure img {{ display: block; margin: 0 auto 2pt; max-width: 100%; height: auto; }}
.dsr-figure .dsr-caption {{ margin: 0 !important; }}
.dsr-official .dsr-table-block {{ margin-bottom: {pitch / 2:.2f}pt; }}
.dsr-table-wrap {{ overflow-x: auto; }}
.dsr-table {{ border-collapse: collapse; width: 100%; table-layout: fixed; line-height: 1.3;
  text-indent: 0 !important; text-align: left !important; margin: 0 auto; font-family: {fonts.fangsong}; }}
.dsr-table th, .dsr-table td {{ border: .5pt solid #000; padding: .12em .3em;
  vertical-align: middle; overflow-wrap: anywhere; }}
.dsr-table th {{ text-align: center !important; font-weight: bold; }}
.dsr-table td.dsr-l {{ text-align: left !important; }}
.dsr-table td.dsr-r {{ text-align: right !important; white-space: nowrap; }}
.dsr-table tr {{ break-inside: avoid; page-break-inside: avoid; }}
.dsr-table thead {{ display: table-header-group; }}
.dsr-note {{ line-height: 1.5; text-indent: 0 !important; margin: 2pt 0 0 !important; }}
.dsr-note-more {{ padding-left: 2em; margin-top: 0 !important; }}
.dsr-notes .dsr-note {{ margin: 0 !important; line-height: 1.5; }}
.dsr-table-doc {{ font-size: 10.5pt; line-height: 1.5; }}
.dsr-table-title {{ font-family: {fonts.xiaobiaosong}; font-weight: {fonts.title_weight};
  font-size: 18pt; line-height: 1.4; text-align: center !important; margin-bottom: 3mm !important; }}
.dsr-filing, .dsr-sign {{ display: flex; justify-content: space-between; flex-wrap: wrap;
  column-gap: 4em; }}
.dsr-filing {{ margin-bottom: 2mm; }}
.dsr-notes {{ margin-top: 1.5mm; font-size: 9pt; }}
.dsr-sign {{ margin-top: 6mm; break-inside: avoid; page-break-inside: avoid; }}
.dsr-table td.dsr-nw {{ white-space: nowrap; overflow-wrap: normal; }}
.dsr-form-head {{ display: flex; justify-content: space-between; align-items: flex-end;
  margin-bottom: 2mm; }}
.dsr-filing-stack {{ display: block; margin-bottom: 0; }}
.dsr-filing-stack span {{ display: block; }}
.dsr-marks {{ font-size: 10pt; line-height: 1.45; text-align: left !important; }}
.dsr-statements {{ margin-top: 2mm; }}
.dsr-statements p {{ text-indent: 0 !important; }}
.dsr-closing {{ display: flex; justify-content: space-between; align-items: flex-start;
  column-gap: 8mm; break-inside: avoid; page-break-inside: avoid; break-before: avoid;
  page-break-before: avoid; }}
.dsr-table-doc .dsr-notes {{ break-before: avoid; page-break-before: avoid; }}
.dsr-issued {{ position: relative; flex: none; width: {layout.SEAL_DIAMETER_MM + 30:g}mm;
  margin: 2mm 3em 0 auto; padding: 15mm 0 14mm; text-align: center !important;
  font-size: 12pt; line-height: 1.6; }}
.dsr-table-seal {{ position: absolute; top: 0; left: 15mm; width: {layout.SEAL_DIAMETER_MM:g}mm;
  height: {layout.SEAL_DIAMETER_MM:g}mm; box-sizing: border-box; border: .6pt dashed #888;
  border-radius: 50%; color: #888; font-size: 9pt; padding-top: 4mm;
  text-align: center !important; }}
"""


def _web_css(doc: OfficialDocument | TableDocument) -> str:
    if isinstance(doc, TableDocument):
        page = f"@page {{ size: A4 landscape; margin: {layout.TABLE_PAGE_MARGIN_MM:g}mm; }}"
        width = layout.TABLE_PAGE_WIDTH_MM
    else:
        page = (f"@page {{ size: A4; margin: {layout.MARGIN_TOP_MM:g}mm "
                f"{layout.MARGIN_RIGHT_MM:g}mm {layout.MARGIN_BOTTOM_MM:g}mm "
                f"{layout.MARGIN_LEFT_MM:g}mm; }}")
        width = layout.TEXT_WIDTH_MM
    return stylesheet(WEB_FONTS) + f"""
@media screen {{
  .dsr-doc {{ max-width: {width:g}mm; padding: 8mm 10mm; margin: 0 auto;
    box-shadow: 0 0 3px #999; }}
  .dsr-appendix {{ border-top: 1px dashed #999; margin-top: 10mm; padding-top: 6mm; }}
}}
@media print {{
  {page}
  .dsr-doc {{ max-width: none; padding: 0; box-shadow: none; }}
  .dsr-table-wrap {{ overflow: visible; }}
  .dsr-demo-mark {{ position: fixed; top: 0; left: 0; right: 0; }}
}}
"""


def to_html(doc: OfficialDocument | TableDocument) -> str:
    """An HTML fragment (a ``<style>`` and one ``<div>``) of ``doc`` for a browser or a
    notebook; it prints within A4 (portrait for a document, landscape for a table)."""
    if isinstance(doc, TableDocument):
        content = table_document_html(doc)
    elif isinstance(doc, OfficialDocument):
        content = official_html(doc)
    else:
        raise layout.DocumentError(_("cannot show {kind} (valid: OfficialDocument, "
                                     "TableDocument)").format(kind=type(doc).__name__))
    return f"<style>{_web_css(doc)}</style>{content}"


set_html_writer(to_html)  # the HTML of a document in a notebook (its ``_repr_html_``)
