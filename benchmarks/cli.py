"""``postsale bench``: the whole-pipeline benchmark (``make bench``)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from warehouse.paths import PROJECT_ROOT


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark every stage on a simulated world (make bench)")
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--event-days", type=int, default=120, help="Mixpanel export window (120 days of 10k: ≥ 10 M)")
    p.add_argument("--loader-days", type=int, default=7, help="days of events for the loader-vs-\\copy sample")
    p.add_argument("--loader-repeats", type=int, default=2)
    p.add_argument("--memory-days", type=int, default=15, help="events sync over N and 2N days for peak memory")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / ".local" / "bench")
    p.add_argument("--no-airflow", action="store_true", help="skip the `airflow dags test` stage")
    p.add_argument("--no-memory-double", action="store_true", help="skip the events sync at 2N")
    p.add_argument("--update-docs", type=Path, help="rewrite the latest-report section of this file")
    p.add_argument("--keep-database", action="store_true")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="go on with a stopped run kept with --keep-database: its finished stages are kept, the rest run",
    )
    p.add_argument(
        "--redo",
        nargs="*",
        default=[],
        metavar="PREFIX",
        help="with --resume: run again the finished stages whose key starts with one of these (e.g. dbt. validate.)",
    )


def main(args: argparse.Namespace) -> int:
    from benchmarks.harness import Bench, BenchConfig

    cfg = BenchConfig(
        accounts=args.accounts,
        seed=args.seed,
        event_days=args.event_days,
        loader_days=args.loader_days,
        loader_repeats=args.loader_repeats,
        memory_days=args.memory_days,
        out=args.out,
        airflow=not args.no_airflow,
        memory_double=not args.no_memory_double,
        update_docs=args.update_docs,
        keep_database=args.keep_database,
        resume=args.resume,
        redo=tuple(args.redo),
    )
    # SIGTERM stops the run like Ctrl-C: the report is saved and the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(cfg)
    bench.run()
    print((bench.dir / "report.md").read_text())
    print(f"report: {bench.dir / 'report.json'} and {bench.dir / 'report.md'}")
    return 0
