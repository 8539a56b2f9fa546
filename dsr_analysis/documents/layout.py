"""What every form of a document shares: the GB/T 9704-2012 page, the fonts of each role,
the formatting of table cells, the grid of a grouped header, the widths of columns and the
position of the signature.

Every writer (DOCX, PDF, HTML, XLSX) takes its measures and its cell texts from here, so the
forms of one document agree with each other.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
import struct
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DocumentError
from ..i18n import _
from ..periods import date_zh
from .model import Table, TableDocument


# --------------------------------------------------------------------------------------
# The page (GB/T 9704-2012, 5.2 and 7.1) [mm, pt]
# --------------------------------------------------------------------------------------
PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_TOP_MM = 37.0  # 天头
MARGIN_BOTTOM_MM = 35.0
MARGIN_LEFT_MM = 28.0  # 订口
MARGIN_RIGHT_MM = 26.0
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM  # 版心 156 mm
TEXT_HEIGHT_MM = PAGE_HEIGHT_MM - MARGIN_TOP_MM - MARGIN_BOTTOM_MM  # 225 mm
BODY_SIZE_PT = 16.0  # 3号
TITLE_SIZE_PT = 22.0  # 2号
PAGE_NUMBER_SIZE_PT = 14.0  # 4号
TABLE_MAX_SIZE_PT = 14.0  # 4号: tables in a document are 4号 or smaller
CAPTION_SIZE_PT = 14.0
LINE_PITCH_PT = 28.95  # 22 lines in the 225 mm 版心
PAGE_NUMBER_GAP_MM = 7.0  # 页码一字线上距版心下边缘 7 mm
RULE_GAP_MM = 4.0  # 红色分隔线在发文字号之下 4 mm
RED = "C00000"

# Landscape A4 of an official table (统计表, 公示表) [mm]
TABLE_PAGE_MARGIN_MM = 15.0
TABLE_PAGE_WIDTH_MM = PAGE_HEIGHT_MM - 2 * TABLE_PAGE_MARGIN_MM  # 267 mm
TABLE_DOC_MAX_SIZE_PT = 12.0
TABLE_MIN_SIZE_PT = 5.5
CELL_PADDING_EM = 0.8  # left + right padding (0.6) and borders of a cell, with a little slack [em]

MM_PER_PT = 25.4 / 72

# Fonts of each role: the Word names (as Chinese offices have them) and the fonts the PDF
# embeds (Debian's fonts-noto-cjk).
WORD_FONTS = {
    "fangsong": "仿宋_GB2312",
    "kaiti": "楷体_GB2312",
    "heiti": "黑体",
    "xiaobiaosong": "方正小标宋简体",
    "songti": "宋体",
}
WORD_LATIN_FONT = "Times New Roman"
PDF_SERIF = "Noto Serif CJK SC"  # 仿宋, 宋体, 楷体, 小标宋
PDF_SANS = "Noto Sans CJK SC"  # 黑体

# Labels of the filing and signature lines
AS_OF_LABEL = "数据截止日期"
PERIOD_LABEL = "期间"
APPENDIX_DEFAULT = "说明材料"
DEMO_MARK = "演示数据"
CLASSIFICATION_SIZE_PT = 12.0  # the confidentiality mark at the top left of every page
DEMO_LINE = "本文件由演示数据生成，不作为正式文件。"
NOTE_PREFIX = "注："
DASH = "—"
SIGN_BLANK = "________"


def em_width(text: str) -> float:
    """Width of ``text`` [em]: a CJK or full-width character is 1, a capital Latin letter
    about 0.85 (M, H and W are the widest), another Latin letter or digit about 0.55 (as in
    Times New Roman and Noto CJK): a code such as a USCC ending in a capital fits its cell."""
    width = 0.0
    for ch in str(text):
        eaw = unicodedata.east_asian_width(ch)
        width += 1.0 if eaw in ("W", "F", "A") else 0.85 if "A" <= ch <= "Z" else 0.55
    return width


def mm(pt: float) -> float:
    """Points to millimetres."""
    return pt * MM_PER_PT


# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------
def is_number(value: object) -> bool:
    """True for an int or float (numpy's too), never a bool."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def is_missing(value: object) -> bool:
    """True for None, NaN and NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Column:
    """A column of a table as every form shows it.

    Attributes
    ----------
    labels : tuple of str
        (label,) or (group, item) of the header.
    numeric : bool
        True when every value present is a number (aligned right).
    percent : bool
        True for shares in [0, 1] shown as percentages.
    decimals : int
        Decimals shown (of the percentage for a percent column).
    """

    labels: tuple[str, ...]
    numeric: bool
    percent: bool
    decimals: int
    shown: tuple[str, ...] = ()
    nowrap: bool = False

    @property
    def label(self) -> str:
        return self.labels[-1]

    @property
    def heads(self) -> tuple[str, ...]:
        """The header texts as printed: ``labels`` with the table's line breaks
        (:attr:`Table.header_lines`), "\\n" between lines."""
        return self.shown or self.labels

    @property
    def number_format(self) -> str:
        """The XLSX number format of the column (``0.0%``, ``0``, ``0.00``)."""
        digits = "0" + ("." + "0" * self.decimals if self.decimals else "")
        return digits + "%" if self.percent else digits

    def text(self, value: object) -> str:
        """The cell as text: "—" for NaN/None, "12.3%" in a percent column, a date in
        Chinese, numbers with the column's decimals."""
        if is_missing(value):
            return DASH
        if isinstance(value, bool):
            return "是" if value else "否"
        if is_number(value):
            v = float(value)  # type: ignore[arg-type]
            if self.percent:
                return f"{v * 100:.{self.decimals}f}%"
            if isinstance(value, numbers.Integral):
                return str(int(value))  # type: ignore[call-overload]
            return f"{v:.{self.decimals}f}"
        if isinstance(value, pd.Timestamp):
            return date_zh(value.date())
        if isinstance(value, dt.date):
            return date_zh(value)
        return str(value)

    def align(self, value: object) -> str:
        """``right`` for a number (and "—" in a numeric column), ``left`` for text (and "—"
        in a text column, NaN included)."""
        if is_missing(value):
            return "right" if self.numeric else "left"
        if is_number(value):
            return "right"
        return "left"


def _decimals(values: Sequence[float]) -> int:
    """Fewest decimals (0 to 2) that show every value as it rounds to 2 decimals."""
    for d in range(3):
        if all(round(v, d) == round(v, 2) for v in values):
            return d
    return 2


def columns_of(table: Table) -> list[Column]:
    """The columns of ``table`` with their header labels, alignment and number format."""
    frame = table.frame
    if isinstance(frame.columns, pd.MultiIndex):
        if frame.columns.nlevels != 2:
            raise DocumentError(_("table '{table}': the header has {levels} levels; a "
                                  "document shows one or two (group, item)").format(
                                      table=table.title, levels=frame.columns.nlevels))
        labels = [tuple("" if is_missing(x) else str(x) for x in c) for c in frame.columns]
    else:
        labels = [(str(c),) for c in frame.columns]
    last = [lab[-1] for lab in labels]
    breaks = {k: v for k, v in table.header_lines}
    unknown = [p for p in table.percent if p not in last]
    if unknown:
        raise DocumentError(_("table '{table}': percent column(s) {unknown} not in the table "
                              "(columns: {columns})").format(table=table.title,
                                                             unknown=", ".join(unknown),
                                                             columns=", ".join(last)))
    out = []
    for j, lab in enumerate(labels):
        values = [v for v in frame.iloc[:, j].tolist() if not is_missing(v)]
        numeric = bool(values) and all(is_number(v) for v in values)
        percent = lab[-1] in table.percent
        if percent:
            decimals = table.percent_decimals
        elif numeric and any(not isinstance(v, numbers.Integral) for v in values):
            decimals = _decimals([float(v) for v in values])
        else:
            decimals = 0
        if len(lab) == 2 and (not lab[1] or lab[1] == lab[0]):
            lab = (lab[0], lab[0])
        shown = tuple(breaks.get(x, x) for x in lab)
        out.append(Column(lab, numeric, percent, decimals, shown if shown != lab else (),
                          not numeric and bool(values) and all(map(_unbreakable, values))))
    return out


def _unbreakable(value: object) -> bool:
    """True for a cell that must stay on one line: a date, or a code without spaces of at
    most 32 Latin letters, digits and ``-_./:`` (a USCC, a task id, a case number)."""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return True
    text = str(value)
    return 0 < len(text) <= 32 and all(ch.isascii() and (ch.isalnum() or ch in "-_./:")
                                       for ch in text)


def rows_of(table: Table) -> list[list[object]]:
    """The cells of ``table`` row by row, numpy scalars as Python numbers."""
    rows = []
    for rec in table.frame.itertuples(index=False):
        rows.append([v.item() if hasattr(v, "item") and not isinstance(v, str) else v
                     for v in rec])
    return rows


@dataclass(frozen=True)
class HeaderCell:
    """A cell of the header grid: row and column of its top-left corner (from 0), spans."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1


def header_grid(columns: Sequence[Column]) -> list[list[HeaderCell]]:
    """The header as rows of cells: one row for plain labels; for (group, item) labels two
    rows, equal groups side by side merged into one cell, a column whose item equals its
    group one cell two rows high."""
    if not columns or len(columns[0].labels) == 1:
        return [[HeaderCell(c.heads[-1], 0, j) for j, c in enumerate(columns)]]
    top: list[HeaderCell] = []
    bottom: list[HeaderCell] = []
    j = 0
    n = len(columns)
    while j < n:
        group, item = columns[j].labels
        if group == item:
            top.append(HeaderCell(columns[j].heads[0], 0, j, rowspan=2))
            j += 1
            continue
        k = j
        while k + 1 < n and columns[k + 1].labels[0] == group and \
                columns[k + 1].labels[1] != group:
            k += 1
        top.append(HeaderCell(columns[j].heads[0], 0, j, colspan=k - j + 1))
        bottom.extend(HeaderCell(columns[i].heads[1], 1, i) for i in range(j, k + 1))
        j = k + 1
    return [top, bottom]


def note_lines(notes: Sequence[str]) -> list[str]:
    """Notes as printed below a table: one note as "注：…", several numbered
    ("注：1. …", "2. …"). Empty notes are left out."""
    notes = [n.strip() for n in notes if n and n.strip()]
    notes = [n[len(NOTE_PREFIX):] if n.startswith(NOTE_PREFIX) else n for n in notes]
    if not notes:
        return []
    if len(notes) == 1:
        return [NOTE_PREFIX + notes[0]]
    return [(NOTE_PREFIX if i == 0 else "") + f"{i + 1}. {n}" for i, n in enumerate(notes)]


# --------------------------------------------------------------------------------------
# The lines around an official table
# --------------------------------------------------------------------------------------
def filing_items(doc: TableDocument) -> list[str]:
    """The filing line of an official table: unit, period, cut-off date (those given)."""
    items = [f"{doc.unit_label}：{doc.unit}"]
    if doc.period:
        items.append(f"{PERIOD_LABEL}：{doc.period}")
    if doc.as_of is not None:
        items.append(f"{AS_OF_LABEL}：{date_zh(doc.as_of)}")
    return items


def signature_items(doc: TableDocument) -> list[str]:
    """The signature line of an official table: a blank to sign on per signature, then
    the date."""
    return [f"{s}：{SIGN_BLANK}" for s in doc.signatures] + \
        [f"{doc.date_label}：{date_zh(doc.date)}"]


MARK_BLANK = "______________"
ISSUED_SUFFIX = "（盖章）"  # after the unit's name where no seal place can be drawn (XLSX)
SEAL_LABEL = "盖章处"
SEAL_DIAMETER_MM = 42.0  # an official seal (公章) is 42 mm or 45 mm across


def mark_items(doc: TableDocument) -> list[str]:
    """The marks of a statistical form (upper right), a blank to fill in where the policy
    gives no value."""
    return [f"{label}：{value or MARK_BLANK}" for label, value in doc.marks]


def sign_line(doc: TableDocument) -> bool:
    """True when the table has a signature line (a sealed notice has its issuer and date
    instead)."""
    return bool(doc.signatures) or not doc.sealed


def issued_items(doc: TableDocument) -> list[str]:
    """The end of a sealed table: the unit's name and the date (the seal goes over them)."""
    return [doc.unit, date_zh(doc.date)] if doc.sealed else []


def table_document_notes(doc: TableDocument) -> list[str]:
    """The notes under an official table: the table's own, then the document's."""
    return note_lines([doc.table.note, *doc.notes])


# --------------------------------------------------------------------------------------
# Column widths and the font size of a table
# --------------------------------------------------------------------------------------
TEXT_CAP_EM = 16.0  # a longer text wraps, at 16 characters or more a line
NOWRAP_SLACK = 1.08  # a code or a date that must not wrap gets 8 % more than its estimate


def cell_padding_css(padding_em: float | None) -> str:
    """The CSS padding of a table cell for a padding of ``padding_em`` (left + right, with
    borders and slack: 0.2 em of the default 0.8 go to them)."""
    side = ((CELL_PADDING_EM if padding_em is None else padding_em) - 0.2) / 2
    return f"padding: .12em {max(side, 0.05):.2f}em"


def header_width(label: str) -> float:
    """Width of a header label [em] over as many lines as it needs: one line up to six
    characters, two up to twelve, three beyond (never one character left on a line); a
    label with its own line breaks ("\\n") as wide as its widest line."""
    if "\n" in label:
        return max(em_width(x) for x in label.split("\n"))
    width = em_width(label)
    lines = 1 if width <= 6 else 2 if width <= 12 else 3
    return width / lines + (0.5 if lines > 1 else 0.0)


def natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[object]],
                   wrap_em: float | None = None, padding_em: float | None = None,
                   wrap_columns: Sequence[tuple[str, float]] = ()) -> list[float]:
    """The width each column wants [em of the table's font]: its widest cell (a text longer
    than ``wrap_em``, by default 16 characters, wraps; a code or a date never), its header
    label (:func:`header_width`), and padding (``padding_em``, by default
    :data:`CELL_PADDING_EM`); ``wrap_columns`` (label, characters) sets the wrap of single
    columns."""
    cap = TEXT_CAP_EM if wrap_em is None else wrap_em
    pad = CELL_PADDING_EM if padding_em is None else padding_em
    caps = dict(wrap_columns)
    widths = []
    for j, col in enumerate(columns):
        data = max((em_width(col.text(r[j])) for r in rows), default=1.0)
        if col.nowrap:
            data *= NOWRAP_SLACK  # a code or date never wraps: room for wider glyphs
        elif not col.numeric:
            data = min(data, caps.get(col.label, cap))
        head = header_width(col.heads[-1])
        widths.append(max(data, head, 1.5) + pad)
    # A group label must fit over the columns it spans (over two lines at most).
    grid = header_grid(columns)
    if len(grid) == 2:
        for cell in grid[0]:
            if cell.rowspan == 1:
                need = (header_width(cell.text) if "\n" in cell.text or cell.colspan == 1
                        else max(em_width(cell.text) / 2, 2)) + pad
                span = range(cell.col, cell.col + cell.colspan)
                have = sum(widths[i] for i in span)
                if have < need:
                    for i in span:
                        widths[i] *= need / have
    return widths


def spread_widths(widths_em: Sequence[float], wants_em: Sequence[float],
                  available_em: float) -> list[float]:
    """Widths [em] for ``available_em``: the room left over goes to the columns whose texts
    wrap, up to what they want unwrapped (``wants_em``, e.g. a name kept on one line); what
    remains is spread over every column in proportion when the widths become shares of the
    table's width (:func:`width_shares`)."""
    widths = list(widths_em)
    extra = available_em - sum(widths)
    if extra <= 0:
        return widths
    short = [max(0.0, w - v) for v, w in zip(widths, wants_em, strict=True)]
    if sum(short) > 0:
        k = min(1.0, extra / sum(short))
        widths = [v + k * s for v, s in zip(widths, short, strict=True)]
    return widths


def table_font_size(widths_em: Sequence[float], available_mm: float, max_pt: float) -> float:
    """The largest font size [pt] (at most ``max_pt``, in half points) at which columns of
    ``widths_em`` fit ``available_mm``; never below 5.5 pt (then long cells wrap)."""
    total = sum(widths_em) or 1.0
    size = available_mm / MM_PER_PT / total
    size = math.floor(size * 2) / 2
    return max(TABLE_MIN_SIZE_PT, min(max_pt, size))


def width_shares(widths_em: Sequence[float]) -> list[float]:
    """Widths as shares of the table's width (summing to 1)."""
    total = sum(widths_em) or 1.0
    return [w / total for w in widths_em]


# --------------------------------------------------------------------------------------
# 版头 (GB/T 9704-2012, 7.2.2)
# --------------------------------------------------------------------------------------
MASTHEAD_TOP_MM = 35.0  # the mark's top edge under the top of the 版心
MASTHEAD_LINE = 1.2  # line height of the mark [its font size]


def masthead_size_pt(issuer: str) -> float:
    """Font size of the issuer's mark [pt]: as large as fits the 版心 on one line, at most
    15 mm a character (42 pt), at least 2号."""
    fit = TEXT_WIDTH_MM / MM_PER_PT / (em_width(issuer) * 1.05)
    return float(max(22, min(42, math.floor(fit))))


def masthead_space_pt(issuer: str) -> float:
    """Space above the mark's line [pt] so that its glyphs start 35 mm under the 版心's top."""
    size = masthead_size_pt(issuer)
    return MASTHEAD_TOP_MM / MM_PER_PT - (MASTHEAD_LINE - 1) * size / 2


# --------------------------------------------------------------------------------------
# Signature (GB/T 9704-2012, 7.3.5.2: a document without a seal)
# --------------------------------------------------------------------------------------
DATE_RIGHT_INDENT_EM = 4.0


def signature_indents(issuer: str, date_text: str) -> tuple[float, float]:
    """Right indents [em] of the issuer line and the date line: the date 4 characters from
    the right edge, the issuer centred above the date."""
    date_w = em_width(date_text)
    issuer_w = em_width(issuer)
    issuer_indent = DATE_RIGHT_INDENT_EM + (date_w - issuer_w) / 2
    return max(0.0, round(issuer_indent, 2)), DATE_RIGHT_INDENT_EM


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------
def png_size_mm(png: bytes) -> tuple[float, float]:
    """Width and height of a PNG [mm] at its own resolution (pHYs; 96 dpi without one)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise DocumentError(_("a figure is not a PNG image"))
    width, height = struct.unpack(">II", png[16:24])
    dpi_x = dpi_y = 96.0
    pos = 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"pHYs":
            px, py, unit = struct.unpack(">IIB", png[pos + 8:pos + 17])
            if unit == 1 and px and py:
                dpi_x, dpi_y = px * 0.0254, py * 0.0254
            break
        if kind == b"IDAT":
            break
        pos += 12 + length
    return width / dpi_x * 25.4, height / dpi_y * 25.4


def figure_width_mm(png: bytes, available_mm: float = TEXT_WIDTH_MM) -> float:
    """The printed width of a figure [mm]: its own, at most the 版心's."""
    return min(available_mm, png_size_mm(png)[0])


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------
def write_atomically(path: str | Path, write: Callable[[Path], object],
                     tmp_dir: str | Path | None = None) -> Path:
    """Call ``write`` on a temporary file beside ``path`` (or in ``tmp_dir``, a folder on the
    same file system: a render keeps every temporary file in its staging folder), then move
    it into place: a reader never sees a half-written file, and a failure leaves the old file
    as it was and no temporary file. An operating-system error (a full disk) is re-raised
    naming ``path``, not the temporary file."""
    path = Path(path)
    folder = Path(tmp_dir) if tmp_dir is not None else path.parent
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}.", suffix=path.suffix)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if exc.errno is None or exc.filename not in (None, str(tmp)):
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    return path
