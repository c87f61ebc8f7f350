"""HubSpot's error shapes: the `Error` body of a failed request and the `StandardError`
entries of a 207 multi-status batch response."""

from __future__ import annotations

import json
import uuid

from simulator.server.http import Response


class HubSpotError(Exception):
    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR", **extra: object):
        super().__init__(message)
        self.status, self.message, self.category, self.extra = status, message, category, extra

    def response(self) -> Response:
        body = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
            **self.extra,
        }
        return Response.json(self.status, body)


def standard_error(category: str, message: str, context: dict[str, list[str]]) -> dict:
    """HubSpot's `StandardError` (an entry of a 207 multi-status response)."""
    return {"status": "error", "category": category, "message": message, "context": context, "errors": [], "links": {}}


def not_found(ids: list[str]) -> dict:
    return standard_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some objects, they may be deleted or not exist. Check that ids are valid. ids={ids}",
        {"ids": ids},
    )


def invalid_properties_message(problems: list[dict]) -> str:
    """HubSpot's message for rejected property values: a JSON list of per-property verdicts.

    e.g. `Property values were not valid: [{"isValid":false,"message":"Property \\"x\\" does not
    exist","error":"PROPERTY_DOESNT_EXIST","name":"x","localizedErrorMessage":...}]`.
    """
    return "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))


def property_problem(name: str, error: str, message: str) -> dict:
    return {"isValid": False, "message": message, "error": error, "name": name, "localizedErrorMessage": message}
