"""Control endpoints (`/_control/...`) for tests and demos: clock and time travel.

Open when the server is bound to loopback (the default, the tests, `make demo`); on any other
address every route but `GET /clock` needs the `SIMULATOR_CONTROL_TOKEN` token in the
`X-Simulator-Control-Token` header, and is off without one (`MockHTTPServer.guard_control`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from simulator.server.faults import FaultInjector, parse_faults
from simulator.server.http import Request, Response
from simulator.server.state import WorldState


class ControlApi:
    """`GET /_control/clock`, `POST /_control/advance {"days": n}`, `GET|POST|DELETE /_control/faults`."""

    def __init__(self, state: WorldState, faults: FaultInjector):
        self.state = state
        self.faults = faults

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response]]]:
        return [
            ("GET", r"/clock", self.get_clock),
            ("POST", r"/advance", self.advance),
            ("GET", r"/faults", self.get_faults),
            ("POST", r"/faults", self.set_faults),
            ("DELETE", r"/faults", self.clear_faults),
        ]

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
