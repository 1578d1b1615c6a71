"""The policies: encryption at rest, no public buckets, no wildcard IAM, trust policies guarded
against confused deputies, key policies and key use under conditions, bounded Kinesis mappings with
an on-failure destination, alarms that name what they watch, current Lambda runtimes.

Props are the resource's inputs as the engine sees them (camelCase). Each violation message names
the property at fault and what to set instead. On a first ``pulumi preview`` some inputs are not
known yet (a document built from an ARN not yet created): CrossGuard skips a policy that reads an
unknown value, and runs it during ``pulumi up --policy-pack policies``, when the value is known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

MANDATORY = EnforcementLevel.MANDATORY
# Actions IAM only grants on "*" (no resource-level permissions): a wildcard resource is the only way.
ACTIONS_WITHOUT_RESOURCES = frozenset(
    {"cloudwatch:PutMetricData", "ecr:GetAuthorizationToken", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
)
IAM_POLICY_TYPES = frozenset(
    {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/policy:Policy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
# Lambda runtimes past their deprecation date (AWS Lambda runtime support policy).
DEPRECATED_RUNTIMES = frozenset(
    {
        *("python2.7", "python3.6", "python3.7", "python3.8", "python3.9"),
        *("nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x"),
        *("java8", "go1.x"),
    }
)
# Condition keys that tie a service principal's use of a role or a key to this account or resource
# (IAM's confused-deputy guidance); compared case-insensitively, as IAM compares condition keys.
CONFUSED_DEPUTY_KEYS = frozenset({"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths"})
TRUST_GUARD_KEYS = CONFUSED_DEPUTY_KEYS | {"sts:externalid"}
KEY_POLICY_GUARD_KEYS = CONFUSED_DEPUTY_KEYS | {"kms:viaservice", "kms:calleraccount"}
# KMS actions that use a key's material: granted in IAM only through a service or an encryption context.
KEY_USE_ACTIONS = frozenset(
    {
        "kms:decrypt",
        "kms:encrypt",
        "kms:generatedatakey",
        "kms:generatedatakeywithoutplaintext",
        "kms:reencryptfrom",
        "kms:reencryptto",
    }
)


def _document(policy: Any) -> Mapping[str, Any]:
    if isinstance(policy, str):
        try:
            parsed = json.loads(policy)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return policy if isinstance(policy, Mapping) else {}


def _statements(policy: Any) -> Iterator[Mapping[str, Any]]:
    statements = _document(policy).get("Statement", [])
    yield from [statements] if isinstance(statements, Mapping) else statements


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    """Every condition key of a statement, lower case (``{"StringEquals": {"aws:SourceAccount": ...}}``)."""
    keys: set[str] = set()
    for clause in (statement.get("Condition") or {}).values():
        if isinstance(clause, Mapping):
            keys.update(str(key).lower() for key in clause)
    return keys


def _principals(statement: Mapping[str, Any], kind: str) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    return [str(value) for value in _as_list(principal.get(kind))] if isinstance(principal, Mapping) else []


def _is_anyone(statement: Mapping[str, Any]) -> bool:
    return "*" in _principals(statement, "AWS") or statement.get("Principal") == "*"


def _is_wildcard_resource(resource: str) -> bool:
    """``*``, or an ARN whose resource part is only ``*`` (every resource of a service)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[5] in {"*", ""}


# --- encryption at rest ------------------------------------------------------------------------


def validate_encryption_at_rest(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    kind = args.resource_type
    if kind == "aws:kinesis/stream:Stream" and props.get("encryptionType") != "KMS":
        report("Kinesis stream is not encrypted: set encryptionType to KMS with a kmsKeyId.", args.urn)
    elif kind == "aws:dynamodb/table:Table" and not (props.get("serverSideEncryption") or {}).get("enabled"):
        report("DynamoDB table does not use a KMS key: set serverSideEncryption.enabled with kmsKeyArn.", args.urn)
    elif kind == "aws:sqs/queue:Queue" and not (props.get("kmsMasterKeyId") or props.get("sqsManagedSseEnabled")):
        report("SQS queue is not encrypted: set kmsMasterKeyId.", args.urn)
    elif kind == "aws:sns/topic:Topic" and not props.get("kmsMasterKeyId"):
        report("SNS topic is not encrypted: set kmsMasterKeyId.", args.urn)
    elif kind == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        s3 = props.get("extendedS3Configuration") or {}
        if not s3.get("kmsKeyArn"):
            report("Firehose writes S3 objects without a KMS key: set extendedS3Configuration.kmsKeyArn.", args.urn)
        sse = props.get("serverSideEncryption") or {}
        if not props.get("kinesisSourceConfiguration") and not sse.get("enabled"):
            report("Direct-put Firehose buffers unencrypted: enable serverSideEncryption.", args.urn)
    elif kind == "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        for rule in _as_list(props.get("rules")):
            default = (rule or {}).get("applyServerSideEncryptionByDefault") or {}
            if default.get("sseAlgorithm") not in {"aws:kms", "aws:kms:dsse"}:
                report("Bucket default encryption is not SSE-KMS: set sseAlgorithm aws:kms.", args.urn)
    elif kind == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
        variants = _as_list(props.get("productionVariants"))
        instance_based = any(not (variant or {}).get("serverlessConfig") for variant in variants)
        if instance_based and not props.get("kmsKeyArn"):
            report("Instance-based endpoint volumes are not encrypted with a KMS key: set kmsKeyArn.", args.urn)


encryption_at_rest = ResourceValidationPolicy(
    name="encryption-at-rest",
    description="Streams, tables, queues, topics, delivery streams, buckets and endpoint volumes use KMS.",
    validate=validate_encryption_at_rest,
    enforcement_level=MANDATORY,
)

# --- no public buckets ---------------------------------------------------------------------------


def validate_no_public_buckets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    kind = args.resource_type
    if kind == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        off = [flag for flag in flags if props.get(flag) is not True]
        if off:
            report(f"Public access block leaves {', '.join(off)} off: set all four to true.", args.urn)
    elif kind == "aws:s3/bucket:Bucket" and props.get("acl") in PUBLIC_ACLS:
        report(f"Bucket ACL {props.get('acl')} makes it public: drop the ACL.", args.urn)
    elif kind in {"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"}:
        report("Bucket ACLs are disabled here (BucketOwnerEnforced): grant access with IAM instead.", args.urn)
    elif kind == "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
        if (props.get("rule") or {}).get("objectOwnership") != "BucketOwnerEnforced":
            report("Object ownership must be BucketOwnerEnforced (ACLs disabled).", args.urn)
    elif kind == "aws:s3/bucketPolicy:BucketPolicy":
        for statement in _statements(props.get("policy")):
            principal = statement.get("Principal")
            everyone = principal == "*" or (isinstance(principal, Mapping) and "*" in _as_list(principal.get("AWS")))
            if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
                report("Bucket policy allows anyone (Principal *) without a condition.", args.urn)


no_public_buckets = ResourceValidationPolicy(
    name="no-public-buckets",
    description="Buckets block public access, have ACLs disabled and no policy open to everyone.",
    validate=validate_no_public_buckets,
    enforcement_level=MANDATORY,
)


def validate_every_bucket_is_guarded(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every bucket has a public access block and a default-encryption configuration."""
    buckets = {
        str(resource.props.get("bucket")): resource
        for resource in args.resources
        if resource.resource_type == "aws:s3/bucket:Bucket"
    }
    guards: dict[str, set[str]] = {
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": set(),
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": set(),
    }
    for resource in args.resources:
        if resource.resource_type in guards:
            guards[resource.resource_type].add(str(resource.props.get("bucket")))
    for name, bucket in buckets.items():
        for kind, guarded in guards.items():
            if name not in guarded:
                report(f"Bucket {name} has no {kind.rsplit(':', 1)[1]}.", bucket.urn)


every_bucket_is_guarded = StackValidationPolicy(
    name="every-bucket-is-guarded",
    description="Every bucket has a public access block and SSE-KMS default encryption.",
    validate=validate_every_bucket_is_guarded,
    enforcement_level=MANDATORY,
)

# --- IAM -----------------------------------------------------------------------------------------


def validate_no_wildcard_iam(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    kind = args.resource_type
    if kind in {"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment"}:
        arn = str(props.get("policyArn", ""))
        if arn.endswith(("FullAccess", "/AdministratorAccess", "/PowerUserAccess")):
            report(f"Managed policy {arn} grants far more than the pipeline needs: write a scoped policy.", args.urn)
        return
    if kind == "aws:iam/role:Role":
        for arn in _as_list(props.get("managedPolicyArns")):
            if str(arn).endswith(("FullAccess", "/AdministratorAccess", "/PowerUserAccess")):
                report(f"Role attaches {arn}: write a scoped policy.", args.urn)
        return
    if kind not in IAM_POLICY_TYPES:
        return
    for index, statement in enumerate(_statements(props.get("policy"))):
        if statement.get("Effect") != "Allow":
            continue
        where = f"statement {statement.get('Sid') or index}"
        if "NotAction" in statement or "NotResource" in statement:
            report(f"{where}: Allow with NotAction/NotResource grants everything else.", args.urn)
        actions = [str(action) for action in _as_list(statement.get("Action"))]
        for action in actions:
            if "*" in action:
                report(f"{where}: wildcard action {action}: list the exact actions.", args.urn)
        for resource in _as_list(statement.get("Resource")):
            if _is_wildcard_resource(str(resource)) and not set(actions) <= ACTIONS_WITHOUT_RESOURCES:
                report(f"{where}: resource {resource} where an ARN can be named: scope it.", args.urn)


KEY_USE_MESSAGE = (
    "grants use of a KMS key without a kms:ViaService or kms:EncryptionContext condition: "
    "limit it to the services that use the key on the role's behalf"
)


def _key_use_actions(statement: Mapping[str, Any]) -> list[str]:
    actions = [str(action).lower() for action in _as_list(statement.get("Action"))]
    return [action for action in actions if action in KEY_USE_ACTIONS or action in {"kms:*", "*"}]


def _key_use_is_conditioned(statement: Mapping[str, Any]) -> bool:
    keys = _condition_keys(statement)
    return "kms:viaservice" in keys or any(key.startswith("kms:encryptioncontext") for key in keys)


no_wildcard_iam = ResourceValidationPolicy(
    name="no-wildcard-iam",
    description="IAM policies list exact actions on named resources; no managed full-access policies.",
    validate=validate_no_wildcard_iam,
    enforcement_level=MANDATORY,
)

# --- trust policies and key policies ------------------------------------------------------------


def validate_trust_policies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A role trusts named principals, and a service principal only for this account or resource."""
    if args.resource_type != "aws:iam/role:Role":
        return
    for index, statement in enumerate(_statements(args.props.get("assumeRolePolicy"))):
        if statement.get("Effect") != "Allow":
            continue
        where = f"assumeRolePolicy statement {statement.get('Sid') or index}"
        if _is_anyone(statement):
            report(f"{where} lets any principal (*) assume the role: name the service or account.", args.urn)
        services = _principals(statement, "Service")
        if services and not _condition_keys(statement) & TRUST_GUARD_KEYS:
            report(
                f"{where} lets {', '.join(services)} assume the role for any account (confused deputy): "
                "add an aws:SourceAccount or aws:SourceArn condition (sts:ExternalId where the service "
                "documents it, as Firehose does).",
                args.urn,
            )


trust_policies = ResourceValidationPolicy(
    name="trust-policies",
    description="Role trust policies name their principals and tie service principals to this account.",
    validate=validate_trust_policies,
    enforcement_level=MANDATORY,
)


def validate_key_policies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Key policies: rotation on, no grant to anyone, service principals under a condition; IAM
    policies: key use only through a service (kms:ViaService) or an encryption context."""
    props = args.props
    if args.resource_type == "aws:kms/key:Key":
        if props.get("enableKeyRotation") is not True:
            report("KMS key rotation is off: set enableKeyRotation.", args.urn)
        for index, statement in enumerate(_statements(props.get("policy"))):
            if statement.get("Effect") != "Allow":
                continue
            where = f"key policy statement {statement.get('Sid') or index}"
            if _is_anyone(statement) and not _condition_keys(statement):
                report(f"{where} allows any principal (*) without a condition.", args.urn)
            services = _principals(statement, "Service")
            if services and not _condition_keys(statement) & KEY_POLICY_GUARD_KEYS:
                report(
                    f"{where} lets {', '.join(services)} use the key for any account: add an "
                    "aws:SourceAccount, aws:SourceArn or kms:ViaService condition.",
                    args.urn,
                )
        return
    if args.resource_type not in IAM_POLICY_TYPES:
        return
    for index, statement in enumerate(_statements(props.get("policy"))):
        granted = statement.get("Effect") == "Allow" and _key_use_actions(statement)
        if granted and not _key_use_is_conditioned(statement):
            report(f"statement {statement.get('Sid') or index} {KEY_USE_MESSAGE}.", args.urn)


key_policies = ResourceValidationPolicy(
    name="key-policies",
    description="KMS keys rotate and name who uses them under conditions; IAM grants key use through services.",
    validate=validate_key_policies,
    enforcement_level=MANDATORY,
)

# --- Kinesis event source mappings -----------------------------------------------------------------


def validate_bounded_stream_mappings(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:lambda/eventSourceMapping:EventSourceMapping":
        return
    props = args.props
    source = str(props.get("eventSourceArn", ""))
    if source.startswith("arn:aws:s3:") or ":s3:::" in source:
        report("An event source mapping cannot read an S3 bucket: use bucket notifications.", args.urn)
        return
    if ":kinesis:" not in source and ":dynamodb:" not in source:
        return
    retries = props.get("maximumRetryAttempts")
    if retries is None or retries < 0:
        report("maximumRetryAttempts is unlimited: one poison record would block its shard; set a limit.", args.urn)
    age = props.get("maximumRecordAgeInSeconds")
    if age is None or age < 0:
        report("maximumRecordAgeInSeconds is unlimited (7 days by default): set a limit.", args.urn)
    destination = ((props.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn")
    if not destination:
        report(
            "No on-failure destination: batches given up on would be lost; set destinationConfig.onFailure.", args.urn
        )
    if "ReportBatchItemFailures" not in _as_list(props.get("functionResponseTypes")):
        report("functionResponseTypes lacks ReportBatchItemFailures: one bad record retries the batch.", args.urn)


bounded_stream_mappings = ResourceValidationPolicy(
    name="bounded-stream-mappings",
    description="Kinesis mappings limit retries and record age, report item failures, have an on-failure destination.",
    validate=validate_bounded_stream_mappings,
    enforcement_level=MANDATORY,
)

# --- alarms and runtimes ------------------------------------------------------------------------------


def validate_alarms_have_dimensions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:cloudwatch/metricAlarm:MetricAlarm":
        return
    props = args.props
    if props.get("metricName") and not props.get("dimensions"):
        report(
            f"Alarm on {props.get('namespace')} {props.get('metricName')} has no dimensions: it watches nothing.",
            args.urn,
        )
    if not props.get("alarmActions"):
        report("Alarm has no alarmActions: nobody is told when it fires.", args.urn)


alarms_have_dimensions = ResourceValidationPolicy(
    name="alarms-have-dimensions",
    description="Metric alarms name the resource they watch and notify someone.",
    validate=validate_alarms_have_dimensions,
    enforcement_level=MANDATORY,
)


def validate_current_lambda_runtime(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:lambda/function:Function":
        return
    runtime = args.props.get("runtime")
    if runtime in DEPRECATED_RUNTIMES:
        report(f"Lambda runtime {runtime} is deprecated: use a supported Python (3.12 or later).", args.urn)


current_lambda_runtime = ResourceValidationPolicy(
    name="current-lambda-runtime",
    description="Lambda functions run on a supported runtime.",
    validate=validate_current_lambda_runtime,
    enforcement_level=MANDATORY,
)

RESOURCE_POLICIES: tuple[ResourceValidationPolicy, ...] = (
    encryption_at_rest,
    no_public_buckets,
    no_wildcard_iam,
    trust_policies,
    key_policies,
    bounded_stream_mappings,
    alarms_have_dimensions,
    current_lambda_runtime,
)
STACK_POLICIES: tuple[StackValidationPolicy, ...] = (every_bucket_is_guarded,)
