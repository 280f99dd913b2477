"""A small JSON control API so another process can drive simulated phones.

Only the line's own commands may use it: every request carries the twin's per-run token
(`Authorization: Bearer ...`) and every POST is JSON. A web page the developer happens to
open can send neither without a CORS preflight, which the twin never grants, so it cannot
dial the line or send it a validly signed text.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, jsonify, request

from .faults import RestError, RestPace

if TYPE_CHECKING:
    from .phone import Caller
    from .rest_common import RestHost


def caller_json(caller: Caller) -> dict:
    """A caller's state as JSON."""
    return {
        "sid": caller.sid,
        "number": caller.number,
        "status": caller.status,
        "heard": caller.heard,
        "conference": caller.conference,
        "conference_sid": caller.conference_sid,
        "listening": caller.listening,
        "errors": [{"code": e.code, "message": e.message, "url": e.url} for e in caller.errors],
    }


def pace_json(pace: RestPace) -> dict:
    """The REST pace knob's settings and what it counted."""
    return {
        "latency_ms": pace.latency_ms,
        "rate_429": pace.rate_429,
        "concurrency": pace.concurrency,
        "in_flight": pace.in_flight,
        "max_in_flight": pace.max_in_flight,
        "refused": pace.refused,
    }


def authorized(token: str) -> bool:
    """Whether the current request carries this control token."""
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(sent) and hmac.compare_digest(sent.encode(), token.encode())


def register_control(app: Flask, twin: RestHost) -> None:
    """Mount /_twin/... on the REST app, for holders of the twin's control token only."""
    bp = Blueprint("twin_control", __name__, url_prefix="/_twin")

    @bp.before_request
    def only_the_lines_own_commands():
        if not authorized(twin.control_token):
            return jsonify({"error": "the control token is missing or wrong"}), 401
        if request.method == "POST" and not request.is_json:
            return jsonify({"error": "the control API takes application/json only"}), 415
        return None

    def find(sid: str) -> Caller:
        caller = twin.callers.get(sid)
        if caller is None:
            raise RestError(404, 20404, f"No call {sid}")
        return caller

    @bp.post("/calls")
    def dial():
        data = request.get_json()
        caller = twin.dial(data["from"], data.get("to"))
        return jsonify(caller_json(caller)), 201

    @bp.get("/calls")
    def calls():
        with twin.cond:
            callers = list(twin.callers.values())
        return jsonify([caller_json(c) for c in callers])

    @bp.get("/calls/<sid>")
    def call(sid: str):
        return jsonify(caller_json(find(sid)))

    @bp.post("/calls/<sid>/digits")
    def digits(sid: str):
        caller = find(sid)
        caller.press(str(request.get_json()["digits"]))
        return jsonify(caller_json(caller))

    @bp.post("/calls/<sid>/hangup")
    def hangup(sid: str):
        caller = find(sid)
        caller.hang_up()
        return jsonify(caller_json(caller))

    @bp.post("/sms")
    def sms():
        data = request.get_json()
        result = twin.send_sms(data["from"], data["body"], data.get("to"))
        return jsonify(
            {
                "sid": result.sid,
                "status": result.status,
                "replies": result.replies,
                "auto_reply": result.auto_reply,
                "error": str(result.error) if result.error else None,
            }
        )

    @bp.get("/texts")
    def texts():
        return jsonify(twin.delivered_texts())

    @bp.get("/inbox/<path:number>")
    def inbox(number: str):
        return jsonify(twin.inbox(number))

    @bp.get("/conferences")
    def conferences():
        return jsonify(twin.conferences())

    @bp.get("/errors")
    def errors():
        return jsonify(
            [
                {"code": e.code, "message": e.message, "url": e.url, "call_sid": e.call_sid}
                for e in twin.errors
            ]
        )

    @bp.post("/faults")
    def faults():
        data = request.get_json()
        if data.get("clear"):
            twin.rest_faults.clear()
        else:
            twin.rest_faults.add(
                int(data["status"]),
                data.get("times", 1),
                data.get("method"),
                data.get("path_contains"),
            )
        return jsonify({"ok": True})

    @bp.get("/pace")
    def pace():
        return jsonify(pace_json(twin.rest_pace))

    @bp.post("/pace")
    def reset_pace():
        if request.get_json().get("reset"):
            twin.rest_pace.reset()
        return jsonify(pace_json(twin.rest_pace))

    app.register_blueprint(bp)
