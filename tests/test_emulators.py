"""The emulator harness: an emulator that dies while in use says so, with why."""

from __future__ import annotations

import socket
import struct
import sys
import time

import boto3
import pytest

from emulators import EmulatorDiedError, _serving, free_port, kinesalite

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
    with (
        pytest.raises(EmulatorDiedError) as raised,
        _serving(lambda port: [sys.executable, "-c", ONE_REQUEST_SERVER, str(port)], "/"),
    ):
        time.sleep(1.0)
    assert "exited with code 3 while in use" in str(raised.value)
    assert "out of memory: giving up" in str(raised.value)


def test_an_emulator_that_lives_is_stopped_without_error() -> None:
    port = free_port()

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]

    with _serving(command, "/", port=port) as endpoint:
        assert endpoint == f"http://127.0.0.1:{port}"


def test_kinesalite_survives_a_client_that_goes_away_mid_request() -> None:
    # GIVEN kinesalite, and a client that sends part of a PutRecords body and disconnects (a producer
    # killed with SIGKILL mid-request)
    with kinesalite() as endpoint:
        port = int(endpoint.rsplit(":", 1)[1])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(
                    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
                    b"X-Amz-Target: Kinesis_20131202.PutRecords\r\nContent-Length: 100000\r\n\r\n"
                    + b'{"StreamName": "s", "Records": ['
                )
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
            time.sleep(0.2)
        # THEN it still answers (and exits cleanly at the end: a death would raise EmulatorDiedError)
        client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
        assert client.list_streams()["StreamNames"] == []
