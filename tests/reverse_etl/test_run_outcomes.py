"""Every run ends with a row that says what happened: outages fail, crashes and refusals are recorded."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import psycopg
import pytest

from reverse_etl import store
from reverse_etl.sync import TARGET, TooManyFailures, run
from tests.reverse_etl.conftest import log_rows, mart_rows, publish


def _runs(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select run_id, status, detail ->> 'error' from audit.crm_sync_runs").fetchall()


def test_an_outage_fails_the_run_and_the_alert_names_share_and_count(client, settings, fresh_warehouse_url):
    from pipeline.alerts import failure_payload

    ghosts = [str(900000000 + i) for i in range(10)]  # no such companies: HubSpot fails every record
    publish(fresh_warehouse_url, mart_rows(ghosts))

    with pytest.raises(TooManyFailures) as raised:
        run(fresh_warehouse_url, client, settings)

    ((run_id, status, error),) = _runs(fresh_warehouse_url)
    assert status == "failed" and "10 of 10" in error
    assert {r[1] for r in log_rows(fresh_warehouse_url, run_id)} == {"failed"}
    ti = SimpleNamespace(dag_id="postsale_transform", task_id="reverse_etl_hubspot", try_number=1, run_id="r")
    text = failure_payload({"ti": ti, "exception": raised.value})["text"]
    assert "10 of 10" in text and "100%" in text and "REVERSE_ETL_MAX_FAILURE_SHARE" in text
    assert not any(g in text for g in ghosts)  # no record contents in an alert

    with pytest.raises(TooManyFailures):  # the task's retry: the outage is not a known bad record
        run(fresh_warehouse_url, client, settings)


def test_a_few_failures_stay_partial(client, company_ids, settings, fresh_warehouse_url):
    publish(fresh_warehouse_url, mart_rows([*company_ids, "999999999"]))
    assert run(fresh_warehouse_url, client, settings)["status"] == "partial"


def test_malformed_answer_is_logged_and_the_run_finished(sim, client, company_ids, settings, fresh_warehouse_url):
    publish(fresh_warehouse_url, mart_rows(company_ids))
    # HubSpot applies the writes, but the 200 answer cannot be parsed.
    sim.set_faults([{"kind": "malformed", "vendor": "hubspot", "path": "/batch/update"}])

    with pytest.raises(TooManyFailures):
        run(fresh_warehouse_url, client, settings)

    ((run_id, status, _),) = _runs(fresh_warehouse_url)
    assert status == "failed"
    logged = log_rows(fresh_warehouse_url, run_id)
    assert len(logged) == len(company_ids) and {r[1] for r in logged} == {"failed"}
    assert "malformed" in logged[0][2]["message"]
    sim.clear_faults()
    # Nothing was accepted, so the next run sends them again (an idempotent update); HubSpot holds
    # our values with no accepted state to compare, so that first sync needs --force.
    assert run(fresh_warehouse_url, client, replace(settings, force=True))["succeeded"] == len(company_ids)


def test_an_unexpected_error_still_finishes_the_run(client, company_ids, settings, fresh_warehouse_url, monkeypatch):
    import reverse_etl.sync as sync

    publish(fresh_warehouse_url, mart_rows(company_ids))

    def boom(*args, **kwargs):
        raise KeyError("unexpected")

    monkeypatch.setattr(sync, "push", boom)
    with pytest.raises(KeyError):
        run(fresh_warehouse_url, client, settings)

    ((run_id, status, error),) = _runs(fresh_warehouse_url)
    assert status == "failed" and "KeyError" in error
    # What was sent before the answer was parsed is in the log, as sent.
    assert {r[1] for r in log_rows(fresh_warehouse_url, run_id)} == {"sent"}


def test_a_killed_run_is_swept_by_the_next(client, company_ids, settings, fresh_warehouse_url):
    publish(fresh_warehouse_url, mart_rows(company_ids))
    with psycopg.connect(fresh_warehouse_url) as conn:  # what kill -9 leaves behind
        store.ensure_tables(conn)
        store.start_run(conn, "reverse-etl-killed", TARGET, False, False)

    run(fresh_warehouse_url, client, settings)

    statuses = {rid: (status, error) for rid, status, error in _runs(fresh_warehouse_url)}
    assert statuses["reverse-etl-killed"][0] == "abandoned" and "ended" in statuses["reverse-etl-killed"][1]
    assert "running" not in {s for s, _ in statuses.values()}


def test_a_refused_concurrent_run_gets_its_row(client, company_ids, settings, fresh_warehouse_url):
    publish(fresh_warehouse_url, mart_rows(company_ids))
    with store.run_lock(fresh_warehouse_url, TARGET), pytest.raises(store.SyncAlreadyRunning):
        run(fresh_warehouse_url, client, settings)

    ((_, status, error),) = _runs(fresh_warehouse_url)
    assert status == "refused" and "already running" in error


def test_dry_run_needs_no_hubspot_credential(fresh_warehouse_url):
    import json
    import os
    import subprocess
    import sys

    from warehouse.paths import PROJECT_ROOT

    ids = [str(500 + i) for i in range(12)]
    publish(fresh_warehouse_url, mart_rows(ids))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "AIRFLOW_CONN_"))}
    env |= {"PYTHONPATH": str(PROJECT_ROOT), "WAREHOUSE_URL": fresh_warehouse_url}
    env |= {"REVERSE_ETL_REQUIRED_LAYERS": "raw,staging,marts", "REVERSE_ETL_FRESH_LAYERS": "marts"}
    cmd = [sys.executable, "-m", "pipeline", "reverse-etl", "hubspot", "--dry-run"]

    dry = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)

    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout[dry.stdout.index("{\n") :])
    assert (summary["status"], summary["changed"], summary["requests"]) == ("dry_run", len(ids), 0)


def test_a_malformed_property_list_is_one_clear_failure(sim, client, company_ids, settings, fresh_warehouse_url):
    from connectors.http_client import SourceHttpError

    publish(fresh_warehouse_url, mart_rows(company_ids))
    sim.set_faults([{"kind": "malformed", "vendor": "hubspot", "path": "^/crm/v3/properties/companies$"}])

    with pytest.raises(SourceHttpError, match="GET /crm/v3/properties/companies.*malformed answer"):
        run(fresh_warehouse_url, client, settings)

    ((_, status, error),) = _runs(fresh_warehouse_url)
    assert status == "failed" and "malformed" in error
