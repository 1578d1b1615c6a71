"""An HTTP proxy in front of moto's server that makes chosen AWS calls fail.

It recognizes a call by its operation: the ``X-Amz-Target`` header of the JSON protocol
(``DynamoDB_20120810.PutItem``) or the ``Action`` of the query protocol (SNS's ``Publish``), and
passes rules the call's body (JSON, or the query's form fields). A matching call is either refused
(answered with the error without reaching the emulator: HTTP 400 and a throttling code by default)
or, with ``after=True``, forwarded and applied and then answered with HTTP 500, as when a service did
the work but the answer was lost. ``times`` bounds how many calls a rule fails (a client's own retries
are calls too). Everything else is forwarded unchanged.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.loopback_proxy import LoopbackProxy

Match = Callable[[dict[str, Any]], bool]


@dataclass
class _Rule:
    operation: str
    when: Match
    code: str
    status: int
    after: bool
    times: int | None


class ThrottlingProxy(LoopbackProxy):
    def __init__(self, upstream: str) -> None:
        self.rules: list[_Rule] = []
        self.throttled: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = dict(self.headers)
                target = self.headers.get("X-Amz-Target", "")
                query = not target
                fields: dict[str, Any]
                if query:
                    fields = {name: values[0] for name, values in parse_qs(body.decode()).items()}
                    target = fields.get("Action", "")
                else:
                    fields = json.loads(body or b"{}")
                rule = proxy._match(target, fields)
                if rule is not None and rule.after:
                    proxy.forward(headers, body)
                if rule is not None:
                    status, payload = rule.status, proxy._error(rule.code, query)
                    content_type = "text/xml" if query else "application/x-amz-json-1.0"
                else:
                    status, payload = proxy.forward(headers, body)
                    content_type = "text/xml" if query else "application/x-amz-json-1.0"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        super().__init__(upstream, Handler)

    def throttle(
        self,
        target: str,
        when: Match = lambda body: True,
        code: str = "ProvisionedThroughputExceededException",
        *,
        times: int | None = None,
    ) -> None:
        """Refuse the calls to ``target`` (e.g. ``DynamoDB_20120810.PutItem``) whose body matches:
        every one, or the first ``times``."""
        self.rules.append(_Rule(target, when, code, 400, False, times))

    def fail_after_applying(self, target: str, when: Match = lambda body: True, *, times: int | None = 1) -> None:
        """Forward the matching calls, then answer HTTP 500 (InternalFailure) as if they had failed."""
        self.rules.append(_Rule(target, when, "InternalFailure", 500, True, times))

    def fail(self, target: str, when: Match = lambda body: True, *, times: int | None = None) -> None:
        """Refuse the matching calls with HTTP 500 (InternalFailure), without reaching the emulator."""
        self.rules.append(_Rule(target, when, "InternalFailure", 500, False, times))

    def clear(self) -> None:
        self.rules.clear()

    def _match(self, target: str, fields: dict[str, Any]) -> _Rule | None:
        with self.lock:
            self.calls[target] += 1
            for rule in self.rules:
                if rule.operation == target and (rule.times is None or rule.times > 0) and rule.when(fields):
                    if rule.times is not None:
                        rule.times -= 1
                    self.throttled[target] += 1
                    return rule
        return None

    @staticmethod
    def _error(code: str, query: bool) -> bytes:
        if query:
            return (
                f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code>"
                "<Message>injected by the test</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
            ).encode()
        return json.dumps({"__type": code, "message": "injected by the test"}).encode()
