"""The planner page's notebook parameters and its first-screen cache, with no heavy import
(standard library only): a fresh page shows the first screen from here in a fraction of a
second while :mod:`~dsr_analysis.planner.app` is imported and its widgets are made.

The cache holds, per set of inputs, the first screen as static HTML and the headline. Its key
hashes everything the first screen depends on: the plan file, the register's files (or the
embedded sample's), the planner settings and scenarios, the package's source files (their
sizes and modification times) and the seed. It lives in the workspace
(``$DSR_WORKSPACE/cache``), outside the code checkout; a damaged or stale entry is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import ParameterError
from ..i18n import _
from ..paths import PACKAGE_DIR, PARAMETERS_DIR, POLICIES_DIR, SAMPLE_REGISTERS, workspace_dir

#: Bumped when the cached form changes.
CACHE_VERSION = 1


def check_parameters(policy: str, registers: str, seed: int, save_dir: str) -> Path | None:
    """The planner notebook's parameters checked (Chinese messages): texts, a whole seed >= 0,
    a plan file of ``parameters/policies/``, an existing register folder, and a save folder
    that is not ``parameters/policies/``. Returns the save folder (None: the workspace's)."""
    for name, value in (("policy", policy), ("registers", registers), ("save_dir", save_dir)):
        if not isinstance(value, str):
            raise ParameterError(_("parameter {name}: expected text, got {value!r}").format(
                name=name, value=value))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(_("parameter seed: {value!r} is not a whole number >= 0").format(
            value=seed))
    names = sorted(p.stem for p in POLICIES_DIR.glob("*.yaml"))
    if policy not in names:
        raise ParameterError(_("parameter policy: {folder} has no plan file {policy}.yaml "
                               "(choose from: {names})").format(
            folder=POLICIES_DIR, policy=policy, names=", ".join(names)))
    if registers and not Path(registers).is_dir():
        raise ParameterError(_("parameter registers: {path} is not a folder").format(
            path=registers))
    if not save_dir:
        return None
    target = Path(save_dir).expanduser()
    if target.resolve() == POLICIES_DIR.resolve():
        raise ParameterError(_("parameter save_dir: {folder} holds the plans shipped with the "
                               "software and is not written to; choose another folder").format(
            folder=POLICIES_DIR))
    return target


def _files(root: Path, suffixes: tuple[str, ...] = ()) -> list[tuple[str, int, int]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        for name in sorted(filenames):
            if suffixes and not name.endswith(suffixes):
                continue
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((str(path), st.st_mtime_ns, st.st_size))
    return out


def first_screen_key(policy: str, registers: str, seed: int) -> str:
    """A digest of everything the first screen of ``policy`` on ``registers`` depends on."""
    parts = [CACHE_VERSION, policy, seed,
             _files(Path(registers).resolve() if registers else SAMPLE_REGISTERS),
             _files(PARAMETERS_DIR, (".yaml",)), _files(PACKAGE_DIR, (".py", ".mo", ".yaml"))]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:32]


def cache_path(key: str) -> Path:
    """The cache file of a first screen (in the workspace)."""
    return workspace_dir() / "cache" / f"planner-first-screen-{key}.json"


def read_first_screen(key: str) -> dict | None:
    """The cached first screen (``html``, ``headline``), or None (missing, damaged, foreign)."""
    try:
        data = json.loads(cache_path(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str)
                                             for k in ("html", "headline")):
        return None
    return data


def write_first_screen(key: str, html: str, headline: str) -> Path | None:
    """Cache a first screen (written atomically; a workspace that cannot be written is no
    error, the page only stays slower). Returns the file, or None when it was not written."""
    from ..documents.layout import write_atomically

    text = json.dumps({"html": html, "headline": headline}, ensure_ascii=False)
    try:
        return write_atomically(cache_path(key), lambda tmp: tmp.write_text(text, "utf-8"))
    except OSError:
        return None


__all__ = ["CACHE_VERSION", "cache_path", "check_parameters", "first_screen_key",
           "read_first_screen", "write_first_screen"]
