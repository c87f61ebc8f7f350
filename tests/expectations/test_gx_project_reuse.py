"""The generated GX project is reused across runs: matching assets are kept, changed ones replaced.

GX rewrites its whole project YAML for every asset it adds, so ``runner._sync_assets`` keeps the
assets that still match. These tests prove what is kept is still right: the same asset (same
id) while its table or query is unchanged, a new one when the events window moves, none for a
table that is gone, and a fresh datasource for another warehouse.
"""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from expectations.runner import _context, raise_on_failure, validate_layer
from tests.expectations.conftest import execute
from warehouse.postgres import WarehouseParams

EVENTS = "staging.staging.stg_mixpanel__events"
USERS = "staging.staging.stg_mixpanel__users"


def _assets(layer: str = "staging") -> dict[str, tuple[str, str | None]]:
    """Asset name → (id, query or None) of the layer's datasource, as stored in the project."""
    ds = _context().data_sources.get(f"warehouse_{layer}")
    return {a.name: (str(a.id), getattr(a, "query", None)) for a in ds.assets}


def test_matching_assets_are_kept_and_a_moved_window_replaces_the_query_asset(warehouse):
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))  # all rows: a table asset
    first = _assets()
    assert first[EVENTS][1] is None
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))  # incremental: a query asset
    second = _assets()
    assert second[EVENTS][1] and "stg_mixpanel__events" in second[EVENTS][1]
    assert second[EVENTS][0] != first[EVENTS][0]
    assert {k: v for k, v in second.items() if k != EVENTS} == {k: v for k, v in first.items() if k != EVENTS}

    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))  # same window: nothing changes
    assert _assets() == second

    # A later event moves the mark (recorded by the next run): the run after it reads a later
    # window, so the events asset is replaced and the rest kept.
    execute(warehouse, "update raw.mixpanel__events set _cursor = _cursor + interval '1 day' where _pk = "
            "(select _pk from raw.mixpanel__events order by _cursor desc, _pk limit 1)")  # fmt: skip
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))
    assert _assets() == second
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))
    moved = _assets()
    assert moved[EVENTS][1] != second[EVENTS][1] and moved[EVENTS][0] != second[EVENTS][0]
    assert moved[USERS] == second[USERS]
    assert _context().variables.config_variables_file_path is None


def test_a_dropped_table_loses_its_asset_and_another_warehouse_gets_a_fresh_datasource(
    warehouse, base_warehouse, warehouse_admin_url
):
    raise_on_failure(validate_layer("staging", warehouse, build_docs=False))
    assert USERS in _assets()
    execute(warehouse, "drop view staging.stg_mixpanel__users cascade")
    outcome = validate_layer("staging", warehouse, build_docs=False)
    assert USERS not in _assets()
    assert "staging.stg_mixpanel__users" in outcome.skipped or not outcome.success

    ids = {v[0] for v in _assets().values()}
    other = f"postsale_gxtest_{uuid.uuid4().hex[:8]}"  # (never validate the shared base itself)
    with psycopg.connect(warehouse_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(other), sql.Identifier(WarehouseParams.from_url(base_warehouse).dbname)))  # fmt: skip
    try:
        raise_on_failure(validate_layer("staging", WarehouseParams.from_url(warehouse_admin_url).url(dbname=other),
                                        build_docs=False))  # fmt: skip
        assert USERS in _assets()
        assert not ids & {v[0] for v in _assets().values()}  # every asset new: another connection
    finally:
        with psycopg.connect(warehouse_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(other)))
