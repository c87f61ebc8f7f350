"""Airflow DAG: dbt seeds → staging → validate → intermediate and marts → fit renewal risk →
the models that apply it → validate both → CRM sync → CRM tasks, and business alerts beside them.

The CRM steps (reverse ETL to HubSpot, the playbook tasks, the alerts) run only after the marts
passed validation; they check the validation results again themselves, so a manual run cannot
bypass the gate either. A run for a day before the newest scored day (a backfill) rebuilds the
marts for that day and sends nothing to the CRM and no alert.

Scheduled on ``raw.validated`` (a fresh ingestion) or daily at 06:00 UTC, whichever comes
first; the time schedule also makes ``airflow dags backfill`` rebuild the daily marts for past
dates, since the run's logical date becomes dbt's ``as_of_date``. dbt runs one task per model
through astronomer-cosmos; a validation gate stops everything downstream when a critical
expectation fails.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, chain, dag, task, teardown

from pipeline.orchestration import (
    MARTS_VALIDATED,
    RAW_VALIDATED,
    RISK_SCORING_SELECT,
    STAGING_VALIDATED,
    airflow_connection,
    dbt_task_group,
    default_args,
)

# The day the daily marts are computed for (dbt's var as_of_date): the run's logical date, or,
# for a run an Asset event triggered (which has none), the moment it was due to run.
AS_OF_DATE = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%d') }}"


@task
def dbt_seeds() -> dict:
    """All seeds in one task: their tests reference each other, so per-seed tasks would race."""
    from pipeline.tasks import dbt_seed

    return dbt_seed(lookup=airflow_connection)


@task(outlets=[STAGING_VALIDATED])
def validate_staging(as_of_date: str) -> dict:
    from pipeline.tasks import validate

    return validate("staging", lookup=airflow_connection, as_of_date=as_of_date)


@task
def validate_intermediate(as_of_date: str) -> dict:
    from pipeline.tasks import validate

    return validate("intermediate", lookup=airflow_connection, as_of_date=as_of_date)


@task(outlets=[MARTS_VALIDATED])
def validate_marts(as_of_date: str) -> dict:
    from pipeline.tasks import validate

    return validate("marts", lookup=airflow_connection, as_of_date=as_of_date)


@teardown
def build_data_docs() -> str:
    """Render Data Docs whatever happened: a failed validation is exactly when people look.
    A teardown runs after failures too, and does not make a failed run look successful."""
    from pipeline.tasks import data_docs

    return data_docs()


@task
def fit_renewal_risk(as_of_date: str) -> dict:
    """Fit a renewal-risk model version when one is due (weekly by as-of day), before the
    models that apply it are built; ``as_of_date`` is the templated AS_OF_DATE."""
    from pipeline.tasks import fit_renewal_risk

    return fit_renewal_risk(lookup=airflow_connection, as_of_date=as_of_date)


@task
def reverse_etl_hubspot(as_of_date: str) -> dict:
    """Scores, reasons and bands onto the HubSpot companies; nothing on a backfill of a past day."""
    from pipeline.tasks import reverse_etl_hubspot

    return reverse_etl_hubspot(lookup=airflow_connection, as_of_date=as_of_date)


@task
def crm_tasks_hubspot(as_of_date: str) -> dict:
    """The due playbook steps as HubSpot tasks, each once; nothing on a backfill of a past day."""
    from pipeline.tasks import crm_tasks_hubspot

    return crm_tasks_hubspot(lookup=airflow_connection, as_of_date=as_of_date)


@task
def business_alerts(as_of_date: str) -> dict:
    """The day's new business alerts to the webhook, each once; never fails the run for delivery."""
    from pipeline.tasks import business_alerts

    return business_alerts(lookup=airflow_connection, as_of_date=as_of_date)


@task
def print_summary() -> None:
    from pipeline.tasks import summary

    print(summary(lookup=airflow_connection))


@dag(
    dag_id="postsale_transform",
    description="dbt staging and marts with a validation gate after each layer.",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 6 * * *", timezone="UTC"), assets=[RAW_VALIDATED]),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["postsale", "transformation"],
)
def postsale_transform():
    seeds = dbt_seeds()
    # Intermediate and marts share one group: relationship tests between a mart and an
    # intermediate model need both built, and cosmos places such a test in one group only.
    # The models that apply the fitted renewal-risk model build after the fit, in their own
    # group, starting from the staging views of the model tables (a first fit is applied at once).
    scoring = RISK_SCORING_SELECT
    staging = dbt_task_group("dbt_staging", select=["path:models/staging"], exclude=scoring, as_of_date=AS_OF_DATE)
    models = dbt_task_group(
        "dbt_models",
        select=["path:models/intermediate", "path:models/marts", "path:snapshots"],
        exclude=scoring,
        as_of_date=AS_OF_DATE,
    )
    scored = dbt_task_group("dbt_scoring", select=scoring, as_of_date=AS_OF_DATE)
    marts_validated = validate_marts(AS_OF_DATE)
    chain(
        seeds,
        staging,
        validate_staging(AS_OF_DATE),
        models,
        fit_renewal_risk(AS_OF_DATE),
        scored,
        validate_intermediate(AS_OF_DATE),
        marts_validated,
    )
    # The CRM steps one after the other (they share HubSpot's rate limit); the alerts beside them,
    # so a HubSpot outage never holds back the CS channel's alerts.
    crm_tasks = crm_tasks_hubspot(AS_OF_DATE)
    marts_validated >> reverse_etl_hubspot(AS_OF_DATE) >> crm_tasks
    alerts = business_alerts(AS_OF_DATE)
    marts_validated >> alerts
    summary = print_summary()
    [crm_tasks, alerts] >> summary
    summary >> build_data_docs()


postsale_transform()
