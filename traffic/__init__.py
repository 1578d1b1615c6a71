"""Traffic: the event sources for training, tests, the demo and the load test.

``Simulator`` generates realistic customers plus labeled attack episodes; ``importer`` turns
existing logs (JSON lines, common/combined access logs, custom formats, CSIC 2010) into events in
the contract. ``python -m traffic --help`` is the command line.
"""

from __future__ import annotations

from traffic.scenarios import BLATANT_SCENARIOS, EVASIVE_SCENARIOS, SCENARIO_NAMES, Episode, Label
from traffic.simulator import LabeledEvent, Simulator

__all__ = ["BLATANT_SCENARIOS", "EVASIVE_SCENARIOS", "SCENARIO_NAMES", "Episode", "Label", "LabeledEvent", "Simulator"]
