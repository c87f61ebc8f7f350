"""What the DAG files share: task defaults, the Assets between layers, the dbt task groups, and
the Airflow Connection lookup the task bodies use.

Kept out of ``dags/`` so DAG files stay a few lines of orchestration. Importing this module is
cheap; ``dbt_task_group`` imports cosmos only when a DAG file calls it. The only module of the
project that imports Airflow (the CLI never does).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from airflow.sdk import Asset

from pipeline.connections import warehouse_conn_id
from warehouse.dbt import RISK_SCORING_SELECT as RISK_SCORING_SELECT  # the DAG's scoring group
from warehouse.paths import DBT_MANIFEST, DBT_PROJECT_DIR
from warehouse.postgres import session_options

log = logging.getLogger(__name__)


def airflow_connection(conn_id: str):
    """The Airflow Connection ``conn_id`` (any secrets backend), or None when it is not defined."""
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as exc:  # not defined: the caller falls back to the environment rule
        log.debug("no Airflow connection %s (%s)", conn_id, type(exc).__name__)
        return None


def _on_failure(context) -> None:
    from pipeline.alerts import notify_failure
    from pipeline.progress import task_failed

    task_failed(context)  # the progress line first: an alert's webhook may be slow
    notify_failure(context)


def _on_retry(context) -> None:
    from pipeline.progress import task_failed

    task_failed(context, kind="retry")


def default_args(timeout_minutes: int = 60) -> dict:
    """Every task: an owner, retries with exponential backoff, a timeout and a failure alert."""
    return {
        "owner": "data-engineering",
        "retries": int(os.environ.get("POSTSALE_TASK_RETRIES", "2")),
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "execution_timeout": timedelta(minutes=timeout_minutes),
        "on_failure_callback": _on_failure,
        "on_retry_callback": _on_retry,
    }


def raw_asset(source: str, stream: str) -> Asset:
    return Asset(name=f"raw.{source}__{stream}", uri=f"postsale://warehouse/raw/{source}__{stream}")


RAW_VALIDATED = Asset(name="raw.validated", uri="postsale://warehouse/raw/validated")
STAGING_VALIDATED = Asset(name="staging.validated", uri="postsale://warehouse/staging/validated")
MARTS_VALIDATED = Asset(name="marts.validated", uri="postsale://warehouse/marts/validated")


def dbt_task_group(group_id: str, select: list[str], as_of_date: str, exclude: list[str] | None = None):
    """One Airflow task per dbt node (``dbt build`` of the node: its tests run with it), rendered
    by astronomer-cosmos from the compiled manifest (``make manifest``); ``as_of_date`` (templated)
    becomes dbt's var of that name."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

    if not DBT_MANIFEST.exists():
        raise FileNotFoundError(f"{DBT_MANIFEST} is missing: run `make manifest` (dbt parse) first")
    conn = f"conn.{warehouse_conn_id('transformer')}"
    # dbt's profiles.yml reads the warehouse from the environment; fill it from the Airflow
    # Connection at run time (templated), so no credential is rendered into the DAG.
    fields = {
        "WAREHOUSE_HOST": "host",
        "WAREHOUSE_PORT": "port or 5432",
        "WAREHOUSE_USER": "login",
        "WAREHOUSE_PASSWORD": "password or ''",
        "WAREHOUSE_DBNAME": "schema",
    }
    env = {var: "{{ " + f"{conn}.{attr}" + " }}" for var, attr in fields.items()}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    env["PGOPTIONS"] = session_options()  # session settings (JIT off): warehouse/postgres.py
    # Unit tests check the SQL, not the data: they run in CI (`make test`), not in every daily
    # build. They also need an incremental model's table to exist already (`input: this`).
    env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=DBT_MANIFEST),
        profile_config=ProfileConfig(
            profile_name="postsale", target_name="warehouse", profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"
        ),
        # A test on two models (relationships) runs in the task of the model downstream of the
        # other ("buildable": every parent is selected or an ancestor), so it never races the
        # other model's task and needs no task of its own (one Airflow task costs ~1.7 s).
        # tests/pipeline/test_dagbag.py checks that every such test has that model.
        execution_config=ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER, test_indirect_selection=TestIndirectSelection.BUILDABLE
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=select,
            exclude=exclude or [],
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,  # our own Assets mark validated layers, not unvalidated tables
        ),
        operator_args={
            "vars": {"as_of_date": as_of_date},
            "env": env,
            "append_env": True,
            # After each build (failed ones too): one progress line with the node, status, tests.
            "callback": "pipeline.progress.dbt_finished",
        },
        default_args=default_args(timeout_minutes=30),
    )
