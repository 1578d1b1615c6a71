"""The scorer's AWS clients and dependencies, built once per cold start."""

from __future__ import annotations

from typing import Any

from model.rows import JSON_CONTENT_TYPE
from scorer.batch import Dependencies
from scorer.endpoint import SageMakerEndpoint
from scorer.model_config import FeatureConfig, FeatureConfigs
from scorer.settings import ScorerSettings
from scorer.stores import DynamoAnomalyStore, DynamoStateStore, S3BadEventSink, SnsAlertPublisher

# The client's own retries are short and few: a batch that cannot finish in time is better handed
# back to Lambda (partial batch response) than stalled until the function times out.
CLIENT_MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 5.0


def aws_client(
    service: str,
    endpoint_url: str | None = None,
    max_attempts: int = CLIENT_MAX_ATTEMPTS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> Any:
    """A boto3 client with standard-mode retries and timeouts; the endpoint comes from boto3's
    configuration (``AWS_ENDPOINT_URL_<SERVICE>`` included) unless given.

    botocore's parameter validation is off: the scorer builds every request itself, the services
    validate each one again, and the client-side check was about a fifth of the client's CPU per
    DynamoDB call (a batch makes dozens; docs/deploy.md, "Latency"). A malformed request is then
    refused by the service (a ``ClientError`` that is not transient: the batch fails) where botocore
    raised ``ParamValidationError`` before sending it."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=16,
        parameter_validation=False,
    )
    return boto3.client(service, endpoint_url=endpoint_url, config=config)


def build_dependencies(
    settings: ScorerSettings, endpoint_url: str | None = None, features: FeatureConfig | None = None
) -> Dependencies:
    """Every store and the endpoint, on real clients, and the model's feature configuration (and
    where the endpoint's other models' configurations are, if the settings say)."""
    dynamodb = aws_client("dynamodb", endpoint_url)
    s3 = aws_client("s3", endpoint_url)
    runtime = aws_client(
        "sagemaker-runtime", endpoint_url, settings.endpoint_max_attempts, settings.endpoint_timeout_seconds
    )
    anomalies = DynamoAnomalyStore(dynamodb, settings.anomalies_table, settings.alert_window_seconds)
    dependencies = Dependencies(
        states=DynamoStateStore(dynamodb, settings.state_table),
        anomalies=anomalies,
        # Entity alerts are recorded on their markers (for the analyst console) before they are sent.
        alerts=SnsAlertPublisher(aws_client("sns", endpoint_url), settings.alerts_topic_arn, records=anomalies),
        bad_events=S3BadEventSink(s3, settings.bad_events_bucket, settings.bad_events_prefix),
        endpoint=SageMakerEndpoint(
            runtime,
            settings.endpoint_name,
            features.request_content_type if features else JSON_CONTENT_TYPE,
            features.response_content_type if features else JSON_CONTENT_TYPE,
        ),
        feature_configs=FeatureConfigs(features, s3, settings.feature_configs_uri),
    )
    if features is not None:
        dependencies.use(features)
    return dependencies
