"""Where the pipeline's credentials come from: Connections first, then the plain environment rule.

A Connection id (``postsale_warehouse``, ``stripe_api``, …) is looked up with a *lookup*
function. Airflow's tasks pass ``pipeline.orchestration.airflow_connection`` (any secrets
backend works there). Commands outside Airflow use ``env_connection``, which reads the same
``AIRFLOW_CONN_<ID>`` environment variables (JSON or URI form) without importing Airflow, so a
shell that exported the demo's Connections runs ``postsale sync`` against the same endpoints.
When no Connection is defined: ``WAREHOUSE_URL`` / the embedded server, and
``STRIPE_API_BASE`` / ``STRIPE_API_KEY`` and friends (``connectors.config``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from connectors.config import SourceConfig, config_from_env
from warehouse.postgres import resolve_warehouse_url

WAREHOUSE_CONN_ID = "postsale_warehouse"
SOURCE_CONN_IDS = {"stripe": "stripe_api", "hubspot": "hubspot_api", "mixpanel": "mixpanel_api"}
# Which warehouse Connection each component uses: the connectors write raw as ``loader``; dbt,
# the validation gates and the CRM sync work as ``transformer``. A deployment with a role per
# component points these at its least-privilege Connections (docker-compose.yml does); by
# default both are ``postsale_warehouse``.
COMPONENT_CONN_ENV = {"loader": "POSTSALE_LOADER_CONN_ID", "transformer": "POSTSALE_TRANSFORMER_CONN_ID"}


@dataclass(frozen=True)
class Conn:
    """The fields of a Connection this project reads (Airflow's names)."""

    host: str | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    port: int | None = None
    extra_dejson: dict = field(default_factory=dict)


Lookup = Callable[[str], "Conn | None"]


def env_connection(conn_id: str) -> Conn | None:
    """``AIRFLOW_CONN_<ID>`` read as Airflow reads it (a JSON object or a URI), or None."""
    value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not value:
        return None
    if value.lstrip().startswith("{"):
        try:
            d = json.loads(value)
        except ValueError:
            raise RuntimeError(f"AIRFLOW_CONN_{conn_id.upper()} is neither a JSON object nor a URI") from None
        extra = d.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra)
        port = d.get("port")
        return Conn(
            d.get("host"), d.get("login"), d.get("password"), d.get("schema"), int(port) if port else None, extra
        )
    parts = urlsplit(value)
    query = dict(parse_qsl(parts.query))
    extra = json.loads(query["__extra__"]) if "__extra__" in query else query
    return Conn(
        host=unquote(parts.hostname or "") or None,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(parts.path.lstrip("/")) or None,
        port=parts.port,
        extra_dejson=extra,
    )


def warehouse_conn_id(component: str | None = None) -> str:
    """The Connection id ``component`` ("loader" or "transformer") reads the warehouse from."""
    if component is None:
        return WAREHOUSE_CONN_ID
    return os.environ.get(COMPONENT_CONN_ENV[component]) or WAREHOUSE_CONN_ID


def warehouse_url(component: str | None = None, lookup: Lookup = env_connection) -> str:
    conn = lookup(warehouse_conn_id(component))
    if conn is not None and conn.host:
        auth = quote(conn.login or "postgres", safe="")
        if conn.password:
            auth += f":{quote(conn.password, safe='')}"
        return f"postgresql://{auth}@{conn.host}:{conn.port or 5432}/{conn.schema or 'postsale'}"
    return resolve_warehouse_url()


def source_config(source: str, lookup: Lookup = env_connection) -> SourceConfig:
    """An HTTP Connection: ``host`` is the base URL, ``password`` the key, token or service-account
    secret, ``login`` the service-account user (Mixpanel), ``extra`` the source's settings."""
    if source not in SOURCE_CONN_IDS:
        raise KeyError(f"unknown source {source!r}; known: {sorted(SOURCE_CONN_IDS)}")
    conn = lookup(SOURCE_CONN_IDS[source])
    if conn is not None and conn.host and conn.password:
        base = conn.host if "://" in conn.host else f"{conn.schema or 'https'}://{conn.host}"
        if conn.port and "://" not in conn.host:
            base += f":{conn.port}"
        return SourceConfig(source, base, conn.password, conn.login or "", dict(conn.extra_dejson or {}))
    return config_from_env(source)
