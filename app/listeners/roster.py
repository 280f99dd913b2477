"""The roster the admin keeps: add, pause, resume, remove; a listener found by their number."""

from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from app import i18n, identity_keys
from app.db import db
from app.identity import parse_e164
from app.infra.crypto import decrypt, encrypt
from app.listeners import hours, offers
from app.listeners.models import Listener, ListenerOffer


def add(alias: str, number: str, languages: list[str], zone: str, weekly: str) -> Listener:
    """Put a listener on the roster (number encrypted); ValueError says what is wrong."""
    parsed = parse_e164(number)
    if parsed is None:
        raise ValueError(_l("not a valid phone number"))
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    caller = identity_keys.caller(e164, "roster")
    if by_identity(caller.identity) is not None:
        raise ValueError(_l("this number is on the roster already"))
    unknown = [code for code in languages if code not in i18n.LANGUAGES]
    if unknown or not languages:
        raise ValueError(_l("languages: choose at least one the line speaks"))
    hours.zone(zone)
    hours.parse(weekly)
    listener = Listener(
        alias=alias.strip(),
        identity=caller.identity,
        number_encrypted=encrypt(e164),
        masked_number=caller.masked,
        languages=",".join(languages),
        time_zone=zone,
        hours=weekly.strip(),
    )
    db.session.add(listener)
    return listener


def by_identity(identity: str) -> Listener | None:
    """The listener with this caller identity (in any of its forms)."""
    forms = identity_keys.forms(identity)
    return db.session.scalar(select(Listener).where(Listener.identity.in_(forms)))


def by_number(raw: str | None, sid: str) -> Listener | None:
    """The listener texting or calling from this number, if it is on the roster."""
    caller = identity_keys.caller(raw, sid)
    return None if caller.withheld else by_identity(caller.identity)


def number_of(listener: Listener) -> str:
    """The listener's number, decrypted for the one call that uses it."""
    return decrypt(listener.number_encrypted)


def everyone() -> list[Listener]:
    """The whole roster, by alias."""
    return list(db.session.scalars(select(Listener).order_by(Listener.alias, Listener.id)))


def set_paused(listener: Listener, paused: bool) -> bool:
    """Pause or resume a listener (not committed); whether that changed anything."""
    changed = listener.paused != paused
    listener.paused = paused
    return changed


def remove(listener: Listener) -> None:
    """Take a listener off the roster, with their offers (not committed). The offers go
    first: a ring that ends (`offers.close`) updates its offer and then its listener, so
    deleting the listener first (the offers after it, by the foreign key's cascade) could
    deadlock with it."""
    db.session.execute(delete(ListenerOffer).where(ListenerOffer.listener_id == listener.id))
    db.session.delete(listener)


def offered_now(listener: Listener) -> None:
    """After the commit that added or resumed them: a listener not paused is offered at once
    to whoever waits long enough, then to the open call-back requests."""
    if not listener.paused:
        offers.serve_soon()
