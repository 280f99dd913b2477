"""Serve a WSGI app with werkzeug's threaded server in a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Request handler that skips the per-request access log line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log successful requests; errors are still logged."""


class ServerThread:
    """A threaded werkzeug server that can be started and stopped from code."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> None:
        handler = QuietHandler if quiet else WSGIRequestHandler
        self.server = make_server(host, port, app, threaded=True, request_handler=handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            args=(0.05,),
            daemon=True,
            name=f"twin-http-{self.port}",
        )

    def start(self) -> None:
        """Start serving."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
