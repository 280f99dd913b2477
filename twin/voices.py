"""Twilio's text-to-speech voices and the language each speaks, as <Say> checks them.

Twilio: "Using an invalid combination of voice and language may result in error and <Say>
instruction failure"; an unknown voice is warning 13511. The twin fails such a <Say> (it
is not heard) and records 13511; a <Gather> language that is not a locale (`en`, not
`en-US`) is warning 13512. Only the voices below are known: one not listed is unknown here,
which is never kinder than Twilio (add a row with its source to docs/providers.md).
"""

from __future__ import annotations

import re

# voice -> the languages (locales) it speaks; Twilio's Text-to-Speech voice table.
VOICES: dict[str, frozenset[str]] = {
    "man": frozenset({"en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT"}),
    "woman": frozenset({"en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT"}),
    "Polly.Joanna": frozenset({"en-US"}),
    "Polly.Joanna-Neural": frozenset({"en-US"}),
    "Polly.Matthew-Neural": frozenset({"en-US"}),
    "Polly.Amy-Neural": frozenset({"en-GB"}),
    "Polly.Brian-Neural": frozenset({"en-GB"}),
    "Polly.Vicki": frozenset({"de-DE"}),
    "Polly.Vicki-Neural": frozenset({"de-DE"}),
    "Polly.Daniel-Neural": frozenset({"de-DE"}),
    "Polly.Hans": frozenset({"de-DE"}),
    "Polly.Marlene": frozenset({"de-DE"}),
    "Polly.Lea-Neural": frozenset({"fr-FR"}),
    "Polly.Lucia-Neural": frozenset({"es-ES"}),
}
DEFAULT_VOICE = "man"  # Twilio's default voice, and en-US its default language
DEFAULT_LANGUAGE = "en-US"
LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")
INVALID_VOICE = 13511
INVALID_GATHER_LANGUAGE = 13512


def say_problem(voice: str | None, language: str | None) -> str | None:
    """Why Twilio would not speak a <Say> with this voice and language (None: it would)."""
    voice = voice or DEFAULT_VOICE
    speaks = VOICES.get(voice)
    if speaks is None:
        return f"Say: Invalid voice value {voice!r}"
    if language is not None and language not in speaks:
        return f"Say: voice {voice!r} does not speak language {language!r}"
    return None


def gather_problem(language: str | None) -> str | None:
    """Why Twilio would warn about a <Gather> language (None: it would not)."""
    if language is None or LOCALE.fullmatch(language):
        return None
    return f"Gather: invalid language value {language!r}"
