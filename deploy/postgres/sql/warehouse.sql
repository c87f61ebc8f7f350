-- Warehouse schemas and grants: who may read and write which layer.
--
-- Run by deploy/postgres/initdb.d/10-postsale.sh with psql as a superuser, connected to the
-- warehouse database, after cluster.sql created the roles (names from the environment).
--
--   raw owner    owns raw and its tables; no login (raw_tables.sql creates them as it)
--   loader       reads and writes rows in raw (the connectors); creates nothing
--   transformer  reads raw; writes staging, intermediate, marts, snapshots and audit
--                (dbt, and the validation gates that record into audit.validation_results)
--   bi_reader    reads marts and the two audit tables reports show, nothing else, read-only
--   owner        owns the database; member of loader, transformer and the raw owner so that
--                the DAG's single `postsale_warehouse` Connection keeps working until every
--                task picks its component's Connection, and to manage raw by hand
--                (see docs/DEPLOYMENT.md)
--
-- Idempotent: safe to re-run on an existing warehouse.

\set ON_ERROR_STOP on
set client_min_messages = warning;  -- no "already exists, skipping" notices on a re-run
\getenv owner_user WAREHOUSE_OWNER_USER
\getenv loader_user WAREHOUSE_LOADER_USER
\getenv transformer_user WAREHOUSE_TRANSFORMER_USER
\getenv bi_reader_user WAREHOUSE_BI_READER_USER
\getenv raw_owner WAREHOUSE_RAW_OWNER_ROLE

-- Each layer schema exists before any component runs. The model layers are owned by the role
-- that writes them, so dbt can create, replace and drop its own relations and nobody else's.
-- raw is owned by the raw owner: a table's owner can attach code to it (a row-security policy
-- calling its own function, a view) that runs as whoever reads it, and transformer reads raw
-- and writes audit and marts. As owner, loader could forge a passing validation.
select format('create schema if not exists %1$I authorization %2$I; alter schema %1$I owner to %2$I', s, o)
from (values
    ('raw', :'raw_owner'),
    ('staging', :'transformer_user'),
    ('intermediate', :'transformer_user'),
    ('marts', :'transformer_user'),
    ('snapshots', :'transformer_user'),
    ('audit', :'transformer_user')
) as l (s, o)
\gexec

-- Nobody gets to put objects in public (PostgreSQL 15 already revokes CREATE; USAGE goes too).
revoke all on schema public from public;

-- The owner acts for both writers while the DAG uses one Connection, and manages raw.
select format('grant %I, %I, %I to %I', :'loader_user', :'transformer_user', :'raw_owner', :'owner_user')
\gexec

-- Deployments initialised before the raw owner existed: loader's raw tables change hands, and
-- row security (which raw never uses) goes, with any policy loader attached to them.
select format('alter table raw.%I owner to %I', c.relname, :'raw_owner')
from pg_class c
where c.relnamespace = 'raw'::regnamespace and c.relkind in ('r', 'p')
    and c.relowner = (select oid from pg_roles where rolname = :'loader_user')
\gexec
select format('drop policy %I on raw.%I', p.polname, c.relname)
from pg_policy p join pg_class c on c.oid = p.polrelid
where c.relnamespace = 'raw'::regnamespace
\gexec
select format('alter table raw.%I no force row level security, disable row level security', c.relname)
from pg_class c
where c.relnamespace = 'raw'::regnamespace and c.relkind in ('r', 'p') and (c.relrowsecurity or c.relforcerowsecurity)
\gexec

-- loader writes rows in raw and creates nothing there: SELECT and UPDATE for the merge's
-- `insert ... on conflict do update`, INSERT (and COPY) for every load. No DELETE or TRUNCATE:
-- deletions are soft. Granted on what exists and, by default privileges, on every table the
-- raw owner (raw_tables.sql) or the owner creates later.
select format('grant usage on schema raw to %I, %I', :'loader_user', :'transformer_user')
\gexec
select format('grant select, insert, update on all tables in schema raw to %I', :'loader_user')
\gexec
select format('alter default privileges for role %I in schema raw grant select, insert, update on tables to %I', creator, :'loader_user')
from (values (:'raw_owner'), (:'owner_user')) as c (creator)
\gexec
-- The post-sync ANALYZE (connectors/sync.py): only a table's owner may analyze it before
-- PostgreSQL 17, and the transform plans from those statistics right after the sync. This
-- function, owned by the raw owner, analyzes one raw table and does nothing else; loader may
-- execute it, nobody else. Its name is checked against the catalog and quoted.
create or replace function raw.analyze_table(table_name text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
begin
    if not exists (
        select 1 from pg_class
        where relnamespace = 'raw'::regnamespace and relname = table_name and relkind in ('r', 'p')
    ) then
        raise exception 'raw.analyze_table: raw.% is not a table', table_name;
    end if;
    execute format('analyze raw.%I', table_name);
end
$fn$;
select format('alter function raw.analyze_table(text) owner to %I', :'raw_owner')
\gexec
revoke all on function raw.analyze_table(text) from public;
select format('grant execute on function raw.analyze_table(text) to %I', :'loader_user')
\gexec

-- transformer reads raw: what exists now, and every table created later.
select format('grant select on all tables in schema raw to %I', :'transformer_user')
\gexec
select format('alter default privileges for role %I in schema raw grant select on tables to %I', creator, :'transformer_user')
from (values (:'raw_owner'), (:'owner_user')) as c (creator)
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

-- Reports (reports/) also show the latest validation results and the scores' accuracy. Both
-- audit tables are created here, as transformer (which writes them later with `create table if
-- not exists`: same columns as expectations/audit.py and the accuracy recorder), so bi_reader's
-- SELECT exists from the start; no other audit table is readable (warehouse/bi_reader.py grants
-- the same on the embedded warehouse).
create table if not exists audit.validation_results (
    run_id            text not null,
    run_at            timestamptz not null default clock_timestamp(),
    layer             text not null,
    suite             text not null,
    table_name        text not null,
    expectation       text not null,
    column_name       text,
    severity          text not null,
    success           boolean not null,
    observed_value    jsonb,
    unexpected_count  bigint,
    sample_unexpected jsonb,
    kwargs            jsonb not null
);
create table if not exists audit.score_accuracy (
    metric       text not null,
    value        double precision,
    target       text,
    is_met       boolean,
    world_seed   integer,
    as_of_date   date,
    recorded_at  timestamptz not null default clock_timestamp(),
    source       text,
    ci_low       double precision,
    ci_high      double precision,
    seeds        text
);
select format('alter table audit.%I owner to %I', t, :'transformer_user')
from (values ('validation_results'), ('score_accuracy')) as a (t)
\gexec
select format('grant usage on schema audit to %I', :'bi_reader_user')
\gexec
select format('grant select on audit.validation_results, audit.score_accuracy to %I', :'bi_reader_user')
\gexec

-- Belt and braces for BI tools: sessions start read-only and in marts.
select format('alter role %I set default_transaction_read_only = on', :'bi_reader_user')
\gexec
select format('alter role %I in database %I set search_path = marts', :'bi_reader_user', current_database())
\gexec
