"""What the line says by text message."""

from __future__ import annotations

CONFIRMATION = (
    "Mindfuse: you will get a reminder 24 hours and 15 minutes before each Fusing Hour. "
    "Reply STOP to stop at any time, HELP for help."
)
STOPPED = "Mindfuse: you will get no more texts from us. Reply START to sign up again."
HELP = (
    "Mindfuse is a phone line that connects you with another real person, anonymously. "
    "Call {line} any time. Reply JOIN for Fusing Hour reminders, STOP to stop."
)
UNKNOWN = "Mindfuse: reply JOIN for Fusing Hour reminders, HELP for help, STOP to stop."
REMINDER = "Mindfuse: the Fusing Hour starts {when}. Call {line} to join. Reply STOP to stop."
WITHHELD = "Mindfuse cannot send texts to a withheld number."
PAYMENT_LINK = "Mindfuse: membership is 4 euros a month. Join here: {link} Reply STOP to stop."

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO"}
JOIN_WORDS = {"JOIN", "REMIND"}


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
