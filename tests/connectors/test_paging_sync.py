"""A server paging without end stops the sync with one clear line, after committing what it read."""

from __future__ import annotations

import itertools

import pytest

from connectors import sync
from connectors.hubspot.streams import Associations, Contacts, Owners
from connectors.sync import StreamSyncError, sync_stream
from tests.connectors.conftest import rows
from tests.connectors.fake_apis import FakeClient, FakeSearch


def _owners_forever(token):
    """``/crm/v3/owners`` answering one new owner per page and ``token(n)`` as the next cursor."""
    n = itertools.count(1)

    def answer(method, path, params, body):
        i = next(n)
        return {"results": [{"id": str(i), "type": "PERSON"}], "paging": {"next": {"after": token(i)}}}

    return answer


def test_owners_paging_without_end_stops_at_max_pages_and_commits_what_it_read(fresh_warehouse_url):
    every = getattr(sync, "COMMIT_EVERY_PAGES", 100)
    cap = every + 50
    stream = Owners(FakeClient(_owners_forever(lambda i: f"tok-{i}")), {"max_pages": cap})
    with pytest.raises(StreamSyncError) as err:
        sync_stream(fresh_warehouse_url, stream)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"hubspot.owners: failed at /crm/v3/owners page {cap} ")
    assert f"/crm/v3/owners page {cap + 1} (after='tok-{cap}'): more than max_pages={cap} pages" in msg
    # The pages read before the stop are committed (not one uncommitted transaction), not
    # soft-deleted, and the state did not move: a rerun reads everything again.
    assert rows(fresh_warehouse_url, "select count(*) from raw.hubspot__owners")[0][0] == every
    assert rows(fresh_warehouse_url, "select count(*) from raw._stream_state")[0][0] == 0
    assert rows(fresh_warehouse_url, "select status from raw._sync_runs") == [("failed",)]


def test_associations_repeating_a_token_stop_with_one_clear_line(fresh_warehouse_url):
    def answer(method, path, params, body):
        return {"results": [{"id": "1", "associations": {}}], "paging": {"next": {"after": "NTI1Cg%3D%3D"}}}

    with pytest.raises(StreamSyncError) as err:
        sync_stream(fresh_warehouse_url, Associations(FakeClient(answer)))
    msg = str(err.value)
    assert msg == (
        "hubspot.associations: failed at /crm/v3/objects/companies associations page 2 (after=NTI1Cg%3D%3D): "
        "/crm/v3/objects/companies page 3: the server repeated the cursor after='NTI1Cg%3D%3D' of an earlier page; "
        "stopped instead of paging in a loop"
    )


def test_search_total_goes_to_the_sync_run_log(fresh_warehouse_url):
    records = {i: 1_000 + i % 4 for i in range(1, 31)}
    stream = Contacts(FakeClient(FakeSearch(records)), {"page_size": 7, "discover_properties": False})
    res = sync_stream(fresh_warehouse_url, stream)
    assert res.records == 30
    assert rows(fresh_warehouse_url, "select source_total, status from raw._sync_runs") == [(30, "success")]
