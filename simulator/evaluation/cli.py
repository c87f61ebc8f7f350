"""``python -m simulator evaluate``: run the exam over several seeds, write JSON and the report."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import traceback
from datetime import UTC, date, datetime
from pathlib import Path

from simulator.evaluation.seeds import DEVELOPMENT_SEEDS, REPORTED_SEEDS, development_seeds_in

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_parser(sub) -> None:
    e = sub.add_parser("evaluate", help="score the pipeline's marts against the ground truth of fresh worlds")
    e.add_argument("--seeds", default=",".join(map(str, REPORTED_SEEDS)), help="comma-separated world seeds")
    e.add_argument("--accounts", type=int, default=500)
    e.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 1, 1), help="first as-of date")
    e.add_argument("--as-of-count", type=int, default=7, help="as-of dates per world")
    e.add_argument("--step-days", type=int, default=30, help="days between as-of dates")
    e.add_argument("--event-history-days", type=int, default=730, help="Mixpanel days read on the first sync")
    e.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    e.add_argument("--workdir", type=Path, default=Path(".local/evaluation"))
    e.add_argument(
        "--warehouse-admin-url",
        default=os.environ.get("WAREHOUSE_ADMIN_URL") or DEFAULT_ADMIN_URL,
        help="PostgreSQL URL allowed to create and drop the per-seed databases (env WAREHOUSE_ADMIN_URL)",
    )
    e.add_argument("--keep-database", action="store_true", help="keep each seed's database")
    e.add_argument("--reuse", action="store_true", help="score the snapshots of an earlier run (no pipeline)")
    e.add_argument("--json", type=Path, default=None, help="write the results here")
    e.add_argument("--markdown", type=Path, default=None, help="write the report here (docs/ACCURACY.md)")
    e.add_argument("--verbose", action="store_true", help="show the traceback of an error")
    e.set_defaults(func=main)


def _commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def main(args: argparse.Namespace) -> int:
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        print(f"evaluate: --seeds must be comma-separated integers, got {args.seeds!r}", file=sys.stderr)
        return 2
    if not seeds:
        print("evaluate: no seeds given", file=sys.stderr)
        return 2
    dev = development_seeds_in(seeds)
    if args.markdown and dev:
        print(
            f"evaluate: refusing to write {args.markdown}: seeds {dev} were used for development "
            f"(development seeds: {', '.join(map(str, DEVELOPMENT_SEEDS))}); report other seeds",
            file=sys.stderr,
        )
        return 2
    # A stopped run (SIGTERM) unwinds like Ctrl-C, so each seed's database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(args, seeds)
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"evaluate: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, seeds: list[int]) -> int:
    from simulator.evaluation import pipeline, report, score
    from simulator.evaluation.truth import load_truth

    cfg = pipeline.RunConfig(
        accounts=args.accounts,
        first_as_of=args.as_of,
        as_of_count=args.as_of_count,
        step_days=args.step_days,
        workdir=args.workdir,
        admin_url=args.warehouse_admin_url,
        keep_database=args.keep_database,
        event_history_days=args.event_history_days,
    )
    started = datetime.now(tz=UTC)
    commit = _commit()  # the code the worlds run with, not whatever is checked out when they end
    t0 = time.perf_counter()
    records = {}
    for seed in seeds:
        if args.reuse:
            records[str(seed)] = pipeline.load_run(args.workdir, seed)
        else:
            records[str(seed)] = pipeline.SeedRun(cfg, seed, log=lambda m: print(m, flush=True)).run()
    truths = {seed: load_truth(Path(rec["world"])) for seed, rec in records.items()}
    scores = score.score(records, truths, resamples=args.resamples)
    first = next(iter(records.values()))
    result = {
        "command": "python -m simulator evaluate " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
        "started_at": started.isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "commit": commit,
        "seeds": [str(s) for s in seeds],
        "development_seeds": list(DEVELOPMENT_SEEDS),
        "accounts": first["accounts"],
        "as_ofs": first["as_ofs"],
        "horizon_days": first["horizon_days"],
        "resamples": args.resamples,
        "steps": [name for name, _ in pipeline.STEPS],
        "timings": {seed: rec["timings"] for seed, rec in records.items()},
        "timing_summary": {seed: report.timing_summary(rec["timings"]) for seed, rec in records.items()},
        "scores": scores,
        # The required keys at the top level, each {"mean", "ci95", "per_seed", ...}.
        **scores["metrics"],
    }
    # The same figures in the shape `postsale load-accuracy` reads (the score-accuracy page).
    result["source"] = "evaluation"
    result["figures"] = report.figures(result)
    summary = {k: v["mean"] for k, v in scores["metrics"].items() if not isinstance(v["mean"], dict)}
    print(json.dumps(summary, indent=1, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"results: {args.json}")
    if args.markdown:
        report.write(result, args.markdown)
        print(f"report: {args.markdown}")
    return 0
