"""The policy pack CrossGuard runs: `pulumi preview --policy-pack policies` from the project root."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.rules import RESOURCE_POLICIES, STACK_POLICIES

PolicyPack(
    name="vedette",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[*RESOURCE_POLICIES, *STACK_POLICIES],
)
