"""REST routes for Conferences and their Participants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, jsonify, request

from .faults import RestError
from .rest_common import ACCOUNT, not_found, paged

if TYPE_CHECKING:
    from .models import Conference, Participant
    from .rest_common import RestHost

CONF = f"{ACCOUNT}/Conferences/<conference_sid>"


def conference_routes(app: Flask, twin: RestHost) -> None:
    """Register the conference and participant endpoints."""
    rooms = twin.rooms

    def find(sid: str) -> Conference:
        conf = rooms.by_sid.get(sid)
        if conf is None:
            raise not_found(sid)
        return conf

    def find_part(conf: Conference, key: str) -> Participant:
        for part in conf.participants.values():
            if key in (part.call_sid, part.label):
                return part
        raise not_found(key)

    @app.get(f"{ACCOUNT}/Conferences.json")
    def list_conferences(account_sid: str):
        name, status = request.args.get("FriendlyName"), request.args.get("Status")
        with twin.cond:
            items = [
                c
                for c in reversed(rooms.by_sid.values())
                if (name is None or c.friendly_name == name)
                and (status is None or c.status == status)
            ]
            return jsonify(paged(items, "conferences"))

    @app.get(f"{CONF}.json")
    def fetch_conference(account_sid: str, conference_sid: str):
        with twin.cond:
            return jsonify(find(conference_sid).to_json())

    @app.post(f"{CONF}.json")
    def update_conference(account_sid: str, conference_sid: str):
        form = request.form.to_dict()
        with twin.cond:
            conf = find(conference_sid)
            if form.get("Status") not in (None, "completed"):
                raise RestError(400, 21000, f"Invalid Status {form['Status']!r}")
            if conf.status == "completed":
                refusal = _ended_answer(twin.ended_conference_update, conference_sid)
                if refusal is not None:
                    raise refusal
                return jsonify(conf.to_json())  # "accept": nothing left to end or hear
            if form.get("Status") == "completed":
                rooms.end(conf, "conference-ended-via-api")
        if form.get("AnnounceUrl") and conf.status != "completed":
            rooms.announce(conf, form["AnnounceUrl"], form.get("AnnounceMethod", "POST"), None)
        with twin.cond:
            return jsonify(conf.to_json())

    @app.get(f"{CONF}/Participants.json")
    def list_participants(account_sid: str, conference_sid: str):
        muted, hold = request.args.get("Muted"), request.args.get("Hold")
        with twin.cond:
            items = [
                p
                for p in find(conference_sid).participants.values()
                if (muted is None or str(p.muted).lower() == muted.lower())
                and (hold is None or str(p.hold).lower() == hold.lower())
            ]
            return jsonify(paged(items, "participants"))

    @app.get(f"{CONF}/Participants/<call_sid>.json")
    def fetch_participant(account_sid: str, conference_sid: str, call_sid: str):
        with twin.cond:
            return jsonify(find_part(find(conference_sid), call_sid).to_json())

    @app.post(f"{CONF}/Participants/<call_sid>.json")
    def update_participant(account_sid: str, conference_sid: str, call_sid: str):
        with twin.cond:
            conf = find(conference_sid)
            part = find_part(conf, call_sid)
        rooms.update_participant(conf, part, request.form.to_dict())
        with twin.cond:
            return jsonify(part.to_json())

    @app.delete(f"{CONF}/Participants/<call_sid>.json")
    def delete_participant(account_sid: str, conference_sid: str, call_sid: str):
        with twin.cond:
            conf = find(conference_sid)
            rooms.kick(conf, find_part(conf, call_sid).call_sid)
        return "", 204


def _ended_answer(answer: str, sid: str) -> RestError | None:
    """What updating a conference that has ended gets: Twilio's docs name error 16022 for a
    completed conference but not the REST answer, so it is a knob (None: accepted, no-op)."""
    if answer == "refuse":
        return RestError(400, 16022, "Conference does not exist or is completed")
    if answer == "not-found":
        return not_found(sid)
    if answer == "accept":
        return None
    raise ValueError(f"unknown ended_conference_update {answer!r}")
