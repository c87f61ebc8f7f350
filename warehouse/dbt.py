"""Run dbt against the resolved warehouse, in-process through dbt's programmatic runner."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from warehouse.paths import DBT_PROJECT_DIR, local_dir
from warehouse.postgres import WarehouseParams

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt returned failures: names the failing nodes and their messages."""


def dbt_env(warehouse_url: str) -> dict[str, str]:
    return {
        **WarehouseParams.from_url(warehouse_url).dbt_env(),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def own_target(name: str) -> Path:
    """A dbt target path of a step's own, under ``local_dir()`` (``.local/dbt-targets/<name>``): its
    runs keep their partial-parse file from run to run, and never rewrite ``dbt_project/target``,
    whose manifest the DAGs render from while other processes read it."""
    return local_dir() / "dbt-targets" / name


def run_dbt(args: list[str], warehouse_url: str, target_path: Path | None = None) -> list[dict]:
    """Invoke ``dbt <args>``; return per-node results; raise DbtFailed naming what failed."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(warehouse_url))
    cli = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if target_path:
        cli += ["--target-path", str(target_path)]
    log.info("dbt %s", " ".join(args))
    res = dbtRunner().invoke(cli)
    nodes = []
    for r in getattr(res.result, "results", None) or []:
        nodes.append(
            {
                "node": r.node.unique_id,
                "status": str(r.status),
                "seconds": r.execution_time,
                "message": r.message,
            }
        )
    failed = [n for n in nodes if n["status"] in ("error", "fail", "runtime error")]
    if not res.success or failed:
        detail = "; ".join(f"{n['node']}: {n['status']} ({n['message']})" for n in failed) or str(res.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    return nodes
