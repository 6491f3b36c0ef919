"""What every loopback server shares: an HTTP server on 127.0.0.1 in a daemon thread."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    """Clients that time out and hang up are part of the tests: no tracebacks for them."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class ThreadedService:
    """Start/stop and context management for a loopback server.

    Subclasses set ``self._port`` (0: any free port) and ``self._httpd = None`` and implement
    ``_handler()`` (a ``BaseHTTPRequestHandler`` class bound to the server).
    """

    thread_name = "loopback"

    def _handler(self):  # pragma: no cover - every server defines it
        raise NotImplementedError

    def start(self):
        self._httpd = QuietServer(("127.0.0.1", self._port), self._handler())
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    @property
    def port(self) -> int:
        return self._port

    @property
    def host(self) -> str:
        return "127.0.0.1"
