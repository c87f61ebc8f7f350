"""``postsale bench``: the whole-pipeline benchmark (``make bench``)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from warehouse.paths import PROJECT_ROOT


def sizes(text: str) -> list[int]:
    """``2500,5000,10000`` → [2500, 5000, 10000]: at least two distinct positive sizes."""
    try:
        out = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of account counts: {text!r}") from None
    if len(out) < 2 or out[0] <= 0:
        raise argparse.ArgumentTypeError(f"a curve needs at least two distinct positive sizes: {text!r}")
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark every stage on a simulated world (make bench, make bench-curve)")
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--event-days", type=int, default=120, help="Mixpanel export window (120 days of 10k: ≥ 10 M)")
    p.add_argument("--loader-days", type=int, default=7, help="days of events for the loader-vs-\\copy sample")
    p.add_argument("--loader-repeats", type=int, default=2)
    p.add_argument("--memory-days", type=int, default=15, help="events sync over N and 2N days for peak memory")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / ".local" / "bench")
    p.add_argument("--no-airflow", action="store_true", help="skip the `airflow dags test` stage")
    p.add_argument(
        "--curve",
        type=sizes,
        metavar="SIZES",
        help="cost curve: run at each of these account counts (e.g. 2500,5000,10000), then fit time ∝ size^b",
    )
    p.add_argument("--airflow", action="store_true", help="with --curve: run the Airflow stage too (off by default)")
    p.add_argument("--no-memory-double", action="store_true", help="skip the events sync at 2N")
    p.add_argument(
        "--update-docs", type=Path, help="rewrite the latest-report section of this file (with --curve: the curve's)"
    )
    p.add_argument("--keep-database", action="store_true")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="go on with a stopped run kept with --keep-database: its finished stages are kept, the rest run "
        "(with --curve: a curve directory; its finished sizes are kept)",
    )
    p.add_argument(
        "--redo",
        nargs="*",
        default=[],
        metavar="PREFIX",
        help="with --resume: run again the finished stages whose key starts with one of these (e.g. dbt. validate.)",
    )


def bench_config(args: argparse.Namespace):
    """The `BenchConfig` of a run, or the template of each size of a curve (Airflow off by default:
    it repeats every stage)."""
    from benchmarks.harness import BenchConfig

    if args.curve and args.redo:
        raise SystemExit("postsale bench: --redo does not apply to --curve (a stopped size runs again)")
    return BenchConfig(
        accounts=args.accounts,
        seed=args.seed,
        event_days=args.event_days,
        loader_days=args.loader_days,
        loader_repeats=args.loader_repeats,
        memory_days=args.memory_days,
        out=args.out,
        airflow=(args.airflow if args.curve else True) and not args.no_airflow,
        memory_double=not args.no_memory_double,
        update_docs=args.update_docs,
        keep_database=args.keep_database,
        resume=args.resume,
        redo=tuple(args.redo),
    )


def main(args: argparse.Namespace) -> int:
    from benchmarks.harness import Bench

    cfg = bench_config(args)
    # SIGTERM stops the run like Ctrl-C: the report is saved and the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.curve:
        from benchmarks.curve import Curve

        curve = Curve(cfg, args.curve, resume=args.resume)
        curve.run()
        print((curve.dir / "curve.md").read_text())
        print(f"curve: {curve.dir / 'curve.json'} and {curve.dir / 'curve.md'}")
        return 0
    bench = Bench(cfg)
    bench.run()
    print((bench.dir / "report.md").read_text())
    print(f"report: {bench.dir / 'report.json'} and {bench.dir / 'report.md'}")
    return 0
