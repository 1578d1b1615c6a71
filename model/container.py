"""The SageMaker scikit-learn container the model is built for: one constant the stack imports.

Image ``sagemaker-scikit-learn:1.4-2-cpu-py3`` (aws/sagemaker-scikit-learn-container,
docker/1.4-2) runs Python 3.10 with scikit-learn 1.4.2 and numpy 2.1.0; requirements.txt pins the
same scikit-learn and numpy for training, so a pickled detector loads there unchanged. The older
``1.2-1-cpu-py3`` has scikit-learn 1.2.1 on Python 3.9 and an older numpy, which would not load a
model pickled with numpy 2. ``model.artifact`` records the training versions in the artifact's
metadata and refuses to build when they differ from these.
"""

from __future__ import annotations

SKLEARN_IMAGE_REPOSITORY = "sagemaker-scikit-learn"
SKLEARN_IMAGE_TAG = "1.4-2-cpu-py3"
CONTAINER_SKLEARN_VERSION = "1.4.2"
CONTAINER_NUMPY_VERSION = "2.1.0"
CONTAINER_PYTHON = "3.10"

# Environment of the SageMaker Model: the container imports code/inference.py from the artifact.
INFERENCE_PROGRAM = "inference.py"
SUBMIT_DIRECTORY = "/opt/ml/model/code"
MODEL_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": INFERENCE_PROGRAM,
    "SAGEMAKER_SUBMIT_DIRECTORY": SUBMIT_DIRECTORY,
}
