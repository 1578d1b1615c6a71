"""AWS-compatible endpoints on 127.0.0.1 for tests, benchmarks and the local pipeline.

Each emulator runs as its own process (so it does not share the caller's GIL), listens only on
loopback, and is stopped when its context manager exits. Code reaches it through ``endpoint_url``
with dummy credentials, never through patched internals.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

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


@contextmanager
def _port_lock() -> Iterator[None]:
    """Held by an emulator's start from choosing its port until it listens there, across every
    process on the machine (``make test`` runs two; a demo may run beside them). The kernel never
    hands out a port something listens on, so no two emulators started under it pick the same one;
    without it, two processes could both pick a port in the moment before either listened, and
    one's clients would talk to the other's emulator."""
    with open(os.path.join(tempfile.gettempdir(), "vedette-emulator-ports.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    command: Callable[[int], list[str]],
    ready_path: str,
    *,
    port: int | None = None,
    timeout: float = 30,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    output: IO[bytes] | None = None,
) -> Iterator[str]:
    """Start ``command(port)`` (listening on ``port``, a free one unless given), wait until
    ``ready_path`` answers, yield the endpoint, stop it.

    The command's output goes to ``output`` (a file) if given, else to a temporary file. An emulator
    that exited while in use is an error at the end, with its exit code and last output: otherwise
    its clients' connection errors are all that is left of why it died."""
    with contextlib.ExitStack() as stack:
        log = output or stack.enter_context(tempfile.TemporaryFile())
        with _port_lock():
            port = port or free_port()
            arguments = command(port)
            process = subprocess.Popen(
                arguments,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C stops the caller, whose cleanup then stops this after its clients.
                start_new_session=True,
            )
            endpoint = f"http://{LOOPBACK}:{port}"
            try:
                _wait_until_serving(f"{endpoint}{ready_path}", process, timeout=timeout)
            except BaseException:
                _stop(process)
                raise
        try:
            yield endpoint
        except BaseException:
            _stop(process)
            raise
        died = process.poll()
        _stop(process)
        if died is not None:
            raise EmulatorDiedError(arguments, died, _tail(log))


class EmulatorDiedError(RuntimeError):
    def __init__(self, command: list[str], returncode: int, last_output: str) -> None:
        super().__init__(
            f"{' '.join(command)} exited with code {returncode} while in use; its last output:\n{last_output}"
        )


def _tail(log: IO[bytes], size: int = 4000) -> str:
    """The last ``size`` bytes of an emulator's output file."""
    try:
        log.flush()
        log.seek(max(0, os.fstat(log.fileno()).st_size - size))
        return log.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return "(its output could not be read)"


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """Run moto's server on loopback; yields its endpoint URL."""

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]

    with _serving(command, "/moto-api/", port=port, env={**os.environ, **DUMMY_CREDENTIALS}) as endpoint:
        yield endpoint


EMULATORS_DIR = os.path.dirname(os.path.abspath(__file__))
REPOSITORY_DIR = os.path.dirname(EMULATORS_DIR)


@contextmanager
def _node_emulator(name: str, port: int | None) -> Iterator[str]:
    """Run the npm package ``name`` through ``launch.js`` on loopback; yields its endpoint URL."""
    if not os.path.isdir(os.path.join(EMULATORS_DIR, "node_modules", name)):
        raise RuntimeError(f"{name} is not installed: run 'npm ci' in {EMULATORS_DIR} (make test does)")

    def command(port: int) -> list[str]:
        return ["node", os.path.join(EMULATORS_DIR, "launch.js"), name, str(port)]

    with _serving(command, "", port=port, cwd=EMULATORS_DIR) as endpoint:
        yield endpoint


@contextmanager
def kinesalite(port: int | None = None) -> Iterator[str]:
    """Run kinesalite (Kinesis only, in memory, several times faster than moto) on loopback.

    Needs ``npm ci`` in this folder first (``make test`` does it). Yields its endpoint URL.
    """
    with _node_emulator("kinesalite", port) as endpoint:
        yield endpoint


@contextmanager
def dynalite(port: int | None = None) -> Iterator[str]:
    """Run dynalite (DynamoDB only, in memory) on loopback: the local pipeline's tables. Its calls
    answer in a fraction of moto's time, and it spends far less of the machine's CPU doing so,
    which the demo's latency needs (docs/deploy.md, "Latency"); ``tests/test_dynalite.py`` runs
    the pipeline's stores against it and moto's server with the same expectations.

    Needs ``npm ci`` in this folder first (``make test`` does it). Yields its endpoint URL.
    """
    with _node_emulator("dynalite", port) as endpoint:
        yield endpoint


@contextmanager
def kinesis_limits_proxy(
    upstream: str,
    limit_algo: str = "window",
    *,
    stats_path: str | None = None,
    shard_bytes: int | None = None,
    shard_records: int | None = None,
) -> Iterator[str]:
    """Run ``emulators.kinesis_limits`` (Kinesis's per-shard write limits) in front of ``upstream``,
    a Kinesis endpoint on loopback; yields its endpoint URL. ``limit_algo`` is ``window`` or
    ``bucket``; its counts are at ``emulators.proxying.fetch_stats(endpoint)`` while it runs
    and in ``stats_path`` once it has stopped."""
    options = ["--upstream", str(urllib.parse.urlsplit(upstream).port), "--limit-algo", limit_algo]
    options += ["--stats", stats_path] if stats_path else []
    options += ["--shard-bytes", str(shard_bytes)] if shard_bytes else []
    options += ["--shard-records", str(shard_records)] if shard_records else []

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "emulators.kinesis_limits", "--listen", str(port), *options]

    with _serving(command, "/stats", cwd=REPOSITORY_DIR) as endpoint:
        yield endpoint


@contextmanager
def dynamodb_limits_proxy(
    upstream: str,
    *,
    stats_path: str | None = None,
    write_units: float | None = None,
    read_units: float | None = None,
) -> Iterator[str]:
    """Run ``emulators.dynamodb_limits`` (DynamoDB's per-partition limits, item by item) in front of
    ``upstream``, a DynamoDB endpoint on loopback (moto's server); yields its endpoint URL. Its
    counts are at ``emulators.proxying.fetch_stats(endpoint)`` while it runs and in
    ``stats_path`` once it has stopped."""
    options = ["--upstream", str(urllib.parse.urlsplit(upstream).port)]
    options += ["--stats", stats_path] if stats_path else []
    options += ["--write-units", str(write_units)] if write_units else []
    options += ["--read-units", str(read_units)] if read_units else []

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "emulators.dynamodb_limits", "--listen", str(port), *options]

    with _serving(command, "/stats", cwd=REPOSITORY_DIR) as endpoint:
        yield endpoint


# The real serving stack of SageMaker's scikit-learn container, in its own Python 3.10 virtualenv
# (the Makefile builds it, or writes why it could not next to it).
SKLEARN_CONTAINER_VENV = os.path.join(REPOSITORY_DIR, ".venv-sklearn-container")
SKLEARN_CONTAINER_UNAVAILABLE = SKLEARN_CONTAINER_VENV + ".unavailable"
SKLEARN_CONTAINER_LAUNCHER = os.path.join(EMULATORS_DIR, "sklearn_container", "sagemaker_sklearn_serving.py")
PROJECT_SERVER = os.path.join(REPOSITORY_DIR, "model", "server.py")
# VEDETTE_SERVING_STACK=container|project picks one; unset, the real stack whenever it is installed.
SERVING_STACK_VARIABLE = "VEDETTE_SERVING_STACK"
CONTAINER_STACK = "container"
PROJECT_STACK = "project"


@dataclass(frozen=True)
class ServingStack:
    """Which server plays the model container: ``name`` (``container`` or ``project``), the command
    that starts it before its arguments, and why it was chosen (shown in test output and the demo)."""

    name: str
    command: list[str]
    reason: str


def _container_python() -> str:
    return os.path.join(SKLEARN_CONTAINER_VENV, "bin", "python")


def serving_stack(name: str | None = None) -> ServingStack:
    """The real serving stack if it is installed (or asked for), else the project's own server."""
    name = name or os.environ.get(SERVING_STACK_VARIABLE) or None
    installed = os.path.isfile(os.path.join(SKLEARN_CONTAINER_VENV, ".installed"))
    if name == CONTAINER_STACK or (name is None and installed):
        if not installed:
            raise RuntimeError(f"the container's serving stack is not installed in {SKLEARN_CONTAINER_VENV}")
        return ServingStack(
            CONTAINER_STACK,
            [_container_python(), SKLEARN_CONTAINER_LAUNCHER],
            "sagemaker-containers 2.8.6.post2 (Flask, gunicorn, gevent) on Python 3.10, as in the "
            f"scikit-learn 1.4-2 container, from {SKLEARN_CONTAINER_VENV}",
        )
    if name not in (None, PROJECT_STACK):
        raise ValueError(f"{SERVING_STACK_VARIABLE}: expected {CONTAINER_STACK} or {PROJECT_STACK}, got {name!r}")
    if name == PROJECT_STACK:
        reason = f"{SERVING_STACK_VARIABLE}={PROJECT_STACK}"
    elif os.path.isfile(SKLEARN_CONTAINER_UNAVAILABLE):
        with open(SKLEARN_CONTAINER_UNAVAILABLE) as note:
            reason = note.read().strip()
    else:
        reason = f"{SKLEARN_CONTAINER_VENV} is not built (make container-venv builds it)"
    return ServingStack(PROJECT_STACK, [sys.executable, PROJECT_SERVER], f"model/server.py: {reason}")


@dataclass(frozen=True)
class LocalEndpoint:
    """A served artifact: ``url`` takes InvokeEndpoint (boto3's ``endpoint_url``), ``container_url``
    the container contract (``/ping``, ``/invocations``); ``log_path`` holds the container's output,
    as the endpoint's CloudWatch log would."""

    url: str
    container_url: str
    stack: ServingStack
    log_path: str


@contextmanager
def local_endpoint(
    model_data: str | os.PathLike[str],
    stack: ServingStack | None = None,
    endpoint_name: str | None = None,
    region: str = "us-east-1",
) -> Iterator[LocalEndpoint]:
    """Serve a ``model.tar.gz`` on loopback as SageMaker would: the container (the real serving stack
    or ``model/server.py``, see ``serving_stack``) behind the runtime's InvokeEndpoint
    (``emulators.sagemaker_runtime``). The container runs from a scratch folder with no
    ``PYTHONPATH`` (and ``model/server.py`` drops the finders of this venv's editable installs), so
    only the artifact's own ``code/`` provides its modules. Yields the endpoint."""
    stack = stack or serving_stack()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    def container(port: int) -> list[str]:
        return [*stack.command, "--model-data", os.path.abspath(model_data), "--port", str(port)]

    def runtime(port: int) -> list[str]:
        command = [sys.executable, "-m", "emulators.sagemaker_runtime", "--port", str(port), "--region", region]
        command += ["--endpoint-name", endpoint_name] if endpoint_name else []
        return [*command, "--container", container_url]

    with tempfile.TemporaryDirectory(prefix="vedette-model-server-") as scratch:
        log_path = os.path.join(scratch, "container.log")
        with (
            open(log_path, "wb") as log,
            _serving(container, "/ping", timeout=90, cwd=scratch, env=env, output=log) as container_url,
            _serving(runtime, "/", cwd=REPOSITORY_DIR) as url,
        ):
            yield LocalEndpoint(url, container_url, stack, log_path)


@contextmanager
def model_server(model_data: str | os.PathLike[str]) -> Iterator[str]:
    """``local_endpoint``'s InvokeEndpoint URL alone."""
    with local_endpoint(model_data) as endpoint:
        yield endpoint.url
