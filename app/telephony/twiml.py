"""TwiML builders: the line's spoken flows expressed in Twilio's voice markup."""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import escape

from flask import Response
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from app import i18n

CONFERENCE_EVENTS = "start end join leave"
QUERY = "__query__"  # where a menu's per-call query string goes in its cached TwiML


def _say(node, text: str, code: str | None = None) -> None:
    """Speak `text` in the current language (or `code`), with that language's voice."""
    node.say(str(text), voice=i18n.voice(code), language=i18n.row(code).twilio)


def reply(response: VoiceResponse | str) -> Response:
    """A TwiML document (or its text) as an HTTP response."""
    return Response(str(response), mimetype="text/xml")


def say(text: str) -> Response:
    """Only speak (an announcement played into a conference)."""
    response = VoiceResponse()
    _say(response, text)
    return reply(response)


def hang_up() -> Response:
    """End the call saying nothing (what a voicemail that answered a call-back gets)."""
    response = VoiceResponse()
    response.hangup()
    return reply(response)


def say_and_hang_up(text: str) -> Response:
    """Speak a message, then end the call."""
    response = VoiceResponse()
    _say(response, text)
    response.hangup()
    return reply(response)


def menu(
    prompt: str,
    action: str,
    timeout: int = 5,
    fallthrough: str | None = None,
    query: str | None = None,
    also: tuple[tuple[str, str], ...] = (),
) -> Response:
    """A one-key menu; with no input the call goes on to `fallthrough` (or hangs up).

    `query` (say "arrived=...") is added to both URLs without building the menu again.
    `also` is (text, language) said after the prompt, each in its own language's voice.
    """
    here = i18n.current()
    said = tuple((str(text), code, i18n.voice(code)) for text, code in ((prompt, here), *also))
    if query is None:
        return reply(_menu_xml(said, action, timeout, fallthrough))
    marked = _menu_xml(said, _marked(action), timeout, fallthrough and _marked(fallthrough))
    return reply(marked.replace(QUERY, escape(query, {'"': "&quot;"})))


def _marked(url: str) -> str:
    return url + ("&" if "?" in url else "?") + QUERY


@lru_cache(maxsize=512)
def _menu_xml(
    said: tuple[tuple[str, str, str], ...], action: str, timeout: int, fallthrough: str | None
) -> str:
    # The line has a few dozen distinct menus per language: each is built once per process.
    response = VoiceResponse()
    language = i18n.row(said[0][1]).twilio
    gather = Gather(num_digits=1, action=action, method="POST", timeout=timeout, language=language)
    for text, code, voice in said:
        gather.say(text, voice=voice, language=i18n.row(code).twilio)
    response.append(gather)
    if fallthrough:
        response.redirect(fallthrough, method="POST")
    else:
        response.hangup()
    return str(response)


def conference_room(
    room: str,
    *,
    intro: str | None,
    wait_url: str,
    action: str,
    time_limit: int,
    status_url: str | None = None,
    max_participants: int = 2,
    start_on_enter: bool = True,
    end_on_exit: bool = True,
) -> Response:
    """Join a conference room; while nobody has started it, the caller hears `wait_url`."""
    response = VoiceResponse()
    if intro:
        _say(response, intro)
    dial = Dial(action=action, method="POST", hangup_on_star=True, time_limit=time_limit)
    callbacks = {}
    if status_url:
        callbacks = {
            "status_callback": status_url,
            "status_callback_event": CONFERENCE_EVENTS,
            "status_callback_method": "POST",
        }
    dial.conference(
        room,
        wait_url=wait_url,
        wait_method="POST",
        max_participants=max_participants,
        start_conference_on_enter=start_on_enter,
        end_conference_on_exit=end_on_exit,
        beep=False,
        **callbacks,
    )
    response.append(dial)
    return reply(response)


def dial_number(text: str, number: str, action: str, ring_seconds: int = 30) -> Response:
    """Say a word, then connect the caller to a phone number; `action` follows its end."""
    response = VoiceResponse()
    _say(response, text)
    dial = Dial(action=action, method="POST", timeout=ring_seconds)
    dial.number(number)
    response.append(dial)
    return reply(response)


def moving(target_url: str, seconds: int = 5) -> Response:
    """The answer to a Dial action that the line's own REST redirect caused.

    Twilio discards it and plays the redirect's document. Should the Dial have ended on
    its own just before the redirect landed, the caller waits a moment for it, and goes
    where the redirect was sending them should it never come.
    """
    response = VoiceResponse()
    response.pause(length=seconds)
    response.redirect(target_url, method="POST")
    return reply(response)


def hold_music(music_url: str, text: str) -> Response:
    """What a caller alone in a room hears: a word, then music that loops by itself.

    Twilio plays a waitUrl document once and then silence, so the music must loop.
    """
    response = VoiceResponse()
    _say(response, text)
    response.play(music_url, loop=0)
    return reply(response)


def countdown(text: str, music_url: str, again_url: str) -> Response:
    """A lobby's wait document: the countdown, one piece of music, then the document again.

    Twilio plays a waitUrl document once; the closing <Redirect> loops it, so the countdown
    is spoken afresh after every piece.
    """
    response = VoiceResponse()
    _say(response, text)
    response.play(music_url)
    response.redirect(again_url, method="POST")
    return reply(response)


def text_reply(body: str | None) -> Response:
    """The answer to an incoming text: one message back, or none."""
    response = MessagingResponse()
    if body:
        response.message(str(body))
    return Response(str(response), mimetype="text/xml")
