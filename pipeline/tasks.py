"""Task bodies the DAGs (and the CLI) call; each returns a small, JSON-able summary (an XCom).

Each takes the Connection ``lookup`` to read credentials with: the DAGs pass Airflow's
(``pipeline.orchestration.airflow_connection``), the CLI the environment's
(``pipeline.connections.env_connection``). Each also emits one progress event when it ends
(``pipeline.progress``: written only when ``POSTSALE_PROGRESS_FILE`` is set, as in
``make demo``). Nothing here imports Airflow.
"""

from __future__ import annotations

import time

from pipeline.connections import Lookup, source_config, warehouse_url
from pipeline.progress import emit


def extract_load(source: str, stream: str, lookup: Lookup, full_refresh: bool = False) -> dict:
    from connectors.sync import run_stream

    res = run_stream(warehouse_url("loader", lookup), source_config(source, lookup), stream, full_refresh)
    emit("extract", stream=f"{source}.{stream}", rows=res.records, rejected=res.rejected, seconds=res.seconds)
    return {
        "stream": f"{source}.{stream}",
        "records": res.records,
        "rejected": res.rejected,
        "pages": res.pages,
        "seconds": round(res.seconds, 2),
        "sync_id": res.sync_id,
    }


def validate(layer: str, lookup: Lookup, as_of_date: str | None = None) -> dict:
    """Validate one layer; raise (naming table, expectation, values) when a critical check fails.
    Data Docs are rebuilt once at the end of the DAG, not per layer (it costs 5–15 s each).
    ``as_of_date`` (the run's day): a backfill also checks the rows it rebuilt, and the results
    record the day the CRM steps check."""
    from expectations.runner import raise_on_failure, validate_layer

    outcome = validate_layer(layer, warehouse_url("transformer", lookup), build_docs=False, as_of_date=_day(as_of_date))
    emit(
        "gate",
        layer=layer,
        run_id=outcome.run_id,
        verdict="passed" if outcome.success else "failed",
        expectations=len(outcome.rows),
        passed=sum(bool(r["success"]) for r in outcome.rows),
        warnings=len(outcome.warnings),
        critical=len(outcome.critical_failures),
        # Names only (never the sample values the exception quotes): what the demo's line shows.
        failures=[
            {"table": r["table_name"], "column": r["column_name"], "expectation": r["expectation"]}
            for r in outcome.critical_failures[:5]
        ],
        seconds=outcome.seconds,
    )
    raise_on_failure(outcome)
    return {
        "layer": layer,
        "run_id": outcome.run_id,
        "summary": outcome.summary(),
        "seconds": round(outcome.seconds, 2),
    }


def dbt_seed(lookup: Lookup) -> dict:
    """Load every seed and run the seeds' tests (``dbt build`` of the seeds only)."""
    from warehouse.dbt import own_target, run_dbt

    started = time.monotonic()
    url = warehouse_url("transformer", lookup)
    nodes = run_dbt(["build", "--select", "resource_type:seed"], url, target_path=own_target("seeds"))
    seeds = sum(1 for n in nodes if str(n["node"]).startswith("seed."))
    detail = f"{seeds} seeds, {len(nodes) - seeds} tests"
    emit("task", name="dbt seeds", detail=detail, seconds=time.monotonic() - started)
    return {"nodes": len(nodes), "seconds": round(sum(n["seconds"] or 0 for n in nodes), 2)}


def fit_renewal_risk(lookup: Lookup, as_of_date: str, force: bool = False) -> dict:
    """Fit a renewal-risk model version for the run's as-of day when one is due (risk_model)."""
    from datetime import date

    from risk_model.fit import fit_renewal_risk as fit

    started = time.monotonic()
    res = fit(warehouse_url("transformer", lookup), date.fromisoformat(as_of_date), force=force)
    detail = {
        "fitted": f"fitted a version, CV AUC {res.get('cv_auc')}",
        "kept": f"kept the version fitted for {res.get('fitted_for')}",
        "skipped": "not fitted: too few labelled renewals",
    }.get(res.get("status"), str(res.get("status")))
    emit("task", name="renewal-risk model", detail=detail, seconds=time.monotonic() - started)
    return res


def _day(as_of_date: str | None):
    from datetime import date

    return date.fromisoformat(as_of_date) if as_of_date else None


def _hubspot_client(lookup: Lookup, dry_run: bool):
    """The HubSpot client of the ``hubspot_api`` Connection; none for a dry run, which sends nothing."""
    if dry_run:
        return None
    from connectors.registry import build_client

    return build_client(source_config("hubspot", lookup))


def _outward_detail(res: dict, counts: str) -> str:
    """An outward step's progress line: the backfill's reason, or its status and counts."""
    if res.get("status") == "skipped_backfill":
        return res["reason"]
    return f"{res.get('status')}: {counts}"


def reverse_etl_hubspot(
    lookup: Lookup, dry_run: bool = False, force: bool = False, as_of_date: str | None = None, **settings
) -> dict:
    """One HubSpot sync of ``marts.mart_crm_sync`` with the ``hubspot_api`` Connection.

    A dry run sends no request, so it needs no HubSpot credential: it gets no client at all.
    ``as_of_date`` (the run's day): a backfill of a past day sends nothing (reverse_etl.backfill).
    """
    from reverse_etl.settings import Settings
    from reverse_etl.sync import run

    cfg = Settings.from_env(dry_run=dry_run, force=force, **settings)
    res = run(warehouse_url("transformer", lookup), _hubspot_client(lookup, dry_run), cfg, _day(as_of_date))
    counts = (
        f"{res.get('changed', 0)} of {res.get('mart_rows', 0)} companies changed, "
        f"{res.get('succeeded', 0)} updated, {res.get('failed', 0)} failed"
    )
    emit("task", name="CRM sync (HubSpot)", detail=_outward_detail(res, counts), seconds=res.get("seconds"))
    return res


def crm_tasks_hubspot(lookup: Lookup, dry_run: bool = False, as_of_date: str | None = None, **settings) -> dict:
    """Create the HubSpot tasks of the due playbook steps (``marts.mart_crm_tasks``) not created yet."""
    from reverse_etl.crm_tasks import run
    from reverse_etl.settings import Settings

    cfg = Settings.from_env(dry_run=dry_run, **settings)
    res = run(warehouse_url("transformer", lookup), _hubspot_client(lookup, dry_run), cfg, _day(as_of_date))
    counts = (
        f"{res.get('new', 0)} new of {res.get('mart_rows', 0)} due steps, {res.get('succeeded', 0)} tasks created, "
        f"{res.get('failed', 0)} failed, {res.get('requests', 0)} requests"
    )
    emit("task", name="CRM tasks (HubSpot)", detail=_outward_detail(res, counts), seconds=res.get("seconds"))
    return res


def business_alerts(lookup: Lookup, as_of_date: str | None = None, dry_run: bool = False) -> dict:
    """Send the run's new business alerts (``marts.fct_account_alerts``) to the webhook; never raises
    for delivery (a webhook down leaves them for the next run)."""
    from reverse_etl.alerts import AlertSettings, run

    res = run(warehouse_url("transformer", lookup), _day(as_of_date), AlertSettings.from_env(dry_run=dry_run))
    status = res.get("status")
    if status in ("skipped_backfill", "failed") and (res.get("reason") or res.get("error")):
        detail = f"{status}: {res.get('reason') or res.get('error')}"
    else:
        detail = (
            f"{status}: {res.get('new', 0)} new of {res.get('events', 0)} events, {res.get('sent', 0)} sent, "
            f"{res.get('failed', 0)} not delivered ({'digest' if res.get('digest') else 'one message each'})"
        )
    emit("task", name="business alerts", detail=detail, seconds=res.get("seconds"))
    return res


def data_docs() -> str:
    from expectations.runner import build_data_docs

    started = time.monotonic()
    path = str(build_data_docs())
    emit("task", name="GX Data Docs", detail="rebuilt", seconds=time.monotonic() - started)
    return path


def summary(lookup: Lookup) -> str:
    from pipeline.report import render_report

    started = time.monotonic()
    text = render_report(warehouse_url("transformer", lookup))
    emit("task", name="summary", detail="the layers' report, in the task log", seconds=time.monotonic() - started)
    return text
