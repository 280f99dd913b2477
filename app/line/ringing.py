"""What a call the line places (a call-back, a listener's call) shares: the row that asked
for it learns its CallSid once, and only that call, while it rings, may act on the row."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update

from app.db import db

# What may be ringing for a waiting caller (a listener's phone, a call-back): each kind says,
# from its own package (those import this one; it imports neither).
_RINGS: list[Callable[[int], bool]] = []


def for_a_waiting_caller(check: Callable[[int], bool]) -> Callable[[int], bool]:
    """Declare `check(call_id)`, whether a call of one kind rings for this waiting caller."""
    _RINGS.append(check)
    return check


def any_for(call_id: int) -> bool:
    """Whether anything the line placed rings for this waiting caller now."""
    return any(check(call_id) for check in _RINGS)


def note_call_sid(row, sid: str) -> None:
    """Twilio took the call: note its sid on the row (the first sid noted stays). Commits."""
    model = type(row)
    db.session.execute(
        update(model).where(model.id == row.id, model.call_sid.is_(None)).values(call_sid=sid)
    )
    db.session.commit()


def is_its_call(row, ringing: str, sid: str) -> bool:
    """Whether this call is the row's own, and the row is still in its `ringing` state."""
    if row.state != ringing:
        return False
    if row.call_sid is None:  # Twilio answered before the placing job noted the sid
        note_call_sid(row, sid)
        db.session.refresh(row)
    return row.call_sid == sid
