"""Login attempts throttled in Redis: each attempt is booked atomically before its password or
code is checked, and past the free ones each further attempt waits twice as long as the last.

An attempt counts against the client address and against the account from that address, so
someone guessing from one address slows only themself: the real admin, elsewhere, gets in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from enum import StrEnum

from app.infra import redis
from app.settings import settings

SCRIPTS = "mindfuse.admin.throttle.scripts"
BACKOFF_START_MS = 1000
# Failed logins audited per window from all addresses together: outsiders cannot grow the log.
AUDITED_PER_WINDOW = 100

BOOK = """
local now, window, start = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for i = 1, #KEYS do
  local open = tonumber(redis.call('HGET', KEYS[i], 'open') or '0')
  if open - now > wait then wait = open - now end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local booked = redis.call('HINCRBY', KEYS[i], 'n', 1)
  local free = tonumber(ARGV[3 + i])
  if booked >= free then
    local delay = math.min(start * 2 ^ (booked - free), window)
    redis.call('HSET', KEYS[i], 'open', string.format('%d', now + delay))
  end
  redis.call('PEXPIRE', KEYS[i], window)
end
return 0
"""
"""Book one attempt on every key, or none when any key is still backing off.

KEYS: hashes with `n` (attempts booked in the window) and `open` (ms from when the next
attempt may go). ARGV[1]: now (ms); ARGV[2]: the window (ms), also the longest delay;
ARGV[3]: the first delay (ms); ARGV[3 + i]: the free attempts of KEYS[i].
Returns 0 when booked, else the ms to wait (nothing booked).
"""

SUCCEEDED = """
redis.call('DEL', KEYS[2])
if redis.call('HINCRBY', KEYS[1], 'n', -1) < 1 then redis.call('DEL', KEYS[1]) end
return 1
"""
"""Forget an account's attempts and give the address back the attempt that succeeded.

KEYS[1]: the address's hash; KEYS[2]: the account's.
"""


class Gate(StrEnum):
    """What an attempt tries to pass."""

    PASSWORD = "password"  # the login form, per account from an address
    CODE = "code"  # the second factor, per account (whoever reached it knew the password)
    CHANGE = "change"  # the current password on the password change form


def _digest(text: str) -> str:
    # Hashed so Redis never holds an email address or a client IP in clear.
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def client(address: str | None) -> str:
    """The address attempts are counted for: an IPv4 address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keys(gate: Gate, account: str, address: str) -> tuple[str, str]:
    by_address = redis.key("admin", "throttle", "ip", _digest(client(address)))
    where = "" if gate is Gate.CODE else _digest(client(address))
    by_account = redis.key("admin", "throttle", gate, _digest(account.strip().lower()), where)
    return by_address, by_account


def _scripts():
    return redis.scripts(SCRIPTS, BOOK, SUCCEEDED)


def _now_ms() -> int:
    return int(time.time() * 1000)


def book(gate: Gate, account: str, address: str | None) -> int:
    """Book an attempt before checking it: 0 when it may go ahead, else seconds to wait."""
    window = settings.ADMIN_LOGIN_WINDOW_SECONDS * 1000
    free = (settings.ADMIN_LOGIN_MAX_PER_ADDRESS, settings.ADMIN_LOGIN_MAX_PER_ACCOUNT)
    book_script, _ = _scripts()
    args = [_now_ms(), window, BACKOFF_START_MS, *free]
    wait_ms = int(book_script(keys=_keys(gate, account, address or ""), args=args))
    return math.ceil(wait_ms / 1000)


def succeeded(gate: Gate, account: str, address: str | None) -> None:
    """The attempt passed: forget the account's attempts and give the address its one back."""
    _, succeeded_script = _scripts()
    succeeded_script(keys=_keys(gate, account, address or ""))


def first_failure(address: str | None) -> bool:
    """Whether to audit this failure: the address's first in the window, within a global cap."""
    window, conn = settings.ADMIN_LOGIN_WINDOW_SECONDS, redis.connection()
    noted = redis.key("admin", "throttle", "noted", _digest(client(address)))
    if not conn.set(noted, 1, nx=True, ex=window):
        return False
    total = redis.key("admin", "throttle", "noted")
    with conn.pipeline() as pipe:  # one MULTI: the counter never lives without its expiry
        pipe.incr(total)
        pipe.expire(total, window, nx=True)
        count, _ = pipe.execute()
    return count <= AUDITED_PER_WINDOW
