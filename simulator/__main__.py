"""Command line: `python -m simulator {generate,serve,advance,accuracy,evaluate,connections}`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

DEFAULT_WORLD = Path(".local/world")


def _cmd_generate(args: argparse.Namespace) -> int:
    from simulator.world import generate_world

    t0 = time.perf_counter()
    out = generate_world(
        args.out,
        accounts=args.accounts,
        seed=args.seed,
        as_of=args.as_of,
        horizon_days=args.horizon_days,
        crm_noise=args.crm_noise,
    )
    print(f"generated {args.accounts} accounts (seed {args.seed}) in {out} in {time.perf_counter() - t0:.1f}s")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from simulator.server import MockApiServer
    from simulator.world import generate_world, world_exists

    if not world_exists(args.world):
        print(f"no world in {args.world}; generating the default world (200 accounts, seed 42)")
        generate_world(args.world)
    srv = MockApiServer(args.world, host=args.host, port=args.port)
    print(f"serving {args.world} on {srv.base_url} (clock {srv.clock}):")
    for vendor in ("stripe", "hubspot", "mixpanel"):
        print(f"  {vendor:9s} {srv.url(vendor)}")
    print(f"  control   {srv.base_url}/_control", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()
    return 0


def _cmd_advance(args: argparse.Namespace) -> int:
    from simulator.server.state import WorldState
    from simulator.world import world_exists

    if not world_exists(args.world):
        print(f"no world in {args.world}", file=sys.stderr)
        return 2
    state = WorldState(args.world)
    new = state.advance(args.days)
    state.close()
    print(f"clock is now {new.isoformat()}")
    return 0


def _cmd_accuracy(args: argparse.Namespace) -> int:
    import json
    import os

    from simulator.accuracy import figures, measure, render_table, world_seed
    from simulator.world import world_exists

    url = args.warehouse or os.environ.get("WAREHOUSE_URL")
    if not url:
        print("give --warehouse URL or set WAREHOUSE_URL", file=sys.stderr)
        return 2
    if not world_exists(args.world):
        print(f"no world in {args.world}", file=sys.stderr)
        return 2
    as_of = args.as_of or date.today()
    doc = figures(measure(url, args.world, as_of), world_seed(args.world))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    if args.format == "json":
        print(json.dumps(doc["measure"], indent=2))
    elif args.format == "table":
        print(render_table(doc))
    return 0


def _cmd_connections(args: argparse.Namespace) -> int:
    import shlex

    from simulator.connections import airflow_connections, alert_webhook_env

    for key, value in {**airflow_connections(args.base_url), **alert_webhook_env(args.base_url)}.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="generate a deterministic world")
    g.add_argument("--accounts", type=int, default=200)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today UTC)")
    g.add_argument("--out", type=Path, default=DEFAULT_WORLD)
    g.add_argument("--horizon-days", type=int, default=180, help="days planned past as-of for time travel")
    g.add_argument(
        "--crm-noise", type=float, default=1.0, help="how late/incomplete/wrong CSMs keep the CRM (0 = perfect)"
    )
    g.set_defaults(func=_cmd_generate)

    s = sub.add_parser("serve", help="serve the mock HubSpot, Stripe and Mixpanel APIs")
    s.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.set_defaults(func=_cmd_serve)

    a = sub.add_parser("advance", help="move the world's clock forward (time travel)")
    a.add_argument("--days", type=int, default=1)
    a.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    a.set_defaults(func=_cmd_advance)

    m = sub.add_parser("accuracy", help="compare the warehouse's marts with the world's ground truth")
    m.add_argument("--world", type=Path, default=DEFAULT_WORLD)
    m.add_argument("--warehouse", default=None, help="PostgreSQL URL (default: $WAREHOUSE_URL)")
    m.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    m.add_argument(
        "--json", type=Path, default=None, help="also write the figures (metric, value, target, met) and details here"
    )
    m.add_argument(
        "--format",
        choices=["table", "json", "none"],
        default="table",
        help="print the figures as a table (default), the full comparison as JSON, or nothing",
    )
    m.set_defaults(func=_cmd_accuracy)

    from simulator.evaluation.cli import add_parser as add_evaluate

    add_evaluate(sub)

    c = sub.add_parser("connections", help="print `export AIRFLOW_CONN_…` lines for a simulator on BASE_URL")
    c.add_argument("base_url")
    c.set_defaults(func=_cmd_connections)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
