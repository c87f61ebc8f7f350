"""Shared fixtures: small generated worlds and running mock servers (session scoped for speed)."""

from __future__ import annotations

import json
import os
from datetime import date

import jsonschema
import pytest
import requests

from simulator.server import MockApiServer
from simulator.server.auth import DEFAULT_STRIPE_KEY
from simulator.world import generate_world
from tests.conftest import HUBSPOT_TOKEN, MIXPANEL_SECRET, MIXPANEL_USER
from tests.vendor_specs import SPECS_DIR

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory):
    """A stable 40-account world; tests must not move its clock (use `fresh_server`)."""
    return generate_world(tmp_path_factory.mktemp("world"), accounts=40, seed=7, as_of=AS_OF)


@pytest.fixture(scope="session")
def server(world_dir):
    with MockApiServer(world_dir, port=0) as srv:
        yield srv


@pytest.fixture()
def fresh_server(tmp_path):
    """A private 25-account world and server, for tests that write or time-travel."""
    world = generate_world(tmp_path / "world", accounts=25, seed=11, as_of=AS_OF)
    with MockApiServer(world, port=0) as srv:
        yield srv


@pytest.fixture(scope="session")
def stripe(server):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {DEFAULT_STRIPE_KEY}"
    s.base = server.url("stripe")  # type: ignore[attr-defined]
    return s


SPECS = SPECS_DIR


@pytest.fixture(scope="session", autouse=True)
def _relaxed_rate_limits():
    """Vendor rate limits are tested explicitly; elsewhere they would only slow tests down."""
    saved = {k: os.environ.get(k) for k in _LIMIT_ENV}
    os.environ.update(_LIMIT_ENV)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


_LIMIT_ENV = {
    "SIMULATOR_HUBSPOT_SEARCH_RPS": "0",
    "SIMULATOR_HUBSPOT_RATE_LIMIT": "0",
    "SIMULATOR_MIXPANEL_RPS": "0",
    "SIMULATOR_MIXPANEL_HOURLY_LIMIT": "0",
}


@pytest.fixture(scope="session")
def hubspot(server):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {HUBSPOT_TOKEN}"
    s.base = server.url("hubspot")  # type: ignore[attr-defined]
    return s


@pytest.fixture(scope="session")
def mixpanel(server):
    s = requests.Session()
    s.auth = (MIXPANEL_USER, MIXPANEL_SECRET)
    s.base = server.url("mixpanel")  # type: ignore[attr-defined]
    return s


@pytest.fixture(scope="session")
def hubspot_schema():
    """`check(spec_file, schema_name, instance)`: validate against a HubSpot OpenAPI schema.

    One documented deviation from the published spec: property values may be null. Real
    HubSpot returns null for requested properties that have no value, while the spec types
    `properties` values as plain strings.
    """
    cache: dict[str, dict] = {}

    def check(spec_file: str, schema: str, instance: object) -> None:
        if spec_file not in cache:
            spec = json.loads((SPECS / "hubspot" / spec_file).read_text())
            for s in spec["components"]["schemas"].values():
                props = s.get("properties", {}).get("properties")
                if props and props.get("additionalProperties", {}).get("type") == "string":
                    props["additionalProperties"] = {"type": ["string", "null"]}
            cache[spec_file] = spec
        root = {"$ref": f"#/components/schemas/{schema}", "components": cache[spec_file]["components"]}
        jsonschema.Draft7Validator(root).validate(instance)

    return check


@pytest.fixture(scope="session")
def stripe_fixture():
    """`check(resource, obj)`: same keys and JSON types as fixtures3.json's example.

    Keys must match exactly at every level; where both values are non-null their JSON types
    must agree (the fixture fills nullable fields with example values, so null is accepted).
    """
    resources = json.loads((SPECS / "stripe" / "fixtures3.json").read_text())["resources"]

    def kind(v: object) -> str:
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int | float):
            return "number"
        return type(v).__name__

    def compare(ours: object, ref: object, path: str, extra_ok: set[str]) -> None:
        if ours is None or ref is None:
            return
        assert kind(ours) == kind(ref), f"{path}: {kind(ours)} != {kind(ref)}"
        if isinstance(ref, dict) and ref:
            missing, extra = set(ref) - set(ours), set(ours) - set(ref) - extra_ok
            assert not missing and not extra, f"{path}: missing {sorted(missing)}, extra {sorted(extra)}"
            for k in ref:
                if k in ours:
                    compare(ours[k], ref[k], f"{path}.{k}", extra_ok)
        if isinstance(ref, list) and ref and ours:
            compare(ours[0], ref[0], f"{path}[0]", extra_ok)

    def check(resource: str, obj: dict, extra_ok: set[str] | None = None) -> None:
        compare(obj, resources[resource], resource, extra_ok or set())

    return check
