"""Configuration from environment variables, with generated local secrets for development."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

SECRET_NAMES = (
    "SECRET_KEY",
    "NUMBER_HASH_KEY",
    "NUMBER_ENCRYPTION_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
)
REQUIRED_IN_PRODUCTION = (
    *SECRET_NAMES,
    "DATABASE_URL",
    "REDIS_URL",
    "PUBLIC_BASE_URL",
    "TWILIO_PHONE_NUMBER",
)
TRUE_WORDS = {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The environment does not describe a runnable line."""


def _flag(value: str | bool | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return value.strip().lower() in TRUE_WORDS


def _generate(name: str) -> str:
    if name == "NUMBER_ENCRYPTION_KEY":
        return Fernet.generate_key().decode()
    if name == "TWILIO_ACCOUNT_SID":
        return "AC" + secrets.token_hex(16)
    if name == "STRIPE_SECRET_KEY":
        return "sk_test_local" + secrets.token_hex(12)
    if name == "STRIPE_WEBHOOK_SECRET":
        return "whsec_" + secrets.token_hex(16)
    return secrets.token_hex(32)


def local_secrets(instance_path: str) -> dict[str, str]:
    """Read, or create once, the development secrets kept under instance/."""
    path = Path(instance_path) / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if name not in stored]
    if missing:
        stored.update({name: _generate(name) for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return stored


def database_uri(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def from_environment(instance_path: str, env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from the environment."""
    env = dict(os.environ if env is None else env)
    production = env.get("MINDFUSE_ENV", "development") == "production"
    if production:
        missing = [name for name in REQUIRED_IN_PRODUCTION if not env.get(name)]
        if missing:
            raise ConfigError(
                "Mindfuse cannot start in production without: "
                + ", ".join(missing)
                + ". Set them in the environment (see README, 'Configuration')."
            )
        found = {name: env[name] for name in SECRET_NAMES}
    else:
        found = local_secrets(instance_path)
        found.update({name: env[name] for name in SECRET_NAMES if env.get(name)})

    # Generated credentials cannot reach Twilio: they mean the offline twin on this machine.
    local_twilio = not production and not env.get("TWILIO_ACCOUNT_SID")
    api_default = "http://127.0.0.1:8700" if local_twilio else "https://api.twilio.com"
    local_stripe = not production and not env.get("STRIPE_SECRET_KEY")
    stripe_default = "http://127.0.0.1:8700" if local_stripe else "https://api.stripe.com"
    db_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'mindfuse.db'}"
    return {
        "ENV_NAME": "production" if production else "development",
        **found,
        "SQLALCHEMY_DATABASE_URI": database_uri(db_url),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "REDIS_KEY_PREFIX": env.get("REDIS_KEY_PREFIX", "mindfuse:"),
        "RQ_QUEUE": env.get("RQ_QUEUE", "mindfuse"),
        "TWILIO_PHONE_NUMBER": env.get("TWILIO_PHONE_NUMBER", "+15550100000"),
        "TWILIO_API_BASE": env.get("TWILIO_API_BASE", api_default).rstrip("/"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "WAIT_TIMEOUT_SECONDS": int(env.get("WAIT_TIMEOUT_SECONDS", "60")),
        "CONVERSATION_LIMIT_SECONDS": int(env.get("CONVERSATION_LIMIT_SECONDS", "1800")),
        "PURGE_TWILIO_RECORDS": _flag(env.get("PURGE_TWILIO_RECORDS"), True),
        "TRUST_PROXY_HEADERS": _flag(env.get("TRUST_PROXY_HEADERS"), False),
        "HOLD_MUSIC_URL": env.get(
            "HOLD_MUSIC_URL",
            "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3",
        ),
        "CALLS_PER_HOUR_LIMIT": int(env.get("CALLS_PER_HOUR_LIMIT", "20")),
        "CONVERSATION_WARNING_SECONDS": int(env.get("CONVERSATION_WARNING_SECONDS", "60")),
        "REPORTS_TO_BLOCK": int(env.get("REPORTS_TO_BLOCK", "3")),
        "BLOCK_DAYS": int(env.get("BLOCK_DAYS", "30")),
        "RETENTION_DAYS": int(env.get("RETENTION_DAYS", "90")),
        "FUSING_MAX_IN_FLIGHT": int(env.get("FUSING_MAX_IN_FLIGHT", "50")),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", stripe_default).rstrip("/"),
        "STRIPE_PRICE_ID": env.get("STRIPE_PRICE_ID") or None,
        "MEMBERSHIP_PRICE_CENTS": int(env.get("MEMBERSHIP_PRICE_CENTS", "400")),
        "FREE_CONVERSATION_MIN_SECONDS": int(env.get("FREE_CONVERSATION_MIN_SECONDS", "60")),
        "FUSING_OPEN_TO_ALL": _flag(env.get("FUSING_OPEN_TO_ALL"), False),
        "SMS_PER_SECOND": int(env.get("SMS_PER_SECOND", "30")),
        "SMS_STUCK_SECONDS": int(env.get("SMS_STUCK_SECONDS", "120")),
        "REMINDER_OFFSETS_MINUTES": [
            int(m) for m in env.get("REMINDER_OFFSETS_MINUTES", "1440,15").split(",") if m.strip()
        ],
        "VOICE": env.get("VOICE", "Polly.Joanna"),
    }
