"""The SageMaker runtime's InvokeEndpoint on loopback, in front of a model container.

SageMaker's runtime, not the container, answers ``POST /endpoints/{EndpointName}/invocations``: it
passes ``ContentType``, ``Accept`` and the body to the container's ``/invocations`` and returns the
container's 200 as is; any other status from the container becomes a 424 ``ModelError`` carrying
``OriginalStatusCode``, ``OriginalMessage`` (the container's body) and ``LogStreamArn`` (the
endpoint's CloudWatch log group, where the container's output goes). boto3's ``sagemaker-runtime``
client then raises ``ModelError`` with those fields. This process plays that part for either local
container (the real serving stack or ``model/server.py``), so both are reached exactly as the
scorer reaches a deployed endpoint: only ``endpoint_url`` changes.

It also refuses what the runtime refuses before the container sees it, as a 400 ``ValidationError``:
a body over InvokeEndpoint's limit (``model.rows.MAX_REQUEST_BYTES``) and, when ``--endpoint-name``
is given, another endpoint's name.

    python -m emulators.sagemaker_runtime --container http://127.0.0.1:8080 --port 8081
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import signal
import sys
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from model.rows import MAX_REQUEST_BYTES

LOOPBACK = "127.0.0.1"
# moto's default account: the ARNs the local pipeline's other resources carry.
LOCAL_ACCOUNT = "123456789012"
MODEL_ERROR = "ModelError"
VALIDATION_ERROR = "ValidationError"
FAILED_DEPENDENCY = 424
# The EndpointName pattern of botocore's service model (sagemaker-runtime).
_RUNTIME_PATH = re.compile(r"/endpoints/([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})/invocations")
CONTAINER_TIMEOUT_SECONDS = 60  # InvokeEndpoint's limit for a real-time endpoint to answer


def log_group_arn(region: str, endpoint_name: str, account: str = LOCAL_ACCOUNT) -> str:
    """The ARN of the log group SageMaker writes an endpoint's container output to."""
    return f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{endpoint_name}"


class RuntimeHandler(BaseHTTPRequestHandler):
    server: RuntimeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # the container logs each request; this front stays quiet

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, kind: str, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", {"x-amzn-ErrorType": kind})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        match = _RUNTIME_PATH.fullmatch(self.path)
        if match is None:
            self._error(HTTPStatus.NOT_FOUND, "UnknownOperationException", {"message": f"no route POST {self.path}"})
            return
        name = match.group(1)
        if self.server.endpoint_name is not None and name != self.server.endpoint_name:
            message = f"Endpoint {name} of account {LOCAL_ACCOUNT} not found."
            self._error(HTTPStatus.BAD_REQUEST, VALIDATION_ERROR, {"message": message})
            return
        if len(body) > MAX_REQUEST_BYTES:
            message = f"Request body of {len(body)} bytes exceeds the limit of {MAX_REQUEST_BYTES} bytes."
            self._error(HTTPStatus.BAD_REQUEST, VALIDATION_ERROR, {"message": message})
            return
        status, response, content_type = self.server.invoke_container(
            body, self.headers.get("Content-Type"), self.headers.get("Accept")
        )
        if status == HTTPStatus.OK:
            self._send(status, response, content_type, {"x-Amzn-Invoked-Production-Variant": "AllTraffic"})
            return
        original = response.decode("utf-8", errors="replace")
        kind = "client" if status < 500 else "server"
        self._error(
            FAILED_DEPENDENCY,
            MODEL_ERROR,
            {
                "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
                "Message": f'Received {kind} error ({status}) from primary with message "{original}". See the '
                f"endpoint's log group /aws/sagemaker/Endpoints/{name} for more information.",
                "OriginalMessage": original,
                "OriginalStatusCode": status,
                "LogStreamArn": log_group_arn(self.server.region, name),
            },
        )


class RuntimeServer(ThreadingHTTPServer):
    """Forwards InvokeEndpoint to one container's ``/invocations``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], container: str, region: str, endpoint_name: str | None) -> None:
        super().__init__(address, RuntimeHandler)
        parsed = urllib.parse.urlsplit(container)
        self.container_host = parsed.hostname or LOOPBACK
        self.container_port = parsed.port or 8080
        self.region = region
        self.endpoint_name = endpoint_name

    def invoke_container(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[int, bytes, str]:
        headers = {"Content-Type": content_type or "application/octet-stream"}
        if accept:
            headers["Accept"] = accept
        connection = http.client.HTTPConnection(self.container_host, self.container_port, CONTAINER_TIMEOUT_SECONDS)
        try:
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("Content-Type") or "application/octet-stream"
        finally:
            connection.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators.sagemaker_runtime", description=__doc__.split("\n")[0])
    parser.add_argument("--container", required=True, help="the container's URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--endpoint-name", help="answer only this endpoint (others: ValidationError)")
    arguments = parser.parse_args(argv)
    server = RuntimeServer((LOOPBACK, arguments.port), arguments.container, arguments.region, arguments.endpoint_name)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
