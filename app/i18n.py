"""The languages the line speaks: one row each, and the current one.

Every word the line says, texts or shows goes through gettext message catalogs
(app/translations/<code>/LC_MESSAGES/messages.po, compiled to .mo at install), read by
Flask-Babel. English is the catalogs' source language. Adding a language is its catalog
and a row in LANGUAGES below; `LANGUAGES` (the setting) chooses which of them a line offers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, g
from flask_babel import Babel, force_locale, refresh

from app.settings import app_context, settings

TRANSLATIONS = Path(__file__).parent / "translations"
SOURCE = "en"  # the language the catalogs' message ids are written in
CHOICE_KEYS = "987"  # the greeting's keys for the other languages, in the order offered


@dataclass(frozen=True)
class Language:
    """One language of the line: its catalog, its name in itself, how Twilio speaks it."""

    code: str  # the catalog's name (and the admin's <html lang>)
    name: str  # its own name, as the admin's menu shows it
    twilio: str  # the language attribute of <Say> and <Gather> (a locale Twilio takes)
    voice: str  # the default voice of its <Say>s (see docs/providers.md)


LANGUAGES: dict[str, Language] = {
    row.code: row
    for row in (
        Language("en", "English", "en-US", "Polly.Joanna-Neural"),
        Language("de", "Deutsch", "de-DE", "Polly.Vicki-Neural"),
    )
}
"""Every language the line knows: each has a catalog (English is the source)."""


def init_app(app: Flask) -> None:
    """Read the catalogs through Flask-Babel; the locale is the one `use` chose."""
    Babel(app, locale_selector=current, default_translation_directories=str(TRANSLATIONS))


def offered() -> list[str]:
    """The codes of the languages this line offers, the default first."""
    return settings.LANGUAGES


def default() -> str:
    """The line's default language."""
    return settings.LANGUAGES[0]


def valid(code: str | None) -> str | None:
    """`code` if the line offers it, else None."""
    return code if code in settings.LANGUAGES else None


def current() -> str:
    """The language being spoken now (the default outside a call, text or admin page; the
    source language outside an app)."""
    context = app_context()
    if context is None:
        return SOURCE
    return context.g.get("language") or default()


def use(code: str | None) -> str:
    """Speak `code` from now on in this request or job (the default if not offered)."""
    g.language = valid(code) or default()
    refresh()
    return g.language


@contextmanager
def speaking(code: str | None) -> Iterator[str]:
    """Speak `code` inside the block (a job writing one subscriber's text, say)."""
    code = valid(code) or default()
    saved = g.get("language")
    g.language = code
    try:
        with force_locale(code):
            yield code
    finally:
        g.language = saved
        refresh()


def row(code: str | None = None) -> Language:
    """The row of `code` (the current language by default)."""
    return LANGUAGES[valid(code) or current()]


def voice(code: str | None = None) -> str:
    """The voice configured for `code` (VOICES), else its row's default."""
    language = row(code)
    return settings.VOICES.get(language.code, language.voice)


def choices(code: str | None = None) -> list[tuple[str, str]]:
    """The greeting's other languages: (key, code) pairs, keys 9, 8, 7 in the order offered."""
    here = valid(code) or current()
    others = [other for other in offered() if other != here]
    return list(zip(CHOICE_KEYS, others, strict=False))


def language_of_number(number: str | None) -> str:
    """The default language of one of the line's numbers (NUMBER_LANGUAGES), else the line's."""
    return valid(settings.NUMBER_LANGUAGES.get(number or "")) or default()
