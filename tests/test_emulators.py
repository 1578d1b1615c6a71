"""The emulator harness: an emulator that dies while in use says so, with why."""

from __future__ import annotations

import sys
import time

import pytest

from emulators import EmulatorDiedError, _serving, free_port

# Answers the readiness probe, then says why it stops and exits: an emulator crashing mid-session.
ONE_REQUEST_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Once(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Once)
server.handle_request()
print("out of memory: giving up", flush=True)
sys.exit(3)
"""


def test_an_emulator_that_dies_in_use_is_an_error_with_its_exit_code_and_last_output() -> None:
    port = free_port()
    with (
        pytest.raises(EmulatorDiedError) as raised,
        _serving([sys.executable, "-c", ONE_REQUEST_SERVER, str(port)], port, "/"),
    ):
        time.sleep(1.0)
    assert "exited with code 3 while in use" in str(raised.value)
    assert "out of memory: giving up" in str(raised.value)


def test_an_emulator_that_lives_is_stopped_without_error() -> None:
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with _serving(command, port, "/") as endpoint:
        assert endpoint == f"http://127.0.0.1:{port}"
