"""Hostile input for the register and policy readers (issue 12): mutate the sample files,
load them, and judge every outcome against an exact reference reading.

    python scripts/fuzz_inputs.py --mutations 1000 --seed 20230105

For every register kind (``enterprises``, ``inspectors``, ``experts``, ``items``, the
``results`` register: ``sample_results`` of a 2023Q1 draw of the sample, and the
``policy``) the script makes N mutated files
(byte and text level: quotes, commas, line breaks and CRs inserted or deleted, fields
deleted or duplicated, quotes spanning rows, truncation, GB18030 / Big5 / UTF-16 /
Latin-1 bytes, control / bidi / zero-width characters, values of the wrong type, NaN,
infinities and huge numbers, duplicate YAML keys, aliases, alias bombs, deep nesting...),
loads each one through the public loader (``load_registers``, ``load_results``,
``load_policy``) and prints per kind how many were

* **refused** with messages of the documented form (``file:row:column: message`` for the
  registers, ``file: key 'a.b': message`` or ``file: message`` for a policy),
* **accepted correctly**: the loaded data equal the reference reading of the file,
* **tracebacks**: an exception that is not a :class:`~dsr_analysis.errors.DsrError`,
* **wrongly accepted**: a file the documented rules refuse (a row or a field lost or
  added, a quote spanning lines, a duplicate key...), or data of another shape than the
  reference's (rows or columns lost, merged, added),
* **silently coerced**: data of the reference's shape with a value that differs from the
  reference's, or a value the rules refuse (wrong type, forbidden character, NaN...),
* **badly formatted**: refused, but a message line is not of the documented form.

The oracle
----------
Every mutation knows the text it means (the *intended text*) and the bytes it wrote. The
reference reading is written from the documented rules (docs/reference/registers.md) independently of
the reader: the bytes must be the UTF-8 (optionally with BOM) or GB18030 encoding of the
intended text, else the file must be refused; lines end in LF, CRLF or CR; empty lines are
not rows; every line is parsed by a small strict CSV parser (a quoted field closes on its
line, a quote inside an unquoted field or text after a closing quote is an error); the
header is the first of the first ten lines naming two known headers; every row has exactly
the header's number of fields; cells are trimmed of the Unicode space separators (Zs) only;
the characters docs/reference/registers.md lists are errors; values are converted with the documented
spellings (``COLUMN_ALIASES``, ``ENUMS``, the boolean spellings, ASCII digits, the date
spellings, ``;；|`` lists - never split at 、 - with 全部行业/所有行业 read as 全部 in the
industry lists, ``stdnum`` for the USCC). A policy's reference is PyYAML's safe
reading with duplicate keys and the node / depth bounds refused, compared field by field
with the loaded :class:`~dsr_analysis.policy.Policy` (types, ranges, defaults; a text value
must be the text as written: ``rule: 010`` read as ``'8'`` would be coerced).

The same engine drives ``tests/test_fuzz.py`` (hypothesis, a few hundred examples).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import re
import sys
import tempfile
import time
import traceback
import types
import typing
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import yaml
from stdnum.cn import uscc as stdnum_uscc
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from dsr_analysis.config import MAX_DEPTH, MAX_NODES
from dsr_analysis.errors import DsrError, RegisterError
from dsr_analysis.paths import DEFAULT_POLICY, SAMPLE_REGISTERS
from dsr_analysis.policy import Policy, load_policy
from dsr_analysis.registers import load_registers
from dsr_analysis.values import BOOL_FALSE, BOOL_TRUE
from dsr_analysis.results import load_results, sample_results, write_results
from dsr_analysis.schema import (COLUMN_ALIASES, ENUMS, KEY_COLUMNS, MUST_HAVE_ROWS,
                                 OPTIONAL_COLUMNS, SCHEMAS)

REGISTER_KINDS = ("enterprises", "inspectors", "experts", "items", "results")
#: The list columns of industry names (docs/reference/registers.md).
INDUSTRY_LISTS = {"inspectors": ("expertise",), "experts": ("industries",), "items": ("applies_to",)}
KINDS = REGISTER_KINDS + ("policy",)

#: Outcome categories, in the order of the table.
CATEGORIES = ("refused", "accepted", "traceback", "wrongly_accepted", "silently_coerced",
              "badly_formatted")
#: Categories that are a failure of the readers.
FAILURES = ("traceback", "wrongly_accepted", "silently_coerced", "badly_formatted")
HEADINGS = {"refused": "refused, good messages", "accepted": "accepted correctly",
            "traceback": "tracebacks", "wrongly_accepted": "wrongly accepted",
            "silently_coerced": "silently coerced", "badly_formatted": "badly formatted"}


# --------------------------------------------------------------------------------------
# Choices: numpy for the script, hypothesis for the tests
# --------------------------------------------------------------------------------------
class Chooser(Protocol):
    def integer(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi] (both included)."""


class RngChooser:
    """Choices from one numpy generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))


def pick(ch: Chooser, seq: Sequence) -> Any:
    return seq[ch.integer(0, len(seq) - 1)]


# --------------------------------------------------------------------------------------
# The documented rules, written down independently of the reader (docs/reference/registers.md)
# --------------------------------------------------------------------------------------
#: Trimmed around every value: the Unicode space separators.
SPACES = "".join(chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs")
#: Errors anywhere in a value, as docs/reference/registers.md lists them.
INVISIBLE = re.compile("[\x00-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
                       "\u200b-\u200d\u2060\ufeff\u2028\u2029\ufffd]")
LINE_END = re.compile(r"\r\n|\r|\n")
LIST_SEPARATORS = re.compile(r"[;；|\r\n]")  # never 、 (GB/T 4754 names hold it)
DATE_SPELLINGS = (
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"),
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"),
    re.compile(r"([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,2})"),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"),
    re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]00:00:00"),  # a spreadsheet date cell
)


def parse_line(line: str) -> list[str] | None:
    """Fields of one CSV line, or None if its quoting is not well formed (RFC 4180 inside one
    line: a quoted field closes on the line and is followed by a comma or the end; no quote
    inside an unquoted field)."""
    fields: list[str] = []
    i, n = 0, len(line)
    while True:
        if i < n and line[i] == '"':
            j, parts = i + 1, []
            while True:
                k = line.find('"', j)
                if k < 0:
                    return None
                parts.append(line[j:k])
                if k + 1 < n and line[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            fields.append("".join(parts))
            if i < n and line[i] != ",":
                return None
        else:
            k = line.find(",", i)
            end = n if k < 0 else k
            if '"' in line[i:end]:
                return None
            fields.append(line[i:end])
            i = end
        if i >= n:
            return fields
        i += 1


def csv_field(value: str) -> str:
    """``value`` written as a CSV field (quoted when it must be)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def documented_text(data: bytes) -> tuple[str | None, str]:
    """The text of a register's bytes by the documented rule (UTF-8, one leading BOM
    dropped, else GB18030), and which of them."""
    try:
        text = data.decode("utf-8")
        return (text[1:] if text.startswith("\ufeff") else text), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        return None, ""


@dataclass
class Expected:
    """What a correct reader does with a file: refuse it (``refuse`` says why, ``severity``
    how an acceptance would be counted), or accept it with exactly ``columns``."""

    refuse: str | None = None
    severity: str = "wrongly_accepted"
    columns: dict[str, list] = field(default_factory=dict)
    rows: int = 0


def _refuse(why: str, severity: str = "wrongly_accepted") -> Expected:
    return Expected(refuse=why, severity=severity)


def known_headers(kind: str) -> dict[str, str]:
    """Lower-case header -> canonical column (the alias table)."""
    out = {}
    for canonical, aliases in COLUMN_ALIASES[kind].items():
        out[canonical.lower()] = canonical
        out.update({a.lower(): canonical for a in aliases})
    return out


def convert_value(kind: str, text: str, units: dict[str, str]) -> tuple[bool, Any]:
    """(valid, value) of one non-blank trimmed cell by the documented spellings."""
    if kind == "str":
        return True, text
    if kind == "uscc":
        try:
            stdnum_uscc.validate(text)
        except Exception:
            return False, None
        return stdnum_uscc.compact(text) == text, text
    if kind == "bool":
        low = text.lower()
        if low in BOOL_TRUE:
            return True, True
        if low in BOOL_FALSE:
            return True, False
        return False, None
    if kind == "int":
        if re.fullmatch(r"[0-9]+", text) and int(text) < 2**63:
            return True, int(text)
        return False, None
    if kind == "date":
        for pattern in DATE_SPELLINGS:
            m = pattern.fullmatch(text)
            if m:
                try:
                    day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    return False, None
                return day <= dt.date.today(), day
        return False, None
    if kind == "deadline":  # a date that may lie ahead (整改期限)
        for pattern in DATE_SPELLINGS:
            m = pattern.fullmatch(text)
            if m:
                try:
                    return True, dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    return False, None
        return False, None
    if kind == "amount":  # yuan: ASCII digits, thousands commas, <= 2 decimals, optional 元
        m = re.fullmatch(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?元?", text)
        if m is None:
            return False, None
        value = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        return value < 1e13, value
    if kind == "list":
        return True, tuple(p.strip(SPACES) for p in LIST_SEPARATORS.split(text)
                           if p.strip(SPACES))
    if kind == "unit":
        for uid, zh in units.items():
            if text.lower() == uid.lower() or text == zh:
                return True, uid
        return False, None
    if kind.startswith("enum:"):
        for canonical, spellings in ENUMS[kind[5:]].items():
            if text.lower() in {canonical.lower(), *(s.lower() for s in spellings)}:
                return True, canonical
        return False, None
    raise ValueError(kind)


BLANK = {"list": (), "int": 0, "date": None, "bool": False, "deadline": None,
         "amount": None}


def expect_register(kind: str, intended: str, data: bytes, units: dict[str, str]) -> Expected:
    """The reference reading of a register file (see the module docstring)."""
    text, encoding = documented_text(data)
    if text is None:
        return _refuse("neither UTF-8 nor GB18030", "silently_coerced")
    # U+FEFF first in UTF-8 text and a byte-order mark are the same bytes
    if text != intended and not (encoding == "utf-8" and "\ufeff" + text == intended):
        return _refuse(f"the bytes are not the {encoding} encoding of the intended text",
                       "silently_coerced")
    if not re.search(r"[^ \t\r\n]", text):
        return _refuse("empty file")
    lines = LINE_END.split(text)
    parsed = []
    for k, line in enumerate(lines):
        fields = parse_line(line) if line else [""]
        if fields is None:
            return _refuse(f"row {k + 1}: quoting not closed on the line or a stray quote")
        parsed.append(fields)
    known = known_headers(kind)
    h = next((k for k in range(min(10, len(lines)))
              if len({c.strip(SPACES).lower() for c in parsed[k]} & set(known)) >= 2), 0)
    header = [c.strip(SPACES) for c in parsed[h]]
    width = len(header)
    rows, body = [], []
    for k in range(h + 1, len(lines)):
        if not lines[k]:
            continue
        if len(parsed[k]) != width:
            return _refuse(f"row {k + 1}: {len(parsed[k])} fields, header {width}")
        cells = [c.strip(SPACES) for c in parsed[k]]
        if any(cells):
            rows.append(k + 1)
            body.append(cells)
    if any(INVISIBLE.search(c) for c in header):
        return _refuse("forbidden character in the header")
    keep = []
    for p, name in enumerate(header):
        if name == "":
            if any(r[p] for r in body):
                return _refuse("values in a column without a header")
            continue
        keep.append(p)
    names = [header[p] for p in keep]
    if len(set(names)) != len(names):
        return _refuse("a header given twice")
    canonical = {}
    for p in keep:
        c = known.get(header[p].lower())
        if c is not None:
            if c in canonical.values():
                return _refuse("two headers mean one column")
            canonical[p] = c
    schema = SCHEMAS[kind]
    missing = [c for c in schema if c not in canonical.values() and c not in OPTIONAL_COLUMNS[kind]]
    if missing:
        return _refuse(f"missing column {missing[0]}")
    if kind == "results":  # a row of a task not yet checked (only its keys) is no result
        entry = [p for p, c in canonical.items() if c not in ("task_id", "uscc")]
        waiting = [k for k, r in enumerate(body)
                   if all(r[p] == "" or (canonical[p] == "confidential"
                                         and r[p].lower() in BOOL_FALSE) for p in entry)
                   and not any(INVISIBLE.search(c) for c in r)]
        rows = [x for k, x in enumerate(rows) if k not in waiting]
        body = [x for k, x in enumerate(body) if k not in waiting]
    if kind in MUST_HAVE_ROWS and not rows:
        return _refuse("no data rows")
    if any(INVISIBLE.search(c) for r in body for c in r):
        return _refuse("forbidden character in a value", "silently_coerced")
    columns: dict[str, list] = {}
    for p in keep:
        name = canonical.get(p, header[p])
        if name not in schema:
            columns[name] = [r[p] for r in body]
            continue
        ckind, required = schema[name]
        values = []
        for r in body:
            cell = r[p]
            if cell == "":
                if required:
                    return _refuse(f"blank required {name}", "silently_coerced")
                values.append(BLANK.get(ckind, ""))
                continue
            ok, value = convert_value(ckind, cell, units)
            if not ok:
                return _refuse(f"invalid {name} {cell!r}", "silently_coerced")
            if name in INDUSTRY_LISTS.get(kind, ()):   # docs/reference/registers.md: 全部行业, 所有行业 mean 全部
                value = tuple("全部" if v in ("全部", "全部行业", "所有行业") else v for v in value)
            values.append(value)
        columns[name] = values
    for name, (ckind, _required) in schema.items():
        columns.setdefault(name, [BLANK.get(ckind, "")] * len(rows))
    keys = [v for v in columns[KEY_COLUMNS[kind]] if v != ""]
    if len(set(keys)) != len(keys):
        return _refuse("duplicate key")
    return Expected(columns=columns, rows=len(rows))


def frame_columns(frame: Any) -> dict[str, list]:
    """A loaded frame as plain Python values per column."""
    return {str(c): list(frame[c].tolist()) for c in frame.columns}


def compare_register(expected: Expected, got: dict[str, list]) -> tuple[str, str]:
    """(category, detail) of an accepted register."""
    if expected.refuse is not None:
        return expected.severity, f"accepted, but a correct reader refuses it: {expected.refuse}"
    if set(got) != set(expected.columns):
        return "wrongly_accepted", (f"columns {sorted(set(got) ^ set(expected.columns))} "
                                    "differ from the reference's")
    n = len(next(iter(got.values()), []))
    if n != expected.rows:
        return "wrongly_accepted", f"{n} rows, the reference has {expected.rows}"
    for name, values in expected.columns.items():
        for i, (a, b) in enumerate(zip(got[name], values, strict=True)):
            if a != b or type(a) is not type(b):
                return "silently_coerced", (f"data row {i + 1}, column {name}: read {a!r}, "
                                            f"the reference is {b!r}")
    return "accepted", ""


# --------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------
def physical_lines(data: bytes) -> int:
    return len(re.split(rb"\r\n|\r|\n", data))


def register_message_problem(exc: BaseException, path: Path, data: bytes) -> str:
    """Why a register refusal's messages are not of the form ``file:row:column: message``
    ("" if they are)."""
    if not isinstance(exc, RegisterError):
        return f"{type(exc).__name__} without problems: {str(exc)[:200]!r}"
    if not exc.problems:
        return "a RegisterError with no problems"
    lines = str(exc).split("\n")
    if lines[0] != f"{len(exc.problems)} problem(s) in the registers:" \
            or lines[1:] != [str(p) for p in exc.problems]:
        return f"the error does not print one line per problem: {str(exc)[:300]!r}"
    last = physical_lines(data)
    for p in exc.problems:
        line = str(p)
        if p.file != str(path):
            return f"names file {p.file!r}, not {str(path)!r}: {line[:200]!r}"
        if not isinstance(p.row, int) or not 0 <= p.row <= last:
            return f"row {p.row!r} is not a row of the file ({last} lines): {line[:200]!r}"
        if not p.column or not p.message:
            return f"empty column or message: {line[:200]!r}"
        if line != f"{p.file}:{p.row}:{p.column}: {p.message}":
            return f"not file:row:column: message: {line[:200]!r}"
        if INVISIBLE.search(p.column) or INVISIBLE.search(p.message):
            return f"a raw invisible character in the message: {ascii(line[:200])}"
    return ""


def policy_message_problem(exc: BaseException, path: Path) -> str:
    """Why a policy refusal's message lines are not ``file: key 'a.b': message`` or
    ``file: message`` ("" if they are)."""
    prefix = f"{path}: "
    for line in str(exc).split("\n"):
        if not line.startswith(prefix) or not line[len(prefix):].strip():
            return f"a line not of the form 'file: message': {line[:200]!r}"
        if INVISIBLE.search(line):
            return f"a raw invisible character in the message: {ascii(line[:200])}"
        if len(line) > len(prefix) + 600:
            return f"a message line of {len(line)} characters (values are shown cut)"
    return ""


# --------------------------------------------------------------------------------------
# Register mutations (text level; the encodings and byte damage at the end)
# --------------------------------------------------------------------------------------
@dataclass
class Context:
    kind: str
    header: list[str]
    usccs: list[str]      # valid codes that are not in the file
    keys: list[str]       # key values in the file


def split_lines(text: str) -> tuple[list[str], list[str]]:
    parts = LINE_END.split(text)
    terms = LINE_END.findall(text) + [""]
    return parts, terms


def join_lines(parts: list[str], terms: list[str]) -> str:
    return "".join(p + t for p, t in zip(parts, terms, strict=True))


def pick_line(ch: Chooser, n: int) -> int:
    """Biased towards the header, the first and the last line."""
    r = ch.integer(0, 9)
    if r == 0:
        return 0
    if r == 1:
        return min(1, n - 1)
    if r == 2:
        return n - 1
    return ch.integer(0, n - 1)


def _data_line(ch: Chooser, parts: list[str]) -> int:
    k = pick_line(ch, len(parts))
    if parts[k] == "" and len(parts) > 1:
        k = max(0, min(k - 1, len(parts) - 1))
    return k


def _fields(line: str) -> list[str]:
    parsed = parse_line(line)
    return parsed if parsed is not None else line.split(",")


def _field_span(line: str, ch: Chooser) -> tuple[int, int]:
    """(start, end) of a field of the line (raw text, quotes included)."""
    spans, start, inside = [], 0, False
    for i, c in enumerate(line):
        if c == '"':
            inside = not inside
        elif c == "," and not inside:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(line)))
    return pick(ch, spans)


def _insert_at(text: str, ch: Chooser, what: str) -> str:
    parts, terms = split_lines(text)
    k = _data_line(ch, parts)
    pos = ch.integer(0, len(parts[k]))
    parts[k] = parts[k][:pos] + what + parts[k][pos:]
    return join_lines(parts, terms)


def _delete_one_of(text: str, ch: Chooser, chars: str) -> str:
    found = [i for i, c in enumerate(text) if c in chars]
    if not found:
        return _insert_at(text, ch, chars[0])
    i = pick(ch, found) if ch.integer(0, 3) else found[min(len(found) - 1, ch.integer(0, 30))]
    return text[:i] + text[i + 1:]


def _edit_field(text: str, ch: Chooser, edit: Callable[[list[str], int], list[str]]) -> str:
    parts, terms = split_lines(text)
    k = _data_line(ch, parts)
    fields = _fields(parts[k])
    i = ch.integer(0, len(fields) - 1)
    parts[k] = ",".join(csv_field(f) for f in edit(fields, i))
    return join_lines(parts, terms)


def m_insert_quote(text, ch, ctx):
    return _insert_at(text, ch, '"')


def m_delete_quote(text, ch, ctx):
    return _delete_one_of(text, ch, '"')


def m_insert_comma(text, ch, ctx):
    return _insert_at(text, ch, ",")


def m_delete_comma(text, ch, ctx):
    return _delete_one_of(text, ch, ",")


def m_insert_line_break(text, ch, ctx):
    return _insert_at(text, ch, pick(ch, ["\n", "\r", "\r\n", "\n\n"]))


def m_delete_line_break(text, ch, ctx):
    return _delete_one_of(text, ch, "\n\r")


def m_delete_field(text, ch, ctx):
    return _edit_field(text, ch, lambda f, i: f[:i] + f[i + 1:])


def m_duplicate_field(text, ch, ctx):
    return _edit_field(text, ch, lambda f, i: f[:i + 1] + f[i:])


def m_delete_last_field(text, ch, ctx):
    """The issue's second bug: a missing trailing field (and its comma)."""
    parts, terms = split_lines(text)
    k = _data_line(ch, parts)
    if "," in parts[k]:
        parts[k] = parts[k][: parts[k].rfind(",")]
    return join_lines(parts, terms)


def m_swap_fields(text, ch, ctx):
    def swap(f, i):
        j = ch.integer(0, len(f) - 1)
        f = list(f)
        f[i], f[j] = f[j], f[i]
        return f
    return _edit_field(text, ch, swap)


def m_quote_spanning_rows(text, ch, ctx):
    """The issue's first bug: a quote opens a field in one row and closes in the next."""
    parts, terms = split_lines(text)
    if len(parts) < 3:
        return _insert_at(text, ch, '"')
    k = ch.integer(1, len(parts) - 2)
    a, _ = _field_span(parts[k], ch)
    _, b = _field_span(parts[k + 1], ch)
    parts[k] = parts[k][:a] + '"' + parts[k][a:]
    parts[k + 1] = parts[k + 1][:b] + '"' + parts[k + 1][b:]
    return join_lines(parts, terms)


def _quote_all(fields: list[str], i: int) -> str:
    return ",".join('"' + v.replace('"', '""') + '"' if j == i else csv_field(v)
                    for j, v in enumerate(fields))


def m_quote_field_exactly(text, ch, ctx):
    """Quote a field correctly (the data stay the same)."""
    parts, terms = split_lines(text)
    k = _data_line(ch, parts)
    fields = _fields(parts[k])
    parts[k] = _quote_all(fields, ch.integer(0, len(fields) - 1))
    return join_lines(parts, terms)


def m_quoted_line_break(text, ch, ctx):
    """A quoted value holding a line break (registers never hold one)."""
    def edit(f, i):
        f = list(f)
        cut = ch.integer(0, len(f[i]))
        f[i] = f[i][:cut] + pick(ch, ["\n", "\r\n", "\r"]) + f[i][cut:]
        return f
    return _edit_field(text, ch, edit)


def register_values(ctx: Context) -> list[str]:
    other = ctx.usccs[0]
    bad_check = other[:-1] + ("0" if other[-1] != "0" else "1")
    return [
        "", " ", "maybe", "tru", "True", "TRUE", "yes", "Y", "是", "否", "√", "×", "有",
        "2", "-1", "+1", "1.5", "3.0", "1e3", "1,000", "NaN", "nan", "inf", "-inf",
        "null", "None", "N/A", "#N/A", "０", "９", "１２", "٣", "१२", "²",
        "99999999999999999999", "9223372036854775807", "9223372036854775808", "007",
        "2023-02-30", "2023-13-01", "2023-01-05", "2023/1/5", "2023年1月5日", "2023.1.5",
        "2023-01-05 00:00:00", "2023-01-05T00:00:00", "2023-01-05 12:00", "２０２３-０１-０５",
        "2099-01-01", "05/01/2023", "20230105", "key", "KEY", "重点管理", "simplified",
        "registration", "other", "A", "a", "B类", "E", "一般", "none", "major", "较大",
        "xiongan", "XIONGXIAN", "雄县", "容城", "unknown_unit", "air", "水", "大气污染",
        "no_problem", "违法", "penalty", "无", "hand_over", "a;b", "a；b", ";", "、", "|",
        " ; ", ";;", "全部", "王平", "王,平", 'say "hi"', "=1+1", "@SUM(A1)", "x" * 300,
        other, bad_check, other.lower(), other[:6] + " " + other[6:],
        other[:6] + "-" + other[6:], other[:17], other + "0",
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in other),  # full width
        pick_fixed(ctx.keys, 0), pick_fixed(ctx.keys, 1),
    ]


def pick_fixed(seq: Sequence[str], i: int) -> str:
    return seq[i % len(seq)] if seq else ""


#: Values close to valid ones, per column kind (full-width and other digits, spellings
#: the rules do not list, separators only...).
NEAR_MISSES = {
    "int": ["０", "９", "１２", "٣", "१२", "²", "3.0", "+1", "-1", "1e3", "0x10", "007", "00",
            "9223372036854775807", "9223372036854775808", "1 000", "١"],
    "bool": ["TRUE", "True", "tru", "是", "否", "√", "×", "1", "0", "2", "yes", "Y", "on",
             "off", "真", "ｔｒｕｅ", "-1", "1.0", "是的"],
    "date": ["2023-1-5", "2023/01/05", "2023年1月5日", "2023.1.5", "２０２３-０１-０５",
             "٢٠٢٣-٠١-٠٥", "2023-01-05 00:00:00", "2023-01-05T00:00:00", "2023-01-05 08:00",
             "2023-02-29", "2024-02-29", "2023-00-10", "23-01-05", "2023-001-05", "20230105",
             "2099-12-31", "1900-01-01"],
    "list": [";", "、", "|", " ; ", ";;", "a;;b", "a; b", "全部", "a,b", "；", "a|b|"],
    "enum": ["KEY", "Key", "重点管理", "重点", "key ", "keys", "A类", "a", "d", "无",
             "未评级", "较大", "AIR", "大气", "水环境", "固废", "no problem", "违法",
             "立案处罚", "移送公安机关", "hand-over", "HAND_OVER", "problem_found"],
    "unit": ["XIONGAN", "Xiongxian", "雄县", "容城县", "安新", "新区本级", "xiong an"],
    "deadline": ["2099-12-31", "2023-02-30", "2023年3月1日", "２０２３-０３-０１", "2023-03-01 08:00"],
    "amount": ["-1", "0", "1,000", "1,00", "12.345", "12.5元", "１２", "1e3", "5000.", ".5",
               "99999999999999", "NaN", "inf", "٣"],
    "uscc": [],
    "str": ["王 平", "王,平", 'a"b', "=cmd", "-", "—", "0", "全部"],
}


def m_set_value(text, ch, ctx):
    """Another value: from the general list, or a near miss for the column's kind."""
    parts, terms = split_lines(text)
    k = _data_line(ch, parts)
    fields = _fields(parts[k])
    i = ch.integer(0, len(fields) - 1)
    column = ctx.header[i] if i < len(ctx.header) else ""
    ckind = SCHEMAS[ctx.kind].get(column, ("str", False))[0]
    group = "enum" if ckind.startswith("enum:") else ckind
    near = NEAR_MISSES[group] or register_values(ctx)[-12:]
    fields[i] = pick(ch, near) if ch.integer(0, 1) else pick(ch, register_values(ctx))
    parts[k] = ",".join(csv_field(f) for f in fields)
    return join_lines(parts, terms)


#: Characters inserted into values: the forbidden ones, the trimmed ones, and look-alikes.
INSERTED = ["\x00", "\x01", "\t", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
            "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
            "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u2060",
            "\ufeff", "\u2028", "\u2029", "\ufffd", " ", "\u00a0", "\u3000", "\u2003",
            "\u202f", "\u205f", "\u1680", "\u3001", "；", "|", "'", "\\", "é", "𠀀", "ｘ"]


def m_insert_character(text, ch, ctx):
    what = pick(ch, INSERTED)

    def edit(f, i):
        f = list(f)
        where = pick(ch, [0, len(f[i]), ch.integer(0, len(f[i]))])
        f[i] = f[i][:where] + what + f[i][where:]
        return f
    return _edit_field(text, ch, edit)


def m_pad_spaces(text, ch, ctx):
    """Spaces a documented trim removes (the data stay the same)."""
    spaces = [" ", "\u00a0", "\u3000", "\u2003", "\u202f", "  "]

    def edit(f, i):
        f = list(f)
        f[i] = pick(ch, spaces) + f[i] + pick(ch, ["", *spaces])
        return f
    return _edit_field(text, ch, edit)


def m_truncate(text, ch, ctx):
    cut = pick(ch, [ch.integer(0, len(text)), len(text) - ch.integer(0, 200)])
    return text[: max(cut, 0)]


def m_delete_line(text, ch, ctx):
    parts, terms = split_lines(text)
    k = pick_line(ch, len(parts))
    del parts[k], terms[k]
    if not parts:
        return ""
    terms[-1] = ""
    return join_lines(parts, terms)


def m_duplicate_line(text, ch, ctx):
    parts, terms = split_lines(text)
    k = _data_line(ch, parts)
    parts.insert(k, parts[k])
    terms.insert(k, "\n")
    return join_lines(parts, terms)


def m_swap_lines(text, ch, ctx):
    parts, terms = split_lines(text)
    a, b = pick_line(ch, len(parts)), pick_line(ch, len(parts))
    parts[a], parts[b] = parts[b], parts[a]
    return join_lines(parts, terms)


def m_insert_line(text, ch, ctx):
    """A blank line, a line of commas, a line of spaces, or a title (above the header)."""
    line = pick(ch, ["", ",,,", "," * (len(ctx.header) - 1), "   ", "雄安新区名录（2023年）",
                     "导出日期：2023-01-05,,", f"{ctx.header[0]},说明", "\ufeff"])
    parts, terms = split_lines(text)
    k = min(pick(ch, [0, 0, 1, len(parts), pick_line(ch, len(parts) + 1)]), len(parts))
    if k == len(parts):
        terms[-1] = terms[-1] or "\n"
        parts.append(line)
        terms.append("")
    else:
        parts.insert(k, line)
        terms.insert(k, "\n")
    return join_lines(parts, terms)


def m_line_endings(text, ch, ctx):
    parts, terms = split_lines(text)
    style = ch.integer(0, 3)
    ends = ["\r\n", "\r", "\n"]
    for i in range(len(terms) - 1):
        terms[i] = ends[style] if style < 3 else pick(ch, ends)
    if ch.integer(0, 1):
        terms[-1] = pick(ch, ["", "\n", "\r\n", "\r"])
    return join_lines(parts, terms)


def m_header(text, ch, ctx):
    """Rename a header cell: an alias, another case, an unknown name, blank, another's."""
    parts, terms = split_lines(text)
    fields = _fields(parts[0])
    i = ch.integer(0, len(fields) - 1)
    name = fields[i].strip(SPACES)
    aliases = list(COLUMN_ALIASES[ctx.kind].get(name, ())) or [name]
    fields[i] = pick(ch, [pick(ch, aliases), name.upper(), name.title(), f" {name} ", "foo",
                          "", pick(ch, fields), name + "_x", "row"])
    parts[0] = ",".join(csv_field(f) for f in fields)
    return join_lines(parts, terms)


def m_columns(text, ch, ctx):
    """Change every line alike: drop a column, swap two, add one (with or without a
    header), or add a trailing separator."""
    parts, terms = split_lines(text)
    rows = [_fields(p) if p else None for p in parts]
    width = max((len(f) for f in rows if f is not None), default=1)
    i, j = ch.integer(0, width - 1), ch.integer(0, width - 1)
    what = ch.integer(0, 3)
    for k, f in enumerate(rows):
        if f is None:
            continue
        if what == 0 and len(f) > i:
            del f[i]
        elif what == 1 and len(f) > max(i, j):
            f[i], f[j] = f[j], f[i]
        elif what == 2:
            f.append("备注" if k == 0 else pick(ch, ["", "说明", "x"]))
        else:
            f.append("")
        parts[k] = ",".join(csv_field(v) for v in f)
    return join_lines(parts, terms)


TEXT_MUTATIONS: dict[str, Callable] = {
    "insert_quote": m_insert_quote, "delete_quote": m_delete_quote,
    "insert_comma": m_insert_comma, "delete_comma": m_delete_comma,
    "insert_line_break": m_insert_line_break, "delete_line_break": m_delete_line_break,
    "delete_field": m_delete_field, "duplicate_field": m_duplicate_field,
    "delete_last_field": m_delete_last_field, "swap_fields": m_swap_fields,
    "quote_spanning_rows": m_quote_spanning_rows, "quote_field": m_quote_field_exactly,
    "quoted_line_break": m_quoted_line_break, "set_value": m_set_value,
    "insert_character": m_insert_character, "pad_spaces": m_pad_spaces,
    "truncate": m_truncate, "delete_line": m_delete_line, "duplicate_line": m_duplicate_line,
    "swap_lines": m_swap_lines, "insert_line": m_insert_line, "line_endings": m_line_endings,
    "header": m_header, "columns": m_columns,
}


def encode_register(text: str, ch: Chooser, name: str) -> tuple[str, bytes]:
    """Bytes for the intended text: UTF-8 mostly, else another encoding, mixed encodings,
    or damaged bytes (then the intended text is what the damaged bytes say, U+FFFD where
    they say nothing)."""
    if name == "utf-8-sig":
        return text, b"\xef\xbb\xbf" + text.encode("utf-8")
    if name == "gb18030":
        return text, text.encode("gb18030")
    if name == "big5":
        return text, text.encode("big5", errors="replace")
    if name == "utf-16":
        return text, text.encode(pick(ch, ["utf-16", "utf-16-le"]))
    if name in ("latin-1 cell", "cp1252 quotes"):
        word = "Müller café" if name == "latin-1 cell" else "\u201c新\u201d"
        parts, terms = split_lines(text)
        k = _data_line(ch, parts)
        cut = ch.integer(0, len(parts[k]))
        before = join_lines(parts[:k], terms[:k]) + parts[k][:cut]
        after = parts[k][cut:] + terms[k] + join_lines(parts[k + 1:], terms[k + 1:])
        enc = "latin-1" if name == "latin-1 cell" else "cp1252"
        raw = word.encode(enc, errors="replace") if enc == "latin-1" else \
            b"\x93" + "新".encode() + b"\x94"
        return before + word + after, before.encode() + raw + after.encode()
    if name == "gb18030 with a UTF-8 line":
        parts, terms = split_lines(text)
        k = _data_line(ch, parts)
        chunks = [(p + t).encode("utf-8" if i == k else "gb18030")
                  for i, (p, t) in enumerate(zip(parts, terms, strict=True))]
        return text, b"".join(chunks)
    if name.startswith("byte "):
        enc = pick(ch, ["utf-8", "gb18030"])
        data = bytearray(text.encode(enc))
        if not data:
            return text, bytes(data)
        high = [i for i in range(0, len(data), max(1, len(data) // 5000)) if data[i] >= 0x80]
        i = pick(ch, high) if high and ch.integer(0, 2) else ch.integer(0, len(data) - 1)
        if name == "byte delete":
            del data[i]
        elif name == "byte insert":
            data.insert(i, pick(ch, [0x80, 0xA1, 0xC3, 0xE4, 0xFF, 0x00, 0x22, 0x2C, 0x0D]))
        else:
            data[i] = pick(ch, [0x80, 0xA1, 0xC3, 0xE4, 0xFF, 0x00, 0x22, 0x2C, 0x0D, 0x0A])
        data = bytes(data)
        return data.decode(enc, errors="replace"), data
    return text, text.encode("utf-8")


ENCODINGS = ("utf-8-sig", "gb18030", "big5", "utf-16", "latin-1 cell", "cp1252 quotes",
             "gb18030 with a UTF-8 line", "byte delete", "byte insert", "byte replace")


@dataclass
class Mutation:
    name: str
    text: str      # the intended text
    data: bytes    # the bytes written


def mutate_register(base: str, ctx: Context, ch: Chooser) -> Mutation:
    """One to three text mutations, then, one time in three, another encoding or damaged
    bytes."""
    names = list(TEXT_MUTATIONS) + ["set_value"] * 4 + ["insert_character"] * 2
    text, applied = base, []
    for _ in range(pick(ch, [1, 1, 1, 2, 2, 3])):
        name = pick(ch, names)
        text = TEXT_MUTATIONS[name](text, ch, ctx)
        applied.append(name)
    encoding = "utf-8"
    if ch.integer(0, 2) == 0:
        encoding = pick(ch, ENCODINGS)
    intended, data = encode_register(text, ch, encoding)
    label = "+".join(applied) + ("" if encoding == "utf-8" else f" | {encoding}")
    return Mutation(label, intended, data)


# --------------------------------------------------------------------------------------
# Policy: reference reading and mutations
# --------------------------------------------------------------------------------------
class RawInt(int):
    """An integer of the YAML file and the text it was written as."""

    raw: str


class RawFloat(float):
    raw: str


class _Duplicate(Exception):
    pass


class ReferenceLoader(yaml.SafeLoader):
    """PyYAML's safe reading, refusing a mapping that gives a key twice, keeping the text
    numbers were written as."""


def _ref_int(loader: ReferenceLoader, node: ScalarNode) -> RawInt:
    value = RawInt(yaml.constructor.SafeConstructor.construct_yaml_int(loader, node))
    value.raw = node.value
    return value


def _ref_float(loader: ReferenceLoader, node: ScalarNode) -> RawFloat:
    value = RawFloat(yaml.constructor.SafeConstructor.construct_yaml_float(loader, node))
    value.raw = node.value
    return value


def _ref_mapping(loader: ReferenceLoader, node: MappingNode) -> dict:
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value
            if k.tag != "tag:yaml.org,2002:merge"]
    try:
        if len(set(keys)) != len(keys):
            raise _Duplicate("a key given twice")
    except TypeError:
        raise _Duplicate("a key that is not text or a number") from None
    return loader.construct_mapping(node, deep=True)


ReferenceLoader.add_constructor("tag:yaml.org,2002:int", _ref_int)
ReferenceLoader.add_constructor("tag:yaml.org,2002:float", _ref_float)
ReferenceLoader.add_constructor("tag:yaml.org,2002:map", _ref_mapping)


def _node_bounds(root: Any) -> tuple[int, int]:
    """(depth, node count with aliases expanded) of a composed document, without expanding."""
    sizes: dict[int, int] = {}
    depth = 0
    stack = [(root, 1, False)]
    while stack:
        node, d, done = stack.pop()
        depth = max(depth, d)
        children = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [x for pair in node.value for x in pair]
        if done or not children:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c in children)
            continue
        if d > MAX_DEPTH + 5:
            return d, 0
        stack.append((node, d, True))
        stack.extend((c, d + 1, False) for c in children if id(c) not in sizes)
    return depth, sizes.get(id(root), 0)


def expect_policy(intended: str, data: bytes) -> tuple[str | None, str, Any]:
    """(why a correct loader refuses, how an acceptance would count, the reference data)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8", "silently_coerced", None
    if text.removeprefix("\ufeff") != intended.removeprefix("\ufeff"):
        return "the bytes are not the UTF-8 encoding of the text", "silently_coerced", None
    loader = ReferenceLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return "an empty document", "wrongly_accepted", None
        depth, size = _node_bounds(node)
        if depth > MAX_DEPTH:
            return "nesting too deep", "wrongly_accepted", None
        if size > MAX_NODES:
            return "too many nodes", "wrongly_accepted", None
        return None, "", loader.construct_document(node)
    except _Duplicate as exc:
        return str(exc), "wrongly_accepted", None
    except RecursionError:
        return "nesting too deep", "wrongly_accepted", None
    except yaml.YAMLError as exc:
        return f"not YAML ({str(exc).splitlines()[0][:80]})", "wrongly_accepted", None
    except (ValueError, TypeError, OverflowError) as exc:
        return f"a value that cannot be read ({exc})"[:120], "silently_coerced", None
    finally:
        loader.dispose()


def compare_policy(policy: Policy, data: Any) -> tuple[str, str]:
    """(category, detail) of an accepted policy against the reference data."""
    found: list[tuple[str, str]] = []

    def bad(category: str, where: str, what: str) -> None:
        found.append((category, f"{where or 'top level'}: {what}"))

    def walk(cls: type, obj: Any, ref: Any, where: str) -> None:
        if not isinstance(ref, dict):
            return bad("silently_coerced", where, f"a mapping was read from {ref!r:.60}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        for key in ref:
            if not isinstance(key, str) or key not in fields:
                bad("wrongly_accepted", where, f"unknown key {key!r:.60} accepted")
        for name, f in fields.items():
            key = f"{where}.{name}" if where else name
            if name not in ref:
                if f.default is dataclasses.MISSING or getattr(obj, name) != f.default:
                    bad("wrongly_accepted", key, "missing key not refused / default changed")
                continue
            leaf(hints[name], getattr(obj, name), ref[name], key, f.metadata.get("range"))

    def number(tp: type, got: Any, ref: Any, key: str, rng: Any) -> None:
        if isinstance(ref, bool) or not isinstance(ref, (int, float)):
            return bad("silently_coerced", key, f"{ref!r:.60} read as the number {got!r}")
        if isinstance(ref, float) and not math.isfinite(ref):
            return bad("silently_coerced", key, f"{ref!r} accepted")
        if tp is int and isinstance(ref, float) and not ref.is_integer():
            return bad("silently_coerced", key, f"{ref!r} read as the whole number {got!r}")
        lo, hi = rng or (None, None)
        if (lo is not None and ref < lo) or (hi is not None and ref > hi):
            return bad("silently_coerced", key, f"{ref!r:.60} outside [{lo}, {hi}] accepted")
        if got != ref or type(got) is not tp:
            return bad("silently_coerced", key, f"{ref!r:.60} read as {got!r:.60}")

    def leaf(tp: Any, got: Any, ref: Any, key: str, rng: Any) -> None:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            if ref is None:
                if got is not None:
                    bad("silently_coerced", key, f"null read as {got!r:.60}")
                return
            return leaf([a for a in args if a is not type(None)][0], got, ref, key, rng)
        if dataclasses.is_dataclass(tp):
            return walk(tp, got, ref, key)
        if origin is Literal:
            if isinstance(ref, bool) or ref not in args or got != ref:
                bad("silently_coerced", key, f"{ref!r:.60} read as {got!r:.60}")
            return
        if origin is tuple:
            if not isinstance(ref, list):
                return bad("silently_coerced", key, f"{ref!r:.60} read as a list")
            if len(ref) != len(got):
                return bad("wrongly_accepted", key, f"{len(ref)} entries read as {len(got)}")
            for i, (g, r) in enumerate(zip(got, ref, strict=True)):
                leaf(args[0], g, r, f"{key}[{i}]", rng)
            return
        if origin is dict:
            if not isinstance(ref, dict):
                return bad("silently_coerced", key, f"{ref!r:.60} read as a mapping")
            if len({str(k) for k in ref}) != len(ref) or set(got) != {str(k) for k in ref}:
                return bad("wrongly_accepted", key, f"keys {list(ref)!r:.60} read as "
                                                    f"{list(got)!r:.60}")
            for k, r in ref.items():
                leaf(args[1], got[str(k)], r, f"{key}.{k}", rng)
            return
        if tp is bool:
            if type(ref) is not bool or got is not ref:
                bad("silently_coerced", key, f"{ref!r:.60} read as {got!r:.60}")
            return
        if tp in (int, float):
            return number(tp, got, ref, key, rng)
        if tp is str:
            written = ref.raw if isinstance(ref, RawInt) else ref
            if not isinstance(written, str) or got != written:
                bad("silently_coerced", key, f"{written!r:.60} read as the text {got!r:.60}")
            return
        if tp is Any:
            want = tuple(ref) if isinstance(ref, list) else ref
            if got != want or _types(got) != _types(want):
                bad("silently_coerced", key, f"{ref!r:.60} read as {got!r:.60}")
            return
        bad("silently_coerced", key, f"type {tp} not compared")  # pragma: no cover

    walk(Policy, policy, data, "")
    if not found:
        return "accepted", ""
    found.sort(key=lambda f: f[0] != "wrongly_accepted")
    return found[0]


def _types(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_types(v) for v in value)
    return type(value) is bool


POLICY_VALUES = [
    ".nan", ".NaN", "-.nan", ".inf", "-.inf", "+.inf", "1e999", "1.0e+999", "-1.0e+999",
    "9" * 30, "9" * 5000, str(2**63), str(2**64), "-1", "0", "0.0", "-0.0", "1", "2", "3",
    "0.5", "1.5", "100", "1001", "1e-400", "1.0e-400", "0x1F", "0o17", "017", "010",
    "1_000", "1:30", "+5", "yes", "no", "on", "off", "true", "false", "True", "~", "null",
    "''", '""', "[]", "{}", "[1, 2]", "{a: 1}", "2023-02-30", "2023-01-01", "2023-01-01 10:00",
    "!!python/object/apply:os.system ['true']", "!!binary aGVsbG8=", "!!float '.nan'",
    "!!str 12", "!!int '12'", "!!set {a, b}", "!!omap [a: 1]", "*undefined", "&a x",
    "'quarter'", '"0.10"', "'0.10'", "x" * 5000, '"\\u202e1.0"', '"a\\u200bb"',
    '"\\x00"', "'\u202eevil'", "xiongan", "R4", "key", "all", "random", "monthly",
    "special", "A", "is_true", "ge", "in", "permit_class", "credit_class",
]

POLICY_CHARACTERS = [":", "-", " ", "\n", "\t", "{", "}", "[", "]", ",", "#", "&", "*", "'",
                     '"', "!", "|", ">", "%", "@", "`", "?", "\\", "\r", "\x00", "\x07",
                     "\x1b", "\x85", "\u200b", "\u202e", "\u2028", "\ufeff", "\ufffd",
                     "\U0001f600", "\u3000", "\xa0"]


def scalar_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_key) of every scalar of a YAML text (empty if it does not compose)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except Exception:
        return []
    spans: list[tuple[int, int, bool]] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    seen: set[int] = set()
    while stack:
        node, is_key = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.end_mark.index > node.start_mark.index:
                spans.append((node.start_mark.index, node.end_mark.index, is_key))
        elif isinstance(node, SequenceNode):
            stack.extend((v, False) for v in node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack.extend([(k, True), (v, False)])
    return sorted(spans)


def _alias_bomb(levels: int) -> str:
    lines = ["  a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]"
              for i in range(1, levels)]
    return "\n".join(lines)


def p_set_scalar(text, ch):
    spans = scalar_spans(text)
    if not spans:
        return p_insert_character(text, ch)
    start, end, is_key = pick(ch, spans)
    value = pick(ch, POLICY_VALUES)
    if is_key and ch.integer(0, 1):
        value = pick(ch, ["rule", "id", "units", "x-extra", "1", "null", "true", "ratio "])
    return text[:start] + value + text[end:]


def p_quote_scalar(text, ch):
    spans = [s for s in scalar_spans(text) if text[s[0]] not in "\"'"]
    if not spans:
        return p_insert_character(text, ch)
    start, end, _ = pick(ch, spans)
    q = pick(ch, ['"', "'"])
    return text[:start] + q + text[start:end] + q + text[end:]


def p_alias(text, ch):
    """Anchor one scalar and use it for another (the data change, legitimately)."""
    spans = [s for s in scalar_spans(text) if not s[2]]
    if len(spans) < 2:
        return p_insert_character(text, ch)
    a, b = sorted([pick(ch, spans), pick(ch, spans)])
    if a == b:
        return text
    # the later scalar becomes an alias of the earlier one
    return (text[:a[0]] + "&x1 " + text[a[0]:b[0]] + "*x1" + text[b[1]:])


def p_merge_key(text, ch):
    """A quota rule written as a merge of the rule before it, keys overriding."""
    rules = [m for m in re.finditer(r"^    - \{id: ([^,]+),", text, re.M)]
    if len(rules) < 2:
        return text
    i = ch.integer(1, len(rules) - 1)
    first, this = rules[i - 1], rules[i]
    text = text[:this.start()] + f"    - {{<<: *m0, id: {this.group(1)}," + text[this.end():]
    return text[:first.start()] + "    - &m0 {" + text[first.start() + 7:]


def p_duplicate_key(text, ch):
    """A key given twice: a block key line repeated, or a flow key appended."""
    if ch.integer(0, 1):
        lines = text.split("\n")
        keyed = [i for i, line in enumerate(lines)
                 if re.match(r"^\s*[A-Za-z_]+:", line) and not line.lstrip().startswith("-")]
        if keyed:
            i = pick(ch, keyed)
            value = pick(ch, [lines[i], re.sub(r":.*", ": 1", lines[i])])
            lines.insert(i + ch.integer(1, 2) if i + 2 < len(lines) else i + 1, value)
            return "\n".join(lines)
    flows = [m for m in re.finditer(r"\{([A-Za-z_]+): ([^,}]+)", text)]
    if not flows:
        return text
    m = pick(ch, flows)
    close = text.find("}", m.end())
    return text[:close] + f", {m.group(1)}: {pick(ch, [m.group(2), 'x', '2'])}" + text[close:]


def p_alias_bomb(text, ch):
    levels = ch.integer(3, 10)
    bomb = _alias_bomb(levels)
    where = ch.integer(0, 2)
    if where == 0:  # an unknown section holding it, used nowhere
        return "x-anchors:\n" + bomb + "\n" + text
    if where == 1:  # used under a real key
        return "x-anchors:\n" + bomb + "\n" + text.replace(
            "cap_exemptions: [", f"cap_exemptions: [*a{levels - 1}, ", 1)
    return text.replace("onsite_triggers: [", "onsite_triggers: [" + ", ".join(
        [f"&b{i} [*b{i - 1}, *b{i - 1}, *b{i - 1}]" if i else '&b0 ["x", "x", "x"]'
         for i in range(levels)]) + ", ", 1)


def p_deep_nesting(text, ch):
    depth = pick(ch, [MAX_DEPTH - 2, MAX_DEPTH, MAX_DEPTH + 1, 100, 400, 3000])
    spans = [s for s in scalar_spans(text) if not s[2]]
    if spans and ch.integer(0, 1):
        start, end, _ = pick(ch, spans)
        return text[:start] + "[" * depth + "1" + "]" * depth + text[end:]
    block = "x-deep:\n" + "".join("  " * i + "- \n" for i in range(min(depth, 400)))
    return text.replace("reporting:", block + "reporting:", 1) if ch.integer(0, 1) else \
        text + "\nx-deep: " + "{a: " * depth + "1" + "}" * depth + "\n"


def p_insert_character(text, ch):
    parts = text.split("\n")
    k = pick_line(ch, len(parts))
    pos = ch.integer(0, len(parts[k]))
    parts[k] = parts[k][:pos] + pick(ch, POLICY_CHARACTERS) + parts[k][pos:]
    return "\n".join(parts)


def p_delete_character(text, ch):
    if not text:
        return text
    parts = text.split("\n")
    k = pick_line(ch, len(parts))
    if not parts[k]:
        return text
    pos = ch.integer(0, len(parts[k]) - 1)
    parts[k] = parts[k][:pos] + parts[k][pos + 1:]
    return "\n".join(parts)


def p_lines(text, ch):
    """Delete, duplicate, swap, indent or dedent a line, or add a comment."""
    parts = text.split("\n")
    k, j = pick_line(ch, len(parts)), pick_line(ch, len(parts))
    what = ch.integer(0, 5)
    if what == 0:
        del parts[k]
    elif what == 1:
        parts.insert(k, parts[k])
    elif what == 2:
        parts[k], parts[j] = parts[j], parts[k]
    elif what == 3:
        parts[k] = pick(ch, [" ", "  ", "\t", "    "]) + parts[k]
    elif what == 4:
        parts[k] = parts[k][ch.integer(1, 2):] if parts[k].startswith(" ") else parts[k]
    else:
        parts.insert(k, pick(ch, ["# 注释", "  # comment", "#", "---", "...", "%YAML 1.1"]))
    return "\n".join(parts)


def p_truncate(text, ch):
    return text[: ch.integer(0, len(text))]


def p_unknown_or_missing_key(text, ch):
    flows = [m for m in re.finditer(r"(\{|, )([A-Za-z_]+): [^,}]+", text)]
    if ch.integer(0, 1) and flows:
        m = pick(ch, flows)  # a key of a flow mapping removed
        return text[:m.start()] + (m.group(1) if m.group(1) == "{" else "") + \
            text[m.end() + (2 if m.group(1) == "{" and text[m.end():m.end() + 2] == ", " else 0):]
    return text.replace("joint:", pick(ch, ["joint:\n  extra: 1", "jointx:", "Joint:"]), 1)


POLICY_MUTATIONS: dict[str, Callable] = {
    "set_scalar": p_set_scalar, "quote_scalar": p_quote_scalar, "alias": p_alias,
    "merge_key": p_merge_key, "duplicate_key": p_duplicate_key, "alias_bomb": p_alias_bomb,
    "deep_nesting": p_deep_nesting, "insert_character": p_insert_character,
    "delete_character": p_delete_character, "lines": p_lines, "truncate": p_truncate,
    "key": p_unknown_or_missing_key,
}
POLICY_ENCODINGS = ("utf-8-sig", "gb18030", "utf-16", "latin-1 cell", "byte delete",
                    "byte insert", "byte replace")


def mutate_policy(base: str, ch: Chooser) -> Mutation:
    text, applied = base, []
    names = list(POLICY_MUTATIONS)
    for _ in range(pick(ch, [1, 1, 1, 2, 2, 3])):
        name = pick(ch, names)
        text = POLICY_MUTATIONS[name](text, ch)
        applied.append(name)
    encoding = "utf-8"
    if ch.integer(0, 4) == 0:
        encoding = pick(ch, POLICY_ENCODINGS)
    if encoding == "latin-1 cell":
        cut = ch.integer(0, len(text))
        intended = text[:cut] + "é" + text[cut:]
        data = text[:cut].encode() + b"\xe9" + text[cut:].encode()
    elif encoding.startswith("byte "):
        raw = bytearray(text.encode())
        if raw:
            i = ch.integer(0, len(raw) - 1)
            if encoding == "byte delete":
                del raw[i]
            elif encoding == "byte insert":
                raw.insert(i, pick(ch, [0x80, 0xE4, 0xFF, 0x00, 0x3A, 0x0A]))
            else:
                raw[i] = pick(ch, [0x80, 0xE4, 0xFF, 0x00, 0x3A, 0x0A, 0x20])
        data = bytes(raw)
        intended = data.decode("utf-8", errors="replace")
    elif encoding == "utf-8":
        intended, data = text, text.encode()
    else:
        intended, data = encode_register(text, ch, encoding)
    label = "+".join(applied) + ("" if encoding == "utf-8" else f" | {encoding}")
    return Mutation(label, intended, data)


# --------------------------------------------------------------------------------------
# Running one mutation
# --------------------------------------------------------------------------------------
@dataclass
class Outcome:
    kind: str
    mutation: str
    category: str
    detail: str = ""
    seconds: float = 0.0
    data: bytes = b""


@dataclass
class Bench:
    """The unmutated inputs of every kind and where mutated files are written."""

    workdir: Path
    texts: dict[str, str]
    contexts: dict[str, Context]
    units: dict[str, str]
    tasks: Any


def make_bench(workdir: Path, rows: int | None = None) -> Bench:
    """The sample registers (the first ``rows`` data rows of each, default all), a results
    register (``sample_results`` of a 2023Q1 draw of the sample) and the Xiong'an policy."""
    from dsr_analysis.draw import draw_quarter

    policy = load_policy()
    registers = load_registers(None, units=policy.unit_names)
    workdir.mkdir(parents=True, exist_ok=True)
    tasks = draw_quarter(policy, registers, "2023Q1", "fuzz-2023Q1").tasks
    results = write_results(sample_results(tasks, policy=policy), workdir / "base-results.csv")
    texts = {kind: (SAMPLE_REGISTERS / f"{kind}.csv").read_text(encoding="utf-8")
             for kind in REGISTER_KINDS[:4]}
    texts["results"] = results.read_text(encoding="utf-8-sig")
    if rows is not None:
        for kind in REGISTER_KINDS:
            lines = texts[kind].split("\n")
            texts[kind] = "\n".join(lines[: rows + 1]) + "\n"
    texts["policy"] = DEFAULT_POLICY.read_text(encoding="utf-8")
    in_file = set(registers.enterprises["uscc"])
    fresh = []
    for n in range(1000, 1200):
        body = f"91130632{n:09d}"
        code = body + stdnum_uscc.calc_check_digit(body)
        if code not in in_file:
            fresh.append(code)
    contexts = {}
    for kind in REGISTER_KINDS:
        lines = texts[kind].split("\n")
        header = lines[0].split(",")
        key = header.index(KEY_COLUMNS[kind])
        keys = [line.split(",")[key] for line in lines[1:6] if line]
        contexts[kind] = Context(kind, header, fresh[:5], keys)
    return Bench(workdir, texts, contexts, policy.unit_names, tasks)


def mutate(bench: Bench, kind: str, ch: Chooser) -> Mutation:
    """A mutation of the input of ``kind``."""
    if kind == "policy":
        return mutate_policy(bench.texts["policy"], ch)
    return mutate_register(bench.texts[kind], bench.contexts[kind], ch)


def run_one(bench: Bench, kind: str, ch: Chooser) -> Outcome:
    """Mutate the input of ``kind``, load it, judge the outcome."""
    return judge(bench, kind, mutate(bench, kind, ch))


def judge(bench: Bench, kind: str, m: Mutation) -> Outcome:
    """Write the mutated file, load it through the public loader, judge the outcome."""
    if kind == "policy":
        path = bench.workdir / "policy.yaml"
    else:
        directory = bench.workdir / kind
        directory.mkdir(exist_ok=True)
        path = directory / f"{kind}.csv"
    path.write_bytes(m.data)
    start = time.perf_counter()
    try:
        if kind == "policy":
            loaded: Any = load_policy(path)
        elif kind == "results":
            loaded = load_results(path, bench.tasks)
        else:
            loaded = getattr(load_registers(path.parent, units=bench.units, names=(kind,)), kind)
    except DsrError as exc:
        seconds = time.perf_counter() - start
        if kind == "policy":
            problem = policy_message_problem(exc, path)
        else:
            problem = register_message_problem(exc, path, m.data)
        category = "badly_formatted" if problem else "refused"
        return Outcome(kind, m.name, category, problem or str(exc).split("\n")[-1][:200],
                       seconds, m.data)
    except Exception as exc:  # the point: anything else is a traceback
        seconds = time.perf_counter() - start
        tb = traceback.format_exception(exc)
        return Outcome(kind, m.name, "traceback",
                       f"{type(exc).__name__}: {exc!s:.200} at {tb[-2].strip()[:200]}",
                       seconds, m.data)
    seconds = time.perf_counter() - start
    if kind == "policy":
        why, severity, data = expect_policy(m.text, m.data)
        if why is not None:
            category, detail = severity, f"accepted, but a correct loader refuses it: {why}"
        else:
            category, detail = compare_policy(loaded, data)
    else:
        expected = expect_register(kind, m.text, m.data, bench.units)
        category, detail = compare_register(expected, frame_columns(loaded))
    return Outcome(kind, m.name, category, detail, seconds, m.data)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def table(counts: dict[str, Counter], mutations: dict[str, int]) -> str:
    head = ["register", "mutations"] + [HEADINGS[c] for c in CATEGORIES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, c in counts.items():
        cells = [kind, f"{mutations[kind]:,}"] + [f"{c[x]:,}" for x in CATEGORIES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=1000, help="mutations per kind")
    parser.add_argument("--seed", type=int, default=20230105, help="seed of the mutations")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--rows", type=int, default=None,
                        help="use the first ROWS data rows of each register (default all)")
    parser.add_argument("--show", type=int, default=5, help="failures shown per kind")
    parser.add_argument("--save", type=Path, default=None,
                        help="write every failing input to this directory")
    parser.add_argument("--by-mutation", action="store_true",
                        help="also count the outcomes per first mutation")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    streams = np.random.SeedSequence(args.seed).spawn(len(KINDS))
    counts: dict[str, Counter] = {}
    by_mutation: dict[str, Counter] = {}
    failures: list[Outcome] = []
    slowest: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dsr-fuzz-") as tmp:
        bench = make_bench(Path(tmp), args.rows)
        for kind, stream in zip(KINDS, streams, strict=True):
            if kind not in args.kinds:
                continue
            ch = RngChooser(np.random.default_rng(stream))
            counts[kind] = Counter()
            slowest[kind] = 0.0
            for _ in range(args.mutations):
                out = run_one(bench, kind, ch)
                counts[kind][out.category] += 1
                slowest[kind] = max(slowest[kind], out.seconds)
                first = out.mutation.split("+")[0].split(" |")[0]
                by_mutation.setdefault(f"{kind}: {first}", Counter())[out.category] += 1
                if out.category in FAILURES:
                    failures.append(out)
    print(table(counts, {k: args.mutations for k in counts}))
    print(f"\nseed {args.seed}, {args.mutations} mutations per kind, "
          f"{time.perf_counter() - started:.0f} s; slowest load per kind: "
          + ", ".join(f"{k} {s:.2f} s" for k, s in slowest.items()))
    if args.by_mutation:
        print()
        for name, c in sorted(by_mutation.items()):
            print(f"{name:40} " + "  ".join(f"{x} {c[x]}" for x in CATEGORIES if c[x]))
    shown: Counter = Counter()
    for i, out in enumerate(failures):
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            suffix = "yaml" if out.kind == "policy" else "csv"
            (args.save / f"{i:04d}-{out.kind}-{out.category}.{suffix}").write_bytes(out.data)
        if shown[out.kind] < args.show:
            shown[out.kind] += 1
            print(f"\n{out.kind} [{out.category}] {out.mutation}\n    {out.detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
