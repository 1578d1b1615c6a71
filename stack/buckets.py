"""A private S3 bucket with the hardening every bucket of the pipeline gets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ExpiringPrefix:
    """Objects under ``prefix`` move to STANDARD_IA after ``infrequent_access_days`` (0: never)
    and expire after ``expiration_days``."""

    prefix: str
    expiration_days: int
    infrequent_access_days: int = 0


@dataclass(frozen=True)
class PrivateBucketArgs:
    kms_key_arn: pulumi.Input[str]
    lifecycle: Sequence[ExpiringPrefix] = field(default_factory=tuple)


class PrivateBucket(pulumi.ComponentResource):
    """SSE-KMS with a bucket key, public access blocked, ACLs disabled (bucket owner enforced),
    versioning, TLS-only access, and lifecycle rules per prefix."""

    arn: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: PrivateBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:PrivateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=False, opts=child)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    # One data key per bucket instead of per object: far fewer KMS requests.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
        )
        tls_only = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
        # After the public access block, or S3 may reject the policy while the block is being set.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=tls_only,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "abort-incomplete-uploads",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }
        ]
        for rule in args.lifecycle:
            transitions: list[aws.s3.BucketLifecycleConfigurationRuleTransitionArgsDict] = (
                [{"days": rule.infrequent_access_days, "storage_class": "STANDARD_IA"}]
                if rule.infrequent_access_days
                else []
            )
            rules.append(
                {
                    "id": f"expire-{rule.prefix.strip('/') or 'all'}",
                    "status": "Enabled",
                    "filter": {"prefix": rule.prefix},
                    "transitions": transitions,
                    "expiration": {"days": rule.expiration_days},
                    # Versioning keeps overwritten objects: expire them too, or they are kept forever.
                    "noncurrent_version_expiration": {"noncurrent_days": 30},
                }
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=rules,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        self.arn = bucket.arn
        self.bucket_name = bucket.bucket
        self.register_outputs({"arn": self.arn, "bucket_name": self.bucket_name})
