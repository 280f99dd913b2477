"""Subscribing and unsubscribing: consent kept with the HMAC identity, the number encrypted."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from phonenumbers import timezone as number_timezones
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import i18n, identity_keys
from app.db import db, utcnow
from app.fusing import sessions as fusing_sessions
from app.identity import country_of, masked_form, parse_e164
from app.line.models import CallerLanguage
from app.sms import outbox
from app.sms.crypto import encrypt
from app.sms.models import Subscriber, SubscriberStatus, TextKind, UnknownTextReply


def _zone_of(number: phonenumbers.PhoneNumber, fallback: str) -> str:
    """The number's own time zone; for an unassigned range, its country's (or `fallback`)."""
    for candidate in (number, _example_in_country(number)):
        if candidate is None:
            continue
        zones = [z for z in number_timezones.time_zones_for_number(candidate) if "Unknown" not in z]
        if zones:
            return zones[0]
    return fallback


def _example_in_country(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber | None:
    region = country_of(number)
    return phonenumbers.example_number(region) if region else None


def by_identity(identity: str) -> Subscriber | None:
    """The subscriber with this caller identity, active or not."""
    forms = identity_keys.forms(identity)
    return db.session.scalar(select(Subscriber).where(Subscriber.identity.in_(forms)))


def consenting(identity: str) -> Subscriber | None:
    """The subscriber with this identity if they agreed to get texts and still do."""
    found = by_identity(identity)
    return found if found is not None and found.status == SubscriberStatus.ACTIVE else None


def subscribe(raw_number: str, identity: str, source: str, fallback_zone: str) -> Subscriber | None:
    """Sign a number up (or up again); None when it cannot receive texts from the line."""
    number = parse_e164(raw_number)
    subscriber = by_identity(identity)
    if number is None or (subscriber and subscriber.status == SubscriberStatus.OPTED_OUT):
        return None  # Twilio would refuse every text to an opted-out number: START lifts it
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if subscriber is None:
        subscriber = Subscriber(identity=identity, source=source)
        db.session.add(subscriber)
    subscriber.number_encrypted = encrypt(e164)
    subscriber.masked_number = masked_form(number)
    subscriber.timezone = _zone_of(number, fallback_zone)
    subscriber.status, subscriber.stopped_at = SubscriberStatus.ACTIVE, None
    subscriber.changed_at = utcnow()
    subscriber.language = i18n.current()  # the language of the call or text that signed up
    try:
        db.session.commit()
    except IntegrityError:  # the same person signed up twice at once
        db.session.rollback()
        return subscribe(raw_number, identity, source, fallback_zone)
    return subscriber


def stop(raw_number: str, identity: str, *, at_provider: bool) -> bool:
    """Unsubscribe at once and forget the number; False if they were not subscribed.

    `at_provider`: Twilio opted the number out too, and refuses texts to it until START. That
    is kept even for someone who never subscribed, so the line does not text them either.
    """
    subscriber = by_identity(identity)
    if subscriber is None and at_provider:
        subscriber = _stopped_row(raw_number, identity)
    if subscriber is None:
        return False
    was_active = subscriber.status == SubscriberStatus.ACTIVE
    if at_provider or subscriber.status == SubscriberStatus.OPTED_OUT:
        subscriber.status = SubscriberStatus.OPTED_OUT
    else:
        subscriber.status = SubscriberStatus.STOPPED
    subscriber.stopped_at = subscriber.stopped_at if not was_active else utcnow()
    subscriber.changed_at = utcnow()
    subscriber.number_encrypted = None
    try:
        db.session.commit()
    except IntegrityError:  # a first STOP and a sign-up at once: the other row wins, stop it
        db.session.rollback()
        return stop(raw_number, identity, at_provider=at_provider)
    return was_active


def _stopped_row(raw_number: str, identity: str) -> Subscriber | None:
    number = parse_e164(raw_number)
    if number is None:
        return None
    subscriber = Subscriber(
        identity=identity,
        source="text",
        masked_number=masked_form(number),
        timezone=_zone_of(number, fusing_sessions.rule_row().timezone),
        stopped_at=utcnow(),
    )
    db.session.add(subscriber)
    return subscriber


def refused(subscriber: Subscriber) -> None:
    """Twilio refused a text because the number opted out there (21610): stop as STOP does."""
    subscriber.status, subscriber.stopped_at = SubscriberStatus.OPTED_OUT, utcnow()
    subscriber.changed_at = subscriber.stopped_at
    subscriber.number_encrypted = None
    db.session.commit()


def opt_in(identity: str) -> None:
    """Twilio took START from this number: it texts them again, so the line may sign them up."""
    subscriber = by_identity(identity)
    if subscriber is not None and subscriber.status == SubscriberStatus.OPTED_OUT:
        subscriber.status, subscriber.changed_at = SubscriberStatus.STOPPED, utcnow()
        db.session.commit()


def opted_out(identity: str) -> bool:
    """Whether Twilio refuses texts to this sender (they opted out and have not sent START)."""
    found = by_identity(identity)
    return found is not None and found.status == SubscriberStatus.OPTED_OUT


def active_count() -> int:
    """How many people get reminders now."""
    return db.session.scalar(
        select(func.count())
        .select_from(Subscriber)
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
    )


def active_by_zone() -> dict[str, int]:
    """How many people get reminders, by the time zone their reminders are worded in."""
    rows = db.session.execute(
        select(Subscriber.timezone, func.count())
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .group_by(Subscriber.timezone)
    )
    return {zone: count for zone, count in rows}


def counts() -> dict[str, int]:
    """How many subscribers are in each status (every status listed, none left out)."""
    rows = db.session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    found = dict.fromkeys(SubscriberStatus, 0)
    found.update({status: count for status, count in rows})
    return found


def active_by_source() -> dict[str, int]:
    """How many people get reminders, by how they signed up (a call or a text)."""
    rows = db.session.execute(
        select(Subscriber.source, func.count())
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .group_by(Subscriber.source)
    )
    return {source: count for source, count in rows}


def recent_changes(limit: int = 20) -> list[tuple[datetime, str, str, str]]:
    """The latest sign-ups and stops, newest first: when, the status it left, how they signed
    up, their reminders' time zone. Never a number."""
    rows = db.session.execute(
        select(Subscriber.changed_at, Subscriber.status, Subscriber.source, Subscriber.timezone)
        .order_by(Subscriber.changed_at.desc(), Subscriber.id.desc())
        .limit(limit)
    )
    return [tuple(row) for row in rows]


def active_by_zone_and_language() -> dict[tuple[str, str | None], int]:
    """How many people get reminders, by the zone and the language they are worded in."""
    rows = db.session.execute(
        select(Subscriber.timezone, Subscriber.language, func.count())
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .group_by(Subscriber.timezone, Subscriber.language)
    )
    return {(zone, language): count for zone, language, count in rows}


def first_unknown_text_today(identity: str) -> bool:
    """True once a day per sender: whether to answer a text the line does not understand."""
    db.session.add(UnknownTextReply(identity=identity, day=utcnow().date()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def language_of(identity: str, called: str | None) -> str:
    """The language to text someone in: theirs as a subscriber, else the one they chose on a
    call, else that of the line's number they texted."""
    forms = identity_keys.forms(identity)
    chosen = db.session.scalar(select(Subscriber.language).where(Subscriber.identity.in_(forms)))
    if chosen is None:
        chosen = db.session.scalar(
            select(CallerLanguage.language).where(CallerLanguage.identity.in_(forms))
        )
    return i18n.valid(chosen) or i18n.language_of_number(called)


def join(raw_number: str, identity: str, source: str) -> bool:
    """Sign a caller or texter up for reminders; False if their number cannot get texts."""
    zone = fusing_sessions.rule_row().timezone  # for numbers whose own zone is unknown
    subscriber = subscribe(raw_number, identity, source, zone)
    if subscriber is None:
        return False
    if source == "call":  # a text confirms what they signed up for and how to stop
        outbox.queue_text(subscriber, TextKind.CONFIRMATION)
    return True
