"""Files that appear together or not at all: staged in a folder of their own, then moved into
place as a set.

A writer puts a set of files (a report's notebook, HTML, DOCX/XLSX and PDF) into its staging
folder ``{target}/.staging/{run}/{name}/``; :func:`publish` writes the manifest (the files'
names) last, then renames every file into ``target`` (``os.replace``: each file is the old one
or the new one, never half-written). A process killed at any moment leaves either an
incomplete staging folder (no manifest: :func:`recover` deletes it) or a complete one whose
move :func:`recover` finishes, so a set never stays mixed. Every temporary file lives under
``.staging/``, never beside the files a reader opens. The caller holds a lock on ``target``
while it stages, publishes or recovers (:func:`dsr_analysis.draw.ledger.exclusive`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .i18n import _

#: Folder of ``target`` holding the staging folders (and every temporary file).
STAGING = ".staging"
#: Written last into a staging folder: the set is complete and may be moved.
MANIFEST = "manifest.json"


def discard(path: Path) -> None:
    """Delete a staging folder (or a temporary file) and everything in it."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def publish(staging: Path, target: Path, failed: Path | None = None) -> list[Path]:
    """Move the complete set in ``staging`` into ``target``: the manifest first (written to a
    temporary name and renamed), then every file (names starting with ``.`` are temporaries
    and stay behind); returns the placed paths. ``failed``: a folder of earlier failures'
    files, whose namesakes go once the set is placed."""
    names = sorted(p.name for p in staging.iterdir()
                   if p.is_file() and p.name != MANIFEST and not p.name.startswith("."))
    tmp = staging / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"files": names}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, staging / MANIFEST)
    return finish(staging, target, failed)


def finish(staging: Path, target: Path, failed: Path | None = None) -> list[Path]:
    """Move the files the manifest of ``staging`` names into ``target`` (idempotent: a file
    already moved is skipped), then delete ``staging``."""
    names = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))["files"]
    placed = []
    for name in names:
        src, dst = staging / name, target / name
        if src.exists():
            os.replace(src, dst)
        placed.append(dst)
        if failed is not None:
            (failed / name).unlink(missing_ok=True)
    if failed is not None:
        try:
            failed.rmdir()
        except OSError:
            pass  # absent, or other failures kept
    discard(staging)
    return placed


def clean_run(run_dir: Path) -> None:
    """Remove a run's staging folder when it ends, except a set whose files could not all be
    moved (its manifest is there: the next :func:`recover` finishes the move)."""
    if run_dir.is_dir():
        for item in run_dir.iterdir():
            if item.is_file() or not (item / MANIFEST).is_file():
                discard(item)
    for folder in (run_dir, run_dir.parent):
        try:
            folder.rmdir()
        except OSError:
            pass  # absent, or a set left to finish


def recover(target: Path, failed: Path | None = None) -> list[str]:
    """What interrupted runs left in ``target/.staging/``: a set staged completely (manifest
    written) is moved into place, everything else deleted; returns what was done."""
    base = Path(target) / STAGING
    if not base.is_dir():
        return []
    done = []
    for run in sorted(base.iterdir()):
        for item in sorted(run.iterdir()) if run.is_dir() else []:
            try:
                json.loads((item / MANIFEST).read_text(encoding="utf-8"))
                complete = True
            except (OSError, ValueError):
                complete = False
            if complete:
                finish(item, Path(target), failed)
                done.append(_("{name}: moved into {target} (complete, left staged by an "
                              "interrupted run)").format(name=item.name, target=target))
            else:
                done.append(_("{name}: incomplete files of an interrupted run removed").format(
                    name=item.name))
        discard(run)
    try:
        base.rmdir()
    except OSError:
        pass
    return done
