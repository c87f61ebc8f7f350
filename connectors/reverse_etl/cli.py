"""``python -m connectors reverse-etl hubspot [--dry-run] [--force] [--max-change-share X]``.

Exit status: 0 synced (or dry run), 1 refused or failed, 3 partial (some records failed or were
rejected; they are in ``audit.crm_sync_log`` and retried on the next run).
"""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reverse-etl", help="push marts.mart_crm_sync scores onto CRM records")
    p.add_argument("target", choices=["hubspot"])
    p.add_argument("--dry-run", action="store_true", help="report the diff (counts and a sample); send nothing")
    p.add_argument("--force", action="store_true", help="sync even when the change guardrail trips")
    p.add_argument("--max-change-share", type=float, help="guardrail share 0..1 (env REVERSE_ETL_MAX_CHANGE_SHARE)")


def main(args: argparse.Namespace) -> int:
    from connectors.http_client import SourceHttpError
    from connectors.reverse_etl import sync_hubspot
    from connectors.reverse_etl.push import PushAborted
    from connectors.reverse_etl.store import SyncAlreadyRunning
    from connectors.reverse_etl.sync import REFUSALS

    try:
        summary = sync_hubspot(dry_run=args.dry_run, force=args.force, max_change_share=args.max_change_share)
    except (*REFUSALS, PushAborted, SourceHttpError, SyncAlreadyRunning) as exc:
        print(f"reverse-etl {args.target}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, default=str))
    return 3 if summary["status"] == "partial" else 0
