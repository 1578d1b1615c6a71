"""An HTTP proxy in front of a JSON-protocol AWS endpoint (DynamoDB here) that throttles chosen calls.

Calls whose ``X-Amz-Target`` and JSON body match a rule are answered with HTTP 400 and the error
code DynamoDB uses for throttling, without reaching the emulator; everything else is forwarded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback_proxy import LoopbackProxy

Rule = tuple[str, Callable[[dict[str, Any]], bool], str]


class ThrottlingProxy(LoopbackProxy):
    def __init__(self, upstream: str) -> None:
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
                    status, payload = proxy.forward(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        super().__init__(upstream, Handler)

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
