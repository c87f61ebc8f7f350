"""`/_control` outside loopback: off without SIMULATOR_CONTROL_TOKEN, token-only with it."""

from __future__ import annotations

import pytest
import requests

from simulator.server import MockApiServer

HEADER = "X-Simulator-Control-Token"


@pytest.fixture()
def exposed(world_dir, monkeypatch):
    """A server bound to every interface, as in docker-compose.yml; requests go through loopback."""

    def start(token: str | None):
        if token is None:
            monkeypatch.delenv("SIMULATOR_CONTROL_TOKEN", raising=False)
        else:
            monkeypatch.setenv("SIMULATOR_CONTROL_TOKEN", token)
        srv = MockApiServer(world_dir, host="0.0.0.0", port=0).start()
        started.append(srv)
        return f"http://127.0.0.1:{srv.port}/_control", srv

    started: list[MockApiServer] = []
    yield start
    for srv in started:
        srv.stop()


def test_control_is_off_on_a_public_address_without_a_token(exposed):
    base, srv = exposed(None)
    clock = srv.clock
    r = requests.post(base + "/advance", json={"days": 30})
    assert r.status_code == 403 and "SIMULATOR_CONTROL_TOKEN" in r.json()["error"]
    assert requests.post(base + "/faults", json=[{"kind": "rate_limit"}]).status_code == 403
    assert requests.get(base + "/faults").status_code == 403
    assert srv.clock == clock and srv.app.faults.describe() == []
    # The healthcheck's probe stays open: it only reads the simulated date.
    assert requests.get(base + "/clock").status_code == 200


def test_control_on_a_public_address_needs_the_token(exposed):
    base, srv = exposed("s3cret-token")
    assert requests.delete(base + "/faults").status_code == 401
    assert requests.delete(base + "/faults", headers={HEADER: "wrong"}).status_code == 401
    assert requests.delete(base + "/faults", headers={HEADER: "s3cret-token"}).status_code == 200


def test_control_is_open_on_loopback(world_dir, monkeypatch):
    monkeypatch.delenv("SIMULATOR_CONTROL_TOKEN", raising=False)
    with MockApiServer(world_dir, port=0) as srv:
        assert requests.get(srv.base_url + "/_control/faults").status_code == 200
