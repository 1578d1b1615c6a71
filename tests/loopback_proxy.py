"""The base of the fault-injecting proxies: an HTTP server on 127.0.0.1 that forwards to an emulator."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

AWS_JSON = "application/x-amz-json-1.1"


class ProxyServer(ThreadingHTTPServer):
    """A threading server that knows its proxy, for ``ProxyHandler``."""

    proxy: LoopbackProxy


class ProxyHandler(BaseHTTPRequestHandler):
    """Answers every POST with its proxy's ``handle``; a status of 0 leaves the client unanswered."""

    server: ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, payload = self.server.proxy.handle(dict(self.headers), body)
        if status == 0:
            return  # the client gave up; nothing to answer
        try:
            self.send_response(status)
            self.send_header("Content-Type", AWS_JSON)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


class LoopbackProxy:
    """Serves ``handler`` (by default ``ProxyHandler``, which calls ``handle``) on a free loopback
    port (``endpoint``) while used as a context manager; ``forward`` passes a request body on to
    ``upstream`` unchanged."""

    def __init__(self, upstream: str, handler: type[BaseHTTPRequestHandler] = ProxyHandler) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._handler = handler
        self.server = self._serve(0)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _serve(self, port: int) -> ProxyServer:
        server = ProxyServer(("127.0.0.1", port), self._handler)
        server.proxy = self
        server.daemon_threads = True
        return server

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """The answer to one POST: (HTTP status, body). Forwards it unchanged unless overridden."""
        return self.forward(headers, body)

    def forward(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}}
            connection.request("POST", "/", body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
