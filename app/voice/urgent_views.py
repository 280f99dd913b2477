"""Urgent help's webhooks: connecting a caller to their country's crisis service."""

from __future__ import annotations

from flask import Blueprint, abort, request

from app import prompts, urls
from app.db import db
from app.line import calls
from app.line.models import Step
from app.telephony import twiml
from app.telephony.failures import answer_failures
from app.telephony.signature import twilio_request
from app.telephony.webhooks import GatherResult
from app.urgent import services as urgent
from app.voice import flows

bp = Blueprint("urgent", __name__, url_prefix="/twilio/voice/urgent")


@bp.post("/choice")
@twilio_request
def choice():
    """1: connect the caller to the crisis service the URL names; else goodbye."""
    gathered = GatherResult.from_form(request.form)
    text = request.args.get("service", "")
    if text and (not text.isdigit() or len(text) > 9):
        abort(400, "not a service id")
    service = urgent.by_id(int(text)) if text else None
    if gathered.digits != "1" or service is None or not service.dial:
        return flows.goodbye()
    call = calls.by_sid(gathered.call_sid)
    if call is not None:
        calls.record(call, Step.URGENT_DIALLED, service.country)
        db.session.commit()
    return twiml.dial_number(
        prompts.URGENT_CONNECTING, service.dial, urls.public(urls.URGENT_AFTER)
    )


@bp.post("/after")
@twilio_request
def after():
    """The call to the service ended: goodbye (Twilio asks even when the caller hung up)."""
    return flows.goodbye()


answer_failures(bp, apology=prompts.APOLOGY)
