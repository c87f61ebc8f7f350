"""Reverse ETL: push the warehouse's verdicts (``marts.mart_crm_sync``) onto HubSpot companies.

Entry points: ``sync_hubspot()`` for the DAG task (returns a JSON-able summary) and
``python -m connectors reverse-etl hubspot [--dry-run] [--force]``. See docs/REVERSE_ETL.md.
Modules: ``mapping`` (what is written), ``settings``, ``gate`` (validation must have passed),
``diff`` (fingerprints), ``properties`` (HubSpot schema), ``push`` (batches, 207 outcomes),
``store`` (warehouse tables), ``sync`` (one run).
"""

from __future__ import annotations


def sync_hubspot(dry_run: bool = False, force: bool = False, **settings) -> dict:
    """Run one HubSpot sync with the runtime's warehouse and ``hubspot_api`` connection."""
    from connectors import runtime
    from connectors.reverse_etl.settings import Settings
    from connectors.reverse_etl.sync import run
    from connectors.sources import build_client

    cfg = Settings.from_env(dry_run=dry_run, force=force, **settings)
    return run(runtime.warehouse_url("transformer"), build_client(runtime.source_config("hubspot")), cfg)
