"""One HTTP server for all vendors: `/stripe/...`, `/hubspot/...`, `/mixpanel/...`, `/_control/...`.

`Router` maps (vendor, method, path regex) to handlers; each vendor API object wraps its
handlers with its own auth and error shapes. The request handler writes responses byte by
byte so that streaming (chunked) bodies and injected faults behave like a real server.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from simulator.server.http import Request, Response

log = logging.getLogger("simulator.server")

# `/_control` moves the world's clock and injects faults. Bound to loopback (the tests, `make
# demo`, deploy/scale_out.py) only this host can reach it and it is open; bound to any other
# address (compose's 0.0.0.0) it needs this token, and without one it is off.
CONTROL_TOKEN_ENV = "SIMULATOR_CONTROL_TOKEN"
CONTROL_TOKEN_HEADER = "x-simulator-control-token"
# Reads that reveal nothing but the simulated date: the compose healthcheck probes the clock.
PUBLIC_CONTROL = {("GET", "/clock")}

Handler = Callable[[Request], Response]


class Router:
    """Regex routes per vendor prefix; first match wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, re.Pattern[str], Handler, Callable[[Request, Handler], Response]]] = []

    def add(
        self, vendor: str, method: str, pattern: str, handler: Handler, wrap: Callable[[Request, Handler], Response]
    ) -> None:
        self._routes.append((vendor, method, re.compile(f"^{pattern}/?$"), handler, wrap))

    def dispatch(self, req: Request) -> Response:
        path_matched = False
        for vendor, method, rx, handler, wrap in self._routes:
            if vendor != req.vendor:
                continue
            m = rx.match(req.path)
            if not m:
                continue
            path_matched = True
            if method != req.method:
                continue
            req.params = m.groupdict()
            return wrap(req, handler)
        return not_found(req, path_matched)


def not_found(req: Request, method_mismatch: bool) -> Response:
    """Vendor-flavoured 404/405 for unknown routes."""
    if req.vendor == "stripe":
        msg = f"Unrecognized request URL ({req.method}: {req.path})."
        return Response.json(404, {"error": {"message": msg, "type": "invalid_request_error"}})
    if req.vendor == "hubspot":
        return Response.json(
            405 if method_mismatch else 404,
            {
                "status": "error",
                "message": f"No route for {req.method} {req.path}",
                "correlationId": "00000000-0000-0000-0000-000000000000",
                "category": "OBJECT_NOT_FOUND",
            },
        )
    return Response.json(404, {"error": f"unknown path {req.path}", "status": "error"})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: MockHTTPServer

    def log_message(self, fmt: str, *args: object) -> None:  # route access logs to logging
        log.debug("%s - %s", self.address_string(), fmt % args)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        segments = parts.path.split("/", 2)  # ["", vendor, rest]
        vendor = segments[1] if len(segments) > 1 else ""
        rest = "/" + segments[2] if len(segments) > 2 else "/"
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            vendor=vendor,
            path=rest,
            raw_query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            denied = self.server.guard_control(req) if vendor == "_control" else None
            resp = denied if denied is not None else self.server.app(req)
        except Exception:  # a bug in a handler must not kill the connection silently
            log.exception("unhandled error for %s %s", self.command, self.path)
            resp = Response.json(500, {"error": {"message": "internal simulator error", "type": "api_error"}})
        self._write(resp)

    def _write(self, resp: Response) -> None:
        self.send_response(resp.status)
        headers = dict(resp.headers)
        declared = headers.pop("X-Simulator-Declared-Length", None)
        for k, v in headers.items():
            self.send_header(k, v)
        if resp.streaming:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for chunk in resp.chunks():
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            except _AbortStream:
                # A fault cut the stream: close without the terminating chunk.
                self.close_connection = True
            return
        body = bytes(resp.body)  # type: ignore[arg-type]
        # A truncation fault declares the full length but sends less, then closes.
        self.send_header("Content-Length", declared or str(len(body)))
        if declared:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _AbortStream(Exception):
    """Raised inside a streaming body to cut the connection mid-stream."""


class MockHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the application callable."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Callable[[Request], Response]):
        self.app = app
        super().__init__(address, _Handler)
        self.control_open = _is_loopback(str(self.server_address[0]))
        self.control_token = os.environ.get(CONTROL_TOKEN_ENV) or None

    def guard_control(self, req: Request) -> Response | None:
        """None when ``req`` may use `/_control`, else the 401/403 to send instead."""
        if self.control_open or (req.method, req.path.rstrip("/") or "/") in PUBLIC_CONTROL:
            return None
        if not self.control_token:
            return Response.json(
                403, {"error": f"/_control is off on a non-loopback address; set {CONTROL_TOKEN_ENV} to enable it"}
            )
        given = req.headers.get(CONTROL_TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.control_token.encode()):
            return Response.json(401, {"error": f"/_control needs the {CONTROL_TOKEN_HEADER} header"})
        return None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


AbortStream = _AbortStream
