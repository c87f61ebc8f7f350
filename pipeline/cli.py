"""``postsale``: the command line for everything that runs outside Airflow.

Commands: ``sync``, ``dbt``, ``validate``, ``data-docs``, ``reverse-etl``, ``alerts``, ``report``,
``load-accuracy``, ``demo-dag``, ``demo-summary``, ``bench``, ``bench-loader``,
``warehouse-url``, ``bi-reader``, ``warehouse-stop``, ``free-port``, ``wait-for-port``
(``postsale <command> --help`` for each). Credentials come from the environment
(``pipeline.connections``): ``AIRFLOW_CONN_*`` variables when set, else ``WAREHOUSE_URL`` and
the sources' own variables. Nothing here imports Airflow.

An error ends the command with one line on stderr, ``postsale <command>: <what and where>``
(``pipeline.errors.one_line``: no secret, no record content) and exit status 1; ``--verbose``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

EXIT_CODES = """exit status:
  0  done
  1  a step failed or was refused (a stream, dbt, a critical expectation, the CRM sync)
  2  usage error
  3  reverse-etl: partial (some records failed; they are retried on the next run)"""


def build_parser() -> argparse.ArgumentParser:
    from benchmarks import cli as bench_cli

    parser = argparse.ArgumentParser(
        prog="postsale",
        description="postsale: customer-success data platform (connectors, dbt, validation, reverse ETL).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sync", help="extract streams and load the raw schema")
    p.add_argument("--source", help="only this source (default: all)")
    p.add_argument("--stream", help="only this stream of --source")
    p.add_argument("--full-refresh", action="store_true", help="ignore saved state and re-read everything")

    p = sub.add_parser("dbt", help="run dbt against the resolved warehouse: postsale dbt build …")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("fit-risk", help="fit a renewal-risk model version for an as-of day when one is due")
    p.add_argument("--as-of", required=True, help="the run's as-of day (YYYY-MM-DD)")
    p.add_argument("--force", action="store_true", help="fit even when the current version is recent")

    p = sub.add_parser("validate", help="validate one layer (or all, in order) and store the results")
    p.add_argument("--layer", help="raw | staging | intermediate | marts (default: all, in order)")
    p.add_argument(
        "--all-rows",
        action="store_true",
        help="validate every row of the big append-only tables too, not only the rows since their last "
        "passing run (same as POSTSALE_VALIDATE_ALL_ROWS=1)",
    )
    sub.add_parser("data-docs", help="build GX Data Docs from the kept validation results; print where they are")

    p = sub.add_parser(
        "reverse-etl",
        help="push marts.mart_crm_sync scores onto CRM records (hubspot), or the due playbook steps as tasks "
        "(hubspot-tasks, from marts.mart_crm_tasks)",
    )
    p.add_argument("target", choices=["hubspot", "hubspot-tasks"])
    p.add_argument("--as-of", help="the run's day (YYYY-MM-DD): a day before the newest scored day sends nothing")
    p.add_argument("--dry-run", action="store_true", help="report the diff (counts and a sample); send nothing")
    p.add_argument("--force", action="store_true", help="sync even when the change guardrail trips")
    p.add_argument("--max-change-share", type=float, help="guardrail share 0..1 (env REVERSE_ETL_MAX_CHANGE_SHARE)")

    p = sub.add_parser("alerts", help="send the day's new business alerts (marts.fct_account_alerts) to the webhook")
    p.add_argument("--as-of", help="the run's day (YYYY-MM-DD): a day before the newest scored day sends nothing")
    p.add_argument("--dry-run", action="store_true", help="render the messages; send nothing")

    p = sub.add_parser("report", help="print the layers in pipeline order, the latest gates and every warning")
    p.add_argument("--tables", action="store_true", help="also the rows of every table (and staging view)")

    p = sub.add_parser("load-accuracy", help="append `simulator accuracy --json` figures to audit.score_accuracy")
    p.add_argument("file", help="the JSON file `python -m simulator accuracy --json FILE` wrote")

    p = sub.add_parser("demo-dag", help="make demo: `airflow dags test` with one line per finished task")
    p.add_argument("dag_id")
    p.add_argument("as_of", help="the logical date (YYYY-MM-DD)")
    p.add_argument("--log", required=True, help="where the DAG test's whole output goes")
    p.add_argument("--progress", help="the progress file the tasks append to (default: beside --log)")
    p.add_argument("--airflow", help="the airflow command (default: the one beside this Python)")
    p.add_argument("--show-log", action="store_true", help="on failure, also print the log's last 60 lines")

    p = sub.add_parser("demo-summary", help="make demo's closing summary: layers, warnings, accuracy, reports")
    p.add_argument("--accuracy", help="the figures file `simulator accuracy --json` wrote")
    p.add_argument("--log", action="append", default=[], help="a log file to point to (repeatable)")
    p.add_argument("--dbt-docs", help="the dbt docs file, listed when it exists")
    bench_cli.add_parser(sub)
    p = sub.add_parser("bench-loader", help="events loader rows/s vs psql \\copy of the same rows")
    p.add_argument("--world", default=".local/world", help="simulator world to export events from")
    p.add_argument("--from-date", required=True)
    p.add_argument("--to-date", required=True)
    p.add_argument("--repeats", type=int, default=3)

    p = sub.add_parser("warehouse-url", help="print the resolved warehouse URL (starts the embedded server)")
    p.add_argument("--create", action="store_true", help="create the database when it does not exist")
    p = sub.add_parser(
        "bi-reader", help="print the read-only BI reader's URL (reports); --create makes or updates its role"
    )
    p.add_argument(
        "--create",
        action="store_true",
        help="create the role idempotently and grant it marts and the reports' audit tables",
    )
    sub.add_parser("warehouse-stop", help="stop the embedded PostgreSQL server if it runs")
    sub.add_parser("free-port", help="print a free TCP port on 127.0.0.1")
    p = sub.add_parser("wait-for-port", help="wait until 127.0.0.1:PORT accepts connections")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=60)
    for name, command in sub.choices.items():  # also accepted after the command; SUPPRESS keeps a leading one
        if name == "dbt":  # everything after `dbt` is dbt's
            continue
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
        )
    return parser


def _sync(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from connectors.registry import STREAM_NAMES
    from connectors.sync import StreamSyncError, run_stream
    from pipeline.connections import source_config, warehouse_url

    if args.stream and not args.source:
        parser.error("--stream needs --source")
    url = warehouse_url()
    failed = 0
    for source in [args.source] if args.source else sorted(STREAM_NAMES):
        cfg = source_config(source)
        for name in [args.stream] if args.stream else list(STREAM_NAMES[source]):
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


def _dbt(args: argparse.Namespace) -> int:
    from pipeline.connections import warehouse_url
    from warehouse.dbt import DbtFailed, run_dbt

    try:
        run_dbt(args.dbt_args, warehouse_url("transformer"))
    except DbtFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _fit_risk(args: argparse.Namespace) -> int:
    import json

    from pipeline.connections import env_connection
    from pipeline.tasks import fit_renewal_risk

    print(json.dumps(fit_renewal_risk(env_connection, args.as_of, force=args.force), default=str))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from expectations.runner import LAYERS, data_docs_index, raise_on_failure, validate_layer
    from pipeline.connections import warehouse_url

    url = warehouse_url("transformer")
    failed = False
    for layer in [args.layer] if args.layer else list(LAYERS):
        outcome = validate_layer(layer, url, all_rows=True if args.all_rows else None)
        print(outcome.summary())
        try:
            raise_on_failure(outcome)
        except Exception as exc:  # report every layer, then fail
            print(exc, file=sys.stderr)
            failed = True
    print(f"Data Docs: {data_docs_index()}")
    return 1 if failed else 0


def _reverse_etl(args: argparse.Namespace) -> int:
    import json

    from pipeline.connections import env_connection
    from pipeline.tasks import crm_tasks_hubspot, reverse_etl_hubspot

    # A refused or failed run raises: main prints its one line and exits 1.
    if args.target == "hubspot-tasks":
        summary = crm_tasks_hubspot(env_connection, dry_run=args.dry_run, as_of_date=args.as_of)
    else:
        summary = reverse_etl_hubspot(
            env_connection,
            dry_run=args.dry_run,
            force=args.force,
            as_of_date=args.as_of,
            max_change_share=args.max_change_share,
        )
    print(json.dumps(summary, indent=2, default=str))
    return 3 if summary["status"] == "partial" else 0


def _bench_loader(args: argparse.Namespace) -> int:
    import json
    import tempfile
    from pathlib import Path

    from benchmarks.loader import bench_loader, export_events
    from warehouse.postgres import resolve_warehouse_url

    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "events.jsonl"
        export_events(Path(args.world), jsonl, args.from_date, args.to_date)
        print(json.dumps(bench_loader(resolve_warehouse_url(), jsonl, args.repeats), indent=2))
    return 0


def _warehouse_url(args: argparse.Namespace) -> int:
    from warehouse.postgres import WarehouseParams, admin_url, ensure_database, resolve_warehouse_url

    url = resolve_warehouse_url()
    if args.create:
        ensure_database(admin_url(), WarehouseParams.from_url(url).dbname)
    print(url)
    return 0


def _bi_reader(args: argparse.Namespace) -> int:
    """stdout gets the URL with its password, for the caller to use (``make reports``); stderr,
    a person's screen, only ever the redacted form."""
    from pipeline.connections import warehouse_url
    from warehouse.bi_reader import ensure_bi_reader, password, role_name
    from warehouse.postgres import WarehouseParams
    from warehouse.redact import redact_url

    if args.create:
        url = ensure_bi_reader(warehouse_url("transformer"))
    else:
        p = WarehouseParams.from_url(warehouse_url("transformer"))
        url = WarehouseParams(p.host, p.port, role_name(), password(), p.dbname).url()
    print(f"bi_reader: {redact_url(url)}", file=sys.stderr)
    print(url)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        return _run(args, parser)
    except Exception as exc:
        if args.verbose:
            raise
        from pipeline.errors import one_line

        print(f"postsale {args.command}: {one_line(exc)}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "sync":
        return _sync(args, parser)
    if args.command == "dbt":
        return _dbt(args)
    if args.command == "fit-risk":
        return _fit_risk(args)
    if args.command == "validate":
        return _validate(args)
    if args.command == "data-docs":
        from expectations.runner import build_data_docs

        print(f"Data Docs: {build_data_docs()}")
        return 0
    if args.command == "reverse-etl":
        return _reverse_etl(args)
    if args.command == "alerts":
        import json

        from pipeline.connections import env_connection
        from pipeline.tasks import business_alerts

        res = business_alerts(env_connection, as_of_date=args.as_of, dry_run=args.dry_run)
        print(json.dumps(res, indent=2, default=str))
        return {"failed": 1, "partial": 3}.get(res["status"], 0)
    if args.command == "report":
        from pipeline.connections import warehouse_url
        from pipeline.report import render_report

        print(render_report(warehouse_url("transformer"), with_tables=args.tables))
        return 0
    if args.command == "load-accuracy":
        from pipeline.accuracy import load_accuracy
        from pipeline.connections import warehouse_url

        n = load_accuracy(warehouse_url("transformer"), Path(args.file))
        print(f"{n} accuracy figures appended to audit.score_accuracy")
        return 0
    if args.command == "demo-dag":
        from pipeline.demo import main_run_dag

        return main_run_dag(args)
    if args.command == "demo-summary":
        from pipeline.connections import warehouse_url
        from pipeline.demo import render_summary

        print(
            render_summary(
                warehouse_url("transformer"),
                accuracy_file=Path(args.accuracy) if args.accuracy else None,
                logs=args.log,
                dbt_docs=Path(args.dbt_docs) if args.dbt_docs else None,
            )
        )
        return 0
    if args.command == "bench":
        from benchmarks import cli as bench_cli

        return bench_cli.main(args)
    if args.command == "bench-loader":
        return _bench_loader(args)
    if args.command == "warehouse-url":
        return _warehouse_url(args)
    if args.command == "bi-reader":
        return _bi_reader(args)
    if args.command == "warehouse-stop":
        from warehouse.embedded import EmbeddedPostgres

        EmbeddedPostgres().stop()
        return 0
    if args.command == "free-port":
        from warehouse.embedded import free_port

        print(free_port())
        return 0
    if args.command == "wait-for-port":
        from warehouse.embedded import wait_for_port

        return 0 if wait_for_port("127.0.0.1", args.port, args.timeout) else 1
    parser.error(f"unknown command {args.command}")
    return 2
