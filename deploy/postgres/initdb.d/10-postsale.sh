#!/usr/bin/env bash
# Create postsale's roles and databases: the Airflow metadata database, the warehouse, and one
# login role per component (see ../sql/*.sql for what each may do).
#
# The postgres image runs /docker-entrypoint-initdb.d/* once, on an empty data directory, with
# libpq's PG* variables pointing at its bootstrap server as the superuser. Anywhere else, set
# PGHOST/PGPORT/PGUSER (and PGPASSWORD) to a superuser on the target server and run it the same
# way: every statement is idempotent, and a re-run resets the passwords from the environment.
set -euo pipefail

: "${POSTSALE_INITDB_SQL_DIR:=/opt/postsale/initdb-sql}"
: "${AIRFLOW_DB_NAME:=airflow}" "${AIRFLOW_DB_USER:=airflow}"
: "${WAREHOUSE_DB_NAME:=postsale}" "${WAREHOUSE_OWNER_USER:=postsale_owner}"
: "${WAREHOUSE_LOADER_USER:=loader}" "${WAREHOUSE_TRANSFORMER_USER:=transformer}"
: "${WAREHOUSE_BI_READER_USER:=bi_reader}" "${WAREHOUSE_RAW_OWNER_ROLE:=postsale_raw}"
# No default for a password: a missing one stops the init instead of creating a guessable role.
: "${AIRFLOW_DB_PASSWORD:?must be set (see .env.example)}"
: "${WAREHOUSE_OWNER_PASSWORD:?must be set (see .env.example)}"
: "${WAREHOUSE_LOADER_PASSWORD:?must be set (see .env.example)}"
: "${WAREHOUSE_TRANSFORMER_PASSWORD:?must be set (see .env.example)}"
: "${WAREHOUSE_BI_READER_PASSWORD:?must be set (see .env.example)}"
# POSTGRES_PASSWORD is the image's superuser password (POSTGRES_SUPERUSER_PASSWORD in .env); the
# image has already set it when this runs, but a failing init script leaves no usable cluster.
for var in POSTGRES_PASSWORD AIRFLOW_DB_PASSWORD WAREHOUSE_OWNER_PASSWORD WAREHOUSE_LOADER_PASSWORD \
  WAREHOUSE_TRANSFORMER_PASSWORD WAREHOUSE_BI_READER_PASSWORD; do
  if [[ "${!var:-}" == change-me* ]]; then
    echo "postsale: ${var/#POSTGRES_PASSWORD/POSTGRES_SUPERUSER_PASSWORD} still has its .env.example placeholder; set a real value in .env" >&2
    exit 1
  fi
done
export AIRFLOW_DB_NAME AIRFLOW_DB_USER WAREHOUSE_DB_NAME WAREHOUSE_OWNER_USER \
  WAREHOUSE_LOADER_USER WAREHOUSE_TRANSFORMER_USER WAREHOUSE_BI_READER_USER WAREHOUSE_RAW_OWNER_ROLE

# -X: no ~/.psqlrc; --no-password: fail rather than prompt when PGPASSWORD is missing.
psql=(psql -X --no-password --quiet -v ON_ERROR_STOP=1)
"${psql[@]}" --dbname "${POSTSALE_INITDB_MAINTENANCE_DB:-postgres}" -f "$POSTSALE_INITDB_SQL_DIR/cluster.sql"
"${psql[@]}" --dbname "$WAREHOUSE_DB_NAME" -f "$POSTSALE_INITDB_SQL_DIR/warehouse.sql"
"${psql[@]}" --dbname "$WAREHOUSE_DB_NAME" -f "$POSTSALE_INITDB_SQL_DIR/raw_tables.sql"
echo "postsale: databases $AIRFLOW_DB_NAME and $WAREHOUSE_DB_NAME ready; roles $WAREHOUSE_LOADER_USER," \
  "$WAREHOUSE_TRANSFORMER_USER, $WAREHOUSE_BI_READER_USER, $WAREHOUSE_OWNER_USER, $AIRFLOW_DB_USER;" \
  "raw tables owned by $WAREHOUSE_RAW_OWNER_ROLE"
