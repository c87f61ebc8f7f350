"""Bad data stops at the layer it enters: ValidationFailed names the table, the expectation and
the offending values; warnings are recorded and do not block; results land in the audit table."""

from __future__ import annotations

import time

import psycopg
import pytest

from expectations.runner import ValidationFailed, data_docs_index, raise_on_failure, validate_layer
from tests.expectations.conftest import execute


def _gate(layer: str, url: str) -> str:
    """Validate ``layer`` like the DAG task does; return the failure message."""
    outcome = validate_layer(layer, url, build_docs=False)
    with pytest.raises(ValidationFailed) as err:
        raise_on_failure(outcome)
    return str(err.value)


def test_clean_world_passes_raw_and_staging(warehouse):
    for layer in ("raw", "staging"):
        started = time.monotonic()
        outcome = validate_layer(layer, warehouse, build_docs=layer == "staging")
        raise_on_failure(outcome)  # no critical failure
        print(f"{outcome.summary()} (wall {time.monotonic() - started:.1f}s)")
        assert len(outcome.rows) > 10
    assert data_docs_index().is_file()
    with psycopg.connect(warehouse) as conn:
        layers = {r[0] for r in conn.execute("select distinct layer from audit.validation_results")}
        assert layers == {"raw", "staging"}
        assert (
            conn.execute("select count(*) from audit.validation_results where observed_value is null").fetchone()[0]
            < conn.execute("select count(*) from audit.validation_results").fetchone()[0]
        )


def test_duplicate_primary_key_in_raw_table_without_constraint(warehouse):
    execute(
        warehouse,
        "alter table raw.stripe__customers drop constraint stripe__customers_pkey",
        "insert into raw.stripe__customers (_pk, _cursor, record, _sync_id) "
        "select _pk, _cursor, record, _sync_id from raw.stripe__customers order by _pk limit 1",
    )
    with psycopg.connect(warehouse) as conn:
        dup = conn.execute("select _pk from raw.stripe__customers order by _pk limit 1").fetchone()[0]
    message = _gate("raw", warehouse)
    assert "raw.stripe__customers: expect_key_unique" in message
    assert dup in message and "'copies': 2" in message


def test_stale_raw_table(warehouse):
    execute(
        warehouse,
        "update raw._sync_runs set finished_at = now() - interval '10 days' "
        "where source = 'stripe' and stream = 'customers'",
    )
    message = _gate("raw", warehouse)
    assert "raw._sync_runs: expect_streams_fresh" in message
    assert "'table_name': 'raw.stripe__customers'" in message
    assert "hubspot__companies" not in message  # only the stale stream is named


def test_rows_of_the_last_sync_missing_from_current_state(warehouse):
    with psycopg.connect(warehouse) as conn:
        pk = conn.execute("select _pk from raw.hubspot__deals order by _pk limit 1").fetchone()[0]
        conn.execute("delete from raw.hubspot__deals where _pk = %s", (pk,))
    message = _gate("raw", warehouse)
    assert "raw.hubspot__deals: expect_last_sync_rows_present" in message and pk in message


def test_null_account_id_stops_staging(warehouse):
    with psycopg.connect(warehouse) as conn:
        pk = conn.execute("select _pk from raw.mixpanel__profiles order by _pk limit 1").fetchone()[0]
        conn.execute(
            "update raw.mixpanel__profiles set record = jsonb_set(record, '{$properties}', "
            "(record -> '$properties') - 'account_id') where _pk = %s",
            (pk,),
        )
    message = _gate("staging", warehouse)
    assert "staging.stg_mixpanel__users: expect_account_id_not_null" in message
    assert "'account_id': None" in message and pk.lower() in message.lower()


def test_out_of_range_score_stops_staging(warehouse):
    with psycopg.connect(warehouse) as conn:
        pk = conn.execute("select _pk from raw.hubspot__companies order by _pk limit 1").fetchone()[0]
        conn.execute(
            "update raw.hubspot__companies set record = jsonb_set(record, "
            "'{properties,onboarding_score_value}', '\"42\"') where _pk = %s",
            (pk,),
        )
    message = _gate("staging", warehouse)
    assert "staging.stg_hubspot__companies: expect_scorecard_inputs_0_10" in message
    assert pk in message and "42" in message


def test_unknown_subscription_status_stops_staging_and_warnings_do_not(warehouse):
    execute(
        warehouse,
        "update raw.stripe__subscriptions set record = jsonb_set(record, '{status}', '\"zombie\"') "
        "where _pk = (select min(_pk) from raw.stripe__subscriptions)",
        # A malformed e-mail is only a warning.
        "update raw.stripe__customers set record = jsonb_set(record, '{email}', '\"not-an-email\"') "
        "where _pk = (select min(_pk) from raw.stripe__customers)",
    )
    outcome = validate_layer("staging", warehouse, build_docs=False)
    assert [r["expectation"] for r in outcome.critical_failures] == ["expect_values_in_set"]
    assert "expect_email_format" in {r["expectation"] for r in outcome.warnings}
    with pytest.raises(ValidationFailed, match=r"stg_stripe__subscriptions.*'value': 'zombie'"):
        raise_on_failure(outcome)


def test_gx_sessions_run_with_the_dbt_session_options(warehouse):
    """GX's engine gets the same session settings as dbt (JIT off), through libpq options."""
    import sqlalchemy as sa

    from expectations.runner import _sqlalchemy_url

    engine = sa.create_engine(_sqlalchemy_url(warehouse))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("show jit")).scalar() == "off"
    finally:
        engine.dispose()
