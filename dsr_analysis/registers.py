"""Registers (R1, "两库一单" + experts): read, validate and hold them.

A register directory holds ``enterprises``, ``inspectors``, ``experts`` and ``items``
(later also ``results``), each as ``.csv`` (UTF-8, UTF-8 with BOM or GB18030/GBK),
``.xlsx`` or ``.xls``; an absent ``experts`` is an empty expert register. Columns may carry
the English names below or the Chinese headers a provincial platform exports;
:data:`COLUMN_ALIASES` is the one place that maps them.

A file is read exactly or refused (:mod:`dsr_analysis.tabular`: strict encodings, every CSV
line checked for its quotes and its number of fields, a workbook's register sheet found by
its headers, merged cells refused). Validation is column-wise and collects **every**
problem, the cross-register ones included (:func:`cross_check`, in the same round), as
``file:row:column: message`` (row numbers as a spreadsheet shows them, header = row 1) and
raises :class:`~dsr_analysis.errors.RegisterError` with all of them. Lists are split at
``;``, ``；``, ``|`` and a line break, never at 、 (GB/T 4754 industry names hold it). Nothing is dropped or coerced
silently: surrounding white space is trimmed, documented spellings of booleans and
enumerations (``是``/``否``, ``重点管理``…) are mapped to their canonical values, and anything
else is an error - so is a control, bidirectional or zero-width character anywhere, in an id,
a code or a name alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DsrError, FileSystemError, Problem, RegisterError
from .i18n import _
from .labels import REGISTER_ZH
from .paths import SAMPLE_REGISTERS
from .policy import load_policy
from .schema import (COLUMN_ALIASES, CONTACT_COLUMNS, KEY_COLUMNS, MUST_HAVE_ROWS,
                     OPTIONAL_COLUMNS, REGISTER_NAMES, SCHEMAS)
from .schema import ALL_INDUSTRIES, ALL_INDUSTRIES_SPELLINGS, INDUSTRY_LIST_COLUMNS
from .values import uscc_message, uscc_status, value_converter
from .tabular import (FORBIDDEN_PATTERN, FORMATS, character_problem, character_problems,
                      read_cells, shown, string_bytes, strip_cells, to_numpy)

_SCHEMAS = SCHEMAS

_LINE_BREAK = r"\r\n|\r|\n"

#: Chinese labels of the canonical columns (for tables written for Chinese readers).
COLUMN_LABELS_ZH = {
    name: {col: aliases[0] for col, aliases in table.items()}
    for name, table in COLUMN_ALIASES.items()
}


@dataclass(frozen=True)
class Registers:
    """The validated registers of one jurisdiction.

    Attributes
    ----------
    enterprises : pandas.DataFrame
        Inspection objects (检查对象名录库), one row per USCC, canonical columns and dtypes.
    inspectors : pandas.DataFrame
        Enforcement officers (执法检查人员名录库); ``expertise`` and ``conflicts`` are tuples.
    experts : pandas.DataFrame
        Expert register (专家库); ``industries`` is a tuple.
    items : pandas.DataFrame
        Inspection items (随机抽查事项清单); ``applies_to`` is a tuple (``全部``,
        :data:`~dsr_analysis.schema.ALL_INDUSTRIES`, for every industry).
    sources : dict
        Register name -> path of the file it was read from (an absent expert register,
        which is an empty one, has none).
    rows : dict
        Register name -> spreadsheet row number of every row of its frame (for messages).
    """

    enterprises: pd.DataFrame
    inspectors: pd.DataFrame
    experts: pd.DataFrame
    items: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------
def known_headers(register: str) -> set[str]:
    """Every header that names a column of ``register`` (canonical names and Chinese
    aliases, lower case): what finds the header row below a title."""
    known = set()
    for canonical, aliases in COLUMN_ALIASES[register].items():
        known.add(canonical.lower())
        known.update(a.lower() for a in aliases)
    return known


def required_headers(register: str) -> dict[str, tuple[str, ...]]:
    """Required column -> its accepted headers (canonical name first): what a workbook's
    register sheet must hold."""
    return {c: (c,) + COLUMN_ALIASES[register][c] for c in _SCHEMAS[register]
            if c not in OPTIONAL_COLUMNS[register]}


def canonical_column(header: str, register: str) -> str:
    """The canonical column a file's header names (the header itself if none)."""
    low = header.lower()
    for canonical, aliases in COLUMN_ALIASES[register].items():
        if low == canonical.lower() or low in (a.lower() for a in aliases):
            return canonical
    return header


def _list_positions(header: Sequence[str], register: str) -> set[int]:
    """Positions of the header's columns of kind ``list``."""
    schema = _SCHEMAS[register]
    return {i for i, h in enumerate(header)
            if schema.get(canonical_column(h, register), ("",))[0] == "list"}


def read_register(
    path: Path, register: str, units: Mapping[str, str] | None = None, *,
    legacy_lists: bool = False,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and validate one register file (``legacy_lists``: :data:`dsr_analysis.values.LEGACY_LIST_SPLIT`).

    Parameters
    ----------
    path : Path
        CSV or XLSX file (read by :func:`dsr_analysis.tabular.read_cells`: exactly, or
        refused).
    register : str
        One of :data:`REGISTER_NAMES` or ``results``.
    units : mapping, optional
        Unit id -> Chinese name of the units the policy knows; both spellings are accepted.
        Without it any non-blank unit is accepted.

    Returns
    -------
    (DataFrame, list of Problem)
        The typed frame (canonical column names, index = spreadsheet row number) and every
        problem found in the file. The frame is only meaningful when no problem was found.
    """
    path = Path(path)
    fname = str(path)
    cells, problems = read_cells(path, known_headers(register), required_headers(register))
    if cells is None:
        return pd.DataFrame(), problems
    header, header_row, rows = cells.header, cells.header_row, cells.rows
    columns = list(cells.columns)
    del cells
    lists = _list_positions(header, register)
    for i in range(len(columns)):
        columns[i] = strip_cells(columns[i])   # the raw column goes as soon as it is replaced
        if i in lists and not legacy_lists:   # a line break in a workbook's list cell
            columns[i] = pc.replace_substring_regex(columns[i], _LINE_BREAK, ";")
    columns, rows = _drop_blank_rows(columns, rows)
    # a header with an invisible character is named by its position in every message
    labels = [_("column {n}").format(n=i + 1) if FORBIDDEN_PATTERN.search(h) else h
              for i, h in enumerate(header)]
    names = [h if h else _("column {n}").format(n=i + 1) for i, h in enumerate(labels)]
    for i, h in enumerate(header):
        if FORBIDDEN_PATTERN.search(h):
            problems.append(Problem(fname, header_row, _("column {n}").format(n=i + 1),
                                    _("header {problem}").format(problem=character_problem(h))))
    char_problems, masks = character_problems(fname, rows, columns, names)
    keep, found = _headed_columns(labels, columns, rows, fname, header_row)
    problems.extend(found)
    if problems:
        return pd.DataFrame(), problems + char_problems
    header = [header[i] for i in keep]
    rename, problems = canonical_headers(header, register, fname, header_row)
    if not problems and not len(rows) and register in MUST_HAVE_ROWS:
        problems.append(Problem(fname, 0, "-", _("no {register}: the file has a header (row "
                                                 "{row}) but no data rows").format(
                                                     register=register, row=header_row,
                                                     register_zh=REGISTER_ZH.get(register,
                                                                                 register))))
    if problems:
        return pd.DataFrame(), problems + char_problems
    frame = {rename.get(h, h): columns[i] for h, i in zip(header, keep, strict=True)}
    skip = {rename.get(h, h): masks[i] for h, i in zip(header, keep, strict=True)}
    del columns  # typed_frame lets go of each text column once it is converted
    out, problems = typed_frame(frame, rows, register, units, fname,
                                {rename[h]: h for h in header if h in rename}, skip,
                                legacy_lists=legacy_lists)
    out.index.name = "row"
    out.attrs["headers"] = {rename[h]: h for h in header if h in rename}  # for later messages
    return out, char_problems + problems


def _drop_blank_rows(columns: list[pa.ChunkedArray], rows: np.ndarray
                     ) -> tuple[list[pa.ChunkedArray], np.ndarray]:
    """Rows entirely blank (trailing lines of an export) are not data."""
    if not columns or not len(rows):
        return columns, rows
    blank = np.ones(len(rows), dtype=bool)
    for column in columns:
        blank &= to_numpy(pc.equal(column, ""))
    if not blank.any():
        return columns, rows
    keep = pa.array(~blank)
    return [c.filter(keep) for c in columns], rows[~blank]


def _headed_columns(header: Sequence[str], columns: Sequence[pa.ChunkedArray],
                    rows: np.ndarray, fname: str, header_row: int
                    ) -> tuple[list[int], list[Problem]]:
    """Positions of the columns with a header (empty columns without one are trailing
    separators of an export); problems for a column without a header that holds values,
    and for a header given twice."""
    problems: list[Problem] = []
    keep = []
    for pos, name in enumerate(header):
        if name == "":
            filled = np.flatnonzero(to_numpy(pc.not_equal(columns[pos], "")))
            if len(filled):
                value = columns[pos][int(filled[0])].as_py()
                problems.append(Problem(fname, int(rows[filled[0]]),
                                        _("column {n}").format(n=pos + 1),
                                        _("value {value} in a column without a header").format(
                                            value=shown(value))))
            continue
        keep.append(pos)
    counts = pd.Series([header[i] for i in keep], dtype=object).value_counts()
    for name in counts[counts > 1].index:
        problems.append(Problem(fname, header_row, name,
                                _("column '{name}' appears twice").format(name=name)))
    return keep, problems


def canonical_headers(headers: Sequence[str], register: str, fname: str, header_row: int
                      ) -> tuple[dict[str, str], list[Problem]]:
    """File header -> canonical column (:data:`COLUMN_ALIASES`); problems for two headers
    meaning one column and for a missing required column. Extra columns are kept as they are."""
    problems: list[Problem] = []
    lookup: dict[str, str] = {}
    for canonical, aliases in COLUMN_ALIASES[register].items():
        lookup[canonical.lower()] = canonical
        for alias in aliases:
            lookup[alias.lower()] = canonical
    rename: dict[str, str] = {}
    seen: dict[str, str] = {}
    for header in _contact_headers_first(headers, register, lookup):
        canonical = lookup.get(header.lower())
        if canonical is None:
            continue
        if canonical in seen and canonical in CONTACT_COLUMNS:
            continue  # e.g. 详细地址 beside 注册地址: the first alias is read, the other kept
        if canonical in seen:
            problems.append(
                Problem(fname, header_row, header,
                        _("column '{header}' duplicates '{first}' (both mean '{canonical}')"
                          ).format(header=header, first=seen[canonical], canonical=canonical))
            )
            continue
        seen[canonical] = header
        rename[header] = canonical
    for canonical in _SCHEMAS[register]:
        if canonical not in seen and canonical not in OPTIONAL_COLUMNS[register]:
            aliases = COLUMN_ALIASES[register][canonical]
            accepted = ", ".join((canonical,) + aliases)
            chinese = next((a for a in aliases if any("\u4e00" <= c <= "\u9fff" for c in a)),
                           canonical)
            problems.append(
                Problem(fname, header_row, canonical,
                        _("missing required column '{canonical}' (accepted headers: "
                          "{accepted})").format(canonical=canonical, accepted=accepted,
                                                canonical_zh=chinese))
            )
    return rename, problems


def _contact_headers_first(headers: Sequence[str], register: str,
                           lookup: Mapping[str, str]) -> list[str]:
    """``headers`` with the headers of a contact column (:data:`CONTACT_COLUMNS`) in the
    order of their aliases, so that the preferred one is read when an export has several
    (法定代表人 and 负责人); the others stay as extra columns."""
    if register != "enterprises":
        return list(headers)
    rank = {a.lower(): i for c in CONTACT_COLUMNS
            for i, a in enumerate((c,) + COLUMN_ALIASES[register][c])}
    contact = sorted((h for h in headers if lookup.get(h.lower()) in CONTACT_COLUMNS),
                     key=lambda h: rank[h.lower()])
    return contact + [h for h in headers if lookup.get(h.lower()) not in CONTACT_COLUMNS]


#: Value of a blank cell, and of every cell of an optional column the file does not have.
_BLANK = {"list": (), "int": 0, "date": None, "bool": False, "deadline": None, "amount": None}


def _blank_column(kind: str, n: int) -> object:
    if kind in ("list", "date", "deadline", "amount"):
        values = np.empty(n, dtype=object)
        values[:] = [_BLANK[kind]] * n
        return values
    if kind == "int":
        return np.zeros(n, dtype=np.int64)
    if kind == "bool":
        return np.zeros(n, dtype=bool)
    return pd.Series([""] * n, dtype="str").array


def typed_frame(columns: dict[str, pa.ChunkedArray], rows: np.ndarray, register: str,
                units: Mapping[str, str] | None, fname: str,
                original_header: Mapping[str, str],
                skip: Mapping[str, np.ndarray] | None = None,
                legacy_lists: bool = False,
                ) -> tuple[pd.DataFrame, list[Problem]]:
    """Convert every schema column to its type, column-wise (blank optional columns filled),
    keep the extra columns, and check the key column is unique.

    Parameters
    ----------
    columns : dict
        Canonical column name (or the file's header of an extra column) -> stripped text.
        Emptied as the columns are converted (so that text and values are not both held).
    rows : ndarray
        Spreadsheet row number of every value.
    skip : mapping, optional
        Column -> mask of values already reported (forbidden characters): not converted
        again, so one cell gives one problem.
    """
    schema = _SCHEMAS[register]
    skip = skip or {}
    n = len(rows)
    key = KEY_COLUMNS[register]
    problems = _duplicate_keys(columns.get(key), rows, key, fname, original_header.get(key, key))
    data: dict[str, object] = {}
    converted: list[Problem] = []
    for column, (kind, required) in schema.items():
        if column not in columns:
            data[column] = _blank_column(kind, n)
            continue
        values, col_problems = _convert_column(
            columns.pop(column), rows, kind, required, units, fname, original_header[column],
            skip.get(column, np.zeros(n, dtype=bool)), legacy_lists)
        if column in INDUSTRY_LIST_COLUMNS.get(register, ()) and not legacy_lists:
            values = _all_industries(values)
        converted.extend(col_problems)
        data[column] = values
    for extra in list(columns):
        data[extra] = _text(columns.pop(extra))
    out = pd.DataFrame(data, index=pd.Index(rows.astype(np.int64)))
    return out, converted + problems


def _all_industries(values: np.ndarray) -> np.ndarray:
    """Industry lists with every spelling of "all industries" (全部行业, 所有行业) as
    :data:`~dsr_analysis.schema.ALL_INDUSTRIES` (全部), the value the draw matches."""
    spellings = set(ALL_INDUSTRIES_SPELLINGS)
    for i, names in enumerate(values):
        if not spellings.isdisjoint(names):
            values[i] = tuple(ALL_INDUSTRIES if name in spellings else name for name in names)
    return values


def _text(column: pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """An arrow text column as the frame's ``str`` column (no copy)."""
    return column.to_pandas().array


def _duplicate_keys(column: pa.ChunkedArray | None, rows: np.ndarray, key: str, fname: str,
                    header: str) -> list[Problem]:
    """A problem for every repetition of a non-blank key (naming the row it repeats)."""
    if column is None or not len(rows):
        return []
    problems = []
    for group in _duplicate_groups(column):
        value = column[int(group[0])].as_py()
        for i in group[1:].tolist():
            problems.append(Problem(fname, int(rows[i]), header,
                                    _("duplicate {key} '{value}' (first seen in row {row})"
                                      ).format(key=header, value=value,
                                               row=int(rows[group[0]]))))
    return sorted(problems, key=lambda p: p.row)


def _duplicate_groups(column: pa.ChunkedArray) -> list[np.ndarray]:
    """Positions of the values that occur more than once, one sorted array per value
    (blank values excluded).

    Keys of one byte length (every USCC is 18 characters) are hashed with numpy, chunk by
    chunk, and only values of equal hash are compared, byte by byte; other keys go through
    arrow's dictionary encoding.
    """
    chunks = [string_bytes(c) for c in column.chunks]
    width = int(chunks[0][0][1]) if chunks and len(chunks[0][0]) > 1 else 0
    if 0 < width <= 64 and all(len(d) == width * (len(o) - 1) for o, d in chunks):
        hashed = np.concatenate([_row_hash(d.reshape(-1, width)) for _, d in chunks])
        ordered = np.sort(hashed)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if not len(repeated):
            return []
        groups: dict[bytes, list[int]] = {}
        starts = np.cumsum([0] + [len(o) - 1 for o, _ in chunks])
        for i in np.flatnonzero(np.isin(hashed, repeated)).tolist():   # the bytes decide
            k = int(np.searchsorted(starts, i, "right")) - 1
            offsets, data = chunks[k]
            j = i - int(starts[k])
            groups.setdefault(data[offsets[j]: offsets[j + 1]].tobytes(), []).append(i)
        return [np.array(g) for g in groups.values() if len(g) > 1]
    dictionary, codes = _factorize(column)
    counts = np.bincount(codes, minlength=len(dictionary))
    blank = pc.index(dictionary, "").as_py()
    if blank >= 0:
        counts[blank] = 0
    repeated = np.flatnonzero(counts[codes] > 1)
    if not len(repeated):
        return []
    order = repeated[np.argsort(codes[repeated], kind="stable")]
    split = np.flatnonzero(np.diff(codes[order])) + 1
    return [np.sort(g) for g in np.split(order, split)]


def _row_hash(matrix: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every row of a uint8 matrix (equal rows, equal hashes)."""
    hashed = np.full(len(matrix), 0xCBF29CE484222325, dtype=np.uint64)
    for j in range(matrix.shape[1]):
        hashed ^= matrix[:, j]
        hashed *= np.uint64(0x100000001B3)      # FNV-1a, one byte at a time
    return hashed


def _factorize(column: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Distinct values and the index of every value among them."""
    encoded = column.dictionary_encode()
    if encoded.num_chunks == 0:
        return pa.array([], column.type), np.zeros(0, dtype=np.int64)
    dictionary = encoded.chunk(0).dictionary
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False)
                            for c in encoded.chunks])
    return dictionary, codes


def _convert_column(
    column: pa.ChunkedArray,
    rows: np.ndarray,
    kind: str,
    required: bool,
    units: Mapping[str, str] | None,
    fname: str,
    header: str,
    skip: np.ndarray,
    legacy_lists: bool = False,
) -> tuple[object, list[Problem]]:
    """One column to its kind, column-wise: the distinct values are converted once each."""
    problems: list[Problem] = []

    def report(mask: np.ndarray, message: str) -> None:
        for i in np.flatnonzero(mask & ~skip).tolist():
            problems.append(Problem(fname, int(rows[i]), header, message))

    if kind in ("str", "uscc"):
        if required:
            report(to_numpy(pc.equal(column, "")), _("blank required value"))
        if kind == "uscc":
            status = uscc_status(column)
            for i in np.flatnonzero((status != 0) & ~skip).tolist():
                text = column[i].as_py()
                if text:
                    problems.append(Problem(fname, int(rows[i]), header,
                                            uscc_message(text, int(status[i]))))
            problems.sort(key=lambda p: p.row)
        return _text(column), problems
    convert = value_converter(kind, units, legacy_lists)
    dictionary, codes = _factorize(column)
    converted = []
    for u, text in enumerate(dictionary.to_pylist()):
        if text == "":
            value, message = _BLANK.get(kind, ""), _("blank required value") if required else None
        else:
            value, message = convert(text)
            if message is None and required and value == ():
                message = _("blank required value ('{text}' holds only separators)").format(
                    text=text)
        converted.append(value)
        if message is not None:
            report(codes == u, message)
    problems.sort(key=lambda p: p.row)
    if kind == "bool":
        values: object = np.array(converted, dtype=bool)[codes]
    elif kind == "int":
        values = np.array(converted, dtype=np.int64)[codes]
    elif kind in ("date", "list", "deadline", "amount"):
        table = np.empty(len(converted), dtype=object)
        table[:] = converted
        values = table[codes]
    else:  # unit, enum: canonical spellings
        if converted == dictionary.to_pylist():
            values = _text(column)
        else:
            taken = pa.array(converted, pa.string()).take(pa.array(codes))
            values = _text(pa.chunked_array([taken]))
    return values, problems


def bad_cells(problems: Sequence[Problem], register: str) -> set[tuple[int, str]]:
    """(spreadsheet row, canonical column) of every cell a problem names: cross checks
    leave them out, so a bad value gives one message, not a second misleading one."""
    return {(p.row, canonical_column(p.column, register)) for p in problems}


def cross_check(
    frames: Mapping[str, pd.DataFrame], sources: Mapping[str, str],
    bad: Mapping[str, set[tuple[int, str]]] | None = None,
) -> list[Problem]:
    """Checks that span registers or rows (R1, R2): conflicts naming unknown objects,
    positive-list firms penalised last year.

    ``bad`` (register -> cells from :func:`bad_cells`) names cells already reported: a row
    is not checked on them. A register whose file was refused as a whole has an empty frame
    and is not checked."""
    bad = bad or {}
    problems: list[Problem] = []
    ent = frames.get("enterprises")
    if ent is not None and not ent.empty:
        # positions, not boolean indexing: a frame of arrow text columns would be copied
        contradiction = (ent["positive_list"] & ent["penalised_last_year"]).to_numpy()
        spoilt = bad.get("enterprises", set())
        column = ent.attrs.get("headers", {}).get("positive_list", "positive_list")
        for i in np.flatnonzero(contradiction).tolist():
            row = int(ent.index[i])
            if (row, "positive_list") in spoilt or (row, "penalised_last_year") in spoilt:
                continue
            problems.append(
                Problem(sources["enterprises"], row, column,
                        _("enterprise {uscc} is on the positive list but was penalised last year "
                          "(a penalty removes a firm from the positive list)").format(
                              uscc=ent["uscc"].iloc[i]))
            )
    insp = frames.get("inspectors")
    if insp is not None and not insp.empty and ent is not None and not ent.empty:
        named = {code for conflicts in insp["conflicts"] for code in conflicts}
        present = np.flatnonzero(ent["uscc"].isin(named).to_numpy())
        known = {ent["uscc"].iloc[i] for i in present.tolist()}
        spoilt = bad.get("inspectors", set())
        column = insp.attrs.get("headers", {}).get("conflicts", "conflicts")
        for row, conflicts in insp["conflicts"].items():
            if (int(row), "conflicts") in spoilt:
                continue
            for code in conflicts:
                if code not in known:
                    problems.append(
                        Problem(sources["inspectors"], int(row), column,
                                _("declared conflict names unknown object '{code}' (not in the "
                                  "enterprise register)").format(code=code))
                    )
    return problems


def register_directory(path: str | Path) -> Path:
    """A register directory checked as a path before anything is read: one that does not exist
    is bad usage (:class:`DsrError`, exit 2, as a missing policy or ledger); a file where the
    directory belongs is an operating-system problem (:class:`FileSystemError`, exit 3)."""
    path = Path(path)
    if not path.exists():
        raise DsrError(_("{path}: no such register directory (--registers: the folder holding "
                         "enterprises, inspectors, experts and items)").format(path=path))
    if not path.is_dir():
        raise FileSystemError(_("{path}: a file where the register directory belongs (give the "
                                "folder holding enterprises, inspectors, experts and items)"
                                ).format(path=path))
    return path


def load_registers(
    directory: str | Path | None = None,
    units: Mapping[str, str] | None = None,
    names: Sequence[str] = REGISTER_NAMES,
    *,
    legacy_lists: bool = False,
) -> Registers:
    """Read and validate a register directory; raise :class:`RegisterError` with every problem.

    Parameters
    ----------
    directory : path, optional
        Directory holding ``enterprises``, ``inspectors``, ``experts`` and ``items`` as
        ``.csv``, ``.xlsx`` or ``.xls`` (an absent ``experts`` is an empty expert register).
        Default: the embedded synthetic sample.
    units : mapping, optional
        Unit id -> Chinese name (from the policy); default: the units of the default policy.
    legacy_lists : bool
        Read the lists as the registers of draw records up to issue 19 were read
        (:data:`dsr_analysis.values.LEGACY_LIST_SPLIT`; for ``dsr verify`` only).

    Every check runs in one round: the files' own problems and the cross-register ones
    (:func:`cross_check`, on the rows and cells that read cleanly) are raised together.
    """
    if units is None:
        units = load_policy().unit_names
    directory = Path(directory) if directory is not None else SAMPLE_REGISTERS
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    register_directory(directory)
    bad: dict[str, set[tuple[int, str]]] = {}
    for name in names:
        candidates = [directory / f"{name}{suffix}" for suffix in FORMATS
                      if (directory / f"{name}{suffix}").exists()]
        if not candidates:
            others = sorted(p.name for p in directory.glob(f"{name}.*") if p.is_file())
            if name == "experts" and not others:
                # no expert register at all (no file of its name): no experts yet
                frames[name], _none = typed_frame({}, np.zeros(0, dtype=np.int64), name, units,
                                              str(directory / name), {})
                continue
            problems.append(_missing_register(directory, name, others))
            continue
        if len(candidates) > 1:
            files = [p.name for p in candidates]
            message = (_("both {first} and {last} exist; keep one") if len(files) == 2 else
                       _("{first} and {last} exist; keep one"))
            problems.append(Problem(str(directory / name), 0, "-", message.format(
                first=", ".join(files[:-1]), last=files[-1])))
            continue
        frame, found = read_register(candidates[0], name, units, legacy_lists=legacy_lists)
        problems.extend(found)
        bad[name] = bad_cells(found, name)
        frames[name] = frame
        sources[name] = str(candidates[0])
    problems.extend(cross_check(frames, sources, bad))
    if problems:
        raise RegisterError(problems)
    parts = {name: frames.get(name, pd.DataFrame()) for name in REGISTER_NAMES}
    return Registers(**{name: f.reset_index(drop=True) for name, f in parts.items()},
                     sources=sources,
                     rows={name: f.index.to_numpy(dtype=np.int64) for name, f in parts.items()})


def _missing_register(directory: Path, name: str, others: Sequence[str]) -> Problem:
    """A register without a file in a format read; ``others``: files of its name in
    another format."""
    expected = _("{some} or {last}").format(
        some=", ".join(f"{name}{s}" for s in FORMATS[:-1]), last=f"{name}{FORMATS[-1]}")
    if others:
        return Problem(str(directory / others[0]), 0, "-",
                       _("register '{name}': {files} is not in a format read ({formats}); save "
                         "it as {expected}").format(name=name, files=", ".join(others),
                                                    formats=", ".join(FORMATS),
                                                    expected=expected,
                                                    name_zh=REGISTER_ZH.get(name, name)))
    return Problem(str(directory / name), 0, "-",
                   _("register '{name}' not found (expected {expected})").format(
                       name=name, expected=expected, name_zh=REGISTER_ZH.get(name, name)))
