"""What the line says by text message.

Each text is a lazy gettext string, translated when it is written into the subscriber's
language (app.i18n.speaking). The keywords stay English: carriers and Twilio answer them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _

CONFIRMATION = _(
    "Mindfuse: you will get a reminder 24 hours and 15 minutes before each Fusing Hour. "
    "Reply STOP to stop at any time, HELP for help."
)
STOPPED = _("Mindfuse: you will get no more texts from us. Reply START to sign up again.")
HELP = _(
    "Mindfuse is a phone line that connects you with another real person, anonymously. "
    "Call {line} any time. Reply JOIN for Fusing Hour reminders, STOP to stop."
)
UNKNOWN = _("Mindfuse: reply JOIN for Fusing Hour reminders, HELP for help, STOP to stop.")
REMINDER = _("Mindfuse: the Fusing Hour starts {when}. Call {line} to join. Reply STOP to stop.")
WITHHELD = _("Mindfuse cannot send texts to a withheld number.")
CALLBACK_MISSED = _(
    "Mindfuse: we called you back when someone was free, but could not reach you. "
    "Call us again any time. Reply STOP to stop."
)
LISTENER_PAUSED = _(
    "Mindfuse: you are paused as a listener; the line will not call you. Reply RESUME to resume."
)
LISTENER_RESUMED = _(
    "Mindfuse: you are a listener again; the line may call you in your hours. Reply PAUSE to pause."
)
PAYMENT_LINK = _("Mindfuse: membership is 4 euros a month. Join here: {link} Reply STOP to stop.")

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO"}
JOIN_WORDS = {"JOIN", "REMIND"}
LISTENER_WORDS = {"PAUSE": "pause", "RESUME": "resume"}  # from a roster number only


def listener_keyword(body: str) -> str:
    """'pause' or 'resume' when a text is one of a listener's keywords, else ''."""
    return LISTENER_WORDS.get(body.strip().strip(".!").upper(), "")


def keyword(body: str) -> str:
    """The one keyword a text is, or '' (carriers match the whole message, any case)."""
    word = body.strip().strip(".!").upper()
    for name, words in (
        ("stop", STOP_WORDS),
        ("start", START_WORDS),
        ("help", HELP_WORDS),
        ("join", JOIN_WORDS),
    ):
        if word in words:
            return name
    return ""


# GSM 03.38: a text in these characters is sent 7 bits a character (160 in one segment, 153
# in each of several); one character outside them makes the whole text UCS-2 (70, or 67).
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€")  # two septets each


def segments(body: str) -> int:
    """How many message segments a text is sent in (and Twilio's rate counts)."""
    if all(c in _GSM or c in _GSM_EXTENDED for c in body):
        length, single, multi = len(body) + sum(c in _GSM_EXTENDED for c in body), 160, 153
    else:
        length, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else -(-length // multi)
