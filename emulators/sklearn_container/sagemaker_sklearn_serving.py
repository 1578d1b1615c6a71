"""Serve a model artifact with the serving stack of SageMaker's scikit-learn container, without Docker.

Runs in ``.venv-sklearn-container`` (Python 3.10 and this folder's ``requirements.txt``, the versions
of image ``sagemaker-scikit-learn:1.4-2-cpu-py3``), which ``make test`` builds. Written for this
project from a reading of the container's entry point on branch v1.4-2 of
aws/sagemaker-scikit-learn-container: ``serve`` runs ``sagemaker_sklearn_container.serving``, whose
``serving_entrypoint`` calls sagemaker-containers' ``server.start`` with the WSGI application
``serving:main``; ``main`` imports ``SAGEMAKER_PROGRAM`` on the first request, wraps its
``model_fn``/``input_fn``/``predict_fn``/``output_fn`` in sagemaker-containers' ``Transformer``,
loads the model and hands requests to sagemaker-containers' Flask ``Worker``. This file does the
same with the same library objects, with these differences, each for running on loopback:

- gunicorn binds ``127.0.0.1:PORT`` itself; in the container it listens on a unix socket behind
  nginx (``server.start``), which only adds a ``404 {}`` for paths other than ``/ping`` and
  ``/invocations`` and no body size limit. The gunicorn arguments are otherwise ``server.start``'s.
- The artifact's ``code/`` is copied to the code folder and put first on gunicorn's
  ``--pythonpath``, as ``server.start`` does, but not ``pip install``-ed: that would leave this
  artifact's ``model`` package in the virtualenv, ahead of the next artifact's own code.
- The image patches ``sagemaker_containers/_mapping.py`` in place (``collections.Mapping`` is gone
  from Python 3.10; the patch reads ``collections.abc.Mapping``); here the old name is aliased before
  the import, to the same effect, leaving the installed package as PyPI ships it. The image's other
  patch (``sagemaker_inference/decoder.py``: NPY decoding without pickle) concerns the multi-model
  server, which is not installed here; the artifact decodes NPY itself, with pickle off.
- Only artifacts that define ``input_fn``, ``predict_fn`` and ``output_fn`` (or ``transform_fn``)
  are served: the container's scikit-learn defaults for missing ones are not reproduced.

Usage (the launcher)::

    .venv-sklearn-container/bin/python emulators/sklearn_container/sagemaker_sklearn_serving.py \
        --model-data build/model.tar.gz --port 8080
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import importlib
import logging
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

# The effect of the image's patch to sagemaker_containers/_mapping.py (see the module docstring).
collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]

LOOPBACK = "127.0.0.1"
# One worker by default: the endpoint tests and the demo share a small machine. The container's own
# default (one per CPU) applies when SAGEMAKER_MODEL_SERVER_WORKERS is set to nothing.
DEFAULT_WORKERS = "1"
APPLICATION = "sagemaker_sklearn_serving:main"
SERVING_FUNCTIONS = ("input_fn", "predict_fn", "output_fn")

# The container's serving module configures logging so at import time (serving.py).
logging.basicConfig(format="%(asctime)s %(levelname)s - %(name)s - %(message)s", level=logging.INFO)
logger = logging.getLogger("sagemaker_sklearn_serving")

_app: Any = None


def _transformer(user_module: ModuleType) -> Any:
    """sagemaker-containers' Transformer around the artifact's functions, as serving.py builds it."""
    from sagemaker_containers.beta.framework import transformer

    functions = {name: getattr(user_module, name, None) for name in SERVING_FUNCTIONS}
    transform_fn = getattr(user_module, "transform_fn", None)
    model_fn = getattr(user_module, "model_fn", None)
    if transform_fn is not None:
        if any(functions.values()):
            raise ValueError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
        return transformer.Transformer(model_fn=model_fn, transform_fn=transform_fn)
    missing = [name for name, function in functions.items() if function is None]
    if missing:
        raise ValueError(f"{user_module.__name__} lacks {', '.join(missing)}: this launcher serves no defaults")
    return transformer.Transformer(model_fn=model_fn, **functions)


def main(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI application gunicorn runs: built on the first request in each worker, as serving.py does."""
    global _app
    if _app is None:
        from sagemaker_containers.beta.framework import env, worker

        serving_env = env.ServingEnv()
        user_module = importlib.import_module(serving_env.module_name)
        user_transformer = _transformer(user_module)
        user_transformer.initialize()
        _app = worker.Worker(
            transform_fn=user_transformer.transform,
            module_name=serving_env.module_name,
            execution_parameters_fn=getattr(user_module, "execution_parameters_fn", None),
        )
    result: Iterable[bytes] = _app(environ, start_response)
    return result


def _prepare(model_data: str | None, model_dir: str | None, base_dir: str) -> None:
    """Lay out SAGEMAKER_BASE_DIR as SageMaker does /opt/ml: the artifact in model/, its code in code/."""
    os.environ["SAGEMAKER_BASE_DIR"] = base_dir
    target = os.path.join(base_dir, "model")
    if model_data:
        with tarfile.open(model_data, "r:gz") as archive:
            # The "data" filter (no absolute paths, links out or devices) exists from Python 3.10.12.
            if hasattr(tarfile, "data_filter"):
                archive.extractall(target, filter="data")
            else:
                archive.extractall(target)
    else:
        os.symlink(os.path.abspath(model_dir or ""), target)
    os.environ.setdefault("SAGEMAKER_PROGRAM", "inference.py")
    os.environ["SAGEMAKER_SUBMIT_DIRECTORY"] = os.path.join(target, "code")
    os.environ.setdefault("SAGEMAKER_MODEL_SERVER_WORKERS", DEFAULT_WORKERS)
    if not os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"]:
        del os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"]


def serve(port: int, host: str = LOOPBACK) -> int:
    """Run gunicorn with server.start's arguments, bound to ``host:port``; returns its exit code."""
    from sagemaker_containers import _env, _files

    serving_env = _env.ServingEnv()
    _files.download_and_extract(serving_env.module_dir, _env.code_dir)
    pythonpath = ",".join([*sys.path, _env.code_dir])
    command = [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "--timeout",
        str(serving_env.model_server_timeout),
        "-k",
        "gevent",
        "--pythonpath",
        pythonpath,
        "-b",
        f"{host}:{port}",
        "--worker-connections",
        str(1000 * serving_env.model_server_workers),
        "-w",
        str(serving_env.model_server_workers),
        "--log-level",
        "info",
        APPLICATION,
    ]
    gunicorn = subprocess.Popen(command, cwd=_env.base_dir)

    def stop(signum: int, frame: object) -> None:
        gunicorn.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return gunicorn.wait()


def run(argv: list[str] | None = None) -> int:
    """Parse the command line, lay out the model folder, serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-data", help="a model.tar.gz, unpacked as SageMaker does")
    source.add_argument("--model-dir", help="an unpacked artifact folder")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default=LOOPBACK)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vedette-sklearn-container-") as base_dir:
        _prepare(arguments.model_data, arguments.model_dir, base_dir)
        return serve(arguments.port, arguments.host)


if __name__ == "__main__":
    sys.exit(run())
