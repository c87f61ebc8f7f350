"""The init SQL on a real server: who can read and write which layer, as each component's role.

`deploy/postgres/initdb.d/10-postsale.sh` runs exactly as the postgres container runs it, with
unique database and role names (fixture `deployment` in conftest.py).
"""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import errors, sql

from tests.deploy.conftest import Deployment
from warehouse.postgres import WarehouseParams

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


def test_loader_writes_rows_in_raw_and_nothing_else(deployment):
    """The raw tables exist from the init on (raw_tables.sql); loader fills them."""
    _run(deployment, "loader", "insert into raw._stream_state values ('l', 'events', '{}', gen_random_uuid())")
    _run(deployment, "loader", "update raw._stream_state set state = '{\"n\": 1}' where source = 'l'")
    _run(deployment, "loader", "create temporary table l_buffer (id int)")  # append loads buffer in one
    for stmt in [
        "create table raw.l_x (id int)",
        "create table marts.l_x (id int)",
        "create table staging.l_x (id int)",
        "create table public.l_x (id int)",
        "create schema l_x",
        "delete from raw._stream_state",
        "truncate raw._stream_state",
    ]:
        _denied(deployment, "loader", stmt)


def _admin(dep: Deployment) -> psycopg.Connection:
    """The superuser, in the deployment's warehouse database."""
    return psycopg.connect(WarehouseParams.from_url(dep.admin_url).url(dbname=dep.warehouse_db), autocommit=True)


def _as_raw_owner(dep: Deployment, statement: str) -> None:
    """What a re-run of the init does for a new stream: DDL as the raw owner."""
    with _admin(dep) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(dep.raw_owner)))
        conn.execute(statement)


def test_transformer_reads_raw_and_writes_every_model_layer(deployment):
    _run(
        deployment,
        "loader",
        "insert into raw._sync_runs (sync_id, source, stream, status) "
        "values (gen_random_uuid(), 't', 'customers', 'success')",
    )
    assert _run(deployment, "transformer", "select stream from raw._sync_runs where source = 't'") == [("customers",)]
    # A table created after the init (a new stream): readable and writable through default privileges.
    _as_raw_owner(deployment, "create table raw.t_customers (id int)")
    _run(deployment, "loader", "insert into raw.t_customers values (7)")
    assert _run(deployment, "transformer", "select id from raw.t_customers") == [(7,)]
    for layer in ("staging", "intermediate", "marts", "snapshots", "audit"):
        _run(deployment, "transformer", f"create table {layer}.t_model as select 1 as id")
    _denied(deployment, "transformer", "insert into raw.t_customers values (8)")
    _denied(deployment, "transformer", "create table raw.t_x (id int)")


def test_loader_cannot_make_transformer_run_its_code(deployment):
    """A table's owner can attach code that runs as whoever reads the table: a row-security
    policy calling its own function. As raw's owner, loader could make transformer (which reads
    raw) forge a validation result or rewrite a mart. Every step of that is denied."""
    from connectors.schema import ensure_meta_tables

    with psycopg.connect(deployment.url("loader")) as conn:
        ensure_meta_tables(conn)  # as the connector does first (it created raw's tables before)
        conn.execute(
            "insert into raw._sync_runs (sync_id, source, stream, status) "
            "values (gen_random_uuid(), 'e', 'stream', 'success')"
        )
    _run(deployment, "transformer", "create table marts.e_health as select 1 as score")
    forge = (
        "create function {schema}.e_forge() returns boolean language plpgsql as "
        "$$ begin execute 'update marts.e_health set score = 100'; return true; end $$"
    )
    attempts = [
        forge.format(schema="raw"),
        forge.format(schema="public"),
        "create schema e_evil",
        "alter table raw._sync_runs enable row level security",
        "create policy e_forge on raw._sync_runs using (raw.e_forge())",
        "create view raw.e_view as select 1 as one",
        "create table raw.e_x (id int)",
    ]
    allowed = []
    for stmt in attempts:
        try:
            _run(deployment, "loader", stmt)
            allowed.append(stmt)
        except DENIED:
            pass
    _run(deployment, "transformer", "select count(*) from raw._sync_runs")  # what the raw gate does
    assert _run(deployment, "transformer", "select score from marts.e_health") == [(1,)], "loader's code ran"
    assert allowed == []
    with _admin(deployment) as conn:
        owners = conn.execute(
            "select distinct r.rolcanlogin from pg_class c join pg_roles r on r.oid = c.relowner "
            "where c.relnamespace = 'raw'::regnamespace union "
            "select r.rolcanlogin from pg_namespace n join pg_roles r on r.oid = n.nspowner where n.nspname = 'raw'"
        ).fetchall()
    assert owners == [(False,)], "raw and its tables belong to a role nobody logs in as"


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
    _run(deployment, "transformer", "create table staging.b_model as select 1 as id")
    _denied(deployment, "bi_reader", "select * from raw._sync_runs")
    _denied(deployment, "bi_reader", "select * from staging.b_model")
    _denied(deployment, "loader", "select * from marts.health")


def test_bi_reader_reads_the_reports_audit_tables_only(deployment):
    """Reports show the latest validations and the scores' accuracy; the rest of audit stays closed."""
    from expectations.audit import DDL as AUDIT_DDL

    _run(deployment, "transformer", AUDIT_DDL)  # the gates' own DDL finds the table in place
    assert _run(deployment, "bi_reader", "select count(*) from audit.validation_results") == [(0,)]
    assert _run(deployment, "bi_reader", "select count(*) from audit.score_accuracy") == [(0,)]
    _denied(deployment, "bi_reader", "select * from audit.validation_marks")
    _denied(deployment, "bi_reader", "insert into audit.score_accuracy (metric) values ('x')")


def test_owner_objects_follow_the_same_rules(deployment):
    """The transitional single Connection (owner) leaves objects the component roles can use."""
    _run(deployment, "owner", "create table raw.o_loaded as select 1 as id")
    _run(deployment, "owner", "create table marts.o_mart as select 1 as id")
    assert _run(deployment, "transformer", "select id from raw.o_loaded") == [(1,)]
    assert _run(deployment, "bi_reader", "select id from marts.o_mart") == [(1,)]


def test_the_code_paths_idempotent_ddl_works_as_the_component_roles(deployment):
    """GX's `create schema if not exists` needs transformer's CREATE on the database; the
    connectors, as loader, find raw's tables provisioned and create nothing."""
    from connectors.schema import ensure_meta_tables
    from expectations.audit import DDL as AUDIT_DDL

    with psycopg.connect(deployment.url("loader")) as conn:
        ensure_meta_tables(conn)
    with psycopg.connect(deployment.url("transformer")) as conn:
        conn.execute(AUDIT_DDL)
    assert _run(deployment, "transformer", "select count(*) from raw._sync_runs where source = 'none'") == [(0,)]


def test_the_connectors_name_a_missing_raw_table(deployment):
    from connectors.schema import ensure_stream_tables

    with psycopg.connect(deployment.url("loader")) as conn:
        with pytest.raises(
            RuntimeError, match=r"^raw\.new__stream does not exist and role loader_\w+ may not create it"
        ):
            ensure_stream_tables(conn, "new__stream", "merge")


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
    _run(deployment, "loader", "insert into raw._stream_state values ('i', 'rerun', '{}', gen_random_uuid())")


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
    # loader owns no raw table, yet each sync that loaded rows leaves the planner statistics
    # the transform plans from (through raw.analyze_table: deploy/postgres/sql/warehouse.sql).
    never_analyzed = _run(
        deployment,
        "transformer",
        "select relname from pg_stat_user_tables where schemaname = 'raw' and last_analyze is null",
    )
    assert {f"{s}__{n}" for (s, n), records in loaded.items() if records} & {r[0] for r in never_analyzed} == set()
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


def test_a_rerun_takes_raw_back_from_a_loader_that_owned_it(warehouse_admin_url):
    """A warehouse initialised before the raw owner existed: loader owned raw and had CREATE."""
    dep = Deployment(warehouse_admin_url)
    try:
        assert dep.run_init().returncode == 0
        loader = sql.Identifier(dep.role("loader"))
        with _admin(dep) as conn:  # the old layout
            conn.execute(sql.SQL("alter schema raw owner to {}").format(loader))
            conn.execute(sql.SQL("alter table raw._sync_runs owner to {}").format(loader))
            conn.execute(sql.SQL("grant create on database {} to {}").format(sql.Identifier(dep.warehouse_db), loader))
        _run(dep, "loader", "alter table raw._sync_runs enable row level security")
        _run(dep, "loader", "create policy r_forge on raw._sync_runs using (true)")
        res = dep.run_init()
        assert res.returncode == 0, res.stderr
        with _admin(dep) as conn:
            row = conn.execute(
                "select c.relowner::regrole::text, c.relrowsecurity, n.nspowner::regrole::text, "
                "(select count(*) from pg_policy where polrelid = c.oid) "
                "from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = 'raw._sync_runs'::regclass"
            ).fetchone()
        assert row == (dep.raw_owner, False, dep.raw_owner, 0)
        _denied(dep, "loader", "create schema r_evil")
    finally:
        dep.drop()
