"""Every word the admin shows for the line's vocabularies: outcomes, modes, timeline steps.

A timeline step is described in plain words from its kind and what it noted; the rooms,
tokens and ids the line notes for its own use are never shown. The labels are lazy (read
in the admin's language when shown); the functions return plain strings in it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.line.models import CallMode, Outcome, Step
from app.sms.models import SubscriberStatus

OUTCOME_LABELS = {
    Outcome.PAIRED: _l("Paired"),
    Outcome.TIMED_OUT: _l("Timed out"),
    Outcome.HUNG_UP_WAITING: _l("Hung up while waiting"),
    Outcome.HUNG_UP_MENU: _l("Hung up at the menu"),
    Outcome.BLOCKED: _l("Blocked"),
    Outcome.RATE_LIMITED: _l("Rate limited"),
    Outcome.NOT_MEMBER: _l("Offered membership"),
    Outcome.PAYMENT_LINK: _l("Sent the payment link"),
    Outcome.REMINDERS: _l("Asked for reminders"),
    Outcome.CALLBACK_ASKED: _l("Asked for a call-back"),
}
MODE_LABELS = {
    CallMode.PAIRING: _l("Pairing"),
    CallMode.FUSING: _l("Fusing Hour"),
    CallMode.LISTENER: _l("Volunteer listener"),
}
IN_PROGRESS = _l("In progress")

SUBSCRIBER_STATUS_LABELS = {
    SubscriberStatus.ACTIVE: _l("Getting reminders"),
    SubscriberStatus.STOPPED: _l("Stopped"),
    SubscriberStatus.OPTED_OUT: _l("Opted out at the carrier"),
}
# A subscriber's latest change, by the status it left them in.
SUBSCRIBER_CHANGES = {
    SubscriberStatus.ACTIVE: _l("Signed up"),
    SubscriberStatus.STOPPED: _l("Stopped the reminders"),
    SubscriberStatus.OPTED_OUT: _l("Opted out (STOP): texts refused until START"),
}
SOURCE_LABELS = {"call": _l("A call"), "text": _l("A text")}

STEP_LABELS = {
    Step.ARRIVED: _l("Arrived"),
    Step.WAITING: _l("Started waiting for someone"),
    Step.MATCHED: _l("Matched with another caller"),
    Step.JOINED: _l("Joined the room"),
    Step.LEFT_ROOM: _l("Left the room"),
    Step.LEFT: _l("Left the room"),
    Step.TIMED_OUT: _l("Nobody came in time"),
    Step.TIMEOUT_REDIRECT: _l("Moved to the “nobody is free” menu"),
    Step.RESCUED: _l("The other caller left before they met: moved on to find someone else"),
    Step.REDIRECT_FAILED: _l("Moving the call failed at Twilio"),
    Step.PARTNER_GONE: _l("Heard that the other caller left; looking for someone else"),
    Step.FUSING_LOBBY: _l("Entered the Fusing Hour lobby"),
    Step.FUSING_ROOM: _l("Placed in a Fusing Hour room with someone"),
    Step.SMS_SIGNUP: _l("Asked for text reminders"),
    Step.PAYMENT_LINK: _l("Payment link sent by text"),
    Step.CALLBACK_CLAIMED: _l("Someone who asked for a call-back is being called for them"),
    Step.CALLBACK: _l("Call-back: answered with 1"),
    Step.LISTENER_CLAIMED: _l("A volunteer listener is being called for them"),
    Step.LISTENER_JOINED: _l("A volunteer listener took the call"),
    Step.LISTENER: _l("A volunteer listener, answered with 1 to take a waiting caller"),
    Step.URGENT_HELP: _l("Asked for urgent help"),
    Step.URGENT_DIALLED: _l("Connected to the crisis service"),
    Step.ENDED: _l("Call ended"),
    Step.MASKED: _l("Record checked: masked number only"),
    Step.PURGED: _l("Deleted at Twilio"),
    Step.PURGE_FAILED: _l("Deleting at Twilio failed"),
    Outcome.BLOCKED: _l("Turned away: blocked"),
    Outcome.RATE_LIMITED: _l("Turned away: too many calls this hour"),
    Outcome.NOT_MEMBER: _l("Offered membership: the free conversation is used"),
    Outcome.CALLBACK_ASKED: _l("Asked to be called back"),
    # Twilio's progress statuses, when the number's status callback asks for them
    "ringing": _l("Ringing"),
    "in-progress": _l("Answered"),
}

# What each key at each menu does; "none" is no key at all.
MENUS = {
    Step.MENU: (
        _l("Greeting menu"),
        {"1": _l("talk now"), "2": _l("Fusing Hour info"), "none": _l("talk now")},
    ),
    Step.INFO_MENU: (_l("Fusing Hour menu"), {"1": _l("talk now"), "2": _l("text reminders")}),
    Step.TIMEOUT_MENU: (
        _l("“Nobody is free” menu"),
        {"1": _l("keep waiting"), "2": _l("Fusing Hour info")},
    ),
    Step.AFTER_MENU: (_l("After the conversation"), {"1": _l("someone new"), "2": _l("report")}),
    Step.JOIN_MENU: (_l("Membership offer"), {"1": _l("payment link by text")}),
}
# Why a room was left, as pairing.leave_room notes it.
LEFT_BECAUSE = {
    "alone": _l("Stopped waiting (left the room alone)"),
    "you_left": _l("Left the conversation"),
    "partner_left": _l("The other caller left the conversation"),
    "time_up": _l("The conversation reached its time limit"),
    "ended": _l("Left the room as the call ended"),
}
# How a call ended, by Twilio's final status.
ENDED_AS = {
    "completed": _l("Call ended"),
    "busy": _l("Call ended: busy"),
    "no-answer": _l("Call ended: no answer"),
    "failed": _l("Call ended: failed"),
    "canceled": _l("Call ended: cancelled before it was answered"),
}


def outcome_label(outcome: str | None) -> str:
    """A readable outcome; calls still going have none yet."""
    if outcome is None:
        return str(IN_PROGRESS)
    label = OUTCOME_LABELS.get(outcome)
    return str(label) if label is not None else outcome.replace("_", " ").capitalize()


def _menu(kind: str, detail: str | None) -> str:
    name, keys = MENUS[kind]
    key = detail or "none"
    pressed = _("no key") if key == "none" else _("pressed %(key)s", key=key)
    does = keys[key] if key in keys else _("goodbye")
    return _("%(menu)s: %(pressed)s (%(does)s)", menu=name, pressed=pressed, does=does)


# Where a failed move was going, by the step it was for.
REDIRECT_FAILED_TO = {
    Step.TIMEOUT_REDIRECT: _l("Moving the call to the “nobody is free” menu failed at Twilio"),
    Step.RESCUED: _l("Moving the call on failed at Twilio"),
}


def _redirect_failed(detail: str | None) -> str:
    """`<step>: HTTP <status>` as workers.waiting notes it: where the move went, and why not."""
    kind, _sep, status = (detail or "").partition(": ")
    text = REDIRECT_FAILED_TO.get(kind, STEP_LABELS[Step.REDIRECT_FAILED])
    code = status.removeprefix("HTTP ")
    return _("%(text)s (HTTP %(code)s)", text=text, code=code) if code.isdigit() else str(text)


def describe(kind: str, detail: str | None = None) -> str:
    """A timeline step in plain words, for an operator: never a room, token or id."""
    if kind in MENUS:
        return _menu(kind, detail)
    if kind == Step.LEFT:
        reason = (detail or "").split(" ")[0]
        return str(LEFT_BECAUSE.get(reason, STEP_LABELS[Step.LEFT]))
    if kind == Step.ENDED:
        return str(ENDED_AS.get(detail or "completed", ENDED_AS["completed"]))
    if kind == Step.ARRIVED and detail == "withheld":
        return _("Arrived (number withheld)")
    if kind == Step.REDIRECT_FAILED:
        return _redirect_failed(detail)
    label = STEP_LABELS.get(kind)
    return (
        str(label) if label is not None else kind.replace("_", " ").replace("-", " ").capitalize()
    )
