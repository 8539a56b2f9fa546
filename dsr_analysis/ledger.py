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

from .draw import (RECORD_FORMAT, RECORD_FORMATS, TASK_COLUMNS, canonical_frame_bytes,
                   draw_quarter, record_bytes, record_sha256, tasks_frame)
from .errors import DsrError, LedgerError
from .policy import load_policy
from .registers import load_registers
from .paths import OUTPUTS_DIR, PROJECT_ROOT

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
@dataclass(frozen=True)
class Finding:
    """A verification failure: the entry, the field and what is wrong."""

    seq: int
    quarter: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"record #{self.seq} ({self.quarter}): field '{self.field}': {self.message}"


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Path of the first difference between two JSON values (None if equal)."""
    if type(a) is not type(b):
        return path or "(root)"
    if isinstance(a, dict):
        # Plain values before nested ones, so a changed seed is named before its effects.
        keys = sorted(set(a) | set(b), key=lambda k: (
            isinstance(a.get(k, b.get(k)), (dict, list)), k))
        for key in keys:
            if key not in a or key not in b:
                return f"{path}.{key}" if path else key
            d = first_difference(a[key], b[key], f"{path}.{key}" if path else key)
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return f"{path}[{min(len(a), len(b))}]" if len(a) != len(b) else None
    return None if a == b else (path or "(root)")


def _resolve(p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() else PROJECT_ROOT / path


def _value_at(obj: Any, path: str) -> Any:
    import re

    cur = obj
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            cur = cur[int(part[1:-1])] if part.startswith("[") else cur[part]
        except (KeyError, IndexError, TypeError):
            return "(absent)"
    return cur


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def verify_entry(entry: Entry, all_entries: list[Entry]) -> list[Finding]:
    """Replay one record from its inputs and compare."""
    f: list[Finding] = []

    def bad(field: str, message: str) -> list[Finding]:
        f.append(Finding(entry.seq, entry.quarter, field, message))
        return f

    try:
        record = entry.record
    except json.JSONDecodeError as exc:
        return bad("record_json", f"not valid JSON ({exc})")
    inputs = record.get("inputs", {})
    pol = inputs.get("policy", {})
    policy_path = _resolve(pol.get("path", ""))
    if not policy_path.is_file():
        return bad("inputs.policy.path", f"policy file {policy_path} not found")
    actual = hashlib.sha256(policy_path.read_bytes()).hexdigest()
    if actual != pol.get("sha256"):
        return bad("inputs.policy.sha256", f"policy file {policy_path} has SHA-256 {actual}, "
                                           f"the record says {pol.get('sha256')}")
    regs = inputs.get("registers", {})
    for name, info in sorted(regs.get("files", {}).items()):
        p = _resolve(info["path"])
        if not p.is_file():
            bad(f"inputs.registers.files.{name}.path", f"register file {p} not found")
            continue
        actual = hashlib.sha256(p.read_bytes()).hexdigest()
        if actual != info["sha256"]:
            bad(f"inputs.registers.files.{name}.sha256",
                f"register file {p} has SHA-256 {actual}, the record says {info['sha256']}")
    if f:
        return f
    if record.get("format") not in RECORD_FORMATS:
        return bad("format", f"unknown record format {record.get('format')!r} (this version "
                             f"verifies {', '.join(RECORD_FORMATS)})")
    if record.get("format") != RECORD_FORMAT:
        return _verify_old_format(entry, record, all_entries, bad)
    try:
        policy = load_policy(policy_path)
        registers = load_registers(_resolve(regs["directory"]), units=policy.unit_names)
        frame = canonical_frame_bytes(registers.enterprises)
        frame_sha = hashlib.sha256(frame).hexdigest()
        if frame_sha != inputs.get("frame_sha256"):
            return bad("inputs.frame_sha256", f"the registers' canonical frame has SHA-256 "
                                              f"{frame_sha}, the record says "
                                              f"{inputs.get('frame_sha256')}")
        history = history_before(all_entries, entry.seq, record["quarter"], record["draw_key"],
                                 tuple(record["units"]))
        replay = draw_quarter(
            policy, registers, record["quarter"], inputs["seed_material"], history,
            units=record["units"], target=inputs.get("target"), campaign=inputs.get("campaign"),
            origin=inputs.get("origin", "routine"), registers_dir=_resolve(regs["directory"]),
            frame=frame)
    except DsrError as exc:
        return bad("(replay)", f"the draw cannot be replayed: {exc}")
    if record_bytes(replay.record) != entry.record_json.encode():
        where = first_difference(replay.record, record)
        if where is None:
            return bad("record_json", "the stored text is not the canonical form of the record")
        return bad(where, f"the record holds {_short(_value_at(record, where))}, the replay "
                          f"gives {_short(_value_at(replay.record, where))}")
    return f


def _verify_old_format(entry: Entry, record: dict, all_entries: list[Entry], bad) -> list[Finding]:
    """A record of an earlier format: its history must be the ledger's, and the replay of its
    own format (``scripts/replay_draw_v1.py``, the algorithm it was drawn with) must give it
    back from its inputs."""
    history = history_before(all_entries, entry.seq, record["quarter"], record["draw_key"],
                             tuple(record["units"]))
    expected = sorted(r.get("sha256") or record_sha256(r) for r in history)
    if record["inputs"]["history"]["records"] != expected:
        return bad("inputs.history.records", "the record's history is not the ledger's valid "
                                             "draws before it")
    replayer = _old_replayer()
    try:
        replayer.replay(record)
    except replayer.Mismatch as exc:
        return bad(f"(replay of {record['format']})", str(exc))
    return []


def _old_replayer():
    """The stdlib replay of format 1, loaded from ``scripts/replay_draw_v1.py``."""
    import importlib.util

    path = PROJECT_ROOT / "scripts" / "replay_draw_v1.py"
    spec = importlib.util.spec_from_file_location("replay_draw_v1", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record_formats(path: str | Path = DEFAULT_LEDGER) -> dict[str, int]:
    """Number of ledger entries per record format (``dsr verify`` prints it)."""
    out: dict[str, int] = {}
    for e in entries(path):
        try:
            fmt = str(e.record.get("format"))
        except json.JSONDecodeError:
            fmt = "(not JSON)"
        out[fmt] = out.get(fmt, 0) + 1
    return out


def verify_ledger(path: str | Path = DEFAULT_LEDGER, replay: bool = True) -> list[Finding]:
    """Check the hash chain and (``replay``) re-run every record; every finding is returned."""
    all_entries = entries(path)
    findings: list[Finding] = []
    prev = GENESIS
    for e in all_entries:
        sha = hashlib.sha256(e.record_json.encode()).hexdigest()
        if sha != e.record_sha256:
            findings.append(Finding(e.seq, e.quarter, "record_sha256",
                                    f"the stored record hashes to {sha}, the entry says "
                                    f"{e.record_sha256} (record edited)"))
        if e.prev_hash != prev:
            findings.append(Finding(e.seq, e.quarter, "prev_hash",
                                    f"{e.prev_hash} does not match the previous entry's hash "
                                    f"{prev} (chain broken)"))
        h = entry_hash(e.seq, e.created_at, e.quarter, e.draw_key, ",".join(e.units),
                       e.redraw_of, e.record_sha256, e.prev_hash)
        if h != e.entry_hash:
            findings.append(Finding(e.seq, e.quarter, "entry_hash",
                                    f"the entry hashes to {h}, the ledger says {e.entry_hash} "
                                    "(entry edited)"))
        prev = e.entry_hash
        if replay:
            findings.extend(verify_entry(e, all_entries))
    return findings


def check_ledger(path: str | Path = DEFAULT_LEDGER) -> int:
    """Verify and raise :class:`LedgerError` listing every finding; returns the entry count."""
    findings = verify_ledger(path)
    if findings:
        raise LedgerError("\n".join(str(x) for x in findings))
    return len(entries(path))


def iter_records(path: str | Path) -> Iterator[tuple[Entry, dict]]:
    for e in entries(path):
        yield e, e.record
