"""Request bodies are bounded before they are read: 413 for more, and no memory spent on it."""

from __future__ import annotations

import contextlib
import http.client
import os
from pathlib import Path
from urllib.parse import urlencode

import pytest

from app.billing.views import STRIPE_EVENT_MAX_BYTES
from app.infra.request_limits import DEFAULT_MAX_BODY_BYTES
from tests.support import PUBLIC, call_form, sign
from twin import launcher

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEN_MB = 10 * 1024 * 1024


def _form_body(size: int) -> bytes:
    """A url-encoded body of `size` bytes made of many small fields: the costliest to parse."""
    fields = b"&".join(b"f%d=x" % i for i in range(size // 5 + 1))
    return fields[:size]


def test_a_body_over_the_default_bound_gets_413_before_the_signature_check(client):
    body = _form_body(DEFAULT_MAX_BODY_BYTES + 1)
    headers = {**FORM, "X-Twilio-Signature": "forged"}
    assert client.post("/twilio/voice", data=body, headers=headers).status_code == 413
    under = _form_body(DEFAULT_MAX_BODY_BYTES)  # read, then refused for its signature
    assert client.post("/twilio/voice", data=under, headers=headers).status_code == 403


def test_a_signed_greeting_is_served_under_the_bound(twilio):
    assert twilio.post("/twilio/voice", call_form(Padding="x" * 20_000)).status_code == 200


def test_the_payment_webhook_takes_large_events_up_to_its_own_bound(client):
    headers = {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=forged"}
    large = b'{"pad": "' + b"x" * (DEFAULT_MAX_BODY_BYTES * 4) + b'"}'
    assert client.post("/payments/webhook", data=large, headers=headers).status_code == 400
    too_large = b"x" * (STRIPE_EVENT_MAX_BYTES + 1)
    assert client.post("/payments/webhook", data=too_large, headers=headers).status_code == 413


def test_the_admin_login_is_bounded_before_its_csrf_check_reads_the_form(client):
    body = _form_body(DEFAULT_MAX_BODY_BYTES + 1)
    assert client.post("/admin/login", data=body, headers=FORM).status_code == 413


# ---- through gunicorn, as in production ----------------------------------------------


def _status(pid: int, field: str) -> int:
    """A memory figure of a process from /proc, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


@pytest.fixture
def gunicorn(test_environment, tmp_path):
    """The app under gunicorn with one fresh worker: (port, the worker's pid).

    Fresh for each test: memory a worker once took stays resident and would hide the next
    test's growth.
    """
    port = launcher.free_port()
    web = launcher.start_web(port, dict(os.environ), workers=1, threads=2, log=tmp_path / "log")
    children = Path(f"/proc/{web.pid}/task/{web.pid}/children").read_text().split()
    try:
        yield port, int(children[0])
    finally:
        launcher.stop(web)


def _post(port: int, path: str, body: bytes, headers: dict, *, chunked: bool = False):
    """POST `body` in 64 KB pieces (nothing copied on this side); return (status, reply)."""
    view = memoryview(body)
    pieces = (view[i : i + 65536] for i in range(0, len(body), 65536))
    if not chunked:
        headers = {**headers, "Content-Length": str(len(body))}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        # The server may answer and close before the client has sent it all.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request("POST", path, body=pieces, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _growth_mb(pid: int, send) -> tuple[float, object]:
    """How far the process's resident memory rose above its start while `send()` ran."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the high-water mark starts again here
    before = _status(pid, "VmRSS")
    result = send()
    return (_status(pid, "VmHWM") - before) / 1024, result


@pytest.mark.parametrize("path", ["/twilio/voice", "/payments/webhook"])
def test_a_10_mb_body_costs_the_worker_no_memory(gunicorn, path):
    port, worker = gunicorn
    body = _form_body(TEN_MB)
    headers = {**FORM, "X-Twilio-Signature": "forged", "Stripe-Signature": "t=1,v1=forged"}
    assert _post(port, "/twilio/voice", b"a=1", headers)[0] == 403  # a warm worker
    grew, (status, _) = _growth_mb(worker, lambda: _post(port, path, body, headers))
    assert grew < 4, f"the worker grew by {grew:.1f} MB for a refused body"
    assert status == 413


def test_a_chunked_body_without_a_length_is_cut_off_at_the_bound(gunicorn):
    port, worker = gunicorn
    body = _form_body(TEN_MB)
    headers = {**FORM, "X-Twilio-Signature": "forged"}
    grew, (status, _) = _growth_mb(
        worker, lambda: _post(port, "/twilio/voice", body, headers, chunked=True)
    )
    assert grew < 4, f"the worker grew by {grew:.1f} MB for a refused body"
    assert status == 413


def test_a_chunked_greeting_under_the_bound_is_read_whole_and_served(gunicorn):
    port, _ = gunicorn
    form = call_form()
    body = urlencode(form).encode()
    headers = {**FORM, "X-Twilio-Signature": sign(PUBLIC + "/twilio/voice", form)}
    status, reply = _post(port, "/twilio/voice", body, headers, chunked=True)
    assert status == 200 and b"<Gather" in reply
