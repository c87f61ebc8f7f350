-- Warehouse schemas and grants: who may read and write which layer.
--
-- Run by deploy/postgres/initdb.d/10-postsale.sh with psql as a superuser, connected to the
-- warehouse database, after cluster.sql created the roles (names from the environment).
--
--   loader       writes raw (the connectors)
--   transformer  reads raw; writes staging, intermediate, marts, snapshots and audit
--                (dbt, and the validation gates that record into audit.validation_results)
--   bi_reader    reads marts, nothing else, read-only
--   owner        owns the database; member of loader and transformer so that the DAG's single
--                `postsale_warehouse` Connection keeps working until every task picks its
--                component's Connection (see docs/DEPLOYMENT.md)
--
-- Idempotent: safe to re-run on an existing warehouse.

\set ON_ERROR_STOP on
set client_min_messages = warning;  -- no "already exists, skipping" notices on a re-run
\getenv owner_user WAREHOUSE_OWNER_USER
\getenv loader_user WAREHOUSE_LOADER_USER
\getenv transformer_user WAREHOUSE_TRANSFORMER_USER
\getenv bi_reader_user WAREHOUSE_BI_READER_USER

-- Each layer schema exists before any component runs and is owned by the role that writes it,
-- so a component can create, replace and drop its own relations and nobody else's.
select format('create schema if not exists %1$I authorization %2$I; alter schema %1$I owner to %2$I', s, o)
from (values
    ('raw', :'loader_user'),
    ('staging', :'transformer_user'),
    ('intermediate', :'transformer_user'),
    ('marts', :'transformer_user'),
    ('snapshots', :'transformer_user'),
    ('audit', :'transformer_user')
) as l (s, o)
\gexec

-- Nobody gets to put objects in public (PostgreSQL 15 already revokes CREATE; USAGE goes too).
revoke all on schema public from public;

-- The owner acts for both writers while the DAG uses one Connection.
select format('grant %I, %I to %I', :'loader_user', :'transformer_user', :'owner_user')
\gexec

-- transformer reads raw: what exists now, and every table loader (or the owner) creates later.
select format('grant usage on schema raw to %I', :'transformer_user')
\gexec
select format('grant select on all tables in schema raw to %I', :'transformer_user')
\gexec
select format('alter default privileges for role %I in schema raw grant select on tables to %I', creator, :'transformer_user')
from (values (:'loader_user'), (:'owner_user')) as c (creator)
\gexec

-- bi_reader reads marts only. dbt rebuilds a table model by creating a new relation and
-- renaming it over the old one, so a one-off GRANT would be lost on the next run: the default
-- privileges of the roles that create marts relations carry SELECT onto every new relation.
select format('grant usage on schema marts to %I', :'bi_reader_user')
\gexec
select format('grant select on all tables in schema marts to %I', :'bi_reader_user')
\gexec
select format('alter default privileges for role %I in schema marts grant select on tables to %I', creator, :'bi_reader_user')
from (values (:'transformer_user'), (:'owner_user')) as c (creator)
\gexec

-- Belt and braces for BI tools: sessions start read-only and in marts.
select format('alter role %I set default_transaction_read_only = on', :'bi_reader_user')
\gexec
select format('alter role %I in database %I set search_path = marts', :'bi_reader_user', current_database())
\gexec
