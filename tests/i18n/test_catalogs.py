"""Every word the line says, texts or shows has a translation in every language it knows,
with the same placeholders, and the compiled catalogs say what their .po files say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from app import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "_l": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"\{(\w*)\}|%\((\w+)\)[sd]")
TRANSLATED = [code for code in i18n.LANGUAGES if code != "en"]  # English is the source


def source_messages() -> dict[str | tuple[str, ...], str]:
    """Every message in the code and templates (as `make catalogs` extracts them): id -> where."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(m for m in message if m)
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def catalog(code: str):
    with open(i18n.TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=code)


def placeholders(text: str) -> list[str]:
    return sorted(a or b for a, b in PLACEHOLDER.findall(text))


def test_the_sources_hold_the_prompts_and_texts():
    found = source_messages()
    assert "Sorry, that key does nothing here." in found  # app/prompts.py
    assert any("Fusing Hour starts {when}" in str(key) for key in found)  # app/sms/texts.py
    assert len(found) > 40


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_has_a_translation_in_every_language(code):
    translated = catalog(code)
    missing = []
    for key, where in source_messages().items():
        message = translated.get(key[0] if isinstance(key, tuple) else key)
        strings = () if message is None else message.string
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or message.fuzzy or not all(strings):
            missing.append(f"{where}: {key!r}")
    assert missing == [], f"untranslated in {code} (run `make catalogs`, translate):\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_translation_keeps_every_placeholder(code):
    changed = []
    for message in catalog(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for index, text in enumerate(strings):
            source = ids[min(index, len(ids) - 1)]
            if text and placeholders(text) != placeholders(source):
                changed.append(f"{source!r} -> {text!r}")
    assert changed == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalog_is_the_one_of_its_po_file(code):
    """A stale .mo (the .po changed since `make install`) would speak old words."""
    compiled = Translations.load(str(i18n.TRANSLATIONS), [code])
    assert isinstance(compiled, Translations), "no compiled catalog: run `make install`"
    for message in catalog(code):
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            assert compiled.ngettext(*message.id, 2) == message.string[1]
        else:
            assert compiled.gettext(message.id) == message.string, message.id


def test_every_language_row_has_a_catalog_and_a_choice_phrase():
    for code in TRANSLATED:
        phrase = catalog(code).get("For English, press {key}.").string
        assert "{key}" in phrase and "English" not in phrase
    assert set(i18n.LANGUAGES) >= {"en", "de"}
