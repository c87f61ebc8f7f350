"""Airflow DAG: extract every source stream into the raw schema, then validate the raw layer.

One task per stream; streams of one source run one after another (they share the vendor's
rate limit), sources run in parallel. Each task updates its raw table's Asset; the raw
validation updates ``raw.validated``, which schedules ``postsale_transform``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import TaskGroup, chain, dag, task

from connectors.registry import STREAM_NAMES
from pipeline.orchestration import RAW_VALIDATED, airflow_connection, default_args, raw_asset


@task
def extract_load(source: str, stream: str) -> dict:
    from pipeline.tasks import extract_load

    return extract_load(source, stream, lookup=airflow_connection)


@task(outlets=[RAW_VALIDATED])
def validate_raw() -> dict:
    from pipeline.tasks import validate

    return validate("raw", lookup=airflow_connection)


@dag(
    dag_id="postsale_ingest",
    description="Extract HubSpot, Stripe and Mixpanel into raw tables and validate them.",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["postsale", "ingestion"],
)
def postsale_ingest():
    extracted = []
    for source, streams in STREAM_NAMES.items():
        with TaskGroup(group_id=f"extract_{source}"):
            tasks = [
                extract_load.override(task_id=stream, outlets=[raw_asset(source, stream)])(source, stream)
                for stream in streams
            ]
            chain(*tasks)
            extracted.extend(tasks)
    extracted >> validate_raw()


postsale_ingest()
