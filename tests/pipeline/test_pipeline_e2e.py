"""The pipeline end to end: `airflow dags test` of postsale_ingest then postsale_transform against
the simulated APIs, as `make demo` runs them."""

from __future__ import annotations

import datetime
import json
import re
import subprocess

import psycopg
import pytest
import requests

from connectors.registry import STREAM_NAMES, raw_tables
from pipeline.progress import read_events
from tests.conftest import HUBSPOT_TOKEN, STRIPE_KEY, VENV_BIN

pytestmark = pytest.mark.slow


def _customers_served(stripe_url: str) -> set[str]:
    """Page the mock directly, independently of the connector, to know what should land."""
    ids, params = set(), {"limit": 100}
    while True:
        body = requests.get(
            f"{stripe_url}/v1/customers", params=params, headers={"Authorization": f"Bearer {STRIPE_KEY}"}, timeout=30
        ).json()
        ids |= {c["id"] for c in body["data"]}
        if not body["has_more"]:
            return ids
        params["starting_after"] = body["data"][-1]["id"]


def _customer_events_replayed(stripe_url: str, lookback_seconds: int = 300) -> int:
    """Customer events an incremental read replays: those within the lookback of the newest event."""
    headers = {"Authorization": f"Bearer {STRIPE_KEY}"}
    newest = requests.get(f"{stripe_url}/v1/events", params={"limit": 1}, headers=headers, timeout=30).json()
    since = newest["data"][0]["created"] - lookback_seconds
    params = {"limit": 100, "created[gte]": since, "type": "customer.*"}
    body = requests.get(f"{stripe_url}/v1/events", params=params, headers=headers, timeout=30).json()
    assert not body["has_more"]
    return sum(e["type"] in ("customer.created", "customer.updated", "customer.deleted") for e in body["data"])


def _run_dag(
    env: dict,
    warehouse_url: str,
    mock_apis,
    key: str,
    tmp_path,
    dag_ids=("postsale_ingest", "postsale_transform"),
    day: str = "2026-11-01",
) -> subprocess.CompletedProcess:
    from simulator.connections import airflow_connections as simulator_connections
    from simulator.connections import alert_webhook_env

    conns = simulator_connections(mock_apis.base_url, {"start_date": "2026-09-01", "window_days": 31})
    conns |= alert_webhook_env(mock_apis.base_url)  # the business alerts go to the simulated Slack webhook
    stripe = json.loads(conns["AIRFLOW_CONN_STRIPE_API"])
    conns["AIRFLOW_CONN_STRIPE_API"] = json.dumps({**stripe, "password": key})
    run_env = {
        **env,
        **conns,
        "WAREHOUSE_URL": warehouse_url,
        "POSTSALE_LOCAL_DIR": str(tmp_path / "local"),
        "AIRFLOW_CONN_POSTSALE_WAREHOUSE": warehouse_url,
        # The demo's progress events (pipeline/progress.py), one file per test.
        "POSTSALE_PROGRESS_FILE": str(tmp_path / "progress.jsonl"),
    }
    out, err = [], []
    for dag_id in dag_ids:
        run = subprocess.run(
            [str(VENV_BIN / "airflow"), "dags", "test", dag_id, day],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        out.append(run.stdout)
        err.append(run.stderr)
        if run.returncode != 0:
            break
    return subprocess.CompletedProcess(run.args, run.returncode, "\n".join(out), "\n".join(err))


def _failure(run: subprocess.CompletedProcess) -> str:
    """What failed, from the alert callback's log lines, then the tail of the output."""
    out = run.stdout + run.stderr
    lines = out.splitlines()
    failed = []
    for i, line in enumerate(lines):
        if "task failed:" in line or "ValidationFailed" in line:
            # The message's own lines follow (e.g. the gate's "  - table: expectation ..." list).
            failed += [line] + [more for more in lines[i + 1 : i + 30] if more.startswith("  - ")]
    return "\n".join(failed[:60]) + "\n---\n" + out[-3000:]


def _count(conn, relation: str) -> int:
    return conn.execute(f"select count(*) from {relation}").fetchone()[0]


def _hubspot_pages(mock_apis, object_type: str, properties: list[str]) -> dict[str, dict]:
    """Every object of a type with the given properties, as the simulated HubSpot serves them."""
    out, after = {}, None
    while True:
        params = {"limit": 100, "properties": ",".join(properties), **({"after": after} if after else {})}
        body = requests.get(
            f"{mock_apis.url('hubspot')}/crm/v3/objects/{object_type}",
            params=params,
            headers={"Authorization": f"Bearer {HUBSPOT_TOKEN}"},
            timeout=30,
        ).json()
        out |= {r["id"]: r["properties"] for r in body["results"]}
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return out


def _crm_snapshot(mock_apis) -> tuple[dict, dict]:
    """Our company properties and every task: what a backfill must leave as it is."""
    from reverse_etl.mapping import OWNED_NAMES

    companies = _hubspot_pages(mock_apis, "companies", sorted(OWNED_NAMES))
    tasks = _hubspot_pages(mock_apis, "tasks", ["postsale_task_key", "hs_task_status", "hs_lastmodifieddate"])
    return companies, tasks


def _tasks_started(run: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"\[DAG TEST\] starting task_id=(\S+)", run.stdout + run.stderr))


def test_pipeline_runs_every_layer_reruns_idempotently_and_stops_on_corrupted_data(
    airflow_home, fresh_warehouse_url, mock_apis, tmp_path
):
    expected = _customers_served(mock_apis.url("stripe"))
    assert len(expected) > 0

    first = _run_dag(airflow_home, fresh_warehouse_url, mock_apis, STRIPE_KEY, tmp_path)
    assert first.returncode == 0, _failure(first)
    assert "the pipeline layer by layer" in first.stdout + first.stderr
    # One progress event per finished task, from the task bodies and cosmos' dbt callback.
    events = read_events(tmp_path / "progress.jsonl")
    extracted = {e["stream"] for e in events if e["kind"] == "extract"}
    assert extracted == {f"{s}.{n}" for s, names in STREAM_NAMES.items() for n in names}
    assert {e["layer"]: e["verdict"] for e in events if e["kind"] == "gate"} == dict.fromkeys(
        ("raw", "staging", "intermediate", "marts"), "passed"
    )
    built = {e["node"]: e["status"] for e in events if e["kind"] == "dbt" and e["node"]}
    assert built.get("stg_stripe__customers") == "success" and built.get("mart_crm_sync") == "success", built
    assert not [e for e in events if e["kind"] == "failed"]

    with psycopg.connect(fresh_warehouse_url) as conn:
        raw_ids = {r[0] for r in conn.execute("select _pk from raw.stripe__customers")}
        assert raw_ids == expected
        assert _count(conn, "staging.stg_stripe__customers") == len(expected)
        latest = dict(
            conn.execute(
                """
                select distinct on (layer) layer, run_id from audit.validation_results order by layer, run_at desc
                """
            ).fetchall()
        )
        assert set(latest) == {"raw", "staging", "intermediate", "marts"}
        failed_critical = conn.execute(
            "select count(*) from audit.validation_results where run_id = any(%s) and not success "
            "and severity = 'critical'",
            (list(latest.values()),),
        ).fetchone()[0]
        assert failed_critical == 0
        runs = conn.execute("select source, stream, status, records from raw._sync_runs").fetchall()
        assert {(r[0], r[1]) for r in runs} == {(s, n) for s, names in STREAM_NAMES.items() for n in names}
        assert all(r[2] == "success" for r in runs)
        assert ("stripe", "customers", "success", len(expected)) in runs
        for table in raw_tables():  # every raw table got rows
            assert _count(conn, f"raw.{table}") > 0, table
        crm_rows = _count(conn, "marts.mart_crm_sync")
        assert crm_rows > 0
        sent = conn.execute("select count(*) from audit.crm_sync_state").fetchone()[0]
        assert sent > 0, "the CRM sync ran after validated marts"

    # The scores are on the simulated HubSpot companies.
    body = requests.post(
        f"{mock_apis.url('hubspot')}/crm/v3/objects/companies/search",
        json={
            "filterGroups": [{"filters": [{"propertyName": "postsale_score_date", "operator": "HAS_PROPERTY"}]}],
            "properties": ["postsale_health_score"],
            "limit": 1,
        },
        headers={"Authorization": f"Bearer {HUBSPOT_TOKEN}"},
        timeout=30,
    ).json()
    assert body["total"] == sent

    # The due playbook steps are HubSpot tasks, one per key, as many as the mart lists.
    with psycopg.connect(fresh_warehouse_url) as conn:
        due = _count(conn, "marts.mart_crm_tasks")
        created = _count(conn, "audit.crm_task_state")
    tasks = _hubspot_pages(mock_apis, "tasks", ["postsale_task_key"])
    assert due > 0 and created == due
    assert len({t["postsale_task_key"] for t in tasks.values()}) == len(tasks) == due

    # Every alert of the day reached the webhook, once.
    with psycopg.connect(fresh_warehouse_url) as conn:
        events = _count(conn, "marts.fct_account_alerts")
        delivered = _count(conn, "audit.alert_deliveries where status = 'sent'")
    messages = mock_apis.slack_messages()
    assert events > 0 and delivered == events == len(messages)

    second = _run_dag(airflow_home, fresh_warehouse_url, mock_apis, STRIPE_KEY, tmp_path, ("postsale_ingest",))
    assert second.returncode == 0, _failure(second)
    with psycopg.connect(fresh_warehouse_url) as conn:
        assert _count(conn, "raw.stripe__customers") == len(expected)
        assert _count(conn, "raw._sync_runs where status = 'success'") == 2 * len(raw_tables())
        # The second run is incremental: Stripe objects come from events, not a second full read.
        # Only the customer events inside the stream's lookback before the watermark are replayed.
        assert _count(conn, "raw.stripe__customers__loads") == len(expected) + _customer_events_replayed(
            mock_apis.url("stripe")
        )

    # A backfill of a past day rebuilds the marts for that day and sends nothing to the CRM.
    before, alerted = _crm_snapshot(mock_apis), len(mock_apis.slack_messages())
    backfill = _run_dag(
        airflow_home, fresh_warehouse_url, mock_apis, STRIPE_KEY, tmp_path, ("postsale_transform",), "2026-10-25"
    )
    assert backfill.returncode == 0, _failure(backfill)
    assert "backfill of 2026-10-25 (the warehouse has scored up to 2026-11-01)" in backfill.stdout + backfill.stderr
    assert _crm_snapshot(mock_apis) == before
    assert len(mock_apis.slack_messages()) == alerted
    with psycopg.connect(fresh_warehouse_url) as conn:
        assert conn.execute("select distinct score_date from marts.mart_crm_sync").fetchall() == [
            (datetime.date(2026, 10, 25),)
        ]
        runs = conn.execute(
            "select target, status from audit.crm_sync_runs where as_of_date = '2026-10-25' order by target"
        ).fetchall()
        assert runs == [("hubspot.companies", "skipped_backfill"), ("hubspot.tasks", "skipped_backfill")]
        # The gates validated the backfilled day.
        assert conn.execute(
            "select distinct as_of_date from audit.validation_results where layer = 'marts' "
            "and run_at = (select max(run_at) from audit.validation_results where layer = 'marts')"
        ).fetchall() == [(datetime.date(2026, 10, 25),)]

    with psycopg.connect(fresh_warehouse_url) as conn:
        # Corrupt one company's scorecard input past its 0-10 range, as a bad CRM edit would.
        bad_pk = conn.execute("select min(_pk) from raw.hubspot__companies").fetchone()[0]
        conn.execute(
            "update raw.hubspot__companies set record = jsonb_set(record, "
            "'{properties,onboarding_score_value}', '\"42\"') where _pk = %s",
            (bad_pk,),
        )
        crm_runs = _count(conn, "audit.crm_sync_runs")
        marts_validations = _count(conn, "audit.validation_results where layer = 'marts'")

    third = _run_dag(airflow_home, fresh_warehouse_url, mock_apis, STRIPE_KEY, tmp_path, ("postsale_transform",))
    out = third.stdout + third.stderr
    assert third.returncode != 0
    # The staging gate stops the run, naming the table, the expectation and the offending row.
    assert "validate_staging failed" in out
    assert "staging.stg_hubspot__companies: expect_scorecard_inputs_0_10" in out
    assert bad_pk in out and "42" in out
    started = _tasks_started(third)
    assert "validate_staging" in started
    downstream = {"validate_intermediate", "validate_marts", "reverse_etl_hubspot", "print_summary"}
    assert not started & downstream, started & downstream
    assert not [t for t in started if t.startswith("dbt_models.")], "marts were built on failed staging"
    with psycopg.connect(fresh_warehouse_url) as conn:
        assert _count(conn, "audit.crm_sync_runs") == crm_runs, "the CRM sync ran on failed validation"
        assert _count(conn, "audit.validation_results where layer = 'marts'") == marts_validations
        failed = conn.execute(
            "select table_name, expectation from audit.validation_results "
            "where layer = 'staging' and not success and severity = 'critical'"
        ).fetchall()
        assert ("staging.stg_hubspot__companies", "expect_scorecard_inputs_0_10") in failed


def test_wrong_credentials_stop_at_extraction(airflow_home, fresh_warehouse_url, mock_apis, tmp_path):
    run = _run_dag(airflow_home, fresh_warehouse_url, mock_apis, "sk_test_wrong", tmp_path, ("postsale_ingest",))
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "stripe: GET /v1/events failed with HTTP 401" in out
    assert "sk_test_wrong" not in out  # the secret never reaches the logs
    with psycopg.connect(fresh_warehouse_url) as conn:
        assert conn.execute(
            "select status from raw._sync_runs where source = 'stripe' and stream = 'customers'"
        ).fetchall() == [("failed",)]
        assert _count(conn, "raw.stripe__customers") == 0
        # Nothing downstream ran: no staging relation, no validation results.
        assert conn.execute("select to_regclass('staging.stg_stripe__customers')").fetchone()[0] is None
        assert conn.execute("select to_regclass('audit.validation_results')").fetchone()[0] is None
