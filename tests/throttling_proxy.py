"""An HTTP proxy in front of a JSON-protocol AWS endpoint (DynamoDB here) that throttles chosen calls.

Calls whose ``X-Amz-Target`` and JSON body match a rule are answered with HTTP 400 and the error
code DynamoDB uses for throttling, without reaching the emulator; everything else is forwarded.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

Rule = tuple[str, Callable[[dict[str, Any]], bool], str]


class ThrottlingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules: list[Rule] = []
        self.throttled: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                code = proxy._match(target, body)
                if code:
                    status, payload = 400, json.dumps({"__type": code, "message": "injected by the test"}).encode()
                else:
                    status, payload = proxy._forward(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def throttle(
        self,
        target: str,
        when: Callable[[dict[str, Any]], bool] = lambda body: True,
        code: str = "ProvisionedThroughputExceededException",
    ) -> None:
        """Throttle every call to ``target`` (e.g. ``DynamoDB_20120810.PutItem``) whose body matches."""
        self.rules.append((target, when, code))

    def clear(self) -> None:
        self.rules.clear()

    def _match(self, target: str, body: bytes) -> str | None:
        for rule_target, when, code in self.rules:
            if target == rule_target and when(json.loads(body or b"{}")):
                self.throttled[target] += 1
                return code
        return None

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}}
            connection.request("POST", "/", body=body, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def __enter__(self) -> ThrottlingProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
