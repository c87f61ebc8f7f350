"""Command line: ``python -m connectors sync|warehouse-url|report|reverse-etl``."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors")
    sub = parser.add_subparsers(dest="command", required=True)
    p_sync = sub.add_parser("sync", help="extract streams and load the raw schema")
    p_sync.add_argument("--source", help="only this source (default: all)")
    p_sync.add_argument("--stream", help="only this stream of --source")
    p_sync.add_argument("--full-refresh", action="store_true", help="ignore saved state and re-read everything")
    p_url = sub.add_parser("warehouse-url", help="print the resolved warehouse URL (starts the embedded server)")
    p_url.add_argument("--create", action="store_true", help="create the database when it does not exist")
    p_dbt = sub.add_parser("dbt", help="run dbt against the resolved warehouse: python -m connectors dbt build …")
    p_dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)
    sub.add_parser("report", help="print rows per layer and the latest validation results")
    p_bench = sub.add_parser("bench-loader", help="events loader rows/s vs psql \\copy of the same rows")
    p_bench.add_argument("--world", default=".local/world", help="simulator world to export events from")
    p_bench.add_argument("--from-date", required=True)
    p_bench.add_argument("--to-date", required=True)
    p_bench.add_argument("--repeats", type=int, default=3)
    p_env = sub.add_parser("simulator-connections", help="print `export AIRFLOW_CONN_…` lines for a simulator")
    p_env.add_argument("base_url")
    sub.add_parser("warehouse-stop", help="stop the embedded PostgreSQL server if it runs")
    sub.add_parser("free-port", help="print a free TCP port on 127.0.0.1")
    p_wait = sub.add_parser("wait-for-port", help="wait until 127.0.0.1:PORT accepts connections")
    p_wait.add_argument("port", type=int)
    p_wait.add_argument("--timeout", type=float, default=60)
    from connectors.reverse_etl import cli as reverse_etl_cli

    reverse_etl_cli.add_parser(sub)
    from connectors.benchmarks import cli as bench_cli

    bench_cli.add_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)

    if args.command == "warehouse-url":
        from connectors.warehouse import WarehouseParams, admin_url, ensure_database, resolve_warehouse_url

        url = resolve_warehouse_url()
        if args.create:
            ensure_database(admin_url(), WarehouseParams.from_url(url).dbname)
        print(url)
        return 0
    if args.command == "dbt":
        from connectors.transform import DbtFailed, run_dbt
        from connectors.warehouse import resolve_warehouse_url

        try:
            run_dbt(args.dbt_args, resolve_warehouse_url())
        except DbtFailed as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    if args.command == "bench-loader":
        import json
        import tempfile
        from pathlib import Path

        from connectors.bench import bench_loader, export_events
        from connectors.warehouse import resolve_warehouse_url

        with tempfile.TemporaryDirectory() as tmp:
            jsonl = Path(tmp) / "events.jsonl"
            export_events(Path(args.world), jsonl, args.from_date, args.to_date)
            print(json.dumps(bench_loader(resolve_warehouse_url(), jsonl, args.repeats), indent=2))
        return 0
    if args.command == "simulator-connections":
        import shlex

        from connectors.runtime import simulator_connections

        for key, value in simulator_connections(args.base_url).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    if args.command == "warehouse-stop":
        from connectors.warehouse import EmbeddedPostgres

        EmbeddedPostgres().stop()
        return 0
    if args.command == "free-port":
        from connectors.warehouse import free_port

        print(free_port())
        return 0
    if args.command == "wait-for-port":
        from connectors.warehouse import wait_for_port

        return 0 if wait_for_port("127.0.0.1", args.port, args.timeout) else 1
    if args.command == "bench":
        return bench_cli.main(args)
    if args.command == "reverse-etl":
        return reverse_etl_cli.main(args)
    if args.command == "report":
        from connectors.report import print_report

        return print_report()
    if args.command == "sync":
        # The DAGs' rule: an Airflow Connection (e.g. AIRFLOW_CONN_STRIPE_API, as printed by
        # `simulator-connections`) when defined, else STRIPE_API_KEY and friends.
        from connectors.runtime import source_config, warehouse_url
        from connectors.sources import STREAMS
        from connectors.sync import StreamSyncError, run_stream

        if args.stream and not args.source:
            parser.error("--stream needs --source")
        url = warehouse_url()
        failed = 0
        for source in [args.source] if args.source else sorted(STREAMS):
            cfg = source_config(source)
            for name in [args.stream] if args.stream else list(STREAMS[source]):
                try:
                    r = run_stream(url, cfg, name, args.full_refresh)
                except StreamSyncError as exc:
                    print(f"FAILED {exc}", file=sys.stderr)
                    failed += 1
                    continue
                rate = r.records / r.seconds if r.seconds else 0
                print(
                    f"{r.source}.{r.stream}: {r.records} records ({r.rejected} rejected), {r.pages} pages, "
                    f"{r.seconds:.1f}s, {rate:,.0f} records/s"
                )
        return 1 if failed else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
