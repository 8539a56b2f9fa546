"""Registers (R1, "两库一单" + experts): read, validate and hold them.

A register directory holds ``enterprises``, ``inspectors``, ``experts`` and ``items``
(later also ``results``), each as ``.csv`` (UTF-8, UTF-8 with BOM or GBK) or ``.xlsx``.
Columns may carry the English names below or the Chinese headers a provincial platform
exports; :data:`COLUMN_ALIASES` is the one place that maps them.

Validation collects **every** problem as ``file:row:column: message`` (row numbers as a
spreadsheet shows them, header = row 1) and raises :class:`~dsr_analysis.errors.RegisterError`
with all of them. Nothing is dropped or coerced silently: surrounding white space is trimmed,
documented spellings of booleans and enumerations (``是``/``否``, ``重点管理``…) are mapped to
their canonical values, and anything else is an error.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

from .errors import Problem, RegisterError
from .paths import SAMPLE_REGISTERS
from .policy import load_policy

from .schema import (COLUMN_ALIASES, ENUMS, KEY_COLUMNS, OPTIONAL_COLUMNS,
                     REGISTER_NAMES, SCHEMAS)

_SCHEMAS = SCHEMAS

BOOL_TRUE = {"true", "1", "yes", "y", "t", "是", "有", "√"}
BOOL_FALSE = {"false", "0", "no", "n", "f", "否", "无", "×"}

#: Separators accepted in list cells ("a;b", "a；b", "a、b", "a|b").
LIST_SPLIT = re.compile(r"[;；、|]")

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
        Inspection items (随机抽查事项清单); ``applies_to`` is a tuple.
    sources : dict
        Register name -> path of the file it was read from.
    """

    enterprises: pd.DataFrame
    inspectors: pd.DataFrame
    experts: pd.DataFrame
    items: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------
def _decode_csv_bytes(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _cell_to_text(value: object) -> str:
    """Text of a spreadsheet cell without changing its meaning (3.0 -> '3', True -> 'true')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _split_header(raw: pd.DataFrame, header_idx: int) -> tuple[pd.DataFrame, int]:
    header = [str(h) for h in raw.iloc[header_idx].tolist()]
    body = raw.iloc[header_idx + 1 :].copy()
    body.columns = header
    # Rows that are entirely blank (trailing lines of an export) are not data.
    body = body[~(body == "").all(axis=1)]
    body.index = body.index + 1  # 0-based raw index -> 1-based spreadsheet row number
    return body, header_idx + 1


def _detect_header(raw: pd.DataFrame, register: str) -> int:
    """Index of the header row: the first of the first 10 rows naming >= 2 known columns.

    Provincial exports often put a title line above the header.
    """
    known = set()
    for canonical, aliases in COLUMN_ALIASES[register].items():
        known.add(canonical.lower())
        known.update(a.lower() for a in aliases)
    for idx in range(min(10, len(raw))):
        cells = {str(c).strip().lower() for c in raw.iloc[idx].tolist()}
        if len(cells & known) >= 2:
            return idx
    return 0


def read_register(
    path: Path, register: str, units: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and validate one register file.

    Parameters
    ----------
    path : Path
        CSV or XLSX file.
    register : str
        One of :data:`REGISTER_NAMES`.
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
    raw, problems = read_cells(path)
    if problems:
        return pd.DataFrame(), problems
    body, header_row = _split_header(raw, _detect_header(raw, register))
    body, problems = _headed_columns(body, fname, header_row)
    if problems:
        return pd.DataFrame(), problems
    rename, problems = canonical_headers(body.columns, register, fname, header_row)
    if problems:
        return pd.DataFrame(), problems
    out, problems = typed_frame(body.rename(columns=rename), register, units, fname,
                                {v: k for k, v in rename.items()})
    out.index.name = "row"
    return out, problems


def read_cells(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Every cell of a CSV or XLSX file as stripped text (no header interpretation)."""
    fname = str(path)
    if path.suffix.lower() == ".xlsx":
        try:
            raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
        except Exception as exc:
            return pd.DataFrame(), [Problem(fname, 0, "-", f"cannot read XLSX: {exc}")]
        raw = raw.map(_cell_to_text)
    else:
        text = _decode_csv_bytes(path.read_bytes())
        if text is None:
            return pd.DataFrame(), [Problem(fname, 0, "-", "cannot decode the file as UTF-8 or GBK")]
        if not text.strip():
            return pd.DataFrame(), [Problem(fname, 0, "-", "the file is empty")]
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            return pd.DataFrame(), [Problem(fname, 0, "-", f"cannot parse CSV: {exc}")]
        width = max(len(r) for r in rows)
        raw = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    raw = raw.fillna("").astype(str)
    raw = raw.apply(lambda col: col.str.strip().str.strip("\u3000"))
    if raw.empty:
        return pd.DataFrame(), [Problem(fname, 0, "-", "the file is empty")]
    return raw, []


def _headed_columns(body: pd.DataFrame, fname: str, header_row: int
                    ) -> tuple[pd.DataFrame, list[Problem]]:
    """Drop empty columns without a header (trailing separators of an export); report a
    column without a header that holds values, and a header given twice."""
    problems: list[Problem] = []
    keep = []
    for pos, header in enumerate(body.columns):
        column = body.iloc[:, pos]
        if header == "":
            filled = column[column != ""]
            if len(filled):
                problems.append(Problem(fname, int(filled.index[0]), f"column {pos + 1}",
                                        f"value '{filled.iloc[0]}' in a column without a header"))
            continue
        keep.append(pos)
    body = body.iloc[:, keep]
    counts = pd.Series(body.columns).value_counts()
    for header in counts[counts > 1].index:
        problems.append(Problem(fname, header_row, header, f"column '{header}' appears twice"))
    return body, problems


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
    for header in headers:
        canonical = lookup.get(header.lower())
        if canonical is None:
            continue
        if canonical in seen:
            problems.append(
                Problem(fname, header_row, header,
                        f"column '{header}' duplicates '{seen[canonical]}' (both mean '{canonical}')")
            )
            continue
        seen[canonical] = header
        rename[header] = canonical
    for canonical in _SCHEMAS[register]:
        if canonical not in seen and canonical not in OPTIONAL_COLUMNS[register]:
            accepted = ", ".join((canonical,) + COLUMN_ALIASES[register][canonical])
            problems.append(
                Problem(fname, header_row, canonical,
                        f"missing required column '{canonical}' (accepted headers: {accepted})")
            )
    return rename, problems


def typed_frame(frame: pd.DataFrame, register: str, units: Mapping[str, str] | None,
                fname: str, original_header: Mapping[str, str]
                ) -> tuple[pd.DataFrame, list[Problem]]:
    """Convert every schema column to its type (blank optional columns filled), keep the
    extra columns, and check the key column is unique."""
    schema = _SCHEMAS[register]
    problems: list[Problem] = []
    out = pd.DataFrame(index=frame.index)
    for column, (kind, required) in schema.items():
        if column not in frame.columns:
            out[column] = [() if kind == "list" else "" for _ in range(len(frame))]
            continue
        header = original_header[column]
        values, col_problems = _convert_column(frame[column], kind, required, units, fname, header)
        problems.extend(col_problems)
        out[column] = values
    for extra in frame.columns:
        if extra not in schema:
            out[extra] = frame[extra]
    key = KEY_COLUMNS[register]
    keys = out[key]
    dup = keys[(keys != "") & keys.duplicated(keep=False)]
    for value, rows in dup.groupby(dup).groups.items():
        rows = sorted(int(r) for r in rows)
        for r in rows[1:]:
            problems.append(
                Problem(fname, r, original_header[key],
                        f"duplicate {key} '{value}' (first seen in row {rows[0]})")
            )
    return out, problems


def _convert_column(
    series: pd.Series,
    kind: str,
    required: bool,
    units: Mapping[str, str] | None,
    fname: str,
    header: str,
) -> tuple[list[object], list[Problem]]:
    problems: list[Problem] = []
    values: list[object] = []
    unit_lookup: dict[str, str] = {}
    if units:
        for uid, zh in units.items():
            unit_lookup[uid.lower()] = uid
            unit_lookup[zh] = uid
    enum_lookup: dict[str, str] = {}
    if kind.startswith("enum:"):
        for canonical, spellings in ENUMS[kind[5:]].items():
            enum_lookup[canonical.lower()] = canonical
            for s in spellings:
                enum_lookup[s.lower()] = canonical
    for row, text in series.items():
        row = int(row)

        def bad(msg: str, _row: int = row) -> None:
            problems.append(Problem(fname, _row, header, msg))

        if text == "":
            if required:
                bad("blank required value")
            values.append(() if kind == "list" else
                          0 if kind == "int" else None if kind == "date" else "")
            continue
        if kind == "str":
            values.append(text)
        elif kind == "bool":
            low = text.lower()
            if low in BOOL_TRUE:
                values.append(True)
            elif low in BOOL_FALSE:
                values.append(False)
            else:
                bad(f"'{text}' is not a boolean (use true/false, 1/0, yes/no or 是/否)")
                values.append(False)
        elif kind == "int":
            if re.fullmatch(r"\d+", text):
                values.append(int(text))
            else:
                bad(f"'{text}' is not a non-negative whole number")
                values.append(0)
        elif kind == "date":
            parsed = parse_date(text)
            if parsed is None:
                bad(f"'{text}' is not a date (use YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)")
            values.append(parsed)
        elif kind == "list":
            parts = tuple(p.strip() for p in LIST_SPLIT.split(text) if p.strip())
            values.append(parts)
        elif kind == "uscc":
            if not stdnum_uscc.is_valid(text):
                reason = _uscc_reason(text)
                bad(f"invalid unified social credit code '{text}': {reason}")
            elif stdnum_uscc.compact(text) != text:
                bad(f"unified social credit code '{text}' is not in canonical form "
                    f"(expected '{stdnum_uscc.compact(text)}')")
            values.append(text)
        elif kind == "unit":
            if units is None:
                values.append(text)
            elif text.lower() in unit_lookup or text in unit_lookup:
                values.append(unit_lookup.get(text.lower(), unit_lookup.get(text)))
            else:
                valid = ", ".join(f"{k} ({v})" for k, v in units.items())
                bad(f"unknown unit '{text}' (valid: {valid})")
                values.append(text)
        elif kind.startswith("enum:"):
            canonical = enum_lookup.get(text.lower())
            if canonical is None:
                valid = ", ".join(
                    f"{c} ({'/'.join(s)})" for c, s in ENUMS[kind[5:]].items()
                )
                bad(f"unknown {kind[5:].replace('_', ' ')} '{text}' (valid: {valid})")
                values.append(text)
            else:
                values.append(canonical)
        else:  # pragma: no cover - schema error
            raise ValueError(kind)
    return values, problems


_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)


def parse_date(text: str) -> datetime.date | None:
    """A calendar date in one of the spellings registers use; None if it is not one."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]00:00:00", text):  # spreadsheet date cells
        text = text[:10]
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def _uscc_reason(text: str) -> str:
    try:
        stdnum_uscc.validate(text)
    except Exception as exc:  # stdnum's ValidationError subclasses
        return str(exc).rstrip(".").lower()
    return "not valid"  # pragma: no cover


def cross_check(
    frames: Mapping[str, pd.DataFrame], sources: Mapping[str, str]
) -> list[Problem]:
    """Checks that span registers or rows (R1, R2): conflicts naming unknown objects,
    positive-list firms penalised last year."""
    problems: list[Problem] = []
    ent = frames.get("enterprises")
    if ent is not None and not ent.empty:
        contradiction = ent[ent["positive_list"] & ent["penalised_last_year"]]
        for row, rec in contradiction.iterrows():
            problems.append(
                Problem(sources["enterprises"], int(row), "positive_list",
                        f"enterprise {rec['uscc']} is on the positive list but was penalised "
                        "last year (a penalty removes a firm from the positive list)")
            )
    insp = frames.get("inspectors")
    if insp is not None and not insp.empty and ent is not None and not ent.empty:
        known = set(ent["uscc"])
        for row, conflicts in insp["conflicts"].items():
            for code in conflicts:
                if code not in known:
                    problems.append(
                        Problem(sources["inspectors"], int(row), "conflicts",
                                f"declared conflict names unknown object '{code}' "
                                "(not in the enterprise register)")
                    )
    return problems


def load_registers(
    directory: str | Path | None = None,
    units: Mapping[str, str] | None = None,
    names: Sequence[str] = REGISTER_NAMES,
) -> Registers:
    """Read and validate a register directory; raise :class:`RegisterError` with every problem.

    Parameters
    ----------
    directory : path, optional
        Directory holding ``enterprises``, ``inspectors``, ``experts`` and ``items`` as
        ``.csv`` or ``.xlsx``. Default: the embedded synthetic sample.
    units : mapping, optional
        Unit id -> Chinese name (from the policy); default: the units of the default policy.
    """
    if units is None:
        units = load_policy().unit_names
    directory = Path(directory) if directory is not None else SAMPLE_REGISTERS
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    if not directory.is_dir():
        raise RegisterError([Problem(str(directory), 0, "-", "register directory not found")])
    for name in names:
        candidates = [p for p in (directory / f"{name}.csv", directory / f"{name}.xlsx") if p.exists()]
        if not candidates:
            problems.append(Problem(str(directory / name), 0, "-",
                                    f"register '{name}' not found (expected {name}.csv or {name}.xlsx)"))
            continue
        if len(candidates) > 1:
            problems.append(Problem(str(directory / name), 0, "-",
                                    f"both {name}.csv and {name}.xlsx exist; keep one"))
            continue
        frame, found = read_register(candidates[0], name, units)
        problems.extend(found)
        frames[name] = frame
        sources[name] = str(candidates[0])
    if not problems:
        problems.extend(cross_check(frames, sources))
    else:
        # Cross checks still run on registers that read cleanly, so every problem shows at once.
        clean = {n: f for n, f in frames.items()
                 if not any(p.file == sources.get(n) for p in problems)}
        problems.extend(cross_check(clean, sources))
    if problems:
        raise RegisterError(problems)
    return Registers(
        enterprises=frames["enterprises"].reset_index(drop=True) if "enterprises" in frames else pd.DataFrame(),
        inspectors=frames["inspectors"].reset_index(drop=True) if "inspectors" in frames else pd.DataFrame(),
        experts=frames["experts"].reset_index(drop=True) if "experts" in frames else pd.DataFrame(),
        items=frames["items"].reset_index(drop=True) if "items" in frames else pd.DataFrame(),
        sources=sources,
    )
