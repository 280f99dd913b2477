"""A Dial action that the line's own REST redirect caused changes nothing.

Redirecting a call inside a <Dial> makes Twilio request that Dial's action first (its answer
is discarded). The line marks a move before it redirects, so the request finds it."""

from __future__ import annotations

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.db import db
from app.infra import redis
from app.line import pairing
from app.line.models import Call, CallState
from tests.support import PUBLIC, call_form, twiml


def _waiting(twilio, number: str) -> dict:
    form = call_form(number)
    twilio.post("/twilio/voice", form)
    twilio.post("/twilio/voice/menu", {**form, "Digits": "1"})
    return form


def _call(form) -> Call:
    return db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))


def _queued() -> list[str]:
    found = []
    for queue in redis.queues():
        later = ScheduledJobRegistry(queue=queue).get_job_ids()
        found += [job.func_name for job in queue.jobs + [queue.fetch_job(i) for i in later] if job]
    return found


def _dial_ended(twilio, form, status: str = "completed"):
    data = {**form, "CallStatus": "in-progress", "DialCallStatus": status}
    return twiml(twilio.post("/twilio/voice/after", data))


def _snapshot(form) -> tuple:
    call = _call(form)
    return call.state, call.outcome, [(e.kind, e.detail) for e in call.events]


def test_the_action_of_a_timed_out_wait_changes_nothing_and_points_to_the_timeout(twilio, app):
    form = _waiting(twilio, "+15550100071")
    with app.app_context():
        call = _call(form)
        assert pairing.expire_wait(call.id, call.wait_token)  # committed before the redirect
        before, queued = _snapshot(form), _queued()
    root = _dial_ended(twilio, form)
    # Discarded by Twilio; should it ever play, it waits for the redirect, then goes there.
    assert [node.tag for node in root] == ["Pause", "Redirect"]
    assert root.find("Redirect").text == PUBLIC + "/twilio/voice/timeout"
    with app.app_context():
        assert _snapshot(form) == before and _call(form).state == CallState.TIMED_OUT
        assert _queued() == queued  # no rescue, nothing else


def test_the_action_of_a_rescued_partner_changes_nothing(twilio, app):
    form = _waiting(twilio, "+15550100072")
    with app.app_context():
        call = _call(form)
        call.state = CallState.MOVED  # what the rescue commits before it redirects
        db.session.commit()
        before, queued = _snapshot(form), _queued()
    root = _dial_ended(twilio, form)
    assert root.find("Redirect").text == PUBLIC + "/twilio/voice/partner-gone"
    with app.app_context():
        assert _snapshot(form) == before and _queued() == queued


def test_a_dial_that_ended_by_itself_still_reaches_the_menu(twilio, app):
    form = _waiting(twilio, "+15550100073")
    root = _dial_ended(twilio, form, "answered")  # pressed * while waiting alone
    assert root.find("Gather") is not None
    with app.app_context():
        call = _call(form)
        assert call.state == CallState.AFTER
        assert [e.kind for e in call.events][-1] == "left"
