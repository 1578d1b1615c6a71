"""The alert sweeper (``scorer.sweeper.lambda_handler``, run on a schedule by the stack): sends the
entity alerts that were recorded but never sent because their batch was abandoned.

The scorer writes an alert's record, pending, before it publishes the alert, and marks it sent
after (``scorer.stores``): a failure in between leaves it pending, and the batch's retry publishes
it. When the retries end (the mapping's maximum retry attempts or record age) the records go to the
on-failure queue and the alert would stay pending for ever. The sweeper publishes each alert still
pending ``sweep_after_seconds`` after it was recorded, a delay longer than any retry of its batch
can come (the mapping's maximum record age, plus a margin), then marks it sent.

At most once more: the publish carries the alert's slot as deduplication id, but SNS forgets it
after 5 minutes, so an alert whose Publish succeeded and whose marking failed, in a batch then
abandoned, is delivered a second time by the sweeper. Losing it is the worse failure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scorer.exceptions import MissingSettingError, TransientError
from scorer.settings import ALERTS_TOPIC_ARN, ANOMALIES_TABLE
from scorer.stores import AlertPublisher, DynamoAnomalyStore, alert_slot

SWEEP_AFTER_SECONDS = "VEDETTE_ALERT_SWEEP_AFTER_SECONDS"
# Lambda's event source mappings keep retrying a record for at most a week.
MAX_SWEEP_AFTER_SECONDS = 7 * 86400 + 3600


@dataclass(frozen=True)
class SweeperSettings:
    anomalies_table: str
    alerts_topic_arn: str
    sweep_after_seconds: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> SweeperSettings:
        """Read and check every setting; raises ``MissingSettingError`` naming the first bad one."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in (ANOMALIES_TABLE, ALERTS_TOPIC_ARN, SWEEP_AFTER_SECONDS):
            values[name] = env.get(name, "").strip()
            if not values[name]:
                raise MissingSettingError(name, "is required")
        try:
            sweep_after = int(values[SWEEP_AFTER_SECONDS])
        except ValueError:
            raise MissingSettingError(SWEEP_AFTER_SECONDS, "must be a whole number of seconds") from None
        if not 60 <= sweep_after <= MAX_SWEEP_AFTER_SECONDS:
            raise MissingSettingError(SWEEP_AFTER_SECONDS, f"must be from 60 to {MAX_SWEEP_AFTER_SECONDS} seconds")
        return cls(values[ANOMALIES_TABLE], values[ALERTS_TOPIC_ARN], sweep_after)


@dataclass
class SweepOutcome:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def sweep(
    anomalies: DynamoAnomalyStore, publisher: AlertPublisher, now: datetime, sweep_after: timedelta
) -> SweepOutcome:
    """Publish every alert recorded before ``now - sweep_after`` and still pending, oldest first, and
    mark each sent. A failure leaves that alert pending for the next sweep."""
    outcome = SweepOutcome()
    for pending in anomalies.pending_alerts(now - sweep_after):
        try:
            publisher.publish_entity(pending.alert, alert_slot(pending.partition, pending.start))
            anomalies.alert_sent(pending.partition, pending.start)
        except TransientError as error:
            outcome.failed += 1
            outcome.errors.append(str(error))
        else:
            outcome.sent += 1
    return outcome


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    from scorer.clients import aws_client
    from scorer.stores import SnsAlertPublisher

    logger = Logger(service="vedette-alert-sweeper")
    metrics = Metrics(namespace="Vedette", service="vedette-scorer")
    settings = SweeperSettings.from_environ()
    anomalies = DynamoAnomalyStore(aws_client("dynamodb"), settings.anomalies_table, ttl_seconds=0)
    # No records: the record is there already, and rewriting it would restart its wait.
    publisher = SnsAlertPublisher(aws_client("sns"), settings.alerts_topic_arn)
    outcome = sweep(anomalies, publisher, datetime.now(UTC), timedelta(seconds=settings.sweep_after_seconds))
    metrics.add_metric(name="AlertsSwept", unit=MetricUnit.Count, value=outcome.sent)
    metrics.add_metric(name="AlertsSweepFailed", unit=MetricUnit.Count, value=outcome.failed)
    metrics.flush_metrics()
    summary = {"sent": outcome.sent, "failed": outcome.failed, "errors": outcome.errors[:5]}
    if outcome.sent or outcome.failed:
        # Every swept alert is one a batch abandoned: worth a look at the on-failure queue.
        logger.warning("pending alerts swept", extra=summary)
    else:
        logger.info("no pending alert to sweep")
    return summary
