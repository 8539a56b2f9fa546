"""The year's index page (``OUTPUTS/index.html``): every document of the year's loop in one
place - the annual plan and its amendments, the item list, the draws and each quarter's
reports, the follow-up register, the credit exports and next year's registers.

The page is a list of sections, each a list of links; every value reaching the page is
escaped, and only files that exist are linked (a missing file is listed as not yet made, never
as a dead link).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .layout import write_atomically


@dataclass(frozen=True)
class Link:
    """One line of a section: a label and the files it offers (label -> path)."""

    label: str
    files: tuple[tuple[str, Path], ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    links: tuple[Link, ...] = field(default_factory=tuple)
    note: str = ""


_STYLE = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei",
       sans-serif; margin: 2em auto; max-width: 64em; color: #222; line-height: 1.6; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
ul { padding-left: 1.4em; }
li + li { margin-top: .3em; }
.note { color: #555; }
.na { color: #999; }
"""


def _href(target: Path, base: Path) -> str:
    return os.path.relpath(target, base).replace(os.sep, "/")


def _line(link: Link, base: Path) -> str:
    present = [(label, p) for label, p in link.files if Path(p).is_file()]
    if not present:
        return (f"<li>{html.escape(link.label)} <span class='na'>（尚未生成）</span></li>")
    anchors = " · ".join(f"<a href='{html.escape(_href(Path(p), base))}'>{html.escape(label)}</a>"
                         for label, p in present)
    note = f" <span class='note'>{html.escape(link.note)}</span>" if link.note else ""
    return f"<li>{html.escape(link.label)}：{anchors}{note}</li>"


def write_year_index(out_dir: str | Path, title: str, sections: Sequence[Section],
                     heading: str = "") -> Path:
    """Write ``out_dir/index.html`` listing ``sections`` (atomically). Returns its path."""
    base = Path(out_dir)
    parts = []
    for sec in sections:
        items = "".join(_line(link, base) for link in sec.links)
        note = f"<p class='note'>{html.escape(sec.note)}</p>" if sec.note else ""
        parts.append(f"<h2>{html.escape(sec.title)}</h2>{note}<ul>{items}</ul>")
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
{f"<p class='note'>{html.escape(heading)}</p>" if heading else ""}
{''.join(parts)}
</body></html>
"""
    return write_atomically(base / "index.html",
                            lambda tmp: tmp.write_text(page, encoding="utf-8"))
