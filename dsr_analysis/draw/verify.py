"""Verification of a draw ledger: the hash chain, the input files, and a replay of every
record from its inputs (records of format 1 with the algorithm they were drawn with)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DsrError, LedgerError
from ..i18n import _
from ..paths import PROJECT_ROOT
from ..policy import load_policy
from ..registers import load_registers
from . import draw_quarter
from .ledger import (DEFAULT_LEDGER, GENESIS, Entry, entries, entry_hash, get_blob, head_of,
                     history_before, parse_head, stored_blobs)
from ..amendments import verify_revision
from .beacon import check_commitment_beacon, check_record_beacon
from .imports import check_commitment_heads, verify_import
from .protocol import COMMITMENT_FORMATS, commitment_day, history_sha256
from .revisions import commitment_plan_problem
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
        return _("record #{seq} ({quarter}): field '{field}': {message}").format(
            seq=self.seq, quarter=self.quarter, field=self.field, message=self.message)


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


def verify_entry(entry: Entry, all_entries: list[Entry],
                 ledger_path: str | Path | None = None) -> list[Finding]:
    """Replay one record from its inputs and compare (the policy from the ledger's copy of
    the bytes it was drawn under when the ledger holds them)."""
    f: list[Finding] = []

    def bad(field: str, message: str) -> list[Finding]:
        f.append(Finding(entry.seq, entry.quarter, field, message))
        return f

    try:
        record = entry.record
    except json.JSONDecodeError as exc:
        return bad("record_json", _("not valid JSON ({reason})").format(reason=exc))
    if entry.is_commitment:
        return verify_commitment(entry, all_entries, bad)
    if entry.is_import:  # another bureau's draw (dsr import-draws)
        return verify_import(entry, ledger_path, bad)
    if entry.is_amendment:  # a plan revision (dsr plan publish / amend)
        for field, message in verify_revision(entry, all_entries, ledger_path):
            bad(field, message)
        return f
    inputs = record.get("inputs", {})
    pol = inputs.get("policy", {})
    policy_path = _resolve(pol.get("path", ""))
    blob = get_blob(ledger_path, pol.get("sha256", "")) if ledger_path else None
    if blob is None:
        if not policy_path.is_file():
            return bad("inputs.policy.path", _("policy file {path} not found").format(
                path=policy_path))
        actual = hashlib.sha256(policy_path.read_bytes()).hexdigest()
        if actual != pol.get("sha256"):
            return bad("inputs.policy.sha256", _("policy file {path} has SHA-256 {actual}, the "
                                                 "record says {recorded}").format(
                path=policy_path, actual=actual, recorded=pol.get("sha256")))
    regs = inputs.get("registers", {})
    for name, info in sorted(regs.get("files", {}).items()):
        p = _resolve(info["path"])
        if not p.is_file():
            bad(f"inputs.registers.files.{name}.path",
                _("register file {path} not found").format(path=p))
            continue
        actual = hashlib.sha256(p.read_bytes()).hexdigest()
        if actual != info["sha256"]:
            bad(f"inputs.registers.files.{name}.sha256",
                _("register file {path} has SHA-256 {actual}, the record says {recorded}"
                  ).format(path=p, actual=actual, recorded=info["sha256"]))
    if f:
        return f
    if record.get("format") not in RECORD_FORMATS:
        return bad("format", _("unknown record format {format} (this version verifies "
                               "{formats})").format(format=repr(record.get("format")),
                                                    formats=", ".join(RECORD_FORMATS)))
    if record.get("format") != RECORD_FORMAT:
        return _verify_old_format(entry, record, all_entries, bad)
    ref = inputs.get("commitment")
    commitment = None
    if ref is not None:
        commitment = next((e for e in all_entries if e.seq == ref.get("seq")), None)
        if commitment is None or commitment.entry_hash != ref.get("entry_hash") \
                or not commitment.is_commitment or commitment.seq >= entry.seq:
            return bad("inputs.commitment", _("the commitment {ref} is not an earlier "
                                              "commitment entry of this ledger").format(
                                                  ref=_short(ref)))
        got = commitment.record.get("inputs", {})
        for field in ("frame_sha256", "policy_sha256", "follow_ups"):
            if got.get(field) != inputs.get(field):
                return bad(f"inputs.{field}", _("{value} is not the committed {committed} "
                                                "(commitment #{seq})").format(
                    value=inputs.get(field), committed=got.get(field), seq=commitment.seq))
        problem = check_record_beacon(inputs, commitment.record)
        if problem:  # the drand round the commitment named, verified again
            return bad("inputs.beacon", problem)
    try:
        policy = _policy(policy_path, blob)
        registers = load_registers(_resolve(regs["directory"]), units=policy.unit_names)
        frame = canonical_frame_bytes(registers.enterprises)
        frame_sha = hashlib.sha256(frame).hexdigest()
        if frame_sha != inputs.get("frame_sha256"):
            return bad("inputs.frame_sha256", _("the registers' canonical frame has SHA-256 "
                                                "{actual}, the record says {recorded}").format(
                actual=frame_sha, recorded=inputs.get("frame_sha256")))
        history = history_before(all_entries, entry.seq, record["quarter"], record["draw_key"],
                                 tuple(record["units"]))
        replay = draw_quarter(
            policy, registers, record["quarter"], inputs["seed_material"], history,
            units=record["units"], target=inputs.get("target"), campaign=inputs.get("campaign"),
            origin=inputs.get("origin", "routine"), registers_dir=_resolve(regs["directory"]),
            frame=frame, commitment=ref, reason=inputs.get("reason"),
            follow_ups=inputs.get("follow_ups"), beacon=inputs.get("beacon"))
        if commitment is not None:
            want = commitment.record["inputs"]["history_sha256"]
            have = history_sha256([r["sha256"] for r in history])
            if want != have:
                return bad("inputs.history", _("the history the record depends on has digest "
                                               "{have}, commitment #{seq} fixed {want}").format(
                    have=have, seq=commitment.seq, want=want))
    except DsrError as exc:
        return bad("(replay)", _("the draw cannot be replayed: {reason}").format(reason=exc))
    if record_bytes(replay.record) != entry.record_json.encode() and _replays_with_legacy_lists(
            entry, record, policy, _resolve(regs["directory"]), history, frame, ref):
        return f
    if record_bytes(replay.record) != entry.record_json.encode():
        where = first_difference(replay.record, record)
        if where is None:
            return bad("record_json",
                       _("the stored text is not the canonical form of the record"))
        return bad(where, _("the record holds {recorded}, the replay gives {replayed}").format(
            recorded=_short(_value_at(record, where)),
            replayed=_short(_value_at(replay.record, where))))
    return f


#: The record format whose draws may have read their registers' lists by the rule before
#: issue 19 (、 a separator, 全部行业 an industry's name; values.LEGACY_LIST_SPLIT).
LEGACY_LISTS_FORMAT = "dsr-draw-record/3"


def _replays_with_legacy_lists(entry: Entry, record: dict, policy, directory: Path,
                               history, frame: bytes, ref) -> bool:
    """Whether the record replays from the same register files read by the list rule of its
    time (a draw recorded before issue 19 whose industry lists held 、 or 全部行业): the
    files are those the record hashes, and that reading was the reader's then."""
    if record.get("format") != LEGACY_LISTS_FORMAT:
        return False
    inputs = record["inputs"]
    try:
        registers = load_registers(directory, units=policy.unit_names, legacy_lists=True)
        if canonical_frame_bytes(registers.enterprises) != frame:
            return False
        replay = draw_quarter(
            policy, registers, record["quarter"], inputs["seed_material"], history,
            units=record["units"], target=inputs.get("target"), campaign=inputs.get("campaign"),
            origin=inputs.get("origin", "routine"), registers_dir=directory, frame=frame,
            commitment=ref, reason=inputs.get("reason"), follow_ups=inputs.get("follow_ups"))
    except DsrError:
        return False
    return record_bytes(replay.record) == entry.record_json.encode()


def _verify_old_format(entry: Entry, record: dict, all_entries: list[Entry], bad) -> list[Finding]:
    """A record of an earlier format: its history must be the ledger's, and the replay of its
    own format (``scripts/replay_draw_v1.py``, the algorithm it was drawn with) must give it
    back from its inputs."""
    history = history_before(all_entries, entry.seq, record["quarter"], record["draw_key"],
                             tuple(record["units"]))
    expected = sorted(r.get("sha256") or record_sha256(r) for r in history)
    if record["inputs"]["history"]["records"] != expected:
        return bad("inputs.history.records", _("the record's history is not the ledger's "
                                               "valid draws before it"))
    replayer = _old_replayer(record["format"])
    try:
        replayer.replay(record)
    except replayer.Mismatch as exc:
        return bad(f"(replay of {record['format']})", str(exc))
    return []


def _old_replayer(fmt: str):
    """The stdlib replay of an earlier format, ``scripts/replay_draw_v{n}.py``."""
    import importlib.util

    n = fmt.rsplit("/", 1)[-1]
    path = PROJECT_ROOT / "scripts" / f"replay_draw_v{n}.py"
    spec = importlib.util.spec_from_file_location(f"replay_draw_v{n}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _policy(path: Path, blob: bytes | None):
    """The policy from the ledger's copy of its bytes (else the file), named by its path."""
    if blob is None:
        return load_policy(path)
    import dataclasses
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_bytes(blob)
        policy = load_policy(copy)
    return dataclasses.replace(policy, path=str(path))


def verify_commitment(entry: Entry, all_entries: list[Entry], bad) -> list[Finding]:
    """A commitment names the ledger head before it and has the fields a draw checks."""
    rec = entry.record
    if rec.get("format") not in COMMITMENT_FORMATS:
        return bad("format", _("a commitment entry holds format {format}").format(
            format=repr(rec.get("format"))))
    if rec["format"] != COMMITMENT_FORMATS[0]:  # format 2: dated, with its issuer
        try:
            dt.date.fromisoformat(str(rec.get("date")))
        except ValueError:
            return bad("date", _("{value} is not a date (YYYY-MM-DD)").format(
                value=repr(rec.get("date"))))
        if not str(rec.get("issuer") or "").strip():
            return bad("issuer", _("missing"))
    before = [e for e in all_entries if e.seq < entry.seq]
    if rec.get("ledger_head") != head_of(before):
        return bad("ledger_head", _("the commitment names the head {named}, the ledger before "
                                    "it is {head}").format(named=rec.get("ledger_head"),
                                                           head=head_of(before)))
    for field in ("frame_sha256", "policy_sha256", "history_sha256"):
        if len(str(rec.get("inputs", {}).get(field, ""))) != 64:
            return bad(f"inputs.{field}", _("missing"))
    problem = commitment_plan_problem(before, entry.quarter, rec["inputs"]["policy_sha256"],
                                      commitment_day(entry), _("the committed policy"))
    if problem:  # committed under a plan not in force for its quarter
        return bad("inputs.policy_sha256", problem)
    problem = check_commitment_heads(entry, all_entries)
    if problem:  # the heads of the imported draws its history holds
        return bad("inputs.foreign_heads", problem)
    problem = check_commitment_beacon(rec, commitment_day(entry))
    if problem:  # the drand round: a known chain's, produced after the announcement's day
        return bad("seed_source.beacon", problem)
    return []


def record_formats(path: str | Path = DEFAULT_LEDGER) -> dict[str, int]:
    """Number of ledger entries per record format (``dsr verify`` prints it)."""
    out: dict[str, int] = {}
    for e in entries(path):
        try:
            fmt = str(e.record.get("format"))
        except json.JSONDecodeError:
            fmt = _("(not JSON)")
        out[fmt] = out.get(fmt, 0) + 1
    return out


def verify_ledger(path: str | Path = DEFAULT_LEDGER, replay: bool = True,
                  head: str | None = None) -> list[Finding]:
    """Check the hash chain, (``replay``) re-run every record and (``head``) check the
    ledger against a published head; every finding is returned."""
    all_entries = entries(path)
    findings: list[Finding] = []
    prev = GENESIS
    for e in all_entries:
        try:
            sha = record_sha256(json.loads(e.record_json))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            sha = hashlib.sha256(e.record_json.encode()).hexdigest()
        if sha != e.record_sha256:
            findings.append(Finding(e.seq, e.quarter, "record_sha256",
                                    _("the stored record hashes to {sha}, the entry says "
                                      "{recorded} (record edited)").format(
                                          sha=sha, recorded=e.record_sha256)))
        if e.prev_hash != prev:
            findings.append(Finding(e.seq, e.quarter, "prev_hash",
                                    _("{value} does not match the previous entry's hash "
                                      "{prev} (chain broken)").format(value=e.prev_hash,
                                                                      prev=prev)))
        h = entry_hash(e.seq, e.created_at, e.quarter, e.draw_key, ",".join(e.units),
                       e.redraw_of, e.record_sha256, e.prev_hash)
        if h != e.entry_hash:
            findings.append(Finding(e.seq, e.quarter, "entry_hash",
                                    _("the entry hashes to {hash}, the ledger says {recorded} "
                                      "(entry edited)").format(hash=h,
                                                               recorded=e.entry_hash)))
        prev = e.entry_hash
        if replay:
            findings.extend(verify_entry(e, all_entries, path))
    findings.extend(check_blobs(path, all_entries))
    if head is not None:
        findings.extend(check_head(all_entries, head))
    return findings


def check_blobs(path: str | Path, all_entries: list[Entry]) -> list[Finding]:
    """Every stored blob (table ``blobs``: the policy files draws were made under, imported
    chains) against the digest it is kept under - the digest the entries recorded. A blob
    whose bytes were changed is named with the first entry that recorded its digest (a blob
    no entry names: entry 0)."""
    findings = []
    for sha, data in stored_blobs(path):
        actual = hashlib.sha256(data).hexdigest()
        if actual == sha:
            continue
        named = next((e for e in all_entries if sha in e.record_json), None)
        findings.append(Finding(
            named.seq if named else 0, named.quarter if named else "-", f"blobs[{sha}]",
            _("the ledger's stored copy of the file with SHA-256 {sha} ({size} bytes) hashes "
              "to {actual} (blob corrupted; replays would not use the bytes the entries "
              "recorded)").format(sha=sha, size=len(data), actual=actual)))
    return findings


def check_head(all_entries: list[Entry], head: str) -> list[Finding]:
    """The ledger against a published head ``N:HASH``: entry N must exist and carry that
    hash (a truncated, reordered or rewritten ledger fails; entries after N were appended
    since the head was published)."""
    n, h = parse_head(head)
    if n == 0:
        return [] if h == GENESIS else [Finding(0, "-", "head", _(
            "the head 0:{hash} is not the empty ledger's").format(hash=h))]
    if len(all_entries) < n:
        return [Finding(n, "-", "head", _("the published head names entry #{n}, the ledger has "
                                          "only {count} entries (truncated)").format(
                                              n=n, count=len(all_entries)))]
    e = all_entries[n - 1]
    if e.seq != n or e.entry_hash != h:
        return [Finding(n, e.quarter, "head", _(
            "entry #{n} has hash {hash}, the published head says {published} (the ledger was "
            "rewritten or reordered)").format(n=n, hash=e.entry_hash, published=h))]
    return []


def check_ledger(path: str | Path = DEFAULT_LEDGER) -> int:
    """Verify and raise :class:`LedgerError` listing every finding; returns the entry count."""
    findings = verify_ledger(path)
    if findings:
        raise LedgerError("\n".join(str(x) for x in findings))
    return len(entries(path))




def policy_file_changes(path: str | Path = DEFAULT_LEDGER) -> list[str]:
    """Notes on policy files that changed on disk after draws were made under them (the
    replay uses the ledger's copy of the bytes)."""
    notes, seen = [], set()
    for e in entries(path):
        if not e.is_draw:
            continue
        try:
            pol = e.record.get("inputs", {}).get("policy", {})
        except json.JSONDecodeError:
            continue
        key = (pol.get("path"), pol.get("sha256"))
        if key in seen or not pol.get("path"):
            continue
        seen.add(key)
        p = _resolve(pol["path"])
        now = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        if now != pol.get("sha256") and get_blob(path, pol.get("sha256", "")) is not None:
            message = (_("note: the policy file {path} is gone since record #{seq} was drawn "
                         "under it; the replay used the ledger's copy of the bytes drawn under")
                       if now is None else
                       _("note: the policy file {path} has changed (SHA-256 now {now}) since "
                         "record #{seq} was drawn under it; the replay used the ledger's copy "
                         "of the bytes drawn under"))
            notes.append(message.format(path=p, now=now, seq=e.seq))
    return notes
