"""HubSpot mock, CRM tasks: create (single, batch, upsert), read, update, archive, list, search,
validation errors, the CSM control hooks and persistence across a server restart."""

from __future__ import annotations

import json

import pytest
import requests

from simulator.server import MockApiServer
from simulator.world import generate_world
from tests.conftest import HUBSPOT_TOKEN
from tests.simulator.conftest import AS_OF

SPEC = "tasks.json"
TASKS = "/crm/v3/objects/tasks"
TO_COMPANY = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}]
DUE = "2026-07-15T09:00:00.000Z"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A private world: these tests write tasks, which the shared world must not see."""
    return generate_world(tmp_path_factory.mktemp("tasks_world"), accounts=12, seed=5, as_of=AS_OF)


@pytest.fixture(scope="module")
def srv(world):
    with MockApiServer(world, port=0) as s:
        yield s


@pytest.fixture(scope="module")
def hs(srv):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {HUBSPOT_TOKEN}"
    s.base = srv.url("hubspot")  # type: ignore[attr-defined]
    return s


@pytest.fixture(scope="module")
def companies(hs):
    return [c["id"] for c in hs.get(hs.base + "/crm/v3/objects/companies", params={"limit": 3}).json()["results"]]


@pytest.fixture(scope="module")
def owner(hs):
    return hs.get(hs.base + "/crm/v3/owners", params={"limit": 1}).json()["results"][0]["id"]


def _task(company: str | None = None, **props: str) -> dict:
    inp: dict = {"properties": {"hs_timestamp": DUE, "hs_task_subject": "Renewal prep", **props}}
    if company:
        inp["associations"] = [{"to": {"id": company}, "types": TO_COMPANY}]
    return inp


def _problems(error: dict) -> list[dict]:
    """The per-property verdicts HubSpot encodes as JSON inside its message."""
    prefix = "Property values were not valid: "
    assert error["message"].startswith(prefix), error["message"]
    return json.loads(error["message"][len(prefix) :])


def s_base(session: requests.Session, base: str) -> requests.Session:
    session.base = base  # type: ignore[attr-defined]
    return session


def _create(hs, inp: dict) -> dict:
    r = hs.post(hs.base + TASKS, json=inp)
    assert r.status_code == 201, r.text
    return r.json()


def test_task_properties_are_served(hs, hubspot_schema):
    body = hs.get(hs.base + "/crm/v3/properties/tasks").json()
    hubspot_schema("properties.json", "CollectionResponsePropertyNoPaging", body)
    props = {p["name"]: p for p in body["results"]}
    assert {"hs_timestamp", "hs_task_subject", "hs_task_body", "hs_task_priority", "hs_task_type"} <= set(props)
    assert [o["value"] for o in props["hs_task_status"]["options"]] == [
        "NOT_STARTED",
        "IN_PROGRESS",
        "WAITING",
        "COMPLETED",
        "DEFERRED",
    ]
    assert props["hs_timestamp"]["type"] == "datetime" and props["hubspot_owner_id"]["externalOptions"]


def test_create_one_with_company_association(hs, hubspot_schema, companies, owner):
    body = _create(hs, _task(companies[0], hubspot_owner_id=owner, hs_timestamp="1784106000000"))
    hubspot_schema(SPEC, "SimplePublicObject", body)
    p = body["properties"]
    assert p["hs_object_id"] == body["id"] and p["hs_createdate"] and p["hs_lastmodifieddate"]
    assert p["hs_timestamp"] == "2026-07-15T09:00:00.000Z"  # epoch ms in, ISO out
    assert p["hs_task_status"] == "NOT_STARTED" and p["hubspot_owner_id"] == owner
    assert body["archived"] is False
    got = hs.get(hs.base + f"{TASKS}/{body['id']}", params={"associations": "companies"}).json()
    hubspot_schema(SPEC, "SimplePublicObjectWithAssociations", got)
    assert set(got["properties"]) == {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}  # defaults
    assert got["associations"]["companies"]["results"] == [{"id": companies[0], "type": "task_to_company"}]
    company = hs.get(hs.base + f"/crm/v3/objects/companies/{companies[0]}", params={"associations": "tasks"}).json()
    assert {"id": body["id"], "type": "company_to_task"} in company["associations"]["tasks"]["results"]


@pytest.mark.parametrize(
    ("props", "error", "name"),
    [
        ({"hs_timestamp": None}, "REQUIRED_PROPERTY", "hs_timestamp"),
        ({"no_such_prop": "x"}, "PROPERTY_DOESNT_EXIST", "no_such_prop"),
        ({"hs_task_status": "DONE"}, "INVALID_OPTION", "hs_task_status"),
        ({"hubspot_owner_id": "1"}, "INVALID_OWNER_ID", "hubspot_owner_id"),
        ({"hs_timestamp": "next tuesday"}, "INVALID_DATE", "hs_timestamp"),
        ({"hs_object_id": "5"}, "READ_ONLY_VALUE", "hs_object_id"),
    ],
)
def test_create_rejects_invalid_properties(hs, hubspot_schema, props, error, name):
    inp = _task()
    inp["properties"].update(props)
    inp["properties"] = {k: v for k, v in inp["properties"].items() if v is not None}
    r = hs.post(hs.base + TASKS, json=inp)
    assert r.status_code == 400
    body = r.json()
    hubspot_schema(SPEC, "Error", body)
    assert body["category"] == "VALIDATION_ERROR" and body["status"] == "error"
    assert [(p["error"], p["name"], p["isValid"]) for p in _problems(body)] == [(error, name, False)]
    assert body["context"]["propertyName"] == [name]


def test_create_rejects_bad_associations(hs, hubspot_schema, companies):
    before = hs.post(hs.base + TASKS + "/search", json={"limit": 1}).json()["total"]
    unknown = hs.post(hs.base + TASKS, json=_task("123"))
    assert unknown.status_code == 400 and unknown.json()["category"] == "VALIDATION_ERROR"
    hubspot_schema(SPEC, "Error", unknown.json())
    assert "company with id 123" in unknown.json()["message"]
    wrong_type = _task()
    wrong_type["associations"] = [
        {"to": {"id": companies[0]}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 9999}]}
    ]
    assert hs.post(hs.base + TASKS, json=wrong_type).status_code == 400
    # Nothing half-created.
    assert hs.post(hs.base + TASKS + "/search", json={"limit": 1}).json()["total"] == before


def test_batch_create_limit_and_multi_status(hs, hubspot_schema, companies):
    ok = hs.post(
        hs.base + TASKS + "/batch/create",
        json={"inputs": [_task(companies[0], hs_task_subject=f"t{i}") for i in range(3)]},
    )
    assert ok.status_code == 201, ok.text
    hubspot_schema(SPEC, "BatchResponseSimplePublicObject", ok.json())
    assert [r["properties"]["hs_task_subject"] for r in ok.json()["results"]] == ["t0", "t1", "t2"]
    too_many = hs.post(hs.base + TASKS + "/batch/create", json={"inputs": [_task()] * 101})
    assert too_many.status_code == 400
    hubspot_schema(SPEC, "Error", too_many.json())
    exactly_100 = hs.post(hs.base + TASKS + "/batch/create", json={"inputs": [_task()] * 100})
    assert exactly_100.status_code == 201 and len(exactly_100.json()["results"]) == 100
    hs.post(
        hs.base + TASKS + "/batch/archive", json={"inputs": [{"id": r["id"]} for r in exactly_100.json()["results"]]}
    )
    missing_due = _task()
    del missing_due["properties"]["hs_timestamp"]
    mixed = hs.post(
        hs.base + TASKS + "/batch/create",
        json={
            "inputs": [
                {**_task(companies[1]), "objectWriteTraceId": "good"},
                {**missing_due, "objectWriteTraceId": "no-due"},
                {**_task("123"), "objectWriteTraceId": "no-company"},
            ]
        },
    )
    assert mixed.status_code == 207
    body = mixed.json()
    hubspot_schema(SPEC, "BatchResponseSimplePublicObjectWithErrors", body)
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["good"]
    assert body["numErrors"] == 2
    assert [e["context"]["objectWriteTraceId"] for e in body["errors"]] == [["no-due"], ["no-company"]]
    assert _problems(body["errors"][0])[0]["error"] == "REQUIRED_PROPERTY"


def test_read_update_complete_and_archive(hs, hubspot_schema, companies):
    a, b = (_create(hs, _task(companies[0]))["id"] for _ in range(2))
    read = hs.post(
        hs.base + TASKS + "/batch/read", json={"inputs": [{"id": a}, {"id": "1"}], "properties": ["hs_task_subject"]}
    )
    assert read.status_code == 207
    hubspot_schema(SPEC, "BatchResponseSimplePublicObjectWithErrors", read.json())
    assert [r["id"] for r in read.json()["results"]] == [a]

    patched = hs.patch(hs.base + f"{TASKS}/{a}", json={"properties": {"hs_task_status": "COMPLETED"}})
    assert patched.status_code == 200, patched.text
    hubspot_schema(SPEC, "SimplePublicObject", patched.json())
    got = hs.get(hs.base + f"{TASKS}/{a}", params={"properties": "hs_task_status,hs_task_completion_date"}).json()
    assert got["properties"]["hs_task_status"] == "COMPLETED" and got["properties"]["hs_task_completion_date"]
    bad = hs.patch(hs.base + f"{TASKS}/{a}", json={"properties": {"hs_task_priority": "EXTREME"}})
    assert bad.status_code == 400 and _problems(bad.json())[0]["error"] == "INVALID_OPTION"
    assert hs.patch(hs.base + f"{TASKS}/1", json={"properties": {"hs_task_body": "x"}}).status_code == 404

    upd = hs.post(
        hs.base + TASKS + "/batch/update",
        json={"inputs": [{"id": b, "properties": {"hs_task_priority": "HIGH"}}, {"id": "1", "properties": {}}]},
    )
    assert upd.status_code == 207
    assert upd.json()["results"][0]["properties"]["hs_task_priority"] == "HIGH"

    assert hs.delete(hs.base + f"{TASKS}/{a}").status_code == 204
    assert hs.delete(hs.base + f"{TASKS}/{a}").status_code == 204  # archiving is idempotent
    gone = hs.get(hs.base + f"{TASKS}/{a}")
    assert gone.status_code == 404 and gone.json()["category"] == "OBJECT_NOT_FOUND"
    hubspot_schema(SPEC, "Error", gone.json())
    archived = hs.get(hs.base + f"{TASKS}/{a}", params={"archived": "true"}).json()
    hubspot_schema(SPEC, "SimplePublicObjectWithAssociations", archived)
    assert archived["archived"] is True and archived["archivedAt"]
    assert hs.patch(hs.base + f"{TASKS}/{a}", json={"properties": {"hs_task_body": "x"}}).status_code == 404
    assert hs.post(hs.base + TASKS + "/batch/archive", json={"inputs": [{"id": b}]}).status_code == 204
    live = _all_ids(hs)
    assert a not in live and b not in live
    assert {a, b} <= set(_all_ids(hs, archived="true"))
    search = hs.post(hs.base + TASKS + "/search", json={"limit": 200}).json()
    assert not {a, b} & {r["id"] for r in search["results"]}


def _all_ids(hs, **params) -> list[str]:
    ids, after = [], None
    while True:
        p = {"limit": 7, **params, **({"after": after} if after else {})}
        r = hs.get(hs.base + TASKS, params=p)
        assert r.status_code == 200, r.text
        ids += [o["id"] for o in r.json()["results"]]
        if "paging" not in r.json():
            return ids
        after = r.json()["paging"]["next"]["after"]


def test_list_pages_through_every_live_task(hs, hubspot_schema, companies):
    hs.post(hs.base + TASKS + "/batch/create", json={"inputs": [_task(companies[2]) for _ in range(20)]})
    page = hs.get(hs.base + TASKS, params={"limit": 7, "associations": "companies"}).json()
    hubspot_schema(SPEC, "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging", page)
    assert len(page["results"]) == 7 and page["paging"]["next"]["after"]
    ids = _all_ids(hs)
    total = hs.post(hs.base + TASKS + "/search", json={"limit": 1}).json()["total"]
    assert len(ids) == len(set(ids)) == total >= 20
    assert hs.get(hs.base + TASKS, params={"limit": 101}).status_code == 400


def test_search_by_company_and_properties(hs, hubspot_schema, companies, owner):
    target = companies[1]
    mine = [
        _create(hs, _task(target, hs_task_status=s, hs_timestamp=d, hubspot_owner_id=owner))["id"]
        for s, d in (("WAITING", "2026-08-01"), ("IN_PROGRESS", "2026-07-20"), ("COMPLETED", "2026-07-01"))
    ]
    by_company = {"propertyName": "associations.company", "operator": "EQ", "value": target}
    r = hs.post(
        hs.base + TASKS + "/search",
        json={"filterGroups": [{"filters": [by_company]}], "properties": ["hs_task_status"], "limit": 200},
    )
    assert r.status_code == 200, r.text
    hubspot_schema(SPEC, "CollectionResponseWithTotalSimplePublicObject", r.json())
    linked = {o["id"] for o in r.json()["results"]}
    assert set(mine) <= linked
    assert linked.isdisjoint(
        {
            o["id"]
            for o in hs.post(
                hs.base + TASKS + "/search",
                json={"filterGroups": [{"filters": [{**by_company, "value": companies[2]}]}], "limit": 200},
            ).json()["results"]
        }
    )
    open_ones = hs.post(
        hs.base + TASKS + "/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        by_company,
                        {"propertyName": "hs_task_status", "operator": "IN", "values": ["WAITING", "IN_PROGRESS"]},
                        {"propertyName": "hubspot_owner_id", "operator": "HAS_PROPERTY"},
                        {"propertyName": "hs_timestamp", "operator": "GTE", "value": "2026-07-10T00:00:00Z"},
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_timestamp", "direction": "ASCENDING"}],
            "properties": ["hs_timestamp"],
            "limit": 200,
        },
    ).json()
    assert [o["id"] for o in open_ones["results"]] == [mine[1], mine[0]]
    assert open_ones["total"] == 2
    unknown_assoc = hs.post(
        hs.base + TASKS + "/search",
        json={
            "filterGroups": [{"filters": [{"propertyName": "associations.nothing", "operator": "EQ", "value": "1"}]}]
        },
    )
    assert unknown_assoc.status_code == 400


def test_custom_property_and_upsert(hs, hubspot_schema):
    prop = hs.post(
        hs.base + "/crm/v3/properties/tasks",
        json={
            "name": "postsale_task_key",
            "label": "Postsale task key",
            "type": "string",
            "fieldType": "text",
            "groupName": "postsale",
            "hasUniqueValue": True,
        },
    )
    assert prop.status_code == 201, prop.text
    first = hs.post(
        hs.base + TASKS + "/batch/upsert",
        json={
            "inputs": [{"idProperty": "postsale_task_key", "id": "acct-1:renewal", "properties": _task()["properties"]}]
        },
    )
    assert first.status_code == 200, first.text
    hubspot_schema(SPEC, "BatchResponseSimplePublicUpsertObject", first.json())
    created = first.json()["results"][0]
    assert created["new"] is True and created["properties"]["postsale_task_key"] == "acct-1:renewal"
    again = hs.post(
        hs.base + TASKS + "/batch/upsert",
        json={
            "inputs": [{"idProperty": "postsale_task_key", "id": "acct-1:renewal", "properties": {"hs_task_body": "b"}}]
        },
    ).json()["results"][0]
    assert again["new"] is False and again["id"] == created["id"]
    not_unique = hs.post(
        hs.base + TASKS + "/batch/upsert",
        json={
            "inputs": [
                {"idProperty": "postsale_task_key", "id": "acct-2:renewal", "properties": _task()["properties"]},
                {"idProperty": "hs_task_subject", "id": "x", "properties": {}},
            ]
        },
    )
    assert not_unique.status_code == 400
    hubspot_schema(SPEC, "Error", not_unique.json())
    none = {
        "filterGroups": [
            {"filters": [{"propertyName": "postsale_task_key", "operator": "EQ", "value": "acct-2:renewal"}]}
        ]
    }
    assert hs.post(hs.base + TASKS + "/search", json=none).json()["total"] == 0  # the batch wrote nothing
    found = hs.post(
        hs.base + TASKS + "/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "postsale_task_key", "operator": "EQ", "value": "acct-1:renewal"}]}
            ]
        },
    ).json()
    assert [o["id"] for o in found["results"]] == [created["id"]]


def test_csm_hooks_and_restart_persistence(tmp_path, hubspot_schema):
    world = generate_world(tmp_path / "world", accounts=6, seed=3, as_of=AS_OF)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {HUBSPOT_TOKEN}"
    with MockApiServer(world, port=0) as srv:
        base = srv.url("hubspot")
        company = s.get(base + "/crm/v3/objects/companies", params={"limit": 1}).json()["results"][0]["id"]
        r = s.post(
            base + TASKS + "/batch/create", json={"inputs": [_task(company, hs_task_subject=f"t{i}") for i in range(4)]}
        )
        done, deleted, purged, kept = (o["id"] for o in r.json()["results"])
        control = srv.base_url + "/_control/hubspot/tasks"
        assert requests.post(f"{control}/{done}/complete").status_code == 200
        assert requests.delete(f"{control}/{deleted}").json() == {"id": deleted, "archived": True}
        assert requests.delete(f"{control}/{purged}", params={"purge": "true"}).status_code == 200
        assert requests.post(f"{control}/1/complete").status_code == 404
        assert requests.delete(f"{control}/1").status_code == 404
        s.patch(base + f"{TASKS}/{kept}", json={"properties": {"hs_task_body": "call the champion"}})
        last = _create(s_base(s, base), _task(company, hs_task_subject="written last"))["id"]
    with MockApiServer(world, port=0) as srv:
        base = srv.url("hubspot")
        props = {"properties": "hs_task_status,hs_task_completion_date,hs_task_body,hs_task_subject"}
        got = s.get(base + f"{TASKS}/{done}", params=props).json()
        assert got["properties"]["hs_task_status"] == "COMPLETED" and got["properties"]["hs_task_completion_date"]
        assert s.get(base + f"{TASKS}/{kept}", params=props).json()["properties"]["hs_task_body"] == "call the champion"
        assert s.get(base + f"{TASKS}/{deleted}").status_code == 404
        assert s.get(base + f"{TASKS}/{last}", params=props).json()["properties"]["hs_task_subject"] == "written last"
        assert s.get(base + f"{TASKS}/{deleted}", params={"archived": "true"}).json()["archived"] is True
        assert s.get(base + f"{TASKS}/{purged}", params={"archived": "true"}).status_code == 404
        linked = s.get(base + f"{TASKS}/{kept}", params={"associations": "companies"}).json()
        assert linked["associations"]["companies"]["results"][0]["id"] == company
        fresh = s.post(base + TASKS, json=_task())
        assert int(fresh.json()["id"]) > int(kept)  # ids are never reused, even a purged one's
        assert srv.complete_task(kept) and not srv.delete_task("1")
        # Writes survive time travel too.
        srv.advance(days=3)
        assert s.get(base + f"{TASKS}/{kept}", params=props).json()["properties"]["hs_task_status"] == "COMPLETED"


def test_writes_need_the_token_and_count_against_the_rate_limit(srv, hs, hubspot_schema):
    r = requests.post(srv.url("hubspot") + TASKS, json=_task())
    assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"
    created = hs.post(hs.base + TASKS, json=_task())
    assert created.status_code == 201 and "X-HubSpot-RateLimit-Remaining" in created.headers
    not_json = hs.post(hs.base + TASKS, data=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    hubspot_schema(SPEC, "Error", not_json.json())
    # Only tasks are client-created: the generated objects take updates only.
    assert hs.post(hs.base + "/crm/v3/objects/companies", json={"properties": {"name": "x"}}).status_code == 405
