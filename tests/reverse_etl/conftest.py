"""Reverse ETL fixtures: a private simulated HubSpot per test, the mart as test data, validation rows.

``marts.mart_crm_sync`` is built by dbt elsewhere; here each test creates it in its fresh
database with the agreed contract (that is test data, not a stand-in for our component). The
validation results are written with ``expectations.audit``, the same writer GX runs use.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import date, timedelta

import psycopg
import pytest
import requests

from connectors.config import SourceConfig
from connectors.registry import build_client
from reverse_etl.mapping import OWNED_NAMES
from reverse_etl.settings import Settings
from tests.conftest import HUBSPOT_TOKEN, TEST_AS_OF

AUTH = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}
ACCOUNTS = 30
LAYERS = ("raw", "staging", "marts")

MART_DDL = """
create schema if not exists marts;
drop table if exists marts.mart_crm_sync;
create table marts.mart_crm_sync (
    company_id            text,
    health_score          numeric(5, 2),
    health_band           text,
    primary_stage         text,
    adoption_tier         text,
    onboarding_score      numeric(4, 1),
    onboarding_status text,
    renewal_risk_score    numeric(5, 2),
    forecast_category text,
    days_to_renewal       integer,
    expansion_signal_type text,
    is_advocacy_candidate boolean,
    health_reasons        text,
    renewal_risk_reasons  text,
    health_coverage_percent integer,
    health_components_used integer,
    previous_health_band  text,
    health_band_changed_date date,
    score_date            date
);
"""
COLUMNS = (
    "company_id health_score health_band primary_stage adoption_tier onboarding_score onboarding_status "
    "renewal_risk_score forecast_category days_to_renewal expansion_signal_type is_advocacy_candidate "
    "health_reasons renewal_risk_reasons health_coverage_percent health_components_used previous_health_band "
    "health_band_changed_date score_date"
).split()
STAGES = ("onboarding", "adoption", "retention", "expansion", "renewal", "advocacy")


@pytest.fixture(scope="module")
def base_world(tmp_path_factory):
    from simulator.world import generate_world

    return generate_world(tmp_path_factory.mktemp("retl_world"), accounts=ACCOUNTS, seed=23, as_of=TEST_AS_OF)


@pytest.fixture
def sim(base_world, tmp_path):
    """A simulator over a private copy of the world: HubSpot writes and faults stay in this test."""
    from simulator.server import MockApiServer

    world = shutil.copytree(base_world, tmp_path / "world")
    with MockApiServer(world, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture
def client(sim):
    """The production HubSpot client (bearer auth, rate limiter, retries) pointed at the simulator."""
    return build_client(SourceConfig("hubspot", sim.url("hubspot"), HUBSPOT_TOKEN))


@pytest.fixture
def company_ids(sim) -> list[str]:
    return list_company_ids(sim)


def list_company_ids(sim) -> list[str]:
    """Every company id the simulated HubSpot serves, paged like any client would."""
    ids, after = [], None
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        body = requests.get(f"{sim.url('hubspot')}/crm/v3/objects/companies", params=params, headers=AUTH).json()
        ids += [r["id"] for r in body["results"]]
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return ids


@pytest.fixture
def settings() -> Settings:
    """Explicit layers, so the tests do not depend on which suites exist in the tree today."""
    return Settings(required_layers=LAYERS, fresh_layers=("marts",))


def mart_row(company_id: str, i: int, day: date = TEST_AS_OF, shift: int = 0) -> dict:
    """Deterministic, contract-valid verdicts for one company; ``shift`` moves its health score."""
    score = (17 * i + shift) % 101
    risk = (100 - score + 3 * i) % 101
    return {
        "company_id": company_id,
        "health_score": f"{score}.50" if score < 100 else "100",
        "health_band": "green" if score >= 70 else "yellow" if score >= 40 else "red",
        "primary_stage": STAGES[i % len(STAGES)],
        "adoption_tier": ("power", "casual", "at_risk", "dormant")[i % 4],
        "onboarding_score": str(i % 11),
        "onboarding_status": ("ready", "close", "not_ready")[i % 3],
        "renewal_risk_score": str(risk),
        "forecast_category": "commit" if risk < 25 else "at_risk" if risk >= 60 else "likely",
        "days_to_renewal": 30 + 11 * i - (day - TEST_AS_OF).days,
        "expansion_signal_type": "seat_limit" if i % 5 == 0 else "none",
        "is_advocacy_candidate": i % 7 == 0,
        # Reasons as int_account_reasons_described words them; some companies have none.
        "health_reasons": (
            f"usage -{score % 40 + 5}% in 28 days; key contact left 2026-10-0{i % 9 + 1}; "
            f"{i % 4 + 1} high-severity tickets in 90 days"
            if score < 70
            else None
        ),
        "renewal_risk_reasons": (
            f"health red ({score}.5); renewal not started, {30 + 11 * i} days left" if risk >= 25 else None
        ),
        "health_coverage_percent": 50 + i % 51,
        "health_components_used": 2 + i % 3,
        "previous_health_band": None if i % 3 == 0 else "yellow" if score >= 70 or score < 40 else "green",
        "health_band_changed_date": None if i % 3 == 0 else TEST_AS_OF - timedelta(days=i + 1),
        "score_date": day,
    }


def mart_rows(ids: list[str], day: date = TEST_AS_OF, shifted: frozenset[int] = frozenset()) -> list[dict]:
    return [mart_row(cid, i, day, 29 if i in shifted else 0) for i, cid in enumerate(ids)]


def write_mart(url: str, rows: list[dict]) -> None:
    write_table(url, MART_DDL, "marts.mart_crm_sync", COLUMNS, rows)


def write_table(url: str, ddl: str, table: str, columns, rows: list[dict]) -> None:
    """(Re)create a mart from its DDL and insert ``rows`` (dicts holding at least ``columns``)."""
    with psycopg.connect(url) as conn:
        conn.execute(ddl)
        if rows:
            with conn.cursor() as cur:
                cur.executemany(
                    f"insert into {table} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})",
                    [tuple(r[c] for c in columns) for r in rows],
                )


def validate(url: str, layers=LAYERS, failing: dict[str, str] | None = None) -> dict[str, str]:
    """Record one validation run per layer; ``failing`` maps a layer to a failed critical expectation."""
    from expectations.audit import write_results

    failing = failing or {}
    run_ids = {}
    with psycopg.connect(url) as conn:
        for layer in layers:
            run_ids[layer] = run_id = f"{layer}-{uuid.uuid4()}"
            rows = [_result(run_id, layer, "expect_table_row_count_to_be_between", None, True)]
            if layer in failing:
                rows.append(_result(run_id, layer, failing[layer], "health_score", False))
            write_results(conn, rows)
    return run_ids


def _result(run_id: str, layer: str, expectation: str, column: str | None, success: bool) -> dict:
    return {
        "run_id": run_id,
        "layer": layer,
        "suite": f"{layer}_suite",
        "table_name": f"{layer}.some_table",
        "expectation": expectation,
        "column_name": column,
        "severity": "critical",
        "success": success,
        "observed_value": None,
        "unexpected_count": 0 if success else 3,
        "sample_unexpected": None if success else [101, 102, 250],
        "kwargs": {},
    }


def publish(url: str, rows: list[dict]) -> None:
    """What the pipeline does before a sync: build the mart, then validate every layer."""
    write_mart(url, rows)
    validate(url)


def hubspot_values(sim, ids: list[str]) -> dict[str, dict]:
    """Our properties as HubSpot holds them, read back through the API."""
    out = {}
    for start in range(0, len(ids), 100):
        body = {"inputs": [{"id": i} for i in ids[start : start + 100]], "properties": sorted(OWNED_NAMES)}
        resp = requests.post(f"{sim.url('hubspot')}/crm/v3/objects/companies/batch/read", json=body, headers=AUTH)
        resp.raise_for_status()
        out |= {r["id"]: {k: r["properties"].get(k) for k in OWNED_NAMES} for r in resp.json()["results"]}
    return out


def log_rows(url: str, run_id: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select object_id, status, error from audit.crm_sync_log where run_id = %s order by object_id", (run_id,)
        ).fetchall()


def next_day(day: date) -> date:
    return day + timedelta(days=1)
