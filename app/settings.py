"""Every setting of the line, declared once: its environment variable, type, default, meaning.

`from_environment` reads them into the Flask config at start; code reads them back typed,
as `settings.WAIT_TIMEOUT_SECONDS`, from the current app (so a test's overrides count).
In development missing secrets are generated once and kept under instance/; in production
a missing one stops the line at start with a message that names it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from cryptography.fernet import Fernet
from flask import Flask, current_app
from flask.ctx import AppContext
from flask.globals import _cv_app

from app import production_checks
from app.private_files import private_folder, write_private
from app.production_checks import fernet_keys, https_address, long_key, long_keys, not_sqlite

T = TypeVar("T")
TRUE_WORDS = {"1", "true", "yes", "on"}
TWIN = "http://127.0.0.1:8700"  # where `make run` starts the offline twin
REAL_TWILIO = "https://api.twilio.com"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable line."""


@dataclass(frozen=True)
class Start:
    """What a default may depend on: the environment, the instance folder, the mode."""

    env: dict[str, str]
    instance_path: str
    production: bool


def flag(text: str) -> bool:
    """A yes/no setting: 1, true, yes or on (any case) mean yes."""
    return text.strip().lower() in TRUE_WORDS


def whole_numbers(text: str) -> list[int]:
    """A comma-separated list of whole numbers."""
    return [int(part) for part in text.split(",") if part.strip()]


def codes(text: str) -> list[str]:
    """A comma-separated list of short codes (languages), in order."""
    return [part.strip() for part in text.split(",") if part.strip()]


def pairs(text: str) -> dict[str, str]:
    """Comma-separated `name=value` pairs."""
    found = {}
    for part in text.split(","):
        if part.strip():
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise ValueError(f"{part!r} is not name=value")
            found[name.strip()] = value.strip()
    return found


def positive(text: str) -> float:
    """A number above zero (a rate)."""
    value = float(text)
    if not value > 0:
        raise ValueError(f"{text!r} is not above zero")
    return value


def duration(text: str) -> float:
    """A length of time, not below zero; fractions allowed (a benchmark's compressed clock)."""
    value = float(text)
    if not value >= 0:
        raise ValueError(f"{text!r} is below zero")
    return value


def host_ports(text: str) -> list[tuple[str, int]]:
    """A comma-separated list of `host:port` addresses."""
    found = []
    for part in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{part!r} is not host:port")
        found.append((host.strip("[]"), int(port)))
    return found


def base_url(text: str) -> str:
    """An address that paths are appended to: no trailing slash."""
    return text.rstrip("/")


def database_uri(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _environment_name(text: str) -> str:
    return "production" if text == "production" else "development"


def _optional(text: str) -> str | None:
    return text or None


def log_level(text: str) -> str:
    """One of logging's level names, in any case."""
    name = text.strip().upper()
    if name not in LOG_LEVELS:
        raise ValueError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return name


def this_app() -> Flask:
    """The current app as `current_app` names it (and with its error outside an app context),
    without the proxy's cost on the hot path."""
    context = app_context()
    return current_app._get_current_object() if context is None else context.app  # type: ignore[attr-defined]


def app_context() -> AppContext | None:
    """The app context in effect, None outside one. Read from Flask's own context variable,
    not through `current_app`: a webhook reads settings and its language dozens of times,
    and each read through Flask's proxy cost about 1.5 us (0.2 us so)."""
    return _cv_app.get(None)


class Setting(Generic[T]):
    """One setting: read from the environment variable of its name into the app's config."""

    def __init__(
        self,
        parse: Callable[[str], T],
        default: T | Callable[[Start], T],
        meaning: str,
        *,
        key: str | None = None,
        secret: Callable[[], str] | None = None,
        required_in_production: bool = False,
        production_check: Callable[[str], str | None] | None = None,
        unless: str | None = None,
    ):
        self.parse, self.default, self.meaning = parse, default, meaning
        self.key = key  # the Flask config key, when it is not the variable's name
        self.secret = secret  # how development generates it
        self.required_in_production = required_in_production or secret is not None
        # What production refuses in a value that is set: the problem, said after the name.
        self.production_check = production_check
        self.unless = unless  # another setting that, when set, makes this one optional
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.key = self.key or name

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, obj: Settings, owner: type) -> T: ...

    def __get__(self, obj, owner):
        if obj is None:
            return self
        return this_app().config[self.key]

    def read(self, start: Start, kept: dict[str, str]) -> T:
        """The value at start: the environment's, else a kept secret, else the default."""
        text = start.env.get(self.name)
        if text:
            return self.parse(text)
        if self.secret is not None:
            return self.parse(kept[self.name])
        default = self.default
        return default(start) if callable(default) else default


def twin_address(start: Start) -> str:
    """Where the offline twin listens: TWILIO_API_BASE unless that is the real Twilio."""
    base = base_url(start.env.get("TWILIO_API_BASE") or TWIN)
    return TWIN if base == REAL_TWILIO else base


def _twin_unless(credential: str, real: str) -> Callable[[Start], str]:
    """Generated credentials cannot reach the provider: they mean the twin on this machine
    (one address for the Twilio and the Stripe stand-in, which share a server)."""
    return lambda start: (
        real if start.production or start.env.get(credential) else twin_address(start)
    )


def _local_address(start: Start) -> str:
    return f"http://127.0.0.1:{start.env.get('PORT') or 5000}"


def _instance(start: Start) -> str:
    return start.instance_path


def _sqlite_file(start: Start) -> str:
    return database_uri(f"sqlite:///{Path(start.instance_path) / 'mindfuse.db'}")


def _key_list(text: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in text.split(",") if key.strip())


BULK_QUEUE_SUFFIX = "-bulk"


def queue_names(rq_queue: str) -> tuple[str, str]:
    """The line's two RQ queues, named after RQ_QUEUE: urgent (jobs a caller on the line
    waits on), then bulk (the rest). A worker is given both in this order: RQ takes a job
    from the first queue that has one."""
    return rq_queue, rq_queue + BULK_QUEUE_SUFFIX


def _token() -> str:
    return secrets.token_hex(32)


class Settings:
    """The line's settings; each attribute reads the current app's value, typed."""

    MINDFUSE_ENV = Setting(
        _environment_name,
        "development",
        "`production` refuses to start unless every secret and service below is set, and safe",
        key="ENV_NAME",
    )
    DATABASE_URL = Setting(
        database_uri,
        _sqlite_file,
        "`postgresql://...` in production; default: a SQLite file under `instance/`",
        key="SQLALCHEMY_DATABASE_URI",
        required_in_production=True,
        production_check=not_sqlite,
    )
    REDIS_URL = Setting(
        _optional,
        None,
        "`redis://...` in production; default: a local Redis started on demand",
        required_in_production=True,
        unless="REDIS_SENTINELS",
    )
    REDIS_SENTINELS = Setting(
        host_ports,
        lambda _start: [],
        "Redis Sentinels (`host:port,host:port`) that name the Redis primary; REDIS_URL then "
        "gives only the database index and credentials",
    )
    REDIS_SENTINEL_MASTER = Setting(
        str, "mindfuse", "the name the Sentinels monitor the line's Redis primary under"
    )
    REDIS_KEY_PREFIX = Setting(str, "mindfuse:", "prefix of every Redis key the line writes")
    RQ_QUEUE = Setting(
        str,
        "mindfuse",
        "the RQ queue of the jobs a caller on the line waits on; the others go to "
        "RQ_QUEUE-bulk, which workers take from only when this one is empty",
    )
    SCHEDULER_LEASE_SECONDS = Setting(
        positive,
        30.0,
        "how long a scheduler's lease lasts unrenewed: a killed scheduler's stand-in takes "
        "over within it",
    )
    SECRET_KEY = Setting(str, "", "session signing", secret=_token, production_check=long_key)
    NUMBER_HASH_KEY = Setting(
        str, "", "key of the caller identity HMAC", secret=_token, production_check=long_key
    )
    NUMBER_HASH_REKEYS = Setting(
        _key_list,
        (),
        "keys added to the identity HMAC since, comma-separated, oldest first (see Re-keying)",
        production_check=long_keys,
    )
    NUMBER_ENCRYPTION_KEY = Setting(
        str,
        "",
        "Fernet key(s), newest first, encrypting SMS subscribers' numbers",
        secret=lambda: Fernet.generate_key().decode(),
        production_check=fernet_keys,
    )
    TWILIO_ACCOUNT_SID = Setting(
        str, "", "the Twilio account", secret=lambda: "AC" + secrets.token_hex(16)
    )
    TWILIO_AUTH_TOKEN = Setting(
        str, "", "signs Twilio's webhooks and authenticates REST calls", secret=_token
    )
    TWILIO_PHONE_NUMBER = Setting(
        str,
        "+15550100000",
        "the line's Twilio number (E.164), the sender of its texts",
        required_in_production=True,
    )
    TWILIO_MESSAGING_SERVICE_SID = Setting(
        _optional,
        None,
        "send texts through this Messaging Service (its numbers, its Advanced Opt-Out) "
        "instead of from TWILIO_PHONE_NUMBER",
    )
    TWILIO_API_BASE = Setting(
        base_url,
        _twin_unless("TWILIO_ACCOUNT_SID", REAL_TWILIO),
        "where REST calls go; default: the offline twin without real credentials",
    )
    PUBLIC_BASE_URL = Setting(
        base_url,
        _local_address,
        "the public address Twilio calls; every URL in TwiML is built from it",
        required_in_production=True,
        production_check=https_address,
    )
    TRUST_PROXY_HEADERS = Setting(
        flag,
        False,
        "take the client's address and scheme from `X-Forwarded-For`/`-Proto` (behind a proxy)",
    )
    PROXY_HOPS = Setting(
        int, 1, "how many reverse proxies in front of the web add to `X-Forwarded-For`"
    )
    BIND_ADDRESS = Setting(
        str, "127.0.0.1", "the address the web process listens on (Procfile; gunicorn)"
    )
    PORT = Setting(int, 5000, "the port the web process listens on (Procfile; gunicorn)")
    LOG_LEVEL = Setting(
        log_level,
        "INFO",
        "the least severe log records written; RQ's line per job shows only at DEBUG",
    )
    MINDFUSE_INSTANCE = Setting(
        str,
        _instance,
        "the folder of the development secrets, the SQLite file, the local Redis and the logs",
        key="INSTANCE_FOLDER",
    )
    WAIT_TIMEOUT_SECONDS = Setting(
        duration, 60, "how long a caller waits before 'nobody is free right now'"
    )
    CALLBACK_WINDOW_MINUTES = Setting(
        duration, 120, "how long a call-back request stays open (its number is kept until then)"
    )
    CALLBACKS_PER_DAY = Setting(int, 3, "call-back requests one caller may make in 24 hours")
    CALLBACK_RING_SECONDS = Setting(
        int, 25, "how long a call-back rings before it counts as not answered (Twilio's Timeout)"
    )
    LISTENER_AFTER_SECONDS = Setting(
        duration, 45, "how long a caller waits with no peer before a volunteer listener is called"
    )
    LISTENER_AT_ONCE_BELOW = Setting(
        int,
        20,
        "calls that waited to be paired within PACE_WINDOW_MINUTES below which a caller waiting "
        "alone has a listener rung as soon as the wait begins, not after LISTENER_AFTER_SECONDS: "
        "at that pace a peer seldom comes within it (0: always after LISTENER_AFTER_SECONDS)",
    )
    PACE_WINDOW_MINUTES = Setting(
        positive, 60, "the window of recent calls that LISTENER_AT_ONCE_BELOW counts"
    )
    LISTENER_REST_MINUTES = Setting(
        duration,
        2,
        "a volunteer listener's breather after a call they took ends, before the line rings "
        "them again (never while on a call; a ring that came to nothing rests nobody)",
    )
    RINGING_RECHECK_SECONDS = Setting(
        duration,
        5,
        "while a call-back or a listener rings for a waiting caller, how long their time-out "
        "and listener offer wait before looking again",
    )
    LISTENER_RING_SECONDS = Setting(
        int, 25, "how long a listener's phone rings before it counts as not answered"
    )
    LISTENERS_RUNG_AT_ONCE = Setting(
        int,
        2,
        "how many free volunteer listeners are rung at once for one waiting caller: the first "
        "to press 1 takes the call, and the others' phones stop ringing",
    )
    LISTENER_RINGS_PER_WAIT = Setting(
        int,
        2,
        "how many times one listener's phone may ring for one waiting caller when it was not "
        "answered (no answer, busy, a machine): rung again only when no listener not yet rung "
        "for them may take them; one who answered and let the caller pass is not rung again",
    )
    CONVERSATION_LIMIT_SECONDS = Setting(int, 1800, "the longest conversation")
    CONVERSATION_WARNING_SECONDS = Setting(
        int, 60, "when, before the limit, both people hear that time is nearly up"
    )
    CALLS_PER_HOUR_LIMIT = Setting(
        int, 20, "calls per caller identity per hour before the line asks for a break"
    )
    REPORTS_TO_BLOCK = Setting(int, 3, "distinct reporters within 30 days that block a caller")
    BLOCK_DAYS = Setting(int, 30, "how long a block lasts")
    RETENTION_DAYS = Setting(
        int, 90, "after this, calls and conversations are kept only as daily counts"
    )
    FUSING_MAX_IN_FLIGHT = Setting(
        int, 50, "concurrent REST requests when a Fusing Hour round rotates"
    )
    RECONCILE_MAX_IN_FLIGHT = Setting(
        int, 50, "concurrent REST look-ups when live calls and lost greetings are reconciled"
    )
    CONVERSATION_CHECK_SECONDS = Setting(
        int,
        30,
        "after a match, how long the line waits for conference events before it asks Twilio",
    )
    PURGE_TWILIO_RECORDS = Setting(flag, True, "delete call and message records at Twilio")
    PURGE_DELAY_SECONDS = Setting(
        int,
        90,
        "seconds after a call or text ends before its record is first deleted at Twilio",
    )
    HOLD_MUSIC_URL = Setting(
        str,
        "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3",
        "what a caller alone in a room hears",
    )
    LANGUAGES = Setting(
        codes,
        lambda _start: ["en", "de"],
        "the languages the line speaks (rows of app/i18n.py), its default first",
    )
    NUMBER_LANGUAGES = Setting(
        pairs,
        lambda _start: {},
        "the default language of each of the line's numbers: `+4915550000001=de,...`; "
        "a number not named speaks the line's default",
    )
    VOICES = Setting(
        pairs,
        lambda _start: {},
        "the `<Say>` voice per language, `de=Polly.Daniel-Neural,...`; default: each "
        "language's neural voice in app/i18n.py",
    )
    SMS_SEGMENTS_PER_SECOND = Setting(
        positive,
        1.0,
        "message segments a second Twilio sends for the line: 1 for a long code; for a "
        "Messaging Service, its numbers' rates added up",
    )
    SMS_STUCK_SECONDS = Setting(
        int, 120, "a text claimed this long ago and not sent is checked at Twilio and resent"
    )
    REMINDER_OFFSETS_MINUTES = Setting(
        whole_numbers,
        lambda _start: [1440, 15],
        "minutes before a Fusing Hour that reminders go out",
    )
    STRIPE_SECRET_KEY = Setting(
        str, "", "the Stripe API key", secret=lambda: "sk_test_local" + secrets.token_hex(12)
    )
    STRIPE_WEBHOOK_SECRET = Setting(
        str,
        "",
        "verifies Stripe's webhook signatures",
        secret=lambda: "whsec_" + secrets.token_hex(16),
    )
    STRIPE_PRICE_ID = Setting(
        _optional, None, "the monthly price at Stripe; default: EUR 4.00 sent inline"
    )
    STRIPE_API_BASE = Setting(
        base_url,
        _twin_unless("STRIPE_SECRET_KEY", "https://api.stripe.com"),
        "where Stripe API calls go; default: the twin's stand-in without a real key",
    )
    MEMBERSHIP_PRICE_CENTS = Setting(int, 400, "the inline monthly price, in euro cents")
    FREE_CONVERSATION_MIN_SECONDS = Setting(
        int, 60, "how long the free first conversation must last to count as used"
    )
    FUSING_OPEN_TO_ALL = Setting(
        flag, False, "whether the Fusing Hour is open to callers without a membership"
    )
    ADMIN_LOGIN_MAX_PER_ACCOUNT = Setting(
        int, 5, "admin login attempts per account from one address before each waits longer"
    )
    ADMIN_LOGIN_MAX_PER_ADDRESS = Setting(
        int, 20, "admin login attempts from one address before each waits longer"
    )
    ADMIN_LOGIN_WINDOW_SECONDS = Setting(
        int, 900, "how long admin login attempts are remembered; the longest wait between them"
    )

    @classmethod
    def declared(cls) -> Iterator[Setting[Any]]:
        """Every setting, in the order declared."""
        for value in vars(cls).values():
            if isinstance(value, Setting):
                yield value


settings = Settings()


def local_secrets(instance_path: str) -> dict[str, str]:
    """Read, or create once, the development secrets kept under instance/."""
    path = Path(instance_path) / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [s for s in Settings.declared() if s.secret is not None and s.name not in stored]
    if missing:
        stored.update({s.name: s.secret() for s in missing})
        private_folder(path.parent)
        write_private(path, json.dumps(stored, indent=2))
    return stored


def from_environment(instance_path: str, env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from the environment."""
    env = dict(os.environ if env is None else env)
    start = Start(env, instance_path, env.get("MINDFUSE_ENV") == "production")
    if start.production:
        required = [s for s in Settings.declared() if s.required_in_production]
        missing = [s.name for s in required if not (env.get(s.name) or env.get(s.unless or ""))]
        if missing:
            raise ConfigError(
                "Mindfuse cannot start in production without: "
                + ", ".join(missing)
                + ". Set them in the environment (see README, 'Configuration')."
            )
        checks = {s.name: s.production_check for s in Settings.declared() if s.production_check}
        if unsafe := production_checks.unsafe(checks, env):
            raise ConfigError("Mindfuse refuses to start in production:\n- " + "\n- ".join(unsafe))
        kept = {}
    else:
        kept = local_secrets(instance_path)
    return {s.key: s.read(start, kept) for s in Settings.declared()}
