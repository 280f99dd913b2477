"""Login attempts counted in Redis, per email and per client address, over a fixed window."""

from __future__ import annotations

import hashlib

from flask import current_app

from app.infra import redis

DEFAULTS = {
    "ADMIN_LOGIN_WINDOW_SECONDS": 900,
    "ADMIN_LOGIN_MAX_PER_EMAIL": 5,
    "ADMIN_LOGIN_MAX_PER_ADDRESS": 20,
}


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def _keys(email: str, address: str) -> tuple[str, str]:
    # Hashed so Redis never holds an email address or a client IP in clear.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    where = hashlib.sha256(address.encode()).hexdigest()[:24]
    return redis.key("admin", "login", "email", digest), redis.key("admin", "login", "ip", where)


def blocked_for(email: str, address: str) -> int:
    """Seconds until another attempt is allowed for this email or address; 0 when allowed."""
    conn = redis.connection()
    by_email, by_address = _keys(email, address)
    waits = []
    for key, limit in (
        (by_email, _setting("ADMIN_LOGIN_MAX_PER_EMAIL")),
        (by_address, _setting("ADMIN_LOGIN_MAX_PER_ADDRESS")),
    ):
        if int(conn.get(key) or 0) >= limit:
            waits.append(max(int(conn.ttl(key)), 1))
    return max(waits, default=0)


def failed(email: str, address: str) -> None:
    """Count a failed attempt against both the email and the address."""
    window = _setting("ADMIN_LOGIN_WINDOW_SECONDS")
    with redis.connection().pipeline() as pipe:
        for key in _keys(email, address):
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
        pipe.execute()


def succeeded(email: str, address: str) -> None:
    """Forget the failures for this email (the address keeps its count)."""
    redis.connection().delete(_keys(email, address)[0])
