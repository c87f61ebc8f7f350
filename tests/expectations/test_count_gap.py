"""A record the connector's paging skipped is caught by the raw gate: the source's total for the
window (``raw._sync_runs.source_total``) is more than the distinct keys the run loaded."""

from __future__ import annotations

import psycopg

from expectations.runner import raise_on_failure, validate_layer
from tests.expectations.conftest import execute
from tests.expectations.test_gates import _gate


def test_record_skipped_by_paging_fails_the_raw_gate(warehouse):
    # As the offset walk did: one record never read, so in no load and not in the current state.
    with psycopg.connect(warehouse) as conn:
        pk = conn.execute(
            "select l._pk from raw.hubspot__deals__loads l join raw._sync_runs r on r.sync_id = l._sync_id "
            "where r.stream = 'deals' order by l._pk limit 1"
        ).fetchone()[0]
    execute(
        warehouse,
        "delete from raw.hubspot__deals__loads where _pk = %(pk)s",
        "delete from raw.hubspot__deals where _pk = %(pk)s",
        params={"pk": pk},
    )
    message = _gate("raw", warehouse)
    assert "raw.hubspot__deals: expect_source_total_loaded" in message
    assert "expect_last_sync_rows_present" not in message  # the key check cannot see a key never loaded


def test_rejected_records_count_as_accounted_for(warehouse):
    with psycopg.connect(warehouse) as conn:
        pk = conn.execute("select min(_pk) from raw.hubspot__deals__loads").fetchone()[0]
    execute(
        warehouse,
        "delete from raw.hubspot__deals__loads where _pk = %(pk)s",
        "delete from raw.hubspot__deals where _pk = %(pk)s",
        "update raw._sync_runs set rejected = 1 where stream = 'deals' and source = 'hubspot'",
        params={"pk": pk},
    )
    raise_on_failure(validate_layer("raw", warehouse, build_docs=False))
