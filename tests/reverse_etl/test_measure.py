"""Requests per changed company on a rerun one simulated day later (the issue's closing number)."""

from __future__ import annotations

import json
import shutil

import pytest

from connectors.config import SourceConfig
from connectors.registry import build_client
from reverse_etl.sync import run
from tests.conftest import TEST_AS_OF
from tests.reverse_etl.conftest import (
    HUBSPOT_TOKEN,
    hubspot_values,
    list_company_ids,
    mart_rows,
    next_day,
    publish,
)

ACCOUNTS = 300


@pytest.fixture
def big_sim(tmp_path_factory):
    from simulator.server import MockApiServer
    from simulator.world import generate_world

    world = generate_world(tmp_path_factory.mktemp("retl_big"), accounts=ACCOUNTS, seed=31, as_of=TEST_AS_OF)
    with MockApiServer(world, host="127.0.0.1", port=0) as srv:
        yield srv
    shutil.rmtree(world, ignore_errors=True)


@pytest.mark.parametrize("every", [10, 2], ids=["a-tenth-changes", "half-changes"])
def test_rerun_after_one_simulated_day(big_sim, settings, fresh_warehouse_url, every, capsys):
    ids = list_company_ids(big_sim)
    client = build_client(SourceConfig("hubspot", big_sim.url("hubspot"), HUBSPOT_TOKEN))
    publish(fresh_warehouse_url, mart_rows(ids))
    run(fresh_warehouse_url, client, settings)

    # A day later: the clock moves, every row gets a new score date and one day less to renewal,
    # and a share of the companies get new scores.
    day = next_day(TEST_AS_OF)
    assert big_sim.advance(days=1) == day
    moved = frozenset(range(0, len(ids), every))
    later = mart_rows(ids, day=day, shifted=moved)
    publish(fresh_warehouse_url, later)

    summary = run(fresh_warehouse_url, client, settings)

    assert summary["changed"] == summary["succeeded"] == len(moved)
    assert summary["requests"] == 1 + -(-len(moved) // 100)  # the property check, then full batches
    held = hubspot_values(big_sim, [ids[i] for i in sorted(moved)][:5])
    assert {v["postsale_score_date"] for v in held.values()} == {day.isoformat()}
    with capsys.disabled():
        print(
            "\nreverse-etl rerun after one day:",
            json.dumps(
                {
                    "companies": len(ids),
                    "changed": len(moved),
                    "requests": summary["requests"],
                    "requests_per_changed_company": round(summary["requests"] / len(moved), 4),
                    "requests_per_100_changed": round(summary["requests"] / (len(moved) / 100), 2),
                    "seconds": summary["seconds"],
                }
            ),
        )
