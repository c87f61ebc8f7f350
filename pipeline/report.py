"""What the pipeline left behind, layer by layer in pipeline order (raw → staging → intermediate →
marts → CRM sync): a few numbers each, the latest gate's verdict, every warning by name, and
where to look. ``postsale report`` prints it (``--tables`` adds rows per table); the demo adds
the accuracy check and the reports (``pipeline.demo_summary``).

Everything is read from the warehouse's catalog, ``raw._sync_runs``, ``audit.validation_results``
and ``audit.crm_sync_runs``; the only mart-specific SQL is ``MART_FIGURES``. Names and counts
only: no record content (a warning's sample values stay in the audit table).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from psycopg import sql

LAYER_SCHEMAS = ("raw", "staging", "intermediate", "marts")
DATA_QUALITY_PAGE = "http://127.0.0.1:8088/superset/dashboard/data-quality/"
WARNINGS_QUERY = (
    "select run_at, suite, expectation, table_name, column_name, unexpected_count from audit.validation_results "
    "where not success and severity = 'warning' order by run_at desc"
)

# The only SQL that knows a mart's columns: (label, query returning (key, count) rows). A missing
# table or column shows as "n/a" rather than failing the report.
MART_FIGURES = {
    "health band": "select health_band, count(*) from marts.mart_crm_sync group by 1 order by 1",
    "primary stage": "select primary_stage, count(*) from marts.mart_crm_sync group by 1 order by 2 desc, 1",
}


@dataclass
class Gate:
    run_id: str
    expectations: int
    passed: int
    critical: int
    warnings: list[dict] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.critical:
            return f"FAILED: {self.critical} critical of {self.expectations} expectations"
        n = len(self.warnings)
        warned = f" with {n} warning{'s' if n != 1 else ''}" if n else ""
        return f"passed{warned} ({self.passed}/{self.expectations} expectations)"


@dataclass
class Layer:
    name: str
    figures: list[str]
    gate: Gate | None = None
    tables: list[tuple[str, int]] = field(default_factory=list)


def _connect(warehouse_url: str):
    import psycopg

    from warehouse.postgres import WarehouseParams
    from warehouse.redact import redact_with_url

    p = WarehouseParams.from_url(warehouse_url)  # a malformed URL stops here, its password hidden
    try:
        return psycopg.connect(warehouse_url)
    except psycopg.Error as exc:
        # libpq quotes the conninfo it could not use; the message must not carry the password.
        raise RuntimeError(
            f"cannot connect to the warehouse at {p.redacted_url()}: {redact_with_url(str(exc), warehouse_url)}"
        ) from None


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _relations(conn, schema: str) -> list[tuple[str, str]]:
    """(name, 'table' | 'view') of a layer's relations, without raw's load logs and bookkeeping."""
    return conn.execute(
        r"""
        select table_name, case when table_type = 'VIEW' then 'view' else 'table' end
        from information_schema.tables
        where table_schema = %s and table_name not like '%%\_\_loads' and table_name not like '\_%%'
        order by table_name
        """,
        (schema,),
    ).fetchall()


def _count(conn, schema: str, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))).fetchone()[0]


def _gates(conn) -> dict[str, Gate]:
    if not _exists(conn, "audit.validation_results"):
        return {}
    rows = conn.execute(
        """
        with latest as (
            select distinct on (layer) layer, run_id from audit.validation_results order by layer, run_at desc
        )
        select v.layer, v.run_id, v.success, v.severity, v.suite, v.expectation, v.table_name, v.column_name,
               v.unexpected_count
        from audit.validation_results v join latest using (layer, run_id)
        order by v.layer, v.table_name, v.column_name nulls first, v.expectation
        """
    ).fetchall()
    gates: dict[str, Gate] = {}
    for layer, run_id, success, severity, suite, expectation, table, column, unexpected in rows:
        g = gates.setdefault(layer, Gate(run_id, 0, 0, 0))
        g.expectations += 1
        g.passed += bool(success)
        if not success and severity == "critical":
            g.critical += 1
        elif not success:
            g.warnings.append(
                {"suite": suite, "expectation": expectation, "table": table, "column": column, "unexpected": unexpected}
            )
    return gates


def _mart_figures(conn) -> list[str]:
    import psycopg

    out = []
    for label, query in MART_FIGURES.items():
        try:
            with conn.transaction():
                rows = conn.execute(query).fetchall()
        except psycopg.Error:
            out.append(f"{label}: n/a")
            continue
        out.append(f"{label}: " + (", ".join(f"{'(none)' if k is None else k} {n:,}" for k, n in rows) or "no rows"))
    return out


def collect(warehouse_url: str, with_tables: bool = False) -> list[Layer]:
    """The layers in pipeline order, then the CRM sync, each with its figures and gate."""
    with _connect(warehouse_url) as conn:
        gates = _gates(conn)
        layers = []
        for schema in LAYER_SCHEMAS:
            rels = _relations(conn, schema)
            tables = [name for name, kind in rels if kind == "table"]
            views = [name for name, kind in rels if kind == "view"]
            counts = [(t, _count(conn, schema, t)) for t in tables] if (tables and schema != "staging") else []
            if with_tables and schema == "staging":
                counts = [(t, _count(conn, schema, t)) for t, _ in rels]
            layer = Layer(schema, [], gates.get(schema), counts if with_tables else [])
            if schema == "raw" and _exists(conn, "raw._sync_runs"):
                streams, records, rejected, failed = conn.execute(
                    """
                    select count(*), coalesce(sum(records), 0), coalesce(sum(rejected), 0),
                           count(*) filter (where status <> 'success')
                    from (select distinct on (source, stream) * from raw._sync_runs
                          order by source, stream, started_at desc) latest
                    """
                ).fetchone()
                layer.figures.append(
                    f"{streams} streams, {records:,} records in their latest sync, {rejected:,} rejected"
                    + (f", {failed} not successful" if failed else "")
                )
            parts = []
            if tables:
                rows = f", {sum(n for _, n in counts):,} rows" if counts else ""
                parts.append(f"{len(tables)} tables{rows}")
            if views:
                parts.append(f"{len(views)} views")
            layer.figures.append(", ".join(parts) or "nothing built yet")
            if schema == "marts" and tables:
                layer.figures += _mart_figures(conn)
            layers.append(layer)
        crm = Layer("CRM sync", [])
        if _exists(conn, "audit.crm_sync_runs"):
            row = conn.execute(
                """
                select status, mart_rows, changed, succeeded, failed, rejected, finished_at
                from audit.crm_sync_runs where not dry_run and target = 'hubspot.companies'
                order by started_at desc limit 1
                """
            ).fetchone()
            if row:
                status, mart_rows, changed, ok, failed, rejected, finished = row
                crm.figures.append(
                    f"HubSpot, {status}: {changed or 0:,} of {mart_rows or 0:,} companies changed, "
                    f"{ok or 0:,} updated, {failed or 0:,} failed, {rejected or 0:,} rejected"
                )
        if not crm.figures:
            crm.figures.append("no CRM sync has run yet")
        layers.append(crm)
    return layers


def render_layers(layers: list[Layer]) -> list[str]:
    lines = []
    for layer in layers:
        lines.append(f"  {layer.name}")
        for fig in layer.figures:
            lines.append(f"      {fig}")
        if layer.gate:
            lines.append(f"      gate: {layer.gate.verdict}")
        elif layer.name in LAYER_SCHEMAS:
            lines.append("      gate: not run yet")
        for name, n in layer.tables:
            lines.append(f"        {layer.name + '.' + name:<52} {n:>12,}")
    return lines


def render_warnings(layers: list[Layer]) -> list[str]:
    """Every warning of the latest gates, by name, and where to read the detail."""
    warned = [(layer, w) for layer in layers if layer.gate for w in layer.gate.warnings]
    if not warned:
        return ["warnings: none in the latest validation of any layer"]
    lines = [f"warnings ({len(warned)}; recorded, not blocking)"]
    for _, w in warned:
        where = w["table"] + (f" column {w['column']}" if w["column"] else "")
        count = f"; {w['unexpected']:,} unexpected" if w["unexpected"] else ""
        lines.append(f"  {where}: {w['expectation']} (suite {w['suite']}{count})")
    lines += [
        "  read them in the warehouse (newest first; each gate run has its run_id):",
        f"    {WARNINGS_QUERY}",
        f"  or on the data-quality page: {DATA_QUALITY_PAGE}  (make reports)",
    ]
    return lines


def warehouse_psql(warehouse_url: str) -> str:
    from warehouse.postgres import WarehouseParams

    p = WarehouseParams.from_url(warehouse_url)
    return f"psql {replace(p, password='').url()}  (password: PGPASSWORD or ~/.pgpass)"


def render_report(warehouse_url: str, with_tables: bool = False) -> str:
    """``postsale report``: the layers, the warnings, where to look."""
    layers = collect(warehouse_url, with_tables=with_tables)
    lines = ["", "postsale: the pipeline layer by layer (latest run)"]
    lines += render_layers(layers)
    lines += render_warnings(layers)
    lines += [
        "where to look",
        f"  warehouse   {warehouse_psql(warehouse_url)}",
        "  results     audit.validation_results, raw._sync_runs, audit.crm_sync_runs, audit.crm_sync_log",
        f"  reports     make reports → http://127.0.0.1:8088/  (data quality: {DATA_QUALITY_PAGE})",
    ]
    return "\n".join(lines)
