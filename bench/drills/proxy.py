"""A small TCP proxy on loopback that a drill can cut, restore or slow down."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from twin.launcher import free_port


class Proxy:
    """Forward 127.0.0.1:<port> to an upstream address; `cut()` drops and refuses connections."""

    def __init__(self, upstream: tuple[str, int], delay: float = 0.0):
        self.upstream = upstream
        self.delay = delay  # seconds added before each chunk sent upstream (one per request)
        self.port = free_port()
        self.cut_off = threading.Event()
        self.accepted = 0
        self._pairs: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()  # the database host is unreachable: refuse at once
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            self.accepted += 1
            with self._lock:
                self._pairs.update((client, server))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if upstream and self.delay:
                    time.sleep(self.delay)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
                with self._lock:
                    self._pairs.discard(end)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.cut_off.set()
        with self._lock:
            pairs = list(self._pairs)
        for end in pairs:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self.cut_off.clear()

    def close(self) -> None:
        """Stop listening and drop everything."""
        self._stopped.set()
        self.cut()
        self._listener.close()
