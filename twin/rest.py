"""The REST API at Twilio's paths: auth, request log, faults, Calls and Messages."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from . import payments
from .control import register_control
from .faults import RestError
from .rest_common import ACCOUNT, RestHost, RestRecord, not_found, paged
from .rest_conferences import conference_routes

if TYPE_CHECKING:
    from .models import Message


def create_rest_app(twin: RestHost) -> Flask:
    """Build the WSGI app serving the REST API (and the twin's control API)."""
    app = Flask("twin")
    app.register_blueprint(payments.blueprint(twin.checkout))

    @app.before_request
    def log_auth_faults() -> Response | None:
        if request.path.startswith(("/_twin", "/v1/")):  # control API; payments stand-in
            return None
        record = RestRecord(
            request.method, request.path, request.form.to_dict(), request.args.to_dict()
        )
        request.environ["twin.record"] = record
        with twin.cond:
            twin.requests.append(record)
        auth = request.authorization
        path_account = (request.view_args or {}).get("account_sid")
        if (
            auth is None
            or auth.username != twin.account_sid
            or auth.password != twin.auth_token
            or (path_account and path_account != twin.account_sid)
        ):
            raise RestError(401)
        request.environ["twin.paced"] = True
        refused = twin.rest_pace.enter()  # before the faults: a refused request is no attempt
        if refused is not None:
            raise refused
        fault = twin.rest_faults.check(request.method, request.path)
        if fault is not None:
            raise fault
        return None

    @app.teardown_request
    def out_of_flight(_exc: BaseException | None) -> None:
        if request.environ.pop("twin.paced", False):
            twin.rest_pace.leave()

    @app.after_request
    def remember_status(response: Response) -> Response:
        record = request.environ.get("twin.record")
        if record is not None:
            record.status = response.status_code
        return response

    @app.errorhandler(RestError)
    def rest_error(exc: RestError) -> tuple[Response, int, dict]:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if exc.status == 401 else {}
        return jsonify(exc.body()), exc.status, headers

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        err = RestError(
            exc.code or 500,
            None,
            f"The requested resource {request.path} was not found"
            if exc.code == 404
            else exc.description,
        )
        return jsonify(err.body()), err.status

    _call_routes(app, twin)
    _message_routes(app, twin)
    conference_routes(app, twin)
    register_control(app, twin)
    return app


def _call_routes(app: Flask, twin: RestHost) -> None:
    @app.post(f"{ACCOUNT}/Calls.json")
    def create_call(account_sid: str):
        return jsonify(twin.create_call(request.form)[1]), 201

    @app.get(f"{ACCOUNT}/Calls.json")
    def list_calls(account_sid: str):
        filters = {
            "to": request.args.get("To"),
            "from_": request.args.get("From"),
            "status": request.args.get("Status"),
        }
        with twin.cond:
            calls = [
                c
                for c in reversed(twin.calls.values())
                if not c.deleted
                and all(v is None or getattr(c, k) == v for k, v in filters.items())
            ]
            return jsonify(paged(calls, "calls"))

    def find(sid: str):
        call = twin.calls.get(sid)
        if call is None or call.deleted:
            raise not_found(sid)
        return call

    @app.get(f"{ACCOUNT}/Calls/<sid>.json")
    def fetch_call(account_sid: str, sid: str):
        with twin.cond:
            return jsonify(find(sid).to_json())

    @app.post(f"{ACCOUNT}/Calls/<sid>.json")
    def update_call(account_sid: str, sid: str):
        with twin.cond:
            call = find(sid)
        twin.update_call(call, request.form.to_dict())
        with twin.cond:
            return jsonify(call.to_json())

    @app.delete(f"{ACCOUNT}/Calls/<sid>.json")
    def delete_call(account_sid: str, sid: str):
        with twin.cond:
            call = find(sid)
            _refuse_unsettled(twin, call.ended_mono)
            call.deleted = True
        return "", 204


def _refuse_unsettled(twin: RestHost, done_at: float | None) -> None:
    """Twilio's 20009: a call or message is deleted only once complete, and not at once after.

    Twilio asks to wait at least a minute after the end (several, in rare cases days):
    `delete_settle_seconds` is that wait in simulated seconds, scaled like every duration.
    """
    settle = twin.delete_settle_seconds * twin.time_scale
    if done_at is None or time.monotonic() - done_at < settle:
        raise RestError(400, 20009, "Cannot delete this resource before it is complete")


def _when(value: str | None) -> datetime | None:
    """A DateSent filter: ISO 8601 date or date-time, UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _sent_within(args: Mapping[str, str]) -> Callable[[Message], bool]:
    """The DateSent, DateSent< and DateSent> filters of the Messages list (a message not sent
    yet has no date_sent and matches none of them)."""
    day = _when(args.get("DateSent"))
    before, after = _when(args.get("DateSent<")), _when(args.get("DateSent>"))

    def matches(msg: Message) -> bool:
        sent = msg.date_sent
        if day is None and before is None and after is None:
            return True
        if sent is None:
            return False
        return (
            (day is None or sent.date() == day.date())
            and (before is None or sent <= before)
            and (after is None or sent >= after)
        )

    return matches


def _message_routes(app: Flask, twin: RestHost) -> None:
    @app.post(f"{ACCOUNT}/Messages.json")
    def create_message(account_sid: str):
        return jsonify(twin.sms.create(request.form.to_dict())), 201

    @app.get(f"{ACCOUNT}/Messages.json")
    def list_messages(account_sid: str):
        to, from_ = request.args.get("To"), request.args.get("From")
        sent = _sent_within(request.args)
        with twin.cond:
            items = [
                m
                for m in reversed(twin.sms.messages.values())
                if not m.deleted
                and (to is None or m.to == to)
                and (from_ is None or m.from_ == from_)
                and sent(m)
            ]
            return jsonify(paged(items, "messages"))

    def find(sid: str):
        msg = twin.sms.messages.get(sid)
        if msg is None or msg.deleted:
            raise not_found(sid)
        return msg

    @app.get(f"{ACCOUNT}/Messages/<sid>.json")
    def fetch_message(account_sid: str, sid: str):
        with twin.cond:
            return jsonify(find(sid).to_json())

    @app.post(f"{ACCOUNT}/Messages/<sid>.json")
    def update_message(account_sid: str, sid: str):
        with twin.cond:
            msg = find(sid)
            if request.form.get("Body") == "":
                msg.body = ""  # redaction, as Twilio allows
            return jsonify(msg.to_json())

    @app.delete(f"{ACCOUNT}/Messages/<sid>.json")
    def delete_message(account_sid: str, sid: str):
        with twin.cond:
            msg = find(sid)
            _refuse_unsettled(twin, msg.final_mono)
            msg.deleted = True
        return "", 204
