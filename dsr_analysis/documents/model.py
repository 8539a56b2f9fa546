"""The content of an official document, independent of its form (DOCX, PDF, HTML, XLSX).

A report builds one :class:`OfficialDocument` (a 报告, 通报, 计划 or 公告 in the national
layout for official documents, GB/T 9704-2012, its 附件 as :class:`Attachment`) or one
:class:`TableDocument` (an official table: 统计表, 公示表); the writers in this package turn the same object into every form, so
the Word file, the PDF and the page a browser shows always say the same thing.

Text is plain text (never Markdown or HTML): every writer escapes it for its own form.
Numbers in tables stay numbers; the writers format them (``percent`` columns as 12.3 %).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Heading:
    """A heading of the body text. ``level`` 1: "一、…" (黑体), 2: "（一）…" (楷体),
    3: "1. …" (仿宋, bold). The text carries its own number ("一、抽查任务完成情况")."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of body text, first line indented by two characters unless ``indent`` is
    False (e.g. a list line already numbered)."""

    text: str
    indent: bool = True


@dataclass(frozen=True)
class Table:
    """A table in a document.

    Attributes
    ----------
    frame : DataFrame
        Columns are text labels, or a two-level MultiIndex (group, item) for a grouped header;
        the index is ignored (a 序号 column, when wanted, is a column of the frame). Cells
        hold numbers as numbers, text as text; NaN/None is shown as "—".
    title : str
        The table's caption (表题), above it; empty for none.
    percent : tuple of str
        Columns (last level label) holding shares in [0, 1], shown as percentages with
        ``percent_decimals`` decimals.
    note : str
        A note below the table (注：…); empty for none.
    right : tuple of str
        Text columns (last level label) to right-align like numbers (e.g. values already
        formatted as "12.5%" in a column that mixes shares and counts).
    wrap_em : float or None
        Texts longer than this many characters wrap (the widest a text column grows);
        None: the layout's default (16).
    header_lines : tuple of (str, str)
        Header labels (group or item) printed over several lines, broken between words:
        (label, the label with "\\n" where a line ends), e.g. ("移送司法机关", "移送\\n司法\\n机关").
        The frame keeps the label; only the printed header changes.
    padding_em : float or None
        Left + right padding and borders of a cell [em]; None: the layout's default (0.8).
        A wide form of small numbers (the statistics table) is set closer to be legible.
    wrap_columns : tuple of (str, float)
        Per column (last level label): the characters at which its texts wrap, instead of
        ``wrap_em`` (e.g. names kept whole beside long items that wrap).
    """

    frame: pd.DataFrame
    title: str = ""
    percent: tuple[str, ...] = ()
    percent_decimals: int = 1
    note: str = ""
    right: tuple[str, ...] = ()
    wrap_em: float | None = None
    header_lines: tuple[tuple[str, str], ...] = ()
    padding_em: float | None = None
    wrap_columns: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Figure:
    """A chart as PNG bytes, with its caption below."""

    png: bytes = field(repr=False)
    caption: str = ""


@dataclass(frozen=True)
class PageBreak:
    """The next block starts a new page (e.g. every task of a task sheet, signed on its own
    page)."""


Block = Heading | Paragraph | Table | Figure | PageBreak

# The function that shows a document as HTML in a notebook (``_repr_html_``). The writers
# depend on this model, never the reverse, so :mod:`.web` hands its ``to_html`` over when it
# is imported, which importing this package always does (``documents/__init__.py``).
_html_writers: list[Callable[[object], str]] = []


def set_html_writer(writer: Callable[[object], str]) -> None:
    """Make ``writer`` (:func:`~dsr_analysis.documents.web.to_html`) the HTML of documents
    in a notebook."""
    _html_writers[:] = [writer]


def _html(doc: object) -> str | None:
    return _html_writers[0](doc) if _html_writers else None


@dataclass(frozen=True)
class Attachment:
    """An attachment (附件, GB/T 9704-2012 7.3.7) of an official document: named in the
    附件说明 after the body and printed on its own pages after the signature, before the
    版记, with the mark 附件 (附件2…) at the top left and its title centred."""

    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, repr=False)
class OfficialDocument:
    """A document in the GB/T 9704 layout.

    Attributes
    ----------
    title : str
        The document's title (标题), e.g. "雄县生态环境局2023年第一季度“双随机、一公开”监管工作总结".
    issuer : str
        The issuing authority's name (发文机关署名), e.g. "雄县生态环境局"; it also heads the
        版头 when ``number`` is given.
    date : date
        The date of the document (成文日期), written in Chinese without zero padding.
    blocks : tuple of Block
        The body (正文) in order.
    recipient : str
        The main recipient (主送机关), e.g. "雄安新区生态环境局"; empty for a public document.
    number : str
        The document number (发文字号), e.g. "雄环〔2023〕12号"; empty for none (then no 版头).
    demo : bool
        True when built from demonstration data: every page says 演示数据.
    as_of : date or None
        The cut-off of the figures (数据截止日期), stated in the document when given.
    appendix : tuple of Block
        Material for reviewers only (e.g. the clauses each figure rests on): never printed
        in the document sent (DOCX, PDF); :func:`~dsr_analysis.documents.review_document`
        makes it the separate internal review file, the notebook's HTML shows it after the
        body under the heading 附：….
    public : bool
        True for a document a citizen may read (a notice, the annual plan, an announcement).
    classification : str
        The confidentiality mark printed at the top left of every page (e.g. "内部资料 注意保密"
        for a drawn task list, confidential until the visit); empty for none.
    signed : bool
        False for a form whose parts are signed each on its own (a task sheet): no issuer
        and date are printed at the end.
    masthead : str
        The 发文机关标志 in red at the head of the first page (e.g. "雄县生态环境局文件");
        with ``number`` it makes the 版头 (the red rule under the number). Empty with a
        number: the issuer's name is the mark; empty without a number: no 版头.
    signer : str or None
        The 签发人 of an upward document (a 报告), printed right of the number; "" leaves a
        blank to sign by hand; None: not an upward document, no 签发人.
    attachments : tuple of Attachment
        The 附件: listed in the 附件说明 after the body, each printed from a new page after
        the signature.
    seal : bool
        True: the signature is laid out for the seal (7.3.5.1: the date 4 characters from
        the right, the issuer centred over it) with a blank box where the seal goes.
    imprint : bool
        True: the 版记 (抄送, 印发机关 and 印发日期 between rules) at the foot of the last,
        even page.
    copy_to : tuple of str
        The 抄送机关 of the 版记; none: no 抄送 line.
    printed_by : str
        The 印发机关 of the 版记; empty: a blank to fill in.
    printed_on : date or None
        The 印发日期 of the 版记 (default: ``date``).
    annotation : str
        The 附注 (7.3.6), e.g. the contact person and telephone of an upward report: printed
        in parentheses on the line under the 成文日期, two characters from the left; empty
        for none.
    """

    title: str
    issuer: str
    date: dt.date
    blocks: tuple[Block, ...]
    recipient: str = ""
    number: str = ""
    demo: bool = False
    as_of: dt.date | None = None
    appendix: tuple[Block, ...] = ()
    public: bool = False
    classification: str = ""
    signed: bool = True
    masthead: str = ""
    signer: str | None = None
    attachments: tuple[Attachment, ...] = ()
    seal: bool = False
    imprint: bool = False
    copy_to: tuple[str, ...] = ()
    printed_by: str = ""
    printed_on: dt.date | None = None
    annotation: str = ""

    def _repr_html_(self) -> str | None:
        return _html(self)

    def __repr__(self) -> str:  # short: the text form notebooks keep beside the HTML
        return f"OfficialDocument({self.title!r}, {self.issuer!r}, {self.date}, {len(self.blocks)} blocks)"


@dataclass(frozen=True, repr=False)
class TableDocument:
    """An official table (统计表, 公示表): title, the filing lines, the table, notes and the
    signature lines, printed on A4 landscape, one page wide.

    Attributes
    ----------
    title : str
        The table's title.
    table : Table
        The table itself (its own ``title`` is ignored; ``note`` is printed below it).
    unit : str
        The filing unit's name (填报单位 / 公示单位), e.g. "雄县生态环境局".
    unit_label : str
        The label of ``unit``: "填报单位" (default) or "公示单位", "制定单位"…
    date : date
        The filing date (填报日期 / 公示日期).
    date_label : str
        The label of ``date``.
    as_of : date or None
        数据截止日期: the figures count only what was known by this date.
    period : str
        The period covered, e.g. "2023年1月1日至2023年3月31日"; empty for none.
    signatures : tuple of str
        Signature lines below the table, e.g. ("填报人", "审核人"); each printed with a blank
        line to sign on. Empty for a public notice.
    demo : bool
        True when built from demonstration data: every page says 演示数据.
    public : bool
        True for a table a citizen may read.
    notes : tuple of str
        Notes below the table, after the table's own ``note`` (numbered when more than one).
    classification : str
        The confidentiality mark at the top left of every page (e.g. "内部资料 注意保密");
        empty for none.
    marks : tuple of (str, str)
        The marks of a statistical form at the upper right (表号, 制表机关, 批准（备案）机关,
        批准（备案）文号, 有效期限), (label, value); an empty value prints a blank to fill in.
    statements : tuple of str
        Lines below the notes (e.g. the ledger head in short, the contact and objection
        lines of a public notice).
    sealed : bool
        True for a table issued under the unit's seal (a public notice): the unit's name and
        the date at the end on the right, with a place for the seal over them.
    row_height_mm : float
        The least height of a body row [mm] (a short table of large figures, e.g. the
        statistics form, fills its page); 0 for as high as the text.
    """

    title: str
    table: Table
    unit: str
    date: dt.date
    unit_label: str = "填报单位"
    date_label: str = "填报日期"
    as_of: dt.date | None = None
    period: str = ""
    signatures: tuple[str, ...] = ("填报人", "审核人")
    demo: bool = False
    public: bool = False
    notes: tuple[str, ...] = field(default=())
    classification: str = ""
    marks: tuple[tuple[str, str], ...] = ()
    statements: tuple[str, ...] = ()
    sealed: bool = False
    row_height_mm: float = 0.0

    def _repr_html_(self) -> str | None:
        return _html(self)

    def __repr__(self) -> str:
        return (f"TableDocument({self.title!r}, {self.unit!r}, {self.date}, "
                f"{len(self.table.frame)} rows)")
