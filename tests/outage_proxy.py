"""A Kinesis endpoint that goes down and comes back: a loopback proxy that stops listening for a while.

While it is down nothing listens on its port, so a client's connection is refused (botocore's
``EndpointConnectionError``), exactly as when a service's endpoint or its network is unreachable;
when it comes back it listens on the same port again and forwards every call unchanged.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.loopback_proxy import LoopbackProxy


class OutageProxy(LoopbackProxy):
    def __init__(self, upstream: str) -> None:
        self.forwarded: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.forwarded[self.headers.get("X-Amz-Target", "")] += 1
                status, payload = proxy.forward(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._handler = Handler
        self._state = threading.Lock()
        self.up = True
        super().__init__(upstream, Handler)

    def go_down(self) -> None:
        """Stop listening: from now on connections to ``endpoint`` are refused."""
        with self._state:
            self.server.shutdown()
            self.server.server_close()
            self.up = False

    def come_back(self) -> None:
        """Listen on the same port again and forward."""
        with self._state:
            port = self.server.server_address[1]
            self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler)
            self.server.daemon_threads = True
            self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            self._thread.start()
            self.up = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with self._state:
            if self.up:
                self.server.shutdown()
                self.server.server_close()
                self.up = False
