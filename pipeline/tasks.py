"""Task bodies the DAGs (and the CLI) call; each returns a small, JSON-able summary (an XCom).

Each takes the Connection ``lookup`` to read credentials with: the DAGs pass Airflow's
(``pipeline.orchestration.airflow_connection``), the CLI the environment's
(``pipeline.connections.env_connection``). Nothing here imports Airflow.
"""

from __future__ import annotations

from pipeline.connections import Lookup, source_config, warehouse_url


def extract_load(source: str, stream: str, lookup: Lookup, full_refresh: bool = False) -> dict:
    from connectors.sync import run_stream

    res = run_stream(warehouse_url("loader", lookup), source_config(source, lookup), stream, full_refresh)
    return {
        "stream": f"{source}.{stream}",
        "records": res.records,
        "rejected": res.rejected,
        "pages": res.pages,
        "seconds": round(res.seconds, 2),
        "sync_id": res.sync_id,
    }


def validate(layer: str, lookup: Lookup) -> dict:
    """Validate one layer; raise (naming table, expectation, values) when a critical check fails.
    Data Docs are rebuilt once at the end of the DAG, not per layer (it costs 5–15 s each)."""
    from expectations.runner import raise_on_failure, validate_layer

    outcome = validate_layer(layer, warehouse_url("transformer", lookup), build_docs=False)
    raise_on_failure(outcome)
    return {
        "layer": layer,
        "run_id": outcome.run_id,
        "summary": outcome.summary(),
        "seconds": round(outcome.seconds, 2),
    }


def dbt_seed(lookup: Lookup) -> dict:
    """Load every seed and run the seeds' tests (``dbt build`` of the seeds only)."""
    from warehouse.dbt import run_dbt

    nodes = run_dbt(["build", "--select", "resource_type:seed"], warehouse_url("transformer", lookup))
    return {"nodes": len(nodes), "seconds": round(sum(n["seconds"] or 0 for n in nodes), 2)}


def fit_renewal_risk(lookup: Lookup, as_of_date: str, force: bool = False) -> dict:
    """Fit a renewal-risk model version for the run's as-of day when one is due (risk_model)."""
    from datetime import date

    from risk_model.fit import fit_renewal_risk as fit

    return fit(warehouse_url("transformer", lookup), date.fromisoformat(as_of_date), force=force)


def reverse_etl_hubspot(lookup: Lookup, dry_run: bool = False, force: bool = False, **settings) -> dict:
    """One HubSpot sync of ``marts.mart_crm_sync`` with the ``hubspot_api`` Connection.

    A dry run sends no request, so it needs no HubSpot credential: it gets no client at all.
    """
    from connectors.registry import build_client
    from reverse_etl.settings import Settings
    from reverse_etl.sync import run

    cfg = Settings.from_env(dry_run=dry_run, force=force, **settings)
    client = None if dry_run else build_client(source_config("hubspot", lookup))
    return run(warehouse_url("transformer", lookup), client, cfg)


def data_docs() -> str:
    from expectations.runner import build_data_docs

    return str(build_data_docs())


def summary(lookup: Lookup) -> str:
    from pipeline.report import render_report

    return render_report(warehouse_url("transformer", lookup))
