"""The one message layer: every message a person reads from ``dsr`` goes through :func:`_`.

Messages are written in English in the code (the gettext ``msgid``) and translated by the
catalogue ``dsr_analysis/locale/zh_CN/LC_MESSAGES/dsr.po`` (managed with Babel: ``make
messages`` extracts and updates it; ``make venv`` compiles ``dsr.mo``). Chinese is the
default; English is chosen with ``dsr --lang en`` or an English locale in the environment
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` starting with ``en``).

:func:`_` translates when it is called, in the language chosen then
(:func:`set_language`), so a message built while a command runs is in that command's
language. Without a compiled catalogue the ``.po`` file is read directly (a checkout whose
``make venv`` has not run yet still speaks Chinese).
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
    return lang


def language() -> str:
    """The language messages are written in now."""
    return _language or set_language()


def _from_po(locale: str) -> gettext.NullTranslations:
    """The catalogue read from its ``.po`` file (no compiled ``.mo`` yet)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    import io

    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
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
            mo = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
            po = mo.with_suffix(".po")
            fresh = mo.is_file() and (not po.is_file()
                                      or mo.stat().st_mtime >= po.stat().st_mtime)
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
