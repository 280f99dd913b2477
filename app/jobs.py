"""Every RQ job, declared once: the worker function's dotted name, timeout, retries and TTLs.

Jobs are enqueued only through these declarations. A job names its function by dotted path,
which only a worker process resolves, so the web process never imports `workers`. The
recurring jobs, which the scheduler process enqueues, are declared at the end.

Each job says its lane: URGENT when a caller on the line waits on it (a hand-off, a time-out,
a call-back, a rotation), BULK for the work after a call (records, purges, texts). They go on
two RQ queues (app.settings.queue_names) and every worker takes the urgent one first, so a
herd's thousands of after-call jobs never stand in front of a caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum

from redis.client import Pipeline
from rq import Queue, Retry
from rq.job import Job as RQJob

from app.infra import redis
from app.settings import queue_names, settings

TIMEOUT = 30
"""Seconds a job may run before RQ stops its work horse, unless its declaration says more."""

BACKOFF = (1, 5, 15)
"""Seconds before each retry of a failed job, in turn (so three retries), unless declared."""

RESULT_TTL = 600
"""Seconds RQ keeps a finished job and its return value."""

FAILURE_TTL = 7 * 24 * 3600
"""Seconds a failed job stays in RQ's failed registry, for an operator to look at."""


class Lane(Enum):
    """Which RQ queue a job goes on; the value is its place in queue_names' order."""

    URGENT = 0  # a caller on the line waits on it
    BULK = 1  # nobody on the line waits on it

    def queue_name(self) -> str:
        """The name of this lane's RQ queue."""
        return queue_names(settings.RQ_QUEUE)[self.value]

    def queue(self) -> Queue:
        """This lane's RQ queue."""
        return redis.queue(self.queue_name())


URGENT, BULK = Lane.URGENT, Lane.BULK


@dataclass(frozen=True)
class Job:
    """A job the line enqueues: which function runs it, its lane, and how RQ treats it."""

    name: str  # the worker function's dotted path: a string, so app/ never imports workers
    lane: Lane
    timeout: int = TIMEOUT
    backoff: tuple[int, ...] = BACKOFF
    result_ttl: int = RESULT_TTL
    failure_ttl: int = FAILURE_TTL

    def queue(self) -> Queue:
        """The RQ queue the job goes on: its lane's."""
        return self.lane.queue()

    def enqueue(self, *args, delay: float = 0, job_id: str | None = None) -> RQJob:
        """Queue a run with these arguments (ids, not objects), now or after `delay` seconds."""
        options = {
            "job_timeout": self.timeout,
            "retry": Retry(max=len(self.backoff), interval=list(self.backoff)),
            "result_ttl": self.result_ttl,
            "failure_ttl": self.failure_ttl,
        }
        if job_id:
            options["job_id"] = job_id
        if delay > 0:
            return self.queue().enqueue_in(timedelta(seconds=delay), self.name, *args, **options)
        return self.queue().enqueue(self.name, *args, **options)


@dataclass(frozen=True)
class Recurring:
    """A job the scheduler process enqueues every `interval` seconds.

    It is enqueued with RQ's defaults: no retry (the next run comes soon enough) and RQ's
    result TTL; only the timeout is the line's. Intervals are counted in Redis's clock from
    the epoch, so every scheduler numbers them alike and each runs once (workers.scheduler).
    """

    name: str  # the worker function's dotted path, resolved by the scheduler process
    interval: int
    timeout: int
    lane: Lane

    def queue(self) -> Queue:
        """The RQ queue the job goes on: its lane's."""
        return self.lane.queue()

    def enqueue(self, *, pipeline: Pipeline | None = None, slot: int | None = None) -> RQJob:
        """Queue one run now, as the scheduler does for the interval numbered `slot`.

        With a pipeline the job is written when the pipeline executes (the scheduler's
        transaction under its lease); without a slot it is a run outside the schedule.
        """
        meta = {"slot": slot} if slot is not None else None
        return self.queue().enqueue(
            self.name, job_timeout=self.timeout, meta=meta, pipeline=pipeline
        )


# Waiting and conversations

EXPIRE_WAIT = Job("workers.waiting.expire_wait", URGENT)
"""WAIT_TIMEOUT_SECONDS after a caller started waiting: time them out if still unpaired."""

RESCUE_PARTNER = Job("workers.waiting.rescue_partner", URGENT)
"""A matched caller left before the two met: send the partner left alone to someone else."""

WARN_LIMIT = Job("workers.conversations.warn_limit", URGENT)
"""Shortly before the conversation limit, both callers hear that time is nearly up."""

END_AT_LIMIT = Job("workers.conversations.end_at_limit", URGENT)
"""At the conversation limit, end the room; each caller hears a goodbye and the menu."""

AFTER_CALL = Job("workers.privacy.after_call", BULK, backoff=(5, 30, 120, 600, 1800))
"""A call ended: confirm it is masked, and note its record for deletion at Twilio.

Retried over about 40 minutes, not the default 21 s: a record left at Twilio keeps who called.
"""

PURGE = Job("workers.purges.purge", BULK)
"""Ask Twilio once to delete a record (a call, a text, a reply); a refusal asks again later."""

# Call-backs

PLACE_CALLBACK = Job("workers.callbacks.place_callback", URGENT)
"""A waiting caller (or a listener free with nobody waiting) claimed a call-back request:
ring its requester (by request id)."""

# Volunteer listeners

OFFER_LISTENER = Job("workers.listeners.offer_listener", URGENT)
"""LISTENER_AFTER_SECONDS into a wait with no peer (at once at a slow pace, `app.line.pace`):
claim an available listener for it."""

PLACE_LISTENER_CALL = Job("workers.listeners.place_listener_call", URGENT)
"""A listener was claimed for a waiting caller: ring them (by offer id)."""

STOP_RINGING = Job("workers.listeners.stop_ringing", URGENT)
"""Another listener took the caller: stop this one's phone ringing (by offer id)."""

SERVE_WAITING = Job("workers.listeners.serve_waiting", URGENT)
"""A listener came free (a ring came to nothing, or the rest after a call ended), or a
call-back was asked: offer the free listeners to the callers who have waited
LISTENER_AFTER_SECONDS (at a slow pace, any time at all), longest first, then call back open
requests for those still free."""

# Membership and texts

SEND_PAYMENT_LINK = Job("workers.billing.send_payment_link", BULK)
"""Create a checkout link for a caller and text it to them (only with their consent)."""

SEND_TEXT = Job("workers.sms.send_batch", BULK, backoff=(5, 30, 120, 600))
"""Send one text the line just queued (a confirmation, a payment link), retried over 13 min."""

SEND_BATCH = replace(SEND_TEXT, timeout=1800)
"""Send a chunk of a reminder wave at SMS_SEGMENTS_PER_SECOND: hence its longer timeout."""

# The Fusing Hour

ROTATE = Job("workers.fusing.rotate", URGENT, timeout=600)
"""At a round boundary, everyone present goes to a new room with someone new."""

WARN_ROUND = Job("workers.fusing.warn_round", URGENT, timeout=600)
"""Shortly before a round ends, each of its rooms hears that it is time to say goodbye."""

CLOSE_HOUR = Job("workers.fusing.close", URGENT, timeout=600)
"""The hour is over: everyone still on the line hears the closing message."""

MOVE = Job("workers.fusing.move", URGENT)
"""Send a waiting late joiner to the room another late joiner just opened with them."""

REGROUP = Job("workers.fusing.regroup", URGENT)
"""Someone left a room mid-round: a guest now alone there goes back to the lobby."""

GUEST_LEFT = Job("workers.fusing.guest_left", URGENT)
"""A Fusing Hour call ended: it leaves its session, and its room is regrouped."""

# Recurring, enqueued by the scheduler process

RECONCILE_WAITING = Recurring(
    "workers.waiting.reconcile_waiting", interval=30, timeout=120, lane=URGENT
)
"""Rebuild the waiting pool from the database (after a Redis restart), expire the overdue."""

RECONCILE_CALLS = Recurring("workers.waiting.reconcile_calls", interval=60, timeout=300, lane=BULK)
"""Ask Twilio about calls the database still thinks are live, and end those that are not."""

RECONCILE_GREETINGS = Recurring(
    "workers.greetings.reconcile_greetings", interval=60, timeout=300, lane=BULK
)
"""Write and end the greeted calls that no webhook wrote (a lost status callback)."""

RECONCILE_CONVERSATIONS = Recurring(
    "workers.conversations.reconcile_conversations", interval=60, timeout=300, lane=BULK
)
"""Rebuild from Twilio's Conference records the start and end of conversations whose
conference events were lost; then time the limit, or count the free conversation."""

PURGE_OLD = Recurring("workers.privacy.purge_old", interval=3600, timeout=1800, lane=BULK)
"""Fold calls older than RETENTION_DAYS into daily counts and delete them."""

SWEEP_PURGES = Recurring("workers.purges.sweep_purges", interval=300, timeout=600, lane=BULK)
"""Ask again for the deletions at Twilio whose ask was lost; warn of those refused for a day."""

EXPIRE_CALLBACKS = Recurring(
    "workers.callbacks.expire_callbacks", interval=60, timeout=120, lane=BULK
)
"""Close the call-back requests whose window ended (their numbers go), and those placed
long ago that Twilio never reported on; delete closed ones after a day; offer the listeners
free (whose hours may have begun since) to the callers who have waited long enough, then call
back open requests for those still free."""

FUSING_TICK = Recurring("workers.fusing.tick", interval=20, timeout=60, lane=URGENT)
"""When a Fusing Hour is near or running, queue its rotations, warnings and close."""

PLAN_REMINDERS = Recurring("workers.sms.plan_reminders", interval=60, timeout=600, lane=BULK)
"""Queue each due reminder once per subscriber, session and offset; requeue stuck texts."""

RECURRING = (
    RECONCILE_WAITING,
    RECONCILE_CALLS,
    RECONCILE_GREETINGS,
    RECONCILE_CONVERSATIONS,
    PURGE_OLD,
    FUSING_TICK,
    PLAN_REMINDERS,
    SWEEP_PURGES,
    EXPIRE_CALLBACKS,
)
"""Every recurring job, as the scheduler registers them."""
