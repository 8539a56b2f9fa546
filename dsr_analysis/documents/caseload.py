"""The follow-up register (后续处置台账) as the office's workbook: the table of cases on its
first sheet (:func:`dsr_analysis.documents.xlsx.build_workbook`: title, filing line with the
unit and the 数据截止日期, Chinese headers, notes, A4 landscape), and the counts per follow-up
type and status on a second sheet "分类统计" (same fonts, borders and print set-up). No cell
is a formula; the file is replaced atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import dsr_analysis.documents.layout as layout
from .model import TableDocument
from .xlsx import BODY_SIZE, FONT, TITLE_SIZE, a4_landscape, build_workbook

COUNTS_SHEET = "分类统计"


def _counts_sheet(wb, doc: TableDocument, counts: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(COUNTS_SHEET)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ncol = len(counts.columns)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    title = ws.cell(1, 1, f"{doc.title}分类统计")
    title.font = Font(name=FONT, size=TITLE_SIZE, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 32
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncol)
    filing = ws.cell(2, 1, "    ".join(layout.filing_items(doc)))
    filing.font = Font(name=FONT, size=BODY_SIZE)
    for j, header in enumerate(counts.columns, start=1):
        cell = ws.cell(3, j, str(header))
        cell.font = Font(name=FONT, size=BODY_SIZE, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = border
        ws.column_dimensions[get_column_letter(j)].width = 16 if j == 1 else 10
    for i, values in enumerate(counts.itertuples(index=False), start=4):
        for j, value in enumerate(values, start=1):
            cell = ws.cell(i, j, value.item() if hasattr(value, "item") else value)
            cell.font = Font(name=FONT, size=BODY_SIZE, bold=values[0] == "合计")
            cell.alignment = Alignment(horizontal="left" if j == 1 else "right",
                                       vertical="center")
            cell.border = border
    a4_landscape(ws, 4)


def write_case_register(doc: TableDocument, counts: pd.DataFrame, path: str | Path) -> Path:
    """Write the register's workbook at ``path`` (replaced atomically) and return the path.

    ``doc`` is the table of cases (:func:`dsr_analysis.followups.case_register_document`),
    ``counts`` the cases per type and status (:func:`dsr_analysis.followups.case_counts`)."""
    wb = build_workbook(doc)
    wb.active.title = "后续处置台账"
    _counts_sheet(wb, doc, counts)
    return layout.write_atomically(path, lambda tmp: wb.save(str(tmp)))
