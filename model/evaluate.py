"""Detection quality, measured: ``make eval`` (``python -m model.evaluate``), one JSON object per line.

``eval_csic2010``: the CSIC 2010 HTTP requests used one-class. Each line becomes an event
(``resource`` = path and query, ``properties.method``); the resource vocabulary and the detector
learn from 24,000 normal lines (vocabulary on the first half, detector on the second, as training
does with time), then held-out normal lines and every anomalous line are scored.

``eval_simulated``: the traffic simulator's customers, attack-free for ``TRAIN_DAYS`` days to train
on (``model.train.train``, as the training job does), then ``TEST_DAYS`` more days with labeled
attacks, featurized with the state carried over from training (as the scorer does). Per scenario:
episode recall (an episode is caught when one of its events is flagged), events into the episode
before its first flag, event-level ROC-AUC and PR-AUC against normal events; and the share of
normal events flagged.

``eval_entities``: the same days replayed by the backtest (``model.backtest.Replay``: scorer
batches, the entity stage, one alert per episode), one line per entity kind and one for users and
sessions together, as the scorer alerts (the shipped alerting, ``"shipped": true``). An episode is
caught when an entity it touched alerts while it runs (or within the idle limit after); normal
alerts are counted per 1,000 normal entity-days against the budget.

``eval_trial_logs``: labelled logs of sites this project did not simulate, written by testers who read
only the docs (``trial_logs/``), backtested as they ran it: among them a library catalogue's and a
WooCommerce shop's Apache combined logs (no session column, users by address and agent), an airline
booking site's nginx log with a session cookie, and a research group's small site after the web-bot
datasets of Iliou et al. (people, Selenium and headless bots, and advanced bots that browse as its
people do); ``trial_logs/README.md`` lists them all.

Every event-level line carries its baseline, measured in the same run: scikit-learn's ``IsolationForest`` with
default settings on the same rows, with its threshold calibrated the same way.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from model.artifact import load_model
from model.backtest import DEFAULT_BATCH_EVENTS, entity_label, summarize
from model.detectors import average_precision, calibrate_threshold, make_detector, roc_auc
from model.entities import DEFAULT_ALERT_BUDGET
from model.entity_training import ENTITY_KINDS
from model.features import ResourceVocabulary, event_time, featurize_batch
from model.tails import Matrix, Vector
from model.train import DEFAULT_ALERT_RATE, save, train
from model.waves import ATTEMPTS
from traffic.envoy import ISTIO_FORMAT

CSIC_FOLDER = Path(os.environ.get("VEDETTE_CSIC2010", Path(__file__).resolve().parents[1] / "data/csic2010"))
CSIC_TRAIN_LINES = 24_000
CSIC_TIMESTAMP = "2026-11-02T12:00:00.000000Z"
TRAIN_DAYS = 7
TEST_DAYS = 3
SIMULATED_USERS = 2_000
TEST_ATTACK_SHARE = 0.05
SEED = 11


def _sklearn_default_scorer(fit_rows: Matrix) -> Callable[[Matrix], Vector]:
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(random_state=SEED).fit(fit_rows)
    return lambda rows: -forest.score_samples(rows)


def csic_file(folder: Path, name: str) -> Path:
    """``folder / name``, or its gzip-compressed form ``name.gz`` (as ``data/csic2010`` stores it)."""
    plain = folder / name
    return plain if plain.is_file() else folder / f"{name}.gz"


def _open_csic(folder: Path, name: str) -> TextIO:
    # Lines end at "\n" only, and the few latin-1 bytes of anomalous.txt become U+FFFD.
    path = csic_file(folder, name)
    opener: Callable[..., TextIO] = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", encoding="utf-8", errors="replace", newline="\n")


def load_csic(folder: Path = CSIC_FOLDER) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Normal and anomalous CSIC 2010 lines as events (one synthetic user per line)."""

    def read(name: str) -> list[dict[str, Any]]:
        events = []
        with _open_csic(folder, name) as handle:
            for number, line in enumerate(handle):
                method, _, url = line.rstrip("\n").partition(" ")
                if not url:
                    continue
                rest = url.split("://", 1)[-1]
                resource = rest[rest.find("/") :] if "/" in rest else "/"
                events.append(
                    {
                        "occurred_at": CSIC_TIMESTAMP,
                        "event_type": "api_call",
                        "user_id": f"{name}-{number}",
                        "resource": resource,
                        "properties": {"method": method},
                    }
                )
        return events

    return read("normal.txt"), read("anomalous.txt")


def _quality(normal: Vector, anomalous: Vector, threshold: float) -> dict[str, float]:
    return {
        "roc_auc": round(roc_auc(normal, anomalous), 4),
        "pr_auc": round(average_precision(normal, anomalous), 4),
        "recall_at_threshold": round(float((anomalous > threshold).mean()), 4),
        "normal_flagged": round(float((normal > threshold).mean()), 4),
    }


def eval_csic2010(detector: str, alert_rate: float = DEFAULT_ALERT_RATE) -> dict[str, Any]:
    """One-class CSIC 2010: ROC-AUC, PR-AUC, recall and false-positive share at the alert rate."""
    normal, anomalous = load_csic()
    order = np.random.default_rng(SEED).permutation(len(normal))
    training = [normal[i] for i in order[:CSIC_TRAIN_LINES]]
    held_out = [normal[i] for i in order[CSIC_TRAIN_LINES:]]
    half = CSIC_TRAIN_LINES // 2
    vocabulary = ResourceVocabulary.learn(training[:half])
    fit_rows = featurize_batch(training[half:], vocabulary=vocabulary).rows
    normal_rows = featurize_batch(held_out, vocabulary=vocabulary).rows
    anomalous_rows = featurize_batch(anomalous, vocabulary=vocabulary).rows
    # The threshold comes from the fit rows (the held-out normal lines are the test set).
    fitted = make_detector(detector).fit(fit_rows)
    threshold = calibrate_threshold(fitted.score(fit_rows), alert_rate)
    baseline = _sklearn_default_scorer(fit_rows)
    baseline_threshold = calibrate_threshold(baseline(fit_rows), alert_rate)
    return {
        "eval": "eval_csic2010",
        "detector": detector,
        "alert_rate": alert_rate,
        "train_lines": CSIC_TRAIN_LINES,
        "normal_test_lines": len(held_out),
        "anomalous_lines": len(anomalous),
        **_quality(fitted.score(normal_rows), fitted.score(anomalous_rows), threshold),
        "baseline": {
            "name": "sklearn IsolationForest() defaults, same features",
            **_quality(baseline(normal_rows), baseline(anomalous_rows), baseline_threshold),
            "reference_readme": {"name": "IsolationForest on 9 URL shape features", "roc_auc": 0.830},
        },
    }


def _scenario_figures(
    scores: Vector, threshold: float, labels: list[Any], normal_scores: Vector
) -> dict[str, dict[str, Any]]:
    by_scenario: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for position, label in enumerate(labels):
        if label is not None:
            by_scenario[label.scenario][label.episode_id].append(position)
    figures = {}
    for scenario, episodes in sorted(by_scenario.items()):
        caught, delays = 0, []
        for positions in episodes.values():
            flags = scores[positions] > threshold
            if flags.any():
                caught += 1
                delays.append(int(np.argmax(flags)))
        events = [position for positions in episodes.values() for position in positions]
        figures[scenario] = {
            "episodes": len(episodes),
            "episode_recall": round(caught / len(episodes), 4),
            "median_events_before_first_flag": statistics.median(delays) if delays else None,
            "event_recall": round(float((scores[events] > threshold).mean()), 4),
            "roc_auc": round(roc_auc(normal_scores, scores[events]), 4),
            "pr_auc": round(average_precision(normal_scores, scores[events]), 4),
        }
    return figures


def _train_on_quiet_days(**options: Any) -> tuple[list[dict[str, Any]], Any, Any]:
    """``TRAIN_DAYS`` attack-free simulated days, and a model trained on them as the training job
    would (the simulator's geography, then the embedded network data; the agent parser)."""
    from model.network import resolve_network_lookup
    from model.user_agents import describe, parse_agent
    from traffic.simulator import Simulator

    quiet = Simulator(seed=SEED, users=SIMULATED_USERS, attack_share=0.0)
    history = [event for event, _ in quiet.events(duration=timedelta(days=TRAIN_DAYS))]
    lookup = resolve_network_lookup("synthetic")
    trained = train(
        history,
        network_of=lookup.network_of,
        network_lookup=lookup.record,
        agent_of=parse_agent,
        agent_parser=describe(),
        **options,
    )
    return history, lookup, trained


def _attacked_days() -> list[Any]:
    """``TEST_DAYS`` after the quiet ones, with labeled attacks: (event, label) pairs."""
    from traffic.simulator import DEFAULT_START, Simulator

    attacked = Simulator(
        # The same seed makes the same customers (homes, devices); their sessions differ with the dates.
        seed=SEED,
        users=SIMULATED_USERS,
        attack_share=TEST_ATTACK_SHARE,
        start=DEFAULT_START + timedelta(days=TRAIN_DAYS),
    )
    return list(attacked.events(duration=timedelta(days=TEST_DAYS)))


def eval_simulated(detector: str, alert_rate: float = DEFAULT_ALERT_RATE) -> dict[str, Any]:
    """Train on attack-free simulated days, score later days with attacks, per scenario."""
    from model.user_agents import parse_agent

    started = time.perf_counter()
    history, lookup, trained = _train_on_quiet_days(detector=detector, alert_rate=alert_rate)
    enrichment: dict[str, Any] = {"network_of": lookup.network_of, "agent_of": parse_agent}
    replay = featurize_batch(history, vocabulary=trained.vocabulary, **enrichment)
    labeled = _attacked_days()
    rows = featurize_batch(
        [event for event, _ in labeled],
        replay.user_states,
        replay.ip_states,
        vocabulary=trained.vocabulary,
        **enrichment,
    ).rows
    labels = [label for _, label in labeled]
    normal_mask = np.array([label is None for label in labels])
    scores = trained.detector.score(rows)
    figures = _scenario_figures(scores, trained.threshold, labels, scores[normal_mask])
    fit_rows = replay.rows[: trained.metadata["events"]["fit"]]
    baseline = _sklearn_default_scorer(fit_rows)
    baseline_threshold = calibrate_threshold(baseline(replay.rows[len(fit_rows) :]), alert_rate)
    baseline_scores = baseline(rows)
    baseline_figures = _scenario_figures(baseline_scores, baseline_threshold, labels, baseline_scores[normal_mask])
    return {
        "eval": "eval_simulated",
        "detector": detector,
        "alert_rate": alert_rate,
        "train_events": len(history),
        "test_events": len(labeled),
        "normal_flagged": round(float((scores[normal_mask] > trained.threshold).mean()), 4),
        "scenarios": figures,
        "seconds": round(time.perf_counter() - started, 1),
        "baseline": {
            "name": "sklearn IsolationForest() defaults, same features",
            "normal_flagged": round(float((baseline_scores[normal_mask] > baseline_threshold).mean()), 4),
            "scenarios": baseline_figures,
        },
    }


def eval_entities(alert_budget: float = DEFAULT_ALERT_BUDGET) -> list[dict[str, Any]]:
    """The backtest's replay (``model.backtest.Replay``) of simulated attacks, one line per entity kind
    and one for both together, as the scorer alerts (the shipped line)."""
    from model.backtest import Replay
    from model.user_agents import parse_agent

    started = time.perf_counter()
    history, lookup, trained = _train_on_quiet_days(alert_budget=alert_budget)
    with tempfile.TemporaryDirectory(prefix="vedette-eval-") as folder:
        loaded = load_model(save(trained, folder))
    labeled = _attacked_days()
    labels = {event["event_id"]: label.scenario for event, label in labeled if label is not None}
    replays = {}
    for kind in ENTITY_KINDS:
        replay = Replay(loaded, kind, lookup.network_of, parse_agent, labels)
        replay.warm_up(history)
        replay.run(((event_time(event), event) for event, _ in labeled), DEFAULT_BATCH_EVENTS)
        replays[kind] = replay
    common = {
        "eval": "eval_entities",
        "alert_budget": alert_budget,
        "train_events": len(history),
        "test_events": len(labeled),
        "seconds": round(time.perf_counter() - started, 1),
    }
    lines = [
        {
            **common,
            "entity": kind,
            "shipped": False,
            **_episode_figures(labeled, [replay]),
            "summary": summarize(replay),
        }
        for kind, replay in replays.items()
    ]
    both = " and ".join(ENTITY_KINDS)
    lines.append({**common, "entity": both, "shipped": True, **_episode_figures(labeled, list(replays.values()))})
    return lines


def _episode_figures(labeled: list[Any], replays: list[Any]) -> dict[str, Any]:
    """Per scenario, the episodes one of whose entities alerted while it ran (or within the idle limit
    after), and how soon; and the alerts on normal entities per 1,000 of them a day."""
    from model.entities import EPISODE_IDLE_SECONDS, entity_key

    alerts: dict[tuple[str, str], list[float]] = defaultdict(list)
    for replay in replays:
        # A session counted into its client's alert of the day (model.client_alerts) is alerted by it.
        for alert in [*replay.alerts, *replay.client_folded_alerts]:
            alerts[replay.kind, alert.entity].append(alert.last_event_at)
    episodes: dict[tuple[str, str], list[tuple[float, list[tuple[str, str]]]]] = defaultdict(list)
    episode_of: dict[str, tuple[str, str]] = {}
    for event, label in labeled:
        if label is not None:
            keys = [(replay.kind, key) for replay in replays if (key := entity_key(event, replay.kind)) is not None]
            episodes[label.scenario, label.episode_id].append((event_time(event), keys))
            episode_of[event["event_id"]] = (label.scenario, label.episode_id)
    # A wave (of failed logins or declined payments) alerts on the whole service, not on one of an
    # episode's entities: it is credited to the episode that made most of the failures in its
    # window, if one made over half, and is a normal alert otherwise. Every replay sees the same
    # attempts, so the first one's serve.
    normal_wave_alerts = 0
    normal_by_kind: Counter[str] = Counter()
    waves = list(replays[0].waves.values()) if replays else []
    for alert, failures in [wave_alert for wave in waves for wave_alert in wave.alerts]:
        makers = Counter(episode_of.get(event_id) for event_id in failures)
        maker, count = makers.most_common(1)[0] if makers else (None, 0)
        if maker is not None and count * 2 > len(failures):
            episode_entity = ("wave", f"{maker[0]}#{maker[1]}")
            alerts[episode_entity].append(alert.last_event_at)
            episodes[maker][0][1].append(episode_entity)  # one of its events names it
        else:
            normal_wave_alerts += 1
            normal_by_kind[alert.kind] += 1
    scenarios: dict[str, dict[str, Any]] = {}
    for (scenario, _), members in sorted(episodes.items()):
        begin, end = min(moment for moment, _ in members), max(moment for moment, _ in members)
        entities = {key for _, keys in members for key in keys}
        alert_times = [
            moment
            for entity in entities
            for moment in alerts.get(entity, [])
            if begin <= moment <= end + EPISODE_IDLE_SECONDS
        ]
        figures = scenarios.setdefault(scenario, {"episodes": 0, "caught": 0, "delays": []})
        figures["episodes"] += 1
        if alert_times:
            figures["caught"] += 1
            figures["delays"].append(min(alert_times) - begin)
    normal_alerts, normal_entity_days = normal_wave_alerts, 0
    for replay in replays:
        for record in replay.entities.values():
            if entity_label(record) == "normal":
                normal_alerts += record.alerts
                normal_entity_days += len(record.days)
    return {
        "normal_alerts_per_1000_entities_per_day": round(1000.0 * normal_alerts / max(normal_entity_days, 1), 3),
        **{
            attempts.alerts_key: {
                "alerts": sum(len(wave.alerts) for wave in waves if wave.watch.attempts is attempts),
                "on_normal_traffic": normal_by_kind[attempts.kind],
            }
            for attempts in ATTEMPTS
        },
        "scenarios": {
            name: {
                "episodes": figures["episodes"],
                "episode_recall": round(figures["caught"] / figures["episodes"], 4),
                "median_seconds_to_first_alert": (
                    round(statistics.median(figures["delays"]), 1) if figures["delays"] else None
                ),
            }
            for name, figures in scenarios.items()
        },
    }


TRIAL_LOGS = Path(__file__).resolve().parents[1] / "trial_logs"


# The SaaS app's nginx JSON log (trial_logs/saas_workspace.py), behind an ALB that adds the client's
# address to X-Forwarded-For.
SAAS_JSON_FORMAT = (
    '{"time":"$time_iso8601","remote_addr":"$remote_addr","x_forwarded_for":"$http_x_forwarded_for",'
    '"user_id":"$user_id","sid":"$cookie_sid","method":"$request_method","uri":"$request_uri","status":$status,'
    '"bytes":$body_bytes_sent,"request_time":$request_time,"referer":"$http_referer","user_agent":"$http_user_agent"}'
)
# The fintech API's stage access-log format, as its tester set it in API Gateway (JSON, $context).
FINTECH_API_FORMAT = (
    '{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId", '
    '"ip":"$context.identity.sourceIp", "userAgent":"$context.identity.userAgent", '
    '"requestTime":"$context.requestTime", "requestTimeEpoch":"$context.requestTimeEpoch", '
    '"httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "path":"$context.path", '
    '"status":"$context.status", "protocol":"$context.protocol", '
    '"responseLength":"$context.responseLength", "responseLatency":"$context.responseLatency", '
    '"integrationLatency":"$context.integrationLatency", "sub":"$context.authorizer.claims.sub", '
    '"errorMessage":"$context.error.message", "wafStatus":"$context.waf.status" }'
)


# The mobile app's REST API stage's access-log format, as its tester gave it (no timestamp prefix:
# the stage's log lines as a subscription or an export without CloudWatch's own).
MOBILE_APP_API_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","path":"$context.path",'
    '"status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"userAgent":"$context.identity.userAgent","sub":"$context.authorizer.claims.sub"}'
)


# The streaming service's Istio format, with the Cookie header and the user's header appended.
ISTIO_WITH_SESSIONS = ISTIO_FORMAT + ' "%REQ(COOKIE)%" "%REQ(X-USER-ID)%"'


@dataclass(frozen=True)
class TrialLog:
    """A labelled log written by a tester who read only the docs (``trial_logs/README.md``), and the
    backtest they ran on it, as documented."""

    name: str
    generator: str  # the script in trial_logs/ that writes train.log, test.log and labels.csv
    backtest: tuple[str, ...]  # the backtest's arguments besides the logs, labels and --out
    options: tuple[str, ...] = ()  # the generator's arguments besides --out

    def write(self, folder: str | Path) -> None:
        """Write the log into ``folder`` (which exists): deterministic for the generator's seed."""
        subprocess.run(
            [sys.executable, str(TRIAL_LOGS / self.generator), "--out", str(folder), *self.options],
            check=True,
            capture_output=True,
        )


TRIALS = (
    TrialLog(
        "library_catalogue",
        "library_catalogue.py",
        ("--format", "combined", "--failed-login-status", "200", "--entity", "user"),
    ),
    TrialLog(
        "woocommerce_shop",
        "woocommerce_shop.py",
        ("--format", "combined", "--entity", "user"),
    ),
    TrialLog(
        "student_portal",
        "student_portal.py",
        (
            "--format",
            "custom",
            "--log-format",
            '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D \\"%{X-Forwarded-For}i\\" '
            "%{JSESSIONID}C",
            "--entity",
            "session",
        ),
        ("--scale", "0.2"),
    ),
    TrialLog(
        "airline_booking",
        "airline_booking.py",
        (
            "--format",
            "custom",
            "--log-format",
            '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
            '"$http_user_agent" $cookie_SESSION $request_time',
            "--entity",
            "session",
        ),
    ),
    TrialLog(
        "research_site",
        "research_site.py",
        (
            "--format",
            "custom",
            "--log-format",
            '$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" '
            "$session_id",
            "--entity",
            "session",
        ),
    ),
    # A small bookshop's log (about 11 people a day at this seed: the cap on a small site's alert
    # share, docs/model.md "Alert budget"), by a writer who saw none of this project, docs included.
    TrialLog(
        "bookshop_small",
        "bookshop_small.py",
        (
            "--format",
            "custom",
            "--log-format",
            '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" $session_id '
            '"$http_user_agent"',
            "--entity",
            "session",
        ),
        ("--seed", "3"),
    ),
    TrialLog(
        "ticketing_site",
        "ticketing_site.py",
        (
            "--format",
            "custom",
            "--log-format",
            '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
            '"$http_user_agent" $request_length $request_time [$proxy_upstream_name] '
            "[$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time "
            "$upstream_status $req_id $cookie_tsid",
            "--entity",
            "session",
        ),
    ),
    TrialLog(
        "fintech_api_gateway",
        "fintech_api_gateway.py",
        ("--format", "custom", "--log-format", FINTECH_API_FORMAT, "--entity", "user"),
    ),
    TrialLog(
        "saas_workspace",
        "saas_workspace.py",
        ("--format", "custom", "--log-format", SAAS_JSON_FORMAT, "--entity", "user"),
    ),
    # Traefik's JSON access log, read with its own format; a sale day, stuffing whose hits come after
    # its wave's alert (docs/model.md, "The accounts that got in after the alert"), card testing.
    TrialLog(
        "traefik_shop",
        "traefik_shop.py",
        ("--format", "traefik", "--failed-login-status", "200", "--entity", "session"),
    ),
    # HAProxy's HTTP log through rsyslog, its captured headers named; a session cookie rotated at
    # login (docs/traffic.md, "A session cookie rotated at login"), sign-up spam through proxies.
    TrialLog(
        "classifieds_haproxy",
        "classifieds_haproxy.py",
        (
            "--format",
            "haproxy",
            "--haproxy-headers",
            "User-Agent,Referer,Cookie",
            "--failed-login-status",
            "200",
            "--entity",
            "session",
        ),
    ),
    # Cloudflare Logpush's http_requests with its Cookies field; logins with a second factor, card
    # testing on the billing page's saved cards, crawlers spread over many addresses.
    TrialLog("saas_cloudflare", "saas_cloudflare.py", ("--format", "cloudflare", "--entity", "session")),
    # Istio's ingress gateway (Envoy) of a streaming service: its default format given as it is, with the
    # Cookie header and the user header the mesh sets appended (docs/traffic.md, "Envoy and Istio"); apps
    # and players without cookies, account farming, promo-code guessing, takeovers from far countries.
    TrialLog(
        "streaming_istio",
        "streaming_istio.py",
        ("--format", "custom", "--log-format", ISTIO_WITH_SESSIONS, "--entity", "session"),
    ),
    # Three tenths of its tester's scale (211,000 lines): the breaking story's live blog and its
    # polls (docs/model.md, "Pages popular now"), CloudFront's files joined and sorted as the docs show.
    TrialLog(
        "news_cloudfront",
        "news_cloudfront.py",
        ("--format", "cloudfront", "--failed-login-status", "200", "--entity", "session"),
        ("--scale", "0.3", "--sorted"),
    ),
    # A quarter of its tester's scale (209,000 lines): a mobile app's API behind API Gateway, token
    # refreshes before sign-in from carriers' NAT addresses, cards saved through the API, SMS pumping
    # (docs/model.md, "Surges of one-time codes sent"), a sign-up farm verifying phones.
    TrialLog(
        "mobile_app_api_gateway",
        "mobile_app_api_gateway.py",
        ("--format", "custom", "--log-format", MOBILE_APP_API_FORMAT, "--entity", "user"),
        ("--scale", "0.25"),
    ),
)


def eval_trial_logs() -> list[dict[str, Any]]:
    """Each trial log written (deterministic), then backtested as its tester ran it: the
    backtest's figures, per label the entities alerted of all."""
    lines: list[dict[str, Any]] = []
    for trial in TRIALS:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"vedette-{trial.name}-") as folder:
            trial.write(folder)
            logs = Path(folder)
            backtest = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "model.backtest",
                    "--quiet",
                    "--train",
                    str(logs / "train.log"),
                    "--test",
                    str(logs / "test.log"),
                    "--labels",
                    str(logs / "labels.csv"),
                    *trial.backtest,
                    "--out",
                    str(logs / "out"),
                ],
                capture_output=True,
                text=True,
                cwd=Path(__file__).resolve().parents[1],
            )
        if backtest.returncode != 0:
            lines.append({"eval": "eval_trial_logs", "log": trial.name, "error": backtest.stderr.strip()[-2000:]})
            continue
        summary = json.loads(backtest.stdout.strip().splitlines()[-1])
        entity_level = summary["entity_level"]
        lines.append(
            {
                "eval": "eval_trial_logs",
                "log": trial.name,
                "entity": summary["entity"],
                "roc_auc": entity_level["roc_auc"],
                "pr_auc": entity_level["pr_auc"],
                "alerted_roc_auc": entity_level.get("alerted_roc_auc"),
                "alerted_share": entity_level["alerted_share"],
                "normal_alerts_per_1000_entities_per_day": summary["normal_alerts_per_1000_entities_per_day"],
                "alerted": {
                    label: f"{figures['alerted']}/{figures['entities']}"
                    for label, figures in summary["per_label"].items()
                },
                "roc_auc_against_normal": {
                    label: figures["roc_auc_against_normal"]
                    for label, figures in summary["per_label"].items()
                    if label != "normal"
                },
                "left_out_of_training": summary["left_out_of_training"],
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON line per evaluation and detector."""
    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", action="append", choices=("ecod", "isolation_forest"))
    parser.add_argument("--only", choices=("csic2010", "simulated", "entities", "trial_logs"))
    parser.add_argument("--alert-rate", type=float, default=DEFAULT_ALERT_RATE)
    arguments = parser.parse_args(argv)
    for detector in arguments.detector or ["ecod", "isolation_forest"]:
        if arguments.only in (None, "csic2010"):
            if csic_file(CSIC_FOLDER, "normal.txt").is_file():
                print(json.dumps(eval_csic2010(detector, arguments.alert_rate)), flush=True)
            else:
                print(json.dumps({"eval": "eval_csic2010", "error": f"data not found in {CSIC_FOLDER}"}), flush=True)
        if arguments.only in (None, "simulated"):
            print(json.dumps(eval_simulated(detector, arguments.alert_rate)), flush=True)
    if arguments.only in (None, "entities"):
        for line in eval_entities():
            print(json.dumps(line), flush=True)
    if arguments.only in (None, "trial_logs"):
        for line in eval_trial_logs():
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
