"""An entry workbook (填报表): a form staff fill in and hand back, read again by the package.

:class:`EntryForm` describes it - the title, the columns (pre-filled or to be filled, each
with its kind: text, a date, a choice from a list, an amount), the pre-filled rows and the
instruction sheet - and :func:`write_entry_workbook` writes it as XLSX:

- sheet 1, the entry sheet: a title row, then one header row with the headers the reader
  accepts, then one row per pre-filled record. Pre-filled cells are grey and locked (the
  sheet is protected without a password, so a supervisor can still unprotect it); entry
  cells are white and unlocked, with a drop-down list (data validation) for a choice, a date
  format and a date validation for a date, a number validation (>= 0) for an amount.
  The header row is frozen and repeated when printed (A4 landscape, one page wide);
- sheet 2, 填表说明: what each column means and the rules between them;
- sheet 3, 可选值 (hidden): the lists the drop-downs offer.

No cell holds a live formula; text that looks like one is stored as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dsr_analysis.documents.layout as layout  # the module itself, not the package
from ..export import FORMULA_START
from ..i18n import _
from .xlsx import a4_landscape

FONT = "宋体"
TITLE_SIZE = 14
BODY_SIZE = 10
PREFILLED_FILL = "E7E6E6"  # grey: filled in by the package, not to be changed
HEADER_FILL = "D9E1F2"
REQUIRED_MARK = "*"
#: Sheet of the drop-down lists.
CHOICES_SHEET = "可选值"
INSTRUCTIONS_SHEET = "填表说明"
#: Excel's day 0 (serial numbers of dates in validations).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
KINDS = ("text", "date", "choice", "amount")


@dataclass(frozen=True)
class EntryColumn:
    """One column of an entry form.

    Attributes
    ----------
    header : str
        The header printed (one the reader accepts).
    kind : str
        ``text``, ``date``, ``choice`` or ``amount``.
    prefilled : bool
        Filled by the package (grey, locked) rather than by staff.
    required : bool
        Must be filled for every record (shown in the instructions).
    choices : tuple of str
        The values a ``choice`` column offers.
    help : str
        What to enter (the instruction sheet).
    width : float
        Column width [characters of the default font].
    earliest : date, optional
        The earliest date a ``date`` column accepts.
    """

    header: str
    kind: str = "text"
    prefilled: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    width: float = 14.0
    earliest: dt.date | None = None


@dataclass(frozen=True)
class EntryForm:
    """An entry workbook.

    Attributes
    ----------
    title : str
        The title row of the entry sheet.
    sheet : str
        Name of the entry sheet.
    columns : tuple of EntryColumn
    rows : tuple of tuple
        Pre-filled records, one value per column (None: blank).
    instructions : tuple of str
        Paragraphs of the instruction sheet, before the table of columns.
    rules : tuple of (str, str)
        Further rules of the instruction sheet, as (subject, rule) rows after the columns.
    creator : str
        The body the form is from (workbook properties).
    """

    title: str
    sheet: str
    columns: tuple[EntryColumn, ...]
    rows: tuple[tuple[object, ...], ...]
    instructions: tuple[str, ...] = ()
    rules: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    creator: str = ""

    def __post_init__(self) -> None:
        for c in self.columns:
            if c.kind not in KINDS:
                raise layout.DocumentError(_("column '{column}': unknown kind '{kind}' (valid: "
                                             "{valid})").format(column=c.header, kind=c.kind,
                                                                valid=", ".join(KINDS)))
            if c.kind == "choice" and not c.choices:
                raise layout.DocumentError(_("column '{column}': a choice column needs "
                                             "choices").format(column=c.header))
        for i, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise layout.DocumentError(_("row {row} has {values} values for {columns} "
                                             "columns").format(row=i, values=len(row),
                                                               columns=len(self.columns)))

    @property
    def header_row(self) -> int:
        """Spreadsheet row of the header (the title is row 1)."""
        return 2


def _excel_serial(day: dt.date) -> int:
    return (day - _EXCEL_EPOCH).days


def build_entry_workbook(form: EntryForm):
    """The openpyxl ``Workbook`` of ``form`` (not saved)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = form.sheet
    _entry_sheet(ws, form)
    _instruction_sheet(wb.create_sheet(INSTRUCTIONS_SHEET), form)
    choices = wb.create_sheet(CHOICES_SHEET)
    _validations(ws, choices, form)
    choices.sheet_state = "hidden"
    wb.active = 0
    props = wb.properties
    props.title = form.title
    props.creator = props.lastModifiedBy = form.creator
    props.language = "zh-CN"
    return wb


def _entry_sheet(ws, form: EntryForm) -> None:
    """Title, header and pre-filled rows; locked grey pre-filled cells, unlocked entry cells."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    grey = PatternFill("solid", fgColor=PREFILLED_FILL)
    ncol = len(form.columns)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncol, 1))
    title = ws.cell(1, 1, form.title)
    title.font = Font(name=FONT, size=TITLE_SIZE, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    top = form.header_row
    for j, col in enumerate(form.columns, start=1):
        cell = ws.cell(top, j, col.header)
        cell.font = Font(name=FONT, size=BODY_SIZE, bold=True,
                         color="C00000" if col.required and not col.prefilled else None)
        cell.fill = grey if col.prefilled else PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ws.row_dimensions[top].height = 30
    for i, values in enumerate(form.rows, start=top + 1):
        for j, (col, value) in enumerate(zip(form.columns, values, strict=True), start=1):
            cell = ws.cell(i, j, None if layout.is_missing(value) else value)
            cell.font = Font(name=FONT, size=BODY_SIZE)
            cell.border = border
            cell.alignment = Alignment(vertical="center", wrap_text=col.kind == "text")
            if col.prefilled:
                cell.fill = grey
                cell.protection = Protection(locked=True)
            else:
                cell.protection = Protection(locked=False)
            if col.kind == "date":
                cell.number_format = "yyyy-mm-dd"
            elif col.kind == "amount":
                cell.number_format = "#,##0.00"
            else:
                cell.number_format = "@"  # text stays text (a code is never a number)
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.quotePrefix = True
    ws.protection.sheet = True          # no password: a supervisor may unprotect
    ws.protection.formatColumns = False  # widths may still be changed
    ws.protection.formatRows = False
    a4_landscape(ws, top + 1)


def _validations(ws, choices, form: EntryForm) -> None:
    """Drop-down lists (from the hidden sheet), date and amount checks on the entry cells."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    first = form.header_row + 1
    last = form.header_row + max(len(form.rows), 1)
    k = 0
    for j, col in enumerate(form.columns, start=1):
        if col.prefilled:
            continue
        letter = get_column_letter(j)
        cells = f"{letter}{first}:{letter}{last}"
        if col.kind == "choice":
            k += 1
            list_col = get_column_letter(k)
            choices.cell(1, k, col.header)
            for i, value in enumerate(col.choices, start=2):
                choices.cell(i, k, value)
            source = f"'{CHOICES_SHEET}'!${list_col}$2:${list_col}${len(col.choices) + 1}"
            dv = DataValidation(type="list", formula1=source, allow_blank=True,
                                errorTitle="不在可选值中", error=f"请从下拉列表中选择{col.header}")
        elif col.kind == "date":
            earliest = _excel_serial(col.earliest or dt.date(2000, 1, 1))
            dv = DataValidation(type="date", operator="greaterThanOrEqual",
                                formula1=str(earliest), allow_blank=True,
                                errorTitle="日期有误",
                                error="请填写日期（如2023-02-03）"
                                      + (f"，不早于{col.earliest.isoformat()}"
                                         if col.earliest else ""))
        elif col.kind == "amount":
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                                allow_blank=True, errorTitle="金额有误",
                                error="请填写不小于0的金额（元）")
        else:
            continue
        dv.showErrorMessage = True
        dv.promptTitle = col.header
        dv.prompt = col.help[:250]  # Excel's limit on an input message
        dv.showInputMessage = bool(col.help)
        ws.add_data_validation(dv)
        dv.add(cells)


def _instruction_sheet(ws, form: EntryForm) -> None:
    """填表说明: the paragraphs, a table of the columns, then the rules."""
    from openpyxl.styles import Alignment, Font, PatternFill

    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 90
    cell = ws.cell(1, 1, INSTRUCTIONS_SHEET)
    cell.font = Font(name=FONT, size=TITLE_SIZE, bold=True)
    row = 2
    for text in form.instructions:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        cell = ws.cell(row, 1, text)
        cell.font = Font(name=FONT, size=BODY_SIZE)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * (1 + len(text) // 70)
        row += 1
    row += 1

    def header(labels: tuple[str, ...]) -> None:
        for j, label in enumerate(labels, start=1):
            cell = ws.cell(row, j, label)
            cell.font = Font(name=FONT, size=BODY_SIZE, bold=True)
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)

    def text_row(values: tuple[tuple[int, str], ...], height_chars: int) -> None:
        for j, value in values:
            cell = ws.cell(row, j, value)
            cell.font = Font(name=FONT, size=BODY_SIZE)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * (1 + len(values[-1][1]) // height_chars)

    header(("列名", "填写方", "填写要求"))
    row += 1
    for col in form.columns:
        who = "预填，勿改" if col.prefilled else ("必填" if col.required else "选填")
        text = col.help + (f" 可选值：{'、'.join(col.choices)}。" if col.choices else "")
        text_row(((1, col.header), (2, who), (3, text)), 70)
        row += 1
    if form.rules:
        row += 1
        header(("项目", "", "要求"))
        row += 1
        for subject, rule in form.rules:
            ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
            text_row(((1, subject), (2, rule)), 80)
            row += 1
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_entry_workbook(form: EntryForm, path: str | Path) -> Path:
    """Write ``form`` as XLSX at ``path`` (replaced atomically) and return the path."""
    wb = build_entry_workbook(form)
    return layout.write_atomically(path, lambda tmp: wb.save(str(tmp)))


def fill_entry_workbook(path: str | Path, key: str, records: Mapping[str, Mapping[str, object]],
                        target: str | Path) -> Path:
    """Fill the entry sheet of the workbook at ``path`` as a person would and save it at
    ``target`` (replaced atomically): for every row whose ``key`` column holds a key of
    ``records``, write each ``{header: value}`` of that record (a date as a date cell, a
    number as a number). Raises :class:`DocumentError` for a header or a key the sheet does
    not have. Returns ``target``."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    top = 2
    columns = {ws.cell(top, j).value: j for j in range(1, ws.max_column + 1)}
    if key not in columns:
        raise layout.DocumentError(_("{path}: no column '{column}' in row {row} of sheet "
                                     "'{sheet}'").format(path=path, column=key, row=top,
                                                         sheet=ws.title))
    rows = {ws.cell(r, columns[key]).value: r for r in range(top + 1, ws.max_row + 1)}
    for k, values in records.items():
        if k not in rows:
            raise layout.DocumentError(_("{path}: no row with {column} '{key}'").format(
                path=path, column=key, key=k))
        for header, value in values.items():
            if header not in columns:
                raise layout.DocumentError(_("{path}: no column '{column}'").format(
                    path=path, column=header))
            cell = ws.cell(rows[k], columns[header])
            cell.value = None if layout.is_missing(value) else value
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.quotePrefix = True
    return layout.write_atomically(target, lambda tmp: wb.save(str(tmp)))


def entry_headers(form: EntryForm) -> Sequence[str]:
    """The headers of the entry sheet, in order."""
    return [c.header for c in form.columns]
