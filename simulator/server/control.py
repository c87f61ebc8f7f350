"""Control endpoints (`/_control/...`) for tests and demos: clock, time travel, faults, and
what a CSM does by hand in HubSpot (complete or delete a task).

Open when the server is bound to loopback (the default, the tests, `make demo`); on any other
address every route but `GET /clock` needs the `SIMULATOR_CONTROL_TOKEN` token in the
`X-Simulator-Control-Token` header, and is off without one (`MockHTTPServer.guard_control`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from simulator.server import hubspot_tasks
from simulator.server.faults import FaultInjector, parse_faults
from simulator.server.http import Request, Response
from simulator.server.slack import SlackApi
from simulator.server.state import WorldState


class ControlApi:
    """`GET /_control/clock`, `POST /_control/advance {"days": n}`, `GET|POST|DELETE /_control/faults`,
    `POST /_control/hubspot/tasks/{id}/complete`, `DELETE /_control/hubspot/tasks/{id}[?purge=true]`,
    `GET|DELETE /_control/slack/messages` (what the simulated Slack webhook received)."""

    def __init__(self, state: WorldState, faults: FaultInjector, slack: SlackApi):
        self.state = state
        self.faults = faults
        self.slack = slack

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response]]]:
        return [
            ("GET", r"/clock", self.get_clock),
            ("POST", r"/advance", self.advance),
            ("GET", r"/faults", self.get_faults),
            ("POST", r"/faults", self.set_faults),
            ("DELETE", r"/faults", self.clear_faults),
            ("POST", r"/hubspot/tasks/(?P<id>\d+)/complete", self.complete_task),
            ("DELETE", r"/hubspot/tasks/(?P<id>\d+)", self.delete_task),
            ("GET", r"/slack/messages", self.slack_messages),
            ("DELETE", r"/slack/messages", self.clear_slack_messages),
        ]

    def slack_messages(self, req: Request) -> Response:
        return Response.json(200, {"messages": self.slack.messages()})

    def clear_slack_messages(self, req: Request) -> Response:
        return Response.json(200, {"deleted": self.slack.clear()})

    def complete_task(self, req: Request) -> Response:
        """A CSM marks the task completed in HubSpot (status COMPLETED, completion date stamped)."""
        if not hubspot_tasks.complete(self.state, req.params["id"]):
            return Response.json(404, {"error": f"no live task {req.params['id']}"})
        return Response.json(200, {"id": req.params["id"], "hs_task_status": "COMPLETED"})

    def delete_task(self, req: Request) -> Response:
        """A CSM deletes the task: archived (HubSpot's recycle bin), or gone for good with `purge=true`."""
        oid = req.params["id"]
        if (req.arg("purge") or "false").lower() == "true":
            if not hubspot_tasks.purge(self.state, oid):
                return Response.json(404, {"error": f"no task {oid}"})
            return Response.json(200, {"id": oid, "purged": True})
        if not hubspot_tasks.archive(self.state, "tasks", oid):
            return Response.json(404, {"error": f"no live task {oid}"})
        return Response.json(200, {"id": oid, "archived": True})

    def get_faults(self, req: Request) -> Response:
        return Response.json(200, {"faults": self.faults.describe()})

    def set_faults(self, req: Request) -> Response:
        self.faults.set(parse_faults(req.json()))
        return Response.json(200, {"faults": self.faults.describe()})

    def clear_faults(self, req: Request) -> Response:
        self.faults.clear()
        return Response.json(200, {"faults": []})

    def handle(self, req: Request, handler: Callable[[Request], Response]) -> Response:
        try:
            return handler(req)
        except (ValueError, TypeError, json.JSONDecodeError) as e:
            return Response.json(400, {"error": str(e)})

    def _clock_body(self) -> dict:
        return {
            "clock": self.state.clock.isoformat(),
            "as_of": self.state.as_of.isoformat(),
            "horizon_end": self.state.horizon_end.isoformat(),
        }

    def get_clock(self, req: Request) -> Response:
        self.state.sync()
        return Response.json(200, self._clock_body())

    def advance(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise ValueError('body must be a JSON object like {"days": 1}')
        days = body.get("days", 1)
        if not isinstance(days, int):
            raise TypeError("days must be an integer")
        self.state.advance(days)
        return Response.json(200, self._clock_body())
