"""What the line says, in one place.

Each prompt is a lazy gettext string, translated when it is spoken into the language of the
call (app.i18n.use): a constant added here is caught by the catalog test until every language
has it. Placeholders are `{name}`, filled with `.format` at use.
"""

from __future__ import annotations

from flask_babel import LazyString, ngettext
from flask_babel import lazy_gettext as _


def _joined(*parts: object) -> LazyString:
    """Prompts said one after the other, each translated when spoken."""
    return LazyString(lambda: " ".join(str(part) for part in parts))


MENU_CHOICES = _(
    "Press 1 or stay on the line to talk with a real person. "
    "Press 0 for urgent help, 2 for the Fusing Hour, 3 for a call back."
)
WELCOME = _("Welcome to Mindfuse.")
WELCOME_BACK = _("Welcome back. Press 1 or hold on to talk, 0 for urgent help, star for more.")
"""The short greeting of a returning caller (one who has waited to talk before): star is
the whole greeting's menu, with the other languages' keys."""
GREETING = _joined(WELCOME, MENU_CHOICES)
LANGUAGE_CHOICE = _("For English, press {key}.")
"""Said at the greeting in each other language: each translation names its own language."""
FUSING_HOUR_INFO = _(
    "Once a week, the Fusing Hour connects many callers in rounds of short conversations. "
    "Just call during the hour to join."
)
UNKNOWN_KEY = _("Sorry, that key does nothing here.")
CONNECTING = _("Connecting you now.")
FINDING = _("Finding someone for you. Please stay on the line.")
HOLD = _("Thanks for waiting. Someone will be with you soon.")
CALLBACK_BY_STAR = _("To be called back instead when someone is free, press star, then 3.")
WAITING_HOLD = _joined(HOLD, CALLBACK_BY_STAR)
"""What a caller waiting for a conversation hears between the music (not the Fusing Hour's
lobby, which has no call-back)."""
NOBODY_FREE = _(
    "Nobody is free right now. Press 1 to keep waiting, "
    "press 2 to hear about the Fusing Hour, press 3 to be called back when someone is free, "
    "or hang up and try again later. Press 0 for urgent help."
)
CALLBACK_NOTED = _(
    "Thank you. We will call you back as soon as someone is free, within the next {window}. "
    "When we call, press 1 to talk. Take care."
)
CALLBACK_WITHHELD = _("Sorry, we cannot call back a withheld number. Please call again later.")
CALLBACK_ALREADY = _("You have already asked to be called back. We will call you soon. Take care.")
CALLBACK_LIMIT = _(
    "You have asked to be called back several times today. Please call again later. Take care."
)
CALLBACK_CALLING = _(
    "We are calling someone who asked to talk. Please stay on the line while we connect you."
)
CALLBACK_PROMPT = _(
    "This is Mindfuse calling you back. Someone is free to talk with you now. Press 1 to talk now."
)
CALLBACK_CONNECTING = _("Connecting you now. Say hello.")
CALLBACK_LISTENER = _(
    "Thank you. We are calling one of our volunteer listeners for you now. Please stay on the line."
)
CALLBACK_PARTNER_LEFT = _(
    "The person who was waiting has just been connected elsewhere. Let's find you someone else."
)
LISTENER_PROMPT = _(
    "This is Mindfuse. A caller is waiting and nobody else is free. "
    "Press 1 to take the call, or hang up to let it pass."
)
LISTENER_CONNECTING = _("Connecting you to the caller now. Thank you for listening.")
LISTENER_CALLER_GONE = _(
    "The caller is no longer waiting: someone else took the call, or they hung up. "
    "Thank you. Goodbye."
)
LISTENER_PASSED = _("Thank you. We will ask someone else. Goodbye.")
WHY_ENDED = {
    "time_up": _("Your time together is up. Thank you both for talking."),
    "partner_left": _("The other person has left the conversation."),
    "you_left": _("You have left the conversation."),
    "alone": "",  # not a message: gettext("") is a catalog's header
}
AFTER_MENU = _(
    "Press 1 to talk to someone new. Press 2 to report the person you just talked to. "
    "Or hang up. Press 0 for urgent help."
)
AGAIN_MENU = _("Press 1 to talk to someone new, or hang up. Press 0 for urgent help.")
LISTENER_AFTER_MENU = _(
    "Thank you for listening. Press 2 to report the person you just talked to, or hang up. "
    "Press 0 for urgent help."
)
"""A listener's menu when a call they took ends: they report as callers do, and never wait."""
LISTENER_REPORTED = _("Thank you for telling us. You will not be asked to take their calls again.")
LISTENER_GOODBYE = _("Thank you. Goodbye.")
ALONE_MENU = _(
    "Press 1 to keep waiting, press 3 to be called back when someone is free, or hang up. "
    "Press 0 for urgent help."
)
"""The star menu of a caller who left their wait."""
REPORTED = _("Thank you for telling us. You will not be connected with this person again.")
BLOCKED = _(
    "Several people have reported conversations with you, so this line is closed to you "
    "for now. Goodbye."
)
ONE_MINUTE_LEFT = _("One minute left in this conversation. Time to say goodbye soon.")
PARTNER_GONE = _("The other person left before you could talk. Let's find someone else.")
NOT_MEMBER = _(
    "Your first conversation with Mindfuse was free. To keep talking, membership costs "
    "4 euros a month."
)
LINK_SENT = _("We are sending you a text with a link to join. Thank you, and take care.")
JOIN_OFFER = _(
    "Press 1 to get texts from us: a link to join now, and reminders before the Fusing Hour. "
    "Or hang up. Press 0 for urgent help."
)
HOW_TO_JOIN = _("To join, text JOIN to this number, then call again. Take care.")
GOODBYE = _("Thank you for calling Mindfuse. Take care.")
SLOW_DOWN = _(
    "You have called many times in the last hour. Please take a break and call again later. "
    "Take care."
)
APOLOGY = _(
    "We are sorry, the line is having trouble right now. Please call again in a few minutes. "
    "Goodbye."
)
WAIT_APOLOGY = _(  # said in a room or the lobby, where the line cannot hang up
    "We are sorry, the line is having trouble right now. Please stay on the line, "
    "we will be with you as soon as we can."
)

FUSING_WELCOME = _(
    "Welcome to the Fusing Hour. You will talk with a new person every round. "
    "Relax for a moment; we will connect you soon."
)
FUSING_SAME_LANGUAGE = _("Everyone you meet this hour speaks English, like you.")
"""Said in the lobby after the welcome: each language's guests rotate among themselves."""
FUSING_BACK_TO_LOBBY = _("You are back in the lobby. We will connect you with someone new soon.")
FUSING_NEW_ROUND = _("A new round. Say hello to someone new.")
FUSING_LATE_PAIR = _("Someone is here for you. Say hello.")
FUSING_ROUND_ENDING = _("This round ends in a moment. Time to say goodbye.")
FUSING_CLOSING = _(
    "The Fusing Hour is over for this week. Thank you for being here, and take care. Goodbye."
)
FUSING_NEXT = _("The next Fusing Hour is {when}.")
FUSING_NONE_PLANNED = _("No Fusing Hour is planned right now.")
INFO_MENU = _(
    "Press 1 to talk to someone now. "
    "Press 2 for a text message reminder before it starts. Or hang up. "
    "Press 0 for urgent help."
)
INFO_MENU_WITHHELD = _("Press 1 to talk to someone now, or hang up. Press 0 for urgent help.")
URGENT_SERVICE = _("If you are in crisis, {name} is there for you, day and night, on {number}.")
URGENT_OFFER = _("Press 1 and we will connect you to them now.")
URGENT_CALL_THEM = _("Please hang up and call them now. Take care.")
URGENT_NONE = _(
    "If you are in danger or need urgent help, please hang up and call your local emergency "
    "number now. Take care."
)
URGENT_CONNECTING = _("Connecting you now. Please stay on the line.")
REMINDER_NOTED = _(
    "Thank you. You will get a text to confirm, and reminders before each Fusing Hour. "
    "Reply STOP to that text to stop them."
)
FUSING_LAST_ROUND = _("This is the last round of the Fusing Hour.")
ROUND_SOON = _("The next round starts in less than a minute.")


def window(minutes: float) -> str:
    """How a call-back window is said: "2 hours", "90 minutes" (never less than a minute)."""
    minutes = max(1, round(minutes))
    if minutes % 60 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def countdown(seconds: float) -> str:
    """How the lobby says how long until the next round."""
    if seconds < 60:
        return str(ROUND_SOON)
    minutes = round(seconds / 60)
    return ngettext(
        "The next round starts in about %(num)d minute.",
        "The next round starts in about %(num)d minutes.",
        minutes,
    )
