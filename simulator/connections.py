"""How a client reaches a running simulator: the credentials it accepts and the Connections for it.

The simulator owns its credentials (``server/auth.py``: demo defaults, ``SIMULATOR_*``
overrides); the demo, the tests and the benchmarks take them from here rather than repeating
them. ``python -m simulator connections BASE_URL`` prints ``export AIRFLOW_CONN_…`` lines, and
``POSTSALE_ALERT_WEBHOOK_URL`` pointing the alerts at the simulated Slack webhook.
"""

from __future__ import annotations

import json

from simulator.server import auth
from simulator.server.slack import PATH as SLACK_WEBHOOK_PATH

# The Airflow Connection id each vendor is read from (postsale's pipeline.connections).
CONN_IDS = {"stripe": "stripe_api", "hubspot": "hubspot_api", "mixpanel": "mixpanel_api"}


def credentials(vendor: str) -> tuple[str, str]:
    """``(login, secret)`` the simulator accepts now for ``vendor`` (login is empty but for Mixpanel)."""
    if vendor == "stripe":
        return "", auth.stripe_key()
    if vendor == "hubspot":
        return "", auth.hubspot_token()
    if vendor == "mixpanel":
        return auth.mixpanel_credentials()
    raise KeyError(f"unknown vendor {vendor!r}")


def airflow_connections(base_url: str, mixpanel_settings: dict | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables pointing every vendor at a simulator serving on ``base_url``."""
    env = {}
    for vendor, conn_id in CONN_IDS.items():
        login, secret = credentials(vendor)
        conn = {"conn_type": "http", "host": f"{base_url.rstrip('/')}/{vendor}", "password": secret}
        if login:
            conn["login"] = login
        if vendor == "mixpanel":
            conn["extra"] = {"engage_base": conn["host"], **(mixpanel_settings or {})}
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env


def alert_webhook_env(base_url: str) -> dict[str, str]:
    """``POSTSALE_ALERT_WEBHOOK_URL`` at the simulated Slack incoming webhook on ``base_url``."""
    return {"POSTSALE_ALERT_WEBHOOK_URL": f"{base_url.rstrip('/')}/slack{SLACK_WEBHOOK_PATH}"}
