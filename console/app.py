"""The console's web application: routes that read, one form that writes a verdict.

``create_app(services)`` builds the Flask app around the stores it reads (``ConsoleServices``), so
the command line, the demo and the tests run the same application on whatever tables they name.

Every value that came from an event (user ids, agents, resources, reasons) is attacker-controlled:
templates render it through Jinja's autoescaping, and the Content-Security-Policy allows no script
at all. The verdict form carries a CSRF token (Flask-WTF). Pages show no credentials and no ARNs.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from archive.sql import SqlQueryError
from console.alerts import (
    NO_VERDICT,
    PAGE_SIZE,
    REASON_FEATURES,
    AlertFilters,
    AlertRecord,
    DynamoAlerts,
    parse_time,
    reason_words,
)
from console.charts import hours_chart, rate_chart, score_chart
from console.exceptions import AlertNotFoundError, InvalidVerdictError
from console.labels import VERDICTS, AlertKey, DynamoLabels, Verdict, check_verdict
from console.timeline import CONTEXT, ArchiveEngine, ArrivalRange, entity_events_query, user_history_query
from model.enrichment import NetworkInfo
from scorer.stores import alert_partition
from vedette.events import format_timestamp

# What a user usually does is read over this much of their history before their latest alert.
HISTORY = timedelta(days=30)
TOP = 5
# Sessions whose alerts a user page looks up (one query each): the newest in the user's history.
USER_PAGE_SESSIONS = 50
SECURITY_HEADERS = {
    # No script at all; styles from the console's own stylesheet only; forms post back here only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@dataclass
class ConsoleServices:
    """What the console reads and writes."""

    alerts: DynamoAlerts
    labels: DynamoLabels
    archive: ArchiveEngine
    network_of: Callable[[str], NetworkInfo | None] | None = None
    analyst: str = "analyst"
    page_size: int = PAGE_SIZE
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, "dates are YYYY-MM-DD")


def _float(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        abort(400, "severity is a number")


def _alert_key() -> AlertKey:
    source = request.form if request.method == "POST" else request.args
    partition = source.get("entity", "")
    try:
        start = int(source.get("start", ""))
    except ValueError:
        abort(400, "start is the episode's first second")
    if not partition:
        abort(400, "entity is required")
    return AlertKey(partition, start)


def _arrivals(record: AlertRecord) -> list[ArrivalRange]:
    ranges = [ArrivalRange.around(record.first_event_at - CONTEXT, record.episode_end + CONTEXT)]
    if record.alerted_at is not None:
        ranges.append(ArrivalRange.around(record.alerted_at, record.alerted_at))
    return ranges


def _flagged(services: ConsoleServices, users: Iterable[str], start: datetime, end: datetime) -> dict[str, float]:
    flagged: dict[str, float] = {}
    for user in sorted(set(users)):
        flagged |= services.alerts.flagged_events(user, start, end)
    return flagged


def create_app(services: ConsoleServices, *, secret_key: str | None = None) -> Flask:
    """The console's Flask application over ``services``."""
    app = Flask(__name__)
    # A fresh key per process: a verdict form is only good for the console that served it.
    app.config.update(SECRET_KEY=secret_key or secrets.token_hex(32), WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)
    app.jinja_env.filters["words"] = reason_words
    app.jinja_env.globals["VERDICTS"] = VERDICTS

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/")
    def alerts() -> str:
        args = request.args
        verdict = args.get("verdict") or None
        if verdict is not None and verdict not in (*VERDICTS, NO_VERDICT):
            abort(400, "unknown verdict")
        reason = args.get("reason") or None
        if reason is not None and reason not in REASON_FEATURES:
            abort(400, "unknown reason")
        filters = AlertFilters(
            since=_date(args.get("since")),
            until=_date(args.get("until")),
            min_severity=_float(args.get("severity")),
            reason=reason,
            verdict=verdict,
        )
        page = services.alerts.page(
            filters, services.labels.get_many, cursor=args.get("cursor") or None, size=services.page_size
        )
        query = {name: value for name, value in args.items() if name != "cursor" and value}
        return render_template(
            "alerts.html",
            page=page,
            filters=filters,
            query=query,
            reasons=REASON_FEATURES,
            no_verdict=NO_VERDICT,
        )

    @app.get("/alert")
    def alert() -> str:
        key = _alert_key()
        try:
            record = services.alerts.get(key)
        except AlertNotFoundError:
            abort(404, "no such alert")
        start, end = record.first_event_at - CONTEXT, record.episode_end + CONTEXT
        error = None
        try:
            events = services.archive.run(
                entity_events_query(record.kind, record.entity, start, end, _arrivals(record))
            )
        except SqlQueryError as failure:
            events, error = [], failure.reason
        for event in events:
            event["at"] = parse_time(event["occurred_at"])
        users = [record.entity] if record.kind == "user" else [event["user_id"] for event in events if event["user_id"]]
        flagged = _flagged(services, users, start, end)
        for event in events:
            event["severity"] = flagged.get(event["event_id"])
            event["in_episode"] = record.first_event_at <= event["at"] <= record.episode_end
        marked = [(event["at"], event["severity"]) for event in events if event["severity"] is not None]
        charts = [
            rate_chart(
                [event["at"] for event in events],
                start,
                end,
                episode=(record.first_event_at, record.episode_end),
                flagged=[moment for moment, _ in marked],
            ),
            score_chart(marked, start, end),
        ]
        return render_template(
            "alert.html",
            record=record,
            verdict=services.labels.get(record.key),
            events=events,
            flagged_count=len(marked),
            folded_into=services.alerts.folded_into(record, events),
            charts=charts,
            error=error,
            window=(start, end),
        )

    @app.post("/alert/verdict")
    def verdict() -> Response:
        key = _alert_key()
        try:
            record = services.alerts.get(key)
            verdict, note = check_verdict(request.form.get("verdict", ""), request.form.get("note", ""))
        except AlertNotFoundError:
            abort(404, "no such alert")
        except InvalidVerdictError as error:
            abort(400, str(error))
        services.labels.put(
            Verdict(
                key=record.key,
                verdict=verdict,
                note=note,
                analyst=services.analyst,
                decided_at=format_timestamp(services.clock()),
                kind=record.kind,
                entity=record.entity,
                reasons=record.reasons,
                severity=record.severity,
                last_event_at=format_timestamp(record.last_event_at),
            )
        )
        flash(f"Verdict recorded: {VERDICTS[verdict]}.")
        return redirect(url_for("alert", entity=key.partition, start=key.start), code=303)

    @app.get("/user")
    def user() -> str:
        user_id = request.args.get("id", "")
        if not user_id:
            abort(400, "id is required")
        records = services.alerts.for_partition(user_id)
        verdicts = {verdict.key: verdict for verdict in services.labels.for_partition(user_id)}
        reference = max((record.alerted_at or record.last_event_at for record in records), default=services.clock())
        arrivals = [ArrivalRange(reference - HISTORY, reference + timedelta(hours=1))]
        if records:
            latest = max(record.last_event_at for record in records)
            arrivals.append(ArrivalRange(latest - HISTORY, latest + timedelta(hours=1)))
        error = None
        try:
            history = services.archive.run(user_history_query(user_id, arrivals))
        except SqlQueryError as failure:
            history, error = [], failure.reason
        # A session's alerts live under the session, not the user: the user's sessions in the history
        # (newest first) lead to them.
        for session_id in _newest_sessions(history):
            partition = alert_partition("session", session_id)
            records += services.alerts.for_partition(partition)
            verdicts.update((verdict.key, verdict) for verdict in services.labels.for_partition(partition))
        records.sort(key=lambda record: record.last_event_at, reverse=True)
        countries: Counter[str] = Counter()
        if services.network_of is not None:
            for ip, count in Counter(row["ip"] for row in history if row["ip"]).items():
                network = services.network_of(ip)
                countries[(network.country if network else None) or "unknown"] += count
        agents = Counter(row["user_agent"] or "(none)" for row in history)
        hours = [parse_time(row["occurred_at"]).hour for row in history if row["occurred_at"]]
        return render_template(
            "user.html",
            user_id=user_id,
            records=records,
            verdicts=verdicts,
            events=len(history),
            sessions=len({row["session_id"] for row in history if row["session_id"]}),
            countries=countries.most_common(TOP),
            agents=agents.most_common(TOP),
            chart=hours_chart(hours),
            error=error,
        )

    return app


def _newest_sessions(history: Iterable[dict[str, Any]]) -> list[str]:
    """The distinct session ids of a user's history (newest first, as the query orders it), at most
    ``USER_PAGE_SESSIONS``."""
    sessions: dict[str, None] = {}
    for row in history:
        if row["session_id"]:
            sessions.setdefault(row["session_id"])
            if len(sessions) == USER_PAGE_SESSIONS:
                break
    return list(sessions)
