"""Twilio's opt-out keywords: default handling on a plain number, or a Messaging Service's
Advanced Opt-Out, and the replies Twilio sends to them itself (docs/providers.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Keyword(StrEnum):
    """What an opt-out keyword does; the value is the webhook's OptOutType, lower-cased."""

    STOP = "stop"
    START = "start"
    HELP = "help"


# Twilio's default keywords; only a whole message matches, in any case.
DEFAULT_WORDS = {
    Keyword.STOP: {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"},
    Keyword.START: {"START", "YES", "UNSTOP"},
    Keyword.HELP: {"HELP", "INFO"},
}

# What Twilio answers on a long code with default opt-out handling (published by its users;
# the help article names the keywords, not the texts).
DEFAULT_REPLIES = {
    Keyword.STOP: (
        "You have successfully been unsubscribed. You will not receive any more messages "
        "from this number. Reply START to resubscribe."
    ),
    Keyword.START: (
        "You have successfully been re-subscribed to messages from this number. Reply HELP "
        "for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
    ),
    Keyword.HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}


def keyword_of(body: str) -> Keyword | None:
    """The default keyword a whole message is (surrounding spaces aside), or None."""
    word = body.strip().upper()
    for keyword, words in DEFAULT_WORDS.items():
        if word in words:
            return keyword
    return None


@dataclass(frozen=True)
class MessagingService:
    """The knob for a Messaging Service holding the line's number (and maybe more senders).

    With `advanced_opt_out`, Twilio answers the keywords with `replies` (what the operator
    configured) and tells the webhook which one it was (OptOutType); without it, the
    service's numbers keep default handling. An opt-out covers every sender of the service.
    """

    sid: str = "MG" + "0" * 32
    advanced_opt_out: bool = True
    replies: dict[Keyword, str] = field(default_factory=lambda: dict(DEFAULT_REPLIES))
    senders: tuple[str, ...] = ()  # the pool besides the line's own number
    validity_period: int | None = None  # seconds; None is Twilio's default (36,000)
