"""Call log views: the filtered table, one call's timeline, and the CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import Response, abort, render_template, request, stream_with_context

from app.admin import bp, membership, zones
from app.admin.calllog import MODE_LABELS, Filters, csv_lines, outcome_choices, talk_seconds
from app.admin.forms import ActionForm
from app.admin.params import page_number
from app.db import db
from app.line.models import Call, Outcome, Step

PER_PAGE = 50
EVENT_LABELS = {
    Step.ARRIVED: "Arrived",
    Step.MENU: "Menu choice",
    Step.INFO_MENU: "Fusing Hour menu choice",
    Step.TIMEOUT_MENU: "Timeout menu choice",
    Step.AFTER_MENU: "After-conversation choice",
    Step.JOIN_MENU: "Membership offer choice",
    Step.WAITING: "Started waiting",
    Step.MATCHED: "Matched",
    Step.JOINED: "Joined the room",
    Step.LEFT_ROOM: "Left the room",
    Step.LEFT: "Left the conversation",
    Step.TIMED_OUT: "Nobody came in time",
    Step.TIMEOUT_REDIRECT: "Moved to the 'nobody is free' menu",
    Step.RESCUED: "Partner gone before they met: moved on",
    Step.REDIRECT_FAILED: "Moving the call at Twilio failed",
    Step.PARTNER_GONE: "Partner left",
    Step.FUSING_LOBBY: "Fusing Hour lobby",
    Step.FUSING_ROOM: "Fusing Hour room",
    Step.SMS_SIGNUP: "Asked for SMS reminders",
    Step.CALLBACK_CLAIMED: "Someone who asked for a call-back is being called for them",
    Step.CALLBACK: "Call-back: answered with 1",
    Step.URGENT_HELP: "Asked for urgent help",
    Step.URGENT_DIALLED: "Connected to the crisis service",
    Step.ENDED: "Call ended",
    Step.MASKED: "Record checked: masked only",
    Step.PURGED: "Purged at Twilio",
    Step.PURGE_FAILED: "Purge at Twilio failed",
    Outcome.BLOCKED: "Turned away: blocked",
    Outcome.RATE_LIMITED: "Turned away: too many calls",
    Outcome.NOT_MEMBER: "Offered membership: no free conversation left",
    Outcome.CALLBACK_ASKED: "Asked to be called back",
}


@bp.get("/calls")
def calls():
    """The call log, newest first, filtered by date range, outcome and mode."""
    filters = Filters.from_args(request.args)
    page = db.paginate(
        filters.query(),
        page=page_number(request.args),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "admin/calls.html",
        page=page,
        filters=filters,
        talked=talk_seconds(c.id for c in page.items),
        outcomes=outcome_choices(),
        modes=MODE_LABELS,
        today=zones.today(),
    )


@bp.get("/calls/<int:call_id>")
def call_detail(call_id: int):
    """One call: its facts, its timeline in time order, and its caller's membership."""
    call = db.session.get(Call, call_id) or abort(404)
    return render_template(
        "admin/call.html",
        call=call,
        talked=talk_seconds([call.id])[call.id],
        events=timeline(call),
        labels=EVENT_LABELS,
        member=None if call.withheld else membership.status_of(call.identity),
        form=ActionForm(),
    )


class TimelineRow(NamedTuple):
    """One line of a call's timeline."""

    kind: str
    at: datetime
    detail: str | None = None


def timeline(call: Call) -> list[TimelineRow]:
    """The call's steps in time order, starting with its arrival (kept on the call's row).

    Twilio's callbacks carry whole-second timestamps while the line stamps its own steps
    to the microsecond, so steps within one second keep the order they were recorded in.
    """
    arrived = TimelineRow(Step.ARRIVED, call.arrived_at, "withheld" if call.withheld else None)
    steps = sorted(call.events, key=lambda e: (e.at.replace(microsecond=0), e.id))
    return [arrived, *(TimelineRow(e.kind, e.at, e.detail) for e in steps)]


@bp.get("/calls.csv")
def calls_csv():
    """The filtered call log as CSV (masked numbers only)."""
    filters = Filters.from_args(request.args)
    stamp = zones.today().isoformat()
    return Response(
        stream_with_context(csv_lines(filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="mindfuse-calls-{stamp}.csv"'},
    )
