"""Verification of a draw ledger: the hash chain, the input files, and a replay of every
record from its inputs (records of format 1 with the algorithm they were drawn with)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DsrError, LedgerError
from ..paths import PROJECT_ROOT
from ..policy import load_policy
from ..registers import load_registers
from . import draw_quarter
from .ledger import DEFAULT_LEDGER, GENESIS, Entry, entries, entry_hash, history_before
from .record import (RECORD_FORMAT, RECORD_FORMATS, canonical_frame_bytes, record_bytes,
                     record_sha256)


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


