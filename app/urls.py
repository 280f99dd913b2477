"""Absolute URLs for TwiML and REST calls, built from PUBLIC_BASE_URL."""

from __future__ import annotations

from app import i18n
from app.settings import settings

INCOMING = "/twilio/voice"
MENU = "/twilio/voice/menu"
WAIT = "/twilio/voice/wait"
HOLD = "/twilio/voice/hold"
TIMEOUT = "/twilio/voice/timeout"
TIMEOUT_CHOICE = "/twilio/voice/timeout/choice"
AFTER = "/twilio/voice/after"
AFTER_CHOICE = "/twilio/voice/after/choice"
PARTNER_GONE = "/twilio/voice/partner-gone"
ANNOUNCE_LIMIT = "/twilio/voice/announce/limit"
INFO_CHOICE = "/twilio/voice/info/choice"
CONFERENCE = "/twilio/voice/conference"
FUSING_LOBBY = "/twilio/fusing/lobby"
FUSING_COUNTDOWN = "/twilio/fusing/countdown"
FUSING_ROOM = "/twilio/fusing/room"
FUSING_BACK = "/twilio/fusing/back"
FUSING_CLOSING = "/twilio/fusing/closing"
FUSING_ROUND_ENDING = "/twilio/fusing/round-ending"
STATUS = "/twilio/voice/status"
PAYMENTS_WEBHOOK = "/payments/webhook"
PAYMENT_THANKS = "/payments/thanks"
PAYMENT_CANCELLED = "/payments/cancelled"
JOIN_CHOICE = "/twilio/voice/join/choice"
CALLBACK_ANSWER = "/twilio/voice/callback/answer"
CALLBACK_CHOICE = "/twilio/voice/callback/choice"
CALLBACK_STATUS = "/twilio/voice/callback/status"
LISTENER_ANSWER = "/twilio/voice/listener/answer"
LISTENER_CHOICE = "/twilio/voice/listener/choice"
LISTENER_STATUS = "/twilio/voice/listener/status"
URGENT_CHOICE = "/twilio/voice/urgent/choice"
URGENT_AFTER = "/twilio/voice/urgent/after"
SMS = "/twilio/sms"
SMS_STATUS = "/twilio/sms/status"

RETRIES = "ct=2000&rt=4000&rc=2&rp=ct,rt,5xx"
"""Twilio's connection overrides on every status callback URL the line hands out.

Without them Twilio tries a callback once more only when it cannot connect, and never after
an answer. With them: up to two retries when it cannot connect within 2 s or has no answer
within 4 s, or gets a 5xx (if Twilio honours 5xx there), all within Twilio's 15 s. Whatever
is still lost, the reconciliation jobs recover. The fragment is never sent over HTTP.
"""


LANGUAGE = "lang"  # the query parameter naming the language a document is spoken in


def public(path: str) -> str:
    """The absolute public URL of one of the line's paths.

    Spoken in a language other than the default, the URL names it (`lang=de`): documents
    Twilio fetches without the line looking the call up (hold music, the countdown, an
    announcement) are then said in the caller's language.
    """
    code = i18n.current()
    if code != i18n.default():
        path += ("&" if "?" in path else "?") + f"{LANGUAGE}={code}"
    return settings.PUBLIC_BASE_URL + path


def callback(path: str, query: str | None = None) -> str:
    """The public URL of a status callback, with the line's connection overrides."""
    return f"{public(path)}{'?' + query if query else ''}#{RETRIES}"
