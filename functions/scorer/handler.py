"""Lambda entry point (``scorer.handler.lambda_handler``) for the stream's event source mapping.

Thin on purpose: decode, process (``scorer.batch``), emit metrics, answer. Settings and clients are
built at cold start, so a missing setting fails the init with a message naming the variable. The
mapping must enable ``ReportBatchItemFailures``: the answer is a partial batch response.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from scorer.batch import BatchOutcome, collect_garbage_for_batches, process_batch
from scorer.clients import build_dependencies
from scorer.exceptions import (
    EndpointUnusableError,
    NothingProcessedError,
    RequestLimitError,
    ScorerError,
    TransientError,
)
from scorer.model_config import BUNDLED_FEATURE_CONFIG, load_feature_config
from scorer.records import decode_batch
from scorer.settings import ScorerSettings

logger = Logger(service="vedette-scorer")
metrics = Metrics(namespace="Vedette", service="vedette-scorer")

try:
    SETTINGS = ScorerSettings.from_environ()
    FEATURES = load_feature_config(SETTINGS.feature_config_path or BUNDLED_FEATURE_CONFIG)
except ScorerError as error:
    # The init fails with the error's message, which names the setting or the configuration; the
    # metric lets an alarm see it before the mapping's retries run out.
    metrics.add_metric(name="ScorerMisconfigured", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    logger.error("scorer not started", extra={"error": str(error), "error_type": type(error).__name__})
    raise


DEPENDENCIES = build_dependencies(SETTINGS, features=FEATURES)
collect_garbage_for_batches()


def emit_metrics(outcome: BatchOutcome) -> None:
    count = MetricUnit.Count
    metrics.add_metric(name="Events", unit=count, value=outcome.events)
    metrics.add_metric(name="EventsScored", unit=count, value=outcome.scored)
    metrics.add_metric(name="BadEvents", unit=count, value=outcome.bad_events)
    # A producer's retries: the same event_id again in the batch, or among the user's last ids.
    metrics.add_metric(name="DuplicateEvents", unit=count, value=outcome.duplicates)
    metrics.add_metric(name="Anomalies", unit=count, value=outcome.anomalies)
    metrics.add_metric(name="Alerts", unit=count, value=outcome.alerts)
    metrics.add_metric(name="AlertsSuppressed", unit=count, value=outcome.suppressed_alerts)
    metrics.add_metric(name="AlertsFoldedIntoWaves", unit=count, value=outcome.folded_alerts)
    metrics.add_metric(name="AlertsFoldedIntoClients", unit=count, value=outcome.client_folded_alerts)
    metrics.add_metric(name="EndpointCalls", unit=count, value=outcome.endpoint_calls)
    metrics.add_metric(name="EndpointErrors", unit=count, value=outcome.endpoint_errors)
    metrics.add_metric(name="ModelRejectedEvents", unit=count, value=outcome.model_rejected)
    metrics.add_metric(name="StateReads", unit=count, value=outcome.state_reads)
    metrics.add_metric(name="StateWrites", unit=count, value=outcome.state_writes)
    metrics.add_metric(name="StatesUnreadable", unit=count, value=outcome.state_unreadable)
    metrics.add_metric(name="RetriedEvents", unit=count, value=outcome.retried_events)
    for latency in outcome.endpoint_latency_ms[:100]:  # EMF holds at most 100 values per metric
        metrics.add_metric(name="ScoringLatency", unit=MetricUnit.Milliseconds, value=latency)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    batch = decode_batch(event)
    decode_ms = round((time.perf_counter() - started) * 1000, 3)
    try:
        outcome = process_batch(batch, DEPENDENCIES, SETTINGS)
    except TransientError as error:
        logger.warning("batch not processed, Lambda will retry it", extra={"error": str(error)})
        raise
    except (EndpointUnusableError, RequestLimitError) as error:
        # No call can succeed: hand the whole batch back as a partial response (retried whole, not
        # bisected into ever more calls) until the mapping's retries end at its failure destination.
        metrics.add_metric(name=type(error).__name__.removesuffix("Error"), unit=MetricUnit.Count, value=1)
        logger.error(
            "the endpoint cannot score this batch; every record handed back",
            extra={
                "error": str(error),
                "error_type": type(error).__name__,
                "log_stream_arn": getattr(error, "log_stream_arn", None),
                "shard_id": batch.shard_id,
                "records": len(batch.sequence_numbers),
            },
        )
        return {"batchItemFailures": [{"itemIdentifier": number} for number in batch.sequence_numbers]}
    emit_metrics(outcome)
    summary = {
        "shard_id": batch.shard_id,
        "records": outcome.records,
        "events": outcome.events,
        "scored": outcome.scored,
        "bad_events": outcome.bad_events,
        "anomalies": outcome.anomalies,
        "endpoint_calls": outcome.endpoint_calls,
        "retried_records": len(outcome.failed_sequence_numbers),
        "states_unreadable": outcome.state_unreadable,
        "step_ms": {"decode": decode_ms, **outcome.step_ms},
    }
    if outcome.nothing_processed:
        logger.warning("no record of the batch could be processed", extra={**summary, "errors": outcome.errors[:5]})
        raise NothingProcessedError(f"no record processed: {'; '.join(outcome.errors[:3])}")
    if outcome.failed_sequence_numbers:
        logger.warning("part of the batch left for retry", extra={**summary, "errors": outcome.errors[:5]})
    else:
        logger.info("batch processed", extra=summary)
    return outcome.response()
