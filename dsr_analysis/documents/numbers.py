"""The register of document numbers (发文字号, GB/T 9704-2012 7.2.4): ``雄环〔2023〕12号``.

Numbers run per unit and per year (the year of the 成文日期), one series for every kind of
document the unit issues. A document is identified by (unit, kind, period), e.g.
(``xiongxian``, ``summary``, ``2023Q1``): rendering it again gives it the number it already
has; a new document takes the next number; a number once given is never given to another
document, also when the document it was given to is never sent (a gap is allowed, a reuse is
not).

The register is an SQLite file beside the outputs (``{out}/document-numbers.sqlite``, see
:func:`register_path`); every assignment is one ``BEGIN IMMEDIATE`` transaction, so report
notebooks rendered in parallel never draw the same number.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..i18n import _
from ..labels import DOCUMENT_KIND_ZH

#: File name of the register in the outputs folder (beside the quarters' folders).
REGISTER_FILE = "document-numbers.sqlite"

#: A blank left for the office to fill in by hand (an unconfigured prefix or number).
BLANK = "\u3000\u3000"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS document_numbers (
    unit TEXT NOT NULL,
    year INTEGER NOT NULL,
    serial INTEGER NOT NULL CHECK (serial >= 1),
    prefix TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    title TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (unit, year, serial),
    UNIQUE (unit, kind, period)
);
"""


@dataclass(frozen=True)
class DocumentNumber:
    """A document's number.

    Attributes
    ----------
    prefix : str
        The unit's 机关代字, e.g. "雄环"; empty: printed as a blank to fill in.
    year : int
        The year in the 六角括号 (the year of the 成文日期).
    serial : int or None
        The 发文顺序号 (no leading zero); None: printed as a blank (no register used).
    """

    prefix: str
    year: int
    serial: int | None

    @property
    def text(self) -> str:
        """The number as printed: ``雄环〔2023〕12号`` (blanks where a part is unknown)."""
        serial = BLANK if self.serial is None else str(self.serial)
        return f"{self.prefix or BLANK}〔{self.year}〕{serial}号"

    def __str__(self) -> str:
        return self.text


def register_path(out_dir: str | Path) -> Path:
    """The register of the outputs folder ``out_dir`` (the folder holding the quarters)."""
    return Path(out_dir) / REGISTER_FILE


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.executescript(_SCHEMA)
    return con


def assign_number(register: str | Path, unit: str, kind: str, period: str, year: int,
                  prefix: str, title: str = "") -> DocumentNumber:
    """The number of document (``unit``, ``kind``, ``period``) in ``register``: the one it
    was given before, else the next serial of ``unit`` in ``year`` (1 for the first).

    ``year`` and ``prefix`` only apply to a new number: a document keeps its number even if
    the prefix in the policy changed since. ``title`` is recorded with a new number."""
    if not unit or not kind or not period:
        raise ValueError(_("a document number needs a unit, a kind and a period (got "
                           "unit={unit}, kind={kind}, period={period})").format(
                               unit=repr(unit), kind=repr(kind), period=repr(period)))
    con = _connect(Path(register))
    try:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute("SELECT prefix, year, serial FROM document_numbers "
                          "WHERE unit = ? AND kind = ? AND period = ?",
                          (unit, kind, period)).fetchone()
        if row is None:
            (last,) = con.execute("SELECT MAX(serial) FROM document_numbers "
                                  "WHERE unit = ? AND year = ?", (unit, year)).fetchone()
            serial = (last or 0) + 1
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            con.execute("INSERT INTO document_numbers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (unit, year, serial, prefix, kind, period, title, stamp))
            row = (prefix, year, serial)
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return DocumentNumber(row[0], int(row[1]), int(row[2]))


def issued_numbers(register: str | Path, unit: str | None = None):
    """Every number given (a DataFrame: unit, year, serial, number, kind, period, title,
    assigned_at), in order of unit, year and serial."""
    import pandas as pd

    path = Path(register)
    columns = ["unit", "year", "serial", "number", "kind", "period", "title", "assigned_at"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    con = _connect(path)
    try:
        sql = "SELECT * FROM document_numbers" + (" WHERE unit = ?" if unit else "")
        frame = pd.read_sql_query(sql + " ORDER BY unit, year, serial", con,
                                  params=(unit,) if unit else ())
    finally:
        con.close()
    frame["number"] = [DocumentNumber(p, y, s).text
                       for p, y, s in zip(frame["prefix"], frame["year"], frame["serial"],
                                          strict=True)]
    return frame[columns]


#: Chinese headers of :func:`issued_numbers` for the office.
NUMBERS_ZH = {"unit": "单位", "number": "发文字号", "kind": "文件", "period": "期间",
              "title": "标题", "assigned_at": "编号时间（UTC）"}
#: Chinese names of the kinds of document numbered by the reports.
KIND_ZH = DOCUMENT_KIND_ZH


def numbers_table(register: str | Path, unit: str | None = None, policy=None,
                  columns: str = "zh"):
    """The numbers given in ``register``, of ``unit`` (id or Chinese name; None: every unit),
    as the office reads them (``columns="zh"``: Chinese headers, unit names from ``policy`` (a
    :class:`~dsr_analysis.policy.Policy`, a YAML path or a name), kinds in Chinese) or in the
    machine form (``"ids"``). An unknown unit is an error naming the units."""
    from ..errors import ParameterError
    from ..periods import Quarter
    from ..policy import Policy, load_policy

    pol = policy if isinstance(policy, Policy) or policy is None else load_policy(policy)
    uid = None
    if unit:
        names = pol.unit_names if pol is not None else {}
        match = [k for k, v in names.items() if unit in (k, v)] or (
            [unit] if pol is None else [])
        if not match:
            raise ParameterError(_("unknown unit '{unit}' (valid: {valid})").format(
                unit=unit, valid=", ".join(f"{k} ({v})" for k, v in names.items())))
        uid = match[0]
    frame = issued_numbers(register, uid)
    if columns == "ids":
        return frame
    out = frame[list(NUMBERS_ZH)].copy()
    if pol is not None:
        out["unit"] = [pol.unit_names.get(u, u) for u in out["unit"]]
    out["kind"] = [KIND_ZH.get(k, k) for k in out["kind"]]
    out["period"] = [_period_zh(p, Quarter) for p in out["period"]]
    out["assigned_at"] = [str(t)[:16].replace("T", " ") for t in out["assigned_at"]]
    return out.rename(columns=NUMBERS_ZH)


def _period_zh(period: str, quarter) -> str:
    """2023Q1 as 2023年第一季度; another period as it is."""
    try:
        return quarter.parse(period).label_zh
    except Exception:  # a month or a year: printed as recorded
        return period
