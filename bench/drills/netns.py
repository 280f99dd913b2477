"""Hosts made of network namespaces on this machine: one bridge, a veth pair per host.

Each host is a namespace `mf<run>-<name>` with its own loopback and one address on the
bridge's /24; the root namespace has `.1` on the bridge, so this process reaches every host.
Everything made here (namespaces, links, processes) is listed and undone by `teardown`,
which also runs at exit. Needs root (`ip netns`, iproute2).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


class Hosts:
    """Namespaced hosts on one bridge, and the processes started in them."""

    def __init__(self, run: str, names: list[str], folder: Path):
        self.run, self.folder = run, folder
        self.subnet = f"10.{random.randint(64, 127)}.{random.randint(0, 255)}"
        self.bridge = f"mfbr{run}"
        self.address = {name: f"{self.subnet}.{10 + i}" for i, name in enumerate(names)}
        self.processes: dict[str, list[subprocess.Popen]] = {name: [] for name in names}
        self._made: list[str] = []
        atexit.register(self.teardown)

    def namespace(self, name: str) -> str:
        return f"mf{self.run}-{name}"

    def setup(self) -> Hosts:
        """Make the bridge and every host."""
        _ip("link", "add", self.bridge, "type", "bridge")
        self._made.append(f"link:{self.bridge}")
        _ip("addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for index, (name, address) in enumerate(self.address.items()):
            ns, outside = self.namespace(name), f"mfv{self.run}{index}"
            _ip("netns", "add", ns)
            self._made.append(f"netns:{ns}")
            _ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self._made.append(f"link:{outside}")
            _ip("link", "set", outside, "master", self.bridge, "up")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "route", "add", "default", "via", f"{self.subnet}.1")
        return self

    def start(
        self,
        host: str,
        label: str,
        command: list[str],
        env: dict[str, str] | None = None,
        **options,
    ) -> subprocess.Popen:
        """Start `command` on a host, in a session of its own, logging to `label`.log."""
        log = (self.folder / f"{host}-{label}.log").open("a")
        piped = "stdout" in options  # output to this process; errors to the log
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace(host), *command],
            env=env,
            stdout=options.pop("stdout", log),
            stderr=log if piped else subprocess.STDOUT,
            stdin=options.pop("stdin", subprocess.DEVNULL),
            start_new_session=True,
            **options,
        )
        log.close()
        self.processes[host].append(process)
        return process

    def pids(self, host: str) -> list[int]:
        """Every process running in the host's namespace now."""
        done = _ip("netns", "pids", self.namespace(host), check=False)
        return [int(pid) for pid in done.stdout.split()]

    def kill(self, host: str) -> int:
        """SIGKILL every process on the host, as a power cut would; how many there were."""
        pids = self.pids(host)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes[host]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        self.processes[host] = []
        return len(pids)

    def teardown(self) -> None:
        """Kill every process in the hosts, delete the namespaces, links and bridge."""
        for host in self.address:
            if self._made:
                self.kill(host)
        for item in reversed(self._made):
            kind, name = item.split(":", 1)
            if kind == "netns":
                _ip("netns", "del", name, check=False)
            else:
                _ip("link", "del", name, check=False)
        self._made.clear()

    def wait_port(self, host: str, port: int, timeout: float = 60) -> None:
        """Wait until something listens on the host's address and `port`."""
        import socket  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.address[host], port), timeout=1),
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:g} s")
