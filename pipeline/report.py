"""What the pipeline left behind: rows per layer, the latest validation per layer, where to look."""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

LAYER_SCHEMAS = ("raw", "staging", "intermediate", "marts")


def render_report(warehouse_url: str) -> str:
    import psycopg

    from expectations.runner import data_docs_index
    from warehouse.paths import DBT_PROJECT_DIR
    from warehouse.postgres import WarehouseParams
    from warehouse.redact import redact_with_url

    p = WarehouseParams.from_url(warehouse_url)  # a malformed URL stops here, its password hidden
    lines = ["", "postsale: rows per layer"]
    try:
        conn = psycopg.connect(warehouse_url)
    except psycopg.Error as exc:
        # libpq quotes the conninfo it could not use; the message must not carry the password.
        raise RuntimeError(
            f"cannot connect to the warehouse at {p.redacted_url()}: {redact_with_url(str(exc), warehouse_url)}"
        ) from None
    with conn:
        rels = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema = any(%s) and table_name not like '%%\\_\\_loads' and table_name not like '\\_%%'
            order by array_position(%s, table_schema::text), table_name
            """,
            (list(LAYER_SCHEMAS), list(LAYER_SCHEMAS)),
        ).fetchall()
        for schema, table in rels:
            n = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))).fetchone()[0]
            lines.append(f"  {schema + '.' + table:<48} {n:>10,}")
        has_audit = conn.execute("select to_regclass('audit.validation_results') is not null").fetchone()[0]
        lines.append("validation (latest run per layer)")
        if has_audit:
            rows = conn.execute(
                """
                with latest as (
                    select distinct on (layer) layer, run_id from audit.validation_results
                    order by layer, run_at desc
                )
                select v.layer, count(*), count(*) filter (where v.success),
                       count(*) filter (where not v.success and v.severity = 'critical'),
                       count(*) filter (where not v.success and v.severity = 'warning')
                from audit.validation_results v join latest using (layer, run_id)
                group by v.layer order by v.layer
                """
            ).fetchall()
            for layer, total, ok, crit, warn in rows:
                verdict = "PASSED" if crit == 0 else "FAILED"
                lines.append(f"  {layer:<10} {verdict}: {ok}/{total} expectations, {crit} critical, {warn} warnings")
        else:
            lines.append("  (no validation has run yet)")
    lines += [
        "where to look",
        f"  warehouse   psql {replace(p, password='').url()}  (password: PGPASSWORD or ~/.pgpass)",
        "  results     audit.validation_results, raw._sync_runs",
        f"  Data Docs   {data_docs_index()}",
        f"  dbt docs    {DBT_PROJECT_DIR / 'target' / 'static_index.html'}  (after make docs)",
    ]
    return "\n".join(lines)
