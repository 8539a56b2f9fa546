"""An official table (:class:`~dsr_analysis.documents.model.TableDocument`) as an XLSX
workbook, in the layout of its PDF: the title in a merged first row, the filing line, one or
two header rows (a grouped header as merged cells), the table with thin borders, the notes
and the signature line below; printed on A4 landscape, one page wide, the title and header
rows on every page, numbered "第 N 页 共 M 页".

Numbers stay numbers (percent columns as shares with a "0.0%" number format), a missing
value is "—", and no cell is ever a live formula: a text such as "=1+1" or "@SUM(1)" is
stored as text (and marked so that editing it does not turn it into a formula).
"""

from __future__ import annotations

import math
from pathlib import Path

import dsr_analysis.documents.layout as layout  # the module itself, not the package
from ..export import FORMULA_START
from .model import TableDocument

FONT = "宋体"
TITLE_SIZE = 16
BODY_SIZE = 10
SMALL_SIZE = 9
#: Characters a cell may start with that a spreadsheet reads as the start of a formula.
FORMULA_STARTS = FORMULA_START
#: Excel's column width unit is about one Latin character of the default font; a CJK
#: character of 宋体 10 pt takes about two.
WIDTH_PER_EM = 2.0
MAX_WIDTH = 40.0
MIN_WIDTH = 5.0
#: Pixels of one unit of column width (the maximum digit width of the workbook's default
#: font, Calibri 11, at 96 dpi), as Excel converts widths for printing.
PIXELS_PER_WIDTH = 7.0
#: Print scales Excel accepts [%].
SCALE_RANGE = (10, 100)


def _segments(ncol: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` runs of columns (1-based, inclusive) splitting ``ncol`` columns evenly."""
    parts = max(1, min(parts, ncol))
    bounds = [round(i * ncol / parts) for i in range(parts + 1)]
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(parts)]


def build_workbook(doc: TableDocument, workbook=None, sheet: str = "表"):
    """The openpyxl ``Workbook`` of ``doc`` (not saved); with ``workbook``, ``doc`` becomes
    a further sheet named ``sheet`` of that workbook (a report of several tables)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    columns = layout.columns_of(doc.table)
    rows = layout.rows_of(doc.table)
    grid = layout.header_grid(columns)
    ncol = max(1, len(columns))
    wb = workbook if workbook is not None else Workbook()
    ws = wb.active if workbook is None else wb.create_sheet()
    ws.title = sheet
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def merged(row: int, first: int, last: int, value: str, size: int = BODY_SIZE,
               bold: bool = False, align: str = "left", wrap: bool = False):
        if last > first:
            ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        cell = ws.cell(row, first, value)
        cell.font = Font(name=FONT, size=size, bold=bold)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=wrap)
        return cell

    def line(row: int, items: list[str]) -> None:
        """Items spread over the row: the first left, the last right, others centred."""
        if len(items) > ncol:
            merged(row, 1, ncol, "    ".join(items))
            return
        for k, ((first, last), text) in enumerate(zip(_segments(ncol, len(items)), items,
                                                      strict=True)):
            align = "left" if k == 0 else "right" if k == len(items) - 1 else "center"
            merged(row, first, last, text, align=align)

    # Title and filing line (a statistical form: the filing lines left, its marks right)
    title = doc.title + (f"（{layout.DEMO_MARK}）" if doc.demo else "")
    merged(1, 1, ncol, title, size=TITLE_SIZE, bold=True, align="center")
    ws.row_dimensions[1].height = 32
    if doc.marks:
        top = _form_head(ws, doc, ncol, merged)
    else:
        line(2, layout.filing_items(doc))
        ws.row_dimensions[2].height = 20
        top = 3

    # Header
    for r in range(len(grid)):
        for j in range(ncol):
            cell = ws.cell(top + r, j + 1)
            cell.border = border
    for cells in grid:
        for h in cells:
            r, c = top + h.row, h.col + 1
            if h.rowspan > 1 or h.colspan > 1:
                ws.merge_cells(start_row=r, start_column=c, end_row=r + h.rowspan - 1,
                               end_column=c + h.colspan - 1)
            cell = ws.cell(r, c, h.text)
            cell.font = Font(name=FONT, size=BODY_SIZE, bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    # Body
    first_data = top + len(grid)
    for i, values in enumerate(rows, start=first_data):
        for j, (col, value) in enumerate(zip(columns, values, strict=True), start=1):
            if layout.is_missing(value):
                shown: object = layout.DASH
            elif layout.is_number(value):
                shown = value
            else:
                shown = col.text(value)
            cell = ws.cell(i, j, shown)
            if layout.is_number(shown):
                cell.number_format = col.number_format
            cell.font = Font(name=FONT, size=BODY_SIZE)
            cell.alignment = Alignment(horizontal=col.align(value), vertical="center",
                                       wrap_text=not (col.numeric or col.nowrap))
            cell.border = border
        if doc.row_height_mm:
            ws.row_dimensions[i].height = round(doc.row_height_mm / layout.MM_PER_PT, 1)
    _closing(ws, doc, first_data + len(rows), ncol, merged, line)
    _column_widths(ws, grid, columns, rows, top, doc.table)
    _print_setup(ws, doc, first_data)
    _no_formulas(ws)
    if workbook is not None:
        return wb

    props = wb.properties
    props.title = doc.title
    props.creator = doc.unit
    props.lastModifiedBy = doc.unit
    props.language = "zh-CN"
    return wb


def _closing(ws, doc: TableDocument, row: int, ncol: int, merged, line) -> None:
    """Below the table from ``row``: the notes, the statements, then after a blank row the
    signature line, or the issuer and date of a sealed table (room for the seal above,
    "（盖章）" after the name)."""
    from openpyxl.styles import Alignment

    for note in layout.table_document_notes(doc):
        more = not note.startswith(layout.NOTE_PREFIX)
        cell = merged(row, 1, ncol, note, size=SMALL_SIZE, wrap=True)
        if more:
            cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True,
                                       indent=2)
        ws.row_dimensions[row].height = 14 * (1 + len(note) // 100)
        row += 1
    for statement in doc.statements:
        merged(row, 1, ncol, statement)
        row += 1
    row += 1
    if layout.sign_line(doc):
        line(row, layout.signature_items(doc))  # the blank to sign on is in the text
        ws.row_dimensions[row].height = 24
    if doc.sealed:
        first, last = _segments(ncol, 3)[2]
        ws.row_dimensions[row].height = 36
        unit, date = layout.issued_items(doc)
        merged(row + 1, first, last, unit + layout.ISSUED_SUFFIX, align="center")
        merged(row + 2, first, last, date, align="center")


def _form_head(ws, doc: TableDocument, ncol: int, merged) -> int:
    """The head of a statistical form under its title: the filing lines at the left (the
    last one on the header's row above), the marks at the right, one a row. Returns the
    first row of the table's header."""
    marks = layout.mark_items(doc)
    filing = layout.filing_items(doc)
    n = max(len(marks), len(filing))
    (left_first, left_last), (right_first, right_last) = _segments(ncol, 3)[0], \
        (_segments(ncol, 3)[2][0], ncol)
    for k, text in enumerate(marks):
        merged(2 + k, right_first, right_last, text)
    for k, text in enumerate(filing):
        merged(2 + n - len(filing) + k, left_first, left_last, text)
    for r in range(2, 2 + n):
        ws.row_dimensions[r].height = 16
    return 2 + n


def _column_widths(ws, grid, columns, rows, top: int, table) -> None:
    """Column widths from the content (CJK characters count double; texts longer than
    the table's wrap wrap; codes and dates never); header rows tall enough for their
    labels, wrapped or broken into lines (:attr:`Table.header_lines`)."""
    from openpyxl.utils import get_column_letter

    widths_em = layout.natural_widths(columns, rows, table.wrap_em, table.padding_em,
                                      table.wrap_columns)
    pad = layout.CELL_PADDING_EM if table.padding_em is None else table.padding_em
    room = 2 if table.padding_em is None else 1  # a close-set table: one unit of padding
    for j, w in enumerate(widths_em, start=1):
        width = min(MAX_WIDTH, max(MIN_WIDTH, (w - pad) * WIDTH_PER_EM + room))
        ws.column_dimensions[get_column_letter(j)].width = width
    for r, cells in enumerate(grid):
        lines = 1
        for h in cells:
            span = sum(ws.column_dimensions[get_column_letter(h.col + 1 + k)].width
                       for k in range(h.colspan))
            lines = max(lines, sum(math.ceil(layout.em_width(x) * WIDTH_PER_EM
                                             / max(span - 1, 1))
                                   for x in h.text.split("\n")) // max(h.rowspan, 1))
        ws.row_dimensions[top + r].height = 14 * lines + 4


def fit_to_width_scale(ws) -> int:
    """The print scale [%] at which the sheet's columns fill the width of A4 landscape
    within its margins - what Excel computes for "fit to one page wide" from the column
    widths (never above 100 %)."""
    from openpyxl.utils import get_column_letter

    widths = [ws.column_dimensions[get_column_letter(j)].width or 8.43
              for j in range(1, ws.max_column + 1)]
    natural_px = sum(round(w * PIXELS_PER_WIDTH) for w in widths)
    margins_in = (ws.page_margins.left or 0) + (ws.page_margins.right or 0)
    printable_px = (layout.PAGE_HEIGHT_MM / 25.4 - margins_in) * 96
    scale = math.floor(100 * printable_px / max(natural_px, 1))
    return max(SCALE_RANGE[0], min(SCALE_RANGE[1], scale))


def a4_landscape(ws, first_data: int) -> None:
    """The print set-up every table shares: A4 landscape, one page wide, as many pages long
    as it takes, the rows above ``first_data`` (title and headers) frozen and repeated on
    every page, "第 x 页 共 y 页" in the footer."""
    ws.freeze_panes = ws.cell(first_data, 1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"1:{first_data - 1}"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = SMALL_SIZE


def _print_setup(ws, doc: TableDocument, first_data: int) -> None:
    """A4 landscape, one page wide (the scale that fits is also written, for a reader that
    does not compute it), title and header rows on every page, page x of y."""
    a4_landscape(ws, first_data)
    ws.print_options.horizontalCentered = True
    margin = layout.TABLE_PAGE_MARGIN_MM / 25.4
    ws.page_margins.left = ws.page_margins.right = margin
    ws.page_margins.top = ws.page_margins.bottom = margin + 0.1
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.page_setup.scale = fit_to_width_scale(ws)
    if doc.classification:
        ws.oddHeader.left.text = doc.classification
        ws.oddHeader.left.size = SMALL_SIZE
    if doc.demo:
        ws.oddHeader.center.text = layout.DEMO_MARK
        ws.oddHeader.center.size = 12
        ws.oddHeader.center.color = layout.RED


def _no_formulas(ws) -> None:
    """Never a live formula: every cell a value; text that looks like one keeps a quote
    prefix, so editing it in a spreadsheet does not make it one."""
    for cells in ws.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True


def write_xlsx(doc: TableDocument, path: str | Path) -> Path:
    """Write ``doc`` as XLSX at ``path`` (replaced atomically) and return the path."""
    wb = build_workbook(doc)
    return layout.write_atomically(path, lambda tmp: wb.save(str(tmp)))
