"""Reverse ETL: push the warehouse's verdicts (``marts.mart_crm_sync``) onto HubSpot companies.

``sync.run`` is one run; ``pipeline.tasks.reverse_etl_hubspot`` (the DAG task) and
``postsale reverse-etl hubspot [--dry-run] [--force]`` call it. See docs/REVERSE_ETL.md.
Modules: ``mapping`` (what is written), ``settings``, ``gate`` (validation must have passed),
``diff`` (fingerprints), ``properties`` (HubSpot schema), ``push`` (batches, 207 outcomes),
``store`` (warehouse tables), ``sync`` (one run). It reuses the connectors' HTTP client and
HubSpot client (auth, rate limit, retries): one HTTP client for both directions.
"""
