"""Tables written for people who may open them in a spreadsheet.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and WPS ("CSV injection"): a register may hold a name such as
``=HYPERLINK(...)`` or ``@SUM(1)``. Following the OWASP rule, every such text cell is written
with a leading apostrophe (``'=1+1``), which spreadsheets show as the text itself; numbers are
written as numbers (a negative number is not text). Files are written to a temporary name
and renamed, so nobody finds half a file, and begin with a UTF-8 byte-order mark (:data:`BOM`):
without it a Chinese Excel reads UTF-8 as GBK and shows mojibake.

Data files that the workbench itself reads back or hashes (the canonical enterprise frame of a
draw, the results register) are written exactly, not through this module.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

#: The UTF-8 byte-order mark that begins every CSV written for people (Excel then reads UTF-8).
BOM = "\ufeff"

#: First characters a spreadsheet treats as the start of a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run, prefixed with an apostrophe; anything else
    unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and text header) neutralised."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame, **kwargs) -> str:
    """The CSV of ``frame`` with its cells neutralised (no index unless asked). Rows end in
    CRLF (RFC 4180), so a field holding a lone CR or LF is always quoted."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\r\n")
    return safe_frame(frame).to_csv(**kwargs)


def write_csv(frame: pd.DataFrame, path: str | Path, encoding: str = "utf-8-sig",
              **kwargs) -> Path:
    """Write ``frame`` as CSV with its cells neutralised, atomically, in UTF-8 with a BOM
    (``utf-8-sig``) unless another ``encoding`` is asked for."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(csv_text(frame, **kwargs))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
