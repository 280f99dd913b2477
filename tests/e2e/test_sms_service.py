"""SMS through a Messaging Service with Advanced Opt-Out: Twilio answers the keywords with the
replies configured there and names them (OptOutType), the line answers nothing more; texts go
out through the service's numbers, a wave at their rates added up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as clock

from sqlalchemy import select

from app.db import db
from app.fusing import sessions
from app.sms import texts
from app.sms.models import Subscriber
from tests.support import LINE, TIME_SCALE, drain, eventually
from twin import MessagingService
from twin.opt_out import Keyword
from workers.sms import plan_reminders

POOL = ("+15550100097", "+15550100098", "+15550100099")  # with the line's own number: four
SERVICE = MessagingService(
    sid="MG" + "5" * 32,
    senders=POOL,
    replies={  # what an operator configures: the line's own texts
        Keyword.STOP: texts.STOPPED,
        Keyword.START: texts.CONFIRMATION,
        Keyword.HELP: texts.HELP.format(line=LINE),
    },
)
TWIN_OPTIONS = {"messaging_service": SERVICE}
LINE_CONFIG = {
    "TWILIO_MESSAGING_SERVICE_SID": SERVICE.sid,
    "SMS_SEGMENTS_PER_SECOND": 4 / TIME_SCALE,  # four long codes
    "SMS_STUCK_SECONDS": 1,
    "PURGE_TWILIO_RECORDS": False,  # a wave's purge jobs would hold the worker long after it
}
SESSION = datetime(2027, 10, 31, 9, 0, tzinfo=UTC)


def _settled(line) -> None:
    drain(line)
    assert line.twin.wait_idle(10)


def _status(line) -> str:
    with line.app.app_context():
        return db.session.scalar(select(Subscriber.status))


def test_each_keyword_gets_the_services_one_answer_and_is_recorded(line):
    number = "+447700900621"
    line.twin.send_sms(number, "JOIN")
    _settled(line)
    for word, answer, status in (
        ("Stop", texts.STOPPED, "opted_out"),
        ("UNSTOP", texts.CONFIRMATION, "active"),
        ("info", texts.HELP.format(line=LINE), "active"),
    ):
        before = len(line.twin.inbox(number))
        line.twin.send_sms(number, word)
        _settled(line)
        assert line.twin.inbox(number)[before:] == [answer], word
        assert _status(line) == status, word
    assert {h.params.get("OptOutType") for h in line.twin.webhooks if h.kind == "sms"} == {
        None,
        "STOP",
        "START",
        "HELP",
    }
    assert line.twin.errors == []


def test_a_wave_goes_out_through_every_number_of_the_service(line):
    with line.app.app_context():
        sessions.change_rule(weekday=6, start_time=clock(10, 0), timezone="Europe/Berlin")
    numbers = [f"+4915550103{i:03d}" for i in range(80)]
    for number in numbers:
        line.twin.send_sms(number, "JOIN")
    _settled(line)
    with line.app.app_context():
        assert plan_reminders(SESSION - timedelta(minutes=15)) == 80
    eventually(lambda: all(len(line.twin.inbox(n)) == 2 for n in numbers), timeout=30)
    reminders = [m for m in line.twin.messages if "Fusing Hour starts" in m.body]
    assert {m.messaging_service_sid for m in reminders} == {SERVICE.sid}
    senders = {m.from_ for m in reminders}
    assert senders <= {LINE, *POOL} and len(senders) > 1  # the service balances its numbers
    waits = [(m.date_sent - m.date_created).total_seconds() for m in reminders]
    assert max(waits) < 1.0  # four numbers' worth of rate, and no queue at Twilio
