"""Call log views: the filtered table, one call's timeline, and the CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l

from app.admin import bp, membership, zones
from app.admin.calllog import MODE_LABELS, Filters, csv_lines, outcome_choices, talk_seconds
from app.admin.forms import ActionForm
from app.admin.params import page_number
from app.db import db
from app.line.models import Call, Outcome, Step

PER_PAGE = 50
EVENT_LABELS = {
    Step.ARRIVED: _l("Arrived"),
    Step.MENU: _l("Menu choice"),
    Step.INFO_MENU: _l("Fusing Hour menu choice"),
    Step.TIMEOUT_MENU: _l("Timeout menu choice"),
    Step.AFTER_MENU: _l("After-conversation choice"),
    Step.JOIN_MENU: _l("Membership offer choice"),
    Step.WAITING: _l("Started waiting"),
    Step.MATCHED: _l("Matched"),
    Step.JOINED: _l("Joined the room"),
    Step.LEFT_ROOM: _l("Left the room"),
    Step.LEFT: _l("Left the conversation"),
    Step.TIMED_OUT: _l("Nobody came in time"),
    Step.TIMEOUT_REDIRECT: _l("Moved to the 'nobody is free' menu"),
    Step.RESCUED: _l("Partner gone before they met: moved on"),
    Step.REDIRECT_FAILED: _l("Moving the call at Twilio failed"),
    Step.PARTNER_GONE: _l("Partner left"),
    Step.FUSING_LOBBY: _l("Fusing Hour lobby"),
    Step.FUSING_ROOM: _l("Fusing Hour room"),
    Step.SMS_SIGNUP: _l("Asked for SMS reminders"),
    Step.ENDED: _l("Call ended"),
    Step.MASKED: _l("Record checked: masked only"),
    Step.PURGED: _l("Purged at Twilio"),
    Step.PURGE_FAILED: _l("Purge at Twilio failed"),
    Outcome.BLOCKED: _l("Turned away: blocked"),
    Outcome.RATE_LIMITED: _l("Turned away: too many calls"),
    Outcome.NOT_MEMBER: _l("Offered membership: no free conversation left"),
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
