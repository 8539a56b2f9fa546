"""The one message layer: every message a person reads from ``dsr`` goes through :func:`_`.

Messages are written in English in the code (the gettext ``msgid``) and translated by the
catalogue ``dsr_analysis/locale/zh_CN/LC_MESSAGES/dsr.po`` (managed with Babel: ``make
messages`` extracts and updates it; ``make venv`` compiles ``dsr.mo``). Chinese is the
default; English is chosen with ``dsr --lang en`` or an English locale in the environment
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` starting with ``en``).

:func:`_` translates when it is called, in the language chosen then
(:func:`set_language`), so a message built while a command runs is in that command's
language. Without a compiled catalogue that is newer than its sources, the ``.po`` file
and the translations colleagues keep in ``locale/zh_CN/parts/*.po`` (merged into ``dsr.po``
by ``scripts/messages.py merge``) are read directly with Babel (a checkout whose ``make venv``
has not run yet still speaks Chinese); Babel is imported only then.

argparse's own strings ("usage:", "the following arguments are required: …") are translated
too: :func:`install_argparse` points argparse's module-level ``_`` and ``ngettext`` (looked up
when a message is built) at this layer, and :data:`ARGPARSE_MESSAGES` keeps argparse's msgids
in the catalogue.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "dsr"
LOCALE_DIR = Path(__file__).parent / "locale"
#: The languages a person may choose, and the catalogue each one reads (None: the msgids).
LANGUAGES = {"zh": "zh_CN", "en": None}
DEFAULT_LANGUAGE = "zh"

_language: str | None = None
_catalogues: dict[str, gettext.NullTranslations] = {}


def language_from_env(environ: dict[str, str] | None = None) -> str:
    """``en`` when the first locale variable set names English, else the default."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def set_language(language: str | None = None) -> str:
    """Choose the language of the messages (``zh`` or ``en``; None: from the environment).
    Returns the language chosen."""
    global _language
    lang = language or language_from_env()
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    _language = lang
    install_argparse()
    return lang


def language() -> str:
    """The language messages are written in now."""
    return _language or set_language()


def catalogue_path(locale: str = "zh_CN", suffix: str = ".po") -> Path:
    """The catalogue file of a locale (``dsr.po`` or the compiled ``dsr.mo``)."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def part_paths(locale: str = "zh_CN") -> list[Path]:
    """Translations kept beside the catalogue until they are merged (``parts/*.po``)."""
    return sorted((LOCALE_DIR / locale / "parts").glob("*.po"))


def read_catalogue(locale: str = "zh_CN"):
    """The Babel catalogue of a locale: ``dsr.po`` with the parts' translations over it (a
    part holds its owner's latest translations until it is merged)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    po = catalogue_path(locale)
    if po.is_file():
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale, domain=DOMAIN)
    else:
        catalog = Catalog(locale=locale, domain=DOMAIN)
    for part in part_paths(locale):
        with part.open("rb") as f:
            extra = read_po(f, locale=locale)
        for message in extra:
            if not message.id:
                continue
            mine = catalog.get(message.id, message.context)
            filled = (message.string if isinstance(message.string, str)
                      else any(message.string))
            if not filled or message.fuzzy:
                continue
            if mine is None:
                catalog.add(message.id, message.string, locations=message.locations,
                            context=message.context, flags=message.flags - {"fuzzy"})
            else:
                mine.string = message.string
                mine.flags.discard("fuzzy")
    return catalog


def _from_po(locale: str) -> gettext.NullTranslations:
    """The catalogue read from its ``.po`` files (no fresh compiled ``.mo``)."""
    import io

    from babel.messages.mofile import write_mo

    if not catalogue_path(locale).is_file() and not part_paths(locale):
        return gettext.NullTranslations()
    catalog = read_catalogue(locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translations(lang: str | None = None) -> gettext.NullTranslations:
    """The translations of a language (cached)."""
    lang = lang or language()
    if lang not in _catalogues:
        locale = LANGUAGES[lang]
        if locale is None:
            _catalogues[lang] = gettext.NullTranslations()
        else:
            mo = catalogue_path(locale, ".mo")
            sources = [p for p in (catalogue_path(locale), *part_paths(locale)) if p.is_file()]
            fresh = mo.is_file() and all(mo.stat().st_mtime >= p.stat().st_mtime
                                         for p in sources)
            _catalogues[lang] = (gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale])
                                 if fresh else _from_po(locale))
    return _catalogues[lang]


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n`` in the current language."""
    return translations().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (a table of messages
    translated where it is used)."""
    return message


def install_argparse() -> None:
    """argparse's messages through this layer ("usage:", "options", errors): argparse looks
    its module globals ``_`` and ``ngettext`` up when it builds a message."""
    import argparse

    argparse._ = _
    argparse.ngettext = ngettext


#: argparse's own messages (Python 3.11), kept in the catalogue by extraction.
ARGPARSE_MESSAGES = (
    N_("usage: "), N_("positional arguments"), N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("unrecognized arguments: %s"), N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"), N_("expected one argument"),
    N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("unexpected option string: %s"),
    N_("can't open '%(filename)s': %(error)s"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)
#: argparse's plural messages, kept likewise.
ARGPARSE_PLURALS = (
    ("expected %s argument", "expected %s arguments"),
)


def _argparse_plurals() -> None:  # pragma: no cover - for extraction only
    ngettext("expected %s argument", "expected %s arguments", 1)
