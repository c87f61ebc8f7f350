"""A snapshot of the warehouse catalog, read once per validation run.

Suites are built against it: which relations exist, their columns and types, which columns
are declared NOT NULL, and which column sets a primary-key or unique constraint already
guarantees. A guarantee the database enforces is not re-checked by scanning the table (the
catalog suite verifies the constraint is still there instead), so a unique check on the
primary key of ``raw.mixpanel__events`` costs a catalog lookup, not a scan of millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg import Connection


@dataclass
class Catalog:
    # (schema, relation) -> {column: (data_type, not_null)}
    columns: dict[tuple[str, str], dict[str, tuple[str, bool]]] = field(default_factory=dict)
    # (schema, relation) -> relkind ('r' table, 'v' view, 'm' matview, 'p' partitioned)
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    # (schema, relation) -> column sets under a primary-key or unique constraint / unique index
    unique_keys: dict[tuple[str, str], list[frozenset[str]]] = field(default_factory=dict)

    def exists(self, schema: str, table: str) -> bool:
        return (schema, table) in self.kinds

    def has_column(self, schema: str, table: str, column: str) -> bool:
        return column in self.columns.get((schema, table), {})

    def column_names(self, schema: str, table: str) -> list[str]:
        return list(self.columns.get((schema, table), {}))

    def not_null(self, schema: str, table: str, column: str) -> bool:
        return self.columns.get((schema, table), {}).get(column, ("", False))[1]

    def enforces_unique(self, schema: str, table: str, columns: tuple[str, ...]) -> bool:
        """True when a constraint or unique index makes ``columns`` unique (and, for a PK, not null)."""
        wanted = frozenset(columns)
        return any(key <= wanted for key in self.unique_keys.get((schema, table), []))


def load_catalog(conn: Connection, schemas: list[str]) -> Catalog:
    cat = Catalog()
    for schema, rel, kind in conn.execute(
        """
        select n.nspname, c.relname, c.relkind::text
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p', 'f')
        """,
        (schemas,),
    ):
        cat.kinds[(schema, rel)] = kind
    for schema, rel, col, typ, notnull in conn.execute(
        """
        select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v', 'm', 'p', 'f')
        order by a.attnum
        """,
        (schemas,),
    ):
        cat.columns.setdefault((schema, rel), {})[col] = (typ, notnull)
    for schema, rel, cols in conn.execute(
        """
        select n.nspname, c.relname, array_agg(a.attname::text order by a.attname)
        from pg_index i
        join pg_class c on c.oid = i.indrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum = any(i.indkey)
        where n.nspname = any(%s) and i.indisunique and i.indisvalid and i.indpred is null
        group by n.nspname, c.relname, i.indexrelid
        """,
        (schemas,),
    ):
        cat.unique_keys.setdefault((schema, rel), []).append(frozenset(cols))
    return cat
