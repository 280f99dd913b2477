"""Drill: the line on several hosts, one app host killed mid-herd and mid-rotation.

Hosts are network namespaces (bench/drills/netns.py): `data` (a PostgreSQL instance and a
Redis of its own), `lb` (nginx, the balancer), `app1` and `app2` (each: gunicorn web, an RQ
worker, the scheduler), and `caller` (the twin, which reaches the line only through the
balancer; the line reaches the twin's REST API as it would Twilio's). This process sets the
hosts up, runs the callers' side (bench/drills/hosts_callers.py) on the caller host, and at
its word SIGKILLs every process of an app host. Everything is torn down at the end, also
on failure. Needs root, iproute2, nginx and PostgreSQL's server binaries.
Usage: python -m bench.drills.hosts [callers] [seconds] [guests]
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis
from cryptography.fernet import Fernet
from rq import Worker

from app.settings import queue_names
from bench.drills.netns import Hosts
from twin import launcher

APPS = ("app1", "app2")
WEB_PORT, TWIN_PORT = 8000, 8700
WORKERS = 2  # RQ workers per app host
FAST_WORKER = ("--job-monitoring-interval", "5", "--maintenance-interval", "10")
FAST_WORKER += ("--worker-ttl", "30")
NGINX = """
worker_processes 2; user root; pid {tmp}/nginx.pid; error_log {tmp}/lb-nginx-error.log;
events {{ worker_connections 8192; }}
http {{
  log_format up '$msec|$upstream_addr|$status|$request_time|$request_uri';
  access_log {tmp}/lb-access.log up;
  client_body_temp_path {tmp}/nginx-body; proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fcgi; uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  upstream line {{ {servers} }}
  server {{
    listen {address}:80 backlog=4096;
    location / {{
      proxy_pass http://line;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # A request whose host died under it goes to the other host, POSTs too: the line's
      # webhooks are safe to repeat. A host that does not take the connection within 1 s
      # (powered off: no refusal comes) is passed over too; a slow answer is not retried,
      # since the read timeout spends the whole budget. Twilio waits 15 s in all.
      proxy_next_upstream error timeout non_idempotent;
      proxy_next_upstream_tries 2;
      proxy_next_upstream_timeout 12s;
      proxy_connect_timeout 1s;
      proxy_read_timeout 12s;
      # No host is ever marked failed (max_fails=0 above): a read timeout counts as a
      # failure, and with the other host dead one slow answer would turn every request
      # away ("no live upstreams") for fail_timeout. A dead host costs its share of
      # requests a refused connection, or 1 s, each.
    }}
  }}
}}
"""


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise SystemExit("PostgreSQL's server binaries are not installed")
    return found[-1]


class Line:
    """The hosts and what runs on them."""

    def __init__(self, hosts: Hosts, tmp: Path):
        self.hosts, self.tmp = hosts, tmp
        data = hosts.address["data"]
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgresql://postgres@{data}:5432/postgres",
            "REDIS_URL": f"redis://{data}:6379/0",
            "PUBLIC_BASE_URL": f"http://{hosts.address['lb']}",
            "TRUST_PROXY_HEADERS": "true",
            "TWILIO_API_BASE": f"http://{hosts.address['caller']}:{TWIN_PORT}",
            "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "SECRET_KEY": secrets.token_hex(16),
            "NUMBER_HASH_KEY": secrets.token_hex(16),
            "NUMBER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "CALLS_PER_HOUR_LIMIT": "1000000",
            "WAIT_TIMEOUT_SECONDS": "20",
            "SCHEDULER_LEASE_SECONDS": "10",
            "REMINDER_OFFSETS_MINUTES": "3",
            "SMS_SEGMENTS_PER_SECOND": "200",
            "PURGE_TWILIO_RECORDS": "false",
            "FUSING_OPEN_TO_ALL": "true",
            "RQ_QUEUE": "mindfuse",
            "REDIS_KEY_PREFIX": "mindfuse:",
        }
        self.env.pop("REDIS_SENTINELS", None)

    def start_data(self) -> None:
        """PostgreSQL (a fresh instance) and Redis on the data host; migrate."""
        folder = self.tmp / "pg"
        folder.mkdir()
        shutil.chown(folder, "postgres", "postgres")
        initdb = [_postgres_bin("initdb"), "-D", str(folder), "-U", "postgres", "--auth=trust"]
        as_postgres = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*as_postgres, *initdb], check=True, capture_output=True)
        with (folder / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.hosts.subnet}.0/24 trust\n")
        data = self.hosts.address["data"]
        server = [_postgres_bin("postgres"), "-D", str(folder), "-c", f"listen_addresses={data}"]
        for option in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
            server += ["-c", option]
        server += ["-c", "max_connections=400", "-c", f"unix_socket_directories={folder}"]
        self.hosts.start("data", "postgres", ["runuser", "-u", "postgres", "--", *server])
        redis_server = ["redis-server", "--bind", data, "--port", "6379", "--save", ""]
        redis_server += ["--appendonly", "no", "--protected-mode", "no"]
        self.hosts.start("data", "redis", redis_server)
        self.hosts.wait_port("data", 5432)
        self.hosts.wait_port("data", 6379)
        launcher.migrate(self.env)

    def start_app(self, host: str) -> None:
        """Web, worker and scheduler on an app host."""
        env = {**self.env, "BIND_ADDRESS": self.hosts.address[host], "PORT": str(WEB_PORT)}
        bind = f"{self.hosts.address[host]}:{WEB_PORT}"
        web = [str(launcher.BIN / "gunicorn"), "--bind", bind, "--workers", "2"]
        web += ["--threads", "8", "--log-level", "warning", "app:create_app()"]
        self.hosts.start(host, "web", web, env)
        worker = [str(launcher.BIN / "rq"), "worker", "--with-scheduler", *FAST_WORKER]
        worker += ["--worker-class", launcher.WORKER_CLASS, "--config", "workers.rq_config"]
        for number in range(WORKERS):
            self.hosts.start(host, f"worker{number}", [*worker, *queue_names(env["RQ_QUEUE"])], env)
        self.hosts.start(host, "scheduler", [str(launcher.BIN / "mindfuse"), "scheduler"], env)
        self.hosts.wait_port(host, WEB_PORT)

    def start_balancer(self) -> None:
        """nginx on the balancer host, in front of both app hosts."""
        servers = " ".join(f"server {self.hosts.address[h]}:{WEB_PORT} max_fails=0;" for h in APPS)
        conf = self.tmp / "nginx.conf"
        address = self.hosts.address["lb"]
        conf.write_text(NGINX.format(tmp=self.tmp, servers=servers, address=address))
        self.hosts.start("lb", "nginx", ["nginx", "-c", str(conf), "-g", "daemon off;"])
        self.hosts.wait_port("lb", 80)

    def rotating_host(self) -> str | None:
        """The app host whose worker is running a Fusing Hour rotation now, if any."""
        conn = redis.Redis.from_url(self.env["REDIS_URL"])
        for worker in Worker.all(connection=conn):
            job = worker.get_current_job()
            if job is not None and job.func_name == "workers.fusing.rotate":
                for host in APPS:
                    if worker.pid in self.hosts.pids(host):
                        return host
        return None

    def balanced(self) -> dict[str, object]:
        """Requests each app host answered, answers the balancer gave itself (502...), and
        each host's busiest second: new calls (greetings) and requests it answered then."""
        counts: dict[str, object] = {host: 0 for host in APPS} | {"failed": 0, "passed on": 0}
        hosts = {f"{self.hosts.address[h]}:{WEB_PORT}": h for h in APPS}
        calls = {host: Counter() for host in APPS}
        requests = {host: Counter() for host in APPS}
        for line in (self.tmp / "lb-access.log").read_text().splitlines():
            at, upstream, status, _took, uri = line.split("|", 4)
            tried = upstream.split(", ")
            counts["passed on"] += len(tried) > 1  # a first host failed under the request
            if status.startswith("5"):
                counts["failed"] += 1
            host = hosts.get(tried[-1])
            if host is None:
                continue
            counts[host] += 1
            second = int(float(at))
            requests[host][second] += 1
            if uri.split("?")[0].split("#")[0] == "/twilio/voice":
                calls[host][second] += 1
        for host in APPS:
            busiest = max(calls[host].values(), default=0)
            counts[f"{host} peak calls/s"] = busiest
            counts[f"{host} peak requests/s"] = max(requests[host].values(), default=0)
        return counts


def _converse(line: Line, callers: subprocess.Popen) -> None:
    """Answer the callers' side: `@kill herd`, `@kill rotation`, `@restart`, `@figures`."""
    for raw in callers.stdout:
        text = raw.rstrip("\n")
        if not text.startswith("@"):
            print(text, flush=True)
            continue
        word = text.split()
        if word[1:2] == ["rotation"]:
            victim = line.rotating_host() or APPS[0]
            answer = f"{victim} {line.hosts.kill(victim)}"
        elif word[0] == "@kill":
            answer = f"{APPS[0]} {line.hosts.kill(APPS[0])}"
        elif word[0] == "@restart":
            for host in APPS:
                if not line.hosts.pids(host):
                    line.start_app(host)
            answer = "up"
        else:  # @figures
            counts = line.balanced()
            answer = ", ".join(f"{k}={v}" for k, v in counts.items())
        callers.stdin.write(answer + "\n")
        callers.stdin.flush()


def main(argv: list[str]) -> int:
    """Set up, run the callers' side, tear down; its exit code."""
    if os.geteuid() != 0:
        raise SystemExit("the multi-host drill needs root (ip netns)")
    run = secrets.token_hex(2)
    tmp = Path(tempfile.mkdtemp(prefix="mindfuse-hosts-"))
    tmp.chmod(0o755)  # PostgreSQL runs as its own user below it
    hosts = Hosts(run, ["data", "lb", *APPS, "caller"], tmp)
    try:
        hosts.setup()
        line = Line(hosts, tmp)
        line.start_data()
        for host in APPS:
            line.start_app(host)
        line.start_balancer()
        env = {**line.env, "DRILL_TWIN_HOST": hosts.address["caller"]}
        command = [sys.executable, "-m", "bench.drills.hosts_callers", *argv]
        callers = hosts.start(
            "caller", "callers", command, env,
            stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        _converse(line, callers)
        return callers.wait()
    finally:
        hosts.teardown()
        print(f"hosts torn down; logs in {tmp}", flush=True)
        time.sleep(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
