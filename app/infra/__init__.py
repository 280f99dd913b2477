"""Infrastructure every package may use: the Redis connection, per-process table caches,
log redaction and the local Redis launcher. It knows nothing of calls or Twilio."""
