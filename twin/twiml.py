"""Parse and check TwiML documents into a small verb tree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


class TwimlError(Exception):
    """Invalid TwiML: Twilio reports these as error 12100 and ends the call."""

    code = 12100


@dataclass
class Verb:
    """One TwiML element: name, attributes, text and nested elements."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: list[Verb] = field(default_factory=list)

    def get(self, attr: str, default: str | None = None) -> str | None:
        """Return an attribute value or a default."""
        return self.attrs.get(attr, default)


# element -> allowed child elements; verbs the twin does not implement are rejected
VOICE_CHILDREN: dict[str, set[str]] = {
    "Response": {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Dial"},
    "Gather": {"Say", "Play", "Pause"},
    "Dial": {"Conference", "Number"},
    "Say": set(),
    "Play": set(),
    "Pause": set(),
    "Redirect": set(),
    "Hangup": set(),
    "Reject": set(),
    "Conference": set(),
    "Number": set(),
}
MESSAGING_CHILDREN: dict[str, set[str]] = {
    "Response": {"Message", "Redirect"},
    "Message": {"Body", "Media"},
    "Body": set(),
    "Media": set(),
    "Redirect": set(),
}
TEXT_REQUIRED = {"Redirect", "Conference", "Number"}
SSML_TAGS = {
    "break",
    "emphasis",
    "lang",
    "p",
    "phoneme",
    "prosody",
    "s",
    "say-as",
    "sub",
    "w",
    "amazon:effect",
    "amazon:domain",
}
INT_ATTRS = {"length", "numDigits", "timeout", "timeLimit", "maxParticipants", "loop"}


def parse_voice(text: str, wait: bool = False) -> list[Verb]:
    """Parse a VoiceResponse document into its top-level verbs.

    A waitUrl document (`wait`) may end with a blank <Redirect>: Twilio resolves it to the
    document's own URL, which loops it.
    """
    return _parse(text, VOICE_CHILDREN, wait).children


def parse_messaging(text: str) -> list[Verb]:
    """Parse a MessagingResponse document into its top-level verbs."""
    return _parse(text, MESSAGING_CHILDREN).children


def _parse(text: str, grammar: dict[str, set[str]], wait: bool = False) -> Verb:
    if not text or not text.strip():
        raise TwimlError("Document parse failure: empty response body")
    try:
        root = ET.fromstring(text.strip().encode("utf-8"))
    except ET.ParseError as exc:
        raise TwimlError(f"Document parse failure: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"Document parse failure: root element is <{root.tag}>, not <Response>")
    return _convert(root, grammar, wait)


def _convert(element: ET.Element, grammar: dict[str, set[str]], wait: bool = False) -> Verb:
    name = element.tag
    allowed = grammar[name]
    text = "".join(element.itertext()) if name == "Say" else (element.text or "")
    verb = Verb(name=name, attrs=dict(element.attrib), text=" ".join(text.split()))
    for child in element:
        if name == "Say" and child.tag in SSML_TAGS:
            continue
        if child.tag not in allowed:
            where = "unknown or unsupported verb" if child.tag not in grammar else "not allowed"
            raise TwimlError(f"Document parse failure: <{child.tag}> inside <{name}> is {where}")
        verb.children.append(_convert(child, grammar, wait))
    if name in TEXT_REQUIRED and not verb.text and not (wait and name == "Redirect"):
        raise TwimlError(f"Document parse failure: <{name}> needs a value")
    if name == "Dial" and len(verb.children) != 1:
        raise TwimlError(
            "Document parse failure: <Dial> must contain exactly one <Conference> or <Number>"
        )
    if name == "Play" and not verb.text and not verb.get("digits"):
        raise TwimlError("Document parse failure: <Play> needs a URL or digits")
    for attr in INT_ATTRS & set(verb.attrs):
        try:
            int(verb.attrs[attr])
        except ValueError as exc:
            raise TwimlError(f"Document parse failure: {name}@{attr} is not a number") from exc
    return verb
