"""Reading a register file exactly, or refusing it (R1).

A register CSV or XLSX becomes a :class:`Cells`: the header row, the text of every cell
below it, column by column, and the spreadsheet row number of every body row. Nothing is
guessed:

* **Encoding.** UTF-8 (with or without BOM), else GB18030 (which includes GBK), each decoded
  strictly. A file that is neither is refused; so is one that decodes as GB18030 only into
  unusual characters, as Big5 (Traditional Chinese) does.
* **CSV structure.** Every physical line is checked before the data are parsed (lines end in
  LF, CRLF or CR): a quote that opens a field and does not close on the same line (a line
  break inside a quoted field, or an unbalanced quote: registers never hold a line break in
  a value), a quote inside an unquoted field, text after a closing quote, and, from the
  header on, a row with more or fewer fields than the header. Empty lines are not rows.
  Lines above the header (a title, an export date) may have any number of fields.
* **XLSX and XLS** (Excel 97-2003, read by ``xlrd``). The register's sheet is the first
  whose header row (below a title, if any) holds every required column; a workbook where no
  sheet does is refused naming each sheet and what it lacks (a single-sheet workbook is read
  as it is, and the missing columns are reported one by one). Cells are read as the text a
  person sees: a whole number stored as 12.0 is ``12``, a date cell at midnight is
  ``2023-05-04``; a number of more than 15 digits (a code typed as a number: a spreadsheet
  keeps 15, so digits were lost) is an error. Merged cells touching the header or the data
  rows are refused (their value would stand in one cell only).
* **Other suffixes** are refused, naming the formats read (``.csv``, ``.xlsx``, ``.xls``).

The data themselves are parsed column-wise by pyarrow. :func:`strip_cells` and
:func:`character_problems` are the text checks every register column goes through: white
space around a value is trimmed; a control character (C0, DEL, C1), a bidirectional
control, a zero-width character, a line or paragraph separator or the replacement character
U+FFFD anywhere in a value is an error.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .errors import FileSystemError, Problem
from .i18n import N_, _

#: White space trimmed around every value: the space separators (Unicode category Zs:
#: space, no-break space, the ideographic space U+3000...). Anything else invisible is an error
#: (:data:`FORBIDDEN_CHARACTERS`), the tab included.
TRIMMED = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
          "\u200a\u202f\u205f\u3000"

#: Characters refused anywhere in a value, by kind.
FORBIDDEN_CHARACTERS = {
    N_("control character"): "\x00-\x1f\x7f-\x9f",
    N_("bidirectional control character"): "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069",
    N_("zero-width character"): "\u200b-\u200d\u2060\ufeff",
    N_("line or paragraph separator"): "\u2028\u2029",
    N_("replacement character (text damaged by an earlier wrong decoding)"): "\ufffd",
}


FORBIDDEN_PATTERN = re.compile("[" + "".join(FORBIDDEN_CHARACTERS.values()) + "]")
_FORBIDDEN_KIND = [(re.compile(f"[{r}]"), kind) for kind, r in FORBIDDEN_CHARACTERS.items()]

#: Longest row text shown in a message.
SHOWN = 80

_CHUNK = 1 << 20   # bytes scanned at a time (small temporaries, reused)
_VISIBLE = re.compile(rb"[^ \t\r\n]")
_QUOTED_FIELD = re.compile(rb'"(?:[^"]|"")*"')
_VALID_LINE = re.compile(rb'(?:"(?:[^"]|"")*"|[^",]*)(?:,(?:"(?:[^"]|"")*"|[^",]*))*')


@dataclass(frozen=True)
class Cells:
    """The cells of one register file, as text.

    Attributes
    ----------
    file : str
        Path of the file (as given).
    header : tuple of str
        Header cells, white space trimmed ("" for a column without a header).
    header_row : int
        Spreadsheet row number of the header (1 unless title lines are above it).
    columns : tuple of pyarrow.ChunkedArray
        The body cells of each column (arrow ``string``; as many columns as ``header``),
        exactly as written.
    rows : numpy.ndarray
        Spreadsheet row number of every body row (empty lines are not rows).
    encoding : str
        ``utf-8``, ``utf-8-sig``, ``gb18030``, ``xlsx`` or ``xls``.
    sheet : str
        Name of the sheet read (workbooks), "" for a CSV file.
    """

    file: str
    header: tuple[str, ...]
    header_row: int
    columns: tuple[pa.ChunkedArray, ...]
    rows: np.ndarray
    encoding: str
    sheet: str = ""


#: File suffixes read as registers, and the reader of each.
FORMATS = (".csv", ".xlsx", ".xls")

#: Largest magnitude of a number cell read as it is: a spreadsheet keeps 15 significant
#: digits, so a larger whole number (a code typed as a number) has lost digits.
EXACT_DIGITS = 15


def shown(text: str, limit: int = SHOWN) -> str:
    """``text`` quoted for a message: invisible characters escaped, cut to ``limit``."""
    text = FORBIDDEN_PATTERN.sub(lambda m: f"\\u{ord(m.group()):04X}", text)
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}…'"


def read_cells(path: str | Path, known_headers: Collection[str] = (),
               required: Mapping[str, Sequence[str]] | None = None,
               ) -> tuple[Cells | None, list[Problem]]:
    """Read a CSV, XLSX or XLS register exactly; ``(None, problems)`` when it cannot be.

    Parameters
    ----------
    path : path
        ``.csv``, ``.xlsx`` or ``.xls`` file (:data:`FORMATS`); any other suffix is refused.
    known_headers : collection of str
        Header names of the register (lower case): the header row is the first of the first
        ten rows naming at least two of them (exports often put a title above it); row 1
        when none does.
    required : mapping, optional
        Required column -> its accepted headers (first: the name shown in messages). A
        workbook's register sheet is the first whose header row holds one accepted header of
        every required column; without it, the first sheet.
    """
    path = Path(path)
    _check_regular(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, known_headers, required)
    if suffix == ".xls":
        return _read_xls(path, known_headers, required)
    if suffix == ".csv":
        return _read_csv(path, known_headers)
    message = (_("a file without a suffix is not a register format read ({formats}): save it "
                 "as one of them") if not suffix else
               _("{suffix} is not a register format read ({formats}): save it as one of them"))
    return None, [Problem(str(path), 0, "-",
                          message.format(suffix=repr(suffix), formats=", ".join(FORMATS)))]


def _check_regular(path: Path) -> None:
    """A register that is a directory, a FIFO or a device is refused without being read (a
    FIFO would block for ever): :class:`FileSystemError`, exit 3."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return  # the caller reports a missing register as bad input
    except OSError as exc:
        raise FileSystemError(_("{path}: cannot read the register ({reason})").format(
            path=path, reason=exc.strerror)) from None
    if stat.S_ISDIR(mode):
        raise FileSystemError(_("{path}: is a directory, not a register file").format(path=path))
    if not stat.S_ISREG(mode):
        raise FileSystemError(_("{path}: not a regular file (a FIFO, socket or device): "
                                "refused without reading it").format(path=path))


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------
@dataclass
class _Lines:
    """Physical lines of a CSV file: byte spans and field counts."""

    starts: np.ndarray      # first byte of each line
    ends: np.ndarray        # byte after the line's text (its terminator excluded)
    fields: np.ndarray      # commas + 1 (0 for an empty line); recounted where quoted
    quoted: list[int]       # lines holding a quote character


def _scan_lines(data: bytes) -> _Lines:
    """Line spans and field counts of ``data``, chunk by chunk (memory stays small).

    Works on the bytes: ',', '"', CR and LF never occur inside a multi-byte character of
    UTF-8, GB18030 or Big5.
    """
    n = len(data)
    starts, ends, counts, quoted = [], [], [], []
    pos = 0
    line0 = 0
    while pos < n:
        stop = min(n, pos + _CHUNK)
        if stop < n:
            cut = max(data.rfind(b"\n", pos, stop), data.rfind(b"\r", pos, stop))
            if cut < 0:  # one line longer than a chunk: up to its end
                nl, cr = data.find(b"\n", stop), data.find(b"\r", stop)
                cut = min(x for x in (nl, cr, n - 1) if x >= 0)
            if data[cut] == 13 and cut + 1 < n and data[cut + 1] == 10:
                cut += 1
            stop = cut + 1
        a = np.frombuffer(data, dtype=np.uint8, count=stop - pos, offset=pos)
        lf = a == 10
        has_cr = data.find(b"\r", pos, stop) >= 0
        if has_cr:
            cr = a == 13
            lone_cr = cr.copy()
            lone_cr[:-1] &= ~lf[1:]
            term = np.flatnonzero(lf | lone_cr)
        else:
            term = np.flatnonzero(lf)
        del lf
        begin = np.concatenate(([0], term + 1))
        end = np.concatenate((term, [len(a)]))
        if begin[-1] == len(a):  # the chunk ends with a terminator: no partial line
            begin, end = begin[:-1], end[:-1]
        text_end = end
        if has_cr:  # a CRLF line's text ends before its CR
            crlf = np.zeros(len(end), dtype=bool)
            inside = end < len(a)
            idx = end[inside]
            crlf[inside] = (a[idx] == 10) & (idx > 0) & cr[np.maximum(idx - 1, 0)]
            text_end = end - crlf
        commas = np.flatnonzero(a == 44)
        count = np.diff(np.searchsorted(commas, np.concatenate((begin, [len(a)]))))
        quotes = np.flatnonzero(a == 34)
        if len(quotes):
            quoted.extend((np.unique(np.searchsorted(begin, quotes, "right") - 1)
                           + line0).tolist())
        starts.append(begin + pos)
        ends.append(text_end + pos)
        counts.append(count)
        line0 += len(begin)
        pos = stop
    if not starts:
        empty = np.zeros(0, dtype=np.int64)
        return _Lines(empty, empty, np.zeros(0, dtype=np.int32), [])
    starts_a = np.concatenate(starts)
    ends_a = np.concatenate(ends)
    fields = (np.concatenate(counts) + 1).astype(np.int32)
    fields[ends_a == starts_a] = 0
    return _Lines(starts_a, ends_a, fields, quoted)


def _quote_problem(line: bytes) -> tuple[int, str] | None:
    """(field index, problem) of a line holding quotes, or None if it is well formed."""
    n = len(line)
    field, i = 0, 0
    while True:
        if i < n and line[i] == 34:
            i += 1
            while True:
                j = line.find(b'"', i)
                if j < 0:
                    return field, _("a quote opens this field and it does not close on the "
                                    "same line (a line break inside a quoted field, or an "
                                    "unbalanced quote; register values never hold a line break)")
                if j + 1 < n and line[j + 1] == 34:
                    i = j + 2
                    continue
                i = j + 1
                break
            if i < n and line[i] != 44:
                return field, _("text after the closing quote of a field")
        else:
            j = line.find(b",", i)
            end = n if j < 0 else j
            if b'"' in line[i:end]:
                return field, _("a quote inside an unquoted field (quote the whole field and "
                                "double the quote, or remove it)")
            i = end
        if i >= n:
            return None
        i += 1
        field += 1


def _line_text(data: bytes, lines: _Lines, k: int, encoding: str) -> str:
    raw = data[int(lines.starts[k]): int(lines.ends[k])]
    if k == 0 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    return raw.decode("utf-8" if encoding == "utf-8-sig" else encoding, errors="replace")


def _split_line(text: str) -> list[str]:
    if '"' not in text:
        return text.split(",")
    return next(csv.reader([text]), [])


def _row_of(lines: _Lines, offset: int) -> int:
    """Spreadsheet row (1-based line number) holding the byte at ``offset``."""
    return int(np.searchsorted(lines.starts, offset, "right"))


def _decode_problem(data: bytes, lines: _Lines, fname: str) -> tuple[str, list[Problem]]:
    """The file's encoding, decided on all of it, or problems saying why it has none we
    accept."""
    try:
        _strict_decode(data, "utf-8")
        return ("utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"), []
    except UnicodeDecodeError as exc:
        utf8_error = exc
    not_utf8 = _("row {row}: byte 0x{byte:02X} is not UTF-8").format(
        row=_row_of(lines, utf8_error.start), byte=data[utf8_error.start])
    if data.startswith(codecs.BOM_UTF8):
        return "", [Problem(fname, _row_of(lines, utf8_error.start), "-",
                            _("the file starts with a UTF-8 byte-order mark but is not UTF-8 "
                              "({reason}): save it again as UTF-8").format(reason=not_utf8))]
    try:
        _strict_decode(data, "gb18030")
    except UnicodeDecodeError as exc:
        # the row where the encoding that went further stops is the likelier culprit
        row = _row_of(lines, max(exc.start, utf8_error.start))
        return "", [Problem(fname, 0, "-", _("cannot decode the file as UTF-8 or GBK")),
                    Problem(fname, row, "-",
                            _("{reason}; row {row}: byte 0x{byte:02X} is not GB18030 (save the "
                              "file as UTF-8)").format(reason=not_utf8,
                                                       row=_row_of(lines, exc.start),
                                                       byte=data[exc.start]))]
    verdict = _unusual_gb18030(data)
    if verdict:
        return "", [Problem(fname, 0, "-", verdict)]
    row = _utf8_row(data, lines)
    if row:
        return "", [Problem(fname, row, "-",
                            _("row {row} is UTF-8 but the file is not (it decodes as GB18030, "
                              "the row into other characters): the file mixes two encodings; "
                              "save it again in one, as UTF-8").format(row=row))]
    return "gb18030", []


def _utf8_row(data: bytes, lines: _Lines) -> int:
    """Row of the first line of a GB18030 file that is valid UTF-8 holding at least two
    characters of three or more UTF-8 bytes (Chinese), 0 if none: a row pasted from a UTF-8
    file, which GB18030 would read as other characters. GB18030 text is almost never valid
    UTF-8 (its trail bytes stand where UTF-8 wants a lead byte). Chunk by chunk of lines, so
    memory stays small."""
    n = len(lines.starts)
    k = 0
    while k < n:
        j = max(k + 1, int(np.searchsorted(lines.starts, lines.starts[k] + _CHUNK, "right")))
        text = data[int(lines.starts[k]): int(lines.ends[j - 1])].decode("utf-8", "replace")
        parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for i in [i for i, line in enumerate(parts) if "\ufffd" not in line]:
            if not parts[i].isascii() and sum(ord(c) >= 0x800 for c in parts[i]) >= 2:
                return k + i + 1
        k = j
    return 0


def _strict_decode(data: bytes, encoding: str) -> None:
    """Raise UnicodeDecodeError (offsets into ``data``) unless all of it decodes strictly."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    for pos in range(0, max(len(data), 1), _CHUNK):
        held = len(decoder.getstate()[0])
        try:
            decoder.decode(data[pos: pos + _CHUNK], final=pos + _CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            start = max(pos - held + exc.start, 0)
            raise UnicodeDecodeError(encoding, data, start, start + 1, exc.reason) from None


def _common_gb2312(ch: str) -> bool:
    """A character of GB2312's punctuation rows (A1-A3) or its two levels of hanzi (B0-F7)."""
    try:
        lead = ch.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xF7


def _common_big5(ch: str) -> bool:
    """A character of Big5's symbols or frequently used hanzi (lead bytes A1-C6)."""
    try:
        lead = ch.encode("cp950")[0]
    except UnicodeEncodeError:
        return False
    return 0xA1 <= lead <= 0xC6


def _unusual_gb18030(data: bytes, sample: int = 1 << 20) -> str:
    """Why GB18030 text (which decoded strictly) is not plausibly GB18030, or "".

    Chinese registers are written almost entirely in GB2312's common characters. Big5 bytes
    decode as GB18030 without error but into kana, Greek, box drawing, user-defined and
    rare extension characters; the first megabyte tells.
    """
    text = data[:sample].decode("gb18030", errors="ignore")
    counts = Counter(ch for ch in text if ord(ch) > 127)
    total = sum(counts.values())
    if total < 4:
        return ""
    unusual = sum(k for ch, k in counts.items() if not _common_gb2312(ch))
    if unusual / total <= 0.2:
        return ""
    example = next(ch for ch, _ in counts.most_common() if not _common_gb2312(ch))
    try:
        data.decode("cp950")
        big5 = Counter(ch for ch in data[:sample].decode("cp950", errors="ignore")
                       if ord(ch) > 127)
    except UnicodeDecodeError:
        big5 = Counter()
    common = sum(k for ch, k in big5.items() if _common_big5(ch))
    if big5 and common / sum(big5.values()) > 0.8:
        return _("the file looks like Big5 (Traditional Chinese): as GB18030 it gives "
                 "{unusual} of {total} characters outside common Chinese (e.g. {example}); "
                 "save it as UTF-8 or GB18030").format(unusual=unusual, total=total,
                                                       example=shown(example))
    return _("the file decodes as GB18030 only into unusual characters ({unusual} of {total} "
             "outside common Chinese, e.g. {example}): it is in another encoding; save it as "
             "UTF-8").format(unusual=unusual, total=total, example=shown(example))


def _header_index(rows: Sequence[Sequence[str]], known: Collection[str]) -> int:
    for idx, cells in enumerate(rows[:10]):
        if len({c.strip(TRIMMED).lower() for c in cells} & set(known)) >= 2:
            return idx
    return 0


@dataclass
class _Layout:
    """Where the header and the rows of a CSV file are."""

    header_index: int           # line index of the header
    header: tuple[str, ...]
    rows: np.ndarray            # spreadsheet row numbers of the body rows
    start: int                  # byte offset of the first line after the header


def _layout(data: bytes, lines: _Lines, encoding: str, known: Collection[str], fname: str
            ) -> tuple[_Layout | None, list[Problem]]:
    """Header and rows, or a problem for every line that is not well formed."""
    fields = lines.fields.copy()
    bad_quote: dict[int, tuple[int, str]] = {}
    for k in lines.quoted:
        line = data[int(lines.starts[k]): int(lines.ends[k])]
        if _VALID_LINE.fullmatch(line):
            fields[k] = _QUOTED_FIELD.sub(b"", line).count(b",") + 1
        else:
            found = _quote_problem(line)
            if found is not None:  # pragma: no branch - the regex and the scan agree
                bad_quote[k] = found
    head = [_split_line(_line_text(data, lines, k, encoding))
            for k in range(min(10, len(fields)))]
    h = _header_index(head, known)
    header = tuple(c.strip(TRIMMED) for c in head[h])
    problems = []

    def column(i: int, k: int) -> str:
        # a header with an invisible character is named by its position (shown raw, it
        # would hide or reorder the text of the message)
        if k > h and i < len(header) and header[i] and not FORBIDDEN_PATTERN.search(header[i]):
            return header[i]
        return _("column {n}").format(n=i + 1)

    for k, (i, message) in sorted(bad_quote.items()):
        text = _line_text(data, lines, k, encoding)
        problems.append(Problem(fname, k + 1, column(i, k), f"{message}: {shown(text)}"))
    width = len(header)
    body = np.arange(len(fields)) > h
    for k in np.flatnonzero(body & (fields != 0) & (fields != width)).tolist():
        if k in bad_quote:
            continue
        got = int(fields[k])
        text = _line_text(data, lines, k, encoding)
        if got < width:
            where = column(got, k)
            message = _("the row has {got} fields, fewer than the {width} of the header (row "
                        "{header_row}): a value or a separator missing? {text}")
        else:
            where = _("column {n}").format(n=width + 1)
            message = _("the row has {got} fields, more than the {width} of the header (row "
                        "{header_row}): a value or a separator extra? {text}")
        problems.append(Problem(
            fname, k + 1, where,
            message.format(got=got, width=width, header_row=h + 1, text=shown(text))))
    if problems:
        return None, sorted(problems, key=lambda p: p.row)
    start = int(lines.starts[h + 1]) if h + 1 < len(lines.starts) else len(data)
    rows = np.flatnonzero(body & (fields != 0)) + 1
    return _Layout(h, header, rows, start), []


def _read_csv(path: Path, known: Collection[str]) -> tuple[Cells | None, list[Problem]]:
    """Decode, check every line, then parse the body with pyarrow.

    The encoding is decided on the whole file: UTF-8 when the lines up to the header decode
    as UTF-8 and pyarrow finds the body valid UTF-8 as it parses it (the common case costs
    no decoding in Python); otherwise the whole file is decoded in Python, strictly.
    """
    fname = str(path)
    data = path.read_bytes()
    lines = _scan_lines(data)
    if not _VISIBLE.search(data, 3 if data.startswith(codecs.BOM_UTF8) else 0):
        return None, [Problem(fname, 0, "-", _("the file is empty"))]
    head_end = int(lines.ends[min(10, len(lines.ends)) - 1])
    try:
        data[:head_end].decode("utf-8")
        encoding, decided = ("utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"), False
    except UnicodeDecodeError:
        encoding, problems = _decode_problem(data, lines, fname)
        if problems:
            return None, problems
        decided = True
    layout, problems = _layout(data, lines, encoding, known, fname)
    if problems and not decided:  # name the encoding's problem first, if there is one
        encoding, found = _decode_problem(data, lines, fname)
        if found:
            return None, found
        decided = True
        layout, problems = _layout(data, lines, encoding, known, fname)
    if problems:
        return None, problems
    del data
    try:
        table = _parse_body(path, layout, encoding)
    except pa.ArrowInvalid as exc:
        if decided or "UTF8" not in str(exc):
            return None, [Problem(fname, 0, "-",
                                  _("cannot parse the CSV: {reason}").format(reason=exc))]
        data = path.read_bytes()
        encoding, problems = _decode_problem(data, lines, fname)
        if not problems:
            layout, problems = _layout(data, lines, encoding, known, fname)
        if problems:
            return None, problems
        del data
        table = _parse_body(path, layout, encoding)
    if table.num_rows != len(layout.rows):  # pragma: no cover - the scan and pyarrow disagree
        return None, [Problem(fname, 0, "-", f"internal error: {table.num_rows} rows parsed, "
                                             f"{len(layout.rows)} lines scanned")]
    columns = tuple(table.column(i) for i in range(table.num_columns))
    del table
    pa.default_memory_pool().release_unused()   # the parser's buffers, back to the system
    return Cells(fname, layout.header, layout.header_index + 1, columns, layout.rows,
                 encoding), []


def _parse_body(path: Path, layout: _Layout, encoding: str) -> pa.Table:
    names = [f"c{i}" for i in range(len(layout.header))]
    if not len(layout.rows):
        return pa.table({name: pa.array([], pa.string()) for name in names})
    read = pa_csv.ReadOptions(column_names=names, block_size=1 << 22,
                              encoding="utf8" if encoding.startswith("utf-8") else encoding)
    parse = pa_csv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True)
    convert = pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                                    null_values=[], check_utf8=True)
    bom = "\ufeff".encode("utf-8" if encoding.startswith("utf-8") else encoding)
    with pa.OSFile(str(path)) as source:
        source.seek(layout.start)
        stream = source
        if source.read(len(bom)) == bom:
            # pyarrow drops a byte-order mark that begins its input: a U+FEFF that begins
            # the first row's first value must reach the character check (an empty line
            # before it is not a row)
            source.seek(layout.start)
            stream = pa.BufferReader(b"\n" + source.read())
        else:
            source.seek(layout.start)
        return pa_csv.read_csv(stream, read_options=read, parse_options=parse,
                               convert_options=convert)


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------
def cell_text(value: object) -> str:
    """Text of a spreadsheet cell without changing its meaning (3.0 -> '3', True -> 'true',
    a date at midnight -> '2023-05-04')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass
class _Sheet:
    """One worksheet as text: its cells row by row (as :func:`cell_text` shows them), its
    merged ranges ``(min_row, min_col, max_row, max_col)`` and the number cells that lost
    digits ``(row, col, value)`` (1-based)."""

    name: str
    grid: list[list[str]]
    merged: list[tuple[int, int, int, int]]
    long_numbers: list[tuple[int, int, object]]

    def empty(self) -> bool:
        return not any(c.strip(TRIMMED) for row in self.grid for c in row)


def _lost_digits(value: object) -> bool:
    """A number cell too long to be exact (:data:`EXACT_DIGITS`)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and value == value and abs(value) >= 10 ** EXACT_DIGITS)


def _sheet(name: str, rows: Sequence[Sequence[object]],
           merged: list[tuple[int, int, int, int]]) -> _Sheet:
    grid, long_numbers = [], []
    for r, row in enumerate(rows, start=1):
        grid.append([cell_text(v) for v in row])
        long_numbers.extend((r, c, v) for c, v in enumerate(row, start=1) if _lost_digits(v))
    return _Sheet(name, grid, merged, long_numbers)


def _xlsx_sheets(path: Path) -> list[_Sheet]:
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    return [_sheet(ws.title, list(ws.iter_rows(min_row=1, min_col=1, values_only=True)),
                   [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges])
            for ws in book.worksheets]


def _xls_value(cell: object, datemode: int) -> object:
    """A cell of ``xlrd`` as the value openpyxl gives for the same cell of an XLSX file
    (numbers as floats, dates as datetimes, a time of day as a time, errors as their text)."""
    import xlrd

    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    if kind == xlrd.XL_CELL_DATE:
        try:
            if 0 <= value < 1:
                return datetime.time(*xlrd.xldate_as_tuple(value, datemode)[3:])
            return xlrd.xldate_as_datetime(value, datemode)
        except (xlrd.xldate.XLDateError, ValueError):
            return value   # not a date Excel can show: the number
    return value


def _xls_sheets(path: Path) -> list[_Sheet]:
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True)
    sheets = []
    for ws in book.sheets():
        rows = [[_xls_value(c, book.datemode) for c in ws.row(r)] for r in range(ws.nrows)]
        merged = [(rlo + 1, clo + 1, rhi, chi) for rlo, rhi, clo, chi in ws.merged_cells]
        sheets.append(_sheet(ws.name, rows, merged))
    return sheets


def _read_xlsx(path: Path, known: Collection[str],
               required: Mapping[str, Sequence[str]] | None = None
               ) -> tuple[Cells | None, list[Problem]]:
    try:
        sheets = _xlsx_sheets(path)
    except Exception as exc:
        return None, [Problem(str(path), 0, "-",
                              _("cannot read XLSX: {reason}").format(reason=exc))]
    return _read_book(str(path), sheets, known, required, "xlsx")


def _read_xls(path: Path, known: Collection[str],
              required: Mapping[str, Sequence[str]] | None = None
              ) -> tuple[Cells | None, list[Problem]]:
    try:
        sheets = _xls_sheets(path)
    except Exception as exc:
        reason = " ".join(str(exc).split())[:SHOWN]
        return None, [Problem(str(path), 0, "-",
                              _("cannot read XLS: not an Excel 97-2003 workbook ({reason}); "
                                "open it in Excel or WPS and save it as .xlsx").format(
                                    reason=reason))]
    return _read_book(str(path), sheets, known, required, "xls")


def _missing_columns(header: Sequence[str], required: Mapping[str, Sequence[str]]
                     ) -> list[str]:
    """Required columns (as ``name (first alias)``) that ``header`` does not name."""
    present = {c.strip(TRIMMED).lower() for c in header}
    return [f"{names[0]} ({names[1]})" if len(names) > 1 else names[0]
            for names in required.values() if not present & {n.lower() for n in names}]


def _register_sheet(fname: str, sheets: Sequence[_Sheet], known: Collection[str],
                    required: Mapping[str, Sequence[str]] | None
                    ) -> tuple[_Sheet | None, list[Problem]]:
    """The register's sheet: the first whose header row holds every required column (the
    first sheet without ``required``; the only sheet with values when there is one)."""
    filled = [s for s in sheets if not s.empty()]
    if not filled:
        return None, [Problem(fname, 0, "-", _("the file is empty"))]
    if required is None:
        return (sheets[0], []) if not sheets[0].empty() else \
            (None, [Problem(fname, 0, "-", _("the first sheet '{sheet}' is empty").format(
                sheet=sheets[0].name))])
    verdicts = []
    for sheet in sheets:
        if sheet.empty():
            verdicts.append(_("sheet '{sheet}': empty").format(sheet=sheet.name))
            continue
        h = _header_index(sheet.grid, known)
        missing = _missing_columns(sheet.grid[h], required)
        if not missing:
            return sheet, []
        verdicts.append(_("sheet '{sheet}' (header row {row}): missing {missing} of {required} "
                          "required columns: {columns}").format(
            sheet=sheet.name, row=h + 1, missing=len(missing), required=len(required),
            columns=", ".join(missing)))
    if len(filled) == 1:
        return filled[0], []   # its missing columns are reported one by one
    names = ", ".join(f"'{s.name}'" for s in sheets)
    return None, [Problem(fname, 0, "-", _("no sheet of the workbook holds the register (a "
                                           "header row, below a title if any, naming every "
                                           "required column); sheets read: {names}").format(
                                               names=names))] + \
        [Problem(fname, 0, "-", v) for v in verdicts]


def _read_book(fname: str, sheets: Sequence[_Sheet], known: Collection[str],
               required: Mapping[str, Sequence[str]] | None, encoding: str
               ) -> tuple[Cells | None, list[Problem]]:
    """The cells of a workbook's register sheet, or the problems that refuse it."""
    from openpyxl.utils import get_column_letter

    sheet, problems = _register_sheet(fname, sheets, known, required)
    if sheet is None:
        return None, problems
    grid = sheet.grid
    h = _header_index(grid, known)
    header = tuple(c.strip(TRIMMED) for c in grid[h])

    def name(col: int) -> str:   # 1-based column
        return header[col - 1] if col - 1 < len(header) and header[col - 1] \
            else _("column {n}").format(n=get_column_letter(col))

    for r1, c1, r2, c2 in sorted(sheet.merged):
        if r2 < h + 1:
            continue  # a title above the header
        coord = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
        problems.append(Problem(fname, max(r1, h + 1), name(c1),
                                _("merged cells {range}: the value stands in one cell "
                                  "only; unmerge them and fill every cell").format(range=coord)))
    for r, c, value in sheet.long_numbers:
        if r > h:
            problems.append(Problem(
                fname, r, name(c),
                _("the number {value} has more than {digits} digits: a spreadsheet keeps "
                  "{digits}, so digits were lost (a code typed as a number?); format the "
                  "column as text and type the value again").format(value=repr(value),
                                                                    digits=EXACT_DIGITS)))
    if problems:
        return None, sorted(problems, key=lambda p: p.row)
    width = len(header)
    body = [row + [""] * (width - len(row)) for row in grid[h + 1:]]
    rows = np.arange(h + 2, h + 2 + len(body))
    keep = [i for i, r in enumerate(body) if any(r)]
    columns = tuple(pa.chunked_array([pa.array([body[i][c] for i in keep], pa.string())])
                    for c in range(width))
    return Cells(fname, header, h + 1, columns, rows[keep], encoding, sheet.name), []


# --------------------------------------------------------------------------------------
# Text checks of every cell
# --------------------------------------------------------------------------------------
def string_bytes(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of an arrow ``string`` or ``large_string`` array: value i is
    ``bytes[offsets[i]: offsets[i + 1]]`` (views of the arrow buffers, no copy)."""
    if len(chunk) == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    _validity, offsets_buf, data_buf = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width, count=len(chunk) + 1,
                            offset=chunk.offset * np.dtype(width).itemsize)
    if data_buf is None or offsets[-1] == offsets[0]:
        return (offsets - offsets[0]).astype(np.int64), np.zeros(0, dtype=np.uint8)
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]: offsets[-1]]
    return offsets - offsets[0], data


def _per_value(offsets: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """Mask of the values holding one of the byte ``positions``."""
    mask = np.zeros(n, dtype=bool)
    if len(positions):
        mask[np.searchsorted(offsets, positions, "right") - 1] = True
    return mask


def _forbidden_bytes(data: np.ndarray) -> np.ndarray:
    """Positions in UTF-8 ``data`` where a character of :data:`FORBIDDEN_CHARACTERS` begins.

    Candidates are the bytes that begin one (C0, DEL, and the lead bytes C2, D8, E2, EF);
    their next two bytes decide. The set is the same as :data:`FORBIDDEN_PATTERN`'s (a test
    checks every character of both)."""
    lead = np.flatnonzero((data < 0x20) | (data == 0x7F) | (data == 0xC2) | (data == 0xD8)
                          | (data == 0xE2) | (data == 0xEF))
    if not len(lead):
        return lead
    last = len(data) - 1
    b0 = data[lead]
    b1 = np.where(lead + 1 <= last, data[np.minimum(lead + 1, last)], 0)
    b2 = np.where(lead + 2 <= last, data[np.minimum(lead + 2, last)], 0)
    hit = (b0 < 0x20) | (b0 == 0x7F)
    hit |= (b0 == 0xC2) & (b1 >= 0x80) & (b1 <= 0x9F)                       # C1
    hit |= (b0 == 0xD8) & (b1 == 0x9C)                                      # U+061C
    hit |= (b0 == 0xE2) & (b1 == 0x80) & (((b2 >= 0x8B) & (b2 <= 0x8F))      # U+200B-200F
                                          | ((b2 >= 0xA8) & (b2 <= 0xAE)))   # U+2028-202E
    hit |= (b0 == 0xE2) & (b1 == 0x81) & ((b2 == 0xA0)                      # U+2060
                                          | ((b2 >= 0xA6) & (b2 <= 0xA9)))   # U+2066-2069
    hit |= (b0 == 0xEF) & (((b1 == 0xBB) & (b2 == 0xBF))                    # U+FEFF
                           | ((b1 == 0xBF) & (b2 == 0xBD)))                  # U+FFFD
    return lead[hit]


def forbidden_mask(column: pa.ChunkedArray) -> np.ndarray:
    """True where a value holds a character of :data:`FORBIDDEN_CHARACTERS`."""
    parts = []
    for chunk in column.chunks:
        offsets, data = string_bytes(chunk)
        parts.append(_per_value(offsets, _forbidden_bytes(data), len(chunk)))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


#: Lead bytes of the UTF-8 encoding of U+0020, U+00A0 (C2 A0), U+1680 (E1 ..), U+2000-205F
#: (E2 ..) and U+3000 (E3 ..): the first bytes of every character of :data:`TRIMMED`.
_SPACE_LEAD = np.zeros(256, dtype=bool)
_SPACE_LEAD[[0x20, 0xC2, 0xE1, 0xE2, 0xE3]] = True


def _edge_space(offsets: np.ndarray, data: np.ndarray) -> bool:
    """Whether a value may begin or end with a character of :data:`TRIMMED` (a look at the
    first and the last three bytes of every value; utf8_trim then decides)."""
    n = len(data)
    if not n:
        return False
    at = np.empty((4, len(offsets) - 1), dtype=np.int64)
    at[0] = offsets[:-1]                 # first byte
    at[1] = offsets[1:]
    at[1] -= 1                           # last byte: a space
    np.subtract(at[1], 1, out=at[2])     # second last: C2 of U+00A0
    np.subtract(at[1], 2, out=at[3])     # third last: the lead of a three-byte space
    np.clip(at, 0, n - 1, out=at)
    b = data[at]
    return bool(_SPACE_LEAD[b[0]].any() or (b[1] == 0x20).any() or (b[2] == 0xC2).any()
                or ((b[3] >= 0xE1) & (b[3] <= 0xE3)).any())


def strip_cells(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column with :data:`TRIMMED` white space removed around every value (the column
    itself, not a copy, when no value needs it)."""
    if not any(_edge_space(*string_bytes(chunk)) for chunk in column.chunks):
        return column
    return pc.utf8_trim(column, characters=TRIMMED)


def to_numpy(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean or integer arrow column as a numpy array."""
    if isinstance(mask, pa.ChunkedArray):
        if mask.num_chunks == 0:
            return np.zeros(0, dtype=mask.type.to_pandas_dtype())
        return np.concatenate([c.to_numpy(zero_copy_only=False) for c in mask.chunks])
    return mask.to_numpy(zero_copy_only=False)


def character_problem(text: str) -> str:
    """The message for a value holding forbidden characters (the first one named)."""
    m = FORBIDDEN_PATTERN.search(text)
    ch = m.group()
    kind = next(k for pattern, k in _FORBIDDEN_KIND if pattern.match(ch))
    name = unicodedata.name(ch, "") or {"\t": "TAB", "\n": "LINE FEED",
                                         "\r": "CARRIAGE RETURN"}.get(ch, "")
    label = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    return _("{kind} {label} at position {position} of {text}: retype the value without "
             "it").format(kind=_(kind), label=label, position=m.start() + 1, text=shown(text))


def character_problems(fname: str, rows: np.ndarray, columns: Sequence[pa.ChunkedArray],
                       names: Sequence[str]) -> tuple[list[Problem], list[np.ndarray]]:
    """Problems for values holding forbidden characters, and the mask of them per column."""
    problems: list[Problem] = []
    masks = []
    for column, name in zip(columns, names, strict=True):
        mask = forbidden_mask(column)
        masks.append(mask)
        for i in np.flatnonzero(mask).tolist():
            problems.append(Problem(fname, int(rows[i]), name,
                                    character_problem(column[i].as_py())))
    return problems, masks
