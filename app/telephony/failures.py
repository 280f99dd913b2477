"""What a Twilio webhook answers when Redis, the database or Twilio's API fails."""

from __future__ import annotations

import logging

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from app.db import db
from app.settings import settings
from app.telephony import twiml

log = logging.getLogger(__name__)


def answer_failures(
    bp: Blueprint,
    apology: str | None = None,
    callbacks: frozenset[str] = frozenset(),
    wait_documents: frozenset[str] = frozenset(),
    wait_apology: str | None = None,
) -> None:
    """Make every failure in `bp` an answer Twilio can use, never an error page.

    A caller on the line hears `apology` and is hung up. Callbacks (the endpoints named in
    `callbacks`, or all of them when there is no apology) get a 503 and nobody hears
    anything. Twilio retries it only if the URL's connection overrides name 5xx (the line's
    callback URLs do, see app.urls.RETRIES) and it honours them there; the reconciliation
    jobs recover what is lost, so nothing depends on a retry. A waitUrl document
    (`wait_documents`) may not hang up (error 13238): its caller hears `wait_apology` and
    music that loops.
    """

    def failed(error: Exception):
        if isinstance(error, HTTPException):
            return error
        log.exception("%s webhook %s failed", bp.name, request.endpoint)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the database may be the thing that is down
            log.warning("rollback failed after a webhook error")
        if apology is None or request.endpoint in callbacks:
            return "", 503
        if request.endpoint in wait_documents:
            return twiml.hold_music(settings.HOLD_MUSIC_URL, wait_apology or apology)
        return twiml.say_and_hang_up(apology)

    bp.register_error_handler(Exception, failed)
