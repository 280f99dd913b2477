"""Where the time of the menu key 1 goes (a wait, or a pairing): pyinstrument and SQL count.

Runs in-process against the configured PostgreSQL and Redis (a fresh schema, as the other
benchmarks): callers are greeted, then press 1 one after the other, so every other press
finds the one caller waiting. Usage: python -m bench.profile_menu [presses] [html path]
"""

from __future__ import annotations

import secrets
import sys
import time

from twilio.request_validator import RequestValidator

from app import create_app
from app.db import db
from bench.profile_incoming import _statements, finish, layer_rows, profiled
from bench.stack import Stack


def main(count: int = 400, html: str | None = None) -> None:
    """Profile `count` presses of key 1 and record where their time went."""
    with Stack(web_workers=1, web_threads=1, WAIT_TIMEOUT_SECONDS="3600") as stack:
        app = create_app()
        client = app.test_client()
        validator = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"])
        base = stack.env["PUBLIC_BASE_URL"]

        def post(path: str, form: dict) -> None:
            headers = {"X-Twilio-Signature": validator.compute_signature(base + path, form)}
            assert client.post(path, data=form, headers=headers).status_code == 200

        def press(index: int) -> None:
            form = {
                "CallSid": "CA" + secrets.token_hex(16),
                "From": f"+491555{index:07d}",
                "To": "+15550100000",
                "CallStatus": "ringing",
            }
            post("/twilio/voice", form)
            arrived = int(time.time() * 1000)
            form |= {"Digits": "1", "CallStatus": "in-progress"}
            post(f"/twilio/voice/menu?arrived={arrived}", form)

        for index in range(50):  # warm the connection pools and caches
            press(index)
        with app.app_context():
            waits = _statements(db.engine, lambda: press(49_998))
            pairs = _statements(db.engine, lambda: press(49_999))
        profiler, session, wall = profiled(press, range(50, 50 + count))
    rows = layer_rows(
        session,
        count,
        f"{count} greetings and presses of key 1 in-process (Flask test client), half waiting "
        f"and half pairing, {wall / count * 1000:.2f} ms each pair of requests.",
        "greeting and press",
    )
    for name, seen in (("waits", waits), ("pairs", pairs)):
        rows += ["", f"SQL statements of a greeting and a press that {name}: {len(seen)}", ""]
        rows += [f"- `{sql}`" for sql in seen]
    finish(
        profiler, html, "Profile of the menu key 1 (pyinstrument, PostgreSQL, Redis)", rows, 8000
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400, sys.argv[2] if len(sys.argv) > 2 else None)
