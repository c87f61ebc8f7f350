"""The warehouse rule, one for the demo, the tests, the DAGs and the dbt profile.

``WAREHOUSE_URL`` wins when it is set. Otherwise the embedded PostgreSQL (``warehouse.embedded``)
is started and its ``postsale`` database used. Also: a URL's parts as dbt and libpq want them,
database creation, and the session options dbt's and GX's connections share.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from warehouse.embedded import EmbeddedPostgres
from warehouse.redact import redact_url

DEFAULT_DATABASE = "postsale"
# Session settings for dbt's connections, passed as libpq's PGOPTIONS (dbt-postgres has no
# profile field for them; its connections then get them on every model and test), and for GX's
# engine (expectations/runner.py), which reads the same freshly written tables.
# JIT off: PostgreSQL compiles any query whose *estimated* cost passes jit_above_cost, and
# a model reading a table dbt just created has no statistics yet, so estimates run to
# hundreds of millions of rows. Measured at 2,000 accounts: compiling took 3.7 s of a 5.0 s
# query on fct_user_adoption_daily's incremental build; the incremental build's node time
# fell from 236 s to 177 s with it off (docs/PERFORMANCE.md).
SESSION_OPTIONS = "-c jit=off"


@dataclass(frozen=True)
class WarehouseParams:
    """The parts of a PostgreSQL URL, as dbt's profile and libpq want them."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> WarehouseParams:
        """Errors name the URL without its password: urllib's and libpq's own messages quote
        the fragment of a password that broke the parse."""
        parts = urlsplit(url)
        if parts.scheme.split("+")[0] not in ("postgres", "postgresql"):
            raise ValueError(f"warehouse URL must be postgresql://…, got scheme {parts.scheme!r}")
        try:
            port = parts.port
            bad_port = False
        except ValueError:
            port, bad_port = None, True
        # A raw "#", "/", "?", "@" or space in a password ends the host part early or leaves a
        # fragment: refuse rather than connect somewhere else with half a password.
        if bad_port or parts.fragment or " " in parts.netloc or "@" in parts.path + parts.query:
            raise ValueError(
                f"warehouse URL {redact_url(url)} is malformed: percent-encode reserved characters "
                "(# / ? @ : % and spaces) in the user and password"
            )
        if not parts.hostname:
            raise ValueError("warehouse URL must contain a host (unix sockets are not supported)")
        return cls(
            host=parts.hostname,
            port=port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=(parts.path.lstrip("/") or DEFAULT_DATABASE),
        )

    def url(self, dbname: str | None = None, driver: str = "postgresql") -> str:
        """The URL, user and password percent-encoded (``from_url`` round-trips it)."""
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"{driver}://{auth}@{self.host}:{self.port}/{dbname or self.dbname}"

    def redacted_url(self, dbname: str | None = None) -> str:
        """The URL without the password, for messages and reports (psql prompts for it)."""
        return redact_url(self.url(dbname))

    def dbt_env(self) -> dict[str, str]:
        """Environment variables read by ``dbt_project/profiles.yml``."""
        return {
            "WAREHOUSE_HOST": self.host,
            "WAREHOUSE_PORT": str(self.port),
            "WAREHOUSE_USER": self.user,
            "WAREHOUSE_PASSWORD": self.password,
            "WAREHOUSE_DBNAME": self.dbname,
            "PGOPTIONS": session_options(),
        }


def session_options() -> str:
    """libpq options for dbt's and GX's sessions: ``POSTSALE_DBT_PGOPTIONS``, default ``-c jit=off``."""
    return os.environ.get("POSTSALE_DBT_PGOPTIONS", SESSION_OPTIONS)


def ensure_database(admin_url: str, dbname: str) -> None:
    """Create ``dbname`` on the server behind ``admin_url`` if it does not exist."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def admin_url() -> str:
    """A URL to a maintenance database on the warehouse's server (for creating databases)."""
    if os.environ.get("WAREHOUSE_ADMIN_URL"):
        return os.environ["WAREHOUSE_ADMIN_URL"]
    if os.environ.get("WAREHOUSE_URL"):
        return WarehouseParams.from_url(os.environ["WAREHOUSE_URL"]).url(dbname="postgres")
    port = EmbeddedPostgres().ensure_running()
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def resolve_warehouse_url() -> str:
    """The one rule: ``WAREHOUSE_URL`` when set, else the embedded server's ``postsale`` database."""
    if os.environ.get("WAREHOUSE_URL"):
        return os.environ["WAREHOUSE_URL"]
    port = EmbeddedPostgres().ensure_running()
    ensure_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", DEFAULT_DATABASE)
    return f"postgresql://postgres@127.0.0.1:{port}/{DEFAULT_DATABASE}"
