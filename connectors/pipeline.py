"""Task bodies the DAGs call: each returns a small, JSON-able summary (it becomes an XCom)."""

from __future__ import annotations

from connectors import runtime


def extract_load(source: str, stream: str, full_refresh: bool = False) -> dict:
    from connectors.sync import run_stream

    res = run_stream(runtime.warehouse_url("loader"), runtime.source_config(source), stream, full_refresh)
    return {
        "stream": f"{source}.{stream}",
        "records": res.records,
        "rejected": res.rejected,
        "pages": res.pages,
        "seconds": round(res.seconds, 2),
        "sync_id": res.sync_id,
    }


def validate(layer: str) -> dict:
    """Validate one layer; raise (naming table, expectation, values) when a critical check fails.
    Data Docs are rebuilt once at the end of the DAG, not per layer (it costs 5–15 s each)."""
    from expectations.runner import raise_on_failure, validate_layer

    outcome = validate_layer(layer, runtime.warehouse_url("transformer"), build_docs=False)
    raise_on_failure(outcome)
    return {
        "layer": layer,
        "run_id": outcome.run_id,
        "summary": outcome.summary(),
        "seconds": round(outcome.seconds, 2),
    }


def dbt_seed() -> dict:
    """Load every seed and run the seeds' tests (``dbt build`` of the seeds only)."""
    from connectors.transform import run_dbt

    nodes = run_dbt(["build", "--select", "resource_type:seed"], runtime.warehouse_url("transformer"))
    return {"nodes": len(nodes), "seconds": round(sum(n["seconds"] or 0 for n in nodes), 2)}


def data_docs() -> str:
    from expectations.runner import build_data_docs

    return str(build_data_docs())


def summary() -> str:
    from connectors.report import render_report

    return render_report(runtime.warehouse_url("transformer"))
