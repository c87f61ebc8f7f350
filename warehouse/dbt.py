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


# The models that apply the fitted renewal-risk model: postsale_transform builds them after the
# fit (pipeline/tasks.py fit_renewal_risk), starting from the staging views of the model tables.
RISK_SCORING_SELECT = ["stg_postsale__risk_model_versions+", "stg_postsale__risk_model_coefficients+"]

# PostgreSQL's message for a transaction it aborted to break a lock cycle.
DEADLOCK = "deadlock detected"


def run_dbt(args: list[str], warehouse_url: str, target_path: Path | None = None) -> list[dict]:
    """Invoke ``dbt <args>``; return per-node results; raise DbtFailed naming what failed.

    Nodes that only lost a deadlock are run once more (``dbt retry``): two of dbt's threads
    swapping tables whose foreign keys reference the same parent can lock each other, and
    PostgreSQL aborts one of them, whose work is then safe to repeat."""
    os.environ.update(dbt_env(warehouse_url))
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if target_path:
        common += ["--target-path", str(target_path)]
    log.info("dbt %s", " ".join(args))
    success, exception, nodes = _invoke([*args, *common])
    failed = _failed(nodes)
    if failed and all(DEADLOCK in (n["message"] or "") for n in failed):
        log.warning("dbt: %d node(s) aborted by a deadlock with another thread; running them again", len(failed))
        success, exception, again = _invoke(["retry", *common])
        nodes = list({**{n["node"]: n for n in nodes}, **{n["node"]: n for n in again}}.values())
        failed = _failed(nodes)
    if not success or failed:
        detail = "; ".join(f"{n['node']}: {n['status']} ({n['message']})" for n in failed) or str(exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    return nodes


def _invoke(cli: list[str]) -> tuple[bool, BaseException | None, list[dict]]:
    from dbt.cli.main import dbtRunner

    res = dbtRunner().invoke(cli)
    nodes = [
        {"node": r.node.unique_id, "status": str(r.status), "seconds": r.execution_time, "message": r.message}
        for r in getattr(res.result, "results", None) or []
    ]
    return res.success, res.exception, nodes


def _failed(nodes: list[dict]) -> list[dict]:
    return [n for n in nodes if n["status"] in ("error", "fail", "runtime error")]
