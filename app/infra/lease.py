"""A lease in Redis: one process among many holds it, renews it, and gives it back on exit.

The holder's value is `fence:owner`, where `fence` counts up with every grant, so a holder
that stalled past its lease and was replaced can tell (its value is gone) and anything it
commits under WATCH of the lease key is refused. A holder killed outright stops renewing and
the lease lapses after `ttl` seconds; then another process takes it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from app.infra import redis

log = logging.getLogger(__name__)

ACQUIRE = """
-- KEYS[1] the lease, KEYS[2] its fence counter; ARGV[1] owner, ARGV[2] ttl in ms.
-- Grants the lease if nobody holds it: returns the new value `fence:owner`, else false.
if redis.call('exists', KEYS[1]) == 1 then return false end
local value = redis.call('incr', KEYS[2]) .. ':' .. ARGV[1]
redis.call('set', KEYS[1], value, 'PX', ARGV[2])
return value
"""

RENEW = """
-- KEYS[1] the lease; ARGV[1] the holder's value, ARGV[2] ttl in ms.
-- Extends the lease if this value still holds it: 1, else 0.
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE = """
-- KEYS[1] the lease; ARGV[1] the holder's value. Deletes it only if still held by that value.
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def owner_name() -> str:
    """This process, as a lease names its holder: host, process id and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Lease:
    """A named lease under the app's key prefix, held by this process or not."""

    def __init__(self, name: str, ttl: float, owner: str | None = None):
        self.key = redis.key("lease", name)
        self.fence_key = redis.key("lease", name, "fence")
        self.ttl_ms = max(1, int(ttl * 1000))
        self.owner = owner or owner_name()
        self.value: str | None = None  # set while this process holds the lease

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the lease, so two may fail before it lapses."""
        return self.ttl_ms / 3000

    def hold(self) -> bool:
        """Renew the lease if held, else try to take it; True while this process holds it."""
        acquire, renew, _release = redis.scripts("mindfuse.lease", ACQUIRE, RENEW, RELEASE)
        if self.value is not None:
            if renew(keys=[self.key], args=[self.value, self.ttl_ms]):
                return True
            log.warning("lease %s lost by %s", self.key, self.owner)
            self.value = None
        granted = acquire(keys=[self.key, self.fence_key], args=[self.owner, self.ttl_ms])
        if granted:
            self.value = granted.decode() if isinstance(granted, bytes) else granted
            log.info("lease %s taken by %s", self.key, self.value)
        return self.value is not None

    def release(self) -> None:
        """Give the lease back, if still held, so another process need not wait for it."""
        if self.value is None:
            return
        _acquire, _renew, release = redis.scripts("mindfuse.lease", ACQUIRE, RENEW, RELEASE)
        release(keys=[self.key], args=[self.value])
        self.value = None
