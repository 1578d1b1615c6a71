"""The event stream producers write to: Kinesis, on demand or provisioned, KMS-encrypted."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class EventStreamArgs:
    on_demand: bool
    shard_count: int
    retention_hours: int
    kms_key_arn: pulumi.Input[str]


class EventStream(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    stream_name: pulumi.Output[str]

    def __init__(self, name: str, args: EventStreamArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vedette:stack:EventStream", name, None, opts)
        stream = aws.kinesis.Stream(
            f"{name}-stream",
            stream_mode_details={"stream_mode": "ON_DEMAND" if args.on_demand else "PROVISIONED"},
            # On demand, AWS picks the shard count; setting one is an error.
            shard_count=None if args.on_demand else args.shard_count,
            retention_period=args.retention_hours,
            encryption_type="KMS",
            kms_key_id=args.kms_key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = stream.arn
        self.stream_name = stream.name
        self.register_outputs({"arn": self.arn, "stream_name": self.stream_name})
