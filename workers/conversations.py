"""Jobs for conversations: the one-minute warning, the graceful end, and rebuilding from
Twilio's records the start and end of those whose conference events were lost."""

from __future__ import annotations

import logging

from app import urls
from app.billing import membership
from app.db import db, utcnow
from app.line import conferences
from app.line.models import Conversation
from app.settings import settings
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


def reconcile_conversations() -> dict[str, int]:
    """Rebuild from Twilio's Conference records what lost conference events did not say.

    A pair with no start a while after the match, or with no end once both left, gets it
    from the room's conference; then what follows runs: the time limit of a conversation
    still going, and a finished one long enough uses up the free conversation.
    """
    due = conferences.unsettled()
    found = rest.conference_records([c.room for c in due], settings.RECONCILE_MAX_IN_FLIGHT)
    counts = {"checked": len(due), "started": 0, "ended": 0}
    for conversation in due:
        if conversation.room not in found:  # Twilio did not answer: the next run asks again
            continue
        started, ended = conferences.settle(conversation, found[conversation.room])
        counts["started"] += started
        counts["ended"] += ended
        if ended:
            membership.conversation_ended(conversation)
    return counts
