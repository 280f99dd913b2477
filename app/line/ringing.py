"""What a call the line places (a call-back, a listener's call) shares: the row that asked
for it learns its CallSid once, and only that call, while it rings, may act on the row."""

from __future__ import annotations

from sqlalchemy import update

from app.db import db


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
