"""Analysts' verdicts in training: a pattern judged benign for an entity is not alerted on again.

The console stores one verdict per alert (``console.labels``) and ``python -m console.verdicts
--export-jsonl FILE`` writes them as JSON lines: ``kind``, ``entity``, ``verdict``
(``true_positive`` or ``benign``), ``reasons`` (the alert's reasons in words, strongest first) and
``last_event_at``. Training (``python -m model.train --verdicts FILE``) turns them into
**suppressions**: the pattern of a benign alert is its entity (kind and id) and its strongest
reason's feature (``new_path_mean``, ``page_gap_spread``...). A later alert on that entity whose
strongest reason is the same feature is recorded as suppressed instead of sent; a different reason,
or another entity, still alerts. When an entity's pattern was judged both ways, the newest verdict
wins. The model's metadata keeps the verdict counts and the suppressions, newest first, up to
``MAX_SUPPRESSIONS``. The users and sessions of alerts judged true positives are left out of the
training (``ConfirmedAttacks``), so that an attack is not learned as normal traffic.

Standard library only: training runs it on the SageMaker container's Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRUE_POSITIVE = "true_positive"
BENIGN = "benign"
MAX_SUPPRESSIONS = 5_000
# ``model.entities.EntityModel.reasons`` ends every reason with "(<feature> <value>, usually <median>)".
_REASON_FEATURE = re.compile(r"\((?P<feature>[a-z_0-9]+) -?[0-9.]+(?:e[-+]?[0-9]+)?, usually [^)]*\)$")


class VerdictsError(ValueError):
    """A verdicts file cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class JudgedAlert:
    kind: str
    entity: str
    verdict: str
    reasons: tuple[str, ...]
    last_event_at: str


def reason_feature(reason: str) -> str | None:
    """The entity feature a reason in words is about, or None for a reason that names none."""
    match = _REASON_FEATURE.search(reason)
    return match.group("feature") if match else None


def read_verdicts(path: str | Path) -> list[JudgedAlert]:
    """The verdicts of a JSON-lines file, or of every ``*.jsonl`` file in a folder (a training
    job's channel)."""
    location = Path(path)
    files = sorted(location.glob("*.jsonl")) if location.is_dir() else [location]
    judged: list[JudgedAlert] = []
    for file in files:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    verdict = JudgedAlert(
                        str(record["kind"]),
                        str(record["entity"]),
                        str(record["verdict"]),
                        tuple(str(reason) for reason in record.get("reasons") or ()),
                        str(record.get("last_event_at") or ""),
                    )
                except (ValueError, KeyError, TypeError) as error:
                    raise VerdictsError(f"{file}:{number}: not a verdict ({error!r})") from None
                if verdict.verdict not in (TRUE_POSITIVE, BENIGN):
                    raise VerdictsError(f"{file}:{number}: verdict must be {TRUE_POSITIVE} or {BENIGN}")
                judged.append(verdict)
    return judged


@dataclass(frozen=True)
class Suppressions:
    """Patterns (kind, entity, strongest reason's feature) judged benign: alerted on no more."""

    patterns: frozenset[tuple[str, str, str]] = frozenset()

    def __len__(self) -> int:
        return len(self.patterns)

    def suppresses(self, kind: str, entity: str, reasons: Sequence[str]) -> bool:
        """Whether an alert with these reasons (strongest first) repeats a pattern judged benign."""
        if not self.patterns or not reasons:
            return False
        feature = reason_feature(reasons[0])
        return feature is not None and (kind, entity, feature) in self.patterns

    def to_json(self) -> list[list[str]]:
        return [list(pattern) for pattern in sorted(self.patterns)]

    @classmethod
    def from_json(cls, data: Iterable[Sequence[str]] | None) -> Suppressions:
        return cls(frozenset((str(kind), str(entity), str(feature)) for kind, entity, feature in data or ()))


def learn_suppressions(verdicts: Iterable[JudgedAlert]) -> tuple[Suppressions, dict[str, Any]]:
    """The suppressions the verdicts call for, and the counts the model's metadata records."""
    newest: dict[tuple[str, str, str], JudgedAlert] = {}
    counts = {TRUE_POSITIVE: 0, BENIGN: 0, "without_a_pattern": 0}
    for verdict in sorted(verdicts, key=lambda item: item.last_event_at):
        counts[verdict.verdict] += 1
        feature = reason_feature(verdict.reasons[0]) if verdict.reasons else None
        if feature is None:
            counts["without_a_pattern"] += 1
            continue
        newest[verdict.kind, verdict.entity, feature] = verdict  # a later verdict replaces an earlier one
    benign = sorted(
        (pattern for pattern, verdict in newest.items() if verdict.verdict == BENIGN),
        key=lambda pattern: newest[pattern].last_event_at,
    )
    kept = benign[-MAX_SUPPRESSIONS:]  # the newest
    suppressions = Suppressions(frozenset(kept))
    metadata = {
        "true_positive": counts[TRUE_POSITIVE],
        "benign": counts[BENIGN],
        "without_a_pattern": counts["without_a_pattern"],
        "suppressed_patterns": len(suppressions),
        "suppressions_dropped": len(benign) - len(kept),
        "suppressions": suppressions.to_json(),
    }
    return suppressions, metadata


class ConfirmedAttacks:
    """The users and sessions with an alert judged a true positive. Training leaves their events out
    (``without``): a model learns normal traffic, and an attack learned as normal would raise the
    thresholds that should catch the next one. A user is left out whole, their ordinary days too
    (the verdict does not say where the attack began, and the window holds plenty of other users),
    even where another of their alerts was judged benign: that one does not undo the attack."""

    def __init__(self, verdicts: Iterable[JudgedAlert]) -> None:
        confirmed = [(verdict.kind, verdict.entity) for verdict in verdicts if verdict.verdict == TRUE_POSITIVE]
        self.users = frozenset(entity for kind, entity in confirmed if kind == "user")
        self.sessions = frozenset(entity for kind, entity in confirmed if kind == "session")
        self.left_out = 0  # events ``without`` has left out so far

    def without(self, events: Iterable[Any]) -> Iterable[Any]:
        """``events`` (wire dicts or decoded events) but those of a confirmed user or session, as
        they are read; ``events`` themselves when nothing was confirmed."""
        return self._filtered(events) if self.users or self.sessions else events

    def _filtered(self, events: Iterable[Any]) -> Iterator[Any]:
        for event in events:
            if _field(event, "user_id") in self.users or _field(event, "session_id") in self.sessions:
                self.left_out += 1
                continue
            yield event


def _field(event: Any, name: str) -> Any:
    return event.get(name) if isinstance(event, Mapping) else getattr(event, name, None)


def suppressions_of(metadata: Mapping[str, Any]) -> Suppressions:
    """The suppressions a model's metadata records (none for a model trained without verdicts)."""
    recorded = metadata.get("verdicts") or {}
    return Suppressions.from_json(recorded.get("suppressions"))
