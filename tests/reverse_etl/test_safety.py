"""Reverse ETL's safety rules: the change guardrail, the first-sync rule, dry run, the validation
gate, and writing nothing but its own properties."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests

from reverse_etl.gate import ValidationGateClosed
from reverse_etl.mapping import OWNED_NAMES, PROPERTIES
from reverse_etl.sync import GuardrailTripped, run
from tests.reverse_etl.conftest import (
    AUTH,
    HUBSPOT_TOKEN,
    hubspot_values,
    mart_rows,
    publish,
    validate,
    write_mart,
)
from warehouse.paths import PROJECT_ROOT


def _run_statuses(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [s for (s,) in conn.execute("select status from audit.crm_sync_runs order by started_at")]


def test_guardrail_trips_on_a_mass_change_and_force_passes(sim, client, company_ids, settings, fresh_warehouse_url):
    from dataclasses import replace

    publish(fresh_warehouse_url, mart_rows(company_ids))
    run(fresh_warehouse_url, client, settings)
    synced = hubspot_values(sim, company_ids)
    most = frozenset(range(0, len(company_ids) * 2 // 3))  # two thirds change: more than the 50 % limit
    publish(fresh_warehouse_url, mart_rows(company_ids, shifted=most))
    before = client.counters.requests

    share = f"{len(most) / len(company_ids):.0%}"
    with pytest.raises(GuardrailTripped, match=rf"{len(most)} of {len(company_ids)} companies \({share}\)"):
        run(fresh_warehouse_url, client, settings)

    assert client.counters.requests - before == 1  # the property list only: no write
    assert hubspot_values(sim, company_ids) == synced
    forced = run(fresh_warehouse_url, client, replace(settings, force=True))
    assert (forced["status"], forced["sent"]) == ("succeeded", len(most))
    assert _run_statuses(fresh_warehouse_url) == ["succeeded", "refused", "succeeded"]
    # A looser limit passes the same change without --force.
    publish(fresh_warehouse_url, mart_rows(company_ids))
    loose = run(fresh_warehouse_url, client, replace(settings, max_change_share=0.8))
    assert loose["sent"] == len(most)
    # Every health score drifting a point (a normal day) is sent, and is not a mass change.
    drift = [{**r, "health_score": str(max(0.0, float(r["health_score"]) - 1))} for r in mart_rows(company_ids)]
    publish(fresh_warehouse_url, drift)
    daily = run(fresh_warehouse_url, client, settings)
    assert (daily["status"], daily["material_change_share"]) == ("succeeded", 0)
    assert daily["sent"] == sum(float(r["health_score"]) > 0 for r in mart_rows(company_ids))


def test_first_sync_over_existing_values_needs_force(sim, client, company_ids, settings, fresh_warehouse_url):
    from dataclasses import replace

    publish(fresh_warehouse_url, mart_rows(company_ids))
    run(fresh_warehouse_url, client, settings)
    with psycopg.connect(fresh_warehouse_url) as conn:  # the warehouse loses its sync state
        conn.execute("truncate audit.crm_sync_state")
    validate(fresh_warehouse_url)

    with pytest.raises(GuardrailTripped, match=f"{len(company_ids)} HubSpot companies already carry"):
        run(fresh_warehouse_url, client, settings)
    assert run(fresh_warehouse_url, client, replace(settings, force=True))["succeeded"] == len(company_ids)


def test_dry_run_sends_no_request_and_reports_the_diff(sim, client, company_ids, settings, fresh_warehouse_url):
    from dataclasses import replace

    publish(fresh_warehouse_url, mart_rows(company_ids))
    dry = replace(settings, dry_run=True, sample_size=3)

    summary = run(fresh_warehouse_url, client, dry)

    assert client.counters.requests == 0
    assert (summary["status"], summary["changed"], summary["first_sync"]) == ("dry_run", len(company_ids), True)
    assert len(summary["sample"]) == 3 and summary["sample"][0]["changes"]["postsale_health_band"] == [None, "red"]
    # HubSpot has not even seen the property definitions.
    assert (
        requests.get(
            f"{sim.url('hubspot')}/crm/v3/properties/companies/postsale_health_score", headers=AUTH
        ).status_code
        == 404
    )

    run(fresh_warehouse_url, client, settings)
    publish(fresh_warehouse_url, mart_rows(company_ids, shifted=frozenset(range(20))))
    synced, requests_before = hubspot_values(sim, company_ids), client.counters.requests

    summary = run(fresh_warehouse_url, client, dry)

    assert client.counters.requests == requests_before
    assert hubspot_values(sim, company_ids) == synced
    assert summary["guardrail"].startswith(f"would abort: 20 of {len(company_ids)} companies")
    before, after = summary["sample"][0]["changes"]["postsale_health_score"]
    assert before != after
    with psycopg.connect(fresh_warehouse_url) as conn:
        assert conn.execute(
            "select count(*) from audit.crm_sync_log l join audit.crm_sync_runs r using (run_id) where r.dry_run"
        ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("failing", "layers", "message"),
    [
        ({"staging": "expect_column_values_to_be_between"}, ("raw", "staging", "marts"), "staging: latest run"),
        ({}, ("raw", "marts"), "staging: never validated"),
    ],
    ids=["failed-critical-expectation", "layer-never-validated"],
)
def test_validation_failure_blocks_the_sync(
    sim, client, company_ids, settings, fresh_warehouse_url, failing, layers, message
):
    write_mart(fresh_warehouse_url, mart_rows(company_ids))
    validate(fresh_warehouse_url, layers=layers, failing=failing)

    with pytest.raises(ValidationGateClosed, match=message) as err:
        run(fresh_warehouse_url, client, settings)

    if failing:
        assert "health_score: expect_column_values_to_be_between" in str(err.value)
    assert client.counters.requests == 0
    assert _run_statuses(fresh_warehouse_url) == ["refused"]
    assert all(v is None for props in hubspot_values(sim, company_ids).values() for v in props.values())


def test_a_later_passing_run_reopens_the_gate_but_a_rebuilt_mart_closes_it(
    client, company_ids, settings, fresh_warehouse_url
):
    write_mart(fresh_warehouse_url, mart_rows(company_ids))
    validate(fresh_warehouse_url, failing={"marts": "expect_column_values_to_be_between"})
    with pytest.raises(ValidationGateClosed, match="marts: latest run"):
        run(fresh_warehouse_url, client, settings)
    validate(fresh_warehouse_url)
    assert run(fresh_warehouse_url, client, settings)["status"] == "succeeded"

    # The mart changes after its validation (a rebuild, a manual fix): the old verdict no longer covers it.
    with psycopg.connect(fresh_warehouse_url) as conn:
        conn.execute("update marts.mart_crm_sync set health_score = 55 where company_id = %s", (company_ids[0],))
    with pytest.raises(ValidationGateClosed, match="older than marts.mart_crm_sync"):
        run(fresh_warehouse_url, client, settings)
    validate(fresh_warehouse_url, layers=("marts",))
    assert run(fresh_warehouse_url, client, settings)["sent"] == 1


def test_writes_only_its_own_properties(sim, client, company_ids, settings, fresh_warehouse_url):
    from simulator.world.crm_schema import PROPERTIES as SOURCE_PROPERTIES

    # The names never collide with a property the connectors read (onboarding_status is a CS input).
    assert not OWNED_NAMES & {p[0] for p in SOURCE_PROPERTIES["companies"]}
    others = ["name", "domain", "onboarding_status", "customer_status", "csm_risk_flag", "hs_lastmodifieddate"]
    body = {"inputs": [{"id": i} for i in company_ids], "properties": others}
    read = f"{sim.url('hubspot')}/crm/v3/objects/companies/batch/read"
    before = {r["id"]: r["properties"] for r in requests.post(read, json=body, headers=AUTH).json()["results"]}
    publish(fresh_warehouse_url, mart_rows(company_ids))

    run(fresh_warehouse_url, client, settings)

    after = {r["id"]: r["properties"] for r in requests.post(read, json=body, headers=AUTH).json()["results"]}
    strip = lambda d: {i: {k: v for k, v in p.items() if k != "hs_lastmodifieddate"} for i, p in d.items()}  # noqa: E731
    assert strip(after) == strip(before)
    with psycopg.connect(fresh_warehouse_url) as conn:
        sent = {k for (k,) in conn.execute("select distinct jsonb_object_keys(properties) from audit.crm_sync_log")}
    assert sent == {p.name for p in PROPERTIES}


def _printed_summary(stdout: str) -> dict:
    # Importing Airflow (for its Connections) routes log lines to stdout: the summary is the JSON block.
    return json.loads(stdout[stdout.index("{\n") :])


def test_command_line(sim, company_ids, fresh_warehouse_url):
    write_mart(fresh_warehouse_url, mart_rows(company_ids))
    validate(fresh_warehouse_url, failing={"raw": "expect_column_values_to_not_be_null"})
    env = {
        **os.environ,
        "WAREHOUSE_URL": fresh_warehouse_url,
        "HUBSPOT_API_BASE": sim.url("hubspot"),
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "REVERSE_ETL_REQUIRED_LAYERS": "raw,staging,marts",
        "REVERSE_ETL_FRESH_LAYERS": "marts",
    }
    cmd = [str(Path(sys.executable).parent / "postsale"), "reverse-etl", "hubspot"]

    refused = subprocess.run([*cmd, "--dry-run"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert refused.returncode == 1 and "raw: latest run" in refused.stderr

    validate(fresh_warehouse_url)
    dry = subprocess.run([*cmd, "--dry-run"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert _printed_summary(dry.stdout)["changed"] == len(company_ids)

    real = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    assert _printed_summary(real.stdout)["succeeded"] == len(company_ids)


def test_a_deploy_adding_properties_fills_them_without_force(
    sim, client, company_ids, settings, fresh_warehouse_url, monkeypatch
):
    """An existing deployment synced before the reason properties were mapped: the next run
    changes every company (new fingerprints) but only fills properties no company carried, so
    the guardrail lets it through; a mass change of a property they did carry still trips it."""
    from reverse_etl import diff, properties

    added = ("health_reasons", "renewal_risk_reasons", "health_coverage_percent", "health_components_used",
             "previous_health_band", "health_band_changed_date")  # fmt: skip
    before_deploy = tuple(p for p in PROPERTIES if p.column not in added)
    monkeypatch.setattr(diff, "PROPERTIES", before_deploy)
    monkeypatch.setattr(properties, "PROPERTIES", before_deploy)
    publish(fresh_warehouse_url, mart_rows(company_ids))
    old = run(fresh_warehouse_url, client, settings)
    assert old["status"] == "succeeded" and "postsale_health_reasons" not in old["properties"]["created"]
    monkeypatch.undo()

    deployed = run(fresh_warehouse_url, client, settings)

    counts = (deployed["status"], deployed["changed"], deployed["sent"])
    assert counts == ("succeeded", len(company_ids), len(company_ids))
    assert deployed["material_change_share"] == 0
    assert sorted(deployed["properties"]["created"]) == sorted(p.name for p in PROPERTIES if p.column in added)
    held = hubspot_values(sim, company_ids)
    assert sum(v["postsale_health_reasons"] is not None for v in held.values()) > 0
    assert run(fresh_warehouse_url, client, settings)["sent"] == 0

    # The same deploy on a day most scores also moved: judged on what the companies carried.
    with psycopg.connect(fresh_warehouse_url) as conn:  # back to the state before the deploy
        conn.execute(
            "update audit.crm_sync_state set properties = properties - %s::text[], fingerprint = 'before-the-deploy'",
            ([p.name for p in PROPERTIES if p.column in added],),
        )
    most = frozenset(range(0, len(company_ids) * 2 // 3))
    publish(fresh_warehouse_url, mart_rows(company_ids, shifted=most))
    with pytest.raises(GuardrailTripped, match=f"{len(most)} of {len(company_ids)} companies"):
        run(fresh_warehouse_url, client, settings)
