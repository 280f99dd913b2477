"""Voice webhooks. Every view checks Twilio's signature first."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from app import i18n, prompts, urls
from app.billing import membership
from app.callbacks import requests as callbacks
from app.db import db, utcnow
from app.fusing import lobby as fusing_lobby
from app.fusing import sessions as fusing_sessions
from app.fusing.schedule import spoken_when
from app.line import calls, conferences, languages, pairing, safety
from app.line.models import Call, CallMode, Outcome, Step
from app.settings import settings
from app.sms import subscribers
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import (
    CallRequest,
    CallStatusCallback,
    ConferenceStatusCallback,
    DialResult,
    Form,
    GatherResult,
    called_number,
)
from app.voice import flows

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")
CALLBACKS = frozenset({"voice.status", "voice.conference"})
ARRIVED = "arrived"  # the greeting's URLs carry the arrival time under this name
WHOLE_MENU_KEY = "*"  # at the greeting: the whole menu again (what a short greeting offers)


@bp.before_request
def _language():
    """Speak the language the URL names (documents fetched without looking the call up)."""
    i18n.use(request.args.get(urls.LANGUAGE))


def _current_call(webhook: CallRequest) -> Call:
    arrived = calls.arrival_time(request.args.get(ARRIVED))
    call = calls.current(webhook.call_sid, webhook.from_number, arrived, i18n.current())
    i18n.use(call.language)  # the call's own language, whatever the URL said
    return call


def _pressed(menu: Step, commit: bool = True) -> tuple[Call, str]:
    """The current call and the key pressed at a menu, recorded on its timeline (committed
    unless the caller commits it with what follows)."""
    gathered = GatherResult.from_form(request.form)
    call, digits = _current_call(gathered), gathered.digits
    if menu == Step.MENU:
        call.menu_choice = digits or "none"
    calls.record(call, menu, digits or "none")
    if commit:
        db.session.commit()
    return call, digits


def _fusing_hour_info(call: Call):
    occurrence = fusing_sessions.upcoming()
    when = prompts.FUSING_NONE_PLANNED
    if occurrence is not None:
        when = prompts.FUSING_NEXT.format(when=spoken_when(occurrence, utcnow()))
    choices = prompts.INFO_MENU_WITHHELD if call.withheld else prompts.INFO_MENU
    text = f"{prompts.FUSING_HOUR_INFO} {when} {choices}"
    return twiml.menu(text, urls.public(urls.INFO_CHOICE))


@bp.post("")
@twilio_request
def incoming():
    """A new call: greeting and the one-key menu (most greetings are answered before they
    reach here, by app.voice.direct, with the same `greeting`)."""
    return greeting(request.form)


def greeting(form: Form):
    """The answer to a new call, from its signed form alone: greeting and the one-key menu.
    Its row is written here only when it is turned away or goes to the Fusing Hour;
    otherwise by its next webhook. Reads nothing of the request but `form`."""
    webhook = CallRequest.from_form(form)
    sid = webhook.call_sid
    caller, now = calls.caller_of(sid, webhook.from_number), utcnow()
    arrival = calls.count_arrival(sid, caller.identity, now)
    called = called_number(form)
    language = i18n.use(languages.greeting_language(arrival.remembered, called, caller.withheld))
    if safety.is_blocked(caller.identity):
        calls.turn_away(calls.arrive(sid, caller, language=language), Outcome.BLOCKED)
        return twiml.say_and_hang_up(prompts.BLOCKED)
    if arrival.over_limit:
        calls.turn_away(calls.arrive(sid, caller, language=language), Outcome.RATE_LIMITED)
        return twiml.say_and_hang_up(prompts.SLOW_DOWN)
    session = fusing_sessions.running_session()
    if session is not None:  # during the Fusing Hour, callers go straight to its lobby
        call = calls.arrive(sid, caller, language=language)
        if not (settings.FUSING_OPEN_TO_ALL or membership.entitled(call)):
            return flows.not_a_member(call)
        return fusing_lobby.welcome(call, session)
    # The call's row is written by the next webhook (a key, no key, or the hang-up).
    query = f"{ARRIVED}={calls.epoch_ms(now)}"
    if arrival.returning:
        return _short_greeting(query)
    return _greeting_menu(prompts.GREETING, query)


# Seconds the greeting waits for a key after its prompt (keys are taken from the prompt's
# start too): a first-time caller who presses nothing waits this long before the line looks
# for someone; a returning caller, who knows the menu, less.
GREETING_WINDOW = 3
SHORT_GREETING_WINDOW = 2


def _greeting_menu(text: str, query: str | None = None):
    """The greeting's menu, then each other language's key, said in that language."""
    menu_url, wait_url = urls.public(urls.MENU), urls.public(urls.WAIT)
    also = _other_languages()
    text = _said(text)
    return twiml.menu(text, menu_url, GREETING_WINDOW, fallthrough=wait_url, query=query, also=also)


def _short_greeting(query: str):
    """A returning caller's greeting: the same menu (every key works), said in a few words;
    star says the whole menu with the other languages' keys."""
    menu_url, wait_url = urls.public(urls.MENU), urls.public(urls.WAIT)
    text = _said(prompts.WELCOME_BACK)
    return twiml.menu(text, menu_url, SHORT_GREETING_WINDOW, fallthrough=wait_url, query=query)


_SAID: dict[tuple[int, str], str] = {}


def _said(prompt) -> str:
    """A greeting prompt (a constant of app.prompts) in the current language, translated once
    per process and language: looking it up in the catalog costs a greeting more than its
    TwiML does."""
    if isinstance(prompt, str):
        return prompt
    key = (id(prompt), i18n.current())
    found = _SAID.get(key)
    if found is None:
        found = _SAID[key] = str(prompt)
    return found


_OTHERS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[tuple[str, str], ...]] = {}


def _other_languages() -> tuple[tuple[str, str], ...]:
    """Each other language's key, said in that language: (text, code) pairs.

    Built once per process for each language and set of languages offered (the catalogs do
    not change while it runs): switching locale to say each costs more than the rest of the
    greeting's TwiML.
    """
    here, offered = i18n.current(), tuple(i18n.choices())
    found = _OTHERS.get((here, offered))
    if found is None:
        others = []
        for key, code in offered:
            with i18n.speaking(code):
                others.append((str(prompts.LANGUAGE_CHOICE.format(key=key)), code))
        found = _OTHERS[(here, offered)] = tuple(others)
    return found


@bp.post("/menu")
@twilio_request
def menu():
    """The greeting menu's answer: 1 talk now, 2 Fusing Hour info, 3 a call-back, 0 urgent
    help, 9 (8, ...) a language, * the whole menu again."""
    call, digits = _pressed(Step.MENU, commit=False)
    chosen = dict(i18n.choices()).get(digits)
    if digits in ("", "1") and not chosen:
        return flows.wait(call)  # the key is committed with the wait or the pairing
    db.session.commit()
    if digits == flows.URGENT_KEY:
        return flows.urgent_help(call, Step.MENU)
    if digits == "2":
        return _fusing_hour_info(call)
    if chosen:  # the greeting again, in that language
        languages.choose(call, chosen)
        i18n.use(chosen)
        return _greeting_menu(prompts.GREETING)
    if digits == "3":
        return _call_back(call)
    if digits == WHOLE_MENU_KEY:
        return _greeting_menu(prompts.GREETING)
    return _greeting_menu(f"{prompts.UNKNOWN_KEY} {prompts.MENU_CHOICES}")


@bp.post("/wait")
@twilio_request
def wait():
    """No input at the greeting: talk to someone now."""
    call, _ = _pressed(Step.MENU, commit=False)  # committed with the wait or the pairing
    return flows.wait(call)


@bp.post("/hold")
@twilio_request
def hold():
    """What a caller alone in a room hears."""
    return twiml.hold_music(settings.HOLD_MUSIC_URL, prompts.WAITING_HOLD)


@bp.post("/timeout")
@twilio_request
def timeout():
    """Reached by REST redirect when nobody came in time."""
    return twiml.menu(prompts.NOBODY_FREE, urls.public(urls.TIMEOUT_CHOICE))


@bp.post("/timeout/choice")
@twilio_request
def timeout_choice():
    """Keep waiting, hear about the Fusing Hour, or goodbye."""
    call, digits = _pressed(Step.TIMEOUT_MENU)
    if digits == flows.URGENT_KEY:
        return flows.urgent_help(call, Step.TIMEOUT_MENU)
    if digits == "1":
        return flows.wait(call)
    if digits == "2":
        return _fusing_hour_info(call)
    if digits == "3":
        return _call_back(call)
    return flows.goodbye()


def _call_back(call: Call):
    """Ask to be called back when someone is free (not for withheld numbers)."""
    if call.withheld:
        return twiml.say_and_hang_up(prompts.CALLBACK_WITHHELD)
    if not membership.entitled(call):
        return flows.not_a_member(call)
    number = CallRequest.from_form(request.form).from_number
    asked = callbacks.ask(call, number)
    if asked == callbacks.Asked.NOTED:
        calls.turn_away(call, Outcome.CALLBACK_ASKED)
        window = prompts.window(settings.CALLBACK_WINDOW_MINUTES)
        return twiml.say_and_hang_up(prompts.CALLBACK_NOTED.format(window=window))
    return twiml.say_and_hang_up(CALLBACK_ANSWERS[asked])


CALLBACK_ANSWERS = {
    callbacks.Asked.WITHHELD: prompts.CALLBACK_WITHHELD,
    callbacks.Asked.ALREADY: prompts.CALLBACK_ALREADY,
    callbacks.Asked.LIMIT: prompts.CALLBACK_LIMIT,
}


@bp.post("/info/choice")
@twilio_request
def info_choice():
    """After the Fusing Hour info: 1 talk now, 2 ask for a reminder (not for withheld IDs)."""
    call, digits = _pressed(Step.INFO_MENU)
    if digits == flows.URGENT_KEY:
        return flows.urgent_help(call, Step.INFO_MENU)
    if digits == "1":
        return flows.wait(call)
    number = CallRequest.from_form(request.form).from_number or ""
    if digits == "2" and subscribers.join(number, call.identity, "call"):
        calls.record(call, Step.SMS_SIGNUP)
        calls.set_outcome(call, Outcome.REMINDERS)
        db.session.commit()
        return twiml.menu(
            f"{prompts.REMINDER_NOTED} {prompts.INFO_MENU_WITHHELD}", urls.public(urls.MENU)
        )
    return flows.goodbye()


@bp.post("/after")
@twilio_request
def after():
    """The Dial ended: the conversation is over for this caller, unless the line moved it."""
    dialled = DialResult.from_form(request.form)
    call = _current_call(dialled)
    if (target := pairing.moving_to(call)) is not None:  # asked because the line redirected it
        return twiml.moving(urls.public(target))
    why = pairing.leave_room(call, dialled.dial_call_status, dialled.hung_up)
    if dialled.hung_up or why == "ended":  # Twilio still asks, but nobody is there to hear
        return twiml.say_and_hang_up(prompts.GOODBYE)
    if call.mode == CallMode.LISTENER:  # never a caller's menu: its 1 would make them wait
        text = f"{prompts.WHY_ENDED[why]} {prompts.LISTENER_AFTER_MENU}"
        return twiml.menu(text, urls.public(urls.AFTER_CHOICE))
    if why == "alone":  # left a wait with star: its menu offers a call-back too
        text = f"{prompts.WHY_ENDED[why]} {prompts.ALONE_MENU}"
        query = f"{LEFT}={LEFT_WAITING}"
        return twiml.menu(text, urls.public(urls.AFTER_CHOICE), query=query)
    text = f"{prompts.WHY_ENDED[why]} {prompts.AFTER_MENU}"
    return twiml.menu(text, urls.public(urls.AFTER_CHOICE))


# The star menu of a wait, whose 3 asks for a call-back, says so in its action's query.
LEFT, LEFT_WAITING = "left", "waiting"


@bp.post("/after/choice")
@twilio_request
def after_choice():
    """1: someone new (or wait on); 2: report the person just heard; 3, in the star menu of
    a wait: a call-back; anything else: goodbye. A listener has only 2, and is never made a
    waiting caller."""
    call, digits = _pressed(Step.AFTER_MENU)
    if digits == flows.URGENT_KEY:
        return flows.urgent_help(call, Step.AFTER_MENU)
    if call.mode == CallMode.LISTENER:
        return _listener_choice(call, digits)
    if digits == "1":
        return flows.wait(call)
    if digits == "3" and request.args.get(LEFT) == LEFT_WAITING:  # said in that menu only
        return _call_back(call)
    if digits == "2" and _reported_partner(call):
        text = f"{prompts.REPORTED} {prompts.AGAIN_MENU}"
        return twiml.menu(text, urls.public(urls.AFTER_CHOICE))
    return flows.goodbye()


def _listener_choice(call: Call, digits: str):
    if digits == "2" and _reported_partner(call):
        return twiml.say_and_hang_up(f"{prompts.LISTENER_REPORTED} {prompts.LISTENER_GOODBYE}")
    return twiml.say_and_hang_up(prompts.LISTENER_GOODBYE)


def _reported_partner(call: Call) -> bool:
    """Report the person this call last talked to; False when it talked to nobody."""
    partner = pairing.partner_of(call)
    if partner is None:
        return False
    safety.report(call, partner, call.participations[-1].conversation)
    return True


@bp.post("/join/choice")
@twilio_request
def join_choice():
    """1: agree to texts, and get the payment link by text; anything else: goodbye."""
    call, digits = _pressed(Step.JOIN_MENU)
    if digits == flows.URGENT_KEY:
        return flows.urgent_help(call, Step.JOIN_MENU)
    number = CallRequest.from_form(request.form).from_number or ""
    if digits == "1" and subscribers.join(number, call.identity, "call"):
        flows.send_payment_link(call)
        return twiml.say_and_hang_up(prompts.LINK_SENT)
    return flows.goodbye()


@bp.post("/announce/limit")
@twilio_request
def announce_limit():
    """Played into a room one minute before its time limit."""
    return twiml.say(prompts.ONE_MINUTE_LEFT)


@bp.post("/partner-gone")
@twilio_request
def partner_gone():
    """Reached by REST redirect when the matched partner hung up before the room met."""
    call = _current_call(CallRequest.from_form(request.form))
    calls.record(call, Step.PARTNER_GONE)
    db.session.commit()  # kept even if a partner found next is gone too (a rolled-back claim)
    if call.mode == CallMode.LISTENER:  # a listener never waits as a caller: their call ends
        return twiml.say_and_hang_up(prompts.LISTENER_CALLER_GONE)
    return flows.wait(call, intro=prompts.PARTNER_GONE)


@bp.post("/status")
@twilio_request
def status():
    """The number's call status callback: the call ended (or progressed)."""
    calls.status_changed(CallStatusCallback.from_form(request.form))
    return "", 204


@bp.post("/conference")
@twilio_request
def conference():
    """Conference status callbacks for the line's rooms."""
    ended = conferences.event_received(ConferenceStatusCallback.from_form(request.form))
    if ended is not None:  # a long enough conversation uses up the free one
        membership.conversation_ended(ended)
    return "", 204


answer_failures(
    bp,
    apology=prompts.APOLOGY,
    callbacks=CALLBACKS,
    wait_documents=frozenset({"voice.hold"}),
    wait_apology=prompts.WAIT_APOLOGY,
)
