"""Mock HubSpot, Stripe and Mixpanel APIs over one generated world, in one process and port.

from simulator.server import MockApiServer
with MockApiServer(world_dir, port=0) as srv:
    requests.get(srv.url("stripe") + "/v1/customers", headers={"Authorization": "Bearer sk_test_postsale_demo"})
"""

from __future__ import annotations

import threading
from pathlib import Path

from simulator.server import hubspot_tasks
from simulator.server.app import MockHTTPServer, Router
from simulator.server.control import ControlApi
from simulator.server.faults import Fault, FaultInjector, parse_faults
from simulator.server.http import Request, Response
from simulator.server.hubspot import HubSpotApi
from simulator.server.mixpanel import MixpanelApi
from simulator.server.slack import PATH as SLACK_WEBHOOK_PATH
from simulator.server.slack import SlackApi
from simulator.server.state import WorldState
from simulator.server.stripe import StripeApi

VENDORS = ("stripe", "hubspot", "mixpanel", "slack")


class Application:
    """The WSGI-free application: routes a `Request` to the vendor APIs."""

    def __init__(self, world_dir: Path, faults: list[Fault] | None = None):
        self.state = WorldState(world_dir)
        self.faults = FaultInjector(faults)
        self.router = Router()
        self.slack = SlackApi(self.state)
        apis = {
            "stripe": StripeApi(self.state),
            "hubspot": HubSpotApi(self.state),
            "mixpanel": MixpanelApi(self.state),
            "slack": self.slack,
        }
        for vendor, api in apis.items():
            for method, pattern, handler in api.routes():
                self.router.add(vendor, method, pattern, handler, api.handle)
        self.control = ControlApi(self.state, self.faults, self.slack)
        for method, pattern, handler in self.control.routes():
            self.router.add("_control", method, pattern, handler, self.control.handle)

    def __call__(self, req: Request) -> Response:
        if req.vendor in VENDORS:
            return self.faults.apply(req, self.router.dispatch)
        return self.router.dispatch(req)


class MockApiServer:
    """Runs the mock APIs in a background thread; usable as a context manager.

    `port=0` picks a free port. `base_url` / `url(vendor)` give the client base URLs.
    """

    def __init__(self, world_dir: Path | str, host: str = "127.0.0.1", port: int = 0, faults: list | None = None):
        self.world_dir = Path(world_dir)
        self.app = Application(self.world_dir, parse_faults(faults) if faults else None)
        self.httpd = MockHTTPServer((host, port), self.app)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, vendor: str) -> str:
        if vendor not in VENDORS:
            raise ValueError(f"unknown vendor {vendor!r}; one of {VENDORS}")
        return f"{self.base_url}/{vendor}"

    def start(self) -> MockApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="mock-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.app.state.close()

    def advance(self, days: int = 1):
        """Move the world's clock forward; returns the new clock date."""
        return self.app.state.advance(days)

    def slack_webhook_url(self) -> str:
        """The simulated Slack incoming webhook's URL (its token is part of it, as with Slack)."""
        return f"{self.url('slack')}{SLACK_WEBHOOK_PATH}"

    def slack_messages(self) -> list[dict]:
        """Every message the simulated Slack webhook accepted, oldest first."""
        return self.app.slack.messages()

    def complete_task(self, task_id: str) -> bool:
        """As a CSM: mark a HubSpot task completed. False when no live task has that id."""
        return hubspot_tasks.complete(self.app.state, str(task_id))

    def delete_task(self, task_id: str, purge: bool = False) -> bool:
        """As a CSM: delete a HubSpot task (archive it; `purge` removes it for good)."""
        if purge:
            return hubspot_tasks.purge(self.app.state, str(task_id))
        return hubspot_tasks.archive(self.app.state, "tasks", str(task_id))

    def set_faults(self, faults: list[dict | Fault]) -> None:
        """Replace the active fault rules (see `simulator.server.faults`)."""
        self.app.faults.set(parse_faults(faults))

    def clear_faults(self) -> None:
        self.app.faults.clear()

    @property
    def clock(self):
        return self.app.state.clock

    def __enter__(self) -> MockApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["MockApiServer", "Application"]
