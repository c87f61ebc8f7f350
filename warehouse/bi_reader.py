"""The BI reader: a read-only login for reports (``postsale bi-reader --create``, ``make reports``).

It may use schema ``marts`` and read its tables, read ``audit.validation_results`` and
``audit.score_accuracy``, and nothing else; its sessions start read-only with
``search_path = marts``. dbt rebuilds a table by creating a new relation and renaming it over
the old one, so SELECT is also granted by default privileges of the roles that create marts
relations (the schema's owner and the role running this).

deploy/postgres/sql/warehouse.sql does the same for docker-compose; this works on any warehouse
the URL's user administers (the embedded server under ``.local/pg``, the machine's server).

Roles are cluster-wide and test databases share one server: every step is idempotent, and the
cluster-wide ones (create the role, set its password and defaults) are retried when another
session does the same thing at the same moment.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import errors, sql

from warehouse.paths import local_dir
from warehouse.postgres import WarehouseParams

ROLE = "bi_reader"
# The audit tables reports read (besides marts); granted when they exist.
AUDIT_TABLES = ("validation_results", "score_accuracy")
# What two sessions doing the same cluster-wide change at once can raise.
_RACES = (errors.DuplicateObject, errors.UniqueViolation, errors.InternalError_, errors.SerializationFailure)


def role_name() -> str:
    return os.environ.get("WAREHOUSE_BI_READER_USER", ROLE)


def password(path: Path | None = None) -> str:
    """``WAREHOUSE_BI_READER_PASSWORD``, else one generated once into ``.local/bi_reader_password``."""
    if os.environ.get("WAREHOUSE_BI_READER_PASSWORD"):
        return os.environ["WAREHOUSE_BI_READER_PASSWORD"]
    path = path or local_dir() / "bi_reader_password"
    if not path.exists():
        # Written whole to a private temporary file, then linked into place: of several
        # processes doing this at once one wins, and no one ever reads a half-written file.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bi_reader_password.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def _retry(step, attempts: int = 8) -> None:
    for attempt in range(attempts):
        try:
            step()
            return
        except _RACES:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def ensure_bi_reader(warehouse_url: str, role: str | None = None, secret: str | None = None) -> str:
    """Create or update the BI reader on ``warehouse_url``'s server and database; return its URL.

    ``warehouse_url``'s user needs CREATEROLE (or superuser) and the right to grant on marts."""
    role = role or role_name()
    secret = password() if secret is None else secret
    ident = sql.Identifier(role)

    def create_role() -> None:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create role {} login").format(ident))
            conn.execute(
                sql.SQL("alter role {} login nosuperuser nocreatedb nocreaterole noinherit password {}").format(
                    ident, sql.Literal(secret)
                )
            )
            conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))

    def grant() -> None:
        with psycopg.connect(warehouse_url) as conn:
            dbname = conn.info.dbname
            conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(dbname), ident))
            conn.execute(
                sql.SQL("alter role {} in database {} set search_path = marts").format(ident, sql.Identifier(dbname))
            )
            conn.execute("create schema if not exists marts")
            conn.execute(sql.SQL("grant usage on schema marts to {}").format(ident))
            conn.execute(sql.SQL("grant select on all tables in schema marts to {}").format(ident))
            creators = conn.execute(
                "select distinct r from (select nspowner::regrole::text from pg_namespace where nspname = 'marts'"
                " union all select quote_ident(current_user)) as c (r)"
            ).fetchall()
            for (creator,) in creators:
                conn.execute(
                    sql.SQL("alter default privileges for role {} in schema marts grant select on tables to {}").format(
                        sql.SQL(creator), ident
                    )
                )
            audit = conn.execute(
                "select c.relname from pg_class c where c.relnamespace = to_regnamespace('audit')"
                " and c.relname = any(%s) and c.relkind in ('r', 'p', 'v')",
                (list(AUDIT_TABLES),),
            ).fetchall()
            if audit:
                conn.execute(sql.SQL("grant usage on schema audit to {}").format(ident))
            for (table,) in audit:
                conn.execute(sql.SQL("grant select on audit.{} to {}").format(sql.Identifier(table), ident))

    _retry(create_role)
    _retry(grant)
    params = WarehouseParams.from_url(warehouse_url)
    return WarehouseParams(params.host, params.port, role, secret, params.dbname).url()
