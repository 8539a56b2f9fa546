"""Measures and texts of the elements of GB/T 9704-2012 that every form (DOCX, PDF, HTML)
prints alike: the title's lines, the 附件说明, the 签发人 line, the seal box, the 版记.

Pure functions of the document's content; the writers only place what they return.
"""

from __future__ import annotations

import math
import re

import dsr_analysis.documents.layout as layout  # the module itself, not the package
from ..periods import date_zh
from .model import OfficialDocument

#: Seal diameter [mm] (a bureau's official seal is 42 mm across).
SEAL_MM = 42.0
#: Blank lines between the body (or the 附件说明) and the issuer's name of a sealed document,
#: so that the seal's top is within a line of the body (7.3.5.1).
SEAL_LINES_ABOVE = 2
#: The seal's top edge above the issuer line [lines]: the issuer and the date sit below the
#: seal's centre (居印章中心偏下).
SEAL_TOP_LINES = 1.55
#: Font size of the 版记 [pt] (4号).
IMPRINT_SIZE_PT = 14.0
#: Height of one 版记 line [pt].
IMPRINT_LINE_PT = 14.0 * 1.9
#: Width [pt] of the first and last rule of the 版记 (0.35 mm) and of the rules between (0.25 mm).
IMPRINT_OUTER_PT = 0.35 / layout.MM_PER_PT
IMPRINT_INNER_PT = 0.25 / layout.MM_PER_PT
#: A blank to sign or fill in by hand.
BLANK = "\u3000" * 4

# A part of a title never broken: a quoted name, a number with the character after it
# (2023年, 12号), a parenthesised number (（第1次调整）), a Latin word.
_KEEP_PATTERN = (r"“[^”]*”|《[^》]*》|[0-9０-９]+(?:[.．][0-9]+)?(?:年度|[年月日号次个%％])?|[A-Za-z]+"
                 r"|关于|第[一二三四]季度|生态环境局|监管工作|工作情况|考核评估|抽查计划")
_NO_LINE_START = set("，。、；：？！）》”’%％")
_NO_LINE_END = set("（《“‘")


def _pieces(title: str, keep: tuple[str, ...] = ()) -> list[str]:
    """The title as pieces a line may break between (every other character a piece);
    ``keep``: names kept whole (the issuer's)."""
    pieces: list[str] = []
    pos = 0
    names = "|".join(re.escape(k) for k in sorted(keep, key=len, reverse=True) if k)
    pattern = re.compile((names + "|" if names else "") + _KEEP_PATTERN)
    for m in pattern.finditer(title):
        pieces.extend(title[pos:m.start()])
        pieces.append(m.group())
        pos = m.end()
    pieces.extend(title[pos:])
    merged: list[str] = []
    for p in pieces:  # punctuation that may not start a line joins the piece before it
        if merged and (p[0] in _NO_LINE_START or merged[-1][-1] in _NO_LINE_END):
            merged[-1] += p
        else:
            merged.append(p)
    return merged


def title_max_em(size_pt: float = layout.TITLE_SIZE_PT) -> float:
    """Characters of the title's size a line of the 版心 holds (one kept free)."""
    return math.floor(layout.TEXT_WIDTH_MM / layout.mm(size_pt)) - 1


def title_lines(title: str, max_em: float | None = None,
                keep: tuple[str, ...] = ()) -> list[str]:
    """The lines of a title (标题, 7.3.1): as few as fit ``max_em`` each, of nearly equal
    length (梯形或菱形), never broken inside a quoted name (“双随机、一公开”), a book title,
    a number (2023年), a Latin word, a name in ``keep`` (the issuer's) or a few words of
    the regime (关于, 第一季度, 监管工作…), nor before closing or after opening punctuation."""
    limit = title_max_em() if max_em is None else max_em
    pieces = _pieces(title, keep)
    widths = [layout.em_width(p) for p in pieces]
    total = sum(widths)
    if total <= limit or len(pieces) < 2:
        return [title]
    n = len(pieces)
    prefix = [0.0]
    for w in widths:
        prefix.append(prefix[-1] + w)

    def width(i: int, j: int) -> float:
        return prefix[j] - prefix[i]

    for count in range(max(2, math.ceil(total / limit)), n + 1):
        # best[k][j]: the smallest widest line splitting pieces[:j] into k lines
        inf = float("inf")
        best = [[inf] * (n + 1) for _ in range(count + 1)]
        cut = [[0] * (n + 1) for _ in range(count + 1)]
        best[0][0] = 0.0
        for k in range(1, count + 1):
            for j in range(1, n + 1):
                for i in range(k - 1, j):
                    w = width(i, j)
                    if w > limit or best[k - 1][i] == inf:
                        continue
                    score = max(best[k - 1][i], w)
                    if score < best[k][j]:
                        best[k][j], cut[k][j] = score, i
        if best[count][n] < inf:
            bounds, j = [], n
            for k in range(count, 0, -1):
                bounds.append((cut[k][j], j))
                j = cut[k][j]
            return ["".join(pieces[i:j]) for i, j in reversed(bounds)]
    return [title]  # a single piece wider than a line


def attachment_lines(doc: OfficialDocument) -> list[str]:
    """The 附件说明 (7.3.4): "附件：名称" for one attachment, "附件：1. 名称" and "2. 名称"
    (aligned under the first name) for several; no punctuation after a name."""
    titles = [a.title for a in doc.attachments]
    if len(titles) == 1:
        return [f"附件：{titles[0]}"]
    return [f"{'附件：' if i == 1 else ''}{i}. {t}" for i, t in enumerate(titles, start=1)]


def attachment_label(doc: OfficialDocument, index: int) -> str:
    """The mark at the top left of an attachment's first page: 附件 or 附件2."""
    return "附件" if len(doc.attachments) == 1 else f"附件{index}"


def signer_text(doc: OfficialDocument) -> tuple[str, str]:
    """The 签发人 label and the name (a blank to sign by hand when none is configured)."""
    return "签发人：", doc.signer or BLANK


def masthead_text(doc: OfficialDocument) -> str:
    """The 发文机关标志: the configured mark, else the issuer's name."""
    return doc.masthead or doc.issuer


def has_masthead(doc: OfficialDocument) -> bool:
    """True when the document has a 版头 (a mark or a number)."""
    return bool(doc.masthead or doc.number)


def seal_offsets_em(doc: OfficialDocument) -> tuple[float, float]:
    """The seal box's centre [em of the body size] from the right edge of the 版心, and its
    diameter [em]: centred on the date line (the date 4 characters from the right edge)."""
    date_w = layout.em_width(date_zh(doc.date))
    centre = layout.DATE_RIGHT_INDENT_EM + date_w / 2
    return centre, SEAL_MM / layout.mm(layout.BODY_SIZE_PT)


def annotation_text(doc: OfficialDocument) -> str:
    """The 附注 as printed (7.3.6): in parentheses (full-width), none when empty."""
    text = doc.annotation.strip().strip("（）()")
    return f"（{text}）" if text else ""


def imprint_rows(doc: OfficialDocument) -> list[tuple[str, str]]:
    """The 版记's lines (7.4): ("抄送：A，B。", "") when there are 抄送机关, then
    (印发机关, "2023年4月6日印发")."""
    rows = []
    if doc.copy_to:
        rows.append((f"抄送：{'，'.join(doc.copy_to)}。", ""))
    printed = doc.printed_on or doc.date
    rows.append((doc.printed_by or BLANK, f"{date_zh(printed)}印发"))
    return rows


def imprint_height_pt(doc: OfficialDocument) -> float:
    """The 版记's height [pt] (its lines and rules)."""
    rows = imprint_rows(doc)
    return len(rows) * IMPRINT_LINE_PT + 2 * IMPRINT_OUTER_PT + (len(rows) - 1) * IMPRINT_INNER_PT


#: The mark of the reviewers' file (not sent, not published).
REVIEW_MARK = "内部资料"
#: The suffix of the reviewers' file beside the document (``summary-xiongxian.review.pdf``).
REVIEW_SUFFIX = ".review"


def review_document(doc: OfficialDocument) -> OfficialDocument | None:
    """The reviewers' file of ``doc`` (审核材料, internal): its ``appendix`` (the clauses of
    the plan each part rests on) under the document's title, marked 内部资料 on every page,
    unsigned; None when the document has no appendix."""
    from dataclasses import replace

    from .model import Heading, Paragraph

    if not doc.appendix:
        return None
    blocks = doc.appendix
    if not isinstance(blocks[0], Heading):
        blocks = (Heading(layout.APPENDIX_DEFAULT, 1), *blocks)
    intro = Paragraph(f"本材料供审核《{doc.title}》时核对各项内容的依据，不随文件报送或公开。")
    return replace(doc, title=f"{doc.title}（审核材料）", blocks=(intro, *blocks), appendix=(),
                   recipient="", classification=REVIEW_MARK, signed=False, masthead="",
                   number="", signer=None, attachments=(), seal=False, imprint=False,
                   public=False)
