"""The scorer's settings come only from the environment and fail at cold start when incomplete."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scorer import settings as s
from scorer.exceptions import MissingSettingError
from scorer.settings import ScorerSettings

COMPLETE = {
    s.ENDPOINT_NAME: "vedette-model",
    s.STATE_TABLE: "vedette-state",
    s.ANOMALIES_TABLE: "vedette-anomalies",
    s.ALERTS_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:vedette-alerts",
    s.BAD_EVENTS_BUCKET: "vedette-archive",
}


def test_complete_environment_gives_settings_with_defaults():
    settings = ScorerSettings.from_environ({**COMPLETE, s.MAX_ROWS_PER_CALL: "500", s.BAD_EVENTS_PREFIX: "bad"})
    assert settings.endpoint_name == "vedette-model"
    assert settings.max_rows_per_call == 500
    assert settings.bad_events_prefix == "bad/"
    assert settings.max_payload_bytes < s.SERVERLESS_MAX_PAYLOAD_BYTES


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({s.STATE_TABLE: ""}, "VEDETTE_STATE_TABLE: required and not set (the stack sets it on the function)"),
        ({s.MAX_PAYLOAD_BYTES: "lots"}, "VEDETTE_MAX_PAYLOAD_BYTES: must be a number, got 'lots'"),
        ({s.MAX_PAYLOAD_BYTES: "7000000"}, "VEDETTE_MAX_PAYLOAD_BYTES: must be within 1024-6291456, got 7000000"),
        # The artifact refuses more rows than this in one request (model.rows.MAX_ROWS_PER_REQUEST).
        ({s.MAX_ROWS_PER_CALL: "10001"}, "VEDETTE_MAX_ROWS_PER_CALL: must be within 1-10000, got 10001"),
    ],
)
def test_a_missing_or_malformed_setting_names_the_variable(overrides, message):
    with pytest.raises(MissingSettingError) as raised:
        ScorerSettings.from_environ({**COMPLETE, **overrides})
    assert str(raised.value) == f"environment variable {message}"


def test_cold_start_without_a_setting_fails_with_a_clear_message():
    # GIVEN the function's environment without the endpoint name
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEDETTE_")}
    env.update({k: v for k, v in COMPLETE.items() if k != s.ENDPOINT_NAME})

    # WHEN Lambda imports the handler module (its init phase)
    result = subprocess.run(
        [sys.executable, "-c", "import scorer.handler"], env=env, capture_output=True, text=True, check=False
    )

    # THEN the init fails, naming the variable
    assert result.returncode != 0
    assert "MissingSettingError: environment variable VEDETTE_ENDPOINT_NAME: required and not set" in result.stderr
