"""A deployment's databases and roles, created by the real init script on the test server.

Roles are cluster-wide, so every name carries a random suffix and is dropped afterwards, as are
both databases.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from warehouse.paths import PROJECT_ROOT
from warehouse.postgres import WarehouseParams

INITDB_SCRIPT = PROJECT_ROOT / "deploy" / "postgres" / "initdb.d" / "10-postsale.sh"
INITDB_SQL_DIR = PROJECT_ROOT / "deploy" / "postgres" / "sql"
COMPONENTS = ("owner", "loader", "transformer", "bi_reader")


@dataclass
class Deployment:
    admin_url: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    passwords: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in (*COMPONENTS, "airflow"):
            self.passwords.setdefault(key, secrets.token_hex(12))

    @property
    def warehouse_db(self) -> str:
        return f"postsale_wh_{self.suffix}"

    @property
    def airflow_db(self) -> str:
        return f"postsale_af_{self.suffix}"

    def role(self, component: str) -> str:
        return f"{component}_{self.suffix}"

    @property
    def roles(self) -> list[str]:
        """The login roles."""
        return [self.role(c) for c in (*COMPONENTS, "airflow")]

    @property
    def raw_owner(self) -> str:
        """Owns raw's tables; nobody logs in as it."""
        return self.role("raw_owner")

    def url(self, component: str, dbname: str | None = None) -> str:
        admin = WarehouseParams.from_url(self.admin_url)
        params = WarehouseParams(
            admin.host, admin.port, self.role(component), self.passwords[component], dbname or self.warehouse_db
        )
        return params.url()

    def env(self) -> dict[str, str]:
        """What docker-compose.yml gives the postgres container, plus libpq's PG* for this server."""
        admin = WarehouseParams.from_url(self.admin_url)
        return {
            **os.environ,
            "PGHOST": admin.host,
            "PGPORT": str(admin.port),
            "PGUSER": admin.user,
            "PGPASSWORD": admin.password,
            "POSTSALE_INITDB_MAINTENANCE_DB": admin.dbname,
            "POSTSALE_INITDB_SQL_DIR": str(INITDB_SQL_DIR),
            "AIRFLOW_DB_NAME": self.airflow_db,
            "AIRFLOW_DB_USER": self.role("airflow"),
            "AIRFLOW_DB_PASSWORD": self.passwords["airflow"],
            "WAREHOUSE_DB_NAME": self.warehouse_db,
            "WAREHOUSE_RAW_OWNER_ROLE": self.raw_owner,
            **{f"WAREHOUSE_{c.upper()}_USER": self.role(c) for c in COMPONENTS},
            **{f"WAREHOUSE_{c.upper()}_PASSWORD": self.passwords[c] for c in COMPONENTS},
        }

    def run_init(self, **extra_env: str) -> subprocess.CompletedProcess:
        env = {**self.env(), **extra_env}
        return subprocess.run(["bash", str(INITDB_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for db in (self.warehouse_db, self.airflow_db):
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
            # The databases took the roles' objects, grants and default privileges with them.
            for role in (*self.roles, self.raw_owner):
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def deployment(warehouse_admin_url: str):
    dep = Deployment(warehouse_admin_url)
    try:
        res = dep.run_init()
        assert res.returncode == 0, res.stderr
        yield dep
    finally:
        dep.drop()
