"""What the voice blueprints share: waiting for someone, the membership turn-away, goodbye."""

from __future__ import annotations

import math

from app import jobs, prompts, urls
from app.billing import membership
from app.callbacks import requests as callbacks
from app.db import db
from app.line import calls, pairing
from app.line.models import Call, Outcome, Step
from app.line.pairing import Seat
from app.settings import settings
from app.sms import subscribers
from app.telephony import twiml
from app.urgent import services as urgent

URGENT_KEY = "0"  # at every menu, and said in each


def not_a_member(call: Call):
    """The free conversation is used and there is no membership: how to join."""
    calls.turn_away(call, Outcome.NOT_MEMBER)
    if subscribers.consenting(call.identity):
        send_payment_link(call)
        return twiml.say_and_hang_up(f"{prompts.NOT_MEMBER} {prompts.LINK_SENT}")
    if call.withheld:
        return twiml.say_and_hang_up(f"{prompts.NOT_MEMBER} {prompts.HOW_TO_JOIN}")
    return twiml.menu(f"{prompts.NOT_MEMBER} {prompts.JOIN_OFFER}", urls.public(urls.JOIN_CHOICE))


def send_payment_link(call: Call) -> None:
    """Text the caller the payment link; the call log says so."""
    jobs.SEND_PAYMENT_LINK.enqueue(call.identity)
    calls.set_outcome(call, Outcome.PAYMENT_LINK)
    calls.record(call, Step.PAYMENT_LINK)
    db.session.commit()


def wait(call: Call, intro: str | None = None, listener_now: bool = False):
    """Pair the caller or let them wait; a caller left waiting claims a call-back request.
    `listener_now`: a listener is offered at once, not after LISTENER_AFTER_SECONDS.

    What the request recorded before (the key pressed) is committed here, with the wait.
    """
    with db.session.no_autoflush:  # the key pressed is written with the wait, in one UPDATE
        allowed = membership.entitled(call)
    if not allowed:
        return not_a_member(call)
    seat = pairing.start_waiting(call, listener_now=listener_now)
    if seat is None:  # hung up while being paired: nobody is there to hear
        db.session.commit()
        return goodbye()
    calls.note_waited(call)  # the next call of this caller hears the short greeting
    if not seat.paired and callbacks.claim_for(call, seat.excluded):
        intro = prompts.CALLBACK_CALLING
    db.session.commit()  # a repeated request's key press (a wait or a pairing committed already)
    return room(seat, intro or (prompts.CONNECTING if seat.paired else prompts.FINDING))


def room(seat: Seat, intro: str):
    """The TwiML that puts a caller in their seat's room."""
    # The REST end job closes the room at the limit; the Dial's own limit is only a backstop.
    limit = settings.CONVERSATION_LIMIT_SECONDS + 30
    if not seat.paired:
        limit += math.ceil(settings.WAIT_TIMEOUT_SECONDS)  # timeLimit: whole seconds
    return twiml.conference_room(
        seat.room,
        intro=intro,
        wait_url=urls.public(urls.HOLD),
        action=urls.public(urls.AFTER),
        status_url=urls.callback(urls.CONFERENCE),
        time_limit=limit,
    )


def goodbye():
    """Thank the caller and hang up."""
    return twiml.say_and_hang_up(prompts.GOODBYE)


def urgent_help(call: Call, menu: str):
    """Key 0 at any menu: the crisis service of the caller's country, and the offer to
    connect to it; with none known, the local emergency number. Counted, without identity."""
    urgent.count_use()
    calls.record(call, Step.URGENT_HELP, menu)
    db.session.commit()
    service = urgent.service_for(call.country)
    if service is None:
        return twiml.say_and_hang_up(prompts.URGENT_NONE)
    said = prompts.URGENT_SERVICE.format(name=service.name, number=service.spoken)
    if not service.dial:
        return twiml.say_and_hang_up(f"{said} {prompts.URGENT_CALL_THEM}")
    action, query = urls.public(urls.URGENT_CHOICE), f"service={service.id}"
    return twiml.menu(f"{said} {prompts.URGENT_OFFER}", action, query=query)
