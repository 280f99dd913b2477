"""Jobs for conversations in progress: the one-minute warning and the graceful end."""

from __future__ import annotations

import logging

from app import urls
from app.db import db, utcnow
from app.line.models import Conversation
from app.telephony import rest

log = logging.getLogger(__name__)


def _conference_sid(conversation: Conversation) -> str:
    return conversation.conference_sid or rest.conference_sid(conversation.room)


def warn_limit(conversation_id: int) -> str:
    """One minute before the limit, both callers hear that time is nearly up."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or conversation.ended_at or conversation.warned_at:
        return "nothing to do"
    try:
        rest.announce_to_conference(_conference_sid(conversation), urls.public(urls.ANNOUNCE_LIMIT))
    except rest.Gone:
        return "conversation over"
    conversation.warned_at = utcnow()
    db.session.commit()
    return "warned"


def end_at_limit(conversation_id: int) -> str:
    """At the limit, end the room; each caller then hears a goodbye and the after menu."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or conversation.ended_at:
        return "already over"
    if conversation.time_up_at is None:
        # Marked first, so each caller's after-menu request finds why the room ended.
        conversation.time_up_at = utcnow()
        db.session.commit()
    try:
        rest.end_conference(_conference_sid(conversation))
    except rest.Gone:
        return "already over"
    return "ended"
