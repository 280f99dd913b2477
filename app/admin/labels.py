"""Every word the admin shows for the line's vocabularies: outcomes, modes, timeline steps.

A timeline step is described in plain words from its kind and what it noted; the rooms,
tokens and ids the line notes for its own use are never shown.
"""

from __future__ import annotations

from app.line.models import CallMode, Outcome, Step
from app.sms.models import SubscriberStatus

OUTCOME_LABELS = {
    Outcome.PAIRED: "Paired",
    Outcome.TIMED_OUT: "Timed out",
    Outcome.HUNG_UP_WAITING: "Hung up while waiting",
    Outcome.HUNG_UP_MENU: "Hung up at the menu",
    Outcome.BLOCKED: "Blocked",
    Outcome.RATE_LIMITED: "Rate limited",
    Outcome.NOT_MEMBER: "Offered membership",
    Outcome.PAYMENT_LINK: "Sent the payment link",
    Outcome.REMINDERS: "Asked for reminders",
    Outcome.CALLBACK_ASKED: "Asked for a call-back",
}
MODE_LABELS = {
    CallMode.PAIRING: "Pairing",
    CallMode.FUSING: "Fusing Hour",
    CallMode.LISTENER: "Volunteer listener",
}
IN_PROGRESS = "In progress"

SUBSCRIBER_STATUS_LABELS = {
    SubscriberStatus.ACTIVE: "Getting reminders",
    SubscriberStatus.STOPPED: "Stopped",
    SubscriberStatus.OPTED_OUT: "Opted out at the carrier",
}
# A subscriber's latest change, by the status it left them in.
SUBSCRIBER_CHANGES = {
    SubscriberStatus.ACTIVE: "Signed up",
    SubscriberStatus.STOPPED: "Stopped the reminders",
    SubscriberStatus.OPTED_OUT: "Opted out (STOP): texts refused until START",
}
SOURCE_LABELS = {"call": "A call", "text": "A text"}

STEP_LABELS = {
    Step.ARRIVED: "Arrived",
    Step.WAITING: "Started waiting for someone",
    Step.MATCHED: "Matched with another caller",
    Step.JOINED: "Joined the room",
    Step.LEFT_ROOM: "Left the room",
    Step.LEFT: "Left the room",
    Step.TIMED_OUT: "Nobody came in time",
    Step.TIMEOUT_REDIRECT: "Moved to the “nobody is free” menu",
    Step.RESCUED: "The other caller left before they met: moved on to find someone else",
    Step.REDIRECT_FAILED: "Moving the call failed at Twilio",
    Step.PARTNER_GONE: "Heard that the other caller left; looking for someone else",
    Step.FUSING_LOBBY: "Entered the Fusing Hour lobby",
    Step.FUSING_ROOM: "Placed in a Fusing Hour room with someone",
    Step.SMS_SIGNUP: "Asked for text reminders",
    Step.PAYMENT_LINK: "Payment link sent by text",
    Step.CALLBACK_CLAIMED: "Someone who asked for a call-back is being called for them",
    Step.CALLBACK: "Call-back: answered with 1",
    Step.LISTENER_CLAIMED: "A volunteer listener is being called for them",
    Step.LISTENER_JOINED: "A volunteer listener took the call",
    Step.LISTENER: "A volunteer listener, answered with 1 to take a waiting caller",
    Step.URGENT_HELP: "Asked for urgent help",
    Step.URGENT_DIALLED: "Connected to the crisis service",
    Step.ENDED: "Call ended",
    Step.MASKED: "Record checked: masked number only",
    Step.PURGED: "Deleted at Twilio",
    Step.PURGE_FAILED: "Deleting at Twilio failed",
    Outcome.BLOCKED: "Turned away: blocked",
    Outcome.RATE_LIMITED: "Turned away: too many calls this hour",
    Outcome.NOT_MEMBER: "Offered membership: the free conversation is used",
    Outcome.CALLBACK_ASKED: "Asked to be called back",
    # Twilio's progress statuses, when the number's status callback asks for them
    "ringing": "Ringing",
    "in-progress": "Answered",
}

# What each key at each menu does; "none" is no key at all.
MENUS = {
    Step.MENU: ("Greeting menu", {"1": "talk now", "2": "Fusing Hour info", "none": "talk now"}),
    Step.INFO_MENU: ("Fusing Hour menu", {"1": "talk now", "2": "text reminders"}),
    Step.TIMEOUT_MENU: ("“Nobody is free” menu", {"1": "keep waiting", "2": "Fusing Hour info"}),
    Step.AFTER_MENU: ("After the conversation", {"1": "someone new", "2": "report"}),
    Step.JOIN_MENU: ("Membership offer", {"1": "payment link by text"}),
}
# Why a room was left, as pairing.leave_room notes it.
LEFT_BECAUSE = {
    "alone": "Stopped waiting (left the room alone)",
    "you_left": "Left the conversation",
    "partner_left": "The other caller left the conversation",
    "time_up": "The conversation reached its time limit",
    "ended": "Left the room as the call ended",
}
# How a call ended, by Twilio's final status.
ENDED_AS = {
    "completed": "Call ended",
    "busy": "Call ended: busy",
    "no-answer": "Call ended: no answer",
    "failed": "Call ended: failed",
    "canceled": "Call ended: cancelled before it was answered",
}


def outcome_label(outcome: str | None) -> str:
    """A readable outcome; calls still going have none yet."""
    if outcome is None:
        return IN_PROGRESS
    return OUTCOME_LABELS.get(outcome, outcome.replace("_", " ").capitalize())


def _menu(kind: str, detail: str | None) -> str:
    name, keys = MENUS[kind]
    key = detail or "none"
    pressed = "no key" if key == "none" else f"pressed {key}"
    return f"{name}: {pressed} ({keys.get(key, 'goodbye')})"


def _redirect_failed(detail: str | None) -> str:
    """`<step>: HTTP <status>` as workers.waiting notes it: where the move went, and why not."""
    kind, _, status = (detail or "").partition(": ")
    where = {Step.TIMEOUT_REDIRECT: "to the “nobody is free” menu", Step.RESCUED: "on"}
    text = f"Moving the call {where.get(kind, '')} failed at Twilio".replace("  ", " ")
    code = status.removeprefix("HTTP ")
    return f"{text} (HTTP {code})" if code.isdigit() else text


def describe(kind: str, detail: str | None = None) -> str:
    """A timeline step in plain words, for an operator: never a room, token or id."""
    if kind in MENUS:
        return _menu(kind, detail)
    if kind == Step.LEFT:
        reason = (detail or "").split(" ")[0]
        return LEFT_BECAUSE.get(reason, STEP_LABELS[Step.LEFT])
    if kind == Step.ENDED:
        return ENDED_AS.get(detail or "completed", ENDED_AS["completed"])
    if kind == Step.ARRIVED and detail == "withheld":
        return "Arrived (number withheld)"
    if kind == Step.REDIRECT_FAILED:
        return _redirect_failed(detail)
    return STEP_LABELS.get(kind, kind.replace("_", " ").replace("-", " ").capitalize())
