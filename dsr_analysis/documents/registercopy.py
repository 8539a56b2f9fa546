"""Writers of the year's rollover (:mod:`dsr_analysis.rollover`): a register file copied with
some cells changed, in its own format, and a workbook of several official tables.

- :func:`write_register_copy` - a register file as it was read (:class:`~dsr_analysis.tabular.Cells`)
  written again with the given cells replaced. A CSV stays a CSV in its own encoding
  (UTF-8, UTF-8 with BOM, GB18030), with the lines above its header (a title) and its
  headers unchanged; every other cell is written exactly as it was read (this is a data file
  the workbench reads back, so nothing is neutralised). An XLSX is opened and only the
  replaced cells are set: the title row, the other sheets, styles and widths stay. An XLS
  (which cannot be written) becomes a CSV (UTF-8 with BOM) of its register sheet, headers
  unchanged. A replaced value takes the spelling the column already uses (是/否, true/false,
  1/0 …; a workbook's true/false cells stay true/false cells).
- :func:`write_tables_workbook` - several :class:`~dsr_analysis.documents.model.TableDocument`
  as the sheets of one XLSX (each laid out as :func:`~dsr_analysis.documents.xlsx.write_xlsx`
  lays out one).

Both write under a temporary name and move the file into place.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..tabular import Cells
from ..i18n import _
from .layout import write_atomically
from .model import TableDocument
from .xlsx import build_workbook

#: Pairs of spellings of true / false a register column may use (lower case).
BOOL_SPELLINGS = (("true", "false"), ("是", "否"), ("1", "0"), ("yes", "no"), ("y", "n"),
                  ("t", "f"), ("有", "无"), ("√", "×"))


def bool_spelling(values: Sequence[str]) -> tuple[str, str]:
    """The (true, false) spelling a text column uses: that of its first value of a known
    pair, its case kept (``TRUE``/``FALSE``); 是/否 for a column without one."""
    for value in values:
        text = str(value).strip()
        for yes, no in BOOL_SPELLINGS:
            if text.lower() in (yes, no):
                if text.isupper():
                    return yes.upper(), no.upper()
                if text[:1].isupper():
                    return yes.capitalize(), no.capitalize()
                return yes, no
    return "是", "否"


def _text_value(value: object, spelling: tuple[str, str]) -> str:
    if isinstance(value, bool):
        return spelling[0] if value else spelling[1]
    return str(value)


def _csv_bytes(cells: Cells, body: list[list[str]], prefix: str, encoding: str) -> bytes:
    out = io.StringIO()
    out.write(prefix)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(cells.header)
    writer.writerows(body)
    return out.getvalue().encode(encoding)


def _csv_prefix(source: Path, cells: Cells) -> str:
    """The lines above the header of a CSV file (a title), as they were."""
    if cells.header_row <= 1:
        return ""
    text = source.read_bytes().decode(cells.encoding)
    lines = text.splitlines(keepends=True)[:cells.header_row - 1]
    return "".join(lines).lstrip("\ufeff")


def write_register_copy(source: str | Path, target_dir: str | Path, cells: Cells,
                        changes: Mapping[int, Mapping[int, object]]) -> Path:
    """Write ``source`` (read as ``cells``) into ``target_dir`` with cells replaced.

    Parameters
    ----------
    source : path
        The register file (.csv, .xlsx or .xls).
    target_dir : path
        Folder of the copy (same file name; an .xls becomes .csv).
    cells : Cells
        The file as :func:`dsr_analysis.tabular.read_cells` read it.
    changes : mapping
        Column position (0-based, in ``cells.header``) -> {spreadsheet row -> new value}
        (a bool or an int).

    Returns
    -------
    Path
        The file written.
    """
    source = Path(source)
    target_dir = Path(target_dir)
    if cells.encoding == "xlsx":
        return _write_xlsx_copy(source, target_dir / source.name, cells, changes)
    spellings = {c: bool_spelling(cells.columns[c].to_pylist()) for c in changes}
    columns = [col.to_pylist() for col in cells.columns]
    for c, by_row in changes.items():
        for k, row in enumerate(cells.rows):
            if int(row) in by_row:
                columns[c][k] = _text_value(by_row[int(row)], spellings[c])
    body = [list(r) for r in zip(*columns, strict=True)] if columns else []
    if cells.encoding == "xls":
        data = _csv_bytes(cells, body, "", "utf-8-sig")
        target = target_dir / f"{source.stem}.csv"
    else:
        data = _csv_bytes(cells, body, _csv_prefix(source, cells), cells.encoding)
        target = target_dir / source.name
    return write_atomically(target, lambda tmp: tmp.write_bytes(data))


def _write_xlsx_copy(source: Path, target: Path, cells: Cells,
                     changes: Mapping[int, Mapping[int, object]]) -> Path:
    import openpyxl

    wb = openpyxl.load_workbook(source)
    ws = wb[cells.sheet]
    for c, by_row in changes.items():
        spelling = bool_spelling(cells.columns[c].to_pylist())
        for row, value in by_row.items():
            cell = ws.cell(int(row), c + 1)
            if isinstance(cell.value, bool) or (isinstance(value, int)
                                                and not isinstance(value, bool)
                                                and not isinstance(cell.value, str)):
                cell.value = value
            else:
                cell.value = _text_value(value, spelling)
    return write_atomically(target, lambda tmp: wb.save(str(tmp)))


def copy_file(source: str | Path, target_dir: str | Path) -> Path:
    """A register file copied byte for byte into ``target_dir``."""
    source = Path(source)
    return write_atomically(Path(target_dir) / source.name,
                            lambda tmp: shutil.copyfile(source, tmp))


def write_tables_workbook(sheets: Sequence[tuple[str, TableDocument]], path: str | Path) -> Path:
    """Write several official tables as the sheets of one XLSX (sheet name, table), each on
    A4 landscape as :func:`~dsr_analysis.documents.xlsx.write_xlsx` prints one."""
    if not sheets:
        raise ValueError(_("no sheet to write"))
    (name, first), rest = sheets[0], sheets[1:]
    wb = build_workbook(first, sheet=name)
    for name, doc in rest:
        build_workbook(doc, wb, name)
    return write_atomically(path, lambda tmp: wb.save(str(tmp)))
