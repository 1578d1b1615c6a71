"""Errors raised by the feature module, the detectors, training, the artifact and the model server.

Each name says what happened; each carries the offending field or cause as attributes so callers
can route or log it without parsing the message.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error the ``model`` package raises."""


class InvalidStateError(ModelError, ValueError):
    """Serialized per-user or per-IP state cannot be decoded; ``reason`` says why."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind} state: {reason}")
        self.kind = kind
        self.reason = reason


class InvalidFeatureEventError(ModelError, ValueError):
    """An event lacks what featurization needs (``field`` names it), e.g. an unparsable timestamp."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NetworkLookupError(ModelError, ValueError):
    """A network lookup cannot be built (``source`` names the database or lookup): a missing file, a
    database of another kind, or other data than the model was trained with."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class AgentParserError(ModelError, ValueError):
    """The user-agent parser differs from the one the model was trained with; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DetectorNotFittedError(ModelError, RuntimeError):
    """``score`` or ``explain`` was called on a detector that was never fitted."""


class TrainingDataError(ModelError, ValueError):
    """The training input cannot train a model: no events, too few rows, or an unreadable archive."""


class ArtifactError(ModelError, ValueError):
    """A model artifact is missing a file, or was built for other features than this code computes."""


class RequestError(ModelError, ValueError):
    """An inference request ``input_fn`` or ``output_fn`` rejects: ``field`` names what is wrong
    (``rows[3][4] (name)``, ``feature_names``, ``body``, ``ContentType``, ``Accept``) and ``reason``
    says why. ``status_code`` is the status the request deserves; the SageMaker container answers
    every such error with a 500 whatever it is (``model.server`` does the same), so the artifact
    logs it (``model.serving``)."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        head, separator, rest = message.partition(": ")
        self.field = field or (head if separator else "request")
        self.reason = rest if separator and field is None else message


class UnsupportedContentTypeError(RequestError):
    """The request's content type is not one ``input_fn`` decodes."""

    status_code = 415


class UnsupportedAcceptError(RequestError):
    """The client asked for a response type ``output_fn`` cannot produce."""

    status_code = 406
