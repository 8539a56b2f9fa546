"""Official documents in every form from one content model.

Build an :class:`OfficialDocument` (a 工作总结, 通报, 计划 or 公告 in the GB/T 9704-2012 layout)
or a :class:`TableDocument` (an official table), then write it:

- :func:`write_docx`: the Word file of an official document;
- :func:`write_pdf`: the PDF of either (WeasyPrint, Noto CJK fonts embedded);
- :func:`write_xlsx`: the workbook of an official table;
- :func:`to_html`: an HTML fragment for a browser or a notebook (also ``_repr_html_``);
- :func:`write_forms`: the files a report hands out (DOCX + PDF, or XLSX + PDF), and the
  reviewers' internal file of an official document's appendix (``stem.review.pdf``).

Every file is written to a temporary name beside its target and moved into place, so a
reader never finds a half-written file.
"""

from __future__ import annotations

from pathlib import Path

from .gbt9704 import REVIEW_SUFFIX, review_document, title_lines
from ..i18n import _
from .layout import DocumentError
from .model import (Attachment, Block, Figure, Heading, OfficialDocument, PageBreak, Paragraph,
                    Table, TableDocument)
from .pdf import imprint_after_blank, render_pdf, write_pdf, write_rendered
from .web import to_html
from .word import write_docx
from .xlsx import write_xlsx

__all__ = [
    "Attachment", "Block", "DocumentError", "Figure", "Heading", "OfficialDocument", "PageBreak",
    "Paragraph", "Table",
    "TableDocument", "review_document", "title_lines", "to_html", "write_docx", "write_forms", "write_pdf", "write_xlsx",
]


def write_forms(doc: OfficialDocument | TableDocument, stem: str | Path) -> tuple[Path, ...]:
    """Write the forms a reader is given: ``stem.docx`` and ``stem.pdf`` for an official
    document, ``stem.xlsx`` and ``stem.pdf`` for an official table; for an official document
    with a reviewers' appendix also ``stem.review.pdf`` (内部资料, :func:`review_document`:
    the appendix is never in the files sent). Each file is replaced atomically. Returns the
    paths written."""
    base = Path(stem)  # the suffixes are appended: "summary-xiong.2023Q1" keeps its dot
    if not isinstance(doc, OfficialDocument | TableDocument):
        raise DocumentError(_("cannot write {kind} (valid: OfficialDocument, "
                              "TableDocument)").format(kind=type(doc).__name__))
    rendered = render_pdf(doc)
    if isinstance(doc, OfficialDocument):
        # the Word file numbers its pages as the PDF lays them out (7.5: a 版记 after a
        # blank page, and that page, unnumbered)
        first = write_docx(doc, base.parent / f"{base.name}.docx",
                           imprint_unnumbered=imprint_after_blank(rendered))
    else:
        first = write_xlsx(doc, base.parent / f"{base.name}.xlsx")
    written = (first, write_rendered(rendered, base.parent / f"{base.name}.pdf"))
    review = review_document(doc) if isinstance(doc, OfficialDocument) else None
    if review is not None:
        written += (write_pdf(review, base.parent / f"{base.name}{REVIEW_SUFFIX}.pdf"),)
    return written
