"""Train the anomaly model from the event archive; runs locally or as a SageMaker training job.

SageMaker script mode: the job downloads the archive channel to ``SM_CHANNEL_TRAIN`` and tars
``SM_MODEL_DIR`` into ``model.tar.gz`` afterwards; hyper-parameters arrive as ``--name value``.
Locally::

    python -m model.train --train ./archive --model-dir ./build/model --tarball ./build/model.tar.gz
    python -m model.train --train s3://bucket/archive ...   # AWS_ENDPOINT_URL_S3 for an emulator

Steps: read events (``archive.iter_events``: GZIP JSON lines under Firehose's time prefixes; on an
archive partitioned by the user's hash, only the buckets the sample needs, ``model.sampling``),
sort them by time, learn the resource vocabulary on the earlier ``1 - calibration_share`` of
them, replay all of them through ``model.features``, fit the detector on the earlier rows,
calibrate the threshold on the later (held-out) rows to ``alert_rate``, and write the artifact
(``model.artifact``) with its metadata.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from model.artifact import build_tarball, counted_once_names, write_model_dir
from model.container import CONTAINER_NUMPY_VERSION, CONTAINER_SKLEARN_VERSION, SKLEARN_IMAGE_TAG
from model.detectors import ECODDetector, IsolationForestDetector, calibrate_threshold, make_detector
from model.enrichment import AgentLookup, NetworkLookup
from model.entities import DEFAULT_ALERT_BUDGET, DEFAULT_MIN_DAILY_ALERTS, MAX_ALERTED_SHARE, EntityModel
from model.entity_training import ENTITY_KINDS, SHARE_RANGE_LEVEL, out_of_sample, train_entity_model
from model.exceptions import ArtifactError, TrainingDataError
from model.features import (
    COUNTED_ONCE,
    FEATURE_NAMES,
    FEATURES_VERSION,
    FIRST_EVENT_COLUMN,
    MAX_IP_STATE_BYTES,
    MAX_USER_STATE_BYTES,
    ResourceVocabulary,
    featurize_batch,
)
from model.network import NETWORK_LOOKUPS, resolve_network_lookup
from model.sampling import DEFAULT_MAX_EVENTS, HASH_LIMIT, read_parts, sample_users, sampled_user, sampled_window
from model.serving import REQUEST_CONTENT_TYPES, RESPONSE_CONTENT_TYPES
from model.verdicts import ConfirmedAttacks, JudgedAlert, VerdictsError, learn_suppressions, read_verdicts
from model.visits import training_visits
from model.waves import ATTEMPTS, train_wave_model

logger = logging.getLogger("model.train")

DEFAULT_DETECTOR = ECODDetector.name
DEFAULT_ALERT_RATE = 0.01
DEFAULT_CALIBRATION_SHARE = 0.2
MIN_CALIBRATION_ROWS = 10
SCORE_QUANTILES = (0.5, 0.9, 0.99, 0.999)


@dataclass
class TrainedModel:
    """A fitted detector with everything the artifact stores beside it."""

    detector: ECODDetector | IsolationForestDetector
    vocabulary: ResourceVocabulary
    threshold: float
    metadata: dict[str, Any]
    entity_models: dict[str, EntityModel]


def train(
    events: Iterable[Any],
    *,
    detector: str = DEFAULT_DETECTOR,
    alert_rate: float = DEFAULT_ALERT_RATE,
    calibration_share: float = DEFAULT_CALIBRATION_SHARE,
    network_of: NetworkLookup | None = None,
    network_lookup: Mapping[str, Any] | None = None,
    agent_of: AgentLookup | None = None,
    agent_parser: Mapping[str, str] | None = None,
    alert_budget: float = DEFAULT_ALERT_BUDGET,
    min_daily_alerts: float = DEFAULT_MIN_DAILY_ALERTS,
    max_events: int = DEFAULT_MAX_EVENTS,
    verdicts: Sequence[JudgedAlert] | None = None,
    hash_cutoff: int = HASH_LIMIT,
) -> TrainedModel:
    """Fit a detector on ``events`` (any order; sorted here) calibrate its threshold, and fit the
    entity stage (users, and sessions where events carry them) to ``alert_budget``, or to
    ``min_daily_alerts`` a day where the site is too small for the budget to allow one
    (``model.entities.alert_share``).

    ``network_lookup`` and ``agent_parser`` are the records of ``network_of`` and ``agent_of``
    (``model.network.resolve_network_lookup``, ``model.user_agents.describe``) that the metadata
    keeps, so that the scorer rebuilds and checks the same ones. ``verdicts`` (``model.verdicts``):
    the analysts' verdicts, whose benign patterns the scorer no longer alerts on, and whose confirmed
    attacks' users and sessions are left out of training (``ConfirmedAttacks``). ``hash_cutoff``:
    only users below it are candidates for the sample (``model.sampling.SampledArchive``).
    """
    if not 0.0 < calibration_share < 1.0:
        raise ValueError(f"calibration_share: must be within (0, 1), got {calibration_share}")
    started = time.perf_counter()
    confirmed = ConfirmedAttacks(verdicts or ())
    sample = sample_users(confirmed.without(events), max_events, hash_cutoff)
    ordered = sample.ordered
    if not ordered:
        raise TrainingDataError("no events to train on: is the archive location right, and the time window?")
    split = int(len(ordered) * (1.0 - calibration_share))
    if split < MIN_CALIBRATION_ROWS or len(ordered) - split < MIN_CALIBRATION_ROWS:
        raise TrainingDataError(
            f"{len(ordered)} events are too few: need {MIN_CALIBRATION_ROWS} to fit and {MIN_CALIBRATION_ROWS} "
            f"to calibrate with calibration_share={calibration_share}"
        )
    replay = [event for _, _, event in ordered]
    vocabulary = ResourceVocabulary.learn(replay[:split])
    rows = featurize_batch(replay, network_of=network_of, agent_of=agent_of, vocabulary=vocabulary).rows
    fitted = make_detector(detector, cohort_column=FIRST_EVENT_COLUMN, counted_once=COUNTED_ONCE).fit(rows[:split])
    calibration_scores = fitted.score(rows[split:])
    threshold = calibrate_threshold(calibration_scores, alert_rate, [sampled_user(event) for event in replay[split:]])
    times = [moment for moment, _, _ in ordered]
    entity_models, entity_metadata = _train_entities(
        replay,
        times,
        detector,
        alert_rate,
        network_of,
        agent_of,
        alert_budget,
        vocabulary,
        min_daily_alerts,
        sample.hash_cutoff / HASH_LIMIT,
    )
    visits, visit_times = training_visits(replay, times, rows)
    wave_metadata = {
        attempts.metadata_key: (
            train_wave_model(visits, visit_times, attempts)
            if attempts.of_visits
            else train_wave_model(replay, times, attempts)
        )[1]
        for attempts in ATTEMPTS
    }
    metadata = {
        "feature_names": list(FEATURE_NAMES),
        "features_version": FEATURES_VERSION,
        "request_content_types": list(REQUEST_CONTENT_TYPES),
        "response_content_types": list(RESPONSE_CONTENT_TYPES),
        "detector": fitted.name,
        # How the detector's terms make its score (model.tails.ecod): its threshold holds for that one.
        "detector_aggregation": getattr(fitted, "aggregation", None),
        "detector_counted_once": counted_once_names(fitted),
        "threshold": threshold,
        "alert_rate": alert_rate,
        "calibration_share": calibration_share,
        "training_window": {
            "first_event": _iso(ordered[0][0]),
            "last_event": _iso(ordered[-1][0]),
            "fit_until": _iso(ordered[split - 1][0]),
        },
        "events": {"total": len(ordered), "fit": split, "calibration": len(ordered) - split},
        "users": sample.users_kept,
        "sampling": sample.to_json(max_events),
        "calibration_scores": {
            **{f"q{quantile:g}": float(np.quantile(calibration_scores, quantile)) for quantile in SCORE_QUANTILES},
            "mean": float(calibration_scores.mean()),
            "max": float(calibration_scores.max()),
            "flagged_share": float((calibration_scores > threshold).mean()),
        },
        "entities": entity_metadata,
        **wave_metadata,
        "verdicts": (
            {**learn_suppressions(verdicts)[1], "left_out_events": confirmed.left_out} if verdicts is not None else None
        ),
        "network_lookup": dict(network_lookup) if network_lookup else None,
        "agent_parser": dict(agent_parser) if agent_parser else None,
        "state_bounds_bytes": {"user": MAX_USER_STATE_BYTES, "ip": MAX_IP_STATE_BYTES},
        "versions": _versions(),
        "container_image_tag": SKLEARN_IMAGE_TAG,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_seconds": round(time.perf_counter() - started, 3),
    }
    return TrainedModel(fitted, vocabulary, threshold, metadata, entity_models)


def _train_entities(
    replay: list[Any],
    times: list[float],
    detector: str,
    alert_rate: float,
    network_of: NetworkLookup | None,
    agent_of: AgentLookup | None,
    alert_budget: float,
    vocabulary: ResourceVocabulary,
    min_daily_alerts: float,
    user_share: float,
) -> tuple[dict[str, EntityModel], dict[str, Any]]:
    """Entity models for users (required) and sessions (where the events carry session ids)."""
    models: dict[str, EntityModel] = {}
    metadata: dict[str, Any] = {}
    try:
        sample = out_of_sample(
            replay, detector=detector, alert_rate=alert_rate, network_of=network_of, agent_of=agent_of
        )
    except TrainingDataError as error:
        # One user (an "anonymous" log) or a handful: the model still works, and a scorer without
        # the entity stage alerts on single events.
        logger.warning("no entity alerts: %s", error)
        return models, {kind: {"skipped": str(error)} for kind in ENTITY_KINDS}
    for kind in ENTITY_KINDS:
        try:
            result = train_entity_model(
                replay, times, kind, sample, alert_budget, vocabulary, min_daily_alerts, user_share
            )
        except TrainingDataError as error:
            logger.warning("no %s alerts: %s", kind, error)
            metadata[kind] = {"skipped": str(error)}
            continue
        if result is None:
            metadata[kind] = {"skipped": f"no event carries a {kind} id"}
            continue
        models[kind], metadata[kind] = result
        entity_days = metadata[kind]["entity_days"]
        share = metadata[kind]["calibration"]["alert_share"]
        if share > alert_budget / 1000.0:
            per_day = metadata[kind]["entities_per_day"]
            # (the share --min-daily-alerts asks for is capped: say so where the cap, not the option, set it)
            capped = ", the most --min-daily-alerts may set" if min_daily_alerts / per_day > MAX_ALERTED_SHARE else ""
            logger.warning(
                "%s alerts: %.0f %ss a day in training are too few for a budget of %g per 1,000 to allow "
                "one alert a day; the threshold is set for %.2g a day (%.1f%% of %ss%s; --min-daily-alerts)",
                kind,
                per_day,
                kind,
                alert_budget,
                share * per_day,
                100.0 * share,
                kind,
                capped,
            )
        if entity_days * share < 1.0:
            low, high = metadata[kind]["calibration"]["share_range"]
            logger.warning(
                "%s alerts: the threshold is extrapolated from %d %s-days of training traffic, fewer than "
                "one alert's worth: on traffic like training's it may alert on anywhere from %.2g%% to %.2g%% "
                "of %ss (its %.0f%% range; aimed at %.2g%%); train on a longer period",
                kind,
                entity_days,
                kind,
                100.0 * low,
                100.0 * high,
                kind,
                100.0 * SHARE_RANGE_LEVEL,
                100.0 * metadata[kind]["calibration"]["sum_share"],
            )
    return models, metadata


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _versions() -> dict[str, str]:
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
    }


def check_container_versions(metadata: dict[str, Any]) -> None:
    """Refuse an artifact the pinned container could not unpickle (scikit-learn or numpy differ)."""
    versions = metadata["versions"]
    if versions["scikit_learn"] != CONTAINER_SKLEARN_VERSION or versions["numpy"] != CONTAINER_NUMPY_VERSION:
        raise ArtifactError(
            f"trained with scikit-learn {versions['scikit_learn']} and numpy {versions['numpy']}, but container "
            f"{SKLEARN_IMAGE_TAG} has scikit-learn {CONTAINER_SKLEARN_VERSION} and numpy {CONTAINER_NUMPY_VERSION}: "
            "install requirements.txt"
        )


def save(
    trained: TrainedModel, model_dir: str | os.PathLike[str], tarball: str | os.PathLike[str] | None = None
) -> Path:
    """Write the artifact folder (and ``model.tar.gz`` if asked); returns the folder."""
    check_container_versions(trained.metadata)
    folder = write_model_dir(model_dir, trained.detector, trained.vocabulary, trained.metadata, trained.entity_models)
    if tarball is not None:
        build_tarball(folder, tarball)
    return folder


DEFAULT_GEO = "embedded"


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    # Python 3.10 (this job's, in the SageMaker container) reads "+00:00" but not "Z".
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] == "Z" else text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line arguments, defaulting to SageMaker's environment where it sets one."""
    parser = argparse.ArgumentParser(prog="python -m model.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"), help="archive: folder or s3:// URL")
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"), help="where to write the artifact")
    parser.add_argument("--tarball", default=None, help="also pack the artifact into this model.tar.gz")
    parser.add_argument("--start", default=None, help="first event time to train on (ISO 8601, UTC)")
    parser.add_argument("--end", default=None, help="end of the training window, exclusive (ISO 8601, UTC)")
    parser.add_argument(
        "--detector", default=DEFAULT_DETECTOR, choices=(ECODDetector.name, IsolationForestDetector.name)
    )
    parser.add_argument("--alert-rate", type=float, default=DEFAULT_ALERT_RATE)
    parser.add_argument(
        "--alert-budget",
        type=float,
        default=DEFAULT_ALERT_BUDGET,
        help="entity alerts per 1,000 active users (or sessions) a day on normal traffic (default %(default)s)",
    )
    parser.add_argument(
        "--min-daily-alerts",
        type=float,
        default=DEFAULT_MIN_DAILY_ALERTS,
        help=f"where the budget allows fewer, entity alerts a day on normal traffic, at most "
        f"{100 * MAX_ALERTED_SHARE:g}%% of the entities (a small site; default %(default)s; 0: the budget alone)",
    )
    parser.add_argument(
        "--max-events",
        type=int,
        default=DEFAULT_MAX_EVENTS,
        help="train on every event of a sample of users, at most this many events (default %(default)s)",
    )
    parser.add_argument("--calibration-share", type=float, default=DEFAULT_CALIBRATION_SHARE)
    parser.add_argument(
        "--geo",
        default=DEFAULT_GEO,
        choices=NETWORK_LOOKUPS,
        help="IP to country and network lookup (model.network): embedded (the data shipped with geoip2fast), "
        "maxmind (--geo-database), synthetic (the simulator's ranges, then the database); the scorer uses the same",
    )
    parser.add_argument(
        "--geo-database",
        action="append",
        default=[],
        help="a MaxMind-format Country/City or ASN database, path or s3:// URL (repeat for both)",
    )
    parser.add_argument(
        "--agents",
        default="parsed",
        choices=("parsed", "none"),
        help="parse user agents with ua-parser and crawlerdetect for the client columns (model.user_agents)",
    )
    parser.add_argument("--endpoint-url", default=None, help="S3 endpoint (else AWS_ENDPOINT_URL_S3)")
    parser.add_argument(
        "--verdicts",
        default=os.environ.get("SM_CHANNEL_VERDICTS"),
        help="analysts' verdicts as JSON lines (python -m console.verdicts --export-jsonl), a file or a folder "
        "of *.jsonl: patterns judged benign are not alerted on again for that entity",
    )
    arguments = parser.parse_args(argv)
    if not arguments.train:
        parser.error("--train is required (or set SM_CHANNEL_TRAIN)")
    if not arguments.model_dir:
        parser.error("--model-dir is required (or set SM_MODEL_DIR)")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    """Train from the archive and write the artifact; prints a one-line JSON summary."""
    import json

    from archive import ReadStats

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from model import user_agents

    arguments = parse_args(argv)
    lookup = resolve_network_lookup(arguments.geo, arguments.geo_database)
    parsed_agents = arguments.agents == "parsed"
    stats = ReadStats()
    try:
        # A folder of parts sampled by `python -m model.sample` workers, or the archive itself.
        sampled = None if str(arguments.train).startswith("s3://") else read_parts(arguments.train)
    except ValueError as error:
        print(f"training failed: {error}", file=sys.stderr)
        return 2
    chosen = None
    if sampled is not None:
        events: Iterable[Any] = sampled.events()
    else:
        # On an archive partitioned by the user's hash, only the buckets the sample needs.
        events, chosen = sampled_window(
            arguments.train,
            _parse_time(arguments.start),
            _parse_time(arguments.end),
            arguments.max_events,
            endpoint_url=arguments.endpoint_url,
            stats=stats,
        )
    try:
        trained = train(
            events,
            detector=arguments.detector,
            alert_rate=arguments.alert_rate,
            calibration_share=arguments.calibration_share,
            alert_budget=arguments.alert_budget,
            min_daily_alerts=arguments.min_daily_alerts,
            max_events=arguments.max_events,
            network_of=lookup.network_of,
            network_lookup=lookup.record,
            agent_of=user_agents.parse_agent if parsed_agents else None,
            agent_parser=user_agents.describe() if parsed_agents else None,
            verdicts=read_verdicts(arguments.verdicts) if arguments.verdicts else None,
            hash_cutoff=sampled.hash_cutoff if sampled is not None else chosen.hash_cutoff if chosen else HASH_LIMIT,
        )
    except (TrainingDataError, VerdictsError) as error:
        print(
            f"training failed: {error} (read {stats.objects} objects, {stats.invalid} invalid records)", file=sys.stderr
        )
        return 2
    if sampled is not None:
        # The archive's events were read by the workers: count those, not the parts' sum.
        trained.metadata["sampling"].update(events_read=sampled.events_read, **sampled.to_json())
    trained.metadata["archive"] = {
        "location": str(arguments.train),
        "objects": stats.objects,
        "bytes": stats.bytes_read,
        "records": stats.records,
        "invalid_records": stats.invalid,
        **(chosen.to_json() if chosen is not None else {}),
    }
    folder = save(trained, arguments.model_dir, arguments.tarball)
    summary = {
        "model_dir": str(folder),
        "tarball": arguments.tarball,
        "detector": trained.metadata["detector"],
        "threshold": trained.threshold,
        "events": trained.metadata["events"],
        "training_window": trained.metadata["training_window"],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
