"""The message catalogue of ``dsr`` (gettext domain ``dsr``, Chinese ``zh_CN``), with Babel.

    python scripts/messages.py extract   # msgids of dsr_analysis/ into dsr.po (new ones
                                         # empty, vanished ones dropped), parts merged
    python scripts/messages.py merge     # translations in locale/zh_CN/parts/*.po into dsr.po,
                                         # the parts removed
    python scripts/messages.py compile   # dsr.mo from dsr.po (and any part not merged yet)
    python scripts/messages.py check     # exit 1 listing every msgid without a translation

``make messages`` runs extract; ``make venv`` runs compile. The ``.mo`` is a build product
(not committed); without it the runtime reads the ``.po`` files (dsr_analysis.i18n).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsr_analysis import i18n  # noqa: E402

LOCALE = "zh_CN"
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
HEADER = "Messages of dsr, the double-random, one-public supervision workbench"


def extracted() -> Catalog:
    """Every message of the package (the ``.pot``)."""
    catalog = Catalog(domain=i18n.DOMAIN, project="dsr_analysis", charset="utf-8")
    package = ROOT / "dsr_analysis"
    for filename, lineno, message, comments, context in extract_from_dir(
            package, method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        path = f"dsr_analysis/{filename}".replace("\\", "/")
        catalog.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path, mo: bool = False) -> None:
    import io

    buffer = io.BytesIO()
    if mo:
        write_mo(buffer, catalog)
    else:
        write_po(buffer, catalog, width=100, sort_output=False, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(buffer.getvalue())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _prepared(catalog: Catalog) -> Catalog:
    catalog.header_comment = f"# {HEADER}.\n# Chinese (zh_CN) translations.\n#"
    catalog.project = "dsr_analysis"
    catalog.language_team = "zh_CN"
    catalog.fuzzy = False
    return catalog


def extract() -> int:
    current = i18n.read_catalogue(LOCALE)
    template = extracted()
    current.update(template, no_fuzzy_matching=True, update_header_comment=False)
    current.obsolete.clear()
    _write(_prepared(current), i18n.catalogue_path(LOCALE))
    missing = untranslated(current)
    print(f"{i18n.catalogue_path(LOCALE)}: {len(current)} messages, "
          f"{len(missing)} without a translation")
    return 0


def merge() -> int:
    parts = i18n.part_paths(LOCALE)
    catalog = i18n.read_catalogue(LOCALE)
    _write(_prepared(catalog), i18n.catalogue_path(LOCALE))
    for part in parts:
        part.unlink()
        print(f"merged and removed {part}")
    parts_dir = i18n.LOCALE_DIR / LOCALE / "parts"
    if parts_dir.is_dir() and not any(parts_dir.iterdir()):
        parts_dir.rmdir()
    return 0


def compile_mo() -> int:
    catalog = i18n.read_catalogue(LOCALE)
    _write(catalog, i18n.catalogue_path(LOCALE, ".mo"), mo=True)
    return 0


def untranslated(catalog: Catalog) -> list[str]:
    out = []
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(strings):
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out


def check() -> int:
    catalog = i18n.read_catalogue(LOCALE)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    missing = untranslated(catalog)
    missing += [m.id if isinstance(m.id, str) else m.id[0] for m in extracted()
                if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in known]
    for msgid in missing:
        print(msgid)
    print(f"{len(missing)} message(s) without a translation", file=sys.stderr)
    return 1 if missing else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["extract", "merge", "compile", "check"])
    parser.add_argument("--locale-dir", type=Path, default=None,
                        help="catalogue folder (default: dsr_analysis/locale)")
    args = parser.parse_args(argv)
    action = args.action
    if args.locale_dir is not None:
        i18n.LOCALE_DIR = args.locale_dir.resolve()
    return {"extract": extract, "merge": merge, "compile": compile_mo, "check": check}[action]()


if __name__ == "__main__":
    sys.exit(main())
