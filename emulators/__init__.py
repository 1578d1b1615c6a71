"""AWS-compatible endpoints on 127.0.0.1 for tests, benchmarks and the local pipeline.

Each emulator runs as its own process (so it does not share the caller's GIL), listens only on
loopback, and is stopped when its context manager exits. Code reaches it through ``endpoint_url``
with dummy credentials, never through patched internals.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

LOOPBACK = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with code {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers HTTP: it is up
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"emulator did not answer at {url} within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _serving(
    command: list[str],
    port: int,
    ready_path: str,
    *,
    timeout: float = 30,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start ``command`` (listening on ``port``), wait until ``ready_path`` answers, yield the endpoint, stop it."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: Ctrl-C stops the caller, whose cleanup then stops this after its clients.
        start_new_session=True,
    )
    endpoint = f"http://{LOOPBACK}:{port}"
    try:
        _wait_until_serving(f"{endpoint}{ready_path}", process, timeout=timeout)
        yield endpoint
    finally:
        _stop(process)


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """Run moto's server on loopback; yields its endpoint URL."""
    port = port or free_port()
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with _serving(command, port, "/moto-api/", env={**os.environ, **DUMMY_CREDENTIALS}) as endpoint:
        yield endpoint


EMULATORS_DIR = os.path.dirname(os.path.abspath(__file__))


@contextmanager
def kinesalite(port: int | None = None) -> Iterator[str]:
    """Run kinesalite (Kinesis only, in memory, several times faster than moto) on loopback.

    Needs ``npm ci`` in this folder first (``make test`` does it). Yields its endpoint URL.
    """
    if not os.path.isdir(os.path.join(EMULATORS_DIR, "node_modules", "kinesalite")):
        raise RuntimeError(f"kinesalite is not installed: run 'npm ci' in {EMULATORS_DIR} (make test does)")
    port = port or free_port()
    command = ["node", os.path.join(EMULATORS_DIR, "kinesalite.js"), str(port)]
    with _serving(command, port, "", cwd=EMULATORS_DIR) as endpoint:
        yield endpoint


REPOSITORY_DIR = os.path.dirname(EMULATORS_DIR)


@contextmanager
def model_server(model_data: str | os.PathLike[str], port: int | None = None) -> Iterator[str]:
    """Serve a ``model.tar.gz`` with the local SageMaker endpoint (``model/server.py``) on loopback.

    It answers the container contract (``/ping``, ``/invocations``) and the runtime path, so a
    ``sagemaker-runtime`` client with this endpoint URL calls it. The server runs from a scratch
    folder with no ``PYTHONPATH``, so only the artifact's own ``code/`` is importable, as in the
    container. Yields its endpoint URL.
    """
    port = port or free_port()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    command = [sys.executable, os.path.join(REPOSITORY_DIR, "model", "server.py")]
    command += ["--model-data", os.fspath(model_data), "--port", str(port)]
    with (
        tempfile.TemporaryDirectory(prefix="vedette-model-server-") as scratch,
        _serving(command, port, "/ping", timeout=60, cwd=scratch, env=env) as endpoint,
    ):
        yield endpoint
