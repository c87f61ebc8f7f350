"""Where the pipeline's settings come from at run time.

Inside Airflow, Connections win (``postsale_warehouse``, ``stripe_api``; given as
``AIRFLOW_CONN_*`` environment variables or any secrets backend). Outside Airflow, or when a
Connection is not defined, the plain environment rule applies (``WAREHOUSE_URL`` / embedded
server, ``STRIPE_API_BASE`` / ``STRIPE_API_KEY``).
"""

from __future__ import annotations

import logging
import os

from connectors.sources import SourceConfig, config_from_env
from connectors.warehouse import resolve_warehouse_url

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "postsale_warehouse"
SOURCE_CONN_IDS = {"stripe": "stripe_api", "hubspot": "hubspot_api", "mixpanel": "mixpanel_api"}
# Which warehouse Connection each component uses: the connectors write raw as ``loader``; dbt,
# the validation gates and the CRM sync work as ``transformer``. A deployment with a role per
# component points these at its least-privilege Connections (docker-compose.yml does); by
# default both are ``postsale_warehouse``.
COMPONENT_CONN_ENV = {"loader": "POSTSALE_LOADER_CONN_ID", "transformer": "POSTSALE_TRANSFORMER_CONN_ID"}


def warehouse_conn_id(component: str | None = None) -> str:
    """The Connection id ``component`` ("loader" or "transformer") reads the warehouse from."""
    if component is None:
        return WAREHOUSE_CONN_ID
    return os.environ.get(COMPONENT_CONN_ENV[component]) or WAREHOUSE_CONN_ID


def _airflow_connection(conn_id: str):
    try:
        from airflow.sdk import Connection

        return Connection.get(conn_id)
    except ImportError:
        return None
    except Exception as exc:  # not defined: fall back to the environment rule
        log.debug("no Airflow connection %s (%s)", conn_id, exc)
        return None


def warehouse_url(component: str | None = None) -> str:
    conn = _airflow_connection(warehouse_conn_id(component))
    if conn is not None and conn.host:
        auth = conn.login or "postgres"
        if conn.password:
            auth += f":{conn.password}"
        return f"postgresql://{auth}@{conn.host}:{conn.port or 5432}/{conn.schema or 'postsale'}"
    return resolve_warehouse_url()


def source_config(source: str) -> SourceConfig:
    """An HTTP Connection: ``host`` is the base URL, ``password`` the key, token or service-account
    secret, ``login`` the service-account user (Mixpanel), ``extra`` the source's settings."""
    conn = _airflow_connection(SOURCE_CONN_IDS[source])
    if conn is not None and conn.host and conn.password:
        base = conn.host if "://" in conn.host else f"{conn.schema or 'https'}://{conn.host}"
        if conn.port and "://" not in conn.host:
            base += f":{conn.port}"
        extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
        return SourceConfig(source, base, conn.password, conn.login or "", dict(extra or {}))
    return config_from_env(source)


# Credentials the simulator accepts by default (simulator/README.md): not secrets.
SIMULATOR_CREDENTIALS = {
    "stripe": ("", "sk_test_postsale_demo"),
    "hubspot": ("", "demo-hubspot-token"),
    "mixpanel": ("demo-sa", "demo-sa-secret"),
}


def simulator_connections(base_url: str, mixpanel_settings: dict | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables pointing every source at a simulator serving on ``base_url``."""
    import json

    env = {}
    for source, conn_id in SOURCE_CONN_IDS.items():
        login, secret = SIMULATOR_CREDENTIALS[source]
        conn = {"conn_type": "http", "host": f"{base_url.rstrip('/')}/{source}", "password": secret}
        if login:
            conn["login"] = login
        if source == "mixpanel":
            conn["extra"] = {"engage_base": conn["host"], **(mixpanel_settings or {})}
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env
