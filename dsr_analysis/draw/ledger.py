"""A tamper-evident ledger of draw records (SQLite, hash-chained).

Table ``entries`` holds one row per draw attempt that produced a record: ``seq``,
``created_at`` (UTC, ISO 8601), ``quarter``, ``draw_key`` (``untargeted`` or
``targeted:{campaign}``), ``units`` (comma-separated), ``redraw_of`` (the ``seq`` of the
entry this one supersedes for some unit, or NULL), ``record_sha256``, ``record_json``,
``prev_hash`` and ``entry_hash``.

``entry_hash`` = hex SHA-256 of the canonical JSON (sorted keys, no spaces) of
``{seq, created_at, quarter, draw_key, units, redraw_of, record_sha256, prev_hash}``;
``prev_hash`` is the previous entry's ``entry_hash`` (64 zeros for the first). An entry is
appended in one transaction, so an interrupted draw leaves nothing. A re-draw of a unit and
quarter is a new entry naming the one it supersedes: visible, never silent.

The valid draw of a unit x quarter x draw key is its latest entry. :func:`verify_ledger`
checks the chain and replays every record from its inputs (policy and register files named
by path and checked by hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import LedgerError
from ..paths import OUTPUTS_DIR
from .record import TASK_COLUMNS, record_bytes, tasks_frame

DEFAULT_LEDGER = OUTPUTS_DIR / "ledger.sqlite"
GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    quarter TEXT NOT NULL,
    draw_key TEXT NOT NULL,
    units TEXT NOT NULL,
    redraw_of INTEGER,
    record_sha256 TEXT NOT NULL,
    record_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Entry:
    """One ledger row (see the module docstring for the fields)."""

    seq: int
    created_at: str
    quarter: str
    draw_key: str
    units: tuple[str, ...]
    redraw_of: int | None
    record_sha256: str
    record_json: str
    prev_hash: str
    entry_hash: str

    @property
    def record(self) -> dict:
        return json.loads(self.record_json)


def entry_hash(seq: int, created_at: str, quarter: str, draw_key: str, units: str,
               redraw_of: int | None, record_sha256: str, prev_hash: str) -> str:
    payload = {"seq": seq, "created_at": created_at, "quarter": quarter,
               "draw_key": draw_key, "units": units, "redraw_of": redraw_of,
               "record_sha256": record_sha256, "prev_hash": prev_hash}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _connect(path: str | Path, create: bool) -> sqlite3.Connection:
    path = Path(path)
    if not create and not path.exists():
        raise LedgerError(f"{path}: ledger not found (run `make demo` or `dsr draw` first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise LedgerError(f"{path}: not a ledger ({exc})") from exc
    return con


def entries(path: str | Path) -> list[Entry]:
    """Every entry, by ``seq``."""
    with closing(_connect(path, create=False)) as con:
        rows = con.execute(
            "SELECT seq, created_at, quarter, draw_key, units, redraw_of, record_sha256, "
            "record_json, prev_hash, entry_hash FROM entries ORDER BY seq").fetchall()
    return [Entry(r[0], r[1], r[2], r[3], tuple(r[4].split(",")) if r[4] else (), r[5],
                  r[6], r[7], r[8], r[9]) for r in rows]


def _latest(all_entries: list[Entry]) -> dict[tuple[str, str, str], Entry]:
    """(unit, quarter, draw_key) -> its latest entry."""
    out: dict[tuple[str, str, str], Entry] = {}
    for e in all_entries:
        for u in e.units:
            out[(u, e.quarter, e.draw_key)] = e
    return out


def history_before(all_entries: list[Entry], seq: int | None, quarter: str, draw_key: str,
                   units: tuple[str, ...] | list[str]) -> list[dict]:
    """The records a draw appended after the entries before ``seq`` (None: all) depends on.

    The latest entry of every unit x quarter x draw key, except the ones the new draw
    supersedes (same quarter and key, one of its units); each record's tasks are restricted
    to the units it is still the valid draw of. Each returned record carries its original
    ``sha256``.
    """
    before = [e for e in all_entries if seq is None or e.seq < seq]
    keep: dict[int, set[str]] = {}
    for (unit, q, key), e in _latest(before).items():
        if q == quarter and key == draw_key and unit in units:
            continue
        keep.setdefault(e.seq, set()).add(unit)
    out = []
    by_seq = {e.seq: e for e in before}
    for s in sorted(keep):
        rec = by_seq[s].record
        out.append({"quarter": rec["quarter"], "sha256": by_seq[s].record_sha256,
                    "units": sorted(keep[s]),
                    "tasks": [t for t in rec["tasks"] if t["unit"] in keep[s]]})
    return out


def append(path: str | Path, record: Mapping[str, Any], record_json: bytes | None = None,
           created_at: str | None = None) -> Entry:
    """Append a record in one transaction; returns the new entry."""
    data = record_json if record_json is not None else record_bytes(record)
    text = data.decode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    units = ",".join(record["units"])
    created = created_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with closing(_connect(path, create=True)) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            last = con.execute("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1"
                               ).fetchone()
            seq = (last[0] + 1) if last else 1
            prev = last[1] if last else GENESIS
            redraw = None
            for s, u in con.execute(
                    "SELECT seq, units FROM entries WHERE quarter = ? AND draw_key = ? "
                    "ORDER BY seq DESC", (record["quarter"], record["draw_key"])):
                if set(u.split(",")) & set(record["units"]):
                    redraw = s
                    break
            h = entry_hash(seq, created, record["quarter"], record["draw_key"], units, redraw,
                           sha, prev)
            con.execute(
                "INSERT INTO entries (seq, created_at, quarter, draw_key, units, redraw_of, "
                "record_sha256, record_json, prev_hash, entry_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (seq, created, record["quarter"], record["draw_key"], units, redraw, sha, text,
                 prev, h))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return Entry(seq, created, record["quarter"], record["draw_key"], tuple(record["units"]),
                 redraw, sha, text, prev, h)


def load_draw_tasks(ledger_path: str | Path = DEFAULT_LEDGER, quarter: str | None = None
                    ) -> pd.DataFrame:
    """Tasks of the valid draws in a ledger (the latest entry per unit x quarter x draw key).

    Columns :data:`dsr_analysis.draw.TASK_COLUMNS` plus ``draw_key``, ``ledger_seq`` and
    ``record_sha256``; ordered by quarter, ledger entry and task id.
    """
    all_entries = entries(ledger_path)
    units_of: dict[int, set[str]] = {}
    for (unit, q, _key), e in _latest(all_entries).items():
        if quarter is None or q == quarter:
            units_of.setdefault(e.seq, set()).add(unit)
    frames = []
    by_seq = {e.seq: e for e in all_entries}
    for s in sorted(units_of):
        e = by_seq[s]
        frame = tasks_frame(e.record)
        frame = frame[frame["unit"].isin(units_of[s])].copy()
        frame["draw_key"] = e.draw_key
        frame["ledger_seq"] = e.seq
        frame["record_sha256"] = e.record_sha256
        frames.append(frame)
    cols = TASK_COLUMNS + ["draw_key", "ledger_seq", "record_sha256"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)[cols]
    return out.sort_values(["quarter", "ledger_seq", "task_id"], kind="stable").reset_index(
        drop=True)


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------
def iter_records(path: str | Path) -> Iterator[tuple[Entry, dict]]:
    for e in entries(path):
        yield e, e.record
