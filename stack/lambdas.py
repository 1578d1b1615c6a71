"""A function of the Lambda bundle (``stack.bundle``) with its own log group and role: the scorer,
its sweeper and the archive partitioner are each one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from stack.bundle import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON
from stack.iam import Statement, assume_role_policy, policy_document

# The Python and architecture the bundle's wheels are built for (one definition, stack.bundle).
RUNTIME = aws.lambda_.Runtime(f"python{LAMBDA_PYTHON}")
ARCHITECTURE = LAMBDA_ARCHITECTURE


@dataclass(frozen=True)
class BundledFunctionArgs:
    bundle_path: Path
    account_id: pulumi.Input[str]
    log_retention_days: int


def bundled_function(
    parent: pulumi.Resource,
    prefix: str,
    function_name: str,
    args: BundledFunctionArgs,
    *,
    handler: str,
    statements: Sequence[Statement],
    memory_mib: int,
    timeout_seconds: int,
    reserved_concurrency: int | None,
    environment: Mapping[str, pulumi.Input[str]],
) -> tuple[aws.lambda_.Function, aws.iam.RolePolicy]:
    """A function of the bundle with its own log group (``<prefix>-logs``) and role
    (``<prefix>-role``, ``<prefix>-policy``): ``statements`` and writing to that log group, no more.
    Returns the function and the policy, which whatever checks the role on creation must wait for."""
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(f"{prefix}-logs", retention_in_days=args.log_retention_days, opts=child)
    role = aws.iam.Role(
        f"{prefix}-role",
        assume_role_policy=assume_role_policy("lambda.amazonaws.com", args.account_id),
        opts=child,
    )
    writes_logs = Statement(
        "WriteLogs",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        [pulumi.Output.concat(log_group.arn, ":log-stream:*")],
    )
    role_policy = aws.iam.RolePolicy(
        f"{prefix}-policy", role=role.id, policy=policy_document([*statements, writes_logs]), opts=child
    )
    function = aws.lambda_.Function(
        function_name,
        runtime=RUNTIME,
        architectures=[ARCHITECTURE],
        handler=handler,
        code=pulumi.FileArchive(str(args.bundle_path)),
        role=role.arn,
        memory_size=memory_mib,
        timeout=timeout_seconds,
        reserved_concurrent_executions=reserved_concurrency,
        environment={"variables": dict(environment)},
        logging_config={"log_format": "JSON", "log_group": log_group.name},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )
    return function, role_policy
