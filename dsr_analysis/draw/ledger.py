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

**Commitments** (format 3 protocol) are entries too, with ``draw_key`` ``commitment:{key}``:
they fix the inputs of a draw before its seed material exists and never count as draws.
**Blobs** (table ``blobs``: ``sha256``, ``bytes``) keep the policy files draws were made
under, content-addressed: their hashes are in the chained records, so a blob cannot change
unseen, and a replay never depends on a file that may later change.

**The head** of a ledger is ``N:HASH`` - its entry count and last ``entry_hash``. Public
documents print it; checking a ledger against a published head
(:func:`dsr_analysis.draw.verify.verify_ledger` with ``head``) catches truncation,
reordering and rewriting, which the chain alone cannot.

**Locking.** A draw holds :func:`exclusive` (an ``flock`` on ``{ledger}.lock``, released by
the operating system if the process dies) from reading the history to renaming its files,
and appends inside ``BEGIN IMMEDIATE``: concurrent draws serialise.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FileSystemError, LedgerError
from ..i18n import N_, _
from ..paths import OUTPUTS_DIR
from .record import TASK_COLUMNS, record_bytes, record_sha256, tasks_frame

DEFAULT_LEDGER = OUTPUTS_DIR / "ledger.sqlite"
GENESIS = "0" * 64
#: Prefix of the draw key of a commitment entry.
COMMITMENT = "commitment:"
#: Prefix of the draw key of a plan amendment entry (``amendment:{revision}``).
AMENDMENT = "amendment:"
#: Prefix of the draw key of an entry importing another bureau's published draw
#: (``import:{draw_key}``).
IMPORT = "import:"
#: Prefixes of the entries that are not this ledger's own draws.
NOT_DRAWS = (COMMITMENT, AMENDMENT, IMPORT)
#: Seconds a draw waits for another one holding the ledger's lock.
LOCK_TIMEOUT = 600.0

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
);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
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

    @property
    def is_commitment(self) -> bool:
        return self.draw_key.startswith(COMMITMENT)

    @property
    def is_amendment(self) -> bool:
        return self.draw_key.startswith(AMENDMENT)

    @property
    def is_import(self) -> bool:
        return self.draw_key.startswith(IMPORT)

    @property
    def is_draw(self) -> bool:
        """A draw this ledger made (not a commitment, a plan amendment or an import)."""
        return not self.draw_key.startswith(NOT_DRAWS)


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
        raise LedgerError(_("{path}: ledger not found (run `make demo` or `dsr draw` first)"
                            ).format(path=path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_file():
        message = (_("{path}: the ledger path is a directory") if path.is_dir() else
                   _("{path}: the ledger path is not a regular file"))
        raise FileSystemError(message.format(path=path))
    try:
        if create:
            con = sqlite3.connect(path, isolation_level=None, timeout=LOCK_TIMEOUT)
            con.executescript(_SCHEMA)
        else:  # read only: never changes the file
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                  isolation_level=None, timeout=LOCK_TIMEOUT)
            con.execute("SELECT seq FROM entries LIMIT 1")
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if any(w in text for w in ("readonly", "unable to open", "disk", "locking protocol")):
            raise FileSystemError(f"{path}: {text}") from None
        raise LedgerError(_("{path}: not a ledger ({reason})").format(path=path,
                                                                        reason=exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise LedgerError(_("{path}: not a ledger ({reason})").format(path=path,
                                                                        reason=exc)) from exc
    return con


def connect(path: str | Path, create: bool = False) -> sqlite3.Connection:
    """A connection to the ledger at ``path``: read-only (never changes the file) unless
    ``create`` (then the tables are made if missing). For tables kept beside the chain
    (:mod:`dsr_analysis.timestamps`); a missing ledger or another file is refused."""
    return _connect(path, create)


#: Words of SQLite's messages for a problem of the file system, not of the ledger's content.
_STORAGE_WORDS = ("disk", "full", "readonly", "read-only", "unable to open", "locking protocol",
                  "I/O error")


def storage_error(path: str | Path, exc: sqlite3.OperationalError) -> Exception:
    """SQLite's error as the package's: :class:`FileSystemError` (exit 3) for a full disk, a
    read-only file or an I/O error, naming the ledger; :class:`LedgerError` otherwise."""
    text = str(exc)
    if any(w.lower() in text.lower() for w in _STORAGE_WORDS):
        return FileSystemError(_("{path}: {reason} (the ledger is unchanged)").format(
            path=path, reason=text))
    return LedgerError(f"{path}: {text}")


@contextmanager
def exclusive(path: str | Path, timeout: float = LOCK_TIMEOUT,
              holder: str = N_("another draw has held the ledger")):
    """Hold the ledger's exclusive lock (``{ledger}.lock``, ``flock``); waits up to
    ``timeout`` seconds for another draw, then raises :class:`LedgerError`. Other files that
    one process at a time may change use it too (a render's output folder: ``holder`` says
    who holds it in the message)."""
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LedgerError(_(
                        "{path}: {holder} for more than {seconds:.0f} s; try again when it has "
                        "finished").format(path=path, holder=_(holder),
                                           seconds=timeout)) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def put_blob(path: str | Path, data: bytes) -> str:
    """Store ``data`` under its SHA-256 (idempotent); returns the hash."""
    sha = hashlib.sha256(data).hexdigest()
    with closing(_connect(path, create=True)) as con:
        try:
            con.execute("INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?, ?)",
                        (sha, data))
        except sqlite3.OperationalError as exc:
            raise storage_error(path, exc) from None
    return sha


def get_blob(path: str | Path, sha: str) -> bytes | None:
    """The bytes stored under ``sha`` (None if absent or not matching their hash)."""
    with closing(_connect(path, create=False)) as con:
        try:
            row = con.execute("SELECT bytes FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        except sqlite3.OperationalError:  # a ledger from before blobs were kept
            return None
    if row is None:
        return None
    data = row[0].encode() if isinstance(row[0], str) else bytes(row[0])  # edited as text
    return data if hashlib.sha256(data).hexdigest() == sha else None


def stored_blobs(path: str | Path) -> list[tuple[str, bytes]]:
    """Every row of table ``blobs`` as stored: (the digest it is kept under, its bytes),
    by digest; no check (:func:`dsr_analysis.draw.verify.check_blobs` checks them)."""
    with closing(_connect(path, create=False)) as con:
        try:
            rows = con.execute("SELECT sha256, bytes FROM blobs ORDER BY sha256").fetchall()
        except sqlite3.OperationalError:  # a ledger from before blobs were kept
            return []
    return [(str(sha), data.encode() if isinstance(data, str) else bytes(data))
            for sha, data in rows]


def blob_hashes(path: str | Path) -> set[str]:
    with closing(_connect(path, create=False)) as con:
        try:
            return {r[0] for r in con.execute("SELECT sha256 FROM blobs")}
        except sqlite3.OperationalError:
            return set()


def head(path: str | Path) -> str:
    """The ledger's head ``N:HASH`` (``0:`` + 64 zeros when empty)."""
    all_entries = entries(path) if Path(path).exists() else []
    return head_of(all_entries)


def head_of(all_entries: list[Entry]) -> str:
    if not all_entries:
        return f"0:{GENESIS}"
    return f"{len(all_entries)}:{all_entries[-1].entry_hash}"


def parse_head(text: str) -> tuple[int, str]:
    """``N:HASH`` -> (N, hash); :class:`LedgerError` naming the value otherwise."""
    n, sep, h = str(text).strip().partition(":")
    h = h.strip().lower()
    if not sep or not n.strip().isdigit() or len(h) != 64 or any(
            c not in "0123456789abcdef" for c in h):
        raise LedgerError(_("--head {text}: expected N:HASH (the entry count, a colon and the "
                            "64-hex-digit hash of the last entry, as published)").format(
                                text=str(text)[:80]))
    return int(n), h


def entries(path: str | Path) -> list[Entry]:
    """Every entry, by ``seq``."""
    with closing(_connect(path, create=False)) as con:
        rows = con.execute(
            "SELECT seq, created_at, quarter, draw_key, units, redraw_of, record_sha256, "
            "record_json, prev_hash, entry_hash FROM entries ORDER BY seq").fetchall()
    return [Entry(r[0], r[1], r[2], r[3], tuple(r[4].split(",")) if r[4] else (), r[5],
                  r[6], r[7], r[8], r[9]) for r in rows]


def _latest(all_entries: list[Entry], imported: bool = False
            ) -> dict[tuple[str, str, str], Entry]:
    """(unit, quarter, draw_key) -> its latest entry (``imported``: imported draws too, under
    their key ``import:{draw_key}``)."""
    out: dict[tuple[str, str, str], Entry] = {}
    for e in all_entries:
        if not (e.is_draw or (imported and e.is_import)):
            continue
        for u in e.units:
            out[(u, e.quarter, e.draw_key)] = e
    return out


def draw_record(entry: Entry) -> tuple[dict, str]:
    """(draw record, its digest) of a draw entry, or of an import entry the foreign public
    record it holds and the digest the foreign ledger lists for it."""
    rec = entry.record
    if entry.is_import:
        return rec["record"], rec["entry"]["record_sha256"]
    return rec, entry.record_sha256


def history_before(all_entries: list[Entry], seq: int | None, quarter: str, draw_key: str,
                   units: tuple[str, ...] | list[str]) -> list[dict]:
    """The records a draw appended after the entries before ``seq`` (None: all) depends on.

    The latest entry of every unit x quarter x draw key, except the ones the new draw
    supersedes (same quarter and key, one of its units); each record's tasks are restricted
    to the units it is still the valid draw of. Each returned record carries its original
    ``sha256``. Draws imported from another bureau's ledger (:mod:`dsr_analysis.draw.imports`)
    count as its draws: their public record with the digest their own ledger lists, and
    ``source`` (that ledger and the head they were imported at).
    """
    before = [e for e in all_entries if seq is None or e.seq < seq]
    keep: dict[int, set[str]] = {}
    for (unit, q, key), e in _latest(before, imported=True).items():
        if q == quarter and key == draw_key and unit in units:
            continue
        keep.setdefault(e.seq, set()).add(unit)
    out = []
    by_seq = {e.seq: e for e in before}
    for s in sorted(keep):
        rec, sha = draw_record(by_seq[s])
        item = {"quarter": rec["quarter"], "sha256": sha, "units": sorted(keep[s]),
                "tasks": [t for t in rec["tasks"] if t["unit"] in keep[s]]}
        if by_seq[s].is_import:
            item["source"] = dict(by_seq[s].record["source"])
        out.append(item)
    return out


def append(path: str | Path, record: Mapping[str, Any], record_json: bytes | None = None,
           created_at: str | None = None) -> Entry:
    """Append a record in one transaction; returns the new entry."""
    return append_all(path, [record], [record_json], created_at)[0]


def append_all(path: str | Path, records: list[Mapping[str, Any]],
               records_json: list[bytes | None] | None = None,
               created_at: str | None = None) -> list[Entry]:
    """Append several records in one transaction (all or none); returns the new entries."""
    created = created_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    datas = records_json or [None] * len(records)
    out: list[Entry] = []
    with closing(_connect(path, create=True)) as con:
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise storage_error(path, exc) from None
        try:
            for record, data in zip(records, datas, strict=True):
                out.append(_insert(con, record, data, created))
            con.execute("COMMIT")
        except BaseException as exc:
            # A COMMIT that fails (a full disk) has already ended the transaction: a ROLLBACK
            # then raises "cannot rollback - no transaction is active" over the real error.
            if con.in_transaction:
                try:
                    con.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the original error says what went wrong
            if isinstance(exc, sqlite3.OperationalError):
                raise storage_error(path, exc) from None
            raise
    return out


def _insert(con: sqlite3.Connection, record: Mapping[str, Any], data: bytes | None,
            created: str) -> Entry:
    """Insert one record after the last entry (inside the caller's transaction)."""
    text = (data if data is not None else record_bytes(record)).decode("utf-8")
    sha = record_sha256(record)
    units = ",".join(record["units"])
    last = con.execute("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS
    redraw = None
    for s, u in con.execute(
            "SELECT seq, units FROM entries WHERE quarter = ? AND draw_key = ? "
            "ORDER BY seq DESC", (record["quarter"], record["draw_key"])):
        if set(u.split(",")) & set(record["units"]):
            redraw = s
            break
    h = entry_hash(seq, created, record["quarter"], record["draw_key"], units, redraw, sha, prev)
    con.execute(
        "INSERT INTO entries (seq, created_at, quarter, draw_key, units, redraw_of, "
        "record_sha256, record_json, prev_hash, entry_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (seq, created, record["quarter"], record["draw_key"], units, redraw, sha, text, prev, h))
    return Entry(seq, created, record["quarter"], record["draw_key"], tuple(record["units"]),
                 redraw, sha, text, prev, h)


def now_utc() -> str:
    """The time an entry is appended: UTC, ISO 8601, whole seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def next_entry(all_entries: list[Entry], record: Mapping[str, Any], created_at: str) -> Entry:
    """The entry :func:`append` will make of ``record`` after ``all_entries`` at
    ``created_at`` (the same seq, redraw_of, previous hash and entry hash), so that files
    naming the entry (a commitment's announcement) can be written before it is appended,
    with the ledger's lock held. The caller checks the appended entry's hash against it."""
    last = all_entries[-1] if all_entries else None
    seq = last.seq + 1 if last else 1
    prev = last.entry_hash if last else GENESIS
    redraw = None
    for e in reversed(all_entries):
        if e.quarter == record["quarter"] and e.draw_key == record["draw_key"] \
                and set(e.units) & set(record["units"]):
            redraw = e.seq
            break
    units = ",".join(record["units"])
    sha = record_sha256(record)
    h = entry_hash(seq, created_at, record["quarter"], record["draw_key"], units, redraw, sha,
                   prev)
    return Entry(seq, created_at, record["quarter"], record["draw_key"], tuple(record["units"]),
                 redraw, sha, record_bytes(record).decode("utf-8"), prev, h)


def load_draw_tasks(ledger_path: str | Path = DEFAULT_LEDGER, quarter: str | None = None,
                    imported: bool = False) -> pd.DataFrame:
    """Tasks of the valid draws in a ledger (the latest entry per unit x quarter x draw key).

    Columns :data:`dsr_analysis.draw.TASK_COLUMNS` plus ``draw_key``, ``ledger_seq`` and
    ``record_sha256``; ordered by quarter, ledger entry and task id. ``imported``: also the
    draws imported from other bureaus' ledgers (``draw_key`` ``import:…``, ``record_sha256``
    the digest their ledger lists; from their public records: no inspector, no expert).
    """
    all_entries = entries(ledger_path)
    units_of: dict[int, set[str]] = {}
    for (unit, q, _key), e in _latest(all_entries, imported).items():
        if quarter is None or q == quarter:
            units_of.setdefault(e.seq, set()).add(unit)
    frames = []
    by_seq = {e.seq: e for e in all_entries}
    for s in sorted(units_of):
        e = by_seq[s]
        rec, sha = draw_record(e)
        frame = tasks_frame(public_as_record(rec) if e.is_import else rec)
        frame = frame[frame["unit"].isin(units_of[s])].copy()
        frame["draw_key"] = e.draw_key
        frame["ledger_seq"] = e.seq
        frame["record_sha256"] = sha
        frames.append(frame)
    cols = TASK_COLUMNS + ["draw_key", "ledger_seq", "record_sha256"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)[cols]
    return out.sort_values(["quarter", "ledger_seq", "task_id"], kind="stable").reset_index(
        drop=True)


def public_as_record(public: Mapping[str, Any]) -> dict:
    """A public record (no internal part) shaped as a whole record for :func:`tasks_frame`:
    no inspector register, no team, no expert."""
    rec = json.loads(json.dumps(public))
    rec["inputs"].setdefault("inspectors", {})
    rec["inputs"].setdefault("experts", {})
    for t in rec["tasks"]:
        t.setdefault("team", [])
        t.setdefault("expert_id", "")
    return rec


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------
def iter_records(path: str | Path) -> Iterator[tuple[Entry, dict]]:
    for e in entries(path):
        yield e, e.record


def drawn_under(path: str | Path, policy_sha256: str) -> Entry | None:
    """The first entry (commitment or draw) made under the policy with this SHA-256."""
    if not Path(path).is_file():
        return None
    for e in entries(path):
        try:
            inputs = e.record.get("inputs", {})
        except json.JSONDecodeError:
            continue
        if inputs.get("policy_sha256") == policy_sha256:
            return e
    return None
