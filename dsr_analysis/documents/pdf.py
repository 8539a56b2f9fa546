"""A document as PDF: the HTML of :mod:`~dsr_analysis.documents.web` with the rules of the
printed page (CSS paged media), laid out by WeasyPrint.

An :class:`~dsr_analysis.documents.model.OfficialDocument` is printed like its Word file
(A4, the GB/T 9704 版心, 3号 body, page numbers "— N —" at the outside corner; the 版记 at
the foot of the last page, an even one: laid out twice, the second time moved into place,
after a blank page when the body ends on an even page without room for it, and then the
blank page and the 版记's page unnumbered);
an
:class:`~dsr_analysis.documents.model.TableDocument` on A4 landscape, one page wide, the
header rows repeated on every page, numbered "第 N 页 共 M 页". Only Noto CJK fonts are used
(Debian's fonts-noto-cjk), for Chinese, Latin letters, digits and dashes alike, and
WeasyPrint embeds the subsets it uses.
"""

from __future__ import annotations

import html
from pathlib import Path

import dsr_analysis.documents.layout as layout  # the module itself, not the package
from ..i18n import _
from .model import OfficialDocument, TableDocument
from .web import Fonts, official_html, stylesheet, table_document_html

_SERIF = f'"{layout.PDF_SERIF}"'
_SANS = f'"{layout.PDF_SANS}"'

#: Fonts of the PDF: Noto Serif CJK SC for 仿宋, 宋体, 楷体 and 小标宋 (in bold), Noto Sans
#: CJK SC for 黑体; no other font, so that nothing falls back to a font without the glyph.
PDF_FONTS = Fonts(fangsong=_SERIF, kaiti=_SERIF, heiti=_SANS, xiaobiaosong=_SERIF,
                  songti=_SERIF, title_weight="bold")


def _demo_box(demo: bool) -> str:
    if not demo:
        return ""
    return (f'@top-center {{ content: "{layout.DEMO_MARK}"; font-family: {_SANS}; '
            f"font-size: 12pt; color: #{layout.RED}; letter-spacing: .3em; "
            "vertical-align: bottom; padding-bottom: 6mm; }")


def _classification_box(text: str) -> str:
    """The confidentiality mark at the top left of every page (the same text as in the
    document's HTML, where the print hides it)."""
    if not text:
        return ""
    content = text.replace("\\", "\\\\").replace('"', '\\"')
    return (f'@page {{ @top-left {{ content: "{content}"; font-family: {_SANS}; '
            f"font-size: {layout.CLASSIFICATION_SIZE_PT:g}pt; vertical-align: bottom; "
            "padding-bottom: 6mm; } }")


def _official_css(doc: OfficialDocument) -> str:
    number = (f'content: "{layout.DASH} " counter(page) " {layout.DASH}"; '
              f"font-family: {_SERIF}; font-size: {layout.PAGE_NUMBER_SIZE_PT:g}pt; "
              f"vertical-align: top; padding-top: {layout.PAGE_NUMBER_GAP_MM:g}mm; "
              # a wider space than Noto's quarter em beside the dashes (and one that text
              # extraction sees as a space)
              "word-spacing: .25em;")
    masthead_top = layout.mm(layout.masthead_space_pt(doc.issuer))
    return f"""
@page {{
  size: A4;
  margin: {layout.MARGIN_TOP_MM:g}mm {layout.MARGIN_RIGHT_MM:g}mm
          {layout.MARGIN_BOTTOM_MM:g}mm {layout.MARGIN_LEFT_MM:g}mm;
  {_demo_box(doc.demo)}
}}
@page :right {{ @bottom-right {{ {number} text-align: right; padding-right: 1em; }} }}
@page :left {{ @bottom-left {{ {number} text-align: left; padding-left: 1em; }} }}
@page :blank {{ @bottom-left {{ content: none; }} @bottom-right {{ content: none; }} }}
{_classification_box(doc.classification)}
.dsr-demo-mark {{ display: none; }}
.dsr-classification {{ display: none; }}
.dsr-masthead {{ padding-top: {masthead_top:.1f}mm; }}
"""


def _table_css(doc: TableDocument) -> str:
    return f"""
@page {{
  size: A4 landscape;
  margin: {layout.TABLE_PAGE_MARGIN_MM:g}mm;
  {_demo_box(doc.demo).replace("padding-bottom: 6mm", "padding-bottom: 3mm")}
  @bottom-center {{ content: "第 " counter(page) " 页 共 " counter(pages) " 页";
    font-family: {_SERIF}; font-size: 9pt; vertical-align: top; padding-top: 4mm;
    word-spacing: .25em; }}
}}
{_classification_box(doc.classification).replace("padding-bottom: 6mm", "padding-bottom: 3mm")}
.dsr-demo-mark {{ display: none; }}
.dsr-classification {{ display: none; }}
"""


def pdf_html(doc: OfficialDocument | TableDocument) -> str:
    """The whole HTML page WeasyPrint lays out for ``doc``."""
    if isinstance(doc, TableDocument):
        content, page, author = table_document_html(doc), _table_css(doc), doc.unit
    elif isinstance(doc, OfficialDocument):
        content, page, author = official_html(doc, appendix=False), _official_css(doc), doc.issuer
    else:
        raise layout.DocumentError(_("cannot print {kind} (valid: OfficialDocument, "
                                     "TableDocument)").format(kind=type(doc).__name__))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{html.escape(doc.title)}</title>"
            f'<meta name="author" content="{html.escape(author)}">'
            f"<style>{stylesheet(PDF_FONTS)}{page}</style></head>"
            f"<body>{content}</body></html>")


def _imprint_box(document):
    """(page index, bottom [px], page content bottom [px], height [px]) of the 版记 in a
    laid-out document, or None."""
    for index, page in enumerate(document.pages):
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            element = getattr(box, "element", None)
            if element is not None and "dsr-imprint" in (element.get("class") or "").split() \
                    and getattr(box, "element_tag", "") == "div":
                bottom = box.position_y + box.margin_height()
                limit = page._page_box.margin_height() - page._page_box.margin_bottom
                return index, bottom, limit, box.border_height()
            stack.extend(getattr(box, "children", ()))
    return None


def _place_imprint(page: str):
    """Lay out ``page`` with its 版记 at the foot of the last page, an even page (7.4): a
    first layout finds where the 版记 falls; a second moves it down on its page (an even
    one) or to the foot of the next page (after an odd one)."""
    import weasyprint

    document = weasyprint.HTML(string=page).render()
    found = _imprint_box(document)
    if found is None:
        return document
    index, bottom, limit, height = found
    px_per_pt = 96 / 72
    if (index + 1) % 2 == 0:
        extra = max(0.0, limit - bottom) / px_per_pt - 1  # 1 pt short of the edge: rounding
        rule = f".dsr-imprint {{ margin-top: {layout.LINE_PITCH_PT + max(0.0, extra):.2f}pt; }}"
    else:
        text_height = layout.TEXT_HEIGHT_MM / layout.MM_PER_PT
        top = text_height - height / px_per_pt - 1
        # the next even (left) page: after a body ending on an even page without room for
        # the 版记, a blank page comes first (unnumbered, :blank)
        rule = (".dsr-imprint { break-before: left; page-break-before: left; "
                f"margin-top: {top:.2f}pt; }}")
    placed = weasyprint.HTML(string=page.replace("</style>", rule + "</style>", 1)).render()
    found = _imprint_box(placed)
    if found is None or found[0] == 0 or not _blank(placed.pages[found[0] - 1]):
        return placed
    # 7.5.2 (版记页前有空白页的，空白页和版记页均不编排页码): the 版记's page unnumbered too
    rule += f"@page :nth({found[0] + 1}) {{ @bottom-left {{ content: none; }} }}"
    return weasyprint.HTML(string=page.replace("</style>", rule + "</style>", 1)).render()


def _blank(page) -> bool:
    """True for a page WeasyPrint inserted to reach a left or right page."""
    page_type = getattr(page._page_box, "page_type", None)
    return bool(getattr(page_type, "blank", False))


def render_pdf(doc: OfficialDocument | TableDocument):
    """The laid-out WeasyPrint document of ``doc`` (its 版记 placed)."""
    import weasyprint

    page = pdf_html(doc)
    if isinstance(doc, OfficialDocument) and doc.imprint:
        return _place_imprint(page)
    return weasyprint.HTML(string=page).render()


def imprint_after_blank(rendered) -> bool:
    """True when the 版记 of a laid-out document (:func:`render_pdf`) follows a blank page
    (7.5: then neither page is numbered)."""
    found = _imprint_box(rendered)
    return found is not None and found[0] > 0 and _blank(rendered.pages[found[0] - 1])


def write_rendered(rendered, path: str | Path) -> Path:
    """Write a laid-out document (:func:`render_pdf`) at ``path`` (replaced atomically)."""
    return layout.write_atomically(path, lambda tmp: rendered.write_pdf(str(tmp)))


def write_pdf(doc: OfficialDocument | TableDocument, path: str | Path) -> Path:
    """Write ``doc`` as PDF at ``path`` (replaced atomically) and return the path."""
    return write_rendered(render_pdf(doc), path)
