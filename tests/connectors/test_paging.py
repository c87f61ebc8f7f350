"""Paginators against servers that misbehave: opaque tokens, repeated or endless cursors, and a
record edited between two pages of a CRM search."""

from __future__ import annotations

import itertools

import pytest

from connectors.paginators import HubSpotAfterPaginator, HubSpotSearchKeyset, StripeCursorPaginator
from tests.connectors.fake_apis import FakeClient, FakeSearch

# Many records share a timestamp (bulk updates): 60 records over 13 timestamps.
RECORDS = {i: 1_000 + (i * 7 % 13) * 10 for i in range(1, 61)}


def _walk(search: FakeSearch, page_size: int = 5, ts: int = 0, last_id: int = -1, **kw) -> tuple[list, ...]:
    keyset = HubSpotSearchKeyset(FakeClient(search), "contacts", "lastmodifieddate", ["email"], page_size, **kw)
    ids, positions = [], []
    for kind, *rest in itertools.islice(keyset.read(ts, last_id), 5_000):
        if kind == "page":
            ids += [int(r["id"]) for r in rest[0]]
        elif kind == "position":
            positions.append(tuple(rest))
        else:
            positions.append(("total", rest[0]))
    return ids, [p for p in positions if p[0] != "total"], [p[1] for p in positions if p[0] == "total"]


def test_search_keyset_treats_after_tokens_as_opaque():
    ids, positions, totals = _walk(FakeSearch(RECORDS))
    assert sorted(ids) == sorted(RECORDS) and totals == [len(RECORDS)]
    last = max(RECORDS.values())
    assert positions == sorted(positions) and positions[-1] == (last, max(i for i, m in RECORDS.items() if m == last))


def test_search_keyset_never_skips_a_record_edited_between_pages():
    """An offset walk sorted on the modified date loses one record when another is edited mid-walk."""
    search = FakeSearch(RECORDS, numeric=True)  # numeric tokens: only the edit can go wrong
    first = min(RECORDS, key=lambda i: (RECORDS[i], -i))  # the first record of the first page

    def edit(n: int, body: dict) -> None:
        if n == 3:  # after two pages were read, someone edits a record already read
            search.records[first] = 5_000

    search.before_answer = edit
    ids, positions, _ = _walk(search)
    assert set(ids) == set(RECORDS), f"never read: {sorted(set(RECORDS) - set(ids))}"
    assert positions[-1] == (5_000, first)
    assert ids.count(first) == 2  # read before and after the edit


def test_search_keyset_resumes_inside_a_shared_timestamp():
    ts = 1_060
    done = {i for i, m in RECORDS.items() if m < ts} | {i for i, m in RECORDS.items() if m == ts and i <= 20}
    ids, _, totals = _walk(FakeSearch(RECORDS, numeric=True), ts=ts, last_id=20)
    assert set(ids) == set(RECORDS) - done and len(ids) == len(set(ids))
    assert totals == [len(ids)]  # the window's total, counted once before reading it


def test_search_keyset_stops_when_the_server_ignores_its_position():
    page = {
        "total": 5,
        "results": FakeSearch(RECORDS)(0, "", {}, _body(5))["results"],
        "paging": {"next": {"after": "x"}},
    }
    client = FakeClient(lambda *a: page)
    keyset = HubSpotSearchKeyset(client, "contacts", "lastmodifieddate", [], 5)
    with pytest.raises(RuntimeError, match="did not advance") as err:
        list(itertools.islice(keyset.read(0, -1), 1_000))
    assert "/crm/v3/objects/contacts/search page " in str(err.value)


def test_search_keyset_stops_at_max_pages_naming_endpoint_page_and_cursor():
    with pytest.raises(RuntimeError, match="max_pages=4") as err:
        _walk(FakeSearch(RECORDS), max_pages=4)
    assert "/crm/v3/objects/contacts/search page 5 (lastmodifieddate " in str(err.value)


def test_search_keyset_error_names_endpoint_page_and_cursor():
    search = FakeSearch(RECORDS)

    def answer(*a):
        body = search(*a)
        if search.requests == 3:
            body["results"] = "oops"
        return body

    keyset = HubSpotSearchKeyset(FakeClient(answer), "contacts", "lastmodifieddate", [], 5)
    with pytest.raises(ValueError) as err:
        list(keyset.read(0, -1))
    msg = str(err.value)
    assert "/crm/v3/objects/contacts/search page 3 (lastmodifieddate " in msg and "no results list" in msg


def test_search_keyset_sends_after_as_a_string():
    client = FakeClient(FakeSearch(RECORDS))
    list(HubSpotSearchKeyset(client, "contacts", "lastmodifieddate", [], 5).read(0, -1))
    assert {type(body["after"]) for _, _, _, body in client.calls} == {str}


def _body(limit: int) -> dict:
    return {"filterGroups": [], "sorts": [{"propertyName": "lastmodifieddate"}], "limit": limit}


def _hubspot_list(token: str | None):
    """A list endpoint answering one record per page and ``token(n)`` as the next cursor."""
    n = itertools.count(1)
    return lambda method, path, params, body: (
        lambda i: {"results": [{"id": str(i)}], "paging": {"next": {"after": token(i)}}}
    )(next(n))


@pytest.mark.parametrize("token", ["same", "1"], ids=["opaque", "numeric"])
def test_hubspot_after_paginator_stops_on_a_repeated_token(token):
    client = FakeClient(_hubspot_list(lambda i: token))
    with pytest.raises(RuntimeError, match="repeated the cursor") as err:
        list(itertools.islice(HubSpotAfterPaginator(100).pages(client, "/crm/v3/owners"), 1_000))
    assert str(err.value).startswith(f"/crm/v3/owners page 3: the server repeated the cursor after='{token}'")


def test_hubspot_after_paginator_stops_at_max_pages():
    client = FakeClient(_hubspot_list(lambda i: f"tok{i}"))
    with pytest.raises(RuntimeError, match="more than max_pages=10 pages") as err:
        list(itertools.islice(HubSpotAfterPaginator(100, max_pages=10).pages(client, "/crm/v3/owners"), 1_000))
    assert "/crm/v3/owners page 11 (after='tok10')" in str(err.value)


def _stripe_list(ids):
    return lambda method, path, params, body: {
        "object": "list",
        "has_more": True,
        "data": [{"id": i} for i in ids(params)],
    }


def test_stripe_paginator_stops_on_a_cursor_that_does_not_advance():
    client = FakeClient(_stripe_list(lambda params: ["cus_1", "cus_2"]))  # ignores starting_after
    with pytest.raises(RuntimeError, match="repeated the cursor starting_after='cus_2'"):
        list(itertools.islice(StripeCursorPaginator(2).pages(client, "/v1/customers"), 1_000))


def test_stripe_paginator_stops_at_max_pages():
    n = itertools.count()
    client = FakeClient(_stripe_list(lambda params: [f"cus_{next(n)}"]))
    with pytest.raises(RuntimeError, match="/v1/customers page 8 .*max_pages=7"):
        list(itertools.islice(StripeCursorPaginator(1, max_pages=7).pages(client, "/v1/customers"), 1_000))
