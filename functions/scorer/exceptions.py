"""Errors the scorer raises."""

from __future__ import annotations


class ScorerError(Exception):
    """Base class of the scorer's errors."""


class MissingSettingError(ScorerError):
    """A setting the stack must provide is absent or malformed; raised at cold start."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"environment variable {name}: {reason}")
        self.name = name
        self.reason = reason


class TransientError(ScorerError):
    """A dependency failed in a way a retry can fix (throttling, 5xx, timeout)."""

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.detail = detail


class NothingProcessedError(ScorerError):
    """Raised by the handler when no record of the batch could be processed, so Lambda retries it
    (and bisects, if the mapping says so)."""


class RequestLimitError(ScorerError):
    """A request body the scorer built breaks the endpoint's limits (``model.rows``): ``field`` is
    ``rows`` or ``bytes``. Raised before sending, so a misconfigured chunk never reaches the model."""

    def __init__(self, field: str, value: int, limit: int) -> None:
        super().__init__(f"request {field}: {value} exceeds the endpoint's limit of {limit}")
        self.field = field
        self.value = value
        self.limit = limit


class ModelRejectedError(ScorerError):
    """The endpoint's model code raised on a request (InvokeEndpoint's ``ModelError``). The container
    answers any such error with a 500, so its status says nothing of the cause: the reason is in the
    endpoint's log, at ``log_stream_arn``. Not transient: the same rows fail the same way again."""

    def __init__(self, detail: str, original_status: int | None, log_stream_arn: str | None) -> None:
        super().__init__(f"endpoint model error (status {original_status}): {detail}; log: {log_stream_arn}")
        self.detail = detail
        self.original_status = original_status
        self.log_stream_arn = log_stream_arn


class EndpointUnusableError(ScorerError):
    """The endpoint refuses every request this scorer sends, not particular rows: it serves an
    artifact for other features than the scorer was deployed with, rejects a reference row, or does
    not exist. Retrying or bisecting cannot help; the batch is handed back whole (see the handler)."""

    def __init__(self, reason: str, log_stream_arn: str | None = None) -> None:
        super().__init__(f"{reason}; log: {log_stream_arn}" if log_stream_arn else reason)
        self.reason = reason
        self.log_stream_arn = log_stream_arn


class FeatureConfigRefusedError(ScorerError):
    """The endpoint's model was trained with another feature configuration than the rows were
    computed with, and said which (``served``): a new model rolled out, a rollback, or both serving
    during a guarded rollout. Featurizing the rows again with that configuration answers it."""

    def __init__(self, sent: str | None, served: str) -> None:
        super().__init__(f"rows computed with feature configuration {sent}, the endpoint's model reads {served}")
        self.sent = sent
        self.served = served
