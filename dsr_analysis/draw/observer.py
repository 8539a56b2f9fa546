"""The observer page (``public/observer.html``): a draw checked in any browser, from disk.

Every draw's public folder gets ``observer.html`` beside ``record.json``: one self-contained
file (inline script and style, system fonts, a Content-Security-Policy that forbids every
network request) that carries the published record's exact bytes (base64) and, with the
browser's own WebCrypto SHA-256, recomputes the seed from the canonical seed material and the
input digests, every ticket, uniform and Pareto key, the exclusions and inclusion
probabilities of every stratum and the drawn objects and task ids, following the
specification in ``docs/reference/draws.md`` (written from that text, as
``scripts/replay_draw.py`` is). It shows per stratum each firm's inclusion probability and
whether it was drawn, says in Chinese whether the published draw matches (and lists where
not), and checks the record's SHA-256 against a ledger digest typed in. Another
``record.json`` dropped onto the page is checked the same way.

The page holds the public record only: nothing confidential (no inspector, no team).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from ..labels import (CATEGORY_ZH, DRAW_MODE_ZH, LEVEL_ZH, ORIGIN_ZH, QUOTA_METHOD_ZH,
                      SUBSET_ZH)

#: The page's file name in a draw's public folder.
OBSERVER_FILE = "observer.html"
#: Relative path of the page among a draw's files (:func:`dsr_analysis.draw.outputs.draw_files`).
OBSERVER_PATH = "public/" + OBSERVER_FILE


def _template() -> str:
    return resources.files(__package__).joinpath("observer.html").read_text(encoding="utf-8")


def _labels_json() -> str:
    labels = {"category": CATEGORY_ZH, "subset": SUBSET_ZH, "method": QUOTA_METHOD_ZH,
              "level": LEVEL_ZH, "origin": ORIGIN_ZH, "draw_mode": DRAW_MODE_ZH}
    text = json.dumps(labels, ensure_ascii=False, sort_keys=True)
    # inside <script>: no "</script>" or "<!--" can arise from a value
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def observer_html(record_bytes: bytes) -> bytes:
    """The observer page carrying ``record_bytes`` (the public ``record.json`` byte for byte:
    its SHA-256 on the page is the one the ledger lists), UTF-8."""
    page = _template()
    page = page.replace("@@LABELS@@", _labels_json(), 1)
    page = page.replace("@@RECORD@@", base64.b64encode(record_bytes).decode("ascii"), 1)
    return page.encode("utf-8")


def observer_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """``files`` (a draw's files by relative path) with the observer page added beside the
    public record; files of earlier formats (no ``public/record.json``) unchanged."""
    out = dict(files)
    record = files.get("public/record.json")
    if record is not None:
        out[OBSERVER_PATH] = observer_html(record)
    return out


def public_draw_folders(draws_dir: str | Path) -> list[Path]:
    """The public folders (``…/public`` holding ``record.json``) under ``draws_dir`` (one
    quarter's ``draws/{quarter}``), sorted."""
    base = Path(draws_dir)
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.rglob("public/record.json"))


def draw_links(draws_dir: str | Path) -> list[tuple[str, dict[str, Path]]]:
    """Per public draw folder of a quarter: (its name: the folder relative to ``draws_dir``,
    ``全部单位`` for the quarter's own draw) and its files to link - the latest
    announcement (HTML), the record and the observer page, those that exist."""
    out = []
    base = Path(draws_dir)
    for folder in public_draw_folders(base):
        rel = folder.parent.relative_to(base).as_posix()
        announcements = sorted(folder.glob("announcement-*.html"),
                               key=lambda p: int(p.stem.rsplit("-", 1)[-1])
                               if p.stem.rsplit("-", 1)[-1].isdigit() else 0)
        files = {}
        if announcements:
            files["抽取公告"] = announcements[-1]
        files["抽取记录"] = folder / "record.json"
        if (folder / OBSERVER_FILE).is_file():
            files["核验页"] = folder / OBSERVER_FILE
        out.append((rel if rel != "." else "", files))
    return out


def folder_label_zh(name: str, unit_names: Mapping[str, str]) -> str:
    """Chinese name of a draw folder relative to its quarter (:func:`draw_links`): ``""`` the
    quarter's draw of every unit, ``targeted-{campaign}`` a targeted draw, unit ids joined by
    ``-`` a draw of those units."""
    parts = []
    for part in (p for p in name.split("/") if p):
        if part.startswith("targeted-"):
            parts.append(f"定向抽查（{part[len('targeted-'):]}）")
        else:
            parts.append("、".join(unit_names.get(u, u) for u in part.split("-")))
    return " · ".join(parts) or "本季度抽取（全部单位）"


def draw_links_html(draws_dir: str | Path, base: str | Path,
                    unit_names: Mapping[str, str] | None = None) -> str:
    """The quarter index's section on the draws (``<h2>`` and a list; empty text when the
    quarter has no draw under ``draws_dir``): per draw folder (named by
    :func:`folder_label_zh`) its announcement, record and observer page, linked relative to
    ``base`` (the index's folder); every value escaped."""
    import html
    import os

    links = draw_links(draws_dir)
    if not links:
        return ""
    items = []
    for name, files in links:
        anchors = " · ".join(
            f"<a href='{html.escape(os.path.relpath(p, base).replace(os.sep, '/'))}'>"
            f"{html.escape(label)}</a>" for label, p in files.items())
        title = html.escape(folder_label_zh(name, unit_names or {}))
        items.append(f"<li>{title}：{anchors}</li>")
    return ("<h2>抽取公告与核验</h2>\n<ul>" + "".join(items) + "</ul>\n"
            "<p>核验页在浏览器中按公开的算法重新计算抽取结果并与抽取记录核对，不联网；"
            "用法见用户手册“抽取核验”。</p>\n")
