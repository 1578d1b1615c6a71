"""The project's own stand-in for SageMaker's scikit-learn container, answering as it does.

Where the container's real serving stack cannot be installed (it needs Python 3.10:
``emulators/sklearn_container``), this serves the artifact instead, and must answer every request
exactly as that stack does; ``tests/test_serving_stacks.py`` holds the two to the same status,
content type and body, byte for byte. It unpacks ``model.tar.gz`` (or takes an unpacked folder), puts
the artifact's ``code/`` first on ``sys.path`` and imports ``inference`` as the container does, then
answers the container contract:

* ``GET /ping``: 200, empty, ``application/json`` (sagemaker-containers' default health check);
* ``POST /invocations``: ``input_fn`` -> ``predict_fn`` -> ``output_fn`` with sagemaker-containers'
  request reading: the content type from ``ContentType`` or ``Content-Type`` (default JSON), the body
  as text only for exactly ``application/json`` or ``text/csv``, ``Accept`` absent or ``*/*`` read as
  JSON. A ``(body, content_type)`` result answers 200. Any exception from the artifact's functions
  answers Flask's generic 500 page, as the container does (sagemaker-containers wraps them as
  ``ClientError`` and Flask turns that into a 500): the reason is only in the log, where the
  artifact writes it as one JSON line (``model.serving``);
* any other path: 404 ``{}``, as the container's nginx answers.

InvokeEndpoint (``/endpoints/{name}/invocations``, 424 ``ModelError`` for a model's error) is the
runtime's, not the container's: ``emulators.sagemaker_runtime`` fronts either server with it.

Run it as a script so that only the artifact's own code is imported (standard library only here)::

    python model/server.py --model-data build/model.tar.gz --port 8080

Run so, it also drops the import finders of the repository's editable installs (``make install``),
which the container does not have (``without_editable_installs``).

It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
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
# sagemaker-containers' request defaults (_content_types, _worker.Request).
DEFAULT_CONTENT_TYPE = "application/json"
ANY_ACCEPT = "*/*"
TEXT_CONTENT_TYPES = ("application/json", "text/csv")
# What Flask 1.1.1 on Werkzeug 2.0.3 (the container's pins) answers for an unhandled exception.
INTERNAL_ERROR_CONTENT_TYPE = "text/html; charset=utf-8"
INTERNAL_ERROR_BODY = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n'
    b"<title>500 Internal Server Error</title>\n"
    b"<h1>Internal Server Error</h1>\n"
    b"<p>The server encountered an internal error and was unable to complete your request. Either the server "
    b"is overloaded or there is an error in the application.</p>\n"
)
# What the container's nginx answers for a path it does not route to the model server.
NOT_FOUND_BODY = b"{}"
NOT_FOUND_CONTENT_TYPE = "application/octet-stream"
# The modules setuptools writes for an editable install hold its finder: ``__editable___<name>_finder``.
EDITABLE_FINDER_PREFIX = "__editable__"


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
    # As the container does (sagemaker-containers puts code/ first on the path). This file holds the
    # repository's only sys.path edits (tests/test_tree.py allows them here alone).
    sys.path.insert(0, str(code_dir))
    module = importlib.import_module("inference")
    return module, module.model_fn(str(model_dir))


def without_editable_installs() -> None:
    """Drop the finders of editable installs from ``sys.meta_path``, as the container has none.

    ``make install`` installs this repository's packages editable: a ``.pth`` file appends to
    ``sys.meta_path`` a finder that maps ``model``, ``vedette``... to the checkout. It comes after
    the path's finder, so the artifact's ``code/`` still wins for what it ships, but it also answers
    for what it does not: ``model.tails`` missing from ``code/model`` would be imported from the
    checkout, and the artifact would pass here and fail in SageMaker.
    """
    sys.meta_path[:] = [
        finder for finder in sys.meta_path if not getattr(finder, "__module__", "").startswith(EDITABLE_FINDER_PREFIX)
    ]


class InferenceHandler(BaseHTTPRequestHandler):
    """Routes requests to the loaded ``inference`` module (set on the server)."""

    server: InferenceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._send(HTTPStatus.OK, b"", DEFAULT_CONTENT_TYPE)
        else:
            self._send(HTTPStatus.NOT_FOUND, NOT_FOUND_BODY, NOT_FOUND_CONTENT_TYPE)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path != "/invocations":
            self._send(HTTPStatus.NOT_FOUND, NOT_FOUND_BODY, NOT_FOUND_CONTENT_TYPE)
            return
        self._send(*self._transform(body))

    def _transform(self, body: bytes) -> tuple[int, bytes, str]:
        """The container's input_fn -> predict_fn -> output_fn; any failure is its generic 500."""
        content_type = self.headers.get("ContentType") or self.headers.get("Content-Type") or DEFAULT_CONTENT_TYPE
        accept = self.headers.get("Accept")
        if not accept or accept == ANY_ACCEPT:
            accept = DEFAULT_CONTENT_TYPE
        content: str | bytes = body.decode("utf-8", errors="replace") if content_type in TEXT_CONTENT_TYPES else body
        inference = self.server.inference
        try:
            data = inference.input_fn(content, content_type)
            prediction = inference.predict_fn(data, self.server.model)
            payload, response_type = inference.output_fn(prediction, accept)
        except Exception:  # noqa: BLE001 - as the container: every failure of user code is a 500
            logger.error("Exception on /invocations [POST]\n%s", traceback.format_exc())
            return HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR_BODY, INTERNAL_ERROR_CONTENT_TYPE
        return HTTPStatus.OK, payload.encode() if isinstance(payload, str) else bytes(payload), response_type


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
    # Run as a script, this file's folder is sys.path[0]: drop it, and the editable installs' finders,
    # so that only the artifact's code (put first by load_inference) provides ``inference`` and ``model``.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    without_editable_installs()
    sys.exit(main())
