-- Cluster-level objects: one login role per component and the two databases.
--
-- Run by deploy/postgres/initdb.d/10-postsale.sh with psql as a superuser, on the maintenance
-- database. Names and passwords come from the environment through \getenv (never from argv,
-- where `ps` would show them) and are quoted by format() with %I / %L, so no value can break
-- out of its literal.
-- Idempotent: roles and databases are created when missing, passwords are (re)set every run,
-- so re-running the script rotates credentials on an existing cluster.

\set ON_ERROR_STOP on
\getenv airflow_db AIRFLOW_DB_NAME
\getenv airflow_user AIRFLOW_DB_USER
\getenv airflow_password AIRFLOW_DB_PASSWORD
\getenv warehouse_db WAREHOUSE_DB_NAME
\getenv owner_user WAREHOUSE_OWNER_USER
\getenv owner_password WAREHOUSE_OWNER_PASSWORD
\getenv loader_user WAREHOUSE_LOADER_USER
\getenv loader_password WAREHOUSE_LOADER_PASSWORD
\getenv transformer_user WAREHOUSE_TRANSFORMER_USER
\getenv transformer_password WAREHOUSE_TRANSFORMER_PASSWORD
\getenv bi_reader_user WAREHOUSE_BI_READER_USER
\getenv bi_reader_password WAREHOUSE_BI_READER_PASSWORD
\getenv raw_owner WAREHOUSE_RAW_OWNER_ROLE

-- Login roles, one per component.
select format('create role %I', name)
from (values (:'airflow_user'), (:'owner_user'), (:'loader_user'), (:'transformer_user'), (:'bi_reader_user'))
    as r (name)
where not exists (select from pg_roles where rolname = r.name)
\gexec

-- Passwords are set separately from creation so a re-run rotates them.
select format('alter role %I with login nosuperuser nocreatedb nocreaterole password %L', name, pw)
from (values
    (:'airflow_user', :'airflow_password'),
    (:'owner_user', :'owner_password'),
    (:'loader_user', :'loader_password'),
    (:'transformer_user', :'transformer_password'),
    (:'bi_reader_user', :'bi_reader_password')
) as r (name, pw)
\gexec

-- The raw tables' owner: no login and no password, so no component can act as it. Whoever owns
-- a table can attach code to it (row-security policies, functions in views) that runs as the
-- role reading it; raw is read by transformer, so its owner must not be loader (warehouse.sql).
select format('create role %I', :'raw_owner')
where not exists (select from pg_roles where rolname = :'raw_owner')
\gexec
select format('alter role %I with nologin nosuperuser nocreatedb nocreaterole password null', :'raw_owner')
\gexec

-- The Airflow metadata database and the warehouse are separate databases with separate owners:
-- a compromised task cannot rewrite Airflow's state, and Airflow's role cannot read the data.
select format('create database %I owner %I', :'airflow_db', :'airflow_user')
where not exists (select from pg_database where datname = :'airflow_db')
\gexec
select format('create database %I owner %I', :'warehouse_db', :'owner_user')
where not exists (select from pg_database where datname = :'warehouse_db')
\gexec

-- PostgreSQL lets every role connect to every database by default (CONNECT to PUBLIC).
select format('revoke connect, temporary on database %I from public', db)
from (values (:'airflow_db'), (:'warehouse_db')) as d (db)
\gexec
select format('grant connect on database %I to %I', :'warehouse_db', name)
from (values (:'loader_user'), (:'transformer_user'), (:'bi_reader_user')) as r (name)
\gexec
-- transformer creates temporary tables (dbt's incremental models) and runs `create schema if
-- not exists` (dbt, GX): PostgreSQL checks the database's CREATE privilege before it checks
-- whether the schema exists. loader only creates temporary tables (append loads); CREATE would
-- let it make schemas and functions (a schema named after another role lands on that role's
-- search_path), so it is revoked, also from deployments initialised before this rule.
select format('grant create, temporary on database %I to %I', :'warehouse_db', :'transformer_user')
\gexec
select format('grant temporary on database %I to %I', :'warehouse_db', :'loader_user')
\gexec
select format('revoke create on database %I from %I', :'warehouse_db', :'loader_user')
\gexec
