"""A Kinesis endpoint that goes down and comes back: a loopback proxy that stops listening for a while.

While it is down nothing listens on its port, so a client's connection is refused (botocore's
``EndpointConnectionError``), exactly as when a service's endpoint or its network is unreachable;
when it comes back it listens on the same port again and forwards every call unchanged.
"""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType

from tests.loopback_proxy import LoopbackProxy


class OutageProxy(LoopbackProxy):
    def __init__(self, upstream: str) -> None:
        self.forwarded: Counter[str] = Counter()
        self._state = threading.Lock()
        self.up = True
        super().__init__(upstream)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.forwarded[headers.get("X-Amz-Target", "")] += 1
        return self.forward(headers, body)

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
            self.server = self._serve(port)
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
