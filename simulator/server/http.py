"""Minimal request/response types shared by the vendor handlers.

The servers are plain `http.server` (no framework) so that faults can misbehave at the byte
level: truncated bodies, malformed JSON, slow streams and exact vendor headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs


@dataclass
class Request:
    """An incoming request, path already stripped of the vendor prefix."""

    method: str
    vendor: str
    path: str  # e.g. "/v1/customers"
    raw_query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    query: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # path parameters from the route

    def __post_init__(self) -> None:
        self.query = parse_qs(self.raw_query, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> object:
        return json.loads(self.body or b"null")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    """A response; `body` is bytes, or an iterator of byte chunks for streaming."""

    status: int
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, bytes | bytearray)

    def chunks(self) -> Iterator[bytes]:
        if self.streaming:
            yield from self.body  # type: ignore[misc]
        else:
            yield bytes(self.body)  # type: ignore[arg-type]
