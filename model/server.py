"""A local stand-in for a SageMaker endpoint running the prebuilt scikit-learn container.

It unpacks ``model.tar.gz`` (or takes an unpacked folder), puts the artifact's ``code/`` first on
``sys.path`` and imports ``inference`` exactly as the container does, then answers:

* ``GET /ping``: 200 once the model is loaded (the container contract);
* ``POST /invocations``: ``input_fn`` -> ``predict_fn`` -> ``output_fn`` (the container contract);
  a rejected request gets its ``status_code`` (415 content type, 406 accept, 400 body) and
  ``{"error": ..., "message": ...}``;
* ``POST /endpoints/{name}/invocations``: the SageMaker runtime's InvokeEndpoint, so boto3's
  ``sagemaker-runtime`` client works with only ``endpoint_url`` changed. As the real runtime does,
  an error from the model comes back as a 424 ``ModelError`` carrying ``OriginalStatusCode`` and
  ``OriginalMessage``.

Run it as a script so that only the artifact's own code is imported (standard library only here)::

    python model/server.py --model-data build/model.tar.gz --port 8080

It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import signal
import sys
import tarfile
import tempfile
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

logger = logging.getLogger("model.server")

LOOPBACK = "127.0.0.1"
DEFAULT_CONTENT_TYPE = "application/json"
# InvokeEndpoint accepts at most 6 MB of payload for real-time endpoints.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_RUNTIME_PATH = re.compile(r"/endpoints/([A-Za-z0-9](?:-*[A-Za-z0-9]){0,62})/invocations")
_MODEL_ERROR_TYPE = "ModelError"


def unpack(model_data: str | os.PathLike[str], into: str | os.PathLike[str]) -> Path:
    """Unpack a ``model.tar.gz`` into ``into`` as SageMaker does into ``/opt/ml/model``."""
    with tarfile.open(model_data, "r:gz") as archive:
        archive.extractall(into, filter="data")
    return Path(into)


def load_inference(model_dir: str | os.PathLike[str]) -> tuple[ModuleType, Any]:
    """Import ``code/inference.py`` from the artifact and call its ``model_fn``."""
    code_dir = Path(model_dir) / "code"
    if not (code_dir / "inference.py").is_file():
        raise FileNotFoundError(f"{code_dir / 'inference.py'} not found: is {model_dir} a model artifact?")
    sys.path.insert(0, str(code_dir))
    module = importlib.import_module("inference")
    return module, module.model_fn(str(model_dir))


class InferenceHandler(BaseHTTPRequestHandler):
    """Routes requests to the loaded ``inference`` module (set on the server)."""

    server: InferenceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._send(HTTPStatus.OK, b"", "text/plain")
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "NotFound", "message": f"no route GET {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        match = _RUNTIME_PATH.fullmatch(self.path)
        if self.path != "/invocations" and match is None:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "NotFound", "message": f"no route POST {self.path}"})
            return
        status, response, content_type = self._transform(body)
        if match is None or status == HTTPStatus.OK:
            headers = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"} if match else None
            self._send(status, response, content_type, headers)
            return
        message = response.decode("utf-8", errors="replace")
        self._send_json(
            HTTPStatus.FAILED_DEPENDENCY,
            {
                "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if status < 500 else "SERVER_ERROR_FROM_MODEL",
                "Message": f"Received {'client' if status < 500 else 'server'} error ({status}) from primary "
                f'with message "{message}".',
                "OriginalMessage": message,
                "OriginalStatusCode": status,
            },
            {"x-amzn-ErrorType": _MODEL_ERROR_TYPE},
        )

    def _transform(self, body: bytes) -> tuple[int, bytes, str]:
        """The container's input_fn -> predict_fn -> output_fn, with errors mapped to statuses."""
        if len(body) > MAX_PAYLOAD_BYTES:
            return _error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PayloadTooLarge", f"more than {MAX_PAYLOAD_BYTES} bytes"
            )
        content_type = self.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE
        accept = self.headers.get("Accept")
        inference = self.server.inference
        # The container hands JSON and CSV bodies to input_fn as text, anything else as bytes.
        content: str | bytes = body
        if content_type.split(";", 1)[0].strip().lower() in ("application/json", "text/csv"):
            content = body.decode("utf-8", errors="replace")
        try:
            data = inference.input_fn(content, content_type)
            prediction = inference.predict_fn(data, self.server.model)
            result = inference.output_fn(prediction, accept)
        except Exception as error:  # noqa: BLE001 - every failure of user code becomes an HTTP answer
            status = getattr(error, "status_code", None)
            if not isinstance(status, int):
                logger.error("inference failed: %s", traceback.format_exc())
                return _error(HTTPStatus.INTERNAL_SERVER_ERROR, type(error).__name__, str(error))
            return _error(status, type(error).__name__, str(error))
        if isinstance(result, tuple):
            payload, response_type = result
        else:
            payload, response_type = result, accept or DEFAULT_CONTENT_TYPE
        return HTTPStatus.OK, payload.encode() if isinstance(payload, str) else bytes(payload), response_type


def _error(status: int, kind: str, message: str) -> tuple[int, bytes, str]:
    return status, json.dumps({"error": kind, "message": message}).encode(), "application/json"


class InferenceServer(ThreadingHTTPServer):
    """An HTTP server holding the loaded inference module and model."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], inference: ModuleType, model: Any) -> None:
        super().__init__(address, InferenceHandler)
        self.inference = inference
        self.model = model


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Serve an artifact until interrupted (SIGINT/SIGTERM)."""
    parser = argparse.ArgumentParser(prog="python model/server.py", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-data", help="a model.tar.gz, unpacked into a temporary folder")
    source.add_argument("--model-dir", help="an unpacked artifact folder")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=8080)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="vedette-model-") as scratch:
        model_dir = unpack(arguments.model_data, scratch) if arguments.model_data else Path(arguments.model_dir)
        inference, model = load_inference(model_dir)
        server = InferenceServer((arguments.host, arguments.port), inference, model)
        signal.signal(signal.SIGTERM, _interrupt)
        print(f"serving {model_dir} on http://{arguments.host}:{server.server_address[1]}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    # Run as a script, this file's folder is sys.path[0]: drop it so that only the artifact's code
    # (put first by load_inference) provides ``inference`` and ``model``.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    sys.exit(main())
