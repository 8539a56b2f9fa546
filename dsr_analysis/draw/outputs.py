"""The files of committed draws: staged before the ledger commit, moved into place after it.

A draw writes its files (:func:`dsr_analysis.draw.record.output_files`) into
``{outputs}/draws/.staging/{record digest}/`` with a ``manifest.json`` written last, then
appends its ledger entry, then moves the files into their folder (``os.replace``: each file
is either the old one or the new one, never half-written). A run killed at any moment leaves
either nothing committed (the staging folder is deleted by the next run) or a committed
entry whose files are still staged (the next run - draw, export or verify - moves them into
place). :func:`check_outputs` reports a committed entry whose files are missing or differ;
``dsr export`` rebuilds every file from the ledger.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..errors import FileSystemError
from ..i18n import N_, _
from .ledger import Entry, entries
from .observer import OBSERVER_PATH, observer_files
from .record import SUPERSEDED_FILES, DrawResult, output_files, record_bytes, split_record

STAGING = ".staging"


def output_dir(out_root: str | Path, record: Mapping) -> Path:
    """Folder of a draw's files: ``draws/{quarter}``, then ``targeted-{campaign}`` for a
    targeted draw, then the units joined by ``-`` when not every unit was drawn."""
    out = Path(out_root) / "draws" / record["quarter"]
    inputs = record.get("inputs", {})
    if inputs.get("target"):
        out = out / f"targeted-{inputs.get('campaign') or 'T'}"
    if set(record["units"]) != set(inputs.get("unit_levels", record["units"])):
        out = out / "-".join(record["units"])
    return out


def _fs_error(exc: OSError, path: Path, what: str = N_("the draw's files")) -> FileSystemError:
    return FileSystemError(_("{path}: cannot write {what} ({reason}); nothing was committed"
                             ).format(path=path, what=_(what), reason=exc.strerror or exc))


def stage(result: DrawResult, out_root: str | Path, record_sha: str) -> Path:
    """Write the draw's files into a staging folder; returns it."""
    def write(staging: Path) -> list[str]:
        files = draw_files(result)
        for rel, data in files.items():
            p = staging / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return sorted(files)

    return stage_files(out_root, record_sha, output_dir(out_root, result.record), write)


def stage_files(out_root: str | Path, record_sha: str, target: Path,
                write: Callable[[Path], Sequence[str]], what: str = N_("the draw's files")
                ) -> Path:
    """Stage the files of the ledger entry whose record has SHA-256 ``record_sha``, bound for
    ``target``: ``write(staging)`` writes them under the staging folder and returns their
    names relative to it; the manifest is written last. A failure removes the staging folder
    (an OS error becomes :class:`FileSystemError` naming ``what``). Used by the draw and by
    the commitment's announcement (:func:`dsr_analysis.draw.commit_quarter`)."""
    staging = Path(out_root) / "draws" / STAGING / record_sha
    try:
        if Path(out_root).exists() and not Path(out_root).is_dir():
            raise FileSystemError(_("{path}: the outputs path is not a folder; nothing was "
                                    "committed").format(path=out_root))
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        files = write(staging)
        manifest = {"record_sha256": record_sha, "files": sorted(files),
                    "target": os.path.relpath(target, Path(out_root))}
        tmp = staging / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, staging / "manifest.json")
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _fs_error(exc, staging, what) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def finish(staging: Path, out_root: str | Path) -> dict[str, Path]:
    """Move the staged files into place (idempotent); returns them by relative name."""
    manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
    target = Path(out_root) / manifest["target"]
    out = {}
    try:
        for rel in manifest["files"]:
            src, dst = staging / rel, target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.exists():
                os.replace(src, dst)
            out[rel] = dst
    except OSError as exc:  # committed: the files stay staged for the next command
        raise FileSystemError(_(
            "{path}: {reason} (operating system): the ledger entry is committed and its files "
            "are staged in {staging}; the next dsr draw, dsr export or dsr verify moves them "
            "into place").format(path=exc.filename or target, reason=exc.strerror or exc,
                                 staging=staging)) from None
    remove_superseded(target)
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.parent.rmdir()  # the staging area, when nothing else is staged
    except OSError:
        pass
    return out


def draw_files(result: DrawResult) -> dict[str, bytes]:
    """A draw's files by relative path: :func:`~dsr_analysis.draw.record.output_files` and,
    beside the public record, the observer page ``public/observer.html``
    (:mod:`dsr_analysis.draw.observer`)."""
    return observer_files(output_files(result))


def remove_superseded(folder: Path) -> None:
    """Remove the files an earlier version wrote beside a draw's files and no draw writes
    now (:data:`~dsr_analysis.draw.record.SUPERSEDED_FILES`): after a re-draw they would
    show the superseded draw's teams."""
    for rel in SUPERSEDED_FILES:
        (folder / rel).unlink(missing_ok=True)


def recover(out_root: str | Path, ledger: str | Path) -> list[str]:
    """Complete or discard what interrupted draws left staged; returns what was done.
    Call with the ledger's lock held."""
    base = Path(out_root) / "draws" / STAGING
    if not base.is_dir():
        return []
    committed = {e.record_sha256 for e in entries(ledger)} if Path(ledger).exists() else set()
    done = []
    for staging in sorted(base.iterdir()):
        try:
            manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
        if manifest and manifest.get("record_sha256") in committed:
            finish(staging, out_root)
            done.append(_("files of the committed draw {sha}… moved into {target} (left staged "
                          "by an interrupted run)").format(sha=manifest["record_sha256"][:16],
                                                           target=manifest["target"]))
        else:
            shutil.rmtree(staging, ignore_errors=True)
            done.append(_("staged files of an uncommitted draw removed ({sha}…)").format(
                sha=staging.name[:16]))
    try:
        base.rmdir()  # the staging area, once empty
    except OSError:
        pass
    return done


def latest_per_folder(all_entries: list[Entry], out_root: str | Path) -> dict[Path, Entry]:
    """Folder -> the latest draw entry writing into it."""
    out: dict[Path, Entry] = {}
    for e in all_entries:
        if e.is_draw:
            out[output_dir(out_root, e.record)] = e
    return out


def check_outputs(ledger: str | Path, out_root: str | Path) -> list[str]:
    """Problems with the files of the ledger's latest draw per folder (missing, different
    from the ledger); the task lists are compared by content, the records and the observer
    page byte for byte."""
    from .record import RECORD_FORMAT

    problems = []
    for folder, e in latest_per_folder(entries(ledger), out_root).items():
        rec = e.record
        if rec.get("format") != RECORD_FORMAT:
            continue  # earlier formats: files not checked
        expected = expected_files(rec)
        for rel, data in expected.items():
            p = folder / rel
            if not p.is_file():
                problems.append(_("entry #{seq} ({quarter}): file {path} is missing (dsr "
                                  "export rebuilds it)").format(seq=e.seq, quarter=e.quarter,
                                                                path=p))
            elif (rel.endswith((".json", ".csv")) or rel == OBSERVER_PATH) \
                    and p.read_bytes() != data:  # the observer page: its script too
                problems.append(_("entry #{seq} ({quarter}): file {path} differs from the ledger "
                                  "(dsr export rebuilds it)").format(seq=e.seq, quarter=e.quarter,
                                                                     path=p))
    return problems


def expected_files(record: Mapping) -> dict[str, bytes]:
    from .record import RECORD_FORMAT

    if record.get("format") != RECORD_FORMAT:
        return {"record.json": record_bytes(record)}
    public, internal = split_record(record)
    result = DrawResult(record=dict(record))
    files = draw_files(result)
    assert files["public/record.json"] == record_bytes(public)
    return files


def export(ledger: str | Path, out_root: str | Path, quarter: str | None = None) -> list[Path]:
    """Rebuild the files of the ledger's latest draw per folder (atomically per file;
    ``quarter``: only that quarter's)."""
    written = []
    for folder, e in latest_per_folder(entries(ledger), out_root).items():
        if quarter is not None and e.quarter != quarter:
            continue
        rec = e.record
        result = DrawResult(record=rec)
        for rel, data in draw_files(result).items():
            p = folder / rel
            tmp = p.with_name(p.name + ".tmp")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                os.replace(tmp, p)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise FileSystemError(_("{path}: {reason} (operating system): cannot rebuild "
                                        "the file; the earlier one is unchanged").format(
                                            path=p, reason=exc.strerror or exc)) from None
            written.append(p)
        remove_superseded(folder)
    return written
