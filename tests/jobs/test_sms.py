"""The text jobs against the twin's REST API: texts handed over at the sender's rate, through
the Messaging Service when there is one, reminders valid only for their lead; and when each
reminder wave is planned."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import pytest
from sqlalchemy import select, update

from app import jobs
from app.db import db, utcnow
from app.fusing import sessions
from app.infra import redis
from app.sms import waves
from app.sms.crypto import encrypt
from app.sms.models import Subscriber, TextMessage
from tests.support import LINE
from twin import MessagingService, Twin
from workers import sms as workers_sms
from workers.sms import plan_reminders, send_batch

RATE = 20  # segments a second, for the line and for the twin below alike
SESSION = datetime(2027, 3, 7, 9, 0, tzinfo=UTC)  # a Sunday, 10:00 in Berlin


@pytest.fixture
def sender(app):
    """A twin answering REST whose long code sends RATE segments a real second."""
    app.config["SMS_SEGMENTS_PER_SECOND"] = RATE
    config = app.config
    with Twin(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        phone_number=config["TWILIO_PHONE_NUMBER"],
        time_scale=1 / RATE,
        messaging_service=MessagingService(),
    ) as tw:
        config["TWILIO_API_BASE"] = tw.api_base
        yield tw


def _subscribers(count: int, zone: str = "Europe/Berlin") -> list[int]:
    rows = [
        Subscriber(
            identity=f"{zone}-{i:04d}".ljust(64, "x"),
            number_encrypted=encrypt(f"+491555{i:07d}"),
            masked_number=f"+49 ••• •••• {i % 100:02d}",
            timezone=zone,
            source="text",
        )
        for i in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def _texts(subscriber_ids: list[int], kind: str = "confirmation", **fields) -> list[int]:
    rows = [TextMessage(subscriber_id=i, kind=kind, **fields) for i in subscriber_ids]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def _creates(tw: Twin) -> list:
    return [r for r in tw.requests if r.method == "POST" and r.path.endswith("/Messages.json")]


def test_every_worker_together_hands_texts_over_at_the_senders_rate(app, sender):
    with app.app_context():
        ids = _texts(_subscribers(8))

    def work(chunk):
        with app.app_context():
            send_batch(chunk)

    workers = [threading.Thread(target=work, args=(ids[i::2],)) for i in range(2)]
    began = time.time()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    times = sorted(r.at for r in _creates(sender))
    assert len(times) == 8
    assert times[-1] - began >= 7 / RATE  # one turn each, shared by both workers


def test_a_text_of_two_segments_takes_two_turns(app, sender):
    with app.app_context():
        people = _subscribers(2)
        link, confirmation = _texts(people[:1], "payment_link"), _texts(people[1:])
        began = time.time()
        send_batch(link, link="https://pay.example.test/" + "x" * 120)  # two segments
        send_batch(confirmation)
    _, second = (r.at for r in _creates(sender))
    assert second - began >= 2 / RATE


def test_texts_go_through_the_messaging_service_when_there_is_one(app, sender):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = MessagingService().sid
    with app.app_context():
        assert send_batch(_texts(_subscribers(1))) == {
            "sent": 1,
            "skipped": 0,
            "opted_out": 0,
            "failed": 0,
        }
    form = _creates(sender)[0].form
    assert form["MessagingServiceSid"] == MessagingService().sid and "From" not in form


def test_a_reminder_is_valid_at_twilio_only_for_its_own_lead(app, sender):
    with app.app_context():
        sessions.change_rule(weekday=6, start_time=clock(10, 0), timezone="Europe/Berlin")
        sessions.session_for(sessions.upcoming(SESSION - timedelta(days=1)))
        people = _subscribers(2)
        reminder = _texts(people[:1], "reminder", session_starts_at=SESSION, offset_minutes=15)
        send_batch(reminder + _texts(people[1:]))
    validity = [r.form.get("ValidityPeriod") for r in _creates(sender)]
    assert validity == ["900", None]


def test_a_full_queue_at_twilio_gives_the_text_back_for_a_retry(app, sender):
    sender.rest_faults.add(status=400, code=21611, method="POST", path_contains="/Messages")
    with app.app_context():
        ids = _texts(_subscribers(1))
        with pytest.raises(Exception, match="21611"):
            send_batch(ids)
        assert db.session.get(TextMessage, ids[0]).status == "queued"
        assert send_batch(ids)["sent"] == 1


def test_a_number_twilio_opted_out_is_marked_so(app, sender):
    with app.app_context():
        ids = _texts(_subscribers(1))
        sender.opt_out("+4915550000000")
        assert send_batch(ids)["opted_out"] == 1
        subscriber = db.session.scalar(select(Subscriber))
        assert subscriber.status == "opted_out" and subscriber.number_encrypted is None


def _berlin_sundays() -> None:
    sessions.change_rule(weekday=6, start_time=clock(10, 0), timezone="Europe/Berlin")


def test_a_wave_starts_its_size_over_the_rate_before_it_is_due(app):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 1.0
    with app.app_context():
        _berlin_sundays()
        occurrence = sessions.upcoming(SESSION - timedelta(days=2))
        day_before, last = waves.plan(occurrence, {"Europe/Berlin": 10_000})
        assert last.due == SESSION - timedelta(minutes=15) and last.texts == 10_000
        assert last.sending == timedelta(seconds=10_000)  # one segment each, one a second
        assert last.begins == last.due - timedelta(seconds=11_000 + 60)
        assert last.fits and last.earliest == day_before.due
        app.config["SMS_SEGMENTS_PER_SECOND"] = 100.0  # a Messaging Service's pool
        faster = waves.plan(occurrence, {"Europe/Berlin": 10_000})[1]
        assert faster.begins == faster.due - timedelta(seconds=110 + 60)


def test_a_wave_that_cannot_fit_does_not_overlap_the_one_before(app):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 1.0
    with app.app_context():
        _berlin_sundays()
        occurrence = sessions.upcoming(SESSION - timedelta(days=2))
        day_before, last = waves.plan(occurrence, {"Europe/Berlin": 100_000})
        assert not last.fits and last.begins == day_before.due
        assert not day_before.fits and day_before.begins == day_before.due - timedelta(days=1)


def test_reminders_are_planned_from_the_wave_start_and_not_when_long_missed(app):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 1.0
    with app.app_context():
        _berlin_sundays()
        _subscribers(600)
        due = SESSION - timedelta(minutes=15)
        begins = due - timedelta(seconds=660 + 60)
        assert plan_reminders(begins - timedelta(seconds=5)) == 0
        assert plan_reminders(begins + timedelta(seconds=5)) == 600
        assert plan_reminders(due) == 0  # planned once
        db.session.execute(TextMessage.__table__.delete())
        db.session.commit()
        assert plan_reminders(due + timedelta(minutes=8)) == 0  # missed by over half its lead


def test_two_workers_given_the_same_texts_send_each_once(app, sender):
    with app.app_context():
        ids = _texts(_subscribers(6))

    def work():
        with app.app_context():
            send_batch(ids)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert sorted(r.form["To"] for r in _creates(sender)) == [f"+491555{i:07d}" for i in range(6)]


def test_texts_a_dead_worker_left_are_looked_up_at_twilio_and_sent_once(app, sender):
    app.config["SMS_STUCK_SECONDS"] = 0
    with app.app_context():
        people = _subscribers(3)
        long_ago = utcnow() - timedelta(minutes=5)
        (lost,) = _texts(people[1:2], status="sending", claimed_at=long_ago)
        waiting = _texts(people[2:], created_at=long_ago)
        # Claimed, and at Twilio within the same second: Twilio's dates have whole seconds.
        (left,) = _texts(people[:1], status="sending", claimed_at=utcnow())
        sender.client().messages.create(to="+4915550000000", from_=LINE, body="Welcome")
        plan_reminders()
        found = db.session.get(TextMessage, left)
        assert found.status == "sent" and found.sid == sender.messages[0].sid  # now purgeable
        assert db.session.get(TextMessage, lost).status == "queued"
        (job,) = jobs.SEND_BATCH.queue().jobs
        assert job.id.startswith("sms-again-") and job.args == ([lost, *waiting],)


def test_a_text_another_worker_claimed_while_this_one_waited_its_turn_is_not_sent(
    app, sender, monkeypatch
):
    with app.app_context():
        (text_id,) = _texts(_subscribers(1))

    def claimed_meanwhile(segments):  # the other worker's claim lands during the wait
        with app.app_context():
            db.session.execute(
                update(TextMessage).where(TextMessage.id == text_id).values(status="sending")
            )
            db.session.commit()

    monkeypatch.setattr(workers_sms, "_pace", claimed_meanwhile)
    with app.app_context():
        assert send_batch([text_id]) == {"sent": 0, "skipped": 1, "opted_out": 0, "failed": 0}
    assert _creates(sender) == []


def test_a_claim_younger_than_the_stuck_time_is_left_to_its_worker(app, sender):
    app.config["SMS_STUCK_SECONDS"] = 60
    with app.app_context():
        people = _subscribers(2)
        (busy,) = _texts(people[:1], status="sending", claimed_at=utcnow() - timedelta(seconds=30))
        (fresh,) = _texts(people[1:])  # queued a moment ago: its chunk is still coming
        plan_reminders()
        plan_reminders(utcnow() + timedelta(hours=1))  # a planning time, not the claims' clock
        assert db.session.get(TextMessage, busy).status == "sending"
        assert db.session.get(TextMessage, fresh).status == "queued"
        assert not [
            job for job in jobs.SEND_BATCH.queue().get_job_ids() if job.startswith("sms-again-")
        ]
    assert [r for r in sender.requests if r.path.endswith("/Messages.json")] == []


def test_a_stuck_text_is_settled_by_what_twilio_says_it_sent(app, sender):
    app.config["SMS_STUCK_SECONDS"] = 0
    with app.app_context():
        people = _subscribers(2)
        claimed = utcnow() - timedelta(seconds=5)
        left, lost = _texts(people, status="sending", claimed_at=claimed)
        # Only the first one's text is at Twilio, to its number, after the claim.
        sender.client().messages.create(to="+4915550000000", from_=LINE, body="Welcome")
        for text_id, went in ((left, True), (lost, False)):
            message = db.session.get(TextMessage, text_id)
            assert workers_sms._left(message) is went
        assert db.session.get(TextMessage, left).status == "sent"
        found = db.session.get(TextMessage, lost)
        assert found.status == "queued" and found.claimed_at is None


def test_a_wave_is_planned_for_each_active_subscriber_without_one_and_no_one_else(app):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 1.0
    with app.app_context():
        _berlin_sundays()
        first, stopped = _subscribers(2)
        db.session.get(Subscriber, stopped).status = "opted_out"
        db.session.commit()
        due = SESSION - timedelta(minutes=15)
        assert plan_reminders(due) == 1
        (later,) = _subscribers(1, zone="Europe/Paris")  # signed up after the wave began
        assert plan_reminders(due) == 1
        planned = db.session.scalars(select(TextMessage.subscriber_id)).all()
        assert sorted(planned) == sorted([first, later])


def test_a_text_sent_long_ago_is_not_taken_for_a_stuck_one(app, sender):
    app.config["SMS_STUCK_SECONDS"] = 0
    with app.app_context():
        (sent,) = _texts(_subscribers(1), status="sent", claimed_at=utcnow() - timedelta(hours=1))
        plan_reminders()
        assert db.session.get(TextMessage, sent).status == "sent"
        assert [q.get_job_ids() for q in redis.queues()] == [[], []]
    assert [r for r in sender.requests if "/Messages" in r.path] == []  # nothing asked


def test_a_stuck_text_of_someone_who_stopped_meanwhile_is_settled_not_sent(app, sender):
    app.config["SMS_STUCK_SECONDS"] = 0
    with app.app_context():
        (person,) = _subscribers(1)
        (text_id,) = _texts([person], status="sending", claimed_at=utcnow() - timedelta(minutes=5))
        db.session.get(Subscriber, person).number_encrypted = None  # STOP while it was claimed
        db.session.commit()
        assert workers_sms._left(db.session.get(TextMessage, text_id)) is True
        assert db.session.get(TextMessage, text_id).status == "sent"
        plan_reminders()
        assert [q.get_job_ids() for q in redis.queues()] == [[], []]
    assert _creates(sender) == []


def test_a_wave_counts_only_its_own_reminders_as_already_planned(app):
    app.config["SMS_SEGMENTS_PER_SECOND"] = 1.0
    with app.app_context():
        _berlin_sundays()
        (person,) = _subscribers(1)
        week_before = SESSION - timedelta(days=7)
        _texts([person])  # the confirmation
        _texts([person], kind="reminder", session_starts_at=SESSION, offset_minutes=1440)
        _texts([person], kind="reminder", session_starts_at=week_before, offset_minutes=15)
        assert plan_reminders(SESSION - timedelta(minutes=15)) == 1
        planned = db.session.scalars(select(TextMessage).order_by(TextMessage.id.desc())).first()
        assert (planned.kind, planned.offset_minutes) == ("reminder", 15)
        assert planned.session_starts_at == SESSION and planned.subscriber_id == person
