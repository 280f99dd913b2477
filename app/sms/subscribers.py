"""Subscribing and unsubscribing: consent kept with the HMAC identity, the number encrypted."""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as number_timezones
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.fusing import sessions as fusing_sessions
from app.identity import country_of, masked_form, parse_e164
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
    return db.session.scalar(select(Subscriber).where(Subscriber.identity == identity))


def consenting(identity: str) -> Subscriber | None:
    """The subscriber with this identity if they agreed to get texts and still do."""
    found = by_identity(identity)
    return found if found is not None and found.status == SubscriberStatus.ACTIVE else None


def subscribe(raw_number: str, identity: str, source: str, fallback_zone: str) -> Subscriber | None:
    """Sign a number up (or up again); None when the number cannot receive texts."""
    number = parse_e164(raw_number)
    if number is None:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    subscriber = by_identity(identity)
    if subscriber is None:
        subscriber = Subscriber(identity=identity, source=source)
        db.session.add(subscriber)
    subscriber.number_encrypted = encrypt(e164)
    subscriber.masked_number = masked_form(number)
    subscriber.timezone = _zone_of(number, fallback_zone)
    subscriber.status, subscriber.stopped_at = SubscriberStatus.ACTIVE, None
    try:
        db.session.commit()
    except IntegrityError:  # the same person signed up twice at once
        db.session.rollback()
        return subscribe(raw_number, identity, source, fallback_zone)
    return subscriber


def stop(identity: str) -> bool:
    """Unsubscribe at once and forget the number; False if they were not subscribed."""
    subscriber = by_identity(identity)
    if subscriber is None or subscriber.status == SubscriberStatus.STOPPED:
        return False
    subscriber.status, subscriber.stopped_at = SubscriberStatus.STOPPED, utcnow()
    subscriber.number_encrypted = None
    db.session.commit()
    return True


def active_count() -> int:
    """How many people get reminders now."""
    return db.session.scalar(
        select(func.count())
        .select_from(Subscriber)
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
    )


def first_unknown_text_today(identity: str) -> bool:
    """True once a day per sender: whether to answer a text the line does not understand."""
    db.session.add(UnknownTextReply(identity=identity, day=utcnow().date()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def join(raw_number: str, identity: str, source: str) -> bool:
    """Sign a caller or texter up for reminders; False if their number cannot get texts."""
    zone = fusing_sessions.rule_row().timezone  # for numbers whose own zone is unknown
    subscriber = subscribe(raw_number, identity, source, zone)
    if subscriber is None:
        return False
    if source == "call":  # a text confirms what they signed up for and how to stop
        outbox.queue_text(subscriber, TextKind.CONFIRMATION)
    return True
