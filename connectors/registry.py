"""The one catalogue of sources and their streams, and the factories that build them.

Each vendor subpackage (``hubspot``, ``stripe``, ``mixpanel``) declares its ``STREAMS`` and its
``client``; everything else (the DAGs' tasks, the CLI, the raw tables) is derived from here.
"""

from __future__ import annotations

from types import ModuleType

from connectors import hubspot, mixpanel, stripe
from connectors.config import SourceConfig
from connectors.http_client import HttpClient
from connectors.stream import Stream

_VENDORS: dict[str, ModuleType] = {m.NAME: m for m in (hubspot, stripe, mixpanel)}

STREAMS: dict[str, dict[str, type[Stream]]] = {
    name: {s.name: s for s in vendor.STREAMS} for name, vendor in _VENDORS.items()
}
STREAM_NAMES: dict[str, tuple[str, ...]] = {source: tuple(streams) for source, streams in STREAMS.items()}


def raw_tables() -> list[str]:
    """Every current-state table the connectors load: ``raw.<source>__<stream>``."""
    return [f"{source}__{name}" for source, names in STREAM_NAMES.items() for name in names]


def build_client(cfg: SourceConfig) -> HttpClient:
    """An HttpClient with the source's auth, a rate limit under its documented limit, and the
    ``timeout_seconds`` / ``max_retries`` settings when given."""
    try:
        vendor = _VENDORS[cfg.name]
    except KeyError:
        raise KeyError(f"unknown source {cfg.name!r}; known: {sorted(_VENDORS)}") from None
    client = vendor.client(cfg)
    if "timeout_seconds" in cfg.settings:
        client.timeout = (10.0, float(cfg.settings["timeout_seconds"]))
    if "max_retries" in cfg.settings:
        client.max_retries = int(cfg.settings["max_retries"])
    return client


def build_stream(cfg: SourceConfig, stream: str) -> Stream:
    try:
        cls = STREAMS[cfg.name][stream]
    except KeyError:
        known = sorted(STREAMS.get(cfg.name, {}))
        raise KeyError(f"unknown stream {cfg.name}.{stream}; known: {known}") from None
    return cls(build_client(cfg), cfg.stream_settings(stream))
