"""SageMaker entry point (``SAGEMAKER_PROGRAM=inference.py``), shipped as ``code/inference.py``.

The container puts ``code/`` on ``sys.path``; the ``model`` package beside this file holds the
logic, so the endpoint runs the same modules that training and the tests import.
"""

from __future__ import annotations

from model.serving import input_fn, model_fn, output_fn, predict_fn

__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]
