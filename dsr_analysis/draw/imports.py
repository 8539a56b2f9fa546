"""Bureaus with their own ledgers: publishing a ledger's public chain and importing another
bureau's published draws (``dsr import-draws``).

Two deployments are supported.

* **One shared ledger** for the four bureaus: the area level's draw reads the counties' draws
  of the quarter from the same ledger (``avoid``/``merge`` between levels, the statistics).
* **One ledger per bureau**: each bureau draws its own units into its own ledger and
  publishes its **public chain** (:func:`write_public_ledger`, written by ``dsr draw`` and
  ``dsr export``): ``{outputs}/ledger-public/chain.json`` - format ``dsr-public-ledger/1``,
  the head ``N:HASH`` and every entry's chained fields (``seq``, ``created_at``, ``quarter``,
  ``draw_key``, ``units``, ``redraw_of``, ``record_sha256``, ``prev_hash``, ``entry_hash``)
  with the name of its published record - and ``{outputs}/ledger-public/records/{sha}.json``,
  the published part of each entry, whose SHA-256 is the entry's ``record_sha256``: the
  public part of a draw record (no inspector, no team), a commitment, a plan amendment or an
  import as recorded (a draw of a format before 3, whose record holds the teams, is listed
  with ``record: null`` and cannot be imported). Another bureau imports them against the
  head the first one published (:func:`import_draws`).

**What an import checks** (:func:`read_published`), before anything is written:

1. the chain: every entry's hash recomputed from its fields, each ``prev_hash`` the hash of
   the entry before it (the first: 64 zeros), entry N of the published head ``N:HASH``
   present with that hash (entries after N are left for a later import);
2. every published record of entries 1..N: its file's SHA-256 is the entry's
   ``record_sha256`` and its text is the record's canonical JSON; every
   ``draws/**/public/record.json`` in the folder is a record the chain lists;
3. every draw among entries 1..N: its overlap history is the valid draws before it in that
   chain, it names an earlier commitment of that chain whose frame, policy and history
   digests are its own, and the object draw replays from the public record with the
   standard-library replay (``scripts/replay_draw.py``: seed, inclusion probabilities,
   tickets, selection, task list). The register files and the policy file are not published
   with the chain: their digests are checked against the commitment, not against the files.

Then it appends **one import entry per foreign draw** (draw key ``import:{draw_key}``, the
foreign quarter and units) holding the foreign public record, the foreign entry's chained
fields, and ``source``: the foreign ledger's id (the hash of its first entry), the head
imported at, the issuing bureau and ``chain_sha256``, the digest of the foreign chain 1..N,
whose bytes are kept in the ledger's ``blobs`` - all in one transaction. Refused, with
nothing written: a tampered record, a head the chain does not reach or does not match, a
unit this ledger draws itself (or one already imported from another ledger), a chain that
differs from one imported before. Importing the same head again is a no-op; a longer head
imports only the draws appended since.

**What imports change**: the history a draw depends on
(:func:`dsr_analysis.draw.ledger.history_before`) includes the imported draws (never the
foreign commitments), so the area level's ``avoid``/``merge`` sees the counties' draws; the
commitment fixes them through ``history_sha256`` and names the foreign heads they were
imported at (``inputs.foreign_heads``); ``dsr verify`` re-checks every import entry from the
ledger alone (record digest, entry hash, the kept chain up to the head, the stdlib replay) and
replays the area level's draw with the imported records. The statistics read them with
``load_draw_tasks(..., imported=True)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportRefusedError, LedgerError
from ..i18n import _
from ..paths import PROJECT_ROOT
from .ledger import (GENESIS, IMPORT, Entry, append_all, entries, entry_hash, exclusive,
                     get_blob, head_of, history_before, parse_head, put_blob)
from .record import RECORD_FORMAT, record_bytes, split_record

#: Format of an import entry's record.
IMPORT_FORMAT = "dsr-import/1"
#: Format of a published public chain.
PUBLIC_LEDGER_FORMAT = "dsr-public-ledger/1"
#: Folder of the public chain under a bureau's outputs.
PUBLIC_DIR = "ledger-public"
CHAIN_NAME = "chain.json"
#: The chained fields of an entry (what its hash covers, and the hash).
CHAIN_FIELDS = ("seq", "created_at", "quarter", "draw_key", "units", "redraw_of",
                "record_sha256", "prev_hash", "entry_hash")


# --------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------
def published_bytes(entry: Entry) -> bytes | None:
    """The published part of an entry, whose SHA-256 is its ``record_sha256``: the public part
    of a format-3 draw record, the record as recorded for a commitment, an amendment or an
    import; None for a draw of an earlier format (its record holds the teams)."""
    record = entry.record
    if record.get("format") == RECORD_FORMAT:
        return record_bytes(split_record(record)[0])
    if entry.is_draw:
        return None
    return record_bytes(record)


def _published(entry: Entry) -> bool:
    return not entry.is_draw or entry.record.get("format") == RECORD_FORMAT


def chain_fields(entry: Entry) -> dict:
    """An entry's chained fields (``units`` comma-joined, as its hash covers them)."""
    return {"seq": entry.seq, "created_at": entry.created_at, "quarter": entry.quarter,
            "draw_key": entry.draw_key, "units": ",".join(entry.units),
            "redraw_of": entry.redraw_of, "record_sha256": entry.record_sha256,
            "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash}


def chain_bytes(chain: Sequence[Mapping[str, Any]]) -> bytes:
    """Canonical JSON of a chain's fields (kept as a blob by an import)."""
    rows = [{k: c[k] for k in CHAIN_FIELDS} for c in chain]
    return (json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            + "\n").encode()


def record_name(sha: str) -> str:
    return f"records/{sha}.json"


def public_chain(all_entries: Sequence[Entry]) -> dict:
    """The public chain of a ledger (see the module docstring)."""
    return {"format": PUBLIC_LEDGER_FORMAT, "head": head_of(list(all_entries)),
            "entries": [{**chain_fields(e),
                         "record": record_name(e.record_sha256) if _published(e) else None}
                        for e in all_entries]}


def write_public_ledger(ledger: str | Path, out_root: str | Path) -> list[Path]:
    """Write the ledger's public chain under ``{out_root}/ledger-public/``: each entry's
    published record not yet there (or differing), then ``chain.json``; every file under a
    temporary name then renamed; records no entry lists (a replaced ledger's) are removed.
    Returns the files written."""
    from ..documents.layout import write_atomically  # the documents' writers: heavy imports

    folder = Path(out_root) / PUBLIC_DIR
    all_entries = entries(ledger)
    written = []
    for e in all_entries:
        path = folder / record_name(e.record_sha256)
        if not _published(e) or (path.is_file() and hashlib.sha256(
                path.read_bytes()).hexdigest() == e.record_sha256):
            continue
        data = published_bytes(e)
        if data is None or hashlib.sha256(data).hexdigest() != e.record_sha256:
            raise LedgerError(_("{ledger}: entry #{seq}: its record does not hash to its "
                                "record_sha256 (dsr verify names the problem); nothing "
                                "published").format(ledger=ledger, seq=e.seq))
        written.append(write_atomically(path, lambda tmp, d=data: tmp.write_bytes(d)))
    text = json.dumps(public_chain(all_entries), ensure_ascii=False, indent=1) + "\n"
    chain = folder / CHAIN_NAME
    if not chain.is_file() or chain.read_text(encoding="utf-8") != text:
        written.append(write_atomically(chain, lambda tmp: tmp.write_text(text, "utf-8")))
    listed = {(folder / record_name(e.record_sha256)).name for e in all_entries}
    for stale in (folder / "records").glob("*.json"):
        if stale.name not in listed:  # of a ledger this one replaced (dsr demo starts afresh)
            stale.unlink()
    return written


# --------------------------------------------------------------------------------------
# Reading and checking another bureau's published chain
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedLedger:
    """Another bureau's published chain, checked against its head.

    Attributes
    ----------
    chain_path : Path
        Its ``chain.json``.
    ledger_id : str
        The hash of its first entry (names the ledger in import entries).
    head : str
        The published head ``N:HASH`` checked against.
    entries : list of Entry
        Entries 1..N with their published records as ``record_json``.
    chain : list of dict
        The chained fields of entries 1..N.
    checks : list of str
        What was checked (printed by ``dsr import-draws``).
    """

    chain_path: Path
    ledger_id: str
    head: str
    entries: list[Entry]
    chain: list[dict]
    checks: list[str] = field(default_factory=list)

    def draws(self) -> list[Entry]:
        """The foreign ledger's own draws among entries 1..N."""
        return [e for e in self.entries if e.is_draw]

    def issuer(self, draw: Entry) -> str:
        """The bureau that made a draw: the issuer of its commitment, else its units' names."""
        record = draw.record
        ref = (record.get("inputs") or {}).get("commitment") or {}
        for e in self.entries:
            if e.is_commitment and e.entry_hash == ref.get("entry_hash") \
                    and e.record.get("issuer"):
                return str(e.record["issuer"])
        names = (record.get("inputs") or {}).get("unit_names") or {}
        return "、".join(names.get(u, u) for u in draw.units)


def chain_file(folder: str | Path) -> Path:
    """``chain.json`` of a published folder: the folder itself, or its ``ledger-public``."""
    folder = Path(folder)
    for candidate in (folder / PUBLIC_DIR / CHAIN_NAME, folder / CHAIN_NAME):
        if candidate.is_file():
            return candidate
    raise ImportRefusedError(_(
        "{folder}: no published chain ({chain}); the other bureau publishes it with dsr export "
        "(or any dsr draw) and hands over its outputs folder, or the ledger-public folder with "
        "the draws' public records").format(folder=folder, chain=f"{PUBLIC_DIR}/{CHAIN_NAME}"))


def _entry_from(row: Mapping[str, Any], text: str) -> Entry:
    units = str(row["units"])
    return Entry(int(row["seq"]), str(row["created_at"]), str(row["quarter"]),
                 str(row["draw_key"]), tuple(units.split(",")) if units else (),
                 row["redraw_of"], str(row["record_sha256"]), text, str(row["prev_hash"]),
                 str(row["entry_hash"]))


def check_chain(chain: Sequence[Mapping[str, Any]], where: str) -> list[str]:
    """Problems of a chain's fields: hashes, links, numbering (``where`` names the file)."""
    problems = []
    prev = GENESIS
    for i, row in enumerate(chain, 1):
        missing = [k for k in CHAIN_FIELDS if k not in row]
        if missing:
            problems.append(_("{where}: entry #{i}: field(s) {fields} missing").format(
                where=where, i=i, fields=", ".join(missing)))
            return problems
        if row["seq"] != i:
            problems.append(_("{where}: entry #{i}: field 'seq' is {value}, expected {i}").format(
                where=where, i=i, value=repr(row["seq"])))
        if row["prev_hash"] != prev:
            problems.append(_("{where}: entry #{i}: field 'prev_hash' {value} is not the hash "
                              "of the entry before it ({prev}): chain broken").format(
                                  where=where, i=i, value=row["prev_hash"], prev=prev))
        h = entry_hash(row["seq"], row["created_at"], row["quarter"], row["draw_key"],
                       row["units"], row["redraw_of"], row["record_sha256"], row["prev_hash"])
        if h != row["entry_hash"]:
            problems.append(_("{where}: entry #{i}: field 'entry_hash' {value}: the entry's "
                              "fields hash to {hash} (entry edited)").format(
                                  where=where, i=i, value=row["entry_hash"], hash=h))
        prev = row["entry_hash"]
    return problems


def _load_chain(path: Path) -> list[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRefusedError(_("{path}: not a published chain ({reason})").format(
            path=path, reason=exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != PUBLIC_LEDGER_FORMAT \
            or not isinstance(doc.get("entries"), list):
        fmt = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ImportRefusedError(_("{path}: field 'format': {value} is not {format}").format(
            path=path, value=str(fmt)[:60], format=PUBLIC_LEDGER_FORMAT))
    return doc["entries"]


def read_published(folder: str | Path, head: str) -> PublishedLedger:
    """Read another bureau's published chain and records and check them against its published
    ``head`` (the checks of the module docstring); :class:`ImportRefusedError` listing every
    problem otherwise."""
    n, h = parse_head(head)
    path = chain_file(folder)
    base = path.parent
    rows = _load_chain(path)
    problems = check_chain(rows, str(path))
    if problems:
        raise ImportRefusedError("\n".join(problems))
    if n == 0 or n > len(rows):
        raise ImportRefusedError(_(
            "--head {head}: the published chain {path} has {count} entries; the head names entry "
            "#{n} (a head published before this chain was written, or another ledger's)").format(
                head=head, path=path, count=len(rows), n=n))
    if rows[n - 1]["entry_hash"] != h:
        raise ImportRefusedError(_(
            "--head {head}: entry #{n} of the published chain {path} has hash {value}, not "
            "{hash} (another ledger's head, or the chain was rewritten since the head was "
            "published)").format(head=head, n=n, path=path, value=rows[n - 1]["entry_hash"],
                                 hash=h))
    chain = [{k: r[k] for k in CHAIN_FIELDS} for r in rows[:n]]
    found, problems = _published_records(rows[:n], base)
    listed = {r["record_sha256"] for r in rows}
    for rec_path in sorted(Path(folder).glob("draws/**/public/record.json")):
        if ".staging" in rec_path.parts:
            continue
        sha = hashlib.sha256(rec_path.read_bytes()).hexdigest()
        if sha not in listed:
            problems.append(_("{file}: SHA-256 {sha} is not the digest of any record the "
                              "published chain {path} lists (record changed after the draw?)"
                              ).format(file=rec_path, sha=sha, path=path))
    if problems:
        raise ImportRefusedError("\n".join(problems))
    for e in found:
        if e.is_draw:
            problems += _check_foreign_draw(e, found, rec_where=f"{path}: entry #{e.seq}")
    if problems:
        raise ImportRefusedError("\n".join(problems))
    checks = [  # printed by dsr import-draws, for the bureau's staff
        f"账本链 {path}：共 {len(rows)} 条，逐条重算哈希值并核对前后链接；第 {n} 条的哈希值与"
        "公布的账本头一致",
        f"第 1 至 {n} 条的公开记录：SHA-256 及规范格式与账本链所列一致；抽取文件夹中的公开记录"
        "均为账本链所列记录",
        f"{sum(e.is_draw for e in found)} 次抽取：所依据的此前有效抽取记录和承诺一致，检查对象"
        "的抽取由公开记录独立重放（scripts/replay_draw.py）一致；名录库文件和政策文件未随账本"
        "公布，仅核对承诺所固定的摘要",
    ]
    return PublishedLedger(path, chain[0]["entry_hash"], f"{n}:{h}", found, chain, checks)


def _published_records(rows: Sequence[Mapping[str, Any]], base: Path
                       ) -> tuple[list[Entry], list[str]]:
    """The published record of each chain row (as entries) and the problems: a missing
    file, a digest that is not the row's, text that is not a record's canonical JSON."""
    found: list[Entry] = []
    problems: list[str] = []
    for row in rows:
        if "record" in row and row["record"] is None:
            problems.append(_("{path}: entry #{seq} ({quarter}, {key}) has no published record "
                              "(a draw of a format before {format}, whose record holds the "
                              "teams): it cannot be checked, nor the draws after it").format(
                                  path=base, seq=row["seq"], quarter=row["quarter"],
                                  key=row["draw_key"], format=RECORD_FORMAT))
            continue
        rec_path = base / str(row.get("record") or record_name(row["record_sha256"]))
        if not rec_path.is_file():
            problems.append(_("{file}: the published record of entry #{seq} is missing").format(
                file=rec_path, seq=row["seq"]))
            continue
        data = rec_path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if sha != row["record_sha256"]:
            problems.append(_("{file}: SHA-256 {sha}, the chain lists {listed} for entry #{seq} "
                              "(record changed)").format(file=rec_path, sha=sha,
                                                         listed=row["record_sha256"],
                                                         seq=row["seq"]))
            continue
        try:
            text = data.decode("utf-8")
            canonical = record_bytes(json.loads(text)) == data
        except (UnicodeDecodeError, json.JSONDecodeError):
            canonical = False
        if not canonical:
            problems.append(_("{file}: not the canonical JSON of a record").format(
                file=rec_path))
            continue
        found.append(_entry_from(row, text))
    return found, problems


def _check_foreign_draw(e: Entry, chain_entries: list[Entry], rec_where: str) -> list[str]:
    """History, commitment and stdlib replay of one draw of a published chain."""
    from .protocol import history_sha256

    record = e.record
    inputs = record.get("inputs") or {}
    out = []
    history = history_before(chain_entries, e.seq, record.get("quarter"), record.get("draw_key"),
                             tuple(record.get("units") or ()))
    shas = sorted(r["sha256"] for r in history)
    if (inputs.get("history") or {}).get("records") != shas:
        out.append(_("{where}: field 'inputs.history.records': not the valid draws before it "
                     "in the published chain").format(where=rec_where))
    ref = inputs.get("commitment")
    if ref is not None:
        c = next((x for x in chain_entries if x.seq == ref.get("seq")), None)
        if c is None or not c.is_commitment or c.entry_hash != ref.get("entry_hash"):
            out.append(_("{where}: field 'inputs.commitment': {ref} is not an earlier "
                         "commitment of the published chain").format(where=rec_where, ref=ref))
        else:
            got = c.record.get("inputs", {})
            for name, have in (("frame_sha256", inputs.get("frame_sha256")),
                               ("policy_sha256", inputs.get("policy_sha256")),
                               ("history_sha256", history_sha256(shas))):
                if got.get(name) != have:
                    out.append(_("{where}: field 'inputs.{name}': {value} is not the one "
                                 "commitment #{seq} fixed ({fixed})").format(
                                     where=rec_where, name=name, value=have, seq=c.seq,
                                     fixed=got.get(name)))
    reason = replay_public(record)
    if reason:
        out.append(_("{where}: the object draw does not replay: {reason}").format(
            where=rec_where, reason=reason))
    return out


def replay_public(record: Mapping[str, Any]) -> str | None:
    """Replay a published draw record with the standard-library replay
    (``scripts/replay_draw.py``); the mismatch it names, or None."""
    module = _stdlib_replay()
    try:
        module.replay(json.loads(json.dumps(record)))
    except module.Mismatch as exc:
        return str(exc)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return _("the record lacks what the replay needs ({kind}: {reason})").format(
            kind=type(exc).__name__, reason=exc)
    return None


def _stdlib_replay():
    import importlib.util
    import sys

    path = PROJECT_ROOT / "scripts" / "replay_draw.py"
    name = "dsr_replay_draw"
    if name in sys.modules:
        return sys.modules[name]
    scripts = str(path.parent)
    if scripts not in sys.path:
        sys.path.insert(0, scripts)  # the replay imports the scripts beside it
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


# --------------------------------------------------------------------------------------
# Importing
# --------------------------------------------------------------------------------------
def own_units(all_entries: Sequence[Entry]) -> dict[str, int]:
    """Units this ledger draws itself -> the first entry (draw or commitment) naming them."""
    out: dict[str, int] = {}
    for e in all_entries:
        if e.is_draw or e.is_commitment:
            for u in e.units:
                out.setdefault(u, e.seq)
    return out


def imported_units(all_entries: Sequence[Entry]) -> dict[str, tuple[str, int]]:
    """Units whose draws were imported -> (source ledger id, first import entry)."""
    out: dict[str, tuple[str, int]] = {}
    for e in all_entries:
        if e.is_import:
            for u in e.units:
                out.setdefault(u, (e.record["source"]["ledger"], e.seq))
    return out


def check_not_imported(all_entries: Sequence[Entry], units: Sequence[str]) -> None:
    """A commitment of this ledger may not cover a unit whose draws it imports."""
    got = imported_units(all_entries)
    clash = [u for u in units if u in got]
    if clash:
        u = clash[0]
        raise ImportRefusedError(_(
            "unit {unit}: its draws are imported into this ledger from another bureau's ledger "
            "(entry #{seq}, ledger {ledger}…); this ledger does not draw it - commit only this "
            "bureau's units (--units)").format(unit=u, seq=got[u][1], ledger=got[u][0][:16]))


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_draws` did.

    Attributes
    ----------
    published : PublishedLedger
        The foreign chain as checked.
    imported : list of Entry
        The import entries appended (empty: nothing new).
    present : list of int
        Foreign entries (seq) whose draws were imported before.
    """

    published: PublishedLedger
    imported: list[Entry]
    present: list[int]


def import_draws(ledger: str | Path, folder: str | Path, head: str,
                 created_at: str | None = None) -> ImportResult:
    """Import another bureau's published draws up to its published ``head`` into ``ledger``
    (see the module docstring): checked by :func:`read_published`, then one import entry per
    foreign draw not imported before, appended in one transaction with the ledger's lock
    held. :class:`ImportRefusedError` with nothing written otherwise."""
    new: list[Entry] = []
    try:
        published = read_published(folder, head)
        with exclusive(ledger):
            mine = entries(ledger) if Path(ledger).exists() else []
            records, present = plan_import(mine, published, ledger)
            if records:
                put_blob(ledger, chain_bytes(published.chain))
                new = append_all(ledger, records, created_at=created_at)
    except ImportRefusedError as exc:
        raise ImportRefusedError(_("{problems}\nnothing was written to {ledger}").format(
            problems=exc, ledger=ledger)) from None
    return ImportResult(published, new, present)


def plan_import(mine: Sequence[Entry], published: PublishedLedger, ledger: str | Path
                ) -> tuple[list[dict], list[int]]:
    """The import records to append (and the foreign entries already imported), or
    :class:`ImportRefusedError` naming what does not fit this ledger."""
    src = published.ledger_id
    where = published.chain_path
    if mine and mine[0].entry_hash == src:
        raise ImportRefusedError(_("{where}: this is the chain of the ledger {ledger} itself"
                                   ).format(where=where, ledger=ledger))
    before: dict[int, str] = {}
    for e in mine:
        if e.is_import and e.record["source"]["ledger"] == src:
            before[int(e.record["entry"]["seq"])] = e.record["entry"]["entry_hash"]
            problem = _diverges(e, published, ledger)
            if problem:
                raise ImportRefusedError(problem)
    own = own_units(mine)
    other = {u: v for u, v in imported_units(mine).items() if v[0] != src}
    chain_sha = hashlib.sha256(chain_bytes(published.chain)).hexdigest()
    records, present, problems = [], [], []
    for d in published.draws():
        if d.seq in before:
            present.append(d.seq)
            continue
        for u in d.units:
            if u in own:
                problems.append(_("{where}: entry #{seq} ({quarter}) draws unit {unit}, which "
                                  "this ledger draws itself (entry #{own}): a bureau imports "
                                  "only other bureaus' units").format(
                                      where=where, seq=d.seq, quarter=d.quarter, unit=u,
                                      own=own[u]))
            elif u in other:
                problems.append(_("{where}: entry #{seq} ({quarter}) draws unit {unit}, whose "
                                  "draws this ledger imports from another ledger ({ledger}…, "
                                  "entry #{entry})").format(
                                      where=where, seq=d.seq, quarter=d.quarter, unit=u,
                                      ledger=other[u][0][:16], entry=other[u][1]))
        records.append({
            "format": IMPORT_FORMAT, "quarter": d.quarter, "draw_key": IMPORT + d.draw_key,
            "units": list(d.units),
            "source": {"ledger": src, "head": published.head, "chain_sha256": chain_sha,
                       "issuer": published.issuer(d)},
            "entry": chain_fields(d), "record": d.record})
    if problems:
        raise ImportRefusedError("\n".join(problems))
    return records, present


def _diverges(e: Entry, published: PublishedLedger, ledger: str | Path) -> str | None:
    """Whether an earlier import of the same ledger disagrees with the published chain."""
    m, h = parse_head(e.record["source"]["head"])
    n = len(published.chain)
    if m <= n:
        if published.chain[m - 1]["entry_hash"] != h:
            return _("{path}: entry #{m} has hash {value}, but {ledger} imported that ledger at "
                     "head {m}:{hash} (entry #{seq}): the other ledger was rewritten").format(
                         path=published.chain_path, m=m,
                         value=published.chain[m - 1]["entry_hash"], ledger=ledger, hash=h,
                         seq=e.seq)
        return None
    blob = get_blob(ledger, e.record["source"]["chain_sha256"])
    old = json.loads(blob) if blob else []
    if len(old) < n or old[n - 1]["entry_hash"] != published.chain[-1]["entry_hash"]:
        return _("--head {head}: not a head of the chain {ledger} imported at {m}:{hash} "
                 "(entry #{seq}): the other ledger was rewritten").format(
                     head=published.head, ledger=ledger, m=m, hash=h, seq=e.seq)
    return None


# --------------------------------------------------------------------------------------
# What a draw and its commitment record of the imports; verification
# --------------------------------------------------------------------------------------
def foreign_heads(history: Sequence[Mapping[str, Any]]) -> dict[str, dict]:
    """The foreign ledgers a draw's history depends on -> ``{head, issuer}`` (the longest head
    their imported records were imported at)."""
    out: dict[str, dict] = {}
    for r in history:
        src = r.get("source")
        if not src:
            continue
        n = int(str(src["head"]).split(":")[0])
        if src["ledger"] not in out or n > int(out[src["ledger"]]["head"].split(":")[0]):
            out[src["ledger"]] = {"head": src["head"], "issuer": src.get("issuer", "")}
    return dict(sorted(out.items()))


def check_commitment_heads(entry: Entry, all_entries: list[Entry]) -> str | None:
    """A commitment names the foreign heads of the history it fixes (None) or the problem."""
    rec = entry.record
    key = entry.draw_key.split(":", 1)[1]
    history = history_before(all_entries, entry.seq, entry.quarter, key, entry.units)
    want = foreign_heads(history)
    have = (rec.get("inputs") or {}).get("foreign_heads") or {}
    if want != have:
        return _("the commitment names the foreign heads {have}, the imported draws it depends "
                 "on were imported at {want}").format(have=json.dumps(have, ensure_ascii=False),
                                                      want=json.dumps(want, ensure_ascii=False))
    return None


def verify_import(entry: Entry, ledger_path: str | Path | None,
                  bad: Callable[[str, str], list]) -> list:
    """Re-check an import entry from the ledger alone: its record's fields, the foreign
    record's digest and entry hash, the kept foreign chain up to the head, the stdlib replay
    of the foreign draw. ``bad(field, message)`` records a finding (returns the findings)."""
    rec = entry.record
    if rec.get("format") != IMPORT_FORMAT:
        return bad("format", _("an import entry holds format {format}").format(
            format=repr(rec.get("format"))))
    fe, src, foreign = rec.get("entry") or {}, rec.get("source") or {}, rec.get("record") or {}
    for name, want in (("quarter", fe.get("quarter")), ("units", fe.get("units")),
                       ("draw_key", IMPORT + str(fe.get("draw_key")))):
        have = {"quarter": entry.quarter, "units": ",".join(entry.units),
                "draw_key": entry.draw_key}[name]
        if have != want:
            return bad(name, _("the entry says {have}, the imported entry {want}").format(
                have=repr(have), want=repr(want)))
    sha = hashlib.sha256(record_bytes(foreign)).hexdigest()
    if sha != fe.get("record_sha256"):
        return bad("record", _("the imported record hashes to {sha}, its ledger lists {listed} "
                               "(record edited)").format(sha=sha, listed=fe.get("record_sha256")))
    blob = get_blob(ledger_path, src.get("chain_sha256", "")) if ledger_path else None
    if blob is None:
        return bad("source.chain_sha256",
                   _("the imported chain is not kept in the ledger's blobs"))
    chain = json.loads(blob)
    problems = check_chain(chain, "source.chain_sha256")
    if problems:
        return bad("source.chain_sha256", problems[0])
    kept_head = head_of([_entry_from(c, "") for c in chain])
    if kept_head != src.get("head"):
        return bad("source.head", _("the kept chain ends at {kept}, not at the head {head}"
                                    ).format(kept=kept_head, head=src.get("head")))
    seq = int(fe.get("seq", 0))
    if not 1 <= seq <= len(chain) or chain[seq - 1] != {k: fe.get(k) for k in CHAIN_FIELDS}:
        return bad("entry", _("entry #{seq} is not the kept chain's entry #{seq}").format(
            seq=seq))
    if src.get("ledger") != chain[0]["entry_hash"]:
        return bad("source.ledger", _("not the hash of the kept chain's first entry"))
    reason = replay_public(foreign)
    if reason:
        return bad("record", _("the imported draw does not replay: {reason}").format(
            reason=reason))
    return []
