"""A local Lambda execution environment: one process that imports a handler once and serves invocations.

Lambda runs each concurrent execution in its own environment: the module is imported once (the
init phase, where a missing setting fails), then invoked again and again. This does the same in a
child process, so a shard's invocations share warm module state and two shards use two cores.
Stdout carries what the function prints (Powertools' JSON logs and EMF metrics), exactly as Lambda
forwards it to CloudWatch; the parent reads invocation results from a separate pipe.

Protocol: the parent writes one JSON line per invocation to the child's stdin; the child answers
on file descriptor ``--result-fd`` with one JSON line: ``{"ok": true, "response": ...}`` or
``{"ok": false, "error": "<type>: <message>"}`` (a function error, as Lambda reports it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import IO, Any

logger = logging.getLogger(__name__)


class InitError(RuntimeError):
    """The function's module failed to import (Lambda's init phase)."""


class LambdaProcess:
    """The parent's side: start an environment for ``handler`` ("module.function"), invoke it.

    The handler's module is imported from the installed packages (the scorer's, ``make install``);
    ``pythonpath`` is the environment's whole ``PYTHONPATH``, for a handler outside them (the tests'
    functions in ``tests/``), as Lambda's task root holds a function's code.
    """

    def __init__(
        self,
        handler: str,
        env: Mapping[str, str],
        on_output: Callable[[str], None],
        function_name: str = "vedette-scorer",
        pythonpath: str = "",
    ) -> None:
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_pipeline.lambda_runtime", handler, "--result-fd", str(write_fd)],
            env={**env, "PYTHONPATH": pythonpath, "AWS_LAMBDA_FUNCTION_NAME": function_name},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            text=True,
        )
        os.close(write_fd)
        self.exited = False
        # The last invocation's time inside the function, as Lambda's REPORT line gives it (Duration).
        self.last_duration_ms: float | None = None
        self.results: IO[str] = os.fdopen(read_fd, "r")
        self._output = threading.Thread(target=self._pump, args=(on_output,), daemon=True)
        self._output.start()
        ready = self.results.readline()
        if not ready:
            self.close()
            raise InitError(f"{handler}: the environment exited during init (see its output)")
        status = json.loads(ready)
        if not status.get("ok"):
            self.close()
            raise InitError(f"{handler}: init failed: {status.get('error')}")

    def _pump(self, on_output: Callable[[str], None]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                on_output(line.rstrip("\n"))
            except Exception:
                # Keep draining: a stopped reader would fill the pipe and freeze the environment.
                logger.exception("output callback failed on %r", line[:200])

    @property
    def alive(self) -> bool:
        # The result pipe closes as the process exits, a moment before it can be reaped: trust either.
        return not self.exited and self.process.poll() is None

    def invoke(self, event: Mapping[str, Any]) -> tuple[bool, Any]:
        """Run one invocation: (True, the handler's response) or (False, the function error)."""
        assert self.process.stdin is not None
        self.last_duration_ms = None
        try:
            self.process.stdin.write(json.dumps(event) + "\n")
            self.process.stdin.flush()
            line = self.results.readline()
        except (BrokenPipeError, ConnectionResetError):
            line = ""
        if not line:
            self.exited = True
            return False, "Runtime.ExitError: the environment exited"
        result = json.loads(line)
        self.last_duration_ms = result.get("duration_ms")
        return (True, result["response"]) if result["ok"] else (False, result["error"])

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._output.join(timeout=5)
        self.results.close()
        # The pump has read the output to its end: close it here, not in the garbage collector (an
        # unclosed file's ResourceWarning). A pump still reading keeps it, rather than fail mid-read.
        if self.process.stdout is not None and not self._output.is_alive():
            self.process.stdout.close()


def _context(function_name: str) -> Any:
    return SimpleNamespace(
        function_name=function_name,
        function_version="$LATEST",
        memory_limit_in_mb=1024,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}",
        aws_request_id=str(uuid.uuid4()),
        get_remaining_time_in_millis=lambda: 60_000,
    )


def serve(handler: str, result_fd: int) -> int:
    """The child's side: import once, then answer invocations from stdin until it closes."""
    # Ctrl-C reaches the whole process group; the parent decides when this environment stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results = os.fdopen(result_fd, "w")
    module_name, _, function_name = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # noqa: BLE001 - the init phase reports any failure, as Lambda does
        traceback.print_exc(file=sys.stdout)
        results.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
        results.flush()
        return 1
    results.write(json.dumps({"ok": True}) + "\n")
    results.flush()
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
    for line in sys.stdin:
        event = json.loads(line)
        started = time.monotonic()
        try:
            response = function(event, _context(name))
            outcome = {"ok": True, "response": response}
        except BaseException as error:  # noqa: BLE001 - a function error (SystemExit too): Lambda retries
            traceback.print_exc(file=sys.stdout)
            outcome = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        outcome["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        sys.stdout.flush()
        results.write(json.dumps(outcome) + "\n")
        results.flush()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("handler", help="module.function, e.g. scorer.handler.lambda_handler")
    parser.add_argument("--result-fd", type=int, required=True)
    arguments = parser.parse_args()
    return serve(arguments.handler, arguments.result_fd)


if __name__ == "__main__":
    sys.exit(main())
