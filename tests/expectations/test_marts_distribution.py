"""A collapsed mart breaks no row rule; its distribution against the last accepted run stops it."""

from __future__ import annotations

import psycopg
import pytest

from expectations import dbt_project
from expectations.profiles import ACCEPT_ENV, CHECK
from expectations.runner import ValidationFailed, raise_on_failure, validate_layer
from expectations.spec import ident
from tests.expectations.conftest import MARTS_WITH_SUITES, execute

MARTS = MARTS_WITH_SUITES
COMPANIES = 60


@pytest.fixture
def marts(fresh_warehouse_url) -> str:
    """Every mart built empty from its dbt contract, and mart_crm_sync with a spread of scores."""
    statements = ["create schema if not exists marts"]
    for table in MARTS:
        columns = ", ".join(f"{ident(c)} {t}" for c, t in dbt_project.model(table).column_types().items())
        statements.append(f"create table marts.{table} ({columns})")
    execute(fresh_warehouse_url, *statements)
    with psycopg.connect(fresh_warehouse_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into marts.mart_crm_sync (company_id, health_score, health_band) values (%s, %s, %s)",
            [(f"c{i}", s, "green" if s >= 70 else "yellow" if s >= 40 else "red") for i, s in _scores()],
        )
    return fresh_warehouse_url


def _scores() -> list[tuple[int, int]]:
    return [(i, (37 * i) % 101) for i in range(COMPANIES)]


def _profile_failures(outcome) -> list[dict]:
    return [r for r in outcome.rows if r["expectation"] == CHECK and not r["success"]]


def _profiles(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from audit.mart_profiles").fetchone()[0]


def test_collapsed_scores_fail_the_marts_gate(marts, monkeypatch):
    monkeypatch.delenv(ACCEPT_ENV, raising=False)
    first = validate_layer("marts", marts, build_docs=False)
    assert first.success, first.critical_failures  # nothing to compare with: passes, and is recorded
    assert _profiles(marts) == 1

    execute(marts, "update marts.mart_crm_sync set health_score = 0, health_band = 'red'")
    collapsed = validate_layer("marts", marts, build_docs=False)

    (failure,) = _profile_failures(collapsed)
    assert failure["severity"] == "critical" and failure["table_name"] == "marts.mart_crm_sync"
    metrics = {row["metric"] for row in failure["sample_unexpected"]}
    assert {"mean health_score", "red share", "green share"} <= metrics
    with pytest.raises(ValidationFailed, match=CHECK):
        raise_on_failure(collapsed)
    assert _profiles(marts) == 1  # a failed run is no reference

    again = validate_layer("marts", marts, build_docs=False)  # still compared with the accepted run
    assert _profile_failures(again) and not again.success


def test_daily_drift_passes_and_a_real_shift_can_be_accepted(marts, monkeypatch):
    monkeypatch.delenv(ACCEPT_ENV, raising=False)
    assert validate_layer("marts", marts, build_docs=False).success
    # A few points on every score: the bands of a few companies change, nothing collapses.
    execute(
        marts,
        "update marts.mart_crm_sync set health_score = least(health_score + 3, 100)",
        "update marts.mart_crm_sync set health_band = case when health_score >= 70 then 'green' "
        "when health_score >= 40 then 'yellow' else 'red' end",
    )
    assert validate_layer("marts", marts, build_docs=False).success
    # Half the companies leave the mart: a real change, accepted once on purpose.
    execute(marts, "delete from marts.mart_crm_sync where company_id like 'c1%' or company_id like 'c2%'")
    assert not validate_layer("marts", marts, build_docs=False).success
    monkeypatch.setenv(ACCEPT_ENV, "1")
    assert validate_layer("marts", marts, build_docs=False).success
    monkeypatch.delenv(ACCEPT_ENV)
    assert validate_layer("marts", marts, build_docs=False).success  # the accepted run is the new reference
