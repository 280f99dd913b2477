"""TwiML builders: the line's spoken flows expressed in Twilio's voice markup."""

from __future__ import annotations

from flask import Response, current_app
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

CONFERENCE_EVENTS = "start end join leave"


def _say(node, text: str) -> None:
    node.say(text, voice=current_app.config["VOICE"])


def reply(response: VoiceResponse) -> Response:
    """A TwiML document as an HTTP response."""
    return Response(str(response), mimetype="text/xml")


def say(text: str) -> Response:
    """Only speak (an announcement played into a conference)."""
    response = VoiceResponse()
    _say(response, text)
    return reply(response)


def say_and_hang_up(text: str) -> Response:
    """Speak a message, then end the call."""
    response = VoiceResponse()
    _say(response, text)
    response.hangup()
    return reply(response)


def menu(prompt: str, action: str, timeout: int = 5, fallthrough: str | None = None) -> Response:
    """A one-key menu; with no input the call goes on to `fallthrough` (or hangs up)."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, method="POST", timeout=timeout)
    _say(gather, prompt)
    response.append(gather)
    if fallthrough:
        response.redirect(fallthrough, method="POST")
    else:
        response.hangup()
    return reply(response)


def say_then_redirect(text: str, url: str) -> Response:
    """Speak, then continue at another webhook."""
    response = VoiceResponse()
    _say(response, text)
    response.redirect(url, method="POST")
    return reply(response)


def conference_room(
    room: str, *, intro: str | None, wait_url: str, action: str, status_url: str, time_limit: int
) -> Response:
    """Join a private two-person conference room; alone, the caller hears hold music."""
    response = VoiceResponse()
    if intro:
        _say(response, intro)
    dial = Dial(action=action, method="POST", hangup_on_star=True, time_limit=time_limit)
    dial.conference(
        room,
        wait_url=wait_url,
        wait_method="POST",
        max_participants=2,
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
        status_callback=status_url,
        status_callback_event=CONFERENCE_EVENTS,
        status_callback_method="POST",
    )
    response.append(dial)
    return reply(response)


def hold_music(music_url: str, text: str) -> Response:
    """What a caller alone in a room hears: a word, then music, looped."""
    response = VoiceResponse()
    _say(response, text)
    response.play(music_url, loop=0)
    return reply(response)
