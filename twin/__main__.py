"""Run the twin as its own process: `python -m twin --port 8700 --voice-url ...`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from pathlib import Path

from .faults import RestPace
from .handle import Twin

CONTROL_TOKEN_FILE = "twin-control-token"  # under the line's instance/, for `mindfuse call`


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults from the TWILIO_* / TWIN_* environment)."""
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m twin", description=__doc__)
    parser.add_argument("--host", default=env("TWIN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("TWIN_PORT", "8700")))
    parser.add_argument("--account-sid", default=env("TWILIO_ACCOUNT_SID", "AC" + "0" * 32))
    parser.add_argument("--auth-token", default=env("TWILIO_AUTH_TOKEN", "twin-auth-token"))
    parser.add_argument("--phone-number", default=env("TWILIO_PHONE_NUMBER", "+15550100000"))
    parser.add_argument("--voice-url", default=env("TWIN_VOICE_URL"))
    parser.add_argument("--status-callback", default=env("TWIN_STATUS_CALLBACK"))
    parser.add_argument("--sms-url", default=env("TWIN_SMS_URL"))
    parser.add_argument("--time-scale", type=float, default=float(env("TWIN_TIME_SCALE", "1")))
    parser.add_argument(
        "--say-seconds",
        type=float,
        default=float(env("TWIN_SAY_SECONDS", "0")),
        help="simulated seconds one <Say> lasts (keys pressed meanwhile interrupt a prompt)",
    )
    parser.add_argument(
        "--speech-wpm",
        type=float,
        default=float(env("TWIN_SPEECH_WPM", "0")),
        help="words a minute a <Say> is spoken at, on top of --say-seconds (0: no time a word)",
    )
    parser.add_argument(
        "--delete-settle-seconds",
        type=float,
        default=float(env("TWIN_DELETE_SETTLE_SECONDS", "60")),
        help="simulated seconds a finished call or message cannot be deleted (20009)",
    )
    parser.add_argument(
        "--ended-conference-update",
        choices=("refuse", "not-found", "accept"),
        default=env("TWIN_ENDED_CONFERENCE_UPDATE", "refuse"),
        help="the answer to updating a conference that has ended (refuse: 16022)",
    )
    parser.add_argument(
        "--rest-latency-ms",
        type=float,
        default=float(env("TWIN_REST_LATENCY_MS", "0")),
        help="milliseconds before each REST answer (Twilio's over the internet: tens to hundreds)",
    )
    parser.add_argument(
        "--rest-429-rate",
        type=float,
        default=float(env("TWIN_REST_429_RATE", "0")),
        help="share of REST requests refused at random with 429 (20429), 0 to 1",
    )
    parser.add_argument(
        "--rest-concurrency",
        type=int,
        default=int(env("TWIN_REST_CONCURRENCY", "0")) or None,
        help="REST requests in flight at once beyond which each gets 429 [default: no limit]",
    )
    parser.add_argument(
        "--callback-workers",
        type=int,
        default=int(env("TWIN_CALLBACK_WORKERS", "4")),
        help="threads delivering status callbacks to the line",
    )
    parser.add_argument("--log-requests", action="store_true", help="log every HTTP request")
    parser.add_argument(
        "--control-token",
        default=env("TWIN_CONTROL_TOKEN"),
        help="what the control API (/_twin) asks for [default: a new one each run]",
    )
    parser.add_argument(
        "--control-token-file",
        default=env("TWIN_CONTROL_TOKEN_FILE"),
        help="write the control token to this file (mode 0600) instead of printing it",
    )
    return parser.parse_args(argv)


def write_token(path: Path, token: str) -> None:
    """Keep the control token in a file only its owner can read."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # an older one may have another mode
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")


def main(argv: list[str] | None = None) -> None:
    """Start the twin and serve until interrupted."""
    args = parse_args(argv)
    twin = Twin(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        phone_number=args.phone_number,
        voice_url=args.voice_url,
        status_callback=args.status_callback,
        sms_url=args.sms_url,
        time_scale=args.time_scale,
        say_seconds=args.say_seconds,
        speech_wpm=args.speech_wpm,
        host=args.host,
        port=args.port,
        log_requests=args.log_requests,
        delete_settle_seconds=args.delete_settle_seconds,
        ended_conference_update=args.ended_conference_update,
        control_token=args.control_token,
        callback_workers=args.callback_workers,
        rest_pace=RestPace(args.rest_latency_ms, args.rest_429_rate, args.rest_concurrency),
    )
    twin.start()
    token_file = Path(args.control_token_file) if args.control_token_file else None
    if token_file is not None:
        write_token(token_file, twin.control_token)
    where = f"in {token_file}" if token_file else twin.control_token
    print(
        f"twin: REST API at {twin.api_base}/2010-04-01, control API at "
        f"{twin.api_base}/_twin (token {where}), number {twin.phone_number}",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        twin.stop()
        if token_file is not None:  # a token of a twin no longer running is of no use
            with contextlib.suppress(FileNotFoundError):
                token_file.unlink()


if __name__ == "__main__":
    main()
