"""One HTTP client for every source: auth, timeouts, retries with backoff, rate limiting, counters.

Shaped after dlt's ``rest_client``: the client knows nothing about any vendor's paging; streams
and paginators build on it. Secrets never reach the logs: only method, path and the names of
query parameters are logged.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceHttpError(RuntimeError):
    """A request failed for good: names the source, the request and the vendor's answer."""

    def __init__(self, source: str, method: str, path: str, status: int | None, detail: str) -> None:
        self.source, self.method, self.path, self.status = source, method, path, status
        where = f"{source}: {method} {path}"
        super().__init__(f"{where} failed" + (f" with HTTP {status}" if status else "") + f": {detail}")


@dataclass
class RequestCounters:
    """Per-stream counters, reported in the sync-run log."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0


class RateLimiter:
    """A token bucket: at most ``rate`` requests per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                time.sleep((1 - self.tokens) / self.rate)


@dataclass
class HttpClient:
    """A ``requests.Session`` with a base URL, auth and a retry policy for one source."""

    source: str
    base_url: str
    auth: requests.auth.AuthBase | None = None
    timeout: tuple[float, float] = (10.0, 120.0)
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    # A server asking us to wait longer than this (Mixpanel's hourly cap) fails the run instead.
    max_retry_after: float = 300.0
    rate_limiter: RateLimiter | None = None
    headers: dict[str, str] = field(default_factory=dict)
    counters: RequestCounters = field(default_factory=RequestCounters)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.auth = self.auth
        self.session.headers.update({"User-Agent": "postsale-connectors/0.1", **self.headers})

    def url(self, path: str) -> str:
        if "://" in path:
            return path
        return urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send one request, retrying 429, 5xx and connection errors; raise SourceHttpError otherwise."""
        kwargs.setdefault("timeout", self.timeout)
        attempt = 0
        while True:
            if self.rate_limiter:
                self.rate_limiter.acquire()
            started = time.monotonic()
            self.counters.requests += 1
            try:
                resp = self.session.request(method, self.url(path), **kwargs)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                # A dropped connection, a timeout or a body cut short are transient: retry.
                self.counters.seconds += time.monotonic() - started
                if attempt >= self.max_retries:
                    raise SourceHttpError(self.source, method, path, None, f"{type(exc).__name__}: {exc}") from exc
                delay = self._backoff(attempt)
            else:
                self.counters.seconds += time.monotonic() - started
                self.counters.bytes += len(resp.content) if not kwargs.get("stream") else 0
                if resp.status_code < 400:
                    return resp
                if resp.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    raise SourceHttpError(self.source, method, path, resp.status_code, _error_detail(resp))
                asked = _retry_after(resp)
                if asked > self.max_retry_after:
                    raise SourceHttpError(
                        self.source,
                        method,
                        path,
                        resp.status_code,
                        f"{_error_detail(resp)} (asked to retry after {asked:.0f}s: rerun later)",
                    )
                delay = max(self._backoff(attempt), asked)
            attempt += 1
            self.counters.retries += 1
            log.warning("%s: %s %s retry %d in %.1fs", self.source, method, path, attempt, delay)
            time.sleep(delay)

    def get(self, path: str, params: dict | None = None, **kwargs) -> requests.Response:
        return self.request("GET", path, params=params, **kwargs)

    def _backoff(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog): spreads retries of parallel workers apart.
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))


def _retry_after(resp: requests.Response) -> float:
    """Seconds the server asked us to wait (``Retry-After`` or HubSpot's interval header)."""
    value = resp.headers.get("Retry-After")
    if value:
        try:
            return float(value)
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    if resp.headers.get("X-HubSpot-RateLimit-Remaining") == "0":
        interval_ms = resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        if interval_ms and interval_ms.isdigit():
            return int(interval_ms) / 1000
    return 0.0


def _error_detail(resp: requests.Response) -> str:
    """The vendor's own error message, trimmed; never the request's headers."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300] or resp.reason
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):  # Stripe
            return f"{err.get('type')}: {err.get('message')}"
        if body.get("message"):  # HubSpot
            return f"{body.get('category') or body.get('errorType') or 'error'}: {body['message']}"
        if isinstance(err, str):  # Mixpanel
            return err
    return str(body)[:300]
