"""`python -m console`: the analyst console on 127.0.0.1, over the deployed tables and archive.

Reads with the analyst's own AWS credentials (boto3's usual chain); ``--endpoint-url`` (or
``AWS_ENDPOINT_URL``) points it at a local pipeline instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from console.server import DEFAULT_PORT, LOOPBACK, ConsoleSettings, console_app, serving
from model.network import NETWORK_LOOKUPS


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m console",
        description="The Vedette analyst console: alerts, their timelines, verdicts and users, in a browser.",
    )
    parser.add_argument("--anomalies-table", required=True, help="the stack output anomalies_table_name")
    parser.add_argument("--labels-table", required=True, help="the stack output labels_table_name")
    parser.add_argument("--archive", required=True, help="s3://<archive_bucket> (or a folder)")
    parser.add_argument("--region", help="AWS region (default: boto3's configuration)")
    parser.add_argument(
        "--endpoint-url", help="the endpoint for S3, and DynamoDB too unless given below (a local pipeline)"
    )
    parser.add_argument(
        "--dynamodb-endpoint-url", help="DynamoDB's endpoint, where it is not --endpoint-url (the local pipeline's)"
    )
    parser.add_argument(
        "--geo",
        choices=[name for name in NETWORK_LOOKUPS if name != "maxmind"],
        default="embedded",
        help="IP to country lookup for users' usual countries (default %(default)s)",
    )
    parser.add_argument(
        "--athena-workgroup",
        help="the stack output query_workgroup: read timelines through Athena (on AWS) instead of DuckDB",
    )
    parser.add_argument("--athena-database", help="the stack output query_database (with --athena-workgroup)")
    parser.add_argument("--analyst", help="the name verdicts are recorded under (default: your login name)")
    parser.add_argument(
        "--host", default=LOOPBACK, help="address to listen on (default %(default)s: this machine only)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    arguments = parser.parse_args(argv)
    if arguments.athena_workgroup and not arguments.athena_database:
        parser.error("--athena-database is needed with --athena-workgroup (the stack output query_database)")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    if args.host != LOOPBACK:
        print(f"console: on {args.host}, anyone who reaches it can read alerts and record verdicts", file=sys.stderr)
    app = console_app(
        ConsoleSettings(
            anomalies_table=args.anomalies_table,
            labels_table=args.labels_table,
            archive=args.archive,
            endpoint_url=args.endpoint_url,
            dynamodb_endpoint_url=args.dynamodb_endpoint_url,
            region=args.region,
            geo=args.geo,
            analyst=args.analyst,
            athena_workgroup=args.athena_workgroup,
            athena_database=args.athena_database,
        )
    )
    with serving(app, args.host, args.port) as running:
        print(f"console: {running.url}/  (Ctrl-C stops it)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("console: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
