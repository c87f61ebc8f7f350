"""The init SQL on a real server: who can read and write which layer, as each component's role.

`deploy/postgres/initdb.d/10-postsale.sh` runs exactly as the postgres container runs it, with
unique database and role names (fixture `deployment` in conftest.py).
"""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import errors

from tests.deploy.conftest import Deployment

DENIED = (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)


def _run(dep: Deployment, component: str, statement: str, dbname: str | None = None) -> list[tuple]:
    with psycopg.connect(dep.url(component, dbname), autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


def _denied(dep: Deployment, component: str, statement: str) -> None:
    with pytest.raises(DENIED):
        _run(dep, component, statement)


def test_login_roles_are_unprivileged_and_have_passwords(deployment, warehouse_admin_url):
    with psycopg.connect(warehouse_admin_url) as conn:
        rows = conn.execute(
            "select rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolpassword is not null "
            "from pg_authid where rolname = any(%s)",
            (deployment.roles,),
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(deployment.roles)
    assert all(r[1:] == (True, False, False, False, True) for r in rows), rows


def test_loader_writes_raw_and_nothing_else(deployment):
    _run(deployment, "loader", "create table raw.l_events (id int); insert into raw.l_events values (1)")
    _run(deployment, "loader", "update raw.l_events set id = 2")
    for stmt in [
        "create table marts.l_x (id int)",
        "create table staging.l_x (id int)",
        "create table public.l_x (id int)",
    ]:
        _denied(deployment, "loader", stmt)


def test_transformer_reads_raw_and_writes_every_model_layer(deployment):
    _run(deployment, "loader", "create table raw.t_customers (id int); insert into raw.t_customers values (7)")
    # A table loader created after the init ran: readable through loader's default privileges.
    assert _run(deployment, "transformer", "select id from raw.t_customers") == [(7,)]
    for layer in ("staging", "intermediate", "marts", "snapshots", "audit"):
        _run(deployment, "transformer", f"create table {layer}.t_model as select 1 as id")
    _denied(deployment, "transformer", "insert into raw.t_customers values (8)")
    _denied(deployment, "transformer", "create table raw.t_x (id int)")


def test_bi_reader_reads_marts_only_even_after_dbt_rebuilds_them(deployment):
    # dbt's table materialization: build a new relation, swap it in by rename, drop the old one.
    _run(deployment, "transformer", "create table marts.health as select 1 as score")
    _run(
        deployment,
        "transformer",
        "create table marts.health__dbt_tmp as select 2 as score; "
        "alter table marts.health rename to health__dbt_backup; "
        "alter table marts.health__dbt_tmp rename to health; drop table marts.health__dbt_backup",
    )
    assert _run(deployment, "bi_reader", "select score from health") == [(2,)]  # search_path = marts
    _denied(deployment, "bi_reader", "insert into marts.health values (3)")
    # Not only the read-only default: the privilege itself is missing.
    read_write = "set session characteristics as transaction read write; "
    _denied(deployment, "bi_reader", read_write + "delete from marts.health")
    _denied(deployment, "bi_reader", read_write + "create table marts.x (i int)")
    _run(deployment, "loader", "create table raw.b_secret (id int)")
    _run(deployment, "transformer", "create table staging.b_model as select 1 as id")
    _denied(deployment, "bi_reader", "select * from raw.b_secret")
    _denied(deployment, "bi_reader", "select * from staging.b_model")
    _denied(deployment, "loader", "select * from marts.health")


def test_owner_objects_follow_the_same_rules(deployment):
    """The transitional single Connection (owner) leaves objects the component roles can use."""
    _run(deployment, "owner", "create table raw.o_loaded as select 1 as id")
    _run(deployment, "owner", "create table marts.o_mart as select 1 as id")
    assert _run(deployment, "transformer", "select id from raw.o_loaded") == [(1,)]
    assert _run(deployment, "bi_reader", "select id from marts.o_mart") == [(1,)]


def test_the_code_paths_idempotent_ddl_works_as_the_component_roles(deployment):
    """`create schema if not exists` (connectors, GX audit) needs the database's CREATE privilege."""
    from connectors.schema import ensure_meta_tables
    from expectations.audit import DDL as AUDIT_DDL

    with psycopg.connect(deployment.url("loader")) as conn:
        ensure_meta_tables(conn)
    with psycopg.connect(deployment.url("transformer")) as conn:
        conn.execute(AUDIT_DDL)
    assert _run(deployment, "transformer", "select count(*) from raw._sync_runs") == [(0,)]


def test_metadata_and_warehouse_databases_are_separated(deployment):
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        _run(deployment, "airflow", "select 1")  # Airflow's role cannot reach the warehouse
    for component in ("loader", "transformer", "bi_reader", "owner"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            _run(deployment, component, "select 1", dbname=deployment.airflow_db)
    assert _run(deployment, "airflow", "select current_database()", dbname=deployment.airflow_db) == [
        (deployment.airflow_db,)
    ]


def test_init_is_idempotent_and_rotates_passwords(deployment, warehouse_admin_url):
    def hash_of(role: str) -> str:
        with psycopg.connect(warehouse_admin_url) as conn:
            return conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()[0]

    before = hash_of(deployment.role("loader"))
    deployment.passwords["loader"] = "rotated-" + deployment.passwords["loader"]
    res = deployment.run_init()
    assert res.returncode == 0, res.stderr
    assert hash_of(deployment.role("loader")) != before
    _run(deployment, "loader", "create table raw.i_after_rerun (id int)")


def test_placeholder_passwords_are_refused(warehouse_admin_url):
    dep = Deployment(warehouse_admin_url, passwords={"transformer": "change-me-transformer"})
    try:
        res = dep.run_init()
        assert res.returncode != 0
        assert "WAREHOUSE_TRANSFORMER_PASSWORD still has its .env.example placeholder" in res.stderr
        with psycopg.connect(warehouse_admin_url) as conn:
            created = conn.execute("select count(*) from pg_roles where rolname = any(%s)", (dep.roles,)).fetchone()
        assert created == (0,)
    finally:
        dep.drop()


@pytest.mark.slow
def test_pipeline_runs_under_the_component_roles(deployment, mock_apis, tmp_path, monkeypatch):
    """The real connector as loader, dbt and the GX gates as transformer: the grants fit the code."""
    from connectors.registry import STREAMS
    from connectors.sync import run_stream
    from expectations.runner import validate_layer
    from pipeline.connections import source_config
    from simulator.connections import airflow_connections as simulator_connections
    from warehouse.dbt import run_dbt

    monkeypatch.setenv("POSTSALE_LOCAL_DIR", str(tmp_path / "local"))
    # run_dbt exports the profile's WAREHOUSE_* variables into os.environ; monkeypatch undoes it.
    for var in ("WAREHOUSE_HOST", "WAREHOUSE_PORT", "WAREHOUSE_USER", "WAREHOUSE_PASSWORD", "WAREHOUSE_DBNAME"):
        monkeypatch.setenv(var, "")

    # Every stream synced as loader, as the ingest DAG does: the raw gate wants them all fresh.
    for var, value in simulator_connections(
        mock_apis.base_url, {"start_date": "2026-09-01", "window_days": 31}
    ).items():
        monkeypatch.setenv(var, value)
    loaded = {}
    for source, streams in STREAMS.items():
        cfg = source_config(source)
        for name in streams:
            loaded[(source, name)] = run_stream(deployment.url("loader"), cfg, name).records
    assert loaded[("stripe", "customers")] > 0
    raw = validate_layer("raw", deployment.url("transformer"), build_docs=False)
    assert raw.success, [
        (r["table_name"], r["expectation"], r["observed_value"], r["sample_unexpected"]) for r in raw.critical_failures
    ]
    run_dbt(
        ["build", "--select", "staging", "--vars", json.dumps({"as_of_date": "2026-11-01"})],
        deployment.url("transformer"),
        target_path=tmp_path / "dbt-target",
    )
    staging = validate_layer("staging", deployment.url("transformer"), build_docs=False)
    assert staging.success, staging.critical_failures
    staged = _run(deployment, "transformer", "select count(*) from staging.stg_stripe__customers")
    assert staged == [(loaded[("stripe", "customers")],)]
    _denied(deployment, "bi_reader", "select count(*) from staging.stg_stripe__customers")
