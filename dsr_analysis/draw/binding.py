"""Outputs bound to the inputs the ledger committed: which register files a report reads.

A report made from a ledger counts objects and inspectors from the registers and tasks from
the ledger's draws; both must describe the same bureau. Every draw record holds
``inputs.registers`` = ``{directory, files: {name: {path, sha256}}}`` (the directory and paths
relative to the project when inside it, absolute otherwise), and its commitment the same
digests. :func:`committed_registers` finds the **reference draw** of a quarter and returns the
register directory to read:

- the reference draw is the latest valid draw (latest entry per unit x quarter x draw key) of
  the quarter; a quarter not drawn yet takes the latest valid draw of its year before it.
  Registers may legitimately change between draws (a firm registered, an inspector retired),
  and each draw was checked against its own commitment, so earlier draws made on other
  versions are not an error: the report describes the register as the quarter's last draw
  found it;
- ``given`` (``--registers``): every committed file must be in that directory with the
  committed SHA-256, else :class:`~dsr_analysis.errors.RegisterError` naming the file, both
  digests and the ledger entry (exit 1);
- not given: the committed directory, if its files still have the committed digests; else
  :class:`~dsr_analysis.errors.RegisterError` saying which directory to pass;
- no draw of the year up to the quarter: the latest commitment of the quarter binds the
  digests (it records no directory, so ``given`` is required); with no commitment either,
  ``given`` is used as it is and nothing else is (the embedded sample is never a default
  with a ledger).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, RegisterError
from ..i18n import _
from ..paths import PROJECT_ROOT
from ..periods import Quarter
from ..registers import register_directory
from .ledger import Entry, entries


@dataclass(frozen=True)
class CommittedRegisters:
    """The register files a quarter's reports are bound to.

    Attributes
    ----------
    directory : Path
        The directory to read (the committed one, or the one given, after the digest check).
    files : dict
        Register name -> ``{name, sha256}``: the committed file name (e.g. ``enterprises.xlsx``)
        and its SHA-256; empty when the ledger holds nothing to bind to.
    entry : Entry or None
        The ledger entry the digests come from (the reference draw, or a commitment).
    """

    directory: Path
    files: dict
    entry: Entry | None

    def describe(self) -> str:
        """The reference as a message names it, e.g. ``ledger entry #2 (draw of 2023Q1,
        units xiongxian, under commitment #1)``."""
        if self.entry is None:
            return _("no ledger entry")
        e = self.entry
        units = ", ".join(e.units)
        if e.is_commitment:
            return _("ledger entry #{seq} (commitment of {quarter}, units {units})").format(
                seq=e.seq, quarter=e.quarter, units=units)
        ref = e.record.get("inputs", {}).get("commitment") or {}
        if ref.get("seq"):
            return _("ledger entry #{seq} (draw of {quarter}, units {units}, under commitment "
                     "#{commitment})").format(seq=e.seq, quarter=e.quarter, units=units,
                                              commitment=ref["seq"])
        return _("ledger entry #{seq} (draw of {quarter}, units {units})").format(
            seq=e.seq, quarter=e.quarter, units=units)


def resolve_project_path(text: str) -> Path:
    """A path as the ledger stores it (:func:`dsr_analysis.draw.record.project_path`): relative
    to the project root when inside it, absolute otherwise."""
    path = Path(text)
    return path if path.is_absolute() else PROJECT_ROOT / path


def valid_draws(all_entries: Sequence[Entry]) -> list[Entry]:
    """The valid draw entries (the latest per unit x quarter x draw key), by ``seq``."""
    latest: dict[tuple[str, str, str], Entry] = {}
    for e in all_entries:
        if e.is_draw:
            for u in e.units:
                latest[(u, e.quarter, e.draw_key)] = e
    return sorted({e.seq: e for e in latest.values()}.values(), key=lambda e: e.seq)


def reference_entry(all_entries: Sequence[Entry], quarter: str | Quarter) -> Entry | None:
    """The entry whose register digests a quarter's reports are bound to: the latest valid
    draw of the quarter, else the latest valid draw of its year before it, else the latest
    commitment of the quarter, else None."""
    q = Quarter.parse(quarter)
    draws = [e for e in valid_draws(all_entries) if _quarter(e).year == q.year]
    for candidates in ([e for e in draws if _quarter(e) == q],
                       [e for e in draws if _quarter(e) < q],
                       [e for e in all_entries if e.is_commitment and _quarter(e) == q]):
        if candidates:
            return max(candidates, key=lambda e: e.seq)
    return None


def _quarter(e: Entry) -> Quarter:
    return Quarter.parse(e.quarter)


def committed_files(entry: Entry) -> tuple[str, dict[str, dict[str, str]]]:
    """(committed directory or "", {register name: {name, sha256}}) of a draw or commitment."""
    inputs = entry.record.get("inputs", {})
    regs = inputs.get("registers") or {}
    if entry.is_commitment:  # {name: sha256}, no file names
        return "", {k: {"name": "", "sha256": v} for k, v in sorted(regs.items())}
    files = {k: {"name": Path(v.get("path", "")).name, "sha256": v.get("sha256", "")}
             for k, v in sorted((regs.get("files") or {}).items())}
    directory = regs.get("directory") or ""
    if not directory and files:
        first = next(iter((regs.get("files") or {}).values()))
        directory = str(Path(first.get("path", "")).parent)
    return directory, files


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_mismatches(directory: Path, files: Mapping[str, Mapping[str, str]], what: str
                    ) -> list[Problem]:
    """Every committed file of ``files`` that is missing from ``directory`` or has another
    SHA-256 (one :class:`Problem` each, naming both digests and ``what`` was committed).
    A commitment's files (no name) are looked for as ``{register}.*``."""
    problems = []
    for register, info in files.items():
        name = info["name"]
        if name:
            path = directory / name
            found = [path] if path.is_file() else []
        else:
            found = sorted(p for p in directory.glob(f"{register}.*") if p.is_file())
        if not found:
            shown = directory / (name or f"{register}.*")
            problems.append(Problem(str(shown), 0, "-",
                                    _("register file not found; {what} was made on a file "
                                      "with SHA-256 {sha}").format(what=what,
                                                                   sha=info["sha256"])))
            continue
        digests = {p: _sha256(p) for p in found}
        if info["sha256"] not in digests.values():
            path, now = next(iter(digests.items()))
            problems.append(Problem(str(path), 0, "-",
                                    _("not the register file {what} was made on: SHA-256 "
                                      "{now}, committed {sha}").format(what=what, now=now,
                                                                       sha=info["sha256"])))
    return problems


def committed_registers(ledger: str | Path, quarter: str | Quarter,
                        given: str | Path | None = None) -> CommittedRegisters:
    """The register directory a quarter's reports must read (see the module docstring);
    :class:`RegisterError` (every mismatching file, both digests, the ledger entry) when the
    given or committed files are not the ones the ledger committed. ``given`` that does not
    exist is bad usage (:class:`DsrError`), a file there an OS problem
    (:class:`FileSystemError`), as for ``--registers`` everywhere."""
    all_entries = entries(ledger)
    entry = reference_entry(all_entries, quarter)
    given_dir = Path(given) if given else None
    if given_dir is not None:
        register_directory(given_dir)
    if entry is None:
        if given_dir is None:
            raise RegisterError([Problem(
                str(ledger), 0, "-", _(
                    "the ledger holds no draw or commitment of {quarter} to take the registers "
                    "from: pass the register directory (--registers); the embedded sample is "
                    "used only without a ledger").format(quarter=Quarter.parse(quarter).label))])
        return CommittedRegisters(given_dir, {}, None)
    directory, files = committed_files(entry)
    ref = CommittedRegisters(given_dir or resolve_project_path(directory), files, entry)
    what = ref.describe()
    if given_dir is not None:
        problems = file_mismatches(given_dir, files, what)
        if problems:
            hint = (_("the committed register directory is {path}").format(
                path=resolve_project_path(directory))
                if directory else _("pass the register directory it was made on"))
            raise RegisterError([*problems, Problem(
                str(given_dir), 0, "-", _("these are not the registers of {what}: {hint}").format(
                    what=what, hint=hint))])
        return ref
    if not directory:
        raise RegisterError([Problem(
            str(ledger), 0, "-", _("{what} records the registers' digests but not their "
                                   "directory: pass the register directory it was made on "
                                   "(--registers)").format(what=what))])
    problems = file_mismatches(ref.directory, files, what)
    if problems:
        raise RegisterError([*problems, Problem(
            str(ref.directory), 0, "-", _("the committed register directory no longer holds "
                                          "the files {what} was made on: pass the directory "
                                          "that holds them (--registers DIR), or restore them "
                                          "here").format(what=what))])
    return ref


def check_sources(bound: CommittedRegisters, sources: Mapping[str, str]) -> None:
    """After reading the bound directory: every register read is a committed file (none
    read from another file of the same register, e.g. ``.csv`` beside a committed
    ``.xlsx``), and none committed is left out."""
    if not bound.files:
        return
    problems = []
    what = bound.describe()
    for register in sorted(set(bound.files) | set(sources)):
        info = bound.files.get(register)
        path = sources.get(register)
        if info is None:
            problems.append(Problem(str(path), 0, "-", _("register '{register}' was not part "
                                                         "of the inputs of {what}").format(
                                                             register=register, what=what)))
        elif path is None:
            problems.append(Problem(str(bound.directory / (info["name"] or register)), 0, "-",
                                    _("register '{register}' of {what} was not read").format(
                                        register=register, what=what)))
        elif _sha256(Path(path)) != info["sha256"]:
            problems.append(Problem(str(path), 0, "-", _(
                "the register read has SHA-256 {now}, {what} was made on SHA-256 {sha}").format(
                    now=_sha256(Path(path)), what=what, sha=info["sha256"])))
    if problems:
        raise RegisterError(problems)


def register_line(directory: str | Path | None) -> str:
    """Which register a notebook runs on (Chinese, printed): the embedded sample (a
    demonstration) or the directory given."""
    if not directory:
        return "名录库：样本数据（演示）"
    return f"名录库：{Path(directory).resolve()}"
