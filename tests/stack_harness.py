"""Run the Pulumi program offline on Pulumi's mocks and record every resource it registers.

The mocks answer like AWS would: physical names with a random-looking suffix, ARNs in each
service's format for one account and region, so tests can check that a reference (the mapping's
source, a policy's resource) is the ARN of the resource it should be, not just a non-empty string.
Invokes the program does not declare here fail the run, so nothing can silently reach AWS.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
SKLEARN_REGISTRY = "141502667606"  # the eu-west-1 account of SageMaker's scikit-learn images

# Resource type -> (ARN format, the input holding a user-given physical name).
_ARNS: dict[str, tuple[str, str]] = {
    "aws:kinesis/stream:Stream": ("arn:aws:kinesis:{region}:{account}:stream/{name}", "name"),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": (
        "arn:aws:firehose:{region}:{account}:deliverystream/{name}",
        "name",
    ),
    "aws:s3/bucket:Bucket": ("arn:aws:s3:::{name}", "bucket"),
    "aws:kms/key:Key": ("arn:aws:kms:{region}:{account}:key/{name}", ""),
    "aws:iam/role:Role": ("arn:aws:iam::{account}:role/{name}", "name"),
    "aws:cloudwatch/logGroup:LogGroup": ("arn:aws:logs:{region}:{account}:log-group:{name}", "name"),
    "aws:lambda/function:Function": ("arn:aws:lambda:{region}:{account}:function:{name}", "name"),
    "aws:lambda/eventSourceMapping:EventSourceMapping": (
        "arn:aws:lambda:{region}:{account}:event-source-mapping:{name}",
        "",
    ),
    "aws:sqs/queue:Queue": ("arn:aws:sqs:{region}:{account}:{name}", "name"),
    "aws:sns/topic:Topic": ("arn:aws:sns:{region}:{account}:{name}", "name"),
    "aws:sns/topicSubscription:TopicSubscription": ("arn:aws:sns:{region}:{account}:subscription/{name}", ""),
    "aws:dynamodb/table:Table": ("arn:aws:dynamodb:{region}:{account}:table/{name}", "name"),
    "aws:sagemaker/model:Model": ("arn:aws:sagemaker:{region}:{account}:model/{name}", "name"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        "arn:aws:sagemaker:{region}:{account}:endpoint-config/{name}",
        "name",
    ),
    "aws:sagemaker/endpoint:Endpoint": ("arn:aws:sagemaker:{region}:{account}:endpoint/{name}", "name"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "name"),
    "aws:cloudwatch/dashboard:Dashboard": ("arn:aws:cloudwatch::{account}:dashboard/{name}", "dashboardName"),
    "aws:appautoscaling/policy:Policy": ("arn:aws:autoscaling:{region}:{account}:scalingPolicy:{name}", "name"),
    "aws:iam/policy:Policy": ("arn:aws:iam::{account}:policy/{name}", "name"),
    "aws:athena/workgroup:Workgroup": ("arn:aws:athena:{region}:{account}:workgroup/{name}", "name"),
    "aws:glue/catalogDatabase:CatalogDatabase": ("arn:aws:glue:{region}:{account}:database/{name}", "name"),
    "aws:glue/catalogTable:CatalogTable": ("arn:aws:glue:{region}:{account}:table/{database}/{name}", "name"),
    "aws:sfn/stateMachine:StateMachine": ("arn:aws:states:{region}:{account}:stateMachine:{name}", "name"),
    "aws:scheduler/schedule:Schedule": ("arn:aws:scheduler:{region}:{account}:schedule/default/{name}", "name"),
}


@dataclass
class Registered:
    """One resource as the program registered it: its type, logical name, URN and wire props."""

    typ: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    urn: str = ""


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    resources: list[Registered] = field(default_factory=list)
    invokes: list[str] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        suffix = hashlib.sha256(f"{args.typ}/{args.name}".encode()).hexdigest()[:7]
        outputs = dict(args.inputs)
        arn_format, name_input = _ARNS.get(args.typ, ("", ""))
        physical = str(args.inputs.get(name_input) or f"{args.name}-{suffix}") if name_input else f"{suffix}"
        if name_input:
            outputs[name_input] = physical
        if args.typ == "aws:kinesis/stream:Stream":
            outputs["name"] = physical
        if args.typ == "aws:sqs/queue:Queue":
            outputs["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{physical}"
        if args.typ == "aws:kms/key:Key":
            outputs["keyId"] = physical
        if args.typ == "aws:cloudwatch/logStream:LogStream":
            group = args.inputs["logGroupName"]
            outputs["arn"] = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}:log-stream:{physical}"
        if arn_format:
            database = args.inputs.get("databaseName", "")
            arn = arn_format.format(region=REGION, account=ACCOUNT_ID, name=physical, database=database)
            outputs["dashboardArn" if args.typ == "aws:cloudwatch/dashboard:Dashboard" else "arn"] = arn
        resource_id = physical if args.custom else None
        self.resources.append(Registered(args.typ, args.name, args.inputs, outputs))
        return resource_id, outputs

    # A plain dict, not (dict, None): this Pulumi version iterates the failures of a tuple.
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.invokes.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci",
                "userId": "AIDA",
                "id": "x",
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com"}
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }
        if args.token == "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage":
            repository, tag = args.args["repositoryName"], args.args.get("imageTag", "latest")
            host = f"{SKLEARN_REGISTRY}.dkr.ecr.{REGION}.amazonaws.com"
            return {
                "registryPath": f"{host}/{repository}:{tag}",
                "registryId": SKLEARN_REGISTRY,
                "repositoryName": repository,
                "imageTag": tag,
                "id": SKLEARN_REGISTRY,
            }
        raise NotImplementedError(f"the stack called {args.token}, which these mocks do not answer")


_LOOP = asyncio.new_event_loop()


@dataclass
class Synthesized:
    """What one run of a program registered, and the outputs it returned."""

    resources: list[Registered]
    invokes: list[str]
    outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.typ == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        if len(found) != 1:
            raise AssertionError(f"expected one {typ}, found {[r.name for r in found]}")
        return found[0]

    def named(self, name: str) -> Registered:
        found = [resource for resource in self.resources if resource.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    def custom(self) -> Iterator[Registered]:
        return (resource for resource in self.resources if not resource.typ.startswith(("vedette:", "pulumi:")))

    def arn_owner(self, arn: str) -> Registered:
        """The resource whose ARN this is; fails when no registered resource has it."""
        for resource in self.resources:
            if arn in (resource.outputs.get("arn"), resource.outputs.get("dashboardArn")):
                return resource
        raise AssertionError(f"{arn} is the ARN of no resource of the stack")


def synthesize(program: Callable[[], Mapping[str, Any] | None], config: Mapping[str, str] | None = None) -> Synthesized:
    """Run ``program`` (which registers resources and returns its outputs) on fresh mocks."""
    # Pulumi's runtime runs on the thread's current event loop; asyncio.run elsewhere in the suite
    # leaves none behind. One loop serves every run: Pulumi keeps references to it after a run.
    asyncio.set_event_loop(_LOOP)
    return _synthesize(program, config)


def _synthesize(program: Callable[[], Mapping[str, Any] | None], config: Mapping[str, str] | None) -> Synthesized:
    mocks = RecordingMocks()
    monitor = MockMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="vedette", stack="test", preview=False, monitor=monitor)
    pulumi.runtime.set_all_config({f"vedette:{key}": value for key, value in (config or {}).items()})
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output[None]:
        outputs = program() or {}
        return pulumi.Output.from_input(dict(outputs)).apply(captured.update)

    run()
    for urn, registration in monitor.resources.items():
        for resource in mocks.resources:
            if resource.outputs is registration.state:
                resource.urn = urn
                break
    return Synthesized(mocks.resources, mocks.invokes, captured)


def policy_statements(document: str) -> list[dict[str, Any]]:
    """The statements of an IAM policy document, Action and Resource always as lists."""
    statements = json.loads(document)["Statement"]
    for statement in statements:
        for key in ("Action", "Resource"):
            if isinstance(statement.get(key), str):
                statement[key] = [statement[key]]
    return list(statements)


def write_model_artifact(path: Path, geo: str = "none", *, parsed_agents: bool = False) -> Path:
    """A small model.tar.gz with the metadata and vocabulary the scorer's feature export reads, for a
    model trained with ``--geo geo`` (``model.network``) and, if ``parsed_agents``, parsed agents."""
    from model import user_agents
    from model.artifact import METADATA_FILE, VOCABULARY_FILE
    from model.features import FEATURE_NAMES, FEATURES_VERSION, ResourceVocabulary
    from model.network import resolve_network_lookup

    metadata = {
        "features_version": FEATURES_VERSION,
        "feature_names": list(FEATURE_NAMES),
        "network_lookup": resolve_network_lookup(geo).record,
        "agent_parser": user_agents.describe() if parsed_agents else None,
        "threshold": 1.0,
        "detector": "ecod",
    }
    vocabulary = ResourceVocabulary.learn([]).to_json()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in ((METADATA_FILE, metadata), (VOCABULARY_FILE, vocabulary)):
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def write_project(folder: Path) -> Path:
    """build/model.tar.gz and a stand-in build/scorer.zip holding that model's feature configuration:
    the program uploads both and checks they match, but never runs them."""
    from stack import bundle

    model = write_model_artifact(folder / "build" / "model.tar.gz")
    with zipfile.ZipFile(folder / "build" / "scorer.zip", "w") as archive:
        archive.writestr(bundle.FEATURE_CONFIG_NAME, bundle.feature_config(model))
    return folder
