"""Connector fixtures: a private simulated world per module (tests advance its clock and inject
faults), and source configurations pointing at it."""

from __future__ import annotations

import psycopg
import pytest

from connectors.config import SourceConfig
from tests.conftest import HUBSPOT_TOKEN, MIXPANEL_SECRET, MIXPANEL_USER, STRIPE_KEY, TEST_AS_OF


@pytest.fixture(scope="module")
def sim(tmp_path_factory, monkeypatch_module):
    from simulator.server import MockApiServer
    from simulator.world import generate_world

    # Many syncs in one module: lift Mixpanel's 60 queries/hour cap (our client honours it, see
    # test_faults) so the suite does not wait an hour.
    monkeypatch_module.setenv("SIMULATOR_MIXPANEL_HOURLY_LIMIT", "0")
    world = generate_world(tmp_path_factory.mktemp("cworld"), accounts=25, seed=11, as_of=TEST_AS_OF)
    with MockApiServer(world, host="127.0.0.1", port=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def configs(srv, **settings) -> dict[str, SourceConfig]:
    mix = {"engage_base": srv.url("mixpanel"), "start_date": "2026-08-01", "end_date": TEST_AS_OF.isoformat()}
    return {
        "stripe": SourceConfig("stripe", srv.url("stripe"), STRIPE_KEY, settings=dict(settings.get("stripe", {}))),
        "hubspot": SourceConfig(
            "hubspot", srv.url("hubspot"), HUBSPOT_TOKEN, settings=dict(settings.get("hubspot", {}))
        ),
        "mixpanel": SourceConfig(
            "mixpanel",
            srv.url("mixpanel"),
            MIXPANEL_SECRET,
            MIXPANEL_USER,
            settings={**mix, **settings.get("mixpanel", {})},
        ),
    }


def rows(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def current_state(url: str, table: str) -> dict[str, tuple]:
    """pk -> (record, deleted) of a current-state table, for comparing warehouses."""
    return {pk: (rec, deleted) for pk, rec, deleted in rows(url, f"select _pk, record, _deleted from raw.{table}")}
