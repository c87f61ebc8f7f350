"""Superset's configuration for postsale's reports (``SUPERSET_CONFIG_PATH`` points here).

Everything local and offline: SQLite metadata and the secret key under ``POSTSALE_SUPERSET_HOME``
(default ``<repo>/.local/superset``; the key is generated once), no telemetry, no examples, no
map tiles or other assets from the internet. Runs in Superset's own environment
(``.local/superset-venv``), so it imports nothing from postsale.
"""

import os
import secrets
from pathlib import Path

HOME = Path(os.environ.get("POSTSALE_SUPERSET_HOME", Path(__file__).resolve().parents[2] / ".local" / "superset"))
HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    path = HOME / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{HOME / 'superset.db'}?check_same_thread=false"
DATA_DIR = str(HOME)

# Nothing leaves the machine: no telemetry or analytics, no examples, no Mapbox key.
SCARF_ANALYTICS = False
DEFAULT_FEATURE_FLAGS_OVERRIDE = {}
FEATURE_FLAGS = {
    # Render every chart when the page opens, not only those scrolled into view: the build's
    # browser check and the screenshots see the whole dashboard.
    "DASHBOARD_VIRTUALIZATION": False,
    "DASHBOARD_RBAC": False,
    "EMBEDDED_SUPERSET": False,
    "ALERT_REPORTS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "DRILL_TO_DETAIL": True,
    "DASHBOARD_CROSS_FILTERS": True,
    "TAGGING_SYSTEM": False,
}
MAPBOX_API_KEY = ""
PREVENT_UNSAFE_DB_CONNECTIONS = False
# Reports read the warehouse as bi_reader (read-only); no uploads, no DML from SQL Lab.
CSV_EXTENSIONS = set()
EXCEL_EXTENSIONS = set()
COLUMNAR_EXTENSIONS = set()
ALLOWED_EXTENSIONS = set()

# Local, single user: the simple cache, no Celery, no Redis.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_ENABLED = False

# Served on 127.0.0.1 over plain HTTP. The content security policy allows this server only:
# Superset's default lets the page fetch a telemetry pixel, map tiles and fonts from the internet.
WTF_CSRF_ENABLED = True
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
SESSION_COOKIE_SECURE = False
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 10000
CONTENT_SECURITY_POLICY_WARNING = False
LOG_LEVEL = os.environ.get("POSTSALE_SUPERSET_LOG_LEVEL", "WARNING")
