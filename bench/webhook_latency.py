"""Throughput and latency of /twilio/voice under gunicorn, against the stack's ceiling.

Runs the app as in production (gunicorn, the configured database and Redis) and a minimal
Flask app under the same gunicorn settings, and loads both with signed requests at rising
concurrency. Usage: python -m bench.webhook_latency [requests per level]
"""

from __future__ import annotations

import os
import secrets
import sys

from twilio.request_validator import RequestValidator

from bench.common import free_port, gunicorn, load, record
from bench.stack import Stack

LEVELS = (1, 8, 32)


def main(total: int = 400) -> None:
    """Measure and record."""
    with Stack(web_workers=2, web_threads=4) as stack:
        ceiling_port = free_port()
        ceiling = gunicorn("bench.ceiling:create_app()", ceiling_port, stack.env, 2, 4)
        validator = RequestValidator(stack.env["TWILIO_AUTH_TOKEN"])

        def incoming(session, index, url=stack.url + "/twilio/voice"):
            form = {
                "CallSid": f"CA{secrets.token_hex(16)}",
                "From": f"+4915550{index:06d}",
                "To": "+15550100000",
                "CallStatus": "ringing",
                "AccountSid": "AC" + "0" * 32,
            }
            signature = validator.compute_signature(url, form)
            return session.post(url, data=form, headers={"X-Twilio-Signature": signature})

        def constant(session, index, url=f"http://127.0.0.1:{ceiling_port}/twilio/voice"):
            return session.post(url, data={"CallSid": "CA1"})

        rows = [
            "| concurrency | /twilio/voice req/s | p50 ms | p99 ms | ceiling req/s | ratio |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        try:
            for level in LEVELS:
                line = load(incoming, total, level)
                top = load(constant, total, level)
                rows.append(
                    f"| {level} | {line['rps']:.0f} | {line['p50']:.1f} | {line['p99']:.1f} "
                    f"| {top['rps']:.0f} | {line['rps'] / top['rps']:.0%} |"
                )
        finally:
            ceiling.terminate()
            ceiling.wait(timeout=10)
    database = "PostgreSQL" if "postgres" in os.environ.get("DATABASE_URL", "") else "SQLite"
    record(f"Incoming-call webhook (gunicorn 2 workers x 4 threads, {database})", rows)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
