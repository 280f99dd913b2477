"""What production refuses in a setting that is set: each check says the problem, or None.

Each answer is read after the setting's name ("SECRET_KEY is 1 bytes long; ..."), so an
operator sees every unsafe value at once, with what to put there instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

Check = Callable[[str], str | None]
MIN_KEY_BYTES = 32  # HMAC-SHA256 and Flask's session signing: a key as long as the hash
MAKE_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"
MAKE_FERNET_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def long_key(text: str) -> str | None:
    """A secret key of at least MIN_KEY_BYTES bytes."""
    size = len(text.encode())
    if size >= MIN_KEY_BYTES:
        return None
    return f"is {size} bytes long; it must be at least {MIN_KEY_BYTES} (make one: {MAKE_KEY})"


def long_keys(text: str) -> str | None:
    """A comma-separated list of keys, each of at least MIN_KEY_BYTES bytes."""
    for number, key in enumerate((k.strip() for k in text.split(",") if k.strip()), 1):
        if (problem := long_key(key)) is not None:
            return f"key {number} {problem}"
    return None


def fernet_keys(text: str) -> str | None:
    """A comma-separated list of one or more valid Fernet keys."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:  # bad base64, or not 32 bytes once decoded
            return (
                f"key {number} of {len(keys)} is not a Fernet key, 32 url-safe base64-encoded "
                f"bytes (make one: {MAKE_FERNET_KEY})"
            )
    return None if keys else f"holds no key (make one: {MAKE_FERNET_KEY})"


def https_address(text: str) -> str | None:
    """An https:// address with a host."""
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname:
        return None
    return (
        f"is {text!r}; it must be an https:// address (Twilio calls it with the callers' "
        "numbers, and the admin's session cookie is Secure only under HTTPS)"
    )


def not_sqlite(text: str) -> str | None:
    """Any database but the embedded SQLite file."""
    if not text.startswith("sqlite"):
        return None
    return "points at SQLite; production needs PostgreSQL (postgresql://...)"


def unsafe(checks: Mapping[str, Check], env: Mapping[str, str]) -> list[str]:
    """Every problem the checks find in the values `env` sets, one sentence each."""
    found = ((name, check(env[name])) for name, check in checks.items() if env.get(name))
    return [f"{name} {problem}." for name, problem in found if problem]
