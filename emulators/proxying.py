"""What the limit proxies share (``emulators.kinesis_limits``, ``emulators.dynamodb_limits``): the
emulator behind them, the request handler's plumbing, their counts at ``GET /stats``, and serving
until they are told to stop.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import threading
import urllib.request
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from emulators import LOOPBACK

STATS_PATH = "/stats"
# Hop-by-hop and length headers: each side of the proxy writes its own.
UNFORWARDED_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive"})


class Upstream:
    """The emulator behind the proxy, over one keep-alive connection per proxy thread; ``target_prefix``
    names its API's operations (``X-Amz-Target``)."""

    def __init__(self, port: int, target_prefix: str) -> None:
        self.port = port
        self.target_prefix = target_prefix
        self.local = threading.local()

    def call(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        forwarded = {name: value for name, value in headers.items() if name.lower() not in UNFORWARDED_HEADERS}
        forwarded["Content-Length"] = str(len(body))
        for attempt in range(2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=60)
            try:
                connection.request("POST", path, body=body, headers=forwarded)
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (ConnectionError, http.client.HTTPException):
                # The emulator closed an idle keep-alive connection: reconnect once.
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def operation(self, headers: dict[str, str], operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """A call of the proxy's own, signed as the client's (emulators do not check signatures);
        raises ``LookupError`` on any answer but 200."""
        own = {name: value for name, value in headers.items() if name.lower() != "x-amz-target"}
        own["X-Amz-Target"] = self.target_prefix + operation
        status, _, body = self.call("/", own, json.dumps(request).encode())
        if status != 200:
            raise LookupError(f"{operation} answered {status}: {body[:200]!r}")
        answer: dict[str, Any] = json.loads(body)
        return answer


class ProxyHandler(BaseHTTPRequestHandler):
    """A limit proxy's requests: its counts at ``GET /stats`` (``stats``), answers through ``reply``."""

    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    # Headers of the emulator's answer not passed on, beyond the hop-by-hop ones.
    dropped_headers: frozenset[str] = frozenset()

    def stats(self) -> dict[str, Any]:
        raise NotImplementedError

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != STATS_PATH:
            self.reply(404, [("Content-Type", "text/plain")], b"only GET /stats here")
            return
        self.reply(200, [("Content-Type", "application/json")], json.dumps(self.stats()).encode())

    def reply(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in UNFORWARDED_HEADERS and name.lower() not in self.dropped_headers:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A client that gave up waiting has closed the connection; its retry says what it needs.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


def serve_until_stopped(
    port: int, handler: type[BaseHTTPRequestHandler], stats: Callable[[], dict[str, Any]], stats_file: str | None
) -> None:
    """Serve on ``port`` of the loopback until SIGTERM or SIGINT, then write ``stats()`` to
    ``stats_file`` as JSON (if given)."""
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    server.daemon_threads = True

    def stop(signal_number: int, frame: object) -> None:
        # shutdown() waits for serve_forever to return: not from the thread that runs it.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()
    if stats_file:
        with open(stats_file, "w") as output:
            json.dump(stats(), output)


def fetch_stats(endpoint: str, timeout: float = 10) -> dict[str, Any]:
    """The counts of a running proxy (``GET /stats``)."""
    with urllib.request.urlopen(endpoint + STATS_PATH, timeout=timeout) as response:
        stats: dict[str, Any] = json.load(response)
    return stats
