"""Model versions in the warehouse: ``audit.risk_model_versions`` and ``audit.risk_model_coefficients``.

dbt reads both through the ``postsale`` source. A version is written in one transaction, so
dbt never sees a version without its coefficients.
"""

from __future__ import annotations

import json
from datetime import date

import psycopg

DDL = """
create schema if not exists audit;
create table if not exists audit.risk_model_versions (
    version_id text primary key,
    fitted_at timestamptz not null default now(),
    as_of_date date not null,
    training_start_date date not null,
    training_end_date date not null,
    labelled_renewals integer not null,
    labelled_churned integer not null,
    training_rows integer not null,
    regularization_c double precision not null,
    intercept double precision not null,
    cv_auc double precision,
    cv_brier double precision,
    base_rate_brier double precision,
    detail jsonb not null default '{}'::jsonb
);
create table if not exists audit.risk_model_coefficients (
    version_id text not null references audit.risk_model_versions (version_id) on delete cascade,
    feature text not null,
    fill_value double precision not null,
    center double precision not null,
    scale double precision not null,
    coefficient double precision not null,
    primary key (version_id, feature)
);
"""


def ensure_tables(conn: psycopg.Connection) -> None:
    # One statement at a time; a lock keeps two concurrent first fits from racing the DDL.
    conn.execute("select pg_advisory_xact_lock(hashtext('postsale.risk_model.ddl'))")
    for statement in filter(str.strip, DDL.split(";")):
        conn.execute(statement)


def latest_version_as_of(conn: psycopg.Connection, as_of: date) -> tuple[str, date] | None:
    """The version a run for ``as_of`` applies: the newest fitted on or before that day."""
    row = conn.execute(
        "select version_id, as_of_date from audit.risk_model_versions where as_of_date <= %s "
        "order by as_of_date desc, fitted_at desc limit 1",
        (as_of,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def write_version(conn: psycopg.Connection, version: dict, coefficients: list[dict]) -> None:
    cols = (
        "version_id", "as_of_date", "training_start_date", "training_end_date", "labelled_renewals",
        "labelled_churned", "training_rows", "regularization_c", "intercept", "cv_auc", "cv_brier",
        "base_rate_brier",
    )  # fmt: skip
    conn.execute(
        f"insert into audit.risk_model_versions ({', '.join(cols)}, detail) "
        f"values ({', '.join(['%s'] * len(cols))}, %s) on conflict (version_id) do nothing",
        (*(version[c] for c in cols), json.dumps(version.get("detail", {}))),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.risk_model_coefficients (version_id, feature, fill_value, center, scale, coefficient) "
            "values (%s, %s, %s, %s, %s, %s) on conflict (version_id, feature) do nothing",
            [
                (version["version_id"], c["feature"], c["fill_value"], c["center"], c["scale"], c["coefficient"])
                for c in coefficients
            ],
        )
    conn.execute("analyze audit.risk_model_versions")
    conn.execute("analyze audit.risk_model_coefficients")
